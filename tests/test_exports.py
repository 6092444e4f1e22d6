"""Open data and JSON-LD made from the typed records."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from communities import exports, model, records

ROOT = Path(__file__).resolve().parents[1]
LEITH = records.parse((ROOT / "data/communities/leith.yaml").read_text(encoding="utf-8"), "leith.yaml")[0]


def test_json_ld_leaves_out_what_the_record_does_not_say() -> None:
    """An empty addressRegion or keywords is a claim that there is none; search engines read it as a value."""
    leith = model.community_from_data("leith", "data/communities/leith.yaml", LEITH)
    bare = dataclasses.replace(leith, tags=(), location=dataclasses.replace(leith.location, region=""))
    org = exports.json_ld(bare)
    assert "keywords" not in org and "addressRegion" not in org["location"]["address"]
    full = exports.json_ld(leith)
    assert full["keywords"] == ", ".join(leith.tags) and full["location"]["address"]["addressRegion"] == leith.location.region
