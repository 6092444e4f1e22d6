"""The map: one folium frame with vendored Leaflet and no inline code, and a data file that stays small.

No network and no full builds here, except the example site built once per session (`built_site`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import random
import re
from pathlib import Path

import jinja2
import pytest
from communities import catalogue, environment, mapping, rendering
from communities.model import AREAS, STATUSES, Community, Point, community_from_data

ROOT = Path(__file__).resolve().parents[1]
CDN = re.compile(r"unpkg|jsdelivr|cdnjs|googleapis|bootstrapcdn|code\.jquery|netdna", re.IGNORECASE)
CONF = {"COMMUNITIES_TILES_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "COMMUNITIES_TILES_ATTRIBUTION": "&copy; OpenStreetMap contributors"}
TAGS = ["food", "housing", "energy", "swaps", "neighbours", "transport", "retail", "gaelic", "youth", "credit-union"]


def synthetic(count: int, seed: int = 7) -> list[Community]:
    """`count` placed communities, each in its own region (the worst case for anything listed per region)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        place = f"Town {i:05d}"
        data = {
            "name": f"Co-operative {place} {rng.choice(['Neighbours', 'Network', 'Circle', 'Commons'])}",
            "kind": "interest" if i % 10 == 0 else "place",
            "summary": "A summary long enough to matter if it were ever sent with every marker. " * 2,
            "location": {"place": place, "region": f"Region {i:05d}", "country": "GB"},
            "tags": rng.sample(TAGS, rng.randint(1, 4)),
            "commitments": [{"area": rng.choice(AREAS), "title": "Street party", "measure": "Parties held", "status": rng.choice(STATUSES)}],
        }
        c = community_from_data(f"co-operative-town-{i:05d}", f"{i}.yaml", data)
        out.append(dataclasses.replace(c, point=Point(round(rng.uniform(50.0, 58.5), 3), round(rng.uniform(-7.0, 1.7), 3), "record")))
    return out


def catalogue_of(communities: list[Community]) -> catalogue.Catalogue:
    vocabulary = {t: {"label": t.replace("-", " ").title()} for t in TAGS}
    return catalogue.build(communities, vocabulary, dt.date(2026, 11, 24))


def render(template: str, cat: catalogue.Catalogue, context: dict) -> str:
    """A template rendered as the build renders it: gettext, the site's filters and globals, the page's context."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "theme" / "templates"), extensions=["jinja2.ext.i18n"],
                             trim_blocks=True, lstrip_blocks=True, autoescape=True)
    env.install_null_translations(newstyle=True)
    env.filters["tile_origin"] = environment.tile_origin
    env.filters["long_date"] = lambda value: str(value)
    conf = {**CONF, "COMMUNITIES_REPO_URL": "https://example.org/repo", "COMMUNITIES_REPO_BRANCH": "main"}
    env.globals.update(conf=conf, json_for_html=rendering.json_for_html, tag_labels={t.slug: t.label for t in cat.tags},
                       plural_forms=environment.plural_forms(environment.NullTranslations(), "en"))
    return env.get_template(template).render(
        SITEURL="", SITENAME="Co-operative Communities", DEFAULT_LANG="en", catalogue=cat, stats=cat.stats, AREAS=AREAS,
        STATUSES=STATUSES, page_title="", output_file="", **context,
    )


def map_page(cat: catalogue.Catalogue) -> str:
    frame = mapping.frame("communities", CONF)
    return render("map.html", cat, {"frame": frame, "frame_js": mapping.MAP_FRAME_JS,
                                    "placed_count": sum(1 for c in cat.communities if c.point)})


def map_json(cat: catalogue.Catalogue) -> bytes:
    data = mapping.map_data(cat.communities, cat.region_of, {r.slug: r.name for r in cat.regions}, [t.slug for t in cat.tags])
    return mapping.dumps_compact(data).encode("utf-8")


# --------------------------------------------------------------------------- the folium frame


def test_frame_swaps_folium_cdn_files_for_vendored_ones():
    frame = mapping.frame("communities", CONF)
    assert frame.scripts == ("leaflet/leaflet.js",)
    assert frame.styles == ("leaflet/leaflet.css",)
    for path in (*frame.scripts, *frame.styles):
        assert (ROOT / "theme" / "static" / "vendor" / path).is_file()
    assert not CDN.search(frame.script + frame.div)
    assert "<script" not in frame.script and "<div" not in frame.script


def test_frame_carries_tiles_attribution_and_controls_from_the_settings():
    frame = mapping.frame("communities", CONF)
    assert "L.map(" in frame.script and "L.tileLayer(" in frame.script
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in frame.script
    assert "OpenStreetMap contributors" in frame.script
    assert "L.control.scale()" in frame.script
    assert f"window.siteMaps = window.siteMaps || {{}})['{frame.name}'] = {frame.name};" in frame.script


def test_without_a_tile_url_the_frame_has_no_tile_layer():
    frame = mapping.frame("communities", {"COMMUNITIES_TILES_URL": "", "COMMUNITIES_TILES_ATTRIBUTION": ""})
    assert "L.tileLayer" not in frame.script and "L.map(" in frame.script


def test_frame_is_byte_stable_between_runs():
    assert mapping.frame("communities", CONF) == mapping.frame("communities", CONF)


def test_an_unknown_cdn_file_is_refused_not_copied():
    document = '<script src="https://cdn.jsdelivr.net/npm/leaflet.heat@0.2.0/dist/leaflet-heat.js"></script><div class="folium-map" id="map_x" ></div>'
    with pytest.raises(mapping.MappingError, match="not vendored"):
        mapping.take_apart(document)


def test_one_frame_whatever_the_number_of_communities():
    small, large = catalogue_of(synthetic(5)), catalogue_of(synthetic(2000))
    assert map_page(small).count("L.marker") == map_page(large).count("L.marker") == 0
    frame = mapping.frame("communities", CONF)
    assert "marker" not in frame.script.lower()


# --------------------------------------------------------------------------- the page and the data


def test_map_page_has_no_inline_code_and_stays_small_with_2000_communities():
    small, large = map_page(catalogue_of(synthetic(20))), map_page(catalogue_of(synthetic(2000)))
    for tag in re.findall(r"<script\b[^>]*>.*?</script>", large, re.S):
        opening = tag[: tag.index(">") + 1]
        assert "src=" in opening or 'type="application/json"' in opening or 'type="application/ld+json"' in opening, opening
    size = len(large.encode("utf-8"))
    assert size <= 30_000, f"map page is {size} bytes"
    assert size - len(small.encode("utf-8")) < 200, "the map page must not grow with the number of communities"
    assert "Co-operative Town 01999" not in large and "Region 01999" not in large


def test_map_data_is_under_80_bytes_per_community_gzipped():
    cat = catalogue_of(synthetic(2000))
    raw = map_json(cat)
    per_community = len(gzip.compress(raw, 6)) / 2000
    assert per_community <= 80, f"{per_community:.1f} gzipped bytes per community"
    assert b"A summary long enough" not in raw


def test_map_data_columns_line_up_and_decode():
    cat = catalogue_of(synthetic(50))
    data = json.loads(map_json(cat))
    n = len(data["slug"])
    assert n == 50
    assert all(len(data[k]) == n for k in ("name", "lat", "lon", "t", "r", "b"))
    i = data["slug"].index("co-operative-town-00010")
    c = next(c for c in cat.communities if c.slug == "co-operative-town-00010")
    assert (data["lat"][i], data["lon"][i]) == (c.point.lat, c.point.lon)
    assert sorted(data["tags"][t] for t in data["t"][i]) == sorted(c.tags)
    assert data["regions"][data["r"][i]] == [cat.region_of[c.slug], c.location.region]
    assert data["b"][i] & mapping.KIND_INTEREST  # every tenth is a community of interest
    for area, bit in mapping.AREA_BITS.items():
        assert bool(data["b"][i] & bit) == (area in c.areas)


def test_communities_without_a_point_are_left_off_the_map_data():
    communities = synthetic(3)
    communities[1] = dataclasses.replace(communities[1], point=None)
    data = mapping.map_data(communities, {}, {}, TAGS)
    assert data["slug"] == [communities[0].slug, communities[2].slug]
    assert data["r"] == [-1, -1]


# --------------------------------------------------------------------------- the built site


def test_built_map_pages_reference_only_vendored_files(built_site: Path):
    for page in ("map/index.html", "embed/index.html", "deserts/index.html"):
        html = (built_site / page).read_text(encoding="utf-8")
        assert "/theme/vendor/leaflet/leaflet.js" in html
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", html), page
    assert (built_site / "map" / "map-frame.js").is_file() and (built_site / "deserts" / "deserts-frame.js").is_file()
    data = json.loads((built_site / "data" / "map.json").read_text(encoding="utf-8"))
    geojson = json.loads((built_site / "data" / "communities.geojson").read_text(encoding="utf-8"))
    assert data["slug"] == [f["properties"]["slug"] for f in geojson["features"]], "map.json is the GeoJSON's compact twin"


def test_no_cdn_url_anywhere_in_the_output(built_site: Path):
    hits = []
    for path in sorted(built_site.rglob("*")):
        if path.suffix in {".html", ".js", ".css", ".json", ".xml"} and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            hits += [f"{path.relative_to(built_site)}: {m.group(0)}" for m in CDN.finditer(text)]
    assert hits == []


def test_frames_and_deserts_are_kept_between_builds_until_their_inputs_change(tmp_path) -> None:
    conf = {"COMMUNITIES_CACHE_DIR": str(tmp_path), "PROJECT_ROOT": str(tmp_path)}
    made = []

    def make(value):
        return lambda: made.append(value) or value

    assert mapping._kept(conf, "deserts", ("points", 1), make("first")) == "first"
    assert mapping._kept(conf, "deserts", ("points", 1), make("again")) == "first"  # same inputs: kept
    assert mapping._kept(conf, "deserts", ("points", 2), make("moved")) == "moved"  # a community moved
    (tmp_path / "map-deserts.pickle").write_bytes(b"not a pickle")
    assert mapping._kept(conf, "deserts", ("points", 2), make("mended")) == "mended"  # a damaged cache is rebuilt
    assert made == ["first", "moved", "mended"]
