"""Near me and co-operative deserts: nearest first, within a radius, towns without a community nearby, largest first."""

from __future__ import annotations

import dataclasses
import json
import random
import time
from pathlib import Path

import pytest
from communities import places
from communities.geocoding import distance_km
from communities.model import Location, Point, community_from_data

EDINBURGH = (55.9533, -3.1883)
GLASGOW = (55.8642, -4.2518)


def community(slug: str, lat: float, lon: float, kind: str = "place", place: str = "", postcode: str = "", publish: bool = False):
    data = {"name": slug.title(), "kind": kind, "summary": "s", "commitments": [],
            "location": {"place": place or slug.title(), "country": "GB"}}
    c = community_from_data(slug, f"{slug}.yaml", data)
    loc = Location(place or slug.title(), "GB", postcode=postcode, publish_postcode=publish)
    return dataclasses.replace(c, point=Point(lat, lon, "record"), location=loc)


def km_north(origin: tuple[float, float], km: float) -> tuple[float, float]:
    return origin[0] + km / places.KM_PER_DEGREE, origin[1]


def town(name: str, at: tuple[float, float], population: int) -> places.Town:
    return places.Town(name, at[0], at[1], population, "GB")


def test_nearest_first_with_distances():
    here = EDINBURGH
    cs = [community("far", *km_north(here, 20)), community("near", *km_north(here, 2)), community("mid", *km_north(here, 8))]
    found = places.nearest_communities(cs, *here, radius_km=50)
    assert [c.slug for _, c in found] == ["near", "mid", "far"]
    assert [round(d) for d, _ in found] == [2, 8, 20]


def test_radius_leaves_out_what_is_further():
    cs = [community("inside", *km_north(EDINBURGH, 9.5)), community("outside", *km_north(EDINBURGH, 10.5))]
    assert [c.slug for _, c in places.nearest_communities(cs, *EDINBURGH, radius_km=10)] == ["inside"]


def test_a_town_with_a_community_3_km_away_is_not_a_desert():
    towns = [town("Edinburgh", EDINBURGH, 500_000)]
    everything, deserts = places.deserts(towns, [community("leith", *km_north(EDINBURGH, 3))], 15)
    assert deserts == []
    assert everything[0].nearest_slug == "leith" and everything[0].nearest_km == pytest.approx(3, abs=0.1)


def test_a_town_with_none_within_the_distance_is_a_desert_and_the_largest_comes_first():
    towns = [town("Smallburgh", km_north(GLASGOW, 100), 20_000), town("Glasgow", GLASGOW, 600_000), town("Edinburgh", EDINBURGH, 500_000)]
    cs = [community("leith", *km_north(EDINBURGH, 3))]
    _, deserts = places.deserts(towns, cs, 15)
    assert [d.town.name for d in deserts] == ["Glasgow", "Smallburgh"]
    assert deserts[0].nearest_slug == "leith" and deserts[0].nearest_km > 15


def test_communities_of_interest_do_not_lift_a_desert():
    _, deserts = places.deserts([town("Edinburgh", EDINBURGH, 500_000)], [community("network", *EDINBURGH, kind="interest")], 15)
    assert [d.town.name for d in deserts] == ["Edinburgh"]
    assert deserts[0].nearest_km is None


def test_grid_index_matches_brute_force():
    rng = random.Random(3)
    points = [(rng.uniform(49.9, 58.7), rng.uniform(-8.2, 1.8), f"p{i}") for i in range(3000)]
    index = places.NearestIndex(points)
    for _ in range(300):
        lat, lon = rng.uniform(49, 61), rng.uniform(-11, 3)
        best = min((distance_km((lat, lon), (p[0], p[1])), p[2]) for p in points)
        assert index.nearest(lat, lon) == (best if best[0] <= places.SEARCH_LIMIT_KM else None)
        within = index.within(lat, lon, 30)
        assert within == sorted((distance_km((lat, lon), (p[0], p[1])), p[2]) for p in points if distance_km((lat, lon), (p[0], p[1])) <= 30)


def test_nearest_is_none_beyond_the_search_limit_and_with_no_points():
    assert places.NearestIndex([]).nearest(*EDINBURGH) is None
    assert places.NearestIndex([(-33.9, 151.2, "sydney")]).nearest(*EDINBURGH) is None


def test_ten_thousand_communities_against_every_british_town_is_quick():
    rng = random.Random(5)
    cs = [community(f"c{i}", rng.uniform(50, 58.5), rng.uniform(-6, 1.7)) for i in range(10_000)]
    towns = places.towns(["GB"], 15_000)
    assert len(towns) > 500
    started = time.perf_counter()
    everything, _ = places.deserts(towns, cs, 15)
    assert len(everything) == len(towns)
    assert time.perf_counter() - started < 1.0  # a generous bound, not a benchmark: it takes ~0.05 s


def test_gazetteer_has_towns_community_places_and_only_published_postcodes():
    towns = [town("Glasgow", GLASGOW, 600_000)]
    cs = [community("govanhill", 55.837, -4.262, place="Govanhill", postcode="G42 7JA"),
          community("machynlleth", 52.59, -3.85, place="Machynlleth", postcode="SY20 8EB", publish=True),
          community("glasgow-2", 55.86, -4.25, place="glasgow")]
    data = places.gazetteer_json(towns, cs)
    names = [p[0] for p in data["places"]]
    assert names[0] == "Glasgow" and names.count("Glasgow") + names.count("glasgow") == 1
    assert {"Govanhill", "Machynlleth"} <= set(names)
    assert data["postcodes"] == {"SY20": [52.59, -3.85]}
    assert "G42" not in json.dumps(data)


@pytest.mark.parametrize(("postcode", "district"), [("EH6 5QG", "EH6"), ("sy208eb", "SY20"), ("W1A 1AA", "W1A"), ("not one", "")])
def test_outward_code(postcode: str, district: str):
    assert places.outward_code(postcode) == district


def test_built_site_has_places_and_deserts(built_site: Path):
    gazetteer = json.loads((built_site / "data" / "places.json").read_text(encoding="utf-8"))
    assert any(p[0] == "Leith" for p in gazetteer["places"])
    deserts = json.loads((built_site / "data" / "deserts.json").read_text(encoding="utf-8"))
    populations = [t[3] for t in deserts["towns"]]
    assert populations == sorted(populations, reverse=True)
    page = (built_site / "deserts" / "index.html").read_text(encoding="utf-8")
    assert "<table" in page and "data-pagefind-body" not in page
