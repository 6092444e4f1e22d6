"""Quick rebuilds: taken only when nothing but some records' own pages changed, and then the site a full build makes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from communities import exports, incremental
from hypothesis import given
from hypothesis import strategies as st
from test_build import EDITS, _own_cache_config, tree

ROOT = Path(__file__).resolve().parents[1]
EPOCH = "1795000000"  # 2026-11-18: the sample records' review dates stay as they are between builds

# --- splicing a record's piece into a site-wide file ------------------------------------------

pieces = st.lists(st.text(st.characters(codec="utf-8"), max_size=8), max_size=12)


@given(old=pieces, new=pieces, joined=st.sampled_from([exports.ALL_JSON, exports.ALL_GEOJSON, exports.ALL_CSV]))
def test_splicing_new_pieces_into_a_file_is_joining_them_afresh(old: list[str], new: list[str], joined: exports.Joined) -> None:
    # A record keeps its place in the file (present or absent, as its listing key says); its piece may change.
    new = [(n or "x") if o else "" for o, n in zip(old, new + old, strict=False)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "all.json"
        path.write_bytes(joined.text(old).encode("utf-8"))
        lengths = [incremental.utf8_len(p) for p in old]
        assert incremental.expected_size(joined, lengths) == path.stat().st_size
        replaced = {i: p.encode("utf-8") for i, p in enumerate(new) if p}
        assert incremental.splice_file(path, joined, lengths, replaced) == (new != old)
        assert path.read_bytes() == joined.text(new).encode("utf-8")
        assert [p.name for p in Path(folder).iterdir()] == ["all.json"]


def test_splicing_copies_through_a_buffer_where_the_kernel_cannot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> int:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(incremental.os, "copy_file_range", refuse)
    path = tmp_path / "all.csv"
    path.write_text("head\nα,1\nβ,2\nγ,3\n", encoding="utf-8")
    joined = exports.Joined("head\n", "", "")
    assert incremental.splice_file(path, joined, [5, 5, 5], {1: "β,22\n".encode()})
    assert path.read_text(encoding="utf-8") == "head\nα,1\nβ,22\nγ,3\n"


def test_texts_are_found_wherever_they_are_and_replaced_in_file_order(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_bytes(b"<ul><li>one</li><li>two</li></ul><p><li>one</li></p>")
    (tmp_path / "b.xml").write_bytes(b"<entry>two</entry>")
    (tmp_path / "empty.html").write_bytes(b"")
    pairs = [(b"<li>two</li>", b"<li>2</li>"), (b"<li>one</li>", b"<li>uno</li>")]
    found = incremental.find_texts(tmp_path, ["a.html", "b.xml", "empty.html"], pairs)
    assert found is not None and list(found) == ["a.html"]
    for name, spans in found.items():
        assert incremental.replace_spans(tmp_path / name, spans)
    assert (tmp_path / "a.html").read_bytes() == b"<ul><li>uno</li><li>2</li></ul><p><li>uno</li></p>"
    assert not incremental.replace_spans(tmp_path / "b.xml", [])


def test_a_text_found_nowhere_or_overlapping_another_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_bytes(b"<li>one</li>")
    assert incremental.find_texts(tmp_path, ["a.html"], [(b"<li>one</li>", b"1"), (b"<li>two</li>", b"2")]) is None
    assert incremental.find_texts(tmp_path, ["a.html"], [(b"<li>one", b"1"), (b"one</li>", b"2")]) is None
    assert incremental.find_texts(tmp_path, ["gone.html"], [(b"<li>one</li>", b"1")]) is None


def test_a_feed_entry_is_found_by_its_community_and_replaced_by_the_edited_one() -> None:
    import dataclasses

    from communities import model

    def community(slug: str, joined: str, summary: str) -> model.Community:
        data = {"name": slug.title(), "kind": "interest", "summary": summary, "joined": joined, "tags": ["food"],
                "commitments": [{"area": "action", "title": "T", "measure": "M", "status": "planned"}]}
        return model.community_from_data(slug, f"{slug}.yaml", data)

    listed = [community("ash", "2026-01-02", "Ash & elm"), community("oak", "2026-01-01", "Oaks </summary> here")]
    feed = exports.atom_feed(listed, "https://example.org", "Site", "New").encode()
    entry = exports.atom_entry_in(feed, "oak", "https://example.org")
    assert entry is not None and entry.startswith(b"<entry>\n<title>Oak</title>") and entry.endswith(b"</entry>")
    assert exports.atom_entry_in(feed, "elm", "https://example.org") is None
    edited = dataclasses.replace(listed[1], summary="Oaks, edited")
    assert feed.replace(entry, exports.atom_entry(edited, "https://example.org").encode()) == \
        exports.atom_feed([listed[0], edited], "https://example.org", "Site", "New").encode()


def test_utf8_length_counts_bytes_not_characters() -> None:
    assert incremental.utf8_len("Port Rìgh") == len("Port Rìgh".encode()) == 10
    assert incremental.utf8_len("Leith") == 5


# --- whole builds --------------------------------------------------------------------------

# Edits that only the record's own page and the open data show.
OWN_PAGE_EDITS = {
    "description": ("We started in 2023", "We began, with a street party on Easter Road, in 2023 — à la Leith"),
    "website": ("website: https://leith.example.coop", "website: https://leith-co-op.example.org"),
    "e-mail": ("email: hello@leith.example.coop", "email: swaps@leith.example.coop"),
    "group": EDITS["group"],
    "older review": ("Eleven swaps; the August", "Eleven swaps in all; the August"),
    "co-op link": ("url: https://shore-bikes.example.coop", "url: https://shore-bike-workers.example.coop"),
    "partner": ("  - name: Leith Co-op Members' Committee", "  - name: Leith Co-op Members' Committee\n  - name: Leith Library"),
    "comment only": ("# yaml-language-server", "# Leith, edited by hand\n# yaml-language-server"),
}
# Edits to the words a card, library entry or feed entry shows, not to where or how often: a quick rebuild that
# replaces them where the last build wrote them.
REWORDED_EDITS = {
    "summary": EDITS["summary"],
    "latest review": ("Road works on Easter Road", "Road works on Easter Road and Leith Walk"),
    "target": EDITS["target"],
    "commitment title": ("title: Monthly clothes swap", "title: Monthly clothes & shoe swap <all welcome>"),
    "measure": ("measure: Households taking part", "measure: Households on the street taking part"),
    "summary again": ("Friends and neighbours in Leith", "Neighbours in Leith"),
}
# Edits to where a listing, count, chart, map or feed shows a record: the full build.
LISTED_EDITS = {name: EDITS[name] for name in ("name", "commitment status", "co-op added", "reviewed")}


class Site:
    """A copy of the sample records, built into one output folder with its own caches, as a contributor builds."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.data = tmp_path / "records"
        shutil.copytree(ROOT / "data/communities", self.data)
        (tmp_path / "kept").mkdir()
        self.conf = _own_cache_config(tmp_path / "kept")
        self.out = tmp_path / "out"
        self.colds = 0

    def build(self, output: Path | None = None, conf: Path | None = None, ok: bool = True, **env: str) -> str:
        result = subprocess.run([sys.executable, str(ROOT / "scripts/build"), "--output", str(output or self.out), "--communities",
                                 str(self.data), "--no-search", "--verbose", "--config", str(conf or self.conf)],
                                capture_output=True, text=True, cwd=ROOT, timeout=600,
                                env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH, **env})
        assert (result.returncode == 0) == ok, result.stdout + result.stderr
        return result.stdout + result.stderr

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.data / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def assert_as_full_build(self, what: str) -> None:
        """The output is byte for byte what a full build from nothing writes."""
        self.colds += 1
        folder = self.tmp / f"full{self.colds}"
        folder.mkdir()
        cold = folder / "out"
        conf = _own_cache_config(folder, COMMUNITIES_QUICK_REBUILD="False")
        conf.write_text(conf.read_text(encoding="utf-8") + "".join(line + "\n" for line in self.conf.read_text(encoding="utf-8").splitlines()
                                                                   if line.startswith(("PATH =", "PROJECT_ROOT ="))), encoding="utf-8")
        self.build(cold, conf)
        rebuilt, fresh = tree(self.out), tree(cold)
        assert sorted(rebuilt) == sorted(fresh), what
        assert [name for name in fresh if rebuilt[name] != fresh[name]] == [], what


def quick(log: str, changed: int) -> bool:
    return f"communities: quick rebuild: {changed} of " in log


def full(log: str) -> bool:
    return "communities: quick rebuild:" not in log and "communities: load and validate took" in log


def test_an_edit_only_its_own_page_shows_is_a_quick_rebuild_of_the_site_a_full_build_makes(tmp_path: Path) -> None:
    site = Site(tmp_path)
    assert not quick(site.build(), 0)  # nothing to compare with yet
    for what, (old, new) in OWN_PAGE_EDITS.items():
        site.edit("leith.yaml", old, new)
        log = site.build()
        assert quick(log, 1), what
        assert "communities: 1 pages rendered, 51 unchanged" in log, what
        site.assert_as_full_build(what)
    assert "Leith Library" in (site.out / "communities/leith/index.html").read_text(encoding="utf-8")
    assert "swaps@leith.example.coop" in (site.out / "data/communities.csv").read_text(encoding="utf-8")


def test_nothing_changed_is_a_quick_rebuild_that_writes_nothing(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.build()
    before = {p: p.stat().st_mtime_ns for p in site.out.rglob("*") if p.is_file() and "communities" in p.parts}
    assert quick(site.build(), 0)
    assert {p: p.stat().st_mtime_ns for p in before} == before


def test_several_records_edited_at_once_are_spliced_in_their_places(tmp_path: Path) -> None:
    import yaml

    site = Site(tmp_path)
    site.build()
    names = sorted(p.name for p in site.data.glob("*.yaml"))
    for name in (names[0], names[17], names[-1]):  # the first, a middle and the last piece of each site-wide file
        record = yaml.safe_load((site.data / name).read_text(encoding="utf-8"))
        record["description"] += "\n\nEdited: « le même », ü."
        (site.data / name).write_text(yaml.safe_dump(record, sort_keys=False, allow_unicode=True), encoding="utf-8")
    log = site.build()
    assert quick(log, 3), log
    site.assert_as_full_build("three records")


def test_an_edit_to_the_words_a_listing_shows_is_made_where_the_last_build_wrote_them(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.build()
    for what, (old, new) in REWORDED_EDITS.items():  # one record, again and again: each takes the last one's cards
        site.edit("leith.yaml", old, new)
        log = site.build()
        assert quick(log, 1) and "1 in words listings show" in log, what
        assert "communities: 1 pages rendered, 51 unchanged" in log, what
        site.assert_as_full_build(what)
        if what == "summary":
            assert "Friends and neighbours in Leith" in (site.out / "feeds/communities.atom.xml").read_text(encoding="utf-8")
            assert "Friends and neighbours in Leith" in (site.out / "tags/swaps/index.html").read_text(encoding="utf-8")
    library = (site.out / "commitments/index.html").read_text(encoding="utf-8")
    assert "Monthly clothes &amp; shoe swap &lt;all welcome&gt;" in library and "Leith Walk" in library
    site.edit("leith.yaml", *LISTED_EDITS["name"])  # the full build after them makes the same site as one from nothing
    assert full(site.build())
    site.assert_as_full_build("a full build after rewordings")


def test_words_not_where_the_last_build_wrote_them_take_the_full_build(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.build()
    shutil.rmtree(tmp_path / "kept/cache/fragments")  # the cards the last build wrote are not known
    site.edit("leith.yaml", *REWORDED_EDITS["summary"])
    assert full(site.build())
    site.assert_as_full_build("no cards kept")
    directory = site.out / "communities/index.html"
    directory.write_text(directory.read_text(encoding="utf-8").replace("Friends and neighbours", "Friends, neighbours"),
                         encoding="utf-8")  # edited by hand: the card is not as the last build wrote it
    site.edit("leith.yaml", *REWORDED_EDITS["summary again"])
    assert full(site.build())
    site.assert_as_full_build("card edited by hand")


@pytest.mark.parametrize("what", LISTED_EDITS)
def test_an_edit_a_listing_shows_takes_the_full_build(tmp_path: Path, what: str) -> None:
    site = Site(tmp_path)
    site.build()
    site.edit("leith.yaml", *LISTED_EDITS[what])
    log = site.build()
    assert full(log)
    site.assert_as_full_build(what)
    # The full build's snapshot (most entries kept from the last one) serves the next quick rebuild.
    site.edit("aberteifi.yaml", "  Aberteifi Gydweithredol began", "  Aberteifi Gydweithredol, edited, began")
    assert quick(site.build(), 1)
    site.assert_as_full_build(what + ", then a quick rebuild")


def test_records_added_or_removed_take_the_full_build(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.build()
    (site.data / "leith.yaml").unlink()
    assert full(site.build())
    assert not (site.out / "communities/leith/index.html").exists()
    shutil.copy(ROOT / "data/communities/leith.yaml", site.data / "leith.yaml")
    assert full(site.build())
    site.assert_as_full_build("added again")


def test_another_day_or_a_changed_setting_takes_the_full_build(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.build()
    assert quick(site.build(), 0)
    assert full(site.build(SOURCE_DATE_EPOCH=str(int(EPOCH) + 86400)))  # a review may fall due
    assert quick(site.build(SOURCE_DATE_EPOCH=str(int(EPOCH) + 86400)), 0)
    site.conf.write_text(site.conf.read_text(encoding="utf-8") + 'SITE_DESCRIPTION = "Described afresh."\n', encoding="utf-8")
    assert full(site.build(SOURCE_DATE_EPOCH=str(int(EPOCH) + 86400)))


def test_output_changed_by_hand_takes_the_full_build_which_mends_it(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.build()
    with (site.out / "data/communities.json").open("ab") as handle:
        handle.write(b" ")
    (site.out / "communities/leith/index.html").unlink()
    site.edit("leith.yaml", *OWN_PAGE_EDITS["description"])
    assert full(site.build())
    site.assert_as_full_build("mended")


def test_a_changed_record_with_an_error_is_reported_as_the_full_build_reports_it(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.build()
    site.edit("leith.yaml", "  members: 12", "  members: twelve")
    log = site.build(ok=False)
    assert full(log) and "leith.yaml" in log and "members" in log
    site.edit("leith.yaml", "  members: twelve", "  members: 12")
    assert quick(site.build(), 0)  # the failed build wrote nothing: the last snapshot still holds
    site.assert_as_full_build("mended record")


def test_a_build_that_fails_while_writing_leaves_no_snapshot(tmp_path: Path) -> None:
    """Half-written output is not what the last snapshot says: the next build must be a full one."""
    site = Site(tmp_path)
    site.build()
    snapshots = list((tmp_path / "kept" / "cache").glob("snapshot-*.pickle"))
    assert len(snapshots) == 1
    site.edit("leith.yaml", *LISTED_EDITS["name"])
    blocked = site.out / "data/communities.csv"
    blocked.unlink()
    blocked.mkdir()  # the listings are written, then the open data cannot be
    site.build(ok=False)
    assert not snapshots[0].exists()
    blocked.rmdir()
    site.edit("leith.yaml", *reversed(LISTED_EDITS["name"]))  # the records are as the last snapshot said again
    assert full(site.build())
    assert snapshots[0].exists()
    site.assert_as_full_build("after a failed build")


def test_news_whose_summary_links_to_other_content_still_allows_a_quick_rebuild(tmp_path: Path) -> None:
    """Pelican mends {filename} links after every generator has read its content: the snapshot compares the news as read."""
    site = Site(tmp_path)
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    post = content / "blog" / "first-year-of-reviews.md"
    post.write_text(post.read_text(encoding="utf-8").replace(
        "Summary: The first round", "Summary: [How to start]({filename}/pages/how-to-start.md). The first round"), encoding="utf-8")
    site.conf.write_text(site.conf.read_text(encoding="utf-8") + f"PATH = {str(content)!r}\nPROJECT_ROOT = {str(ROOT)!r}\n",
                         encoding="utf-8")
    site.build()
    site.edit("leith.yaml", *OWN_PAGE_EDITS["description"])
    assert quick(site.build(), 1)
    site.assert_as_full_build("news with a link")
    feed = (site.out / "feeds" / "all.atom.xml").read_text(encoding="utf-8")
    assert "{filename}" not in feed and "/resources/how-to-start/" in feed  # the build never reads a summary too early


def test_a_record_another_run_read_since_the_last_build_is_still_seen_as_changed(tmp_path: Path) -> None:
    """scripts/validate, a failed build and a build into another folder all note the records' stamps and digests.

    What they noted is the file now, not what the last build here was made from.
    """
    site = Site(tmp_path)
    site.build()
    site.edit("sneinton.yaml", "  email: ", "  email: broken ")
    time.sleep(2.5)  # the stamps a run notes now are trusted (older than validation.Stamps.RACY_SECONDS)
    site.build(ok=False)
    assert "sneinton.yaml" in site.build(ok=False)  # still an error, however often one builds
    site.edit("sneinton.yaml", "  email: broken ", "  email: ")
    site.edit("leith.yaml", *REWORDED_EDITS["summary"])
    time.sleep(2.5)
    result = subprocess.run([sys.executable, str(ROOT / "scripts/validate"), "--config", str(site.conf), str(site.data)],
                            capture_output=True, text=True, cwd=ROOT, timeout=600, env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    assert result.returncode == 0, result.stdout + result.stderr
    site.build(tmp_path / "elsewhere")
    log = site.build()
    # Leith, still seen as changed (the full build, as the build elsewhere kept only its own cards in the shared cache).
    assert not quick(log, 0), log
    site.assert_as_full_build("edited, then read by other runs")


def test_a_community_page_deleted_by_hand_is_made_again(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.build()
    (site.out / "communities/brixton/index.html").unlink()  # its folder stays
    assert full(site.build())
    site.assert_as_full_build("page deleted")


def test_a_removed_record_leaves_no_empty_folder(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.build()
    (site.data / "wrexham.yaml").unlink()
    site.build()
    assert not (site.out / "communities/wrexham").exists()
    site.assert_as_full_build("removed")
