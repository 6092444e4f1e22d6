"""scripts/new-community and the documents generated from the schema and settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from communities import authoring_cli, schemadoc, settings

ROOT = Path(__file__).resolve().parents[1]


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, f"scripts/{script}", *args], capture_output=True, text=True, cwd=ROOT, timeout=120, stdin=subprocess.DEVNULL)


def test_generated_docs_and_template_are_up_to_date() -> None:
    result = run("schema-docs", "--check")
    assert result.returncode == 0, result.stderr


def test_every_setting_is_documented_with_its_default() -> None:
    text = (ROOT / "docs/settings.md").read_text(encoding="utf-8")
    for s in settings.SETTINGS:
        assert f"## {s.name}\n\n{s.help}\n\nDefault: `{s.default!r}`" in text


def test_every_schema_field_is_in_the_field_reference() -> None:
    import json

    schema = json.loads((ROOT / "data/community.schema.json").read_text(encoding="utf-8"))
    text = (ROOT / "docs/fields.md").read_text(encoding="utf-8")
    for path, _, _ in schemadoc._fields(schema):
        assert f"| `{path}` |" in text


def test_the_template_carries_the_editor_schema_comment_and_validates(tmp_path: Path) -> None:
    text = (ROOT / "data/template.yaml").read_text(encoding="utf-8")
    assert text.startswith(schemadoc.SCHEMA_COMMENT)
    (tmp_path / "template.yaml").write_text(text, encoding="utf-8")
    result = run("validate", "--today", "2026-11-24", str(tmp_path / "template.yaml"))
    assert result.returncode == 0, result.stdout


def test_new_community_from_flags_writes_a_valid_record(tmp_path: Path) -> None:
    result = run("new-community", "--name", "Co-op Totnes", "--summary", "Neighbours in Totnes promoting local co-ops.",
                 "--place", "Totnes", "--region", "Devon", "--tags", "food,repair", "--email", "hello@totnes.example.org",
                 "--commitment", "action:Hold a street party:Households taking part",
                 "--commitment", "enterprise:Map local co-ops:Co-ops listed", "--dir", str(tmp_path), "--today", "2026-11-01")
    assert result.returncode == 0, result.stderr
    written = tmp_path / "co-op-totnes.yaml"
    assert written.read_text(encoding="utf-8").startswith(schemadoc.SCHEMA_COMMENT)
    check = run("validate", "--today", "2026-11-24", str(written))
    assert check.returncode == 0, check.stdout
    again = run("new-community", "--name", "Co-op Totnes", "--summary", "x" * 20, "--place", "Totnes",
                "--commitment", "action:A b c:d e f", "--dir", str(tmp_path))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_new_community_refuses_bad_answers_with_the_validators_messages(tmp_path: Path) -> None:
    result = run("new-community", "--name", "Co-op Nowhere", "--summary", "Too short", "--place", "Nowhere",
                 "--tags", "gardening", "--commitment", "action:Street party:Households", "--dir", str(tmp_path))
    assert result.returncode == 1
    assert "summary: is too short" in result.stdout and "unknown tag 'gardening'" in result.stdout
    assert not list(tmp_path.iterdir())


def test_new_community_asks_when_someone_is_at_the_keyboard() -> None:
    answers = iter(["Co-op Frome", "place", "Neighbours in Frome sharing co-ops.", "Frome", "Somerset", "food",
                    "", "", "Street party", "Households", "Co-op map", "Co-ops listed"])

    class Args:
        name = kind = summary = place = region = tags = website = email = today = None
        country = "GB"
        commitment = ()

    data = authoring_cli.gather(Args(), interactive=True, ask=lambda _: next(answers))
    assert data["name"] == "Co-op Frome" and data["location"] == {"place": "Frome", "region": "Somerset", "country": "GB"}
    assert [c["area"] for c in data["commitments"]] == ["action", "enterprise"]
