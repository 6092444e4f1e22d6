"""Every COMMUNITIES_* setting, its default and what it does, in one place.

Settings are data (as in datasette): docs/settings.md is checked against this
table by the test suite, and `pelican.conf.py` only overrides what it needs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIX = "COMMUNITIES_"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("COMMUNITIES_DIR", "data/communities", "Folder of community records, one <slug>.yaml each."),
    Setting("COMMUNITIES_SCHEMA", "data/community.schema.json", "The JSON Schema every record is checked against."),
    Setting("COMMUNITIES_TAGS", "data/tags.yaml", "The tag vocabulary."),
    Setting("COMMUNITIES_MAX_FILE_BYTES", 100_000, "Largest record file accepted, in bytes."),
    Setting("COMMUNITIES_TODAY", None, "The date the build treats as today (YYYY-MM-DD); None for the real date. Set from SOURCE_DATE_EPOCH for reproducible builds."),
    Setting("COMMUNITIES_REVIEW_MONTHS", 12, "Months after the last review before a community is shown as 'review due'."),
    Setting("COMMUNITIES_GEOCODE_CACHE", "data/geocode-cache.json", "Committed cache of geocoding results, keyed by normalised query."),
    Setting("COMMUNITIES_COUNTRY_BOUNDS", "data/country-bounds.json", "Bounding boxes used to check a point lies in its declared country."),
    Setting("COMMUNITIES_GEOCODE_ONLINE", False, "Allow live geocoding lookups during a build. Off: builds never touch the network."),
    Setting("COMMUNITIES_GEOCODER", "nominatim", "Any geopy geocoder name (nominatim, photon, pelias, opencage...)."),
    Setting("COMMUNITIES_GEOCODER_OPTIONS", {}, "Extra keyword arguments for the geocoder, e.g. {'api_key': ...} read from the environment in pelican.conf.py."),
    Setting("COMMUNITIES_GEOCODER_USER_AGENT", "cooperative-communities-site (maintainers@example.org)", "User agent and contact sent to the geocoding service."),
    Setting("COMMUNITIES_GEOCODE_MIN_DELAY", 1.0, "Seconds between geocoding requests (Nominatim's policy is one a second)."),
    Setting("COMMUNITIES_GEOCODE_WARN_KM", 50.0, "Warn when given coordinates are further than this from the geocoded place."),
    Setting("COMMUNITIES_COORDINATE_DECIMALS", 3, "Decimal places of published coordinates (3 is about 100 m)."),
    Setting("COMMUNITIES_REPO_URL", "https://github.com/cooperative-communities/cooperative-communities", "GitHub repository, for 'edit this community' and join links."),
    Setting("COMMUNITIES_REPO_BRANCH", "main", "Branch that pull requests target."),
    Setting("COMMUNITIES_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "Map tile URL template; empty for no tiles (markers and list still work)."),
    Setting("COMMUNITIES_TILES_ATTRIBUTION", '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors', "Attribution shown on maps, as the tile provider requires."),
    Setting("COMMUNITIES_DESERT_COUNTRIES", ["GB"], "Countries whose towns are checked for co-operative deserts."),
    Setting("COMMUNITIES_DESERT_MIN_POPULATION", 15_000, "Smallest town population considered on the deserts page."),
    Setting("COMMUNITIES_DESERT_DISTANCE_KM", 15.0, "A town is a desert when no community is within this distance."),
    Setting("COMMUNITIES_CACHE_DIR", ".cache/communities", "Where build caches live (parsed records, rendered Markdown, page fingerprints, compiled templates, and Pelican's own content cache in `pelican/`). Delete it for a cold build."),
    Setting("COMMUNITIES_WORKERS", 2, "Processes that parse and check new records and render community pages (forked, where the system can fork); 1 does everything in-process."),
    Setting("COMMUNITIES_SEARCH_INDEX", True, "Run Pagefind over the written site."),
    Setting("COMMUNITIES_QUICK_REBUILD", True, "When the only change since the last build is to what some records' own pages show (a description, a contact, links, an older review), remake just those pages and the open data; False: always the full build. See docs/benchmarks.md."),
)

DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}


def resolve(settings: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Defaults overlaid with the site's settings, plus warnings for unknown COMMUNITIES_* keys."""
    merged = {name: _copy(default) for name, default in DEFAULTS.items()}
    warnings = []
    for key, value in settings.items():
        if not key.startswith(PREFIX):
            continue
        if key in DEFAULTS:
            merged[key] = value
        else:
            close = difflib.get_close_matches(key, list(DEFAULTS), n=1)
            tip = f" Did you mean {close[0]}?" if close else ""
            warnings.append(f"communities: unknown setting {key}.{tip}")
    return merged, warnings


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    return value


def project_path(settings: dict[str, Any], name: str) -> Path:
    """A path setting, relative to the site's PATH's parent (the project root) when not absolute."""
    value = Path(settings[name])
    if value.is_absolute():
        return value
    root = Path(settings.get("PROJECT_ROOT") or Path.cwd())
    return root / value


def place_pelican_cache(pelican: Any) -> None:
    """initialized receiver: Pelican's content cache goes inside COMMUNITIES_CACHE_DIR, so one folder holds every cache.

    Deleting that folder is then a cold build, whatever the settings file says
    about CACHE_PATH; and the site's settings turn the cache on (pelican.conf.py).
    """
    from .files import package_version, salted_folder

    conf = dict(pelican.settings)
    conf.setdefault("COMMUNITIES_CACHE_DIR", DEFAULTS["COMMUNITIES_CACHE_DIR"])
    conf["PROJECT_ROOT"] = conf.get("PROJECT_ROOT") or str(Path(conf["PATH"]).parent)
    # Pelican's cache checks only each file's time, so its folder is named by everything else that shapes what it
    # holds: a change to MARKDOWN (or any setting), to Pelican or to python-markdown starts a new one.
    shaping = plain_settings(pelican.settings)
    folder = salted_folder(project_path(conf, "COMMUNITIES_CACHE_DIR") / "pelican", package_version("pelican"),
                           package_version("markdown"), shaping)
    if folder is None:
        pelican.settings["CACHE_CONTENT"] = pelican.settings["LOAD_CONTENT_CACHE"] = False
    else:
        pelican.settings["CACHE_PATH"] = str(folder)


def plain_settings(settings: dict[str, Any], skip: Iterable[str] = ()) -> list[tuple[str, Any]]:
    """(name, value) of every setting whose value prints the same from run to run, sorted: what a cache key can hold."""
    left_out = set(skip)
    return [(k, v) for k, v in sorted(settings.items()) if k not in left_out and _plain(v)]


def _plain(value: Any) -> bool:
    """Values whose repr is the same from one run to the next: no objects that print their address, no sets
    (whose order follows string hashing, which changes from one process to the next)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    return False
