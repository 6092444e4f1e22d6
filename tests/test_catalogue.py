"""The catalogue: regions, tags and counts every listing page is made from."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

from communities import catalogue, model, records

ROOT = Path(__file__).resolve().parents[1]
LEITH = records.parse((ROOT / "data/communities/leith.yaml").read_text(encoding="utf-8"), "leith.yaml")[0]


def community(slug: str, name: str, region: str, country: str = "GB", place: str = "Somewhere") -> model.Community:
    data = copy.deepcopy(LEITH)
    data["name"] = name
    data["location"] = {"place": place, "region": region, "country": country}
    return model.community_from_data(slug, f"data/communities/{slug}.yaml", data)


def regions_of(*communities: model.Community) -> list[catalogue.Region]:
    return catalogue.build(list(communities), {}, dt.date(2026, 11, 24)).regions


def test_one_region_however_its_name_is_spelt() -> None:
    regions = regions_of(community("a", "Edin One", "Edinburgh"), community("b", "Edin Two", "edinburgh"),
                         community("c", "Edin Three", "EDINBURGH "), community("d", "Edin Four", "Edinburgh"))
    assert [(r.slug, r.name, len(r.communities)) for r in regions] == [("edinburgh", "Edinburgh", 4)]


def test_regions_sort_as_people_read_them() -> None:
    regions = regions_of(community("a", "A", "Leeds East"), community("b", "B", "Éire West"), community("c", "C", "ayr"))
    assert [r.name for r in regions] == ["ayr", "Éire West", "Leeds East"]


def test_region_slugs_never_clash() -> None:
    """Same name in two countries, and a third region whose own slug is what the second fell back to."""
    regions = regions_of(community("a", "A", "Down"), community("b", "B", "Down", country="IE"),
                         community("c", "C", "Down IE"), community("d", "D", "Down-IE", country="IE"))
    slugs = [r.slug for r in regions]
    assert len(set(slugs)) == len(slugs) == 4
    built = catalogue.build([community("a", "A", "Down"), community("b", "B", "Down", country="IE"),
                             community("c", "C", "Down IE")], {}, dt.date(2026, 11, 24))
    assert sorted(built.region_of.values()) == sorted(r.slug for r in built.regions)


def test_the_growth_chart_counts_the_communities_it_cannot_place() -> None:
    import dataclasses

    undated = dataclasses.replace(community("b", "B", "Leeds"), joined="")
    stats = catalogue.build([community("a", "A", "Leeds"), undated], {}, dt.date(2026, 11, 24)).stats
    assert stats.undated == 1 and stats.by_year[-1].value == 1


def test_a_region_is_shown_as_most_of_its_members_spell_it_and_on_a_tie_as_the_first_by_name() -> None:
    most = regions_of(community("a", "A", "leith"), community("b", "B", "Leith"), community("c", "C", "Leith"))
    tie = regions_of(community("b", "B", "Leith"), community("a", "A", "leith"))
    assert [r.name for r in most] == ["Leith"] and [r.name for r in tie] == ["leith"]
