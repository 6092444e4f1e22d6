"""Each validation rule, with the exact message and where it points."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from communities import validation
from communities.problems import Problem

VALID = """\
name: Co-operative Testford
kind: place
summary: Neighbours in Testford linking up local co-ops.
location:
  place: Testford
  region: Testshire
  country: "GB"
  lat: 52.5
  lon: -1.5
tags: [food, repair]
website: https://testford.example.org
contact:
  email: hello@testford.example.org
joined: 2024-03-14
last_reviewed: 2025-06-01
commitments:
  - area: action
    title: Monthly clothes swap
    measure: Number of swaps held
    target: {value: 12, unit: swaps}
    status: in-progress
    reviews:
      - date: 2025-06-01
        value: 9
        note: Nine swaps so far.
"""


@pytest.fixture(scope="module")
def ctx(root: Path) -> validation.Context:
    context, problems = validation.Context.from_files(root / "data/community.schema.json", root / "data/tags.yaml", dt.date(2026, 11, 24))
    assert problems == []
    return context


def check(tmp_path: Path, ctx: validation.Context, text: str, name: str = "testford.yaml") -> list[Problem]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return validation.validate_files([path], ctx).problems


def one(tmp_path: Path, ctx: validation.Context, text: str) -> tuple[int, int, str, str, str]:
    problems = check(tmp_path, ctx, text)
    assert len(problems) == 1, problems
    p = problems[0]
    return p.line, p.col, p.field, p.message, p.hint


def replace(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


def test_the_valid_record_is_valid(tmp_path: Path, ctx: validation.Context) -> None:
    assert check(tmp_path, ctx, VALID) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("kind: place\n", "kind: plac\n", (2, 7, "kind", "must be one of place, interest; got 'plac'", "Did you mean 'place'?")),
        ('country: "GB"', "country: NO", (7, 12, "location.country", "'NO' is read by YAML as the yes/no value false",
                                         'If you mean the text, put it in quotes: country: "NO". If you mean yes or no, write true or false.')),
        ('country: "GB"', 'country: "gb"', (7, 12, "location.country", "must be a two-letter country code in capitals, got 'gb'",
                                            'Use the ISO 3166-1 code in quotes, e.g. country: "GB".')),
        ("lat: 52.5", "lat: 123.4", (8, 8, "location.lat", "must be between -90 and 90, got 123.4",
                                     "Latitude is north-south, between -90 and 90 (the UK is about 50 to 61). Check lat and lon are not swapped.")),
        ("  lon: -1.5\n", "", (8, 8, "location.lat", "is given without lon", "Give both lat and lon, or neither.")),
        ("tags: [food, repair]", "tags: [food, reapir]", (10, 14, "tags[1]", "unknown tag 'reapir'", "Did you mean 'repair'?")),
        ("tags: [food, repair]", "tags: [food, Food]", (10, 14, "tags[1]", "unknown tag 'Food'", "Did you mean 'food'?")),
        ("tags: [food, repair]", "tags: [food, food]", (10, 7, "tags", "lists the same item more than once", "Remove the repeated item.")),
        ("website: https://testford.example.org", "website: javascript:alert(1)",
         (11, 10, "website", "must be a web address starting with https:// or http://, got 'javascript:alert(1)'",
          "Copy the address from your browser's address bar, e.g. https://example.org.")),
        ("website: https://testford.example.org", "website: https://user@evil.example.org",
         (11, 10, "website", "must be a web address starting with https:// or http://, got 'https://user@evil.example.org'",
          "Copy the address from your browser's address bar, e.g. https://example.org.")),
        ("email: hello@testford.example.org", "email: hello at testford",
         (13, 10, "contact.email", "'hello at testford' is not an e-mail address", "Write it like hello@example.org, with no spaces or mailto:.")),
        ("joined: 2024-03-14", "joined: 14/03/2024", (14, 9, "joined", "must be a date written YYYY-MM-DD, got '14/03/2024'", "Write it as 2024-03-14.")),
        ("joined: 2024-03-14", "joined: 2024-02-30", (14, 9, "joined", "'2024-02-30' is not a real date", "Check the day and the month (YYYY-MM-DD).")),
        ("joined: 2024-03-14", "joined: 2027-01-01", (14, 9, "joined", "2027-01-01 is in the future", "Use the date it happened, not a planned date.")),
        ("    title: Monthly clothes swap\n", "    title: Monthly clothes swap\n    colour: red\n",
         (19, 5, "commitments[0].colour", "unknown field 'colour'",
          "Remove it. Fields allowed here: area, description, measure, reviews, status, target, title.")),
        ("    status: in-progress\n", "    status: done\n",
         (21, 13, "commitments[0].status", "must be one of planned, in-progress, achieved, paused, dropped; got 'done'", "Use one of: planned, in-progress, achieved, paused, dropped.")),
        ("    target: {value: 12, unit: swaps}", "    target: {value: twelve, unit: swaps}",
         (20, 21, "commitments[0].target.value", "must be a number, got the text 'twelve'", "Write a number here.")),
        ("name: Co-operative Testford", "name: Co-operative \u202eTestford",
         (1, 7, "name", "contains a hidden right-to-left or direction-changing character",
          "Retype the text; invisible direction marks can make it display differently from what it says.")),
        ("name: Co-operative Testford", "name: Co-operative Test\u200bford",
         (1, 7, "name", "contains an invisible (zero-width) character", "Retype the text; invisible characters make names look alike that are not.")),
        ("name: Co-operative Testford", "name: " + "x" * 121,
         (1, 7, "name", "is 121 characters long; the limit is 120", "Shorten it to 120 characters or fewer.")),
        ("last_reviewed: 2025-06-01", "last_reviewed: 2025-01-01",
         (15, 16, "last_reviewed", "is older than your latest commitment review (2025-06-01)", "Set last_reviewed: 2025-06-01")),
    ],
)
def test_rule(tmp_path: Path, ctx: validation.Context, old: str, new: str, expected: tuple) -> None:
    assert one(tmp_path, ctx, replace(old, new)) == expected


def test_misspelt_field_is_unknown_and_required_missing(tmp_path: Path, ctx: validation.Context) -> None:
    problems = check(tmp_path, ctx, replace("summary:", "sumary:"))
    assert [(p.line, p.col, p.field, p.message) for p in problems] == [
        (1, 1, "summary", "is required but missing"),
        (3, 1, "sumary", "unknown field 'sumary'"),
    ]
    assert problems[1].hint == "Did you mean 'summary'?"
    assert problems[0].hint.startswith("Add a line such as  summary: ")


def test_a_number_where_text_belongs_keeps_what_was_written(tmp_path: Path, ctx: validation.Context) -> None:
    text = replace('  country: "GB"\n', '  country: "GB"\n  postcode: 1.10\n')
    assert one(tmp_path, ctx, text) == (8, 13, "location.postcode", "must be text, got the number 1.1", 'Put it in quotes so it stays as written: postcode: "1.10"')


def test_a_place_needs_a_location(tmp_path: Path, ctx: validation.Context) -> None:
    text = VALID.split("location:")[0] + "tags:" + VALID.split("tags:")[1]
    line, col, field, message, hint = one(tmp_path, ctx, text)
    assert (line, col, field, message) == (1, 1, "location", "is required but missing")
    assert hint.startswith("A place community needs a location")


def test_an_interest_community_needs_no_location(tmp_path: Path, ctx: validation.Context) -> None:
    text = VALID.split("location:")[0].replace("kind: place", "kind: interest") + "tags:" + VALID.split("tags:")[1]
    assert check(tmp_path, ctx, text) == []


def test_commitments_are_required_and_not_empty(tmp_path: Path, ctx: validation.Context) -> None:
    text = VALID.split("commitments:")[0] + "commitments: []\n"
    assert one(tmp_path, ctx, text)[:4] == (16, 14, "commitments", "needs at least 1 item")


def test_contact_url_may_be_mailto(tmp_path: Path, ctx: validation.Context) -> None:
    text = replace("  email: hello@testford.example.org", "  url: mailto:hello@testford.example.org")
    assert check(tmp_path, ctx, text) == []


def test_review_dates_may_not_be_in_the_future(tmp_path: Path, ctx: validation.Context) -> None:
    text = replace("      - date: 2025-06-01", "      - date: 2030-06-01").replace("last_reviewed: 2025-06-01", "last_reviewed: 2026-06-01")
    problems = check(tmp_path, ctx, text)
    assert [(p.line, p.field, p.message) for p in problems] == [(23, "commitments[0].reviews[0].date", "2030-06-01 is in the future")]


def test_every_file_is_checked_and_every_problem_reported(tmp_path: Path, ctx: validation.Context) -> None:
    (tmp_path / "a.yaml").write_text(replace("kind: place", "kind: plac"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text("name: [\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text(VALID.replace("Testford", "Otherford"), encoding="utf-8")
    report = validation.validate_files(sorted(tmp_path.iterdir()), ctx)
    assert report.files == 3
    assert sorted({Path(p.path).name for p in report.problems}) == ["a.yaml", "b.yaml"]
    assert [r.slug for r in report.valid_records()] == ["c"]


def test_names_must_be_unique_across_records(tmp_path: Path, ctx: validation.Context) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(VALID.replace("Co-operative Testford", "co-operative  TESTFORD"), encoding="utf-8")
    problems = validation.validate_files(sorted(tmp_path.iterdir()), ctx).problems
    assert [(Path(p.path).name, p.line, p.field, p.rule) for p in problems] == [("b.yaml", 1, "name", "unique-name")]
    assert problems[0].message.startswith("'co-operative  TESTFORD' is already the name of ")


def test_near_identical_names_within_5_km_warn(tmp_path: Path, ctx: validation.Context) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(VALID.replace("Co-operative Testford", "Cooperative Testford").replace("lat: 52.5", "lat: 52.52"), encoding="utf-8")
    (tmp_path / "c.yaml").write_text(VALID.replace("Co-operative Testford", "Co-operative Testfords").replace("lat: 52.5", "lat: 53.5"), encoding="utf-8")
    problems = validation.validate_files(sorted(tmp_path.iterdir()), ctx).problems
    assert [(Path(p.path).name, p.level, p.rule) for p in problems] == [("b.yaml", "warning", "near-duplicate")]
    assert "less than 5 km away" in problems[0].message


def test_every_schema_field_has_title_description_and_example(root: Path) -> None:
    import json

    schema = json.loads((root / "data/community.schema.json").read_text(encoding="utf-8"))

    def walk(node: dict, where: str) -> None:
        for name, sub in node.get("properties", {}).items():
            for key in ("title", "description", "examples"):
                assert key in sub, f"{where}{name} lacks {key}"
            walk(sub, f"{where}{name}.")
            if "items" in sub:
                walk(sub["items"], f"{where}{name}[].")

    walk(schema, "")


def test_the_record_cache_reuses_results_and_notices_changes(tmp_path: Path, ctx: validation.Context, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "a.yaml").write_text(replace("kind: place", "kind: plac"), encoding="utf-8")
    (folder / "b.yaml").write_text(VALID.replace("Testford", "Otherford"), encoding="utf-8")
    cache = tmp_path / "cache" / "records.pickle"
    first = validation.validate_files(sorted(folder.iterdir()), ctx, cache_path=cache)
    assert cache.exists()
    calls = []
    monkeypatch.setattr(validation, "check_record", lambda rec, c: calls.append(rec.path) or [])
    second = validation.validate_files(sorted(folder.iterdir()), ctx, cache_path=cache)
    assert calls == [] and second.problems == first.problems
    (folder / "b.yaml").write_text(VALID.replace("Testford", "Thirdford"), encoding="utf-8")
    validation.validate_files(sorted(folder.iterdir()), ctx, cache_path=cache)
    assert calls == [str(folder / "b.yaml")]


def test_a_corrupt_record_cache_is_ignored(tmp_path: Path, ctx: validation.Context) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    cache = tmp_path / "records.pickle"
    cache.write_bytes(b"not a pickle")
    assert validation.validate_files([tmp_path / "a.yaml"], ctx, cache_path=cache).problems == []


def test_an_unwritable_cache_folder_does_not_stop_validation(tmp_path: Path, ctx: validation.Context) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    report = validation.validate_files([tmp_path / "a.yaml"], ctx, cache_path=blocker / "records.pickle")
    assert report.problems == [] and report.files == 1


def test_an_unchanged_file_is_not_read_again_and_a_changed_one_always_is(tmp_path: Path, ctx: validation.Context,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "a.yaml").write_text(replace("kind: place", "kind: plac"), encoding="utf-8")
    (folder / "b.yaml").write_text(VALID.replace("Testford", "Otherford"), encoding="utf-8")
    cache = tmp_path / "cache" / "records"
    monkeypatch.setattr(validation.Stamps, "RACY_SECONDS", 0)  # these files were written a moment ago
    first = validation.validate_files(sorted(folder.iterdir()), ctx, cache_path=cache)
    real_read = validation.records.read_bytes
    read: list[str] = []
    monkeypatch.setattr(validation.records, "read_bytes", lambda p: read.append(Path(p).name) or real_read(p))
    second = validation.validate_files(sorted(folder.iterdir()), ctx, cache_path=cache)
    assert read == [] and second.problems == first.problems
    assert [r.data["name"] for r in second.records] == [r.data["name"] for r in first.records]
    assert second.records[0].text == first.records[0].text  # read when asked for, not before
    # The same number of bytes, new content: the stamp differs (times, inode), so the file is read and checked.
    text = (folder / "b.yaml").read_text(encoding="utf-8")
    (folder / "b.yaml").write_text(text.replace("Otherford", "Thirdford"), encoding="utf-8")
    read.clear()
    third = validation.validate_files(sorted(folder.iterdir()), ctx, cache_path=cache)
    assert read == ["b.yaml"] and third.records[-1].data["name"] != second.records[-1].data["name"]


def test_a_file_changed_just_before_its_stamp_was_taken_is_read_again(tmp_path: Path, ctx: validation.Context,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writes within the filesystem's time resolution look alike: such a stamp is not trusted (git's racy rule)."""
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    cache = tmp_path / "cache" / "records"
    validation.validate_files([tmp_path / "a.yaml"], ctx, cache_path=cache)
    real_read = validation.records.read_bytes
    read: list[str] = []
    monkeypatch.setattr(validation.records, "read_bytes", lambda p: read.append(Path(p).name) or real_read(p))
    validation.validate_files([tmp_path / "a.yaml"], ctx, cache_path=cache)
    assert read == ["a.yaml"]


def test_a_lowered_size_limit_reaches_records_the_cache_passed(tmp_path: Path, ctx: validation.Context) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    cache = tmp_path / "cache" / "records"
    assert validation.validate_files([tmp_path / "a.yaml"], ctx, cache_path=cache).problems == []
    report = validation.validate_files([tmp_path / "a.yaml"], ctx, 100, cache_path=cache)
    assert [p.rule for p in report.problems] == ["size"] and report.records == []


def test_the_record_cache_follows_the_yaml_and_schema_libraries(ctx: validation.Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PyYAML or jsonschema upgrade can read or judge a file differently: nothing cached by the old one is reused."""
    before = validation.Context(ctx.schema, ctx.tags, ctx.today).fingerprint
    for name in ("pyyaml", "jsonschema-rs", "jsonschema"):
        real = validation.package_version
        monkeypatch.setattr(validation, "package_version", lambda n, name=name, real=real: real(n) + ("-new" if n == name else ""))
        assert validation.Context(ctx.schema, ctx.tags, ctx.today).fingerprint != before, name
        monkeypatch.setattr(validation, "package_version", real)


def _on(ctx: validation.Context, day: str) -> validation.Context:
    return validation.Context(ctx.schema, ctx.tags, dt.date.fromisoformat(day))


def test_a_new_day_does_not_check_unchanged_records_again(tmp_path: Path, ctx: validation.Context,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")  # every date in it has passed
    cache = tmp_path / "cache" / "records"
    assert validation.validate_files([tmp_path / "a.yaml"], _on(ctx, "2026-11-24"), cache_path=cache).problems == []
    calls = []
    real = validation.check_record
    monkeypatch.setattr(validation, "check_record", lambda rec, c: calls.append(c.today) or real(rec, c))
    for day in ("2026-11-25", "2027-03-01", "2025-06-01"):
        assert validation.validate_files([tmp_path / "a.yaml"], _on(ctx, day), cache_path=cache).problems == []
    assert calls == []
    # Before its latest date, that date would be in the future: checked again, and refused.
    report = validation.validate_files([tmp_path / "a.yaml"], _on(ctx, "2025-05-31"), cache_path=cache)
    assert calls == [dt.date(2025, 5, 31)] and {p.rule for p in report.problems} == {"date"}


def test_a_date_that_was_in_the_future_is_checked_again_once_it_has_come(tmp_path: Path, ctx: validation.Context) -> None:
    (tmp_path / "a.yaml").write_text(replace("      - date: 2025-06-01", "      - date: 2026-12-01")
                                     .replace("last_reviewed: 2025-06-01", "last_reviewed: 2026-12-01"), encoding="utf-8")
    cache = tmp_path / "cache" / "records"
    before = validation.validate_files([tmp_path / "a.yaml"], _on(ctx, "2026-11-24"), cache_path=cache).problems
    assert sorted(p.message for p in before) == ["2026-12-01 is in the future"] * 2
    assert validation.validate_files([tmp_path / "a.yaml"], _on(ctx, "2026-11-30"), cache_path=cache).problems == before
    assert validation.validate_files([tmp_path / "a.yaml"], _on(ctx, "2026-12-01"), cache_path=cache).problems == []


def test_the_window_a_records_findings_hold_for() -> None:
    data = {"joined": "2024-03-14", "last_reviewed": "2026-12-01",
            "commitments": [{"reviews": [{"date": "2025-06-01"}, {"date": "2027-01-01"}, {"date": "2025-02-30"}]}]}
    assert validation.today_window(data, dt.date(2026, 11, 24)) == ("2025-06-01", "2026-12-01")
    assert validation.today_window(data, dt.date(2030, 1, 1)) == ("2027-01-01", "")
    assert validation.today_window(data, dt.date(2020, 1, 1)) == ("", "2024-03-14")
    assert validation.today_window({}, dt.date(2026, 11, 24)) == ("", "")


def test_a_record_checked_again_on_a_new_day_is_kept_with_its_new_window(tmp_path: Path, ctx: validation.Context,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.yaml").write_text(replace("last_reviewed: 2025-06-01", "last_reviewed: 2026-12-01"), encoding="utf-8")
    cache = tmp_path / "cache" / "records"
    validation.validate_files([tmp_path / "a.yaml"], _on(ctx, "2026-11-24"), cache_path=cache)  # its date is still to come
    validation.validate_files([tmp_path / "a.yaml"], _on(ctx, "2026-12-02"), cache_path=cache)  # it has come: checked again
    calls = []
    real = validation.check_record
    monkeypatch.setattr(validation, "check_record", lambda rec, c: calls.append(c.today) or real(rec, c))
    assert validation.validate_files([tmp_path / "a.yaml"], _on(ctx, "2026-12-03"), cache_path=cache).problems == []
    assert calls == []  # the second check was kept
