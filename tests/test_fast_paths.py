"""The fast paths of reading and checking give exactly what the plain ones give.

Reading 10,000 records quickly takes shortcuts: a lean walk over libyaml's nodes
instead of the strict constructors, cheap tests before difflib, a character scan of
the whole file, and worker processes. Each is checked here against the slow, obvious
way of doing the same thing, on inputs chosen to hit the edges.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import math
import multiprocessing
import os
import random
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from communities import cli, fakedata, records, validation
from communities.geo import distance_km
from communities.records import Trap
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "validate"
HOSTILE = ROOT / "tests" / "hostile"


@pytest.fixture(scope="module")
def ctx() -> validation.Context:
    context, problems = validation.Context.from_files(ROOT / "data/community.schema.json", ROOT / "data/tags.yaml", dt.date(2026, 11, 24))
    assert problems == []
    return context


# --- the loader's quick path --------------------------------------------------------------

def shape(value: Any) -> Any:
    """Data with its types spelt out, so that a Trap never passes for the str it equals."""
    if isinstance(value, dict):
        return ("map", [(shape(k), shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [shape(v) for v in value])
    if isinstance(value, Trap):
        return ("trap", str(value), shape(value.reads_as))
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def outcome(read: Any, text: str) -> Any:
    try:
        data, problems = read(text, "x.yaml")
    except Exception as exc:  # a crash must stay the same crash
        return ("raised", type(exc).__name__)
    return shape(data), problems


def strict(text: str, path: str) -> tuple[Any, list[Any]]:
    """parse() as it was: the depth check, then the strict constructors for every file."""
    deep = records._too_deep(text)
    if deep is not None:
        return records.parse(text, path)
    return records._strict_parse(text, path)


EDGES = [
    "name: Leith\nkind: place\n", "", "# only a comment\n", "- a\n- b\n", "just text\n",
    "country: NO\nx: yes\ny: off\nz: 19:30\nw: 0755\nv: 1_000\nu: 1:30.5\nt: .nan\ns: -.inf\nr: ~\nq: null\n",
    "a: true\nb: False\nc: 12\nd: -1.5\ne: +1\nf: .5\ng: 1.0e+3\nh: 0\ni: 00\nj: 089\nk: 0x1F\nl: 0o17\nm: 0b101\n",
    "joined: 2024-05-01\nbad: 2024-13-45\nstamp: 2024-05-01 10:00:00\n",
    "x: ! '2024-01-01'\n", "x: ! 12\n", "x: ! yes\n", "x: !!str 12\n", "x: !!int '12'\n", "x: !!int 12\n", "x: !!float 1\n",
    "x: !!binary aGk=\n", "x: !!set {a}\n", "x: !custom 1\n", "x: !<tag:yaml.org,2002:str> 1\n", "! {a: 1}\n", "x: ! [1]\n",
    "a: &x hello\nb: *x\n", "a: &x hello\n", "a: &x [1]\nb: *x\n", "&a a: 1\n", "a: &x {b: 1}\nc: *x\n",
    "a:\n  <<: {b: 1}\n", "'<<': 1\n", "x: <<\n", "x: =\n", "- =\n",
    "1: x\n", "yes: 1\n", "on: 1\n", "~: 1\n", "2024-01-01: x\n", "1.5: x\n", "1:30.5: x\n", "0755: x\n", "? [a]\n: 1\n", "? {a: 1}\n: 2\n",
    "name: A\nkind: place\nname: B\n", "a: 1\n---\nb: 2\n", "a: [1, 2\n", 'a: "\\u202e x"\n', "a: 'x\n\n  y'\n",
    "x: 0b_\n", "x: 0x_\n", "a: " + "[" * 60 + "]" * 60 + "\n",
    "".join(" " * i + f"k{i}:\n" for i in range(60)) + " " * 60 + "v\n",
]


def corpus() -> list[str]:
    texts = list(EDGES)
    for folder in (FIXTURES, HOSTILE / "rejected", ROOT / "data" / "communities"):
        for path in sorted(folder.iterdir()):
            text, _ = records.decode(path.read_bytes(), str(path), 10**7)
            if text is not None:
                texts.append(text)
    return texts


@pytest.mark.parametrize("text", corpus())
def test_the_quick_path_reads_as_the_strict_constructors_do(text: str) -> None:
    assert outcome(records.parse, text) == outcome(strict, text)


def test_plain_records_take_the_quick_path(root: Path) -> None:
    for path in sorted((root / "data" / "communities").iterdir())[:10]:
        text = path.read_text(encoding="utf-8")
        assert records._quick_parse(text) is not records._UNSURE, path.name


def test_a_quoted_value_with_the_empty_tag_is_still_refused(tmp_path: Path) -> None:
    # '!' makes libyaml resolve a quoted scalar as if it were plain: here a timestamp, which the loader refuses.
    data, problems = records.parse("joined: ! '2024-01-01'\n", "x.yaml")
    assert data is None and [(p.line, p.col, p.rule) for p in problems] == [(1, 9, "no-tags")]


_BITS = ["a", "b: ", "- ", "? ", ": ", "&x ", "*x ", "!!int ", "!!str ", "! ", "!x ", "<<: ", "=", "~", "yes", "NO", "0755", "1_0",
         "19:30", ".nan", "-.5", "2024-01-01", "1.5", "12", "'q'", '"q"', '"\\u202e"', "[", "]", "{", "}", ",", "\n", "\n  ", "\n    ",
         "|\n  x\n", "#c", "---\n", "%YAML 1.1\n", "\t", "\u202e", "é"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_BITS), max_size=30).map("".join))
def test_the_quick_path_agrees_on_yaml_like_text(text: str) -> None:
    assert outcome(records.parse, text) == outcome(strict, text)


# --- rules over single values ---------------------------------------------------------------

@pytest.mark.parametrize("value", ['"Leith\\u202e"', '"Lei\\u200bth"', '"a\\x07"', '"\\N"', '"\\e"', "Leith\u00ad", "Leith\u2066",
                                   "'one\n\n  two'", '"one\\ntwo"', "|\n  one\n  two", "plain", "café"])
def test_scanning_the_whole_file_first_finds_what_scanning_every_value_finds(tmp_path: Path, ctx: validation.Context, value: str) -> None:
    text = (FIXTURES / "testford.yaml").read_text(encoding="utf-8").replace("name: Co-operative Testford", f"name: {value}")
    text = text.replace("    title: Monthly clothes swap", f"    title: {value}" if not value.startswith("|") else "    title: x")
    data, problems = records.parse(text, "testford.yaml")
    assert problems == []
    assert validation.findings_for(data, ctx, text) == validation.findings_for(data, ctx)


def _url_ok_by_urlsplit(url: str, mailto_ok: bool) -> bool:
    if url != url.strip() or any(c.isspace() for c in url) or validation._CONTROL.search(url):
        return False
    if mailto_ok and url.startswith("mailto:"):
        return bool(validation._EMAIL.match(url[len("mailto:"):].split("?", 1)[0]))
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and "@" not in parts.netloc and bool(validation._HOST.match(host))


_URL_BITS = ["https://", "http://", "HTTPS://", "ftp://", "mailto:", "example", ".", "org", "xn--", "-", "a" * 64, "@", ":", ":80", "/",
             "?", "#", "[", "]", "::1", "é", " ", "%20", "\\", "\u3002", "\uff0e", "x@y.org"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_URL_BITS), min_size=1, max_size=8).map("".join), st.booleans())
def test_the_simple_url_shortcut_agrees_with_urlsplit(url: str, mailto_ok: bool) -> None:
    assert validation._url_ok(url, mailto_ok) == _url_ok_by_urlsplit(url, mailto_ok)


# --- near duplicates ---------------------------------------------------------------------------

def _near_duplicates_by_difflib(recs: list[records.RawRecord]) -> list[tuple[str, str]]:
    """The rule as first written: every pair in neighbouring cells, quick_ratio, ratio, then the distance."""
    cells: dict[tuple[int, int], list[Any]] = {}
    for rec in sorted(recs, key=lambda r: r.path):
        point = validation._coords(rec.data)
        name = rec.data.get("name")
        if point and isinstance(name, str) and rec.data.get("kind") == "place":
            cells.setdefault((int(point[0] // 0.05), int(point[1] // 0.08)), []).append((rec, point, validation._name_key(name)))
    found = []
    for (cy, cx), members in sorted(cells.items()):
        neighbours = [m for dy in (-1, 0, 1) for dx in (-1, 0, 1) for m in cells.get((cy + dy, cx + dx), [])]
        for rec, point, key in members:
            matcher = difflib.SequenceMatcher(None, "", key)
            for other, opoint, okey in neighbours:
                if other.path <= rec.path or key == okey or 2 * min(len(key), len(okey)) < 0.85 * (len(key) + len(okey)):
                    continue
                matcher.set_seq1(okey)
                if matcher.quick_ratio() < 0.85 or matcher.ratio() < 0.85:
                    continue
                if distance_km(point, opoint) <= validation.NEAR_DUPLICATE_KM:
                    found.append((other.path, rec.path))
    return found


def _crowded_records(seed: int, count: int) -> list[records.RawRecord]:
    """Similar names packed around a few points far north, where grid cells are narrower than 5 km."""
    rng = random.Random(seed)
    names = ["Leith Co-op", "Leith Coop", "Leiths Co-op", "Leith Co-ops", "Lerwick Co-op", "Lerwick Co-operative", "Scalloway Co-op",
             "Leith Walk Co-op", "LEITH CO-OP", "Léith Co-op", "Kirkwall Coop", "Kirkwal Coop", "Co-op", "Coop"]
    out = []
    for i in range(count):
        lat = rng.choice([55.95, 60.15, 60.4]) + rng.uniform(-0.1, 0.1)
        lon = rng.choice([-3.2, -1.15]) + rng.uniform(-0.15, 0.15)
        data = {"name": rng.choice(names) + rng.choice(["", "", " 2"]), "kind": rng.choice(["place", "place", "interest"]),
                "location": {"lat": round(lat, 4), "lon": round(lon, 4)}}
        out.append(records.RawRecord(f"data/r{i:04d}.yaml", f"r{i:04d}", data, f"name: {data['name']}\n"))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_near_duplicates_are_what_difflib_and_the_distance_say(seed: int) -> None:
    recs = _crowded_records(seed, 400)
    problems = validation._near_duplicates(recs)
    expected = _near_duplicates_by_difflib(recs)
    assert len(expected) > 50  # the set is crowded enough to test something
    assert [(p.path, p.message.split("(")[-1].split(")")[0]) for p in problems] == expected


# --- worker processes ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough records for workers, with problems of every kind among them."""
    out = tmp_path_factory.mktemp("records")
    written = fakedata.write(2 * validation.MIN_FILES_PER_PROCESS + 40, out, seed=3, today=dt.date(2026, 11, 24))
    first = written[0].read_text(encoding="utf-8")
    (out / "broken.yaml").write_text("name: [\n", encoding="utf-8")
    (out / "Bad Name.yaml").write_text(first, encoding="utf-8")  # a bad file name, and the same name as written[0]
    (out / "traps.yaml").write_text(first.replace("kind: place", "kind: place\npostcode: 0755"), encoding="utf-8")
    (out / "not-utf8.yaml").write_bytes(first.encode("utf-8") + b"\xff\n")
    written[1].write_text(written[1].read_text(encoding="utf-8").replace("joined:", "joined: 2031-01-01\nx_joined:", 1), encoding="utf-8")
    return out


def _same_outcome(one: validation.Report, other: validation.Report) -> None:
    assert other.problems == one.problems
    assert other.files == one.files
    assert [(r.path, r.slug, r.text, r.digest, shape(r.data)) for r in other.records] == [
        (r.path, r.slug, r.text, r.digest, shape(r.data)) for r in one.records]


def test_workers_give_the_same_problems_in_the_same_order(folder: Path, ctx: validation.Context, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = records.community_files(folder)
    alone = validation.validate_files(paths, ctx, workers=1)
    assert {p.rule for p in alone.problems} >= {"syntax", "filename", "unique-name", "yaml-1.1", "encoding", "date", "unknown-field"}
    pools = []
    real = multiprocessing.get_context
    monkeypatch.setattr(multiprocessing, "get_context", lambda method: pools.append(method) or real(method))
    _same_outcome(alone, validation.validate_files(paths, ctx, workers=2))
    quick = validation.validate_files(paths, ctx, workers=2, keep_records=False)
    assert pools == ["fork", "fork"]
    assert quick.problems == alone.problems and quick.records == []


def _die(bounds: tuple[int, int]) -> list[Any]:
    os._exit(3)


def test_a_worker_that_dies_is_an_error_not_a_hang(folder: Path, ctx: validation.Context, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validation, "_check_forked", _die)
    with pytest.raises(BrokenProcessPool):
        validation.validate_files(records.community_files(folder), ctx, workers=2)


def test_few_files_are_checked_in_process(tmp_path: Path, ctx: validation.Context, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.yaml").write_text((FIXTURES / "testford.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(multiprocessing, "get_context", lambda method: pytest.fail("started processes for one file"))
    assert validation.validate_files([tmp_path / "a.yaml"], ctx, workers=8).problems == []


def test_the_cache_written_without_records_gives_them_back(folder: Path, ctx: validation.Context, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """scripts/validate keeps no records, but the build that follows gets every one from its cache."""
    paths = records.community_files(folder)
    cache = tmp_path / "records.pickle"
    fresh = validation.validate_files(paths, ctx)
    first = validation.validate_files(paths, ctx, cache_path=cache, workers=2, keep_records=False)
    refused = {str(folder / "broken.yaml"), str(folder / "not-utf8.yaml")}  # never cached: read again, as before
    checked = []
    real_check = validation._check_raw
    monkeypatch.setattr(validation, "_check_raw", lambda path, *rest: checked.append(Path(path).name) or real_check(path, *rest))
    again = validation.validate_files(paths, ctx, cache_path=cache, workers=2, keep_records=True)
    assert sorted(checked) == sorted(Path(p).name for p in refused)
    assert first.problems == fresh.problems
    _same_outcome(fresh, again)


def test_scripts_validate_asks_for_the_configured_workers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    conf = tmp_path / "conf.py"
    conf.write_text("import runpy\n"
                    f"globals().update((k, v) for k, v in runpy.run_path({str(ROOT / 'pelican.conf.py')!r}).items() if k.isupper())\n"
                    "COMMUNITIES_WORKERS = 3\n", encoding="utf-8")
    seen = {}

    def spy(paths: Any, ctx: Any, max_bytes: int, **options: Any) -> validation.Report:
        seen.update(options)
        return validation.Report([], [], 0)

    monkeypatch.setattr(validation, "validate_files", spy)
    assert cli.validate_main([str(FIXTURES / "testford.yaml"), "--config", str(conf), "--today", "2026-11-24"]) == 0
    assert seen["workers"] == 3 and seen["keep_records"] is False


def test_problems_from_the_cache_keep_their_paths(tmp_path: Path, ctx: validation.Context) -> None:
    text = (FIXTURES / "testford.yaml").read_text(encoding="utf-8").replace("kind: place", "kind: plac")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    cache = tmp_path / "records.pickle"
    first = validation.validate_files([tmp_path / "a.yaml"], ctx, cache_path=cache)
    (tmp_path / "b.yaml").write_text(text.replace("Testford", "Otherford"), encoding="utf-8")
    second = validation.validate_files([tmp_path / "a.yaml", tmp_path / "b.yaml"], ctx, cache_path=cache)
    assert [dataclasses.replace(p, path="") for p in second.problems if p.path.endswith("a.yaml")] == [
        dataclasses.replace(p, path="") for p in first.problems]
    assert {Path(p.path).name for p in second.problems} == {"a.yaml", "b.yaml"}


@pytest.mark.parametrize("path", ["a/b.yaml", "b.yaml", "a//b.yaml", "a/b.yaml/", "a/.", "a/..", ".", "..", "a/.hidden", "a/b.", "a/b.c.yaml"])
def test_slug_and_file_name_are_what_pathlib_says(path: str) -> None:
    assert records.slug_of(path) == Path(path).stem
    assert records._file_name(path) == Path(path).name
