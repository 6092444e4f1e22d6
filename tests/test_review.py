"""scripts/review: a dated review is added without disturbing the rest of the file, and due reviews are listed."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import shutil
from pathlib import Path

import pytest
from communities import cli, review, review_cli

TODAY = "2026-11-24"

COMMENTED = """\
# yaml-language-server: $schema=../community.schema.json
# Kept by the Testville action group. Ask Sam before changing the commitments.
name: Co-operative Testville   # as on our banner
kind: place
summary: "Neighbours in Testville: linking up co-ops and swapping clothes."
location:
    place: Testville
    country: "GB"    # quoted on purpose
tags: [food, swaps]
joined: 2024-02-01
last_reviewed: 2025-01-15
commitments:
- area: action
  title: Monthly clothes swap
  measure: Swaps held
  target: {value: 12, unit: swaps}
  status: in-progress
  reviews:
  - date: 2025-01-15
    value: 8
    note: Eight swaps.   # the hall flooded in March
# The enterprise commitment came later.
- area: enterprise
  title: A card listing local co-ops
  measure: Co-ops on the card
  status: planned
"""


@pytest.fixture
def folder(tmp_path: Path, root: Path) -> Path:
    shutil.copy(root / "data" / "communities" / "leith.yaml", tmp_path / "leith.yaml")
    (tmp_path / "testville.yaml").write_text(COMMENTED, encoding="utf-8")
    return tmp_path


def run(*argv: str, ask=None, interactive: bool = False) -> int:
    command = cli.guarded(functools.partial(review_cli.run, ask=ask, interactive=interactive))
    return command([*argv, "--today", TODAY])


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(True), after.splitlines(True)):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def test_review_is_added_and_everything_else_is_kept_byte_for_byte(folder: Path) -> None:
    path = folder / "testville.yaml"
    assert run("testville", "--dir", str(folder), "--commitment", "1", "--value", "11", "--note", "Eleven swaps: a record.") == 0
    after = path.read_text(encoding="utf-8")
    removed, added = changed_lines(COMMENTED, after)
    assert removed == ["last_reviewed: 2025-01-15\n"]
    assert added == [
        f"last_reviewed: {TODAY}\n",
        f"  - date: {TODAY}\n",
        "    value: 11\n",
        "    note: 'Eleven swaps: a record.'\n",
    ]
    assert after.index(added[1]) < after.index("# The enterprise commitment came later.")  # under commitment 1


def test_review_by_title_on_a_real_record_keeps_its_layout_and_validates(folder: Path, capsys: pytest.CaptureFixture) -> None:
    path = folder / "leith.yaml"
    before = path.read_text(encoding="utf-8")
    code = run("leith", "--dir", str(folder), "--commitment", "street party", "--status", "in-progress",
               "--value", "45", "--note", "Back on Easter Road; 45 households came.", "--date", "2026-07-05")
    assert code == 0, capsys.readouterr()
    after = path.read_text(encoding="utf-8")
    removed, added = changed_lines(before, after)
    assert "last_reviewed: 2025-06-01\n" in removed and "    status: paused\n" in removed and len(removed) == 2
    assert "last_reviewed: 2026-07-05\n" in added and "    status: in-progress\n" in added
    assert "tags: [food, swaps, neighbours]\n" in after and "target: {value: 80, unit: households}" in after
    assert "commitment 3" in capsys.readouterr().out
    assert cli.validate_main([str(path), "--today", TODAY]) == 0


def test_an_older_review_date_does_not_move_last_reviewed_back(folder: Path) -> None:
    path = folder / "leith.yaml"
    assert run("leith", "--dir", str(folder), "--commitment", "2", "--note", "Back-filled from our minutes.", "--date", "2023-06-01") == 0
    assert "last_reviewed: 2025-06-01\n" in path.read_text(encoding="utf-8")


def test_an_invalid_status_is_refused_with_a_clear_message_and_nothing_is_written(folder: Path, capsys: pytest.CaptureFixture) -> None:
    path = folder / "leith.yaml"
    before = path.read_bytes()
    assert run("leith", "--dir", str(folder), "--commitment", "1", "--status", "done", "--note", "All done.") == 1
    out = capsys.readouterr()
    assert "must be one of planned, in-progress, achieved, paused, dropped; got 'done'" in out.out
    assert "Did you mean 'dropped'?" in out.out
    assert "Nothing was written" in out.err
    assert path.read_bytes() == before


def test_a_result_the_validator_refuses_is_never_written(folder: Path, capsys: pytest.CaptureFixture) -> None:
    path = folder / "leith.yaml"
    before = path.read_bytes()
    assert run("leith", "--dir", str(folder), "--commitment", "1", "--note", "No", "--date", "2030-01-01") == 1
    out = capsys.readouterr().out
    assert "is in the future" in out and "is too short" in out
    assert path.read_bytes() == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left behind


@pytest.mark.parametrize(("argv", "message"), [
    (["leith", "--commitment", "9", "--note", "Nine."], "there is no commitment 9"),
    (["leith", "--commitment", "swop", "--note", "Nine swaps."], "no commitment is called 'swop'"),
    (["leith", "--commitment", "1", "--note", "Nine.", "--value", "nine"], "--value must be a number"),
    (["leith", "--commitment", "1", "--note", "Nine.", "--date", "30/06/2025"], "--date must be a date written YYYY-MM-DD"),
    (["leeth", "--commitment", "1", "--note", "Nine."], "Did you mean 'leith'?"),
    (["leith", "--commitment", "1"], "missing --note"),
])
def test_mistakes_are_explained(folder: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str) -> None:
    code = run(*argv, "--dir", str(folder))
    assert code in (1, 2)
    out = capsys.readouterr()
    assert message in out.out + out.err


def test_interactive_mode_asks_for_what_is_missing(folder: Path, capsys: pytest.CaptureFixture) -> None:
    answers = iter(["2", "26", "achieved", "All 26 co-ops on the new card.", ""])
    code = run("leith", "--dir", str(folder), ask=lambda prompt: next(answers), interactive=True)
    assert code == 0
    shown = capsys.readouterr().out
    assert "2. Printed card listing Leith's co-ops [achieved], last reviewed 2025-06-01" in shown
    text = (folder / "leith.yaml").read_text(encoding="utf-8")
    assert f"      - date: {TODAY}\n        value: 26\n        status: achieved\n        note: All 26 co-ops on the new card.\n" in text


def test_no_anchors_when_one_date_is_written_twice() -> None:
    text, problems = review.add_review("name: X\ncommitments:\n  - title: T\n", "x.yaml", review.Request("1", "Note.", dt.date(2025, 1, 2)))
    assert problems == []
    assert "&" not in text and "*" not in text


def due_record(name: str, last_reviewed: str) -> str:
    return (f"name: {name}\nkind: interest\nsummary: A community used to test the review listing.\n"
            f"joined: 2020-01-01\nlast_reviewed: {last_reviewed}\n"
            "commitments:\n  - area: action\n    title: Meet up\n    measure: Meet-ups held\n    status: planned\n")


def test_due_lists_overdue_and_due_soon_but_not_fresh_records(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "overdue.yaml").write_text(due_record("Overdue Group", "2025-01-10"), encoding="utf-8")
    (tmp_path / "soon.yaml").write_text(due_record("Soon Group", "2025-12-10"), encoding="utf-8")
    (tmp_path / "fresh.yaml").write_text(due_record("Fresh Group", "2026-10-01"), encoding="utf-8")
    assert run("--due", "--dir", str(tmp_path), "--format", "json") == 0
    listing = json.loads(capsys.readouterr().out)
    assert [d["slug"] for d in listing["overdue"]] == ["overdue"]
    assert listing["overdue"][0]["due_on"] == "2026-01-10"
    assert [d["slug"] for d in listing["due_soon"]] == ["soon"]
    assert run("--due", "--dir", str(tmp_path), "--format", "markdown") == 0
    md = capsys.readouterr().out
    assert "## Overdue (1)" in md and "Overdue Group" in md and "Fresh Group" not in md
    assert "[data/communities/overdue.yaml](" in md



def test_due_counts_a_commitment_review_written_without_last_reviewed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    text = due_record("Reviewed Group", "2025-01-10").replace("last_reviewed: 2025-01-10\n", "").replace(
        "status: planned\n", "status: planned\n    reviews:\n      - date: 2025-12-10\n        note: Met twice.\n")
    (tmp_path / "reviewed.yaml").write_text(text, encoding="utf-8")
    assert run("--due", "--dir", str(tmp_path), "--format", "json") == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["overdue"] == []
    assert [(d["slug"], d["due_on"]) for d in listing["due_soon"]] == [("reviewed", "2026-12-10")]

def test_due_agrees_with_the_sites_review_due_badge(root: Path, conf: dict, capsys: pytest.CaptureFixture) -> None:
    from communities import pipeline

    loaded = pipeline.load(conf)
    badge = {c.slug for c in loaded.communities if c.review_due(loaded.today, conf["COMMUNITIES_REVIEW_MONTHS"])}
    assert run("--due", "--format", "json") == 0
    assert {d["slug"] for d in json.loads(capsys.readouterr().out)["overdue"]} == badge


def test_markdown_never_mentions_or_links_from_contributors_text() -> None:
    assert review.md_escape("@everyone [click](https://x) <b>|") == "&#64;everyone \\[click\\]\\(https://x\\) \\<b\\>\\|"


def test_the_reviews_workflow_keeps_one_issue_and_never_runs_on_pull_requests(root: Path) -> None:
    import yaml

    workflow = yaml.safe_load((root / ".github" / "workflows" / "reviews.yml").read_text(encoding="utf-8"))
    assert set(workflow[True]) == {"schedule", "workflow_dispatch"}
    job = workflow["jobs"]["track-reviews"]
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "scripts/review --due" in runs and "--format markdown" in runs
    assert 'gh issue list --label "$LABEL" --state all' in runs and 'gh issue edit "$number"' in runs
