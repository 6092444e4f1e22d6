"""Headers and pages: a Content-Security-Policy without inline script on every page,
rel="noopener" on every external link, and no request to any host but the map tiles.

Runs over the example site built once per session (the `built_site` fixture).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from communities import settings as settings_mod
from hostile import html_checks

TILE_HOST = urlsplit(settings_mod.DEFAULTS["COMMUNITIES_TILES_URL"].replace("{s}", "a")).hostname
REQUEST_ATTRIBUTES = {  # elements whose URL the browser fetches on its own, without a click
    "script": ("src",), "img": ("src", "srcset"), "iframe": ("src",), "frame": ("src",), "embed": ("src",), "object": ("data",),
    "source": ("src", "srcset"), "video": ("src", "poster"), "audio": ("src",), "track": ("src",), "input": ("src",),
}
FETCHING_LINK_RELS = {"stylesheet", "preload", "prefetch", "preconnect", "dns-prefetch", "modulepreload", "icon", "manifest", "prerender"}


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def _csp(page: html_checks.Page) -> dict[str, list[str]]:
    metas = [e for e in page.find("meta") if e.attrs.get("http-equiv", "").lower() == "content-security-policy"]
    assert len(metas) == 1, "exactly one CSP meta tag"
    policy: dict[str, list[str]] = {}
    for directive in metas[0].attrs["content"].split(";"):
        name, *values = directive.split()
        policy[name] = values
    return policy


def _third_party(url: str) -> str:
    """The host of a URL that leaves the site, or '' when it stays (relative, same-site, data:)."""
    url = url.strip()
    if not url or url.startswith("data:") or url.startswith("#"):
        return ""
    if url.startswith("//") or re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I):
        return urlsplit(url if not url.startswith("//") else "https:" + url).hostname or "?"
    return ""


def test_every_page_has_a_policy_that_forbids_inline_script(built_site: Path) -> None:
    pages = _pages(built_site)
    assert len(pages) > 20
    for path in pages:
        if path.name in ("googlec.html",) or "pagefind" in path.parts:
            continue
        policy = _csp(html_checks.parse(path.read_text(encoding="utf-8")))
        scripts = policy.get("script-src", policy.get("default-src", []))
        assert scripts, path
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, (path, scripts)
        assert not any(s in ("*", "data:", "http:", "https:") for s in scripts), (path, scripts)
        assert policy.get("object-src") == ["'none'"], path
        assert policy.get("base-uri") == ["'self'"], path


def test_no_page_has_inline_executable_script(built_site: Path) -> None:
    found = []
    for path in _pages(built_site):
        page = html_checks.parse(path.read_text(encoding="utf-8"))
        for el in page.find("script"):
            found += html_checks._script_problems(el, str(path.relative_to(built_site)))
        found += [f"{path}: on{name}" for el in page.elements for name in el.attrs if name.startswith("on")]
    assert found == []


def test_every_external_link_opens_without_a_window_opener(built_site: Path) -> None:
    missing = []
    for path in _pages(built_site):
        for a in html_checks.parse(path.read_text(encoding="utf-8")).find("a"):
            href = a.attrs.get("href", "")
            if html_checks.is_external(href) and "noopener" not in a.attrs.get("rel", "").split() and "noreferrer" not in a.attrs.get("rel", "").split():
                missing.append(f"{path.relative_to(built_site)}: {href}")
    assert missing == []


def test_pages_request_nothing_from_other_hosts(built_site: Path) -> None:
    found = []
    for path in _pages(built_site):
        for el in html_checks.parse(path.read_text(encoding="utf-8")).elements:
            attrs = list(REQUEST_ATTRIBUTES.get(el.tag, ()))
            if el.tag == "link" and FETCHING_LINK_RELS & set(el.attrs.get("rel", "").lower().split()):
                attrs.append("href")
            for name in attrs:
                for url in (u.strip().split(" ")[0] for u in el.attrs.get(name, "").split(",")) if name == "srcset" else [el.attrs.get(name, "")]:
                    host = _third_party(url)
                    if host and host != TILE_HOST:
                        found.append(f"{path.relative_to(built_site)}: <{el.tag} {name}={url!r}>")
    assert found == []


_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.I)


def test_stylesheets_load_nothing_from_other_hosts(built_site: Path) -> None:
    found = []
    for path in sorted(built_site.rglob("*.css")):
        for url in _CSS_URL.findall(_CSS_COMMENT.sub("", path.read_text(encoding="utf-8", errors="replace"))):
            if _third_party(url):
                found.append(f"{path.relative_to(built_site)}: {url}")
    assert found == []


_JS_COMMENT = re.compile(r"/\*.*?\*/|(?<![:\"'\\])//[^\n]*", re.S)
_JS_URL = re.compile(r"""["'`]((?:https?:)?//[^"'`\s]+)""")


def test_the_sites_own_scripts_fetch_only_from_the_site_and_the_tiles(built_site: Path) -> None:
    """Our JavaScript (not the vendored libraries, whose licence headers name their homes) names no other host."""
    own = [p for p in (built_site / "theme" / "js").rglob("*.js")]
    assert own
    found = []
    for path in own:
        for url in _JS_URL.findall(_JS_COMMENT.sub("", path.read_text(encoding="utf-8"))):
            host = _third_party(url)
            if host and host != TILE_HOST and not host.endswith("w3.org"):  # SVG/XML namespace names are not requests
                found.append(f"{path.relative_to(built_site)}: {url}")
    assert found == []


def test_the_policy_allows_images_only_from_the_tile_host(built_site: Path) -> None:
    policy = _csp(html_checks.parse((built_site / "index.html").read_text(encoding="utf-8")))
    other = [s for s in policy["img-src"] if s not in ("'self'", "data:")]
    assert [urlsplit(s).hostname for s in other] == [TILE_HOST]
    assert policy["connect-src"] == ["'self'"]


@pytest.mark.parametrize("snippet", ['<script src="https://cdn.example/x.js"></script>', '<img src="//tracker.example/p.gif">',
                                     '<link rel="stylesheet" href="https://fonts.example/css">'])
def test_the_request_check_notices_third_party_requests(tmp_path: Path, snippet: str) -> None:
    (tmp_path / "index.html").write_text(snippet, encoding="utf-8")
    with pytest.raises(AssertionError):
        test_pages_request_nothing_from_other_hosts(tmp_path)
