"""The site's indexes, built once from placed communities: tags, regions, commitments, stats.

Templates only ever read these; they never group, count or sort themselves.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .model import AREAS, STATUSES, Commitment, Community

COUNTRY_NAMES = {"GB": "United Kingdom", "IE": "Ireland", "IM": "Isle of Man", "JE": "Jersey", "GG": "Guernsey"}


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "unnamed"


@dataclass(frozen=True)
class Tag:
    slug: str
    label: str
    description: str
    communities: tuple[Community, ...] = ()


@dataclass(frozen=True)
class Region:
    slug: str
    name: str
    country: str
    country_name: str
    communities: tuple[Community, ...] = ()


@dataclass(frozen=True)
class CommitmentEntry:
    community: Community
    commitment: Commitment
    index: int


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    key: str = ""


@dataclass(frozen=True)
class Stats:
    communities: int
    places: int
    interests: int
    commitments: int
    cooperatives: int
    review_due: int
    by_year: tuple[Bar, ...]
    undated: int  # communities with no `joined`, which the growth chart cannot place
    by_area_status: dict[str, tuple[Bar, ...]]
    top_tags: tuple[Bar, ...]
    top_regions: tuple[Bar, ...]


@dataclass
class Catalogue:
    communities: list[Community]
    tags: list[Tag]
    regions: list[Region]
    interest: list[Community]
    commitments: dict[str, dict[str, list[CommitmentEntry]]]
    stats: Stats
    today: dt.date
    review_months: int
    review_due: set[str] = field(default_factory=set)
    region_of: dict[str, str] = field(default_factory=dict)
    newest: list[Community] = field(default_factory=list)  # by joined, latest first; ties in name order

    @property
    def by_slug(self) -> dict[str, Community]:
        return {c.slug: c for c in self.communities}

    @property
    def tag_by_slug(self) -> dict[str, Tag]:
        return {t.slug: t for t in self.tags}


def _sort_key(c: Community) -> tuple[str, str]:
    return (unicodedata.normalize("NFKD", c.name).casefold(), c.slug)


def build(communities: list[Community], vocabulary: dict[str, dict[str, str]], today: dt.date, review_months: int = 12) -> Catalogue:
    ordered = sorted(communities, key=_sort_key)
    due = {c.slug for c in ordered if c.review_due(today, review_months)}
    tagged: dict[str, list[Community]] = defaultdict(list)  # one pass over the records, not one per tag
    commitments: dict[str, dict[str, list[CommitmentEntry]]] = {a: {s: [] for s in STATUSES} for a in AREAS}
    for c in ordered:
        for slug in c.tags:
            tagged[slug].append(c)
        for i, commitment in enumerate(c.commitments):
            commitments[commitment.area][commitment.status].append(CommitmentEntry(c, commitment, i))
    tags = [
        Tag(slug, entry["label"], entry.get("description", ""), tuple(tagged.get(slug, ())))
        for slug, entry in sorted(vocabulary.items(), key=lambda kv: kv[1]["label"].casefold())
    ]
    regions, region_of = _regions(ordered)
    return Catalogue(
        communities=ordered,
        tags=tags,
        regions=regions,
        interest=[c for c in ordered if c.kind == "interest"],
        commitments=commitments,
        stats=_stats(ordered, tags, due, regions, commitments),
        today=today,
        review_months=review_months,
        review_due=due,
        region_of=region_of,
        newest=sorted((c for c in ordered if c.joined), key=lambda c: c.joined, reverse=True),
    )


@functools.lru_cache(maxsize=65536)  # a site has far fewer region names than records
def _fold(text: str) -> str:
    """How people tell names apart: not by case, accents, spacing or punctuation ("St. Albans" is "st albans")."""
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[\W_]+", " ", plain.casefold()).split())


def _regions(ordered: list[Community]) -> tuple[list[Region], dict[str, str]]:
    groups: dict[tuple[str, str], list[Community]] = defaultdict(list)
    for c in ordered:
        if c.location:
            groups[(c.location.country, _fold(c.location.region or c.location.place))].append(c)
    regions = []
    region_of = {}
    used: set[str] = set()
    for (country, _key), members in sorted(groups.items()):
        # Shown as most of its members write it; on a tie, as the first in name order does (most_common keeps
        # the order first seen among equal counts).
        spellings = Counter((c.location.region or c.location.place).strip() for c in members if c.location)
        name = spellings.most_common(1)[0][0]
        slug = _unused(slugify(name), country, used)
        regions.append(Region(slug, name, country, COUNTRY_NAMES.get(country, country), tuple(members)))
        for c in members:
            region_of[c.slug] = slug
    return regions, region_of


def _unused(slug: str, country: str, used: set[str]) -> str:
    """The region's slug, or with its country, or numbered: two regions never share a page."""
    candidate, n = slug, 1
    while candidate in used:
        n += 1
        candidate = f"{slug}-{country.lower()}" if n == 2 else f"{slug}-{country.lower()}-{n - 1}"
    used.add(candidate)
    return candidate


def _stats(ordered: list[Community], tags: list[Tag], due: set[str], regions: list[Region],
           commitments: dict[str, dict[str, list[CommitmentEntry]]]) -> Stats:
    years = Counter(c.joined[:4] for c in ordered if c.joined)
    cumulative, total = [], 0
    for year in sorted(years):
        total += years[year]
        cumulative.append(Bar(year, total))
    by_area_status = {area: tuple(Bar(status, len(commitments[area][status]), status) for status in STATUSES) for area in AREAS}
    top = sorted((t for t in tags if t.communities), key=lambda t: (-len(t.communities), t.label))[:10]
    busiest = sorted(regions, key=lambda r: (-len(r.communities), r.name.casefold()))[:10]
    return Stats(
        communities=len(ordered),
        places=sum(1 for c in ordered if c.kind == "place"),
        interests=sum(1 for c in ordered if c.kind == "interest"),
        commitments=sum(len(entries) for by_status in commitments.values() for entries in by_status.values()),
        cooperatives=sum(len(c.cooperatives) for c in ordered),
        review_due=len(due),
        by_year=tuple(cumulative),
        undated=sum(1 for c in ordered if not c.joined),
        by_area_status=by_area_status,
        top_tags=tuple(Bar(t.label, len(t.communities), t.slug) for t in top),
        top_regions=tuple(Bar(r.name, len(r.communities), r.slug) for r in busiest),
    )
