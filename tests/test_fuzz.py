"""Fuzzing with Hypothesis: any bytes give a record or clean problems, and any record the
schema allows validates, renders and exports.

`make test` runs the 'ci' profile (a short run); `make soak` sets SOAK=1 and runs the
tests marked soak with the 'soak' profile: 10,000 cases each.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import tempfile
import types
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from communities import environment, exports, model, records, rendering, validation
from conftest import ROOT
from hostile import html_checks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("soak", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
SOAK = settings.get_profile("soak")
CI = settings.get_profile("ci")

SCHEMA = json.loads((ROOT / "data" / "community.schema.json").read_text(encoding="utf-8"))
CTX, _ = validation.Context.from_files(ROOT / "data" / "community.schema.json", ROOT / "data" / "tags.yaml", dt.date(2026, 11, 24))
VOCABULARY = sorted(CTX.tags)
FOLDER = Path(tempfile.mkdtemp(prefix="fuzz-"))


# --- any bytes -------------------------------------------------------------------------------

_YAML_BITS = ["name", "kind", "summary", "commitments", "location", ":", ": ", "- ", "\n", "  ", "[", "]", "{", "}", ",", "&a ", "*a",
              "<<: ", "!!", "!!float ", "!!binary ", "!!set ", "!foo ", "? ", "'", '"', "\\", "#", "---\n", "...\n", "|\n", ">-\n",
              "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "NO", "yes", "19:30", "0755", "1_0", ".nan", "-.inf", "~", "null", "2024-13-45",
              "\t", "\r\n", "\ufeff", "\u202e", "\u200b", "\x00", "\x85", "\u2028", "é", "😀", "lat: ", "lon: ", "[[[[", "]]]]", "{a: "]
yaml_like = st.lists(st.sampled_from(_YAML_BITS) | st.text(max_size=8), max_size=80).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))
any_bytes = st.binary(max_size=4000) | yaml_like | yaml_like.map(lambda b: b"\xff\xfe" + b) | st.text(max_size=300).map(lambda t: t.encode("utf-16"))


def _read_any(raw: bytes) -> None:
    path = FOLDER / "fuzzed-record.yaml"
    path.write_bytes(raw)
    rec, problems = records.read_record(path)
    assert (rec is None) == any(p.is_error for p in problems)
    assert all(isinstance(p.line, int) and p.line >= 1 and p.col >= 1 for p in problems)
    report = validation.validate_files([path], CTX)
    assert report.files == 1
    if rec is None:
        assert not report.ok and report.problems


@settings(CI)
@given(any_bytes)
def test_any_bytes_give_a_record_or_problems_never_an_exception(raw: bytes) -> None:
    _read_any(raw)


@pytest.mark.soak
@settings(SOAK)
@given(any_bytes)
def test_soak_any_bytes(raw: bytes) -> None:
    _read_any(raw)


# --- records the schema allows ------------------------------------------------------------------

_BANNED = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff\u00ad\u2028\u2029]")
_text_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                            "\u200e\u200f\u061c\u200b\u200c\u200d\u2060\ufeff\u00ad\u2028\u2029")
_hostile_bits = st.sampled_from(["<script>", "</script>", "<!--", '"', "'", "&", "<img src=x onerror=alert(1)>", "{{7*7}}",
                                 "[x](javascript:alert(1))", "\\u003c", "=cmd", "]]>", "</a>", "`"])


def text_for(sub: dict[str, Any], multiline: bool) -> st.SearchStrategy[str]:
    lo, hi = sub.get("minLength", 0), min(sub.get("maxLength", 200), 400)
    alphabet = _text_chars if not multiline else st.one_of(_text_chars, st.just("\n"))
    pieces = st.lists(st.one_of(st.text(alphabet, min_size=1, max_size=20), _hostile_bits), max_size=12).map("".join)
    return pieces.map(lambda t: t[:hi]).filter(lambda t: len(t.strip()) >= max(lo, 1 if lo else 0) and not _BANNED.search(t))


_dates = st.dates(dt.date(2000, 1, 1), dt.date(2026, 11, 24)).map(dt.date.isoformat)
_hosts = st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,5})?\.(org|coop|co\.uk|example)", fullmatch=True)
_paths = st.from_regex(r"(/[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,12}){0,3}", fullmatch=True)
_urls = st.builds(lambda scheme, host, path: f"{scheme}://{host}{path}", st.sampled_from(["https", "http"]), _hosts, _paths)
_emails = st.builds(lambda user, host: f"{user}@{host}", st.from_regex(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,20}", fullmatch=True)
                    .filter(lambda u: not u.startswith(".")), _hosts)


def from_schema(sub: dict[str, Any], name: str = "") -> st.SearchStrategy[Any]:
    """A strategy for values valid under this small corner of JSON Schema (the parts our schema uses)."""
    if "enum" in sub:
        return st.sampled_from(sub["enum"])
    kind = sub.get("type")
    if kind == "object":
        props = sub.get("properties", {})
        required = set(sub.get("required", []))
        fields = {k: from_schema(v, k) for k, v in props.items()}
        return st.fixed_dictionaries({k: fields[k] for k in props if k in required},
                                     optional={k: fields[k] for k in props if k not in required})
    if kind == "array":
        items = sub.get("items", {})
        if name == "tags":
            return st.lists(st.sampled_from(VOCABULARY), unique=True, max_size=min(sub.get("maxItems", 5), 5))
        return st.lists(from_schema(items, name), min_size=sub.get("minItems", 0), max_size=min(sub.get("maxItems", 3), 3))
    if kind == "integer":
        return st.integers(sub.get("minimum", -(10**6)), sub.get("maximum", 10**6))
    if kind == "number":
        return st.floats(sub.get("minimum", -1e6), sub.get("maximum", 1e6), allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        if sub.get("format") == "date":
            return _dates
        if sub.get("format") == "email":
            return _emails
        if "pattern" in sub and "mailto" in sub["pattern"]:
            return _urls | _emails.filter(lambda e: not set(e) & set("?#%")).map(lambda e: "mailto:" + e)
        if "pattern" in sub and "http" in sub["pattern"]:
            return _urls
        if name == "country":
            return st.just("GB")
        return text_for(sub, multiline=name in ("description", "note", "summary"))
    raise AssertionError(f"no strategy for {sub}")


def _fix_up(data: dict[str, Any]) -> dict[str, Any]:
    """What the schema cannot say: a place has a point inside its country (we build offline), names are not blank."""
    if data["kind"] == "place" or "location" in data:
        loc = data.setdefault("location", {"place": "Somewhere", "country": "GB"})
        loc["country"] = "GB"
        loc["lat"], loc["lon"] = round(52.0 + abs(hash(data["name"])) % 300 / 100, 4), -1.5
    return data


records_strategy = from_schema(SCHEMA).map(_fix_up)


def _jinja() -> tuple[jinja2.Environment, dict[str, Any]]:
    """The theme's templates in a plain Jinja environment, configured exactly as the plugin configures Pelican's."""
    settings_ = {"THEME": str(ROOT / "theme"), "PATH": str(ROOT / "content"), "DEFAULT_LANG": "en", "PROJECT_ROOT": str(ROOT)}
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROOT / "theme" / "templates")), extensions=["jinja2.ext.i18n"],
                             trim_blocks=True, lstrip_blocks=True)
    environment.configure(types.SimpleNamespace(env=env, settings=settings_))
    return env, settings_


ENV, _ = _jinja()
TEMPLATE = ENV.get_template("community.html")
MD = rendering.MarkdownCache(None)


def _render(data: dict[str, Any]) -> None:
    dumped = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    loaded, problems = records.parse(dumped, "fuzzed.yaml")
    assert problems == [] and loaded == data  # what a YAML tool writes, the loader reads back unchanged
    rec = records.RawRecord("data/communities/fuzzed.yaml", "fuzzed", loaded, dumped, "0" * 64)
    errors = [p for p in validation.check_record(rec, CTX) if p.is_error]
    assert errors == []
    c = model.community_from_data("fuzzed", rec.path, loaded, rec.digest)
    if c.location and c.location.lat is not None:
        c = model.Community(**{**c.__dict__, "point": model.Point(c.location.lat, c.location.lon, "record")})
    page = TEMPLATE.render(community=c, description_html=MD.render(c.description), commitment_html=[MD.render(k.description) for k in c.commitments],
                           json_ld=rendering.json_for_html(exports.json_ld(c)), edit_url="https://github.com/x/y/edit", source_url="",
                           email=rendering.obfuscate_email(c.email) if c.email else None, review_due=False, region_slug="",
                           page_title=c.name, output_file="communities/fuzzed/index.html", SITEURL="", SITENAME="Test", tag_labels={},
                           AREAS=model.AREAS, STATUSES=model.STATUSES)
    assert html_checks.problems(page, "fuzzed") == []
    h1 = html_checks.parse(page).find("h1")
    assert [h.text for h in h1] == [c.name]
    assert json.loads(json.dumps(exports.public_record(c), allow_nan=False))["name"] == data["name"]
    assert exports.geojson([c])["features"] or not c.point
    rows = list(csv.DictReader(io.StringIO(exports.csv_text([c]))))
    assert len(rows) == 1 and rows[0]["slug"] == "fuzzed"
    exports.atom_feed([c], "", "Site", "Feed")


@settings(CI)
@given(records_strategy)
def test_any_record_the_schema_allows_validates_and_renders_inert(data: dict[str, Any]) -> None:
    _render(data)


@pytest.mark.soak
@settings(SOAK)
@given(records_strategy)
def test_soak_records_the_schema_allows(data: dict[str, Any]) -> None:
    _render(data)


@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(records_strategy, min_size=3, max_size=12))
def test_generated_records_build_into_a_site(tmp_path_factory: pytest.TempPathFactory, batch: list[dict[str, Any]]) -> None:
    """A whole build of generated records, through scripts/build: pages, rows and files for each."""
    from conftest import build_site
    from hostile.site import isolated_config

    tmp = tmp_path_factory.mktemp("generated")
    folder = tmp / "communities"
    folder.mkdir()
    for i, data in enumerate(batch):
        data = {**data, "name": f"Generated {i} {data['name']}"[:120]}
        (folder / f"generated-{i}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = build_site(tmp / "site", folder, "--config", str(isolated_config(tmp)), "--no-search")
    assert result.returncode == 0, result.stdout + result.stderr
    for i in range(len(batch)):
        assert (tmp / "site" / "communities" / f"generated-{i}" / "index.html").is_file()


if os.environ.get("SOAK") == "1":
    settings.load_profile("soak")
