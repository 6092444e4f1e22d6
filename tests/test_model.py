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
