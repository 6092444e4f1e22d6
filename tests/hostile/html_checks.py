"""What 'inert' means for a built page, checked with the standard library's HTML parser.

`problems(html, page)` lists every way a page could run or load something a
contributor wrote: script elements that are not the site's own, event-handler
attributes, script-bearing URL schemes, external links without noopener,
embedding elements, and JSON blocks that could end their <script> early.
"""

from __future__ import annotations

import html as html_mod
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

DANGEROUS_SCHEMES = ("javascript:", "data:", "vbscript:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "srcset", "poster", "background", "data", "xlink:href", "cite", "ping"}
EMBEDDING = {"iframe", "frame", "frameset", "object", "embed", "applet", "base", "style", "portal"}
JSON_TYPES = {"application/json", "application/ld+json", "application/geo+json"}
_STRIP = re.compile(r"[\x00-\x20\x7f-\x9f]+")


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


@dataclass
class Page(HTMLParser):
    elements: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self, convert_charrefs=True)
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(el)
        if tag in ("script", "title", "h1", "textarea", "style"):
            self._open.append(el)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1].tag == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for el in self._open:
            el.text += data

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and all(e.attrs.get(k) == v for k, v in attrs.items())]


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def scheme_of(url: str) -> str:
    """The scheme a browser would see: entities decoded, whitespace and controls removed, lowercased."""
    cleaned = _STRIP.sub("", html_mod.unescape(url)).lower()
    match = re.match(r"^([a-z][a-z0-9+.-]*):", cleaned)
    return match.group(1) + ":" if match else ""


def is_external(url: str) -> bool:
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") or url.strip().startswith("//")


def problems(text: str, page_name: str = "") -> list[str]:
    """Every breach of the inertness rules in one page of HTML."""
    page = parse(text)
    found = []
    for el in page.elements:
        where = f"{page_name}: <{el.tag}>"
        for name, value in el.attrs.items():
            if name.startswith("on"):
                found.append(f"{where} has an event handler {name}={value!r}")
            if name in URL_ATTRIBUTES or (name == "content" and el.tag == "meta"):
                values = [v.strip().split(" ")[0] for v in value.split(",")] if name == "srcset" else [value]
                if el.tag == "meta":
                    values = [v.split("=", 1)[1] for v in value.split(";") if "=" in v] if el.attrs.get("http-equiv", "").lower() == "refresh" else []
                for v in values:
                    if scheme_of(v) in DANGEROUS_SCHEMES and not (el.tag == "img" and scheme_of(v) == "data:"):
                        found.append(f"{where} {name}={value!r} uses a script-capable scheme")
            if name == "style" and re.search(r"expression\s*\(|javascript:|url\s*\(", html_mod.unescape(value), re.I):
                found.append(f"{where} style={value!r}")
            if name == "srcdoc":
                found.append(f"{where} has srcdoc")
        if el.tag in EMBEDDING:
            found.append(f"{where} is an embedding or styling element")
        if el.tag == "meta" and el.attrs.get("http-equiv", "").lower() == "refresh":
            found.append(f"{where} refreshes the page")
        if el.tag == "script":
            found.extend(_script_problems(el, where))
        if el.tag == "a" and is_external(el.attrs.get("href", "")):
            rel = el.attrs.get("rel", "").lower().split()
            if "noopener" not in rel and "noreferrer" not in rel:
                found.append(f"{where} href={el.attrs['href']!r} is external without rel=noopener")
        if el.tag == "form" and is_external(el.attrs.get("action", "")) and not el.attrs["action"].startswith("https://github.com/"):
            found.append(f"{where} posts to {el.attrs['action']!r}")
    return found


def _script_problems(el: Element, where: str) -> list[str]:
    src = el.attrs.get("src")
    kind = el.attrs.get("type", "").lower()
    if src is not None:
        if not src.startswith("/") or src.startswith("//"):
            return [f"{where} loads script from {src!r}, not the site itself"]
        return [] if not el.text.strip() else [f"{where} has both src and inline text"]
    if kind not in JSON_TYPES:
        return [f"{where} is inline executable script (type={kind!r}): {el.text[:80]!r}"]
    out = []
    if "</script" in el.text.lower() or "<!--" in el.text:
        out.append(f"{where} JSON contains '</script' or '<!--'")
    try:
        json.loads(el.text)
    except ValueError as exc:
        out.append(f"{where} JSON does not parse: {exc}")
    return out
