"""Faults: nothing lost between records and outputs, a full disk, an output folder that
cannot be written, an interrupted build or geocode run, and a geocoder that answers
nonsense. Each ends with a clear message and leaves the records and caches intact.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from communities import build_cli, exports, files, geocoding, rendering
from conftest import ROOT, build_site
from hostile.site import isolated_config
from test_geocoding import FakeGeocoder, make_conf, record

DATA = ROOT / "data" / "communities"


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _small_data(folder: Path, n: int = 6) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(DATA.glob("*.yaml"))[:n]:
        shutil.copy(path, folder / path.name)
    return folder


def _build_in_process(tmp: Path, communities: Path, output: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    conf = isolated_config(tmp)
    code = build_cli.build_main(["--communities", str(communities), "--output", str(output), "--config", str(conf), "--no-search"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# --- nothing lost -------------------------------------------------------------------------

def test_records_in_equal_pages_out_csv_rows_and_map_features(built_site: Path) -> None:
    records = sorted(p.stem for p in DATA.glob("*.yaml"))
    pages = sorted(p.parent.name for p in (built_site / "communities").glob("*/index.html"))
    with (built_site / "data" / "communities.csv").open(encoding="utf-8", newline="") as handle:
        rows = sorted(row["slug"] for row in csv.DictReader(handle))
    assert records == pages == rows
    places = {r["slug"] for r in json.loads((built_site / "data" / "communities.json").read_text("utf-8")) if r["kind"] == "place"}
    features = {f["properties"]["slug"] for f in json.loads((built_site / "data" / "communities.geojson").read_text("utf-8"))["features"]
                if f["properties"]["kind"] == "place"}
    assert places == features and places


def test_a_lost_csv_row_fails_the_build_saying_what_did_not_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    real, lost = exports.csv_line, []

    def lose_one(community: Any, site_url: str = "") -> str:
        if not lost:
            lost.append(community.slug)
            return ""
        return real(community, site_url)

    monkeypatch.setattr(exports, "csv_line", lose_one)
    code, out = _build_in_process(tmp_path, _small_data(tmp_path / "c"), tmp_path / "site", capsys)
    assert code != 0
    assert "does not match the records" in out and "CSV rows" in out
    assert "Traceback" not in out


def test_a_lost_map_feature_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    class LosingOne(exports.Joined):
        def text(self, pieces: Any) -> str:
            return super().text(list(pieces)[1:])

    monkeypatch.setattr(exports, "ALL_GEOJSON", LosingOne(exports.ALL_GEOJSON.head, exports.ALL_GEOJSON.sep, exports.ALL_GEOJSON.tail))
    code, out = _build_in_process(tmp_path, _small_data(tmp_path / "c"), tmp_path / "site", capsys)
    assert code != 0 and "map features" in out


# --- full disk, unwritable output -----------------------------------------------------------

def test_a_full_disk_is_a_clear_message_and_leaves_data_and_cache_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    data = _small_data(tmp_path / "c")
    code, _ = _build_in_process(tmp_path, data, tmp_path / "site", capsys)
    assert code == 0
    cache = tmp_path / "cache" / "markdown"
    before_data, before_cache = _tree_digest(data), _tree_digest(cache)
    (data / "leith-copy.yaml").write_text((DATA / "leith.yaml").read_text("utf-8").replace("Co-operative Leith", "Leith Again")
                                          .replace("We started", "We began"), encoding="utf-8")
    before_data = _tree_digest(data)
    real_write = pathlib.Path.write_bytes
    written = {"n": 0}

    def full(self: Path, data_: bytes) -> int:
        if str(self).startswith(str(tmp_path / "site")):
            written["n"] += 1
            if written["n"] > 3:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_write(self, data_)

    monkeypatch.setattr(pathlib.Path, "write_bytes", full)
    real_text = pathlib.Path.write_text
    monkeypatch.setattr(pathlib.Path, "write_text",
                        lambda self, text, encoding=None, errors=None, newline=None: full(self, text.encode(encoding or "utf-8"))
                        if str(self).startswith(str(tmp_path / "site")) else real_text(self, text, encoding=encoding, errors=errors, newline=newline))
    real_fdopen = os.fdopen

    def full_fd(fd: int, *args: Any, **kwargs: Any) -> Any:  # atomic_write's temporary file: the disk is full there too
        handle = real_fdopen(fd, *args, **kwargs)
        handle.write = lambda *_: (_ for _ in ()).throw(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
        return handle

    monkeypatch.setattr(files.os, "fdopen", full_fd)
    code, out = _build_in_process(tmp_path, data, tmp_path / "site", capsys)
    assert code != 0
    assert "No space left on device" in out and "not built" in out
    assert "Traceback" not in out and "bug in the tools" not in out
    assert _tree_digest(data) == before_data
    assert _tree_digest(cache) == before_cache  # the old cache, whole
    assert not list(cache.parent.glob(".*.tmp"))


def test_an_output_path_that_is_a_file_is_a_clear_message(tmp_path: Path) -> None:
    blocker = tmp_path / "site"
    blocker.write_text("not a folder", encoding="utf-8")
    data = _small_data(tmp_path / "c", 2)
    before = _tree_digest(data)
    result = build_site(blocker, data, "--config", str(isolated_config(tmp_path)), "--no-search")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "bug in the tools" not in result.stderr, result.stderr
    assert "not built" in result.stderr or "error" in result.stderr.lower()
    assert _tree_digest(data) == before and blocker.read_text("utf-8") == "not a folder"


def _as_nobody() -> list[str] | None:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        return None
    return [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


def test_a_read_only_output_folder_is_a_clear_message(tmp_path: Path) -> None:
    """Run as `nobody` (root ignores permission bits) against an output folder it may not write."""
    prefix = _as_nobody()
    if prefix is None:
        pytest.skip("needs root and setpriv to drop privileges")
    work = Path(tempfile.mkdtemp(prefix="readonly-"))
    try:
        work.chmod(0o755)
        data = _small_data(work / "c", 2)
        conf = isolated_config(work / "conf")
        (work / "conf" / "cache").mkdir()
        (work / "conf" / "cache").chmod(0o777)
        output = work / "site"
        output.mkdir(mode=0o555)
        output.chmod(0o555)
        for path in [work, *work.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o005)
        before = _tree_digest(data)
        result = subprocess.run([*prefix, sys.executable, str(ROOT / "scripts" / "build"), "--communities", str(data), "--output", str(output),
                                 "--config", str(conf), "--no-search"], capture_output=True, text=True, timeout=300, cwd=work)
        if "Permission denied" in result.stderr and str(ROOT) in result.stderr and str(output) not in result.stderr:
            pytest.skip(f"nobody cannot read the project: {result.stderr[-300:]}")
        assert result.returncode != 0
        assert "Traceback" not in result.stderr and "bug in the tools" not in result.stderr, result.stderr
        assert "Permission denied" in result.stderr and "not built" in result.stderr, result.stderr
        assert _tree_digest(data) == before
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --- interrupted builds ---------------------------------------------------------------------

def _complete(site: Path) -> list[str]:
    """Pages that were cut short: every HTML page must end its document."""
    return [str(p.relative_to(site)) for p in site.rglob("*.html") if not p.read_text("utf-8", errors="replace").rstrip().endswith("</html>")]


def test_a_build_stopped_part_way_rebuilds_complete_and_correct(tmp_path: Path) -> None:
    data = _small_data(tmp_path / "c", 6)
    conf = isolated_config(tmp_path)
    reference = build_site(tmp_path / "reference", data, "--config", str(isolated_config(tmp_path / "ref")), "--no-search")
    assert reference.returncode == 0, reference.stderr
    args = [sys.executable, str(ROOT / "scripts" / "build"), "--communities", str(data), "--output", str(tmp_path / "site"),
            "--config", str(conf), "--no-search"]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and not (tmp_path / "site" / "communities").exists():
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    for shard in (tmp_path / "cache" / "markdown").glob("*.pickle"):
        assert files.read_cache(shard, rendering.cache_version()) is not None  # never left half-written
    again = build_site(tmp_path / "site", data, "--config", str(conf), "--no-search")
    assert again.returncode == 0, again.stderr
    assert _complete(tmp_path / "site") == []
    ours = {p.relative_to(tmp_path / "site") for p in (tmp_path / "site").rglob("*") if p.is_file()}
    theirs = {p.relative_to(tmp_path / "reference") for p in (tmp_path / "reference").rglob("*") if p.is_file()}
    assert theirs <= ours
    for rel in sorted(r for r in theirs if r.parts[0] in ("communities", "data")):
        assert (tmp_path / "site" / rel).read_bytes() == (tmp_path / "reference" / rel).read_bytes(), rel


@pytest.mark.parametrize("same_folder", [True, False], ids=["rebuild-after-an-edit", "new-output-folder"])
def test_a_page_cut_short_by_an_interrupt_is_rewritten_on_the_next_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys,
                                                                          same_folder: bool) -> None:
    """A page half-written when the build stopped is never mistaken for an unchanged page."""
    data = _small_data(tmp_path / "c", 6)
    code, _ = _build_in_process(tmp_path, data, tmp_path / "first", capsys)
    assert code == 0
    target = tmp_path / ("first" if same_folder else "second")
    if same_folder:  # an edit, so the pages must be written again
        for path in data.glob("*.yaml"):
            record_data = yaml.safe_load(path.read_text("utf-8"))
            record_data["name"] = "Edited " + record_data["name"]
            path.write_text(yaml.safe_dump(record_data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    real_bytes, real_text = pathlib.Path.write_bytes, pathlib.Path.write_text
    pages = {"n": 0}

    def cut(self: Path, data_: bytes) -> bool:
        if str(self).startswith(str(target)) and self.name == "index.html" and self.parent.parent.name == "communities":
            pages["n"] += 1
            if pages["n"] == 3:
                real_bytes(self, data_[: len(data_) // 2])
                return True
        return False

    def interrupted_bytes(self: Path, data_: bytes) -> int:
        if cut(self, data_):
            raise KeyboardInterrupt
        return real_bytes(self, data_)

    def interrupted_text(self: Path, text: str, encoding: str | None = None, errors: str | None = None, newline: str | None = None) -> int:
        if cut(self, text.encode(encoding or "utf-8")):
            raise KeyboardInterrupt
        return real_text(self, text, encoding=encoding, errors=errors, newline=newline)

    monkeypatch.setattr(pathlib.Path, "write_bytes", interrupted_bytes)
    monkeypatch.setattr(pathlib.Path, "write_text", interrupted_text)
    code, out = _build_in_process(tmp_path, data, target, capsys)
    assert code == 130 and "stopped" in out and pages["n"] == 3
    assert _complete(target), "the interrupt left a page cut short"
    monkeypatch.setattr(pathlib.Path, "write_bytes", real_bytes)
    monkeypatch.setattr(pathlib.Path, "write_text", real_text)
    code, _ = _build_in_process(tmp_path, data, target, capsys)
    assert code == 0
    assert _complete(target) == []


def test_markdown_cache_is_replaced_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "markdown"
    first = rendering.MarkdownCache(path)
    first.render("**one**")
    first.save()
    before = _tree_digest(path)
    monkeypatch.setattr(files.os, "replace", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    second = rendering.MarkdownCache(path)
    second.render("**two**")
    with pytest.raises(KeyboardInterrupt):
        second.save()
    assert _tree_digest(path) == before and not list(path.glob(".*.tmp"))


# --- geocoder faults not covered by test_geocoding.py ---------------------------------------------

class _NoLatitude:
    address = "Somewhere"
    longitude = -3.9


class _Strange:
    def __init__(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error

    def geocode(self, query: str, exactly_one: bool = True, timeout: Any = None) -> Any:
        if self.error:
            raise self.error
        return self.result


@pytest.mark.parametrize("geocoder", [
    _Strange(_NoLatitude()),
    _Strange(type("L", (), {"latitude": "north-ish", "longitude": "west", "address": "x"})()),
    _Strange(type("L", (), {"latitude": None, "longitude": None, "address": None})()),
    _Strange(error=ValueError("Expecting value: line 1 column 1 (char 0)")),
    _Strange(error=KeyError("lat")),
], ids=["no-latitude", "text-coordinates", "null-coordinates", "value-error", "key-error"])
def test_a_malformed_answer_is_a_failed_lookup_not_a_crash(tmp_path: Path, geocoder: Any) -> None:
    conf = make_conf(tmp_path)
    swansea = record(tmp_path, "swansea", {"place": "Swansea", "region": "Wales", "country": "GB"})
    run = geocoding.geocode_communities([swansea], conf, geocoder=geocoder, sleep=lambda s: None, retries=1)
    assert run.outcomes[0].source in ("gazetteer", "unplaced")
    assert not (tmp_path / "geocode-cache.json").exists() or json.loads((tmp_path / "geocode-cache.json").read_text("utf-8")) is not None


def test_a_geocode_run_interrupted_part_way_keeps_what_it_found(tmp_path: Path) -> None:
    conf = make_conf(tmp_path)
    fake = FakeGeocoder({"Swansea, Wales, United Kingdom": (51.62144, -3.94364, "Swansea, Wales, United Kingdom")},
                        script=[None, KeyboardInterrupt()])
    communities = [record(tmp_path, "swansea", {"place": "Swansea", "region": "Wales", "country": "GB"}),
                   record(tmp_path, "cardiff", {"place": "Cardiff", "region": "Wales", "country": "GB"})]
    with pytest.raises(KeyboardInterrupt):
        geocoding.geocode_communities(communities, conf, geocoder=fake, sleep=lambda s: None)
    cache = json.loads((tmp_path / "geocode-cache.json").read_text("utf-8"))
    assert any("swansea" in key for key in cache["entries"])


def test_a_failing_search_index_is_a_clear_message_not_an_internal_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                        capsys) -> None:
    from communities import search

    monkeypatch.setattr(search, "command", lambda source, bundle: [sys.executable, "-c", "import sys; print('no room', file=sys.stderr); sys.exit(2)"])
    conf = isolated_config(tmp_path, COMMUNITIES_SEARCH_INDEX=True)
    code = build_cli.build_main(["--communities", str(_small_data(tmp_path / "c")), "--output", str(tmp_path / "site"),
                                 "--config", str(conf)])
    out = capsys.readouterr()
    assert code == 1
    assert "search index was not" in out.err and "no room" in out.err and "--no-search" in out.err
    assert "internal error" not in out.err and "Traceback" not in out.err
