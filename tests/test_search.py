"""Pagefind runs after the build, indexes what matters (communities, news, resources) and not the listing pages."""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

import pytest
from communities import search

LISTINGS = ["communities/index.html", "tags/index.html", "tags/food/index.html", "regions/index.html", "map/index.html",
            "near/index.html", "deserts/index.html", "search/index.html", "index.html"]
INDEXED = ["communities/leith/index.html", "resources/how-to-start/index.html"]


def test_pagefind_ran_on_the_built_site(built_site: Path):
    entry = json.loads((built_site / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert entry["languages"], entry
    assert (built_site / "pagefind" / "pagefind-ui.js").is_file()
    assert list((built_site / "pagefind" / "filter").glob("*.pf_filter")), "community pages give tag, region, kind and area filters"


def test_only_content_pages_are_marked_for_indexing(built_site: Path):
    for page in LISTINGS:
        assert "data-pagefind-body" not in (built_site / page).read_text(encoding="utf-8"), page
    for page in INDEXED:
        assert "data-pagefind-body" in (built_site / page).read_text(encoding="utf-8"), page
    leith = (built_site / "communities/leith/index.html").read_text(encoding="utf-8")
    assert {"tag", "region", "kind", "area"} <= set(re.findall(r'data-pagefind-filter="(\w+)', leith))


def test_index_counts_only_the_marked_pages(built_site: Path):
    entry = json.loads((built_site / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    indexed = sum(lang["page_count"] for lang in entry["languages"].values())
    marked = sum(1 for p in built_site.rglob("*.html") if "data-pagefind-body" in p.read_text(encoding="utf-8"))
    assert indexed == marked


def test_search_page_uses_the_generated_ui_and_reads_q(built_site: Path):
    page = (built_site / "search" / "index.html").read_text(encoding="utf-8")
    assert '/pagefind/pagefind-ui.js"' in page and '/pagefind/pagefind-ui.css"' in page
    assert "<noscript>" in page and "/communities/" in page
    assert "triggerSearch" in (Path(__file__).resolve().parents[1] / "theme/static/js/search.js").read_text(encoding="utf-8")


def test_a_failing_pagefind_stops_the_build_with_its_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(search, "command", lambda site: [sys.executable, "-c", "import sys; print('boom: no HTML', file=sys.stderr); sys.exit(3)"])
    with pytest.raises(search.SearchIndexFailed, match="exit code 3: boom: no HTML"):
        search.run_pagefind(tmp_path)


def test_search_index_setting_turns_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ran = []
    monkeypatch.setattr(search, "run_pagefind", lambda site: ran.append(site) or 0.0)
    search.index_site(types.SimpleNamespace(settings={"COMMUNITIES_SEARCH_INDEX": False}, output_path=str(tmp_path)))
    assert ran == []
    search.index_site(types.SimpleNamespace(settings={}, output_path=str(tmp_path)))
    assert ran == [tmp_path]
