"""Typed records: what the pages are made from."""

from __future__ import annotations

from pathlib import Path

import yaml
from communities import model

ROOT = Path(__file__).resolve().parents[1]


def test_an_email_written_with_spaces_or_a_final_newline_shows_without_them() -> None:
    """The validator reads the address stripped, so a quoted "a@b\\n" passes: the page must strip it too."""
    data = yaml.safe_load((ROOT / "data/communities/leith.yaml").read_text(encoding="utf-8"))
    data["contact"]["email"] = " hello@leith.example.coop\n"
    community = model.community_from_data("leith", "data/communities/leith.yaml", data)
    assert community.email == "hello@leith.example.coop"


def _commitment(target: float | None, *reviews: tuple[str, float | None]) -> model.Commitment:
    return model.Commitment(area="action", title="Swaps", measure="Swaps held", status="in-progress",
                            target=model.Target(target, "swaps") if target is not None else None,
                            reviews=tuple(model.Review(day, f"note {i}", value) for i, (day, value) in enumerate(reviews)))


def test_of_two_reviews_on_one_day_the_later_written_is_the_latest() -> None:
    """The page lists reviews newest first, the later-written of a day on top: the bar and library agree with it."""
    k = _commitment(40, ("2025-06-01", 10), ("2025-06-01", 30))
    assert k.latest_review is not None and k.latest_review.note == "note 1"
    assert k.progress == 0.75


def test_percent_rounds_half_up_shows_a_start_and_keeps_100_for_a_target_reached() -> None:
    assert _commitment(8, ("2025-06-01", 1)).percent == 13  # 12.5
    assert _commitment(8, ("2025-06-01", 3)).percent == 38  # 37.5
    assert _commitment(200, ("2025-06-01", 1)).percent == 1  # 0.5: something was done
    assert _commitment(200, ("2025-06-01", 199)).percent == 99  # 99.5: not there yet
    assert _commitment(200, ("2025-06-01", 250)).percent == 100
    assert _commitment(200, ("2025-06-01", 0)).percent == 0
    assert _commitment(None, ("2025-06-01", 3)).percent is None


def test_a_review_of_any_commitment_counts_as_looking_back() -> None:
    import dataclasses
    import datetime as dt

    data = yaml.safe_load((ROOT / "data/communities/leith.yaml").read_text(encoding="utf-8"))
    leith = model.community_from_data("leith", "data/communities/leith.yaml", data)
    leith = dataclasses.replace(leith, joined="2024-01-01", last_reviewed="",
                                commitments=(_commitment(10, ("2026-03-01", 2)), _commitment(10, ("2025-01-01", 1))))
    assert leith.looked_back == "2026-03-01"
    assert not leith.review_due(dt.date(2026, 11, 24))
    assert dataclasses.replace(leith, last_reviewed="2026-05-01").looked_back == "2026-05-01"
    never = dataclasses.replace(leith, commitments=(_commitment(10),))
    assert never.looked_back == "" and never.review_due(dt.date(2026, 11, 24))


def test_whole_numbers_round_half_up_as_the_scripts_do() -> None:
    """/deserts/ showed 18.5 km as 18 without JavaScript (half to even) and 19 with it (Math.round)."""
    assert [model.round_half_up(x) for x in (18.5, 28.5, 12.5, 0.49, 2.0)] == [19, 29, 13, 0, 2]
