"""Hostile input: every rejected file is refused with its file and field named, and every
hostile-but-valid record builds into pages where nothing a contributor wrote can run.

The inert corpus (tests/hostile/site.py) puts each payload from tests/hostile/payloads.py
into every free-text field of the schema and builds once; the rejected corpus
(tests/hostile/rejected/, expectations in tests/hostile/expectations.yaml) goes through
scripts/validate as a contributor would run it.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from communities import rendering
from conftest import ROOT
from hostile import html_checks
from hostile.payloads import BAD_URLS, DECEPTIVE
from hostile.site import build, free_text_fields, write_corpus

HOSTILE = ROOT / "tests" / "hostile"
EXPECTATIONS: dict[str, list[str]] = yaml.safe_load((HOSTILE / "expectations.yaml").read_text(encoding="utf-8"))
VALIDATE = [sys.executable, str(ROOT / "scripts" / "validate"), "--today", "2026-11-24"]


# --- the inert corpus -------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    """(output folder, slug -> record as written) for one build of the whole inert corpus."""
    return build(tmp_path_factory.mktemp("hostile"))


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_the_corpus_reaches_every_free_text_field_of_the_schema() -> None:
    fields = {".".join(p) for p, _ in free_text_fields()}
    assert {"name", "summary", "description", "action_group.name", "action_group.meets", "location.place", "location.region",
            "location.postcode", "commitments.[].title", "commitments.[].description", "commitments.[].measure",
            "commitments.[].target.unit", "commitments.[].reviews.[].note", "cooperatives.[].name", "cooperatives.[].sector",
            "partners.[].name"} <= fields


def test_every_hostile_record_becomes_a_page_a_csv_row_and_a_json_file(hostile) -> None:
    site, written = hostile
    for slug in written:
        assert (site / "communities" / slug / "index.html").is_file(), slug
        assert (site / "data" / "communities" / f"{slug}.json").is_file(), slug
    with (site / "data" / "communities.csv").open(encoding="utf-8", newline="") as handle:
        assert {row["slug"] for row in csv.DictReader(handle)} == set(written)


def test_no_page_runs_or_loads_anything_a_contributor_wrote(hostile) -> None:
    site, _ = hostile
    found = [p for page in _pages(site) for p in html_checks.problems(page.read_text(encoding="utf-8"), str(page.relative_to(site)))]
    # Links the maintainers wrote (handbook pages, the join page) are test_headers.py's concern.
    found = [p for p in found if not (p.endswith("without rel=noopener") and p.startswith(("resources/", "blog/", "join/")))]
    assert found == []


def _template_tags() -> set[str]:
    text = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "theme" / "templates").glob("*.html"))
    return {t.lower() for t in re.findall(r"<([a-zA-Z][a-zA-Z0-9-]*)", text)}


def test_pages_hold_only_elements_the_templates_or_the_sanitiser_make(hostile) -> None:
    site, written = hostile
    allowed = _template_tags() | rendering.ALLOWED_TAGS | {"html", "head", "body"}
    for slug in written:
        page = html_checks.parse((site / "communities" / slug / "index.html").read_text(encoding="utf-8"))
        assert {e.tag for e in page.elements} - allowed == set(), slug
    for listing in ("index.html", "communities/index.html", "tags/food/index.html", "interest/index.html", "commitments/index.html"):
        page = html_checks.parse((site / listing).read_text(encoding="utf-8"))
        assert {e.tag for e in page.elements} - allowed == set(), listing


def test_names_and_summaries_show_as_the_text_that_was_written(hostile) -> None:
    site, written = hostile
    for slug, data in written.items():
        page = html_checks.parse((site / "communities" / slug / "index.html").read_text(encoding="utf-8"))
        assert [h.text for h in page.find("h1")] == [data["name"].strip()], slug
        assert page.find("meta", name="description")[0].attrs["content"] == data["summary"].strip(), slug


def test_json_ld_and_data_files_keep_the_text_exactly(hostile) -> None:
    site, written = hostile
    for slug, data in written.items():
        page = html_checks.parse((site / "communities" / slug / "index.html").read_text(encoding="utf-8"))
        (ld,) = page.find("script", type="application/ld+json")
        org = json.loads(ld.text)
        assert org["name"] == data["name"].strip()
        assert org["description"] == data["summary"].strip()
        assert [m["name"] for m in org.get("member", [])] == [k["name"] for k in data.get("cooperatives", [])]
        record = json.loads((site / "data" / "communities" / f"{slug}.json").read_text(encoding="utf-8"))
        for key in ("name", "summary", "description", "commitments", "cooperatives", "partners", "action_group", "website", "contact"):
            assert record.get(key) == data.get(key), (slug, key)
        for key in ("place", "region"):
            assert record.get("location", {}).get(key) == data.get("location", {}).get(key), (slug, key)


def test_map_data_csv_and_feed_keep_the_text(hostile) -> None:
    site, written = hostile
    features = {f["properties"]["slug"]: f["properties"] for f in json.loads((site / "data" / "communities.geojson").read_text("utf-8"))["features"]}
    for slug, data in written.items():
        if slug in features:
            assert features[slug]["name"] == data["name"].strip()
            assert features[slug]["summary"] == data["summary"].strip()
    with (site / "data" / "communities.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            name = written[row["slug"]]["name"].strip()
            assert row["name"] in (name, "'" + name)  # formulas are defused with a leading quote
            assert row["name"][:1] not in "=+-@"
    feed = ET.parse(site / "feeds" / "communities.atom.xml").getroot()
    titles = {e.text for e in feed.iter("{http://www.w3.org/2005/Atom}title")}
    assert {d["name"].strip() for d in written.values() if d.get("joined")} <= titles


def test_markdown_links_keep_only_web_and_mail_schemes(hostile) -> None:
    site, written = hostile
    for slug in written:
        page = html_checks.parse((site / "communities" / slug / "index.html").read_text(encoding="utf-8"))
        for a in page.find("a"):
            href = a.attrs.get("href", "")
            assert html_checks.scheme_of(href) in ("", "http:", "https:", "mailto:"), (slug, href)


def test_the_checker_itself_catches_what_it_should() -> None:
    """The inertness rules fail on the mistakes they exist for (so a green run means something)."""
    bad = [
        "<script>x()</script>", '<img src=x onerror="x()">', '<a href=" jav&#x09;ascript:x()">', '<a href="https://e.org/">',
        "<iframe src=/x></iframe>", '<script type="application/ld+json">{"a": "<!--"}</script>',
        '<script src="https://cdn.example/x.js"></script>', '<meta http-equiv="refresh" content="0;url=javascript:x()">',
        '<div style="width: expression(x())">',
    ]
    for snippet in bad:
        assert html_checks.problems(snippet), snippet
    assert html_checks.problems('<a href="https://e.org/" rel="nofollow noopener">x</a><script src="/theme/js/site.js"></script>') == []


# --- the rejected corpus ----------------------------------------------------------------

def _generated_rejects(folder: Path) -> dict[str, list[str]]:
    """Cases too big or too odd to keep in the repository, written at test time."""
    folder.mkdir(parents=True, exist_ok=True)
    base = (HOSTILE / "rejected" / "wrong-type-commitments.yaml").read_text(encoding="utf-8").replace("lots of them", "[]")
    (folder / "oversize.yaml").write_text(base + "description: |\n" + ("  " + "x" * 78 + "\n") * 1400, encoding="utf-8")
    (folder / "deep-block-sequences.yaml").write_text("name: x\ncommitments:\n  " + "- " * 40000 + "x\n", encoding="utf-8")
    expected = {"oversize.yaml": ["", "the limit is 100,000"], "deep-block-sequences.yaml": ["", "nested more than"]}
    for i, url in enumerate(BAD_URLS):
        name = f"bad-url-{i:02d}.yaml"
        (folder / name).write_text(yaml.safe_dump({"name": f"Bad url {i}", "kind": "interest", "summary": "A record with a bad address.",
                                                   "website": url, "commitments": [{"area": "action", "title": "Swap", "measure": "Swaps",
                                                                                    "status": "planned"}]}), encoding="utf-8")
        expected[name] = ["website", "" if "\0" in url else "must be a web address"]
    for i, char in enumerate(DECEPTIVE):
        name = f"deceptive-name-{i:02d}.yaml"
        (folder / name).write_text(yaml.safe_dump({"name": f"Lei{char}th {i}", "kind": "interest", "summary": "A record with a hidden character.",
                                                   "commitments": [{"area": "action", "title": "Swap", "measure": "Swaps", "status": "planned"}]}),
                                   encoding="utf-8")
        expected[name] = ["name", "character"]
    return expected


@pytest.fixture(scope="module")
def rejected(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[str]], dict[str, list[dict[str, Any]]], subprocess.CompletedProcess]:
    """One scripts/validate run (JSON) over the stored and generated rejects: expected, problems by file, the run."""
    generated = tmp_path_factory.mktemp("rejected")
    expected = {**EXPECTATIONS, **_generated_rejects(generated)}
    run = subprocess.run([*VALIDATE, "--format", "json", str(HOSTILE / "rejected"), str(generated)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    by_file: dict[str, list[dict[str, Any]]] = {}
    for problem in json.loads(run.stdout)["problems"]:
        by_file.setdefault(Path(problem["path"]).name, []).append(problem)
    return expected, by_file, run


def test_every_stored_reject_has_an_expectation_and_every_expectation_a_file() -> None:
    assert {p.name for p in (HOSTILE / "rejected").iterdir()} == set(EXPECTATIONS)


def test_every_reject_is_refused_naming_its_field(rejected) -> None:
    expected, by_file, run = rejected
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    missing = []
    for name, (field, fragment) in sorted(expected.items()):
        errors = [p for p in by_file.get(name, []) if p["level"] == "error"]
        if not any(p["field"] == field and fragment in p["message"] for p in errors):
            missing.append((name, field, fragment, [(p["field"], p["message"]) for p in errors]))
    assert missing == []


def test_rejects_in_text_form_name_the_file_and_field_without_a_traceback() -> None:
    run = subprocess.run([*VALIDATE, str(HOSTILE / "rejected")], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 1
    assert "Traceback" not in run.stdout + run.stderr and "internal error" not in run.stderr
    for name, (field, _) in EXPECTATIONS.items():
        lines = [line for line in run.stdout.splitlines() if f"{name}:" in line and ": error: " in line]
        assert lines, name
        if field:
            assert any(f": error: {field}: " in line for line in lines), (name, lines)


@pytest.mark.parametrize("name", ["alias-bomb.yaml", "deep-nesting.yaml"])
def test_bombs_are_refused_quickly_on_their_own(name: str) -> None:
    started = time.monotonic()
    run = subprocess.run([*VALIDATE, str(HOSTILE / "rejected" / name)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stdout + run.stderr
    assert time.monotonic() - started < 60


def test_a_bom_and_windows_line_endings_are_accepted(tmp_path: Path) -> None:
    text = (ROOT / "data" / "communities" / "leith.yaml").read_text(encoding="utf-8")
    (tmp_path / "leith.yaml").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    run = subprocess.run([*VALIDATE, str(tmp_path)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 errors" in run.stdout


def test_the_inert_corpus_passes_the_validator(tmp_path: Path) -> None:
    """The inert corpus is not rejected by accident: every record is valid as written."""
    write_corpus(tmp_path / "c")
    run = subprocess.run([*VALIDATE, str(tmp_path / "c")], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0 and " 0 errors" in run.stdout, run.stdout[-3000:]
