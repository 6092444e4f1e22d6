"""Pagefind indexes what matters: every community once (from its published record), news and handbook pages, no listings."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
from communities import search, search_records

ROOT = Path(__file__).resolve().parents[1]
LISTINGS = ["communities/index.html", "tags/index.html", "tags/food/index.html", "regions/index.html", "map/index.html",
            "near/index.html", "deserts/index.html", "search/index.html", "index.html", "commitments/index.html"]
PAGES = ["resources/how-to-start/index.html"]


def bundles(site: Path) -> list[Path]:
    """The index's parts: pagefind/ and the parts inside it that the search page merges."""
    return [site / "pagefind", *sorted((site / "pagefind").glob("part-*"))]


def fragments(site: Path) -> list[dict]:
    """Every page in the index, as Pagefind stored it (gzip: 'pagefind_dcd' then JSON)."""
    out = []
    for path in sorted(p for bundle in bundles(site) for p in (bundle / "fragment").glob("*.pf_fragment")):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd"), path
        out.append(json.loads(data[len(b"pagefind_dcd"):]))
    return out


def url_of(rel: str) -> str:
    return "/" + rel.removesuffix("index.html")


@pytest.fixture(scope="module")
def indexed(built_site: Path) -> dict[str, dict]:
    pages = fragments(built_site)
    by_url = {p["url"]: p for p in pages}
    assert len(by_url) == len(pages), "a URL is indexed twice"
    return by_url


@pytest.fixture(scope="module")
def records(built_site: Path) -> list[dict]:
    return json.loads((built_site / "data" / "communities.json").read_text(encoding="utf-8"))


def test_pagefind_ran_on_the_built_site(built_site: Path):
    entry = json.loads((built_site / "pagefind" / "pagefind-entry.json").read_text(encoding="utf-8"))
    assert list(entry["languages"]) == ["en"], entry
    assert (built_site / "pagefind" / "pagefind-ui.js").is_file() and (built_site / "pagefind" / "pagefind-ui.css").is_file()
    assert list((built_site / "pagefind" / "filter").glob("*.pf_filter")), "community pages give tag, region, kind and area filters"


def test_every_community_is_indexed_once_from_its_record(built_site: Path, indexed: dict[str, dict], records: list[dict]):
    vocabulary = json.loads((built_site / "data" / "tags.json").read_text(encoding="utf-8"))
    labels = {slug: entry["label"] for slug, entry in vocabulary.items()}
    community_urls = {u for u in indexed if u.startswith("/communities/")}
    assert community_urls == {f"/communities/{r['slug']}/" for r in records}
    for r in records:
        page = indexed[f"/communities/{r['slug']}/"]
        assert page["meta"]["title"] == r["name"].strip()
        want = {k: sorted(v) for k, v in search_records.filters(r, search_records.FilterLabels(tags=labels)).items() if v}
        assert {k: sorted(v) for k, v in page["filters"].items()} == want, r["slug"]
        content = page["content"]
        assert " ".join(r["summary"].split()) in content
        assert r["location"]["place"] in content if r.get("location") else True
        for k in r["commitments"]:
            assert " ".join(k["title"].split()) in content, (r["slug"], k["title"])
        for tag in r.get("tags", []):
            assert labels[tag] in content, (r["slug"], tag)
    leith = indexed["/communities/leith/"]
    # Pagefind's interface shows filter names and values as indexed: they are the directory's words, not slugs.
    assert leith["filters"]["Kind"] == ["Place"] and leith["filters"]["Commitment area"] == ["Co-operative action", "Co-operative enterprise"]
    assert sorted(leith["filters"]["Tag"]) == sorted(labels[t] for t in next(r for r in records if r["slug"] == "leith")["tags"])
    assert leith["filters"]["Region"] == ["Edinburgh"]


def test_descriptions_are_searchable_as_the_page_shows_them(indexed: dict[str, dict], records: list[dict]):
    described = [r for r in records if r.get("description")]
    assert described
    for r in described:
        content = indexed[f"/communities/{r['slug']}/"]["content"]
        words = [w for w in r["description"].split() if w.isalpha()][:12]
        assert all(w in content for w in words), (r["slug"], words)
        assert "**" not in content and "](" not in content, "Markdown is indexed as the reader sees it"


def test_only_the_main_content_of_a_community_is_indexed(indexed: dict[str, dict]):
    """Fails with Pagefind run over the whole built pages: they add review notes, labels and the filter values as words."""
    for url, page in indexed.items():
        if url.startswith("/communities/"):
            content = page["content"]
            assert "How success is measured" not in content and "Progress towards the target" not in content, url
            assert "Local co-ops we promote" not in content and "Not reviewed yet" not in content, url
            assert not page["anchors"], url
    leith = indexed["/communities/leith/"]["content"]
    assert "".join(indexed["/communities/leith/"]["filters"]["Tag"]) not in leith


def test_news_and_handbook_pages_are_indexed_and_listings_are_not(built_site: Path, indexed: dict[str, dict]):
    marked = [rel for rel, _ in search_records.marked_pages(built_site, skip=["pagefind"])]
    assert marked and all(rel.startswith(("blog/", "resources/")) for rel in marked), marked
    for rel in [*marked, *PAGES]:
        assert url_of(rel) in indexed, rel
    assert any(u.startswith("/blog/20") for u in indexed), "news articles"
    for rel in LISTINGS:
        assert "data-pagefind-body" not in (built_site / rel).read_text(encoding="utf-8"), rel
        assert url_of(rel) not in indexed, rel
    counts = [json.loads((b / "pagefind-entry.json").read_text(encoding="utf-8"))["languages"]["en"]["page_count"] for b in bundles(built_site)]
    communities = len(json.loads((built_site / "data" / "communities.json").read_text(encoding="utf-8")))
    assert sum(counts) == len(indexed) == communities + len(marked)


def test_handbook_pages_are_indexed_as_their_template_marks_them(indexed: dict[str, dict]):
    page = indexed[url_of(PAGES[0])]
    assert page["meta"]["title"] == "How to start a co-operative community"
    assert page["content"].startswith("How to start a co-operative community."), "the breadcrumb stays out (data-pagefind-ignore)"


def test_search_page_uses_the_generated_ui_and_reads_q(built_site: Path):
    page = (built_site / "search" / "index.html").read_text(encoding="utf-8")
    assert '/pagefind/pagefind-ui.js"' in page and '/pagefind/pagefind-ui.css"' in page
    assert "<noscript>" in page and "/communities/" in page
    script = (ROOT / "theme/static/js/search.js").read_text(encoding="utf-8")
    assert "triggerSearch" in script and "mergeIndex" in script


def test_the_search_page_merges_exactly_the_parts_that_were_built(built_site: Path):
    page = (built_site / "search" / "index.html").read_text(encoding="utf-8")
    config = json.loads(re.search(r'<script type="application/json" id="search-config">(.*?)</script>', page, re.S).group(1))
    assert config["bundlePath"] == "/pagefind/"
    built = ["/" + b.relative_to(built_site).as_posix() + "/" for b in bundles(built_site)[1:]]
    assert config["mergeIndex"] == built == [f"/pagefind/part-{n}/" for n in range(2, search.PARTS + 1)]
    for bundle in bundles(built_site):
        assert (bundle / "pagefind-entry.json").is_file() and list((bundle / "fragment").glob("*.pf_fragment")), bundle


def test_communities_are_dealt_into_parts_in_turn():
    assert search_records.split([], 2) == [[]]
    assert search_records.split(["a"], 2) == [["a"]]
    assert search_records.split(list("abcde"), 2) == [["a", "c", "e"], ["b", "d"]]


# --- the lean pages -----------------------------------------------------------------------

def test_a_lean_page_escapes_what_contributors_wrote():
    record = {"name": "<script>alert(1)</script> Co-op", "kind": "place", "summary": "A & B <b>bold</b>",
              "description": "Hello <img src=x onerror=alert(1)> **world** [link](javascript:alert(1))\n\n<script>x()</script>\n",
              "location": {"place": "Leith", "region": "Edinburgh", "country": "GB"}, "tags": ["food"],
              "commitments": [{"area": "action", "title": "Swap <i>", "measure": "m", "status": "planned",
                               "description": "# Heading\n\nText"}]}
    page = search_records.community_page(record, search_records.FilterLabels(tags={"food": "Food"}), "en")
    assert "<script>" not in page and "<img" not in page and "javascript:" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Co-op" in page and "A &amp; B &lt;b&gt;" in page
    assert "<strong>world</strong>" in page and "<h3>Heading</h3>" in page  # description headings sit below the page's own
    assert '<span data-pagefind-filter="Region">Edinburgh</span>' in page and '<body data-pagefind-body>' in page
    assert search_records.filters(record, search_records.FilterLabels(tags={"food": "Food"})) == {
        "Tag": ["Food"], "Region": ["Edinburgh"], "Kind": ["Place"], "Commitment area": ["Co-operative action"]}


def test_interest_communities_have_no_region():
    record = {"name": "Growers", "kind": "interest", "summary": "s", "commitments": [{"area": "enterprise", "title": "t"}]}
    assert search_records.filters(record, search_records.FilterLabels()) == {
        "Tag": [], "Region": [], "Kind": ["Community of interest"], "Commitment area": ["Co-operative enterprise"]}
    assert search_records.where(record) == ""


def test_index_output_feeds_pagefind_a_scratch_folder_and_mirrors_the_index_into_the_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    site = tmp_path / "site"
    for rel, body in {"resources/a/index.html": '<main data-pagefind-body>A</main>', "tags/index.html": "<main>T</main>",
                      "communities/x/index.html": '<main data-pagefind-body>old page</main>'}.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(body, encoding="utf-8")
    seen: list[tuple[list[str], Path]] = []

    def fake_command(source: Path, bundle: Path) -> list[str]:
        seen.append((sorted(p.relative_to(source).as_posix() for p in source.rglob("*.html")), bundle))
        assert site not in source.parents and source != site
        return [sys.executable, "-c", f"import pathlib; p = pathlib.Path({str(bundle)!r}); p.mkdir(parents=True, exist_ok=True); "
                "(p / 'pagefind-entry.json').write_text('{}')"]

    monkeypatch.setattr(search, "command", fake_command)
    stale = site / "pagefind" / "fragment" / "en_gone.pf_fragment"  # from the last index: a community since removed
    stale.parent.mkdir(parents=True)
    stale.write_text("words of a removed record")
    rec = {"name": "X", "kind": "interest", "summary": "s", "commitments": []}
    done = search.index_output(site, [("x", rec), ("y", rec), ("z", rec)], search_records.FilterLabels(), "en")
    assert [pages for pages, _ in seen] == [["communities/x/index.html", "communities/z/index.html", "resources/a/index.html"],
                                            ["communities/y/index.html"]]
    first, second = (bundle for _, bundle in seen)
    assert site not in first.parents and first.name == "pagefind" and second == first / "part-2"  # written aside, then mirrored
    assert sorted(p.relative_to(site).as_posix() for p in (site / "pagefind").rglob("*")
                  if p.is_file()) == ["pagefind/pagefind-entry.json", "pagefind/part-2/pagefind-entry.json"]
    assert done.communities == 3 and done.pages == ("resources/a/index.html",)


# --- running Pagefind ---------------------------------------------------------------------

def test_a_failing_pagefind_stops_the_build_with_its_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(search, "command", lambda source, bundle: [sys.executable, "-c", "import sys; print('boom: no HTML', file=sys.stderr); sys.exit(3)"])
    with pytest.raises(search.SearchIndexFailed, match="exit code 3: boom: no HTML"):
        search.run_pagefind([(tmp_path, tmp_path / "pagefind")])


def test_one_failing_part_fails_the_index_and_stops_the_other(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def fake_command(source: Path, bundle: Path) -> list[str]:
        if bundle.name == "part-2":
            return [sys.executable, "-c", "import sys; print('part two broke', file=sys.stderr); sys.exit(4)"]
        return [sys.executable, "-c", "import time; time.sleep(60)"]

    monkeypatch.setattr(search, "command", fake_command)
    started = time.monotonic()
    with pytest.raises(search.SearchIndexFailed, match="exit code 4: part two broke"):
        search.run_pagefind([(tmp_path, tmp_path / "pagefind"), (tmp_path, tmp_path / "pagefind" / "part-2")])
    assert time.monotonic() - started < 30, "the part still running was stopped, not waited for"


def test_a_pagefind_that_hangs_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(search, "command", lambda source, bundle: [sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(search, "TIMEOUT_SECONDS", 0.5)
    with pytest.raises(search.SearchIndexFailed, match="did not finish within"):
        search.run_pagefind([(tmp_path, tmp_path / "pagefind")])


def test_pagefind_missing_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(search, "command", lambda source, bundle: [str(tmp_path / "no-such-pagefind")])
    with pytest.raises(search.SearchIndexFailed, match=r"could not run Pagefind .*pip install"):
        search.run_pagefind([(tmp_path, tmp_path / "pagefind")])


def test_search_index_setting_turns_it_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ran = []
    monkeypatch.setattr(search, "index_built_site",
                        lambda site, lang=None, theme=None: ran.append((site, lang, theme)) or search.Indexed(0, (), 0.0))
    search.index_site(types.SimpleNamespace(settings={"COMMUNITIES_SEARCH_INDEX": False}, output_path=str(tmp_path)))
    assert ran == []
    search.index_site(types.SimpleNamespace(settings={"DEFAULT_LANG": "cy", "THEME": "my-theme"}, output_path=str(tmp_path)))
    assert ran == [(tmp_path, "cy", Path("my-theme"))]  # the site's own theme names its filters


def test_the_entry_point_indexes_a_built_site_as_the_build_does(built_site: Path, indexed: dict[str, dict], tmp_path: Path):
    copy = tmp_path / "site"
    shutil.copytree(built_site, copy, ignore=shutil.ignore_patterns("pagefind"))
    result = subprocess.run([sys.executable, "-m", "communities.search", str(copy)], capture_output=True, text=True,
                            cwd=ROOT, env={"PYTHONPATH": str(ROOT / "plugins"), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    again = {p["url"]: p for p in fragments(copy)}
    assert again.keys() == indexed.keys()
    assert all(again[u]["content"] == indexed[u]["content"] and again[u]["filters"] == indexed[u]["filters"] for u in again)


def test_the_entry_point_explains_a_folder_that_is_not_a_built_site(tmp_path: Path):
    result = subprocess.run([sys.executable, "-m", "communities.search", str(tmp_path)], capture_output=True, text=True,
                            cwd=ROOT, env={"PYTHONPATH": str(ROOT / "plugins"), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert result.returncode == 1
    assert "open data is missing" in result.stderr and "Traceback" not in result.stderr



def test_filter_labels_come_from_the_site_language_and_are_words_the_catalog_has():
    """The names are the directory's own filter labels, so a translated site's search speaks its language."""
    from babel.messages.pofile import read_po
    from communities import environment

    english = search_records.FilterLabels()
    words = [english.tag, english.region, english.kind, english.area, *english.kinds.values(), *english.areas.values()]
    with (ROOT / "theme/translations/messages.pot").open("rb") as handle:
        known = {m.id for m in read_po(handle)}
    assert set(words) <= known
    welsh = search_records.filter_labels(environment.translations_for(ROOT / "theme", "cy").gettext, {"food": "Bwyd"})
    assert welsh.tags == {"food": "Bwyd"}
    assert welsh.kind == environment.translations_for(ROOT / "theme", "cy").gettext("Kind")
