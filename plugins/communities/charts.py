"""Chart geometry for the stats page, computed at build time.

Python works out the numbers (bar lengths, positions); the template draws the
SVG and holds every word, so charts need no JavaScript and stay translatable.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalogue import Bar, Stats

WIDTH = 640
LABEL_WIDTH = 190
ROW = 30
BAR_SPACE = WIDTH - LABEL_WIDTH - 60


@dataclass(frozen=True)
class DrawnBar:
    label: str
    value: int
    key: str
    y: int
    length: int


@dataclass(frozen=True)
class Chart:
    name: str
    bars: tuple[DrawnBar, ...]
    height: int
    width: int = WIDTH
    label_width: int = LABEL_WIDTH


def horizontal(name: str, bars: tuple[Bar, ...]) -> Chart:
    top = max((b.value for b in bars), default=0) or 1
    drawn = tuple(
        DrawnBar(b.label, b.value, b.key, i * ROW, round(BAR_SPACE * b.value / top)) for i, b in enumerate(bars)
    )
    return Chart(name, drawn, max(ROW, len(bars) * ROW))


def for_stats(stats: Stats) -> dict[str, Chart]:
    charts = {
        "growth": horizontal("growth", stats.by_year),
        "tags": horizontal("tags", stats.top_tags),
        "regions": horizontal("regions", stats.top_regions),
    }
    for area, bars in stats.by_area_status.items():
        charts[f"area-{area}"] = horizontal(f"area-{area}", bars)
    return charts
