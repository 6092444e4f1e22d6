"""The typed records that flow from validation onwards.

Raw YAML data is only turned into these once it has passed validation, so no
later stage needs to check a type or a missing key again.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("planned", "in-progress", "achieved", "paused", "dropped")
AREAS = ("action", "enterprise")
KINDS = ("place", "interest")


@dataclass(frozen=True)
class Review:
    date: str
    note: str
    value: float | None = None
    status: str | None = None


@dataclass(frozen=True)
class Target:
    value: float
    unit: str = ""


@dataclass(frozen=True)
class Commitment:
    area: str
    title: str
    measure: str
    status: str
    description: str = ""
    target: Target | None = None
    reviews: tuple[Review, ...] = ()

    @property
    def latest_review(self) -> Review | None:
        """The last review written on the latest date: reviews are kept sorted by date, in the order written on a
        day, and the page lists them newest first, so this is the one on top."""
        return self.reviews[-1] if self.reviews else None

    @property
    def progress(self) -> float | None:
        """Share of the target reached at the latest review that gave a value, 0..1."""
        if not self.target or not self.target.value:
            return None
        latest = next((r for r in reversed(self.reviews) if r.value is not None), None)
        if latest is None:
            return 0.0 if self.status != "achieved" else 1.0
        return max(0.0, min(1.0, float(latest.value or 0) / float(self.target.value)))

    @property
    def percent(self) -> int | None:
        """Progress as a whole percentage, rounded half up; any start shows as at least 1%, and only a target
        reached as 100%."""
        share = self.progress
        if share is None:
            return None
        whole = round_half_up(share * 100)
        if 0 < share < 1:
            whole = min(max(whole, 1), 99)
        return whole


@dataclass(frozen=True)
class Location:
    place: str
    country: str
    region: str = ""
    postcode: str = ""
    publish_postcode: bool = False
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Point:
    """Where a community sits on the map, and how we know."""

    lat: float
    lon: float
    source: str  # record | cache | gazetteer | online


@dataclass(frozen=True)
class Link:
    name: str
    url: str = ""
    sector: str = ""


@dataclass(frozen=True)
class ActionGroup:
    name: str
    members: int | None = None
    meets: str = ""


@dataclass(frozen=True)
class Community:
    slug: str
    path: str
    name: str
    kind: str
    summary: str
    commitments: tuple[Commitment, ...]
    description: str = ""
    action_group: ActionGroup | None = None
    location: Location | None = None
    tags: tuple[str, ...] = ()
    website: str = ""
    email: str = ""
    contact_url: str = ""
    joined: str = ""
    last_reviewed: str = ""
    cooperatives: tuple[Link, ...] = ()
    partners: tuple[Link, ...] = ()
    digest: str = ""
    point: Point | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def areas(self) -> tuple[str, ...]:
        return tuple(a for a in AREAS if any(c.area == a for c in self.commitments))

    @property
    def region(self) -> str:
        return self.location.region if self.location else ""

    @property
    def country(self) -> str:
        return self.location.country if self.location else ""

    @property
    def looked_back(self) -> str:
        """The date of the last look back: `last_reviewed`, or a commitment's review if that is later (the
        validator only warns when the two disagree, and a review written is a look back taken)."""
        return max((self.last_reviewed, *(k.reviews[-1].date for k in self.commitments if k.reviews)))

    def review_due(self, today: dt.date, months: int = 12) -> bool:
        """Over `months` since the last look back (or since joining, if never reviewed)."""
        since = self.looked_back or self.joined
        if not since:
            return True
        return dt.date.fromisoformat(since) < add_months(today, -months)


def with_point(community: Community, point: Point) -> Community:
    """The community placed at `point`: dataclasses.replace without running __init__ again.

    Every build places every record, and replace() re-checks and re-sets all twenty
    fields (0.05 s at 10,000 records, against 0.015 s for this copy).
    """
    placed = object.__new__(Community)
    placed.__dict__.update(community.__dict__)
    placed.__dict__["point"] = point
    return placed


def round_half_up(value: float) -> int:
    """As the scripts' Math.round does (Python's round() goes half to even): a page reads the same before and
    after they run, and 12.5% is 13%."""
    return math.floor(value + 0.5)


def add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # unreachable: 28 exists in every month


def _link(entry: dict[str, Any]) -> Link:
    return Link(entry["name"], entry.get("url", ""), entry.get("sector", ""))


def _commitment(entry: dict[str, Any]) -> Commitment:
    target = entry.get("target")
    reviews = tuple(
        sorted(
            (Review(r["date"], r["note"], r.get("value"), r.get("status")) for r in entry.get("reviews", [])),
            key=lambda r: r.date,
        )
    )
    return Commitment(
        area=entry["area"],
        title=entry["title"],
        measure=entry["measure"],
        status=entry["status"],
        description=entry.get("description", ""),
        target=Target(target["value"], target.get("unit", "")) if target else None,
        reviews=reviews,
    )


def community_from_data(slug: str, path: str, data: dict[str, Any], digest: str = "") -> Community:
    """Valid record data -> Community. Call only after validation has passed."""
    loc = data.get("location")
    group = data.get("action_group")
    contact = data.get("contact", {})
    return Community(
        slug=slug,
        path=path,
        name=data["name"].strip(),
        kind=data["kind"],
        summary=data["summary"].strip(),
        description=data.get("description", ""),
        action_group=ActionGroup(group["name"], group.get("members"), group.get("meets", "")) if group else None,
        location=Location(
            place=loc["place"],
            country=loc["country"],
            region=loc.get("region", ""),
            postcode=loc.get("postcode", ""),
            publish_postcode=loc.get("publish_postcode", False),
            lat=loc.get("lat"),
            lon=loc.get("lon"),
        )
        if loc
        else None,
        tags=tuple(data.get("tags", [])),
        website=data.get("website", ""),
        email=contact.get("email", "").strip(),
        contact_url=contact.get("url", ""),
        joined=data.get("joined", ""),
        last_reviewed=data.get("last_reviewed", ""),
        commitments=tuple(_commitment(c) for c in data["commitments"]),
        cooperatives=tuple(_link(c) for c in data.get("cooperatives", [])),
        partners=tuple(_link(c) for c in data.get("partners", [])),
        digest=digest,
        data=data,
    )
