"""The inert corpus in Chromium: no dialog, no error, no script run, no injected element,
no `javascript:` link, and no Content-Security-Policy violation (a violation means
contributor text reached the page as markup and only the policy stopped it).
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile.site import build

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""
INJECTED = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) { if (a.name.startsWith('on')) bad.push(el.tagName + ' ' + a.name); }
    if (['IFRAME', 'OBJECT', 'EMBED', 'BASE', 'FRAME'].includes(el.tagName)) bad.push(el.tagName);
  }
  for (const a of document.querySelectorAll('a[href], area[href]')) {
    if (['javascript:', 'data:', 'vbscript:'].includes(a.protocol)) bad.push('link ' + a.href);
  }
  for (const s of document.querySelectorAll('script')) {
    const t = (s.type || '').toLowerCase();
    if (!s.src && !['application/json', 'application/ld+json'].includes(t)) bad.push('inline script ' + s.textContent.slice(0, 60));
  }
  return bad;
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, list[str]]]:
    site, written = build(tmp_path_factory.mktemp("hostile-browser"))
    handler = functools.partial(_Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", site, sorted(written)
    server.shutdown()


def _visit(page, url: str) -> None:
    page.add_init_script(WATCH)
    response = page.goto(url)
    assert response.status == 200
    page.wait_for_load_state("load")


def _assert_inert(page) -> None:
    assert page.dialogs == []
    assert page.errors == []
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate(INJECTED) == []
    assert page.evaluate("window.__csp") == []


PAGES = ["/", "/communities/", "/tags/food/", "/interest/", "/commitments/", "/regions/", "/map/", "/near/", "/stats/"]


@pytest.mark.parametrize("path", PAGES)
def test_listing_pages_stay_inert(page, hostile_url, path: str) -> None:
    url, site, _ = hostile_url
    if not (site / path.strip("/") / "index.html").exists():
        pytest.skip(f"{path} is not built yet")
    _visit(page, url + path)
    page.wait_for_timeout(300)
    _assert_inert(page)


def test_every_hostile_community_page_stays_inert(page, hostile_url) -> None:
    url, _, slugs = hostile_url
    page.add_init_script(WATCH)
    for slug in slugs:
        response = page.goto(f"{url}/communities/{slug}/")
        assert response.status == 200
        page.wait_for_load_state("load")
        # Hover and focus what a visitor would: the mini map's marker, links, the e-mail link.
        if page.locator(".leaflet-interactive").count():
            page.locator(".leaflet-interactive").first.hover(force=True, timeout=2000)
            for tooltip in page.locator(".leaflet-tooltip").all():
                assert "<" not in tooltip.inner_html(), f"{slug}: the tooltip holds markup: {tooltip.inner_html()[:120]}"
        _assert_inert(page)


def test_directory_filter_with_hostile_query_stays_inert(page, hostile_url) -> None:
    url, _, _ = hostile_url
    _visit(page, url + "/communities/?q=%3Cimg%20src%3Dx%20onerror%3Dwindow.__pwned%3D1%3E")
    page.fill("#f-q", "<svg onload=window.__pwned=1>") if page.locator("#f-q").count() else None
    page.wait_for_timeout(200)
    _assert_inert(page)
