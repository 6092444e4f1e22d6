"""What the search index is fed: one small page per community, made from its record, and the marked news and handbook pages.

Pagefind's cost grows with every word it reads, and a built community page
carries far more than its main content (review notes, contact panels, the
header and footer). So each community is given to Pagefind as a lean page
holding only what people search for: name, place, summary, description,
commitments and tags, with the tag, region, kind and area filters. The page
keeps its real URL (`/communities/<slug>/`) because it is written at the same
path in the folder Pagefind indexes.

Everything here works on a record as published in the site's open data
(`data/communities.json`), so only published fields can reach the index.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .model import AREAS
from .rendering import gfm_html

#: Built pages that are indexed as they are: any page (outside /communities/) whose template marks its main content.
BODY_MARK = re.compile(rb"<[A-Za-z][^<>]*\sdata-pagefind-body[\s>=/]")
COMMUNITY_DIR = "communities"
T = TypeVar("T")


def markdown_html(source: str) -> str:
    """A record's Markdown as the page shows it (cmark-gfm in safe mode: raw HTML omitted).

    Only Pagefind reads this HTML, and keeps only its text, so it is not sanitised again as the page is.
    """
    if not source or source.isspace():
        return ""
    return gfm_html(source)


@dataclass(frozen=True)
class FilterLabels:
    """The search page's filters as its visitors read them: Pagefind's interface shows each filter's name and
    values as they are indexed, so they are indexed in the site's language, not as field names and slugs."""

    tag: str = "Tag"
    region: str = "Region"
    kind: str = "Kind"
    area: str = "Commitment area"
    tags: Mapping[str, str] = field(default_factory=dict)
    kinds: Mapping[str, str] = field(default_factory=lambda: {"place": "Place", "interest": "Community of interest"})
    areas: Mapping[str, str] = field(default_factory=lambda: {"action": "Co-operative action", "enterprise": "Co-operative enterprise"})


def filter_labels(gettext: Callable[[str], str], tag_labels: Mapping[str, str]) -> FilterLabels:
    """The labels in the catalog's language; the words are the ones the directory's own filters use."""
    english = FilterLabels()
    return FilterLabels(
        tag=gettext(english.tag), region=gettext(english.region), kind=gettext(english.kind), area=gettext(english.area),
        tags=dict(tag_labels), kinds={k: gettext(v) for k, v in english.kinds.items()},
        areas={k: gettext(v) for k, v in english.areas.items()},
    )


def filters(data: Mapping[str, Any], labels: FilterLabels) -> dict[str, list[str]]:
    """The filters a community page has always had: tags, region (or place), kind and commitment areas, by label."""
    loc = data.get("location") or {}
    areas = {str(k.get("area", "")) for k in data.get("commitments", [])}
    region = str(loc.get("region") or loc.get("place") or "").strip()
    kind = str(data.get("kind", ""))
    return {
        labels.tag: [labels.tags.get(str(t), str(t)) for t in data.get("tags", [])],
        labels.region: [region] if region else [],
        labels.kind: [labels.kinds.get(kind, kind)],
        labels.area: [labels.areas[a] for a in AREAS if a in areas],
    }


def where(data: Mapping[str, Any]) -> str:
    loc = data.get("location") or {}
    place, region = str(loc.get("place", "")), str(loc.get("region", ""))
    return f"{place}, {region}" if region and region != place else place


def community_page(data: Mapping[str, Any], labels: FilterLabels, lang: str) -> str:
    """The lean page Pagefind indexes for one community: its main content and filters, nothing else."""
    e = html.escape
    name = str(data["name"]).strip()
    parts = [f'<!DOCTYPE html>\n<html lang="{e(lang)}"><head><meta charset="utf-8"><title>{e(name)}</title></head>'
             f"<body data-pagefind-body><h1>{e(name)}</h1>"]
    place = where(data)
    if place:
        parts.append(f"<p>{e(place)}</p>")
    parts.append(f"<p>{e(str(data.get('summary', '')).strip())}</p>")
    parts.append(markdown_html(str(data.get("description", ""))))
    for k in data.get("commitments", []):
        parts.append(f"<h2>{e(str(k.get('title', '')))}</h2>")
        parts.append(markdown_html(str(k.get("description", ""))))
    tags = [labels.tags.get(str(t), str(t)) for t in data.get("tags", [])]
    if tags:
        parts.append(f"<p>{e(', '.join(tags))}</p>")
    # Filter values are read from the text of ignored elements: filtered on, never searched as words.
    parts.append("<div data-pagefind-ignore>")
    for key, values in filters(data, labels).items():
        parts.extend(f'<span data-pagefind-filter="{e(key)}">{e(v)}</span>' for v in values)
    parts.append("</div></body></html>\n")
    return "".join(parts)


def split(records: Sequence[T], parts: int) -> list[list[T]]:
    """`records` dealt into at most `parts` non-empty parts, in turn (so each part is a fair sample); always one part."""
    n = max(1, min(parts, len(records)))
    return [list(records[i::n]) for i in range(n)]


def write_community_pages(folder: Path, records: Iterable[tuple[str, Mapping[str, Any]]],
                          labels: FilterLabels, lang: str) -> int:
    """Write `folder/communities/<slug>/index.html` for every (slug, record data); returns how many."""
    count = 0
    base = folder / COMMUNITY_DIR
    base.mkdir(parents=True, exist_ok=True)
    for slug, data in records:
        page = base / slug
        page.mkdir()
        (page / "index.html").write_text(community_page(data, labels, lang), encoding="utf-8")
        count += 1
    return count


def marked_pages(site: Path, skip: Iterable[str] = ()) -> Iterator[tuple[str, bytes]]:
    """Built HTML pages, outside /communities/ and the folders in `skip`, whose template marks the main content.

    These are the news articles and the handbook and resource pages; listing pages carry no mark.
    Yields (path relative to `site`, contents), in path order.
    """
    skipped = {COMMUNITY_DIR, *skip}
    for folder, dirs, files in os.walk(site):
        here = Path(folder)
        if here == site:
            dirs[:] = [d for d in dirs if d not in skipped]
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".html"):
                data = (here / name).read_bytes()
                if b"data-pagefind-body" in data and BODY_MARK.search(data):
                    yield (here / name).relative_to(site).as_posix(), data


def copy_marked_pages(site: Path, folder: Path, skip: Iterable[str] = ()) -> list[str]:
    """Copy the marked pages into `folder` at the same paths (so they keep their URLs); returns their relative paths."""
    copied = []
    for rel, data in marked_pages(site, skip):
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        copied.append(rel)
    return copied
