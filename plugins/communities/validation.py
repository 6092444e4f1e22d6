"""Validate: the schema and the rules beyond it -> Problems with file, line and column.

Rules run on plain data and report a `Finding` at a path inside the record; a
file's positions are looked up only when it has findings (see records.locate).
One problem per field: the project's own rules speak first, with a message
written for the person who made the mistake; the schema fills in the rest.

Speed (10,000 records, see docs/benchmarks.md): every file is read and hashed
here, and looked up in the content-hash cache; what is new is parsed and checked
in COMMUNITIES_WORKERS forked processes when there are enough files to pay for
them. A worker sends back problems, the few facts the rules across records need
(`Facts`) and, for the cache or a build that wants the records, the data pickled
on its own: unpickling that is far cheaper than parsing again. The order of the
problems never depends on how many processes ran.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import hashlib
import json
import math
import os
import pickle
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jsonschema_rs
import yaml

from . import records
from .files import ShardedStore, package_version, read_cache, write_cache
from .geo import EARTH_RADIUS_KM, distance_km
from .problems import ERROR, WARNING, Problem
from .records import RawRecord, Trap
from .timing import collector_paused

if TYPE_CHECKING:
    import jsonschema

Path_ = tuple[str | int, ...]

SINGLE_LINE_FIELDS = {"name", "place", "region", "title", "unit", "sector", "postcode", "members", "meets"}
# Bidirectional overrides/isolates and invisible characters: names that display differently from what they say.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Any character one of the three above looks for: text without one needs no closer look.
_SUSPECT = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\u200b-\u200d\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s")
_SIMPLE_URL = re.compile(r"https?://([A-Za-z0-9.-]*)(?:[/?#]|\Z)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Every Latin-1 character that is neither suspect nor a backslash (which may start an escape that makes one).
_PLAIN_LATIN1 = bytes(b for b in range(256) if not _SUSPECT.match(chr(b)) and b != ord("\\"))
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_HOST = re.compile(r"^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$|^xn--")
NEAR_DUPLICATE_KM = 5.0


@dataclass(frozen=True)
class Finding:
    where: Path_
    message: str
    hint: str = ""
    rule: str = ""
    level: str = ERROR
    at_key: bool = False
    quote_hint: bool = False


@dataclass
class Context:
    """What every rule may consult: the schema, the tag vocabulary and today's date."""

    schema: dict[str, Any]
    tags: dict[str, dict[str, str]]
    today: dt.date = field(default_factory=dt.date.today)

    @cached_property
    def validator(self) -> jsonschema.protocols.Validator:
        """python-jsonschema, imported only when a record fails the fast check (or to fork workers that may need it)."""
        import jsonschema.validators

        cls = jsonschema.validators.validator_for(self.schema)
        return cls(self.schema, format_checker=cls.FORMAT_CHECKER)

    @cached_property
    def fast_validator(self) -> Any:
        """jsonschema-rs answers 'valid?' ~30x faster; python-jsonschema explains the failures."""
        return jsonschema_rs.validator_for(self.schema, validate_formats=True)

    @cached_property
    def fingerprint(self) -> str:
        """Everything a record's findings depend on besides its own bytes and today's date.

        Not the date: only a record's dates are compared with it, so RecordCache keeps
        with each record the days its findings hold for (today_window), and the first
        run of a new day does not check every record again.
        """
        code = "".join(Path(m.__file__).read_text(encoding="utf-8") for m in (records, sys.modules[__name__]))
        # An upgraded YAML parser or schema validator may read or judge the same bytes differently.
        libraries = [package_version(name) for name in ("pyyaml", "jsonschema-rs", "jsonschema")]
        parts = json.dumps([self.schema, self.tags, code, libraries], sort_keys=True, default=str)
        return hashlib.sha256(parts.encode("utf-8")).hexdigest()[:24]

    @classmethod
    def from_files(cls, schema_path: str | Path, tags_path: str | Path, today: dt.date | None = None) -> tuple[Context, list[Problem]]:
        schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
        tags, problems = records.load_tags(tags_path)
        return cls(schema, tags, today or dt.date.today()), problems


@dataclass
class Report:
    """The outcome of validating a set of files (`records` stays empty with keep_records=False)."""

    records: list[RawRecord]
    problems: list[Problem]
    files: int = 0
    facts: dict[str, Facts] = field(default_factory=dict)  # by path: what the rules across records compared

    @property
    def ok(self) -> bool:
        return not any(p.is_error for p in self.problems)

    def valid_records(self) -> list[RawRecord]:
        bad = {p.path for p in self.problems if p.is_error}
        return [r for r in self.records if r.path not in bad]


# --- paths and schema lookups ----------------------------------------------------------

def dotted(where: Path_) -> str:
    out = ""
    for step in where:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _subschema(schema: dict[str, Any], where: Path_) -> dict[str, Any]:
    node = schema
    for step in where:
        if isinstance(step, int):
            node = node.get("items", {})
        else:
            node = node.get("properties", {}).get(step, {})
    return node


def _example(schema: dict[str, Any], where: Path_) -> str:
    examples = _subschema(schema, where).get("examples") or []
    if not examples:
        return ""
    value = examples[0]
    if isinstance(value, (dict, list)):
        return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=True, width=1000).strip()
    return json.dumps(value, ensure_ascii=False)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (the value is empty)"
    if isinstance(value, bool):
        return f"the yes/no value {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {_short(value)!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a group of fields"
    return type(value).__name__


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list (lines starting with '- ')",
    "object": "a group of indented fields",
}


# --- the schema, translated ------------------------------------------------------------

def schema_findings(data: dict[str, Any], ctx: Context) -> Iterator[Finding]:
    try:
        if ctx.fast_validator.is_valid(data):
            return
    except ValueError:
        pass  # loader types it cannot take (Trap strings): the full validator reads them
    for err in ctx.validator.iter_errors(data):
        yield from _translate(err, ctx.schema)


def _translate(err: jsonschema.ValidationError, schema: dict[str, Any]) -> Iterator[Finding]:
    where: Path_ = tuple(err.absolute_path)
    kind, expected, value = err.validator, err.validator_value, err.instance
    if kind == "required":
        for name in expected:
            if isinstance(value, dict) and name not in value:
                example = _example(schema, where + (name,))
                hint = f"Add a line such as  {name}: {example}" if example else f"Add {name}."
                if name == "location":
                    hint = "A place community needs a location: place, region and country (e.g. GB). " + hint
                yield Finding(where + (name,), "is required but missing", hint, "required")
        return
    if kind == "additionalProperties":
        allowed = sorted(_subschema(schema, where).get("properties", {}))
        for name in sorted(set(value) - set(allowed)):
            close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
            hint = f"Did you mean {close[0]!r}?" if close else f"Remove it. Fields allowed here: {', '.join(allowed)}."
            yield Finding(where + (name,), f"unknown field {name!r}", hint, "unknown-field", at_key=True)
        return
    if kind == "type":
        words = _TYPE_WORDS.get(expected, str(expected))
        quote = expected == "string" and isinstance(value, (int, float, bool))
        hint = "Put the value in quotes so it stays as written." if quote else f"Write {words} here."
        if value is None:
            yield Finding(where, f"is empty; it must be {words}", "Fill it in, or delete the line.", "type")
            return
        yield Finding(where, f"must be {words}, got {_describe(value)}", hint, "type", quote_hint=quote)
        return
    if kind == "enum":
        options = ", ".join(map(str, expected))
        close = difflib.get_close_matches(str(value), list(map(str, expected)), n=1, cutoff=0.6)
        hint = f"Did you mean {close[0]!r}?" if close else f"Use one of: {options}."
        yield Finding(where, f"must be one of {options}; got {_short(str(value))!r}", hint, "enum")
        return
    if kind in ("minLength", "maxLength"):
        n = len(value)
        if n == 0:
            yield Finding(where, "is empty", "Fill it in, or delete the line.", "length")
        elif kind == "minLength":
            yield Finding(where, f"is too short ({n} characters; at least {expected})", "Say a little more.", "length")
        else:
            yield Finding(where, f"is {n} characters long; the limit is {expected}", f"Shorten it to {expected} characters or fewer.", "length")
        return
    if kind == "minItems":
        hint = "Add at least one commitment with area, title, measure and status." if where[-1:] == ("commitments",) else "Add an item."
        yield Finding(where, f"needs at least {expected} item{'s' if expected != 1 else ''}", hint, "items")
        return
    if kind == "maxItems":
        yield Finding(where, f"has {len(value)} items; the limit is {expected}", "Keep the most important ones.", "items")
        return
    if kind == "uniqueItems":
        yield Finding(where, "lists the same item more than once", "Remove the repeated item.", "items")
        return
    if kind in ("minimum", "maximum"):
        sub = err.schema
        lo, hi = sub.get("minimum"), sub.get("maximum")
        bounds = f"between {lo} and {hi}" if lo is not None and hi is not None else (f"at least {lo}" if lo is not None else f"at most {hi}")
        yield Finding(where, f"must be {bounds}, got {value}", _range_hint(where), "range")
        return
    if kind == "pattern":
        yield _pattern_finding(where, str(value), expected)
        return
    if kind == "format":
        yield _format_finding(where, str(value), expected)
        return
    if kind == "dependentRequired":
        for name, needs in expected.items():
            for other in needs:
                if isinstance(value, dict) and name in value and other not in value:
                    yield Finding(where + (name,), f"is given without {other}", "Give both lat and lon, or neither.", "coordinates")
        return
    if kind in ("if", "then", "allOf", "anyOf", "oneOf"):
        for sub in err.context or ():
            yield from _translate(sub, schema)
        return
    yield Finding(where, err.message, "", kind)


def _range_hint(where: Path_) -> str:
    if where[-1:] == ("lat",):
        return "Latitude is north-south, between -90 and 90 (the UK is about 50 to 61). Check lat and lon are not swapped."
    if where[-1:] == ("lon",):
        return "Longitude is east-west, between -180 and 180 (the UK is about -8 to 2)."
    return "Check the number."


def _pattern_finding(where: Path_, value: str, pattern: str) -> Finding:
    name = next((s for s in reversed(where) if isinstance(s, str)), "")
    if "[0-9]{4}-" in pattern:
        suggestion = _suggest_date(value)
        hint = f"Write it as {suggestion}." if suggestion else "Write the date as YYYY-MM-DD, e.g. 2025-03-14."
        return Finding(where, f"must be a date written YYYY-MM-DD, got {_short(value)!r}", hint, "date")
    if name == "country":
        return Finding(where, f"must be a two-letter country code in capitals, got {_short(value)!r}",
                       'Use the ISO 3166-1 code in quotes, e.g. country: "GB".', "country")
    if "http" in pattern:
        return _url_finding(where, value)
    if isinstance(where[-1], int) and "tags" in where:
        return Finding(where, f"tag {_short(value)!r} must be lowercase words joined by hyphens", "Use a tag from data/tags.yaml.", "tags")
    return Finding(where, f"{_short(value)!r} is not in the expected form", "", "pattern")


def _format_finding(where: Path_, value: str, fmt: str) -> Finding:
    if fmt == "date":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return _pattern_finding(where, value, "[0-9]{4}-")
        return Finding(where, f"{value!r} is not a real date", "Check the day and month, written YYYY-MM-DD.", "date")
    if fmt == "email":
        return Finding(where, f"{_short(value)!r} is not an e-mail address", "Write it like name@example.org.", "email")
    return _url_finding(where, value)


def _url_finding(where: Path_, value: str) -> Finding:
    allowed = "https:// or http:// (or mailto:)" if where == ("contact", "url") else "https:// or http://"
    return Finding(where, f"must be a web address starting with {allowed}, got {_short(value)!r}",
                   "Copy the address from your browser's address bar, e.g. https://example.org.", "url")


def _suggest_date(value: str) -> str:
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(value.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value.strip())
    if m:
        try:
            return dt.date(*map(int, m.groups())).isoformat()
        except ValueError:
            return ""
    return ""


# --- rules beyond the schema -----------------------------------------------------------

def _trap_finding(where: Path_, value: Trap) -> Finding:
    reads = value.reads_as
    name = next((s for s in reversed(where) if isinstance(s, str)), "value")
    if isinstance(reads, bool):
        what = f"the yes/no value {str(reads).lower()}"
        hint = f'If you mean the text, put it in quotes: {name}: "{value}". If you mean yes or no, write true or false.'
    else:
        what = f"the number {reads}"
        hint = f'Put it in quotes so it stays as written: {name}: "{value}".'
    return Finding(where, f"{str(value)!r} is read by YAML as {what}", hint, "yaml-1.1")


def rule_findings(data: dict[str, Any], ctx: Context, text: str | None = None) -> Iterator[Finding]:
    """Every rule the schema cannot say, over one record's data (parsed from `text`, when given)."""
    found: list[Finding] = []
    _value_findings(data, (), found, text is None or not _plain(text))
    yield from found
    yield from _url_findings(data)
    yield from _date_findings(data, ctx.today)
    yield from _tag_findings(data, ctx.tags)


def _plain(text: str) -> bool:
    """Text with no hidden character and no backslash: then no value read from it has one either.

    Hidden characters reach a value from the file as they are, or from a double-quoted
    escape such as "\\u202e". For Latin-1 text (most records) bytes.translate answers
    this faster than a regular expression.
    """
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return "\\" not in text and not _SUSPECT.search(text)
    return not raw.translate(None, _PLAIN_LATIN1)


def _value_findings(value: Any, where: Path_, out: list[Finding], scan: bool = True) -> None:
    """Findings about single values (traps, odd numbers, hidden characters), in document order.

    The hot loop of checking: plain text with no suspect character and no line break,
    and whole numbers, are passed over without building their path. With scan=False
    (the text is _plain) only line breaks in one-line fields are looked for.
    """
    if isinstance(value, dict):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        _leaf_findings(value, where, out)
        return
    for step, item in items:
        kind = type(item)
        if kind is str:
            if scan:
                if "\n" in item or _SUSPECT.search(item):
                    out.extend(_text_findings(where + (step,), item))
            elif "\n" in item and (step if isinstance(step, str) else _field_name(where)) in SINGLE_LINE_FIELDS:
                out.extend(_text_findings(where + (step,), item))
        elif kind is dict or kind is list:
            _value_findings(item, where + (step,), out, scan)
        elif kind is not int and kind is not bool and item is not None:
            _value_findings(item, where + (step,), out, scan)


def _leaf_findings(value: Any, where: Path_, out: list[Finding]) -> None:
    if isinstance(value, Trap):
        out.append(_trap_finding(where, value))
    elif isinstance(value, float) and not math.isfinite(value):
        # The schema's minimum/maximum let NaN through, and JSON has no way to write it.
        out.append(Finding(where, f"must be an ordinary number, got {value}", "Write a number such as 12 or 55.97.", "number"))
    elif isinstance(value, str):
        out.extend(_text_findings(where, value))


def _field_name(where: Path_) -> str:
    return next((s for s in reversed(where) if isinstance(s, str)), "")


def _text_findings(where: Path_, value: str) -> Iterator[Finding]:
    name = _field_name(where)
    if _BIDI.search(value):
        yield Finding(where, "contains a hidden right-to-left or direction-changing character",
                      "Retype the text; invisible direction marks can make it display differently from what it says.", "hidden-characters")
    elif _CONTROL.search(value):
        yield Finding(where, "contains a control character", "Retype the text without pasting from another program.", "hidden-characters")
    elif name in SINGLE_LINE_FIELDS and _INVISIBLE.search(value):
        yield Finding(where, "contains an invisible (zero-width) character",
                      "Retype the text; invisible characters make names look alike that are not.", "hidden-characters")
    elif name in SINGLE_LINE_FIELDS and "\n" in value.strip():
        yield Finding(where, "must be on one line", "Join the lines into one.", "one-line")


def _url_findings(data: dict[str, Any]) -> Iterator[Finding]:
    urls: list[tuple[Path_, Any, bool]] = [(("website",), data.get("website"), False)]
    contact = data.get("contact")
    if isinstance(contact, dict):
        urls.append((("contact", "url"), contact.get("url"), True))
        email = contact.get("email")
        if isinstance(email, str) and not _EMAIL.match(email.strip()):
            yield Finding(("contact", "email"), f"{_short(email)!r} is not an e-mail address",
                          "Write it like hello@example.org, with no spaces or mailto:.", "email")
    for listname in ("cooperatives", "partners"):
        items = data.get(listname)
        if isinstance(items, list):
            urls.extend(((listname, i, "url"), item.get("url"), False) for i, item in enumerate(items) if isinstance(item, dict))
    for where, url, mailto_ok in urls:
        if isinstance(url, str) and not isinstance(url, Trap) and not _url_ok(url, mailto_ok):
            yield _url_finding(where, url)


def _url_ok(url: str, mailto_ok: bool) -> bool:
    if url != url.strip() or _SPACE.search(url) or _CONTROL.search(url):
        return False
    if mailto_ok and url.startswith("mailto:"):
        return bool(_EMAIL.match(url[len("mailto:"):].split("?", 1)[0]))
    simple = _SIMPLE_URL.match(url)
    if simple:  # what urlsplit would find: this scheme, and this netloc as the host, with no '@' or port
        return bool(_HOST.match(simple.group(1).lower()))
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and "@" not in parts.netloc and bool(_HOST.match(host))


def _dates(data: dict[str, Any]) -> Iterator[tuple[Path_, Any]]:
    yield ("joined",), data.get("joined")
    yield ("last_reviewed",), data.get("last_reviewed")
    for ci, commitment in enumerate(data.get("commitments") or []):
        if isinstance(commitment, dict) and isinstance(commitment.get("reviews"), list):
            for ri, review in enumerate(commitment["reviews"]):
                if isinstance(review, dict):
                    yield ("commitments", ci, "reviews", ri, "date"), review.get("date")


def today_window(data: dict[str, Any], today: dt.date) -> tuple[str, str]:
    """The days a record's findings hold for, as ISO dates: from its latest date on or before `today` (if any) up to,
    not including, its earliest date after it (if any). Only _date_findings looks at today, and only to say which
    dates are in the future: any day in this window gives the same answer for every date."""
    since = until = ""
    for _where, value in _dates(data):
        if isinstance(value, str) and _DATE.fullmatch(value):
            with contextlib.suppress(ValueError):  # not a real date: a finding that does not depend on today
                day = dt.date.fromisoformat(value).isoformat()
                if day > today.isoformat():
                    until = min(until, day) if until else day
                else:
                    since = max(since, day)
    return since, until


def _date_findings(data: dict[str, Any], today: dt.date) -> Iterator[Finding]:
    seen: dict[Path_, dt.date] = {}
    for where, value in _dates(data):
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            continue  # the schema's pattern explains the form
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            yield Finding(where, f"{value!r} is not a real date", "Check the day and the month (YYYY-MM-DD).", "date")
            continue
        if day > today:
            yield Finding(where, f"{value} is in the future", "Use the date it happened, not a planned date.", "date")
            continue
        seen[where] = day
    joined = seen.get(("joined",))
    reviewed = seen.get(("last_reviewed",))
    review_days = [d for w, d in seen.items() if len(w) == 5]
    if joined and reviewed and reviewed < joined:
        yield Finding(("last_reviewed",), "is before the date the community joined", "Check both dates.", "date", WARNING)
    if review_days and (not reviewed or reviewed < max(review_days)):
        latest = max(review_days).isoformat()
        yield Finding(("last_reviewed",), f"is older than your latest commitment review ({latest})",
                      f"Set last_reviewed: {latest}", "review-date", WARNING)


def _tag_findings(data: dict[str, Any], vocabulary: dict[str, dict[str, str]]) -> Iterator[Finding]:
    tags = data.get("tags")
    if not isinstance(tags, list) or not vocabulary:
        return
    labels: dict[str, str] | None = None
    for i, tag in enumerate(tags):
        if not isinstance(tag, str) or isinstance(tag, Trap) or tag in vocabulary:
            continue
        if labels is None:
            labels = {v["label"].casefold(): k for k, v in vocabulary.items()}
        guess = labels.get(tag.casefold()) or next(iter(difflib.get_close_matches(tag.lower(), list(vocabulary), n=1, cutoff=0.75)), "")
        hint = f"Did you mean {guess!r}?" if guess else "Use a tag from data/tags.yaml, or propose a new one there in the same pull request."
        yield Finding(("tags", i), f"unknown tag {_short(tag)!r}", hint, "tags")


# --- one record, then many --------------------------------------------------------------

def findings_for(data: dict[str, Any], ctx: Context, text: str | None = None) -> list[Finding]:
    """Rules first, then the schema, keeping one finding per field."""
    out: list[Finding] = []
    taken: set[Path_] = set()
    for finding in (*rule_findings(data, ctx, text), *schema_findings(data, ctx)):
        if finding.where in taken:
            continue
        taken.add(finding.where)
        out.append(finding)
    return out


def to_problems(record: RawRecord, findings: Iterable[Finding]) -> list[Problem]:
    out = []
    for f in findings:
        (line, col), raw = records.locate(record.text, f.where, key=f.at_key)
        hint = f.hint
        if f.quote_hint and raw is not None:
            name = next((s for s in reversed(f.where) if isinstance(s, str)), "value")
            hint = f'Put it in quotes so it stays as written: {name}: "{raw}"'
        out.append(Problem(record.path, line, col, dotted(f.where), f.message, hint, f.level, f.rule))
    return out


def check_record(record: RawRecord, ctx: Context) -> list[Problem]:
    findings = findings_for(record.data, ctx, record.text)
    return to_problems(record, findings) if findings else []


def _name_key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).casefold()
    if not text.isascii():  # no ASCII character is a combining mark
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _NOT_NAME.sub(" ", text).strip()


_NOT_NAME = re.compile(r"[^a-z0-9]+")


def _coords(data: dict[str, Any]) -> tuple[float, float] | None:
    loc = data.get("location")
    if not isinstance(loc, dict):
        return None
    lat, lon = loc.get("lat"), loc.get("lon")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and not isinstance(lat, bool) and not isinstance(lon, bool):
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return float(lat), float(lon)
    return None


# --- across records ---------------------------------------------------------------------

# What the rules across records need from one record: its name (when it is text) and the
# name's comparison key, whether it is a place, and its coordinates. Small, so worker
# processes send these back instead of the record, and the cache keeps them.
Facts = tuple[str | None, str, bool, tuple[float, float] | None]


def facts_of(data: dict[str, Any]) -> Facts:
    name = data.get("name")
    if not isinstance(name, str):
        return None, "", False, None
    return name, _name_key(name), data.get("kind") == "place", _coords(data)


class _Member:
    """One record as the collection rules see it; its text is decoded only to locate a problem."""

    __slots__ = ("facts", "path", "slug", "source")

    def __init__(self, path: str, facts: Facts, source: str | bytes | None) -> None:
        self.path = path
        self.slug = records.slug_of(path)
        self.facts = facts
        self.source = source  # None: not read this run (its stamp was unchanged)

    def text(self) -> str:
        if self.source is None:
            raw, _ = records.read_bytes(self.path)
            self.source = raw if raw is not None else b""
        return self.source if isinstance(self.source, str) else records.text_of(self.source)


def check_collection(recs: list[RawRecord]) -> list[Problem]:
    """Rules across records: unique slugs and names, and likely duplicates nearby."""
    return _collection_problems([_Member(r.path, facts_of(r.data), r.text) for r in recs])


def _collection_problems(members: list[_Member], near_state: Path | None = None, fingerprint: str = "") -> list[Problem]:
    problems: list[Problem] = []
    by_slug: dict[str, _Member] = {}
    by_name: dict[str, _Member] = {}
    ordered = sorted(members, key=lambda m: m.path)
    for member in ordered:
        if member.slug in by_slug:
            problems.append(Problem(member.path, 1, 1, "", f"slug {member.slug!r} is already used by {by_slug[member.slug].path}",
                                    "Rename this file to a slug of its own.", ERROR, "unique-slug"))
        by_slug.setdefault(member.slug, member)
        name, key = member.facts[0], member.facts[1]
        if name is not None and key:
            if key in by_name:
                (line, col), _ = records.locate(member.text(), ("name",))
                problems.append(Problem(member.path, line, col, "name", f"{name!r} is already the name of {by_name[key].path}",
                                        "If this is the same community, update that file instead; otherwise choose a distinct name.",
                                        ERROR, "unique-name"))
            by_name.setdefault(key, member)
    problems.extend(_near_duplicate_problems(ordered, near_state, fingerprint))
    return problems


def _near_duplicates(recs: list[RawRecord]) -> list[Problem]:
    return _near_duplicate_problems(sorted((_Member(r.path, facts_of(r.data), r.text) for r in recs), key=lambda m: m.path))


# A place community as the near-duplicate rule sees it: path, name key, the key's length,
# latitude in radians, point and the member.
_Candidate = tuple[str, str, int, float, tuple[float, float], _Member]
_NEAR_STATE_VERSION = "near-duplicates 1"  # the stored pairs and facts; a change to this code changes ctx.fingerprint too
NEAR_DUPLICATE_STATE = "near-duplicates.pickle"  # beside the record cache


def _near_duplicate_problems(ordered: list[_Member], state: Path | None = None, fingerprint: str = "") -> list[Problem]:
    """Place communities with nearly the same name less than NEAR_DUPLICATE_KM apart, `ordered` by path.

    Bucketed by a grid of ~5.5 km cells so the comparison stays linear at 10,000
    records; each pair is tried by _near_matches. With `state` (a file beside the
    record cache), the pairs found are kept between runs with every candidate's
    facts, and a run tries only the candidates that are new or whose facts
    changed: the others' pairs cannot have changed. A missing, damaged or other
    context's state means a full scan. Either way the problems are the same, in
    the same order; each is located in the record's text as it is now.
    """
    candidates = _near_candidates(ordered)
    facts = {c[0]: c[5].facts for c in candidates} if state is not None else {}
    if state is None or len(facts) != len(candidates):  # no state, or a path given twice: nothing to key it by
        return _near_problems(_near_pairs(candidates))
    version = f"{_NEAR_STATE_VERSION} {fingerprint}"
    stored = _read_near_state(state, version)
    if stored is None:
        found, changed = _near_pairs(candidates), True
    else:
        found, changed = _near_pairs_since(candidates, facts, *stored)
    if changed:
        with contextlib.suppress(OSError):  # a read-only checkout or a full disk: the next run scans everything again
            write_cache(state, version, (facts, [(other[0], member[0]) for member, other in found]))
    return _near_problems(found)


def _near_candidates(ordered: list[_Member]) -> list[_Candidate]:
    out = []
    for member in ordered:
        name, key, place, point = member.facts
        if point and name is not None and place:
            out.append((member.path, key, len(key), math.radians(point[0]), point, member))
    return out


def _cell(point: tuple[float, float]) -> tuple[int, int]:
    return int(point[0] // 0.05), int(point[1] // 0.08)


def _near_cells(candidates: list[_Candidate]) -> dict[tuple[int, int], list[_Candidate]]:
    cells: dict[tuple[int, int], list[_Candidate]] = defaultdict(list)
    for candidate in candidates:
        cells[_cell(candidate[4])].append(candidate)
    return cells


def _neighbours(cells: dict[tuple[int, int], list[_Candidate]], cell: tuple[int, int]) -> list[_Candidate]:
    """The candidates in a cell and the eight around it, cell by cell (row, then column), each cell in path order."""
    cy, cx = cell
    return [c for dy in (-1, 0, 1) for dx in (-1, 0, 1) for c in cells.get((cy + dy, cx + dx), ())]


def _near_matches(member: _Candidate, others: list[_Candidate], counts: dict[str, dict[str, int]]) -> list[_Candidate]:
    """The `others` after `member` in path order that are near duplicates of it: the pair test, the only one.

    Each pair is tried on the cheap tests first: lengths, latitudes, the distance,
    then the character counts behind difflib's quick_ratio, and only then on
    difflib's ratio, which is what costs. Every test is exact (the latitude one has
    a margin), so the outcome is what ratio and distance_km say.
    """
    path, key, size, lat, point, _ = member
    matcher = None
    out = []
    for other in others:
        opath, okey, osize, olat, opoint, _ = other
        if opath <= path or key == okey or 2 * min(size, osize) < 0.85 * (size + osize):
            continue
        if abs(olat - lat) > _MAX_LAT_APART or distance_km(point, opoint) > NEAR_DUPLICATE_KM:
            continue
        if 2.0 * _common_characters(counts, okey, key) / (osize + size) < 0.85:
            continue  # difflib's quick_ratio, an upper bound on ratio
        if matcher is None:
            matcher = difflib.SequenceMatcher(None, "", key)  # b is indexed once per record, not per pair
        matcher.set_seq1(okey)
        if matcher.ratio() >= 0.85:
            out.append(other)
    return out


_Pair = tuple[_Candidate, _Candidate]  # (member, other): other's path comes after member's


def _near_pairs(candidates: list[_Candidate]) -> list[_Pair]:
    """Every near-duplicate pair, by a scan of the whole grid."""
    cells = _near_cells(candidates)
    counts: dict[str, dict[str, int]] = {}
    found: list[_Pair] = []
    for cell, group in sorted(cells.items()):
        neighbours = _neighbours(cells, cell)
        for member in group:
            for other in _near_matches(member, neighbours, counts):
                found.append((member, other))
    return found


def _near_pairs_since(candidates: list[_Candidate], facts: dict[str, Facts], old_facts: dict[str, Facts],
                      old_pairs: list[tuple[str, str]]) -> tuple[list[_Pair], bool]:
    """The pairs now, from those of the last run and its facts: (pairs, whether anything changed).

    A pair of candidates whose facts are as they were is as it was; every
    candidate that is new or changed is tried against its neighbours, in both
    directions, as the full scan would try the pair.
    """
    by_path = {c[0]: c for c in candidates}
    dirty = set() if facts == old_facts else {path for path, now in facts.items() if old_facts.get(path) != now}
    dirty.update(old_facts.keys() - facts.keys())
    found = [(by_path[path], by_path[opath]) for opath, path in old_pairs if opath not in dirty and path not in dirty]
    if not dirty:
        return found, False
    cells = _near_cells(candidates)
    counts: dict[str, dict[str, int]] = {}
    for path in dirty:
        candidate = by_path.get(path)
        if candidate is None:  # gone: its pairs went with it
            continue
        neighbours = _neighbours(cells, _cell(candidate[4]))
        for other in _near_matches(candidate, neighbours, counts):
            found.append((candidate, other))
        for member in neighbours:
            if member[0] < path and member[0] not in dirty:  # a pair of two changed ones is tried from the first
                for other in _near_matches(member, [candidate], counts):
                    found.append((member, other))
    return found, True


def _read_near_state(path: Path, version: str) -> tuple[dict[str, Facts], list[tuple[str, str]]] | None:
    stored = read_cache(path, version)
    if not isinstance(stored, tuple) or len(stored) != 2 or not isinstance(stored[0], dict) or not isinstance(stored[1], list):
        return None
    old_facts, old_pairs = stored
    if not all(isinstance(p, tuple) and len(p) == 2 and p[0] in old_facts and p[1] in old_facts for p in old_pairs):
        return None
    return old_facts, old_pairs


def _near_problems(found: list[_Pair]) -> list[Problem]:
    """One warning per pair, on the later file, in the order the full scan finds them: by the member's cell and path, then the other's."""
    found.sort(key=lambda pair: (_cell(pair[0][4]), pair[0][0], _cell(pair[1][4]), pair[1][0]))
    problems = []
    for first, second in found:
        member, other = first[5], second[5]
        (line, col), _ = records.locate(other.text(), ("name",))
        problems.append(Problem(other.path, line, col, "name",
                                f"{other.facts[0]!r} looks like {member.facts[0]!r} ({member.path}), less than {NEAR_DUPLICATE_KM:g} km away",
                                "If they are the same community, merge the two files; if not, make the names easier to tell apart.",
                                WARNING, "near-duplicate"))
    return problems


# Two points this far apart in latitude (radians) are further apart than NEAR_DUPLICATE_KM
# on the ground, with a margin for rounding: the distance is at least R * |difference|.
_MAX_LAT_APART = NEAR_DUPLICATE_KM / EARTH_RADIUS_KM * (1 + 1e-6)


def _common_characters(counts: dict[str, dict[str, int]], a: str, b: str) -> int:
    """The characters a and b have in common, with repeats: what difflib's quick_ratio counts."""
    ca = counts.get(a)
    if ca is None:
        ca = counts[a] = dict(Counter(a))
    cb = counts.get(b)
    if cb is None:
        cb = counts[b] = dict(Counter(b))
    if len(cb) < len(ca):
        ca, cb = cb, ca
    common = 0
    for char, n in ca.items():
        m = cb.get(char)
        if m:
            common += n if n < m else m
    return common


# --- the cache ---------------------------------------------------------------------------

# Per record: the facts for the collection rules, its problems (path left empty), its
# data, pickled on its own so that a run that needs only problems never unpickles it, and
# the days those problems hold for (today_window).
Entry = tuple[Facts, list[Problem], bytes, tuple[str, str]]


class RecordCache:
    """Per-file results keyed by content hash and the checking context, kept between runs.

    A file whose bytes, the schema, the vocabulary, the size limit, this code and
    the YAML and schema libraries are unchanged is not parsed or checked again,
    as long as today is in the window its problems hold for (most records: from
    their latest date on, for ever).
    """

    VERSION = "records-2"

    def __init__(self, path: Path | None, fingerprint: str, today: dt.date) -> None:
        self.store = ShardedStore(path, f"{self.VERSION} {fingerprint}")
        self.today = today.isoformat()
        self.entries: dict[str, Entry] = self.store.load()
        self.fresh: dict[str, Entry] = {}
        self.replaced = False  # an entry checked again (its window had passed) under the same digest

    def get(self, digest: str) -> Entry | None:
        hit = self.entries.get(digest)
        if hit is not None:
            since, until = hit[3]
            if since > self.today or (until and until <= self.today):
                return None  # a date in it has passed (or, with a pinned date, not yet come): check it again
            self.fresh[digest] = hit
        return hit

    def put(self, digest: str, entry: Entry) -> None:
        self.replaced = self.replaced or digest in self.entries
        self.fresh[digest] = entry

    def save(self) -> None:
        """Keep what this run saw; shards are written atomically, so an interrupted run leaves the old ones."""
        if not self.replaced and self.fresh.keys() == self.entries.keys():
            return
        with contextlib.suppress(OSError):  # a read-only checkout or a full disk: checking still works, it is just not remembered
            self.store.save(self.fresh)


class Stamps:
    """Each file's size, times and inode when it was last read, so an unchanged file is neither read nor hashed again.

    A stamp is trusted only when the file's metadata last changed at least
    RACY_SECONDS before the stamps were taken: two writes within the
    filesystem's timestamp resolution could otherwise leave a stale digest
    (git's "racily clean" rule). At 10,000 records this saves reading and
    hashing 40 MB on every run.
    """

    RACY_SECONDS = 2
    VERSION = "stamps-1"

    def __init__(self, path: Path | None) -> None:
        self.path = path
        stored = read_cache(path, self.VERSION)
        valid = isinstance(stored, tuple) and len(stored) == 2 and isinstance(stored[0], int) and isinstance(stored[1], dict)
        self.taken_ns: int = stored[0] if valid else 0
        self.old: dict[str, tuple[int, int, int, int, str]] = stored[1] if valid else {}
        self.new: dict[str, tuple[int, int, int, int, str]] = {}

    def unchanged(self, path: str) -> tuple[str | None, tuple[int, int, int, int] | None]:
        """(the digest the file had, when its stamp holds; the file's stamp now, or None if it cannot be stat'ed)."""
        try:
            st = os.stat(path)
        except OSError:
            return None, None
        stamp = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        old = self.old.get(path)
        if old is not None and old[:4] == stamp and max(st.st_mtime_ns, st.st_ctime_ns) < self.taken_ns - self.RACY_SECONDS * 10**9:
            return old[4], stamp
        return None, stamp

    def note(self, path: str, stamp: tuple[int, int, int, int] | None, digest: str) -> None:
        if stamp is not None:
            self.new[path] = (*stamp, digest)

    def save(self) -> None:
        if self.path is None or self.new == self.old:
            return
        with contextlib.suppress(OSError):
            write_cache(self.path, self.VERSION, (time.time_ns(), self.new))


# --- many files ----------------------------------------------------------------------------

MIN_FILES_PER_PROCESS = 200  # below this, starting processes costs more than it saves

# A file parsed and checked: (file-name problems, the record's problems, facts, pickled data,
# the record, the days its problems hold for), or (problems, None, None, None, None, ("", ""))
# when it could not be read as a record.
_Fresh = tuple[list[Problem], list[Problem] | None, Facts | None, bytes | None, RawRecord | None, tuple[str, str]]


def _check_raw(path: str, raw: bytes, digest: str, ctx: Context, max_bytes: int, pickled: bool, keep: bool) -> _Fresh:
    rec, problems = records.record_from_bytes(path, raw, max_bytes, digest)
    if rec is None:
        return problems, None, None, None, None, ("", "")
    found = check_record(rec, ctx)
    blob = pickle.dumps(rec.data, protocol=pickle.HIGHEST_PROTOCOL) if pickled else None
    window = today_window(rec.data, ctx.today) if isinstance(rec.data, dict) else ("", "")
    return problems, found, facts_of(rec.data), blob, rec if keep else None, window


_JOB: tuple[list[str], list[bytes], list[str], Context, int, bool] | None = None  # set just before forking; workers inherit it


def _check_forked(bounds: tuple[int, int]) -> list[_Fresh]:
    assert _JOB is not None
    paths, raws, digests, ctx, max_bytes, pickled = _JOB
    return [_check_raw(paths[i], raws[i], digests[i], ctx, max_bytes, pickled, False) for i in range(*bounds)]


def _can_fork() -> bool:
    """Whether worker processes can be forked here (not in a pool's worker, which may not start its own).

    multiprocessing is imported only once there is enough to parse to want workers: a repeat run does without it.
    """
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _check_all(paths: list[str], raws: list[bytes], digests: list[str], ctx: Context, max_bytes: int, *, pickled: bool,
               keep: bool, workers: int) -> list[_Fresh]:
    """Parse and check files already read, in forked processes when there are enough to pay for them.

    A worker sends back problems, facts and the pickled data (never the text, which
    this process already has): that is what the cache keeps, and unpickling it is
    far cheaper than parsing again.
    """
    if workers <= 1 or len(paths) < 2 * MIN_FILES_PER_PROCESS or not _can_fork():
        return [_check_raw(p, r, d, ctx, max_bytes, pickled, keep) for p, r, d in zip(paths, raws, digests, strict=True)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _JOB
    ctx.fast_validator, ctx.validator  # noqa: B018 - built once here, not once per worker
    workers = min(workers, len(paths) // MIN_FILES_PER_PROCESS)
    step = max(MIN_FILES_PER_PROCESS // 4, -(-len(paths) // (workers * 8)))
    bounds = [(lo, min(lo + step, len(paths))) for lo in range(0, len(paths), step)]
    _JOB = (paths, raws, digests, ctx, max_bytes, pickled or keep)
    out: list[_Fresh] = []
    try:
        # Not multiprocessing.Pool: if a worker dies, the executor says so instead of waiting for it forever.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            for shard in pool.map(_check_forked, bounds):
                out.extend(shard)
    finally:
        _JOB = None
    if keep:  # after the workers are done: unpickling here while they run would keep the executor's thread waiting
        out = [_with_record(fresh, paths[i], raws[i], digests[i]) for i, fresh in enumerate(out)]
    return out


def _with_record(fresh: _Fresh, path: str, raw: bytes, digest: str) -> _Fresh:
    problems, found, facts, blob, _rec, window = fresh
    if blob is None:
        return fresh
    data = pickle.loads(blob)  # made by this program a moment ago
    return problems, found, facts, blob, RawRecord(path, records.slug_of(path), data, records.text_of(raw), digest), window


def validate_files(paths: Iterable[str | Path], ctx: Context, max_bytes: int = records.MAX_FILE_BYTES, *,
                   cache_path: Path | None = None, workers: int = 1, keep_records: bool = True) -> Report:
    """Read and check every file, collecting every problem; never stops at the first.

    Problems come out in the same order whatever `workers` is. With `workers` > 1 and
    enough files to parse, the parsing and checking is split across that many forked
    processes. `keep_records=False` (scripts/validate) leaves Report.records empty:
    only problems are wanted, so nothing is unpickled. The content-hash cache makes
    repeat runs fast either way.
    """
    names = [str(p) for p in paths]
    # The size limit is checked before parsing, so results kept under another limit do not hold.
    cache = RecordCache(cache_path, f"{ctx.fingerprint} {max_bytes}", ctx.today) if cache_path else None
    with collector_paused():
        return _validate(names, ctx, max_bytes, cache, max(1, int(workers)), keep_records,
                         near_state=cache_path.with_name(NEAR_DUPLICATE_STATE) if cache_path else None,
                         stamps=Stamps(cache_path.with_name("stamps.pickle")) if cache_path else None)


def _validate(names: list[str], ctx: Context, max_bytes: int, cache: RecordCache | None, workers: int, keep: bool, *,
              near_state: Path | None = None, stamps: Stamps | None = None) -> Report:
    # First every file is looked up in the cache, here: by its stamp when that is unchanged, else read and
    # hashed. Only what is new is parsed.
    slots: list[tuple[list[Problem], bytes | None, str, Entry | None]] = []
    todo: list[int] = []
    for path in names:
        digest, stamp = stamps.unchanged(path) if stamps is not None else (None, None)
        hit = cache.get(digest) if cache is not None and digest is not None else None
        if hit is not None:
            stamps.note(path, stamp, digest)  # type: ignore[union-attr, arg-type]
            slots.append(([], None, digest, hit))  # type: ignore[arg-type]
            continue
        raw, problems = records.read_bytes(path)
        if raw is None:
            slots.append((records.check_filename(path) + problems, None, "", None))
            continue
        digest = records.digest_of(raw)
        if stamps is not None:
            stamps.note(path, stamp, digest)
        hit = cache.get(digest) if cache is not None else None
        if hit is None:
            todo.append(len(slots))
        slots.append((problems, raw, digest, hit))
    fresh = _check_all([names[i] for i in todo], [slots[i][1] for i in todo], [slots[i][2] for i in todo],  # type: ignore[misc]
                       ctx, max_bytes, pickled=cache is not None, keep=keep, workers=workers)
    results = dict(zip(todo, fresh, strict=True))
    loaded: list[RawRecord] = []
    members: list[_Member] = []
    problems: list[Problem] = []
    for i, (path, (read_problems, raw, digest, hit)) in enumerate(zip(names, slots, strict=True)):
        if hit is not None:  # raw is None when the file was not read (unchanged stamp)
            facts, found, blob, _window = hit
            problems.extend(records.check_filename(path))
            problems.extend(dataclasses.replace(p, path=path) for p in found)
            members.append(_Member(path, facts, raw))
            if keep:
                data = pickle.loads(blob)  # the cache is this program's own file
                loaded.append(RawRecord(path, records.slug_of(path), data, records.text_of(raw) if raw is not None else None, digest))
            continue
        if raw is None:
            problems.extend(read_problems)
            continue
        first, found, facts, blob, rec, window = results[i]
        problems.extend(first)
        if found is None or facts is None:
            continue
        problems.extend(found)
        members.append(_Member(path, facts, rec.text if rec is not None else raw))
        if rec is not None:
            loaded.append(rec)
        if cache is not None and blob is not None:
            cache.put(digest, (facts, [dataclasses.replace(p, path="") for p in found], blob, window))
    problems.extend(_collection_problems(members, near_state if cache is not None else None, ctx.fingerprint))
    problems.sort(key=lambda p: (p.path, p.line, p.col, p.field))
    if cache is not None:
        cache.save()
    if stamps is not None:
        stamps.save()
    return Report(loaded, problems, len(names), {m.path: m.facts for m in members})
