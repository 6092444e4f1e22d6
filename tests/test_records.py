"""The loader: what it reads, what it refuses, and where it says the problem is."""

from __future__ import annotations

from pathlib import Path

import pytest
from communities import records
from communities.records import Trap


def read(tmp_path: Path, content: str | bytes, name: str = "test-community.yaml"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return records.read_record(path)


def only_problem(tmp_path: Path, content: str | bytes, name: str = "test-community.yaml"):
    rec, problems = read(tmp_path, content, name)
    assert rec is None
    assert len(problems) == 1, problems
    return problems[0]


def test_reads_a_mapping_with_slug_and_digest(tmp_path: Path) -> None:
    rec, problems = read(tmp_path, "name: Leith\nkind: place\n")
    assert problems == []
    assert rec.slug == "test-community"
    assert rec.data == {"name": "Leith", "kind": "place"}
    assert len(rec.digest) == 64


def test_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    rec, problems = read(tmp_path, b"\xef\xbb\xbfname: Leith\r\nkind: place\r\n")
    assert problems == [] and rec.data["name"] == "Leith"


def test_dates_stay_text_so_the_schema_checks_them(tmp_path: Path) -> None:
    rec, _ = read(tmp_path, "joined: 2024-05-01\nbad: 2024-13-45\n")
    assert rec.data == {"joined": "2024-05-01", "bad": "2024-13-45"}


@pytest.mark.parametrize(
    ("text", "reads_as"),
    [("country: NO\n", False), ("x: yes\n", True), ("x: off\n", False), ("x: 19:30\n", 1170), ("x: 0755\n", 493)],
)
def test_yaml_1_1_readings_are_kept_as_traps(tmp_path: Path, text: str, reads_as: object) -> None:
    rec, _ = read(tmp_path, text)
    value = next(iter(rec.data.values()))
    assert isinstance(value, Trap)
    assert value.reads_as == reads_as


@pytest.mark.parametrize("value", ["0b_", "0x_", "-0b_", "+0x__"])
def test_number_prefixes_without_digits_are_text_not_a_crash(tmp_path: Path, value: str) -> None:
    """PyYAML's number pattern matches these, then fails to read them: they are kept as the text written."""
    rec, problems = read(tmp_path, f"name: Leith\nmembers: {value}\nnested:\n  - {value}\n")
    assert problems == []
    assert rec.data == {"name": "Leith", "members": value, "nested": [value]}


def test_canonical_booleans_are_booleans(tmp_path: Path) -> None:
    rec, _ = read(tmp_path, "a: true\nb: false\n")
    assert rec.data == {"a": True, "b": False}


def test_refuses_duplicate_keys_at_the_second(tmp_path: Path) -> None:
    p = only_problem(tmp_path, "name: A\nkind: place\nname: B\n")
    assert (p.line, p.col, p.rule) == (3, 1, "duplicate-key")
    assert p.message == "field 'name' appears twice (first on line 1)"


def test_refuses_aliases(tmp_path: Path) -> None:
    p = only_problem(tmp_path, "a: &x hello\nb: *x\n")
    assert (p.line, p.rule) == (2, "no-aliases")


def test_refuses_an_alias_bomb_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    p = only_problem(tmp_path, "\n".join(lines) + "\n")
    assert p.rule == "no-aliases"


def test_refuses_merge_keys(tmp_path: Path) -> None:
    p = only_problem(tmp_path, "a:\n  <<: {b: 1}\n")
    assert (p.line, p.col, p.rule) == (2, 3, "no-aliases")


def test_refuses_tabs_with_position(tmp_path: Path) -> None:
    p = only_problem(tmp_path, "name: Leith\nlocation:\n\tplace: Leith\n")
    assert (p.line, p.col, p.rule) == (3, 1, "tabs")
    assert "spaces" in p.hint


def test_refuses_non_utf8_with_position(tmp_path: Path) -> None:
    p = only_problem(tmp_path, b"name: Leith\nsummary: caf\xe9\n")
    assert (p.line, p.col, p.rule) == (2, 13, "encoding")


def test_refuses_oversize_files(tmp_path: Path) -> None:
    p = only_problem(tmp_path, "x: " + "a" * records.MAX_FILE_BYTES + "\n")
    assert p.rule == "size"
    assert "the limit is 100,000" in p.message


@pytest.mark.parametrize(
    ("text", "rule", "message"),
    [
        ("", "top-level", "file is empty"),
        ("- a\n- b\n", "top-level", "must be a set of fields (name: ..., summary: ...)"),
        ("a: 1\n---\nb: 2\n", "syntax", "YAML syntax: expected a single document in the stream; but found another document"),
        ("a: [1, 2\n", "syntax", None),
        ("1: x\n", "key-type", "field name '1' is not plain text"),
    ],
)
def test_refuses_what_is_not_one_record(tmp_path: Path, text: str, rule: str, message: str | None) -> None:
    p = only_problem(tmp_path, text)
    assert p.rule == rule
    if message:
        assert p.message == message


def test_deep_nesting_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    p = only_problem(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert p.rule == "syntax"


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("Leith_Coop.yaml", "leith-coop.yaml"), ("leith.yml", "leith.yaml"), ("-leith.yaml", "leith.yaml"),
     ("leith\n.yaml", "leith.yaml")],  # `$` also matches before a final newline: a slug must end where the name does
)
def test_filename_rules_suggest_a_slug(tmp_path: Path, name: str, suggestion: str) -> None:
    rec, problems = read(tmp_path, "name: Leith\n", name)
    assert rec is not None
    assert [p.rule for p in problems] == ["filename"]
    assert problems[0].hint == f"Rename it to {suggestion}."


def test_locate_finds_values_keys_and_list_items() -> None:
    text = "name: Leith\ncommitments:\n  - title: Swap\n    area: act\n"
    assert records.locate(text, ("commitments", 0, "area"))[0] == (4, 11)
    assert records.locate(text, ("commitments", 0, "area"), key=True)[0] == (4, 5)
    assert records.locate(text, ("name",)) == ((1, 7), "Leith")
    assert records.locate(text, ("missing", "deeper"))[0] == (1, 1)


def test_load_tags_reads_the_vocabulary(root: Path) -> None:
    tags, problems = records.load_tags(root / "data" / "tags.yaml")
    assert problems == []
    required = "food housing energy finance care culture education transport environment digital retail pubs credit-union repair community-shop"
    assert set(required.split()) <= set(tags)
    assert all(t["label"] and t["description"] for t in tags.values())


@pytest.mark.parametrize("key", ['"food\\n"', "Food"])
def test_a_tag_name_that_is_not_kebab_case_is_a_problem_not_a_crash(tmp_path: Path, key: str) -> None:
    path = tmp_path / "tags.yaml"
    path.write_text(f"{key}:\n  label: Food\nswaps:\n  label: Swaps\n", encoding="utf-8")
    tags, problems = records.load_tags(path)
    assert list(tags) == ["swaps"]
    assert [(p.rule, p.line) for p in problems] == [("tags", 1)]
