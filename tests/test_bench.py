"""The benchmark harness runs end to end and renders its table. Nothing here times anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from communities import fakedata  # noqa: E402

from benchmarks import harness  # noqa: E402


def test_quick_run_writes_the_table(tmp_path):
    out = tmp_path / "RESULTS.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench"), "--quick", "--no-browser", "--no-profile",
         "--out", str(out), "--work", str(tmp_path / "work")],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    text = out.read_text(encoding="utf-8")
    for heading in ("# Benchmark results", "## Machine", "## Versions", "## N = 50 communities", "## Why"):
        assert heading in text
    assert "| Step | Median | Min – max | Peak RSS | vs Hugo | vs plain Pelican | Goal (10,000) | Result |" in text
    for label in harness.LABELS.values():
        assert label in text
    assert "Peer: Plain Pelican, cold build" in text
    assert text in result.stdout
    assert not (tmp_path / "work" / "n50" / "trash").exists()  # what was set aside is deleted once the timing is over


def test_each_cold_build_starts_from_no_output_without_deleting_just_before_it(tmp_path, monkeypatch):
    ws = harness.Workspace(3, tmp_path / "n3")
    seen: list[tuple[bool, bool, int]] = []

    def build(run: int) -> harness.Timed:
        seen.append((ws.out.exists(), ws.cache.exists(), len(list(ws.trash.glob("*"))) if ws.trash.exists() else 0))
        for folder in (ws.out, ws.cache):
            (folder / "page").mkdir(parents=True)
            (folder / "page" / "index.html").write_text(str(run))
        return harness.Timed(0.1, None, 0, "")

    monkeypatch.setattr(harness, "run_timed", lambda cmd, **kw: build(len(seen)))
    monkeypatch.setattr(harness, "_rm", lambda path: pytest.fail(f"deleted {path} between timed runs"))
    m = harness.measure_cold_build(ws, 3)
    assert len(m.samples) == 3
    assert seen == [(False, False, 0), (False, False, 2), (False, False, 4)]  # the last run's output and cache, set aside
    monkeypatch.undo()
    ws.empty_trash()
    assert not ws.trash.exists()


def test_bad_arguments_exit_2_without_a_traceback(tmp_path):
    for argv in (["--runs", "0"], ["--sizes", "ten"], ["--site", str(tmp_path)]):
        result = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench"), *argv, "--work", str(tmp_path / "w")],
                                capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert result.returncode == 2, argv
        assert "Traceback" not in result.stderr and "error:" in result.stderr


def _m(name: str, samples: list[float], unit: str = "s", **extra) -> harness.Measurement:
    return harness.Measurement(name, samples, unit, 1024 * 100, extra)


def test_render_shows_ratios_goals_and_profiles():
    ours = {
        "validate": _m("validate", [3.0, 2.5, 2.8]),
        "cold": _m("cold", [10.0, 12.0, 11.0]),
        "nochange": _m("nochange", [4.0, 4.0, 4.0]),
        "edit": _m("edit", [1.0, 1.2, 1.1]),
        "pagefind": _m("pagefind", [5.0, 5.0, 5.0]),
        "map_html": _m("map_html", [20_000.0], "B", raw=90_000),
        "map_data": _m("map_data", [700_000.0], "B", raw=3_000_000, per=70.0, files=["data/map.json"]),
        "markers": harness.Measurement("markers", unit="ms", note="not built (no /map/ page)"),
        "filter": _m("filter", [40.0, 50.0, 60.0], "ms"),
    }
    hugo = {"cold": _m("cold", [11.0, 11.0, 11.0]), "edit": _m("edit", [10.0, 10.0, 10.0])}
    pelican = {"cold": _m("cold", [55.0]), "edit": harness.Measurement("edit", note="not installed")}
    run = harness.SizeRun(10_000, ours, hugo, pelican)
    profile = harness.Profile(10_000, "validate", 3.1, [(1.2, "check_record (communities/validation.py:446)")],
                              [(2.0, "validate_files (communities/validation.py:524)")], "benchmarks/work/profiles/n10000-validate.txt")
    results = harness.Results("2026-11-24 10:00 UTC", {"CPU": "test"}, {"Python": "3.11"}, 3, [run], [profile], 60.0)
    text = harness.render(results)
    assert "| Cold full build | 11.00 s | 10.00 s – 12.00 s | 100 MB | 1.00× | 0.20× | ≤ 1.0 × Hugo | **PASS** (1.00×) |" in text
    assert "**MISS** (2.80" not in text  # absolute goals show no ratio
    assert "| Validation (`scripts/validate`), first run: no cache | 2.80 s |" in text and "≤ 2 s | **MISS** |" in text
    assert "**PASS** (70.0 B)" in text
    assert "| Map markers clickable | not built (no /map/ page) |" in text
    assert "- **Validation (`scripts/validate`), first run: no cache** at N = 10,000 misses ≤ 2 s." in text
    assert "`check_record (communities/validation.py:446)`" in text
    assert "Peer: Plain Pelican, rebuild, one record edited | not installed" in text


def test_edit_appends_a_sentence_to_the_description(tmp_path):
    path = fakedata.write(1, tmp_path, seed=5)[0]
    before = path.read_text(encoding="utf-8")
    with harness.restored(path):
        harness._edit_record(path, 2)
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert data["description"].rstrip().endswith(harness.EDIT_SENTENCE.format(run=2))
        assert data == {**yaml.safe_load(before), "description": data["description"]}
    assert path.read_text(encoding="utf-8") == before


def test_map_files_reads_what_the_map_page_names(tmp_path):
    assert harness.map_files(tmp_path) == (None, [])
    (tmp_path / "map").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "map.json").write_text("{}")
    (tmp_path / "map" / "index.html").write_text(
        '<a href="/data/communities.geojson">download</a><script type="application/json">{"data": "/data/map.json"}</script>')
    page, files = harness.map_files(tmp_path)
    assert page == tmp_path / "map" / "index.html"
    assert files == [(tmp_path / "data" / "map.json").resolve()]


def test_summary_and_name_edits_mark_that_field_only_and_keep_it_valid_run_after_run(tmp_path):
    import yaml

    path = fakedata.write(1, tmp_path, seed=5)[0]
    before = path.read_text(encoding="utf-8")
    old = yaml.safe_load(before)
    with harness.restored(path):
        for run in range(12):
            harness._edit_summary(path, run)
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            assert data["summary"] == f"{old['summary']} (edit {run})"
            assert data == {**old, "summary": data["summary"]}
        longest = ["summary: " + "x" * 200 if line.startswith("summary:") else line for line in before.split("\n")]
        path.write_text("\n".join(longest), encoding="utf-8")
        harness._edit_summary(path, 7)
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["summary"] == "x" * 191 + " (edit 7)"
        path.write_text(before, encoding="utf-8")
        for run in range(3):
            harness._edit_name(path, run)
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            assert data == {**old, "name": f"{old['name']} (edit {run})"}
    assert path.read_text(encoding="utf-8") == before
