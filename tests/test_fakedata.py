"""scripts/make-fake-data: synthetic records that are deterministic, varied and valid."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from communities import cli, fakedata, pipeline, records, validation
from communities.fakedata_cli import make_fake_data_main

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 24)


def test_same_seed_gives_the_same_records():
    assert list(fakedata.generate(20, seed=3, today=TODAY)) == list(fakedata.generate(20, seed=3, today=TODAY))


def test_different_seeds_give_different_records():
    first = list(fakedata.generate(20, seed=3, today=TODAY))
    second = list(fakedata.generate(20, seed=4, today=TODAY))
    assert [slug for slug, _ in first] != [slug for slug, _ in second]


def test_records_are_varied_and_realistic():
    made = [record for _, record in fakedata.generate(200, seed=7, today=TODAY)]
    names = [r["name"] for r in made]
    assert len(set(names)) == len(names)
    assert {"place", "interest"} <= {r["kind"] for r in made}
    assert all(1 <= len(r["commitments"]) <= 6 for r in made)
    assert all(200 <= len(r["description"].split()) <= 460 for r in made)
    places = [r["location"] for r in made if r["kind"] == "place"]
    assert all(49 < p["lat"] < 61 and -9 < p["lon"] < 2 for p in places)
    assert len({p["region"] for p in places}) > 10
    dates = [rev["date"] for r in made for c in r["commitments"] for rev in c.get("reviews", [])]
    assert dates and max(dates) <= TODAY.isoformat()


def test_thirty_records_pass_the_real_validator_and_build_stage(tmp_path, conf):
    written = fakedata.write(30, tmp_path, seed=11, today=TODAY)
    assert len(written) == 30
    ctx, vocab_problems = cli.context_from(conf, TODAY.isoformat())
    report = validation.validate_files(written, ctx)
    assert vocab_problems == []
    assert [p for p in report.problems if p.is_error] == []
    loaded = pipeline.load({**conf, "COMMUNITIES_DIR": str(tmp_path)})
    assert loaded.ok, loaded.problems
    assert len(loaded.communities) == 30
    assert all(records.SLUG_RE.match(path.stem) for path in written)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = make_fake_data_main(argv)
    captured = capsys.readouterr()
    return code, captured.err


@pytest.mark.parametrize("argv, message", [
    (["--count", "ten", "--out", "x"], "--count must be a whole number"),
    (["--count", "0", "--out", "x"], "--count must be between"),
    (["--count", "5"], "the following arguments are required: --out"),
    (["--count", "5", "--out", "x", "--today", "24/11/2026"], "--today must be a date"),
    (["--count", "5", "--out", "x", "--seed", "-1"], "--seed must be between"),
])
def test_cli_rejects_bad_arguments_with_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = _run(argv, capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_cli_refuses_a_folder_that_already_holds_records(tmp_path, capsys):
    (tmp_path / "leith.yaml").write_text("name: Leith\n")
    code, err = _run(["--count", "3", "--out", str(tmp_path)], capsys)
    assert code == 2 and "--replace" in err
    code, _ = _run(["--count", "3", "--out", str(tmp_path), "--replace"], capsys)
    assert code == 0
    assert len(list(tmp_path.glob("*.yaml"))) == 3 and not (tmp_path / "leith.yaml").exists()


def test_script_writes_records_and_reports_usage_errors(tmp_path):
    script = str(ROOT / "scripts" / "make-fake-data")
    ok = subprocess.run([sys.executable, script, "--count", "4", "--out", str(tmp_path / "recs")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert len(list((tmp_path / "recs").glob("*.yaml"))) == 4
    bad = subprocess.run([sys.executable, script, "--count", "-3", "--out", str(tmp_path / "other")], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and "error:" in bad.stderr
