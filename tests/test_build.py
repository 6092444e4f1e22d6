"""Whole builds: reproducible, failing clearly on bad records, and translatable."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import build_site

ROOT = Path(__file__).resolve().parents[1]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, except Pagefind's index: its filter files and their hashed names change from run to run
    whatever the input (upstream: Pagefind/pagefind#638), so tests/test_search.py checks the index by what it finds."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).parts[0] != "pagefind"}


def test_two_builds_are_byte_identical(built_site: Path, tmp_path: Path) -> None:
    second = tmp_path / "again"
    result = build_site(second)
    assert result.returncode == 0, result.stderr
    first, again = tree(built_site), tree(second)
    assert sorted(first) == sorted(again)
    different = [name for name in first if first[name] != again[name]]
    assert different == []


def test_an_invalid_record_fails_the_build_with_the_validators_message(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data/communities", data)
    (data / "leith.yaml").write_text((data / "leith.yaml").read_text(encoding="utf-8").replace("kind: place", "kind: plaice"), encoding="utf-8")
    result = build_site(tmp_path / "out", data, "--no-search")
    assert result.returncode == 1
    assert "leith.yaml:" in result.stdout and "kind: must be one of place, interest; got 'plaice'" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_an_unplaceable_place_fails_the_build_naming_the_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    text = (ROOT / "tests/fixtures/validate/testford.yaml").read_text(encoding="utf-8")
    text = text.replace("  lat: 52.5\n  lon: -1.5\n", "").replace("Testford", "Nowhereville-on-Sea")
    (data / "nowhere.yaml").write_text(text, encoding="utf-8")
    result = build_site(tmp_path / "out", data, "--no-search")
    assert result.returncode == 1
    assert "nowhere.yaml:" in result.stdout and "Nowhereville-on-Sea" in result.stdout
    assert "scripts/geocode" in result.stdout


def test_a_welsh_site_is_a_catalog_and_a_setting_away(tmp_path: Path) -> None:
    env = {**os.environ, "SITE_LANG": "cy"}
    result = subprocess.run([sys.executable, "scripts/build", "--output", str(tmp_path), "--no-search"],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    home = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert '<html lang="cy">' in home and ">Cymunedau<" in home and "Tri cham" in home


def test_removed_records_lose_their_pages_on_rebuild(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data/communities", data)
    out = tmp_path / "out"
    assert build_site(out, data, "--no-search").returncode == 0
    assert (out / "communities/leith/index.html").exists()
    (data / "leith.yaml").unlink()
    result = build_site(out, data, "--no-search")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (out / "communities/leith/index.html").exists()


def test_a_rebuild_after_an_edit_updates_every_page_that_shows_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data/communities", data)
    out = tmp_path / "out"
    assert build_site(out, data, "--no-search").returncode == 0
    untouched = (out / "communities/frome/index.html").stat().st_mtime_ns
    path = data / "leith.yaml"
    text = path.read_text(encoding="utf-8")
    summary = next(line for line in text.splitlines() if line.startswith("summary:"))
    path.write_text(text.replace(summary, "summary: Edited summary for the rebuild test."), encoding="utf-8")
    assert build_site(out, data, "--no-search").returncode == 0
    for page in ("communities/leith/index.html", "communities/index.html", "tags/food/index.html", "data/communities/leith.json",
                 "data/communities.json", "data/communities.csv"):
        assert "Edited summary for the rebuild test." in (out / page).read_text(encoding="utf-8"), page
    assert (out / "communities/frome/index.html").stat().st_mtime_ns == untouched


def test_an_edit_remakes_only_the_listing_pages_that_show_the_record(tmp_path: Path) -> None:
    import re

    import yaml

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data/communities", data)
    out = tmp_path / "out"
    assert build_site(out, data, "--no-search").returncode == 0
    path = data / "leith.yaml"
    text = path.read_text(encoding="utf-8")
    # The name: listings sort by it, so this is the full build (a quick rebuild rewords a card in place: test_incremental).
    name = next(line for line in text.splitlines() if line.startswith("name:"))
    path.write_text(text.replace(name, "name: Leith, edited again for the listing test"), encoding="utf-8")
    result = build_site(out, data, "--no-search", "--verbose")
    assert result.returncode == 0
    _rendered, unchanged = map(int, re.search(r"(\d+) listing pages rendered, (\d+) unchanged", result.stderr).groups())
    # Leith's card and library entries are made again; every other record's are kept from the last build.
    assert re.search(r"communities: 2 fragments rendered, 102 kept", result.stderr), result.stderr
    tags = len(list((out / "tags").glob("*/index.html")))
    regions = len(list((out / "regions").glob("*/index.html")))
    leith_tags = len(yaml.safe_load(path.read_text(encoding="utf-8"))["tags"])
    # Every tag page and region page that does not list Leith is left alone.
    assert unchanged == (tags - leith_tags) + (regions - 1)
    for slug in yaml.safe_load(path.read_text(encoding="utf-8"))["tags"]:
        assert "Leith, edited again for the listing test" in (out / "tags" / slug / "index.html").read_text(encoding="utf-8")


def _own_cache_config(tmp_path: Path, **settings: str) -> Path:
    """The project's settings with caches in tmp_path/cache, and any `settings` given (as Python source)."""
    conf = tmp_path / "site.conf.py"
    conf.write_text(f"exec(open({str(ROOT / 'pelican.conf.py')!r}).read().replace('__file__', {repr(str(ROOT / 'pelican.conf.py'))!r}))\n"
                    f"COMMUNITIES_CACHE_DIR = {str(tmp_path / 'cache')!r}\n"
                    + "".join(f"{name} = {value}\n" for name, value in settings.items()), encoding="utf-8")
    return conf


def _build_edit_build(out: Path, conf: Path, edit: Callable[[], None]) -> None:
    """Build, make one change, build again: what a contributor's second build after an edit sees."""
    assert build_site(out, None, "--no-search", "--config", str(conf)).returncode == 0
    edit()
    result = build_site(out, None, "--no-search", "--config", str(conf))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_rebuild_with_nothing_to_render_keeps_the_markdown_cache(tmp_path: Path) -> None:
    conf = _own_cache_config(tmp_path)
    out = tmp_path / "out"
    assert build_site(out, None, "--no-search", "--config", str(conf)).returncode == 0
    from communities import files, rendering

    cache = tmp_path / "cache" / "markdown"
    first = files.ShardedStore(cache, rendering.cache_version()).load()
    assert len(first) >= 52  # every description (and any commitment descriptions)
    assert build_site(out, None, "--no-search", "--config", str(conf)).returncode == 0
    # Nothing was rendered the second time, yet every record's Markdown is still cached for the next template change.
    assert files.ShardedStore(cache, rendering.cache_version()).load() == first


def test_the_number_of_workers_does_not_make_pages_stale(tmp_path: Path) -> None:
    import re

    conf = _own_cache_config(tmp_path, COMMUNITIES_QUICK_REBUILD="False")  # the full build's page keys
    out = tmp_path / "out"
    assert build_site(out, None, "--no-search", "--config", str(conf)).returncode == 0
    result = subprocess.run([sys.executable, str(ROOT / "scripts/build"), "--output", str(out), "--no-search", "--config", str(conf),
                             "--verbose"], capture_output=True, text=True, cwd=ROOT, timeout=600,
                            env={**os.environ, "COMMUNITIES_WORKERS": "1"})
    assert result.returncode == 0, result.stderr
    assert re.search(r"communities: 0 pages rendered, 52 unchanged", result.stderr), result.stderr


def test_pages_rendered_by_worker_processes_are_the_pages_one_process_renders(tmp_path: Path) -> None:
    """Enough records for the forked workers (which render while the listings are written) to take part."""
    from communities import fakedata

    data = tmp_path / "records"
    fakedata.write(260, data, seed=11, today=dt.date(2026, 11, 1))
    trees = []
    for workers in ("2", "1"):
        (tmp_path / f"w{workers}").mkdir()
        conf = _own_cache_config(tmp_path / f"w{workers}")
        out = tmp_path / f"out{workers}"
        result = subprocess.run([sys.executable, str(ROOT / "scripts/build"), "--output", str(out), "--communities", str(data),
                                 "--no-search", "--config", str(conf), "--verbose"], capture_output=True, text=True, cwd=ROOT,
                                timeout=600, env={**os.environ, "COMMUNITIES_WORKERS": workers, "SOURCE_DATE_EPOCH": "1795000000"})
        assert result.returncode == 0, result.stdout + result.stderr
        assert "communities: 260 pages rendered, 0 unchanged" in result.stderr
        trees.append(tree(out))
    assert trees[0] == trees[1]
    assert len([p for p in trees[0] if p.startswith("communities/") and p.endswith("/index.html")]) == 261


def test_pelicans_content_cache_lives_with_ours_and_follows_edits_to_content(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    conf = _own_cache_config(tmp_path)
    conf.write_text(conf.read_text(encoding="utf-8") + f"PATH = {str(content)!r}\nPROJECT_ROOT = {str(ROOT)!r}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert build_site(out, None, "--no-search", "--config", str(conf)).returncode == 0
    assert list((tmp_path / "cache" / "pelican").iterdir())  # one folder holds every cache: deleting it is a cold build
    post = next(p for p in sorted(content.rglob("*.md")) if "Date:" in p.read_text(encoding="utf-8"))
    text = post.read_text(encoding="utf-8")
    title = next(line for line in text.splitlines() if line.startswith("Title:"))
    post.write_text(text.replace(title, "Title: A title edited after the first build"), encoding="utf-8")
    result = build_site(out, None, "--no-search", "--config", str(conf))
    assert result.returncode == 0, result.stderr
    assert "A title edited after the first build" in (out / "blog" / "index.html").read_text(encoding="utf-8")


def test_a_changed_markdown_setting_is_not_served_from_pelicans_content_cache(tmp_path: Path) -> None:
    """Pelican's cache checks only each file's time; its folder is named by the settings, so a new MARKDOWN starts afresh."""
    conf = _own_cache_config(tmp_path)
    out = tmp_path / "out"
    assert build_site(out, None, "--no-search", "--config", str(conf)).returncode == 0
    assert "headerlink" not in (out / "resources" / "about" / "index.html").read_text(encoding="utf-8")
    conf.write_text(conf.read_text(encoding="utf-8") + 'MARKDOWN["extension_configs"]["markdown.extensions.toc"] = {"permalink": True}\n',
                    encoding="utf-8")
    assert build_site(out, None, "--no-search", "--config", str(conf)).returncode == 0
    assert "headerlink" in (out / "resources" / "about" / "index.html").read_text(encoding="utf-8")
    assert len(list((tmp_path / "cache" / "pelican").iterdir())) == 1  # the folder the old settings made is gone


def _take_all_turns(turns) -> list[int]:
    taken: list[int] = []
    while (turn := turns.take()) is not None:
        taken.extend(turn)
    return taken


def _take_forked_turns() -> list[int]:
    from communities import generator

    return _take_all_turns(generator._FORKED["turns"])


def test_pages_are_dealt_in_turns_each_taken_once_by_whichever_process_is_free() -> None:
    import multiprocessing

    from communities import generator

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork here: pages are rendered in one process")
    context = multiprocessing.get_context("fork")
    turns = generator._Turns(1234, context)
    generator._FORKED["turns"] = turns  # the workers inherit it when forked
    try:
        with context.Pool(2) as pool:
            workers = [pool.apply_async(_take_forked_turns) for _ in range(2)]
            here = _take_all_turns(turns)
            taken = here + [i for worker in workers for i in worker.get()]
    finally:
        generator._FORKED.clear()
    assert sorted(taken) == list(range(1234))


# Edits a contributor might make, each touching a different part of what the site shows.
EDITS = {
    "description": ("We started in 2023", "We began, with a street party, in 2023"),
    "summary": ("summary: Neighbours in Leith", "summary: Friends and neighbours in Leith"),
    "name": ("name: Co-operative Leith", "name: Co-operative Leith and Portobello"),
    "commitment status": ("    status: paused\n    reviews:", "    status: dropped\n    reviews:"),
    "new review": ("        note: Road works on Easter Road mean no closure is possible this year.\n",
                   "        note: Road works on Easter Road mean no closure is possible this year.\n"
                   "      - date: 2026-06-01\n        value: 40\n        status: in-progress\n        note: Back on, half the street came.\n"),
    "target": ("target: {value: 80, unit: households}", "target: {value: 90, unit: households}"),
    "tags": ("tags: [food, swaps, neighbours]", "tags: [food, swaps]"),
    "joined": ("joined: 2023-05-02", "joined: 2021-05-02"),
    "reviewed": ("last_reviewed: 2025-06-01", "last_reviewed: 2026-06-01"),
    "point": ("  lat: 55.9756\n  lon: -3.1726", "  lat: 55.9656\n  lon: -3.1526"),
    "region": ("  region: Edinburgh", "  region: Lothian"),
    "co-op added": ("    sector: housing\n", "    sector: housing\n  - name: Portobello Bakers\n    sector: food\n"),
    "group": ("  members: 12", "  members: 14"),
}


def test_a_rebuild_after_any_edit_is_the_site_a_cold_build_makes(tmp_path: Path) -> None:
    """Whatever a contributor edits, the pages kept from the last build are exactly what a build from nothing would write."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data/communities", data)
    (tmp_path / "kept").mkdir()
    kept_conf, out = _own_cache_config(tmp_path / "kept"), tmp_path / "out"
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1795000000"}

    def build(output: Path, conf: Path) -> None:
        result = subprocess.run([sys.executable, str(ROOT / "scripts/build"), "--output", str(output), "--communities", str(data),
                                 "--no-search", "--config", str(conf)], capture_output=True, text=True, cwd=ROOT, timeout=600, env=env)
        assert result.returncode == 0, result.stdout + result.stderr

    build(out, kept_conf)
    path = data / "leith.yaml"
    for n, (what, (old, new)) in enumerate(EDITS.items()):
        text = path.read_text(encoding="utf-8")
        assert old in text, what
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        build(out, kept_conf)
        (tmp_path / f"cold{n}").mkdir()
        cold = tmp_path / f"cold{n}" / "out"
        build(cold, _own_cache_config(tmp_path / f"cold{n}"))
        rebuilt, fresh = tree(out), tree(cold)
        assert sorted(rebuilt) == sorted(fresh), what
        assert [name for name in fresh if rebuilt[name] != fresh[name]] == [], what


def test_an_edited_tag_description_reaches_every_page_that_shows_it(tmp_path: Path) -> None:
    tags = tmp_path / "tags.yaml"
    shutil.copy(ROOT / "data/tags.yaml", tags)
    out = tmp_path / "out"
    _build_edit_build(out, _own_cache_config(tmp_path, COMMUNITIES_TAGS=repr(str(tags))), lambda: tags.write_text(
        tags.read_text(encoding="utf-8").replace("Food co-ops, community growing", "Food co-ops, allotments, community growing"),
        encoding="utf-8"))
    for page in ("tags/index.html", "tags/food/index.html", "data/tags.json"):
        assert "allotments" in (out / page).read_text(encoding="utf-8"), page


def test_an_edited_template_reaches_every_kept_card_and_page(tmp_path: Path) -> None:
    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    macros = theme / "templates" / "_macros.html"
    out = tmp_path / "out"
    _build_edit_build(out, _own_cache_config(tmp_path, THEME=repr(str(theme))), lambda: macros.write_text(
        macros.read_text(encoding="utf-8").replace('<li class="card" ', '<li class="card edited" '), encoding="utf-8"))
    directory = (out / "communities" / "index.html").read_text(encoding="utf-8")
    assert directory.count('<li class="card edited" ') == 52 and '<li class="card" ' not in directory
    assert '<li class="card edited" ' in (out / "tags" / "food" / "index.html").read_text(encoding="utf-8")


def test_an_edited_site_setting_reaches_every_kept_page(tmp_path: Path) -> None:
    """Any plain setting the theme may show (here the site's description, in every page's head) remakes kept pages."""
    conf = _own_cache_config(tmp_path)
    out = tmp_path / "out"
    _build_edit_build(out, conf, lambda: conf.write_text(
        conf.read_text(encoding="utf-8") + 'SITE_DESCRIPTION = "Co-ops near you, described afresh."\n', encoding="utf-8"))
    for page in ("communities/index.html", "regions/index.html", "stats/index.html", "commitments/index.html"):
        assert "Co-ops near you, described afresh." in (out / page).read_text(encoding="utf-8"), page


def _mutate(path: Path, kind: str, rng) -> None:
    """One edit a contributor might make to a record: a field changed, or the record removed or copied."""
    import yaml

    d = yaml.safe_load(path.read_text(encoding="utf-8"))
    if kind == "remove":
        path.unlink()
        return
    if kind == "copy":
        path, d["name"] = path.with_name(path.stem + "-two.yaml"), d["name"] + " Two"
    elif kind == "summary":
        d["summary"] = d["summary"][:150] + f" ({rng.randint(0, 999)})"
    elif kind == "description":  # only its own page and the open data show it: a quick rebuild (incremental.py)
        d["description"] += f"\n\nEdited, step {rng.randint(0, 999)}: « à la mode »."
    elif kind == "status":
        now = d["commitments"][0]["status"]
        d["commitments"][0]["status"] = rng.choice([s for s in ("planned", "in-progress", "achieved", "paused", "dropped") if s != now])
    elif kind == "review":
        d["commitments"][-1].setdefault("reviews", []).append({"date": "2026-10-01", "note": f"Note {rng.randint(0, 999)}."})
    elif kind == "co-op":
        d.setdefault("cooperatives", []).append({"name": "Corner Shop Co-op", "sector": "food"})
    path.write_text(yaml.safe_dump(d, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_rebuilds_after_edits_to_random_records_are_the_sites_cold_builds_make(tmp_path: Path) -> None:
    """Many records, worker processes, records removed and added: one edit a step, so no other edit hides a stale page."""
    import random

    from communities import fakedata

    data = tmp_path / "records"
    fakedata.write(150, data, seed=7, today=dt.date(2026, 11, 1))
    env = {**os.environ, "COMMUNITIES_WORKERS": "2"}

    def build(output: Path, name: str) -> None:
        (tmp_path / name).mkdir(exist_ok=True)
        conf = _own_cache_config(tmp_path / name)
        result = subprocess.run([sys.executable, str(ROOT / "scripts/build"), "--output", str(output), "--communities", str(data),
                                 "--no-search", "--config", str(conf)], capture_output=True, text=True, cwd=ROOT, timeout=600, env=env)
        assert result.returncode == 0, result.stdout + result.stderr

    rng = random.Random(4)
    build(tmp_path / "out", "kept")
    for step, kind in enumerate(("remove", "copy", "description", "co-op", "status", "review", "summary", "description")):
        _mutate(rng.choice(sorted(data.glob("*.yaml"))), kind, rng)
        build(tmp_path / "out", "kept")
        build(tmp_path / f"out-cold{step}", f"cold{step}")
        rebuilt, fresh = tree(tmp_path / "out"), tree(tmp_path / f"out-cold{step}")
        assert sorted(set(rebuilt) ^ set(fresh)) == [], kind
        assert [name for name in fresh if rebuilt[name] != fresh[name]] == [], kind


def test_output_files_deleted_by_hand_are_made_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    gone = ["communities/leith/index.html", "data/communities/leith.json", "tags/food/index.html", "communities/index.html"]
    before: dict[str, bytes] = {}

    def delete() -> None:
        before.update({name: (out / name).read_bytes() for name in gone})
        for name in gone:
            (out / name).unlink()

    _build_edit_build(out, _own_cache_config(tmp_path), delete)
    assert {name: (out / name).read_bytes() for name in gone} == before


def test_a_build_that_stops_while_writing_leaves_no_page_taken_for_unchanged(tmp_path: Path) -> None:
    """Pages written before the failure are newer than the page fingerprints say: the next build must not keep them."""
    data = tmp_path / "records"
    shutil.copytree(ROOT / "data/communities", data)
    conf, out = _own_cache_config(tmp_path, COMMUNITIES_QUICK_REBUILD="False"), tmp_path / "out"
    leith = data / "leith.yaml"
    original = leith.read_text(encoding="utf-8")

    def build(output: Path, config: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(ROOT / "scripts/build"), "--output", str(output), "--communities", str(data),
                               "--no-search", "--config", str(config)], capture_output=True, text=True, cwd=ROOT, timeout=600)

    assert build(out, conf).returncode == 0
    leith.write_text(original.replace("summary: Neighbours in Leith", "summary: Friends in Leith"), encoding="utf-8")
    blocked = out / "data/communities.csv"
    blocked.unlink()
    blocked.mkdir()  # the listings are written with the new summary, then the open data cannot be
    assert build(out, conf).returncode != 0
    assert "Friends in Leith" in (out / "communities/index.html").read_text(encoding="utf-8")
    blocked.rmdir()
    leith.write_text(original, encoding="utf-8")  # back to what the last finished build saw
    assert build(out, conf).returncode == 0
    (tmp_path / "cold").mkdir()
    cold = tmp_path / "cold" / "out"
    assert build(cold, _own_cache_config(tmp_path / "cold")).returncode == 0
    rebuilt, fresh = tree(out), tree(cold)
    assert [name for name in fresh if rebuilt.get(name) != fresh[name]] == []
