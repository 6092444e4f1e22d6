"""scripts/validate as a contributor runs it: output, formats and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = "tests/fixtures/validate"
GOLDEN = ROOT / "tests/golden/validate.txt"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "scripts/validate", "--today", "2026-11-24", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_whole_output_for_the_fixture_folder_matches_the_golden_file() -> None:
    result = run(FIXTURES)
    assert result.returncode == 1
    if os.environ.get("UPDATE_GOLDEN") == "1":  # regenerate deliberately, then review the diff
        GOLDEN.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == GOLDEN.read_text(encoding="utf-8")
    assert result.stderr == ""


def test_the_embedded_examples_are_all_valid() -> None:
    result = run()
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("0 errors, 0 warnings")


def test_github_format_annotates_the_pull_request_diff() -> None:
    result = run("--format", "github", f"{FIXTURES}/otherford.yaml")
    assert result.returncode == 1
    first = result.stdout.splitlines()[0]
    assert first == (f"::error file={FIXTURES}/otherford.yaml,line=2,col=7,title=kind::"
                     "must be one of place, interest; got 'plac' Hint: Did you mean 'place'?")


def test_json_format_lists_every_problem() -> None:
    result = run("--format", "json", FIXTURES)
    data = json.loads(result.stdout)
    assert data["records"] == 7 and data["errors"] == len(data["problems"]) == 9
    assert {"path", "line", "col", "field", "message", "hint", "level", "rule"} <= set(data["problems"][0])


@pytest.mark.parametrize("args", [["--format", "xml"], ["no/such/file.yaml"], ["--today", "yesterday"]])
def test_usage_errors_exit_2_without_a_traceback(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip()


def test_strict_fails_on_warnings(tmp_path: Path) -> None:
    valid = (ROOT / FIXTURES / "testford.yaml").read_text(encoding="utf-8")
    (tmp_path / "a.yaml").write_text(valid, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(valid.replace("Co-operative Testford", "Cooperative Testford").replace("lat: 52.5", "lat: 52.51"), encoding="utf-8")
    assert run(str(tmp_path)).returncode == 0
    assert run("--strict", str(tmp_path)).returncode == 1


def test_checking_too_few_records_to_want_workers_never_imports_multiprocessing(tmp_path: Path) -> None:
    """A pull request's check and a repeat run parse a few records at most: starting up without multiprocessing
    and its executor saves a twentieth of such a run."""
    code = ("import sys; sys.path.insert(0, 'plugins'); from communities.cli import validate_main; "
            "code = validate_main(['data/communities', '--today', '2026-11-24']); "
            "print(code, sorted(m for m in sys.modules if m.split('.')[0] == 'multiprocessing' or m == 'concurrent.futures.process'))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.stdout.strip().split("\n")[-1] == "0 []", run.stdout[-2000:] + run.stderr[-2000:]
