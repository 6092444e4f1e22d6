"""load -> validate -> geocode, shared by the build and the scripts.

One function so that `scripts/validate`, `scripts/geocode`, the Pelican build
and the tests all see exactly the same records and the same problems.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import geocoding, model, records, settings, validation
from .problems import Problem
from .timing import timed


class BuildFailed(Exception):
    """The records have errors; the problems say which and how to fix them."""

    def __init__(self, problems: list[Problem], files: int) -> None:
        super().__init__(f"{sum(p.is_error for p in problems)} errors in community records")
        self.problems = problems
        self.files = files


@dataclass
class Loaded:
    communities: list[model.Community]
    problems: list[Problem]
    vocabulary: dict[str, dict[str, str]]
    files: int
    today: dt.date
    facts: dict[str, validation.Facts] = field(default_factory=dict)  # by path, for the next build's quick rebuild

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)


def today_from(conf: dict[str, Any]) -> dt.date:
    value = conf.get("COMMUNITIES_TODAY")
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value) if value else dt.date.today()


def load(conf: dict[str, Any], *, paths: list[Path] | list[str] | None = None, online: bool | None = None) -> Loaded:
    """Every record read, checked and placed; every problem collected, none raised."""
    today = today_from(conf)
    ctx, problems = validation.Context.from_files(
        settings.project_path(conf, "COMMUNITIES_SCHEMA"), settings.project_path(conf, "COMMUNITIES_TAGS"), today
    )
    files = paths if paths is not None else records.community_paths(settings.project_path(conf, "COMMUNITIES_DIR"))
    cache = settings.project_path(conf, "COMMUNITIES_CACHE_DIR") / "records"
    with timed("load and validate"):
        report = validation.validate_files(files, ctx, conf["COMMUNITIES_MAX_FILE_BYTES"], cache_path=cache,
                                           workers=int(conf["COMMUNITIES_WORKERS"]))
    problems += report.problems
    with timed("typed records"):
        communities = [model.community_from_data(r.slug, r.path, r.data, r.digest) for r in report.valid_records()]
    with timed("geocode"):
        placed, geo_problems = geocoding.place_communities(communities, conf, online=online, memory=cache.with_name("placed"))
    problems += geo_problems
    problems.sort(key=lambda p: (p.path, p.line, p.col, p.field))
    return Loaded(placed, problems, ctx.tags, report.files, today, report.facts)
