"""The yearly review: add a dated review to a commitment, and list the records whose review is due.

Adding a review edits the contributor's file in place with ruamel.yaml's
round-trip mode, so comments, key order, quoting, flow lists like
`tags: [food, swaps]` and indentation stay exactly as they were; only the new
review and `last_reviewed` change. The edited text is checked by the same
validator as everything else before it may be written, and it is written
atomically, so a refused or interrupted review never leaves a broken file.

    >>> text = "name: X\\ncommitments:\\n  - title: Swap   # monthly\\n    status: planned\\n"
    >>> new, problems = add_review(text, "x.yaml", Request("1", "Nine swaps.", dt.date(2025, 6, 30)))
    >>> print(new, end="")
    name: X
    commitments:
      - title: Swap   # monthly
        status: planned
        reviews:
          - date: 2025-06-30
            note: Nine swaps.
    last_reviewed: 2025-06-30
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import io
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml as yaml11
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from . import model, records, validation
from .files import atomic_write
from .problems import Problem

_MAP_INDENT = re.compile(r"^( *)[A-Za-z_][\w-]*:[ \t]*\n( +)[A-Za-z_\"']", re.M)
_SEQ_INDENT = re.compile(r"^( *)[A-Za-z_][\w-]*:[ \t]*\n( *)- ", re.M)


@dataclass(frozen=True)
class Request:
    """One review to add. `commitment` is a 1-based number or (part of) a title."""

    commitment: str
    note: str
    date: dt.date
    value: float | None = None
    status: str | None = None


@dataclass(frozen=True)
class Added:
    """What `review_file` did, for the command line to report."""

    path: str
    index: int
    title: str
    date: str
    last_reviewed: str
    diff: str


# --- editing, keeping the file's layout ------------------------------------------------

def _yaml_for(text: str) -> YAML:
    """A round-trip YAML whose indentation matches the file's own."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap long lines
    m = _MAP_INDENT.search(text)
    mapping = len(m.group(2)) - len(m.group(1)) if m else 2
    s = _SEQ_INDENT.search(text)
    offset = len(s.group(2)) - len(s.group(1)) if s else 2
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    yaml.representer.ignore_aliases = lambda data: True  # community files may not hold anchors or aliases
    return yaml


def pick_commitment(commitments: list[Any], selector: str) -> tuple[int | None, str]:
    """(0-based index, "") for a number like "2" or a title, or (None, why not)."""
    titles = [str(c.get("title", "")) if isinstance(c, dict) else "" for c in commitments]
    listing = "; ".join(f"{i}: {t}" for i, t in enumerate(titles, 1))
    wanted = selector.strip()
    if wanted.isdigit():
        n = int(wanted)
        if 1 <= n <= len(titles):
            return n - 1, ""
        return None, f"there is no commitment {n}; the file has {len(titles)} ({listing})"
    exact = [i for i, t in enumerate(titles) if t.casefold() == wanted.casefold()]
    partial = [i for i, t in enumerate(titles) if wanted.casefold() in t.casefold()]
    found = exact or partial
    if len(found) == 1:
        return found[0], ""
    if len(found) > 1:
        return None, f"{wanted!r} matches {len(found)} commitments; give its number instead ({listing})"
    close = difflib.get_close_matches(wanted, titles, n=1, cutoff=0.5)
    tip = f" Did you mean {close[0]!r}?" if close else ""
    return None, f"no commitment is called {wanted!r} ({listing}).{tip}"


def _last_comment(node: CommentedMap | CommentedSeq) -> tuple[CommentedMap | CommentedSeq, Any, int] | None:
    """Where ruamel keeps the comment after the last value inside `node`: (container, key, slot)."""
    while True:
        if isinstance(node, CommentedMap) and len(node):
            key, slot = list(node)[-1], 2
        elif isinstance(node, CommentedSeq) and len(node):
            key, slot = len(node) - 1, 0
        else:
            return None
        child = node[key]
        if isinstance(child, (CommentedMap, CommentedSeq)) and len(child) and not child.fa.flow_style():
            node = child
            continue
        return node, key, slot


def _carry_comments(before: CommentedMap | CommentedSeq, entry: CommentedMap) -> None:
    """Keep full-line comments below the new entry.

    ruamel attaches the comment lines that follow a value (say, one introducing
    the next commitment) to that value, so appending after it would slip the new
    review in under the comment. The end-of-line comment stays; the lines after it
    move to the new entry's last value.
    """
    found = _last_comment(before)
    if found is None:
        return
    node, key, slot = found
    comments = node.ca.items.get(key)
    if not comments or len(comments) <= slot or comments[slot] is None:
        return
    token = comments[slot]
    eol, _, rest = token.value.partition("\n")
    if not rest.strip():
        return
    token.value = eol + "\n"
    moved = copy.copy(token)
    moved.value = "\n" + rest
    entry.ca.items[list(entry)[-1]] = [None, None, moved, None]


def _text(value: str) -> str:
    """Text quoted when YAML 1.1 readers (PyYAML, the site's loader) would take it for something else: No, on, 1:30."""
    tag = yaml11.resolver.Resolver().resolve(yaml11.ScalarNode, value, (True, False))
    return value if tag == "tag:yaml.org,2002:str" else DoubleQuotedScalarString(value)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def add_review(text: str, path: str, request: Request) -> tuple[str | None, list[Problem]]:
    """The file's text with the review added and last_reviewed moved on, or why it cannot be done."""
    yaml = _yaml_for(text)
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        return None, [Problem(path, 1, 1, "", f"cannot be read as YAML: {exc}", "Run scripts/validate on it first.", rule="syntax")]
    commitments = data.get("commitments") if isinstance(data, CommentedMap) else None
    if not isinstance(commitments, list) or not commitments:
        return None, [Problem(path, 1, 1, "commitments", "has no commitments to review",
                              "Add a commitment first; see CONTRIBUTING.md.", rule="review")]
    index, why = pick_commitment(commitments, request.commitment)
    if index is None:
        return None, [Problem(path, 1, 1, "commitments", why, "Use --commitment with a number or a title.", rule="review")]
    commitment = commitments[index]
    if not isinstance(commitment, CommentedMap):
        return None, [Problem(path, 1, 1, f"commitments[{index}]", "is not a group of fields", "Run scripts/validate on it first.", rule="review")]

    entry = CommentedMap()
    entry["date"] = request.date
    if request.value is not None:
        entry["value"] = _number(request.value)
    if request.status is not None:
        entry["status"] = request.status
    entry["note"] = _text(request.note.strip())
    reviews = commitment.get("reviews")
    if isinstance(reviews, CommentedSeq):
        _carry_comments(reviews, entry)
        reviews.append(entry)
    else:
        _carry_comments(commitment, entry)
        commitment["reviews"] = CommentedSeq([entry])
    if request.status is not None:
        commitment["status"] = request.status  # the commitment's status is its status now

    latest = _as_date(data.get("last_reviewed"))
    newest = max(d for d in (latest, request.date) if d is not None)
    newest = dt.date(newest.year, newest.month, newest.day)  # a fresh object: one value written twice becomes an alias
    if "last_reviewed" in data:
        data["last_reviewed"] = newest
    elif "joined" in data:
        data.insert(list(data).index("joined") + 1, "last_reviewed", newest)
    else:
        data["last_reviewed"] = newest
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue(), []


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def check_text(text: str, path: str, ctx: validation.Context) -> list[Problem]:
    """The same checks `scripts/validate` runs, on text not yet written."""
    decoded, problems = records.decode(text.encode("utf-8"), path)
    if decoded is None:
        return problems
    data, problems = records.parse(decoded, path)
    if problems:
        return problems
    if not isinstance(data, dict):
        return [Problem(path, 1, 1, "", "must be a set of fields", "", rule="top-level")]
    return validation.check_record(records.RawRecord(path, Path(path).stem, data, decoded), ctx)


def statuses(schema: dict[str, Any]) -> tuple[str, ...]:
    """The statuses the schema allows for a review."""
    sub = schema.get("properties", {}).get("commitments", {}).get("items", {}).get("properties", {})
    enum = sub.get("reviews", {}).get("items", {}).get("properties", {}).get("status", {}).get("enum")
    return tuple(enum or model.STATUSES)


def check_request(request: Request, schema: dict[str, Any], path: str) -> list[Problem]:
    """What can be said about the options before touching the file."""
    problems = []
    allowed = statuses(schema)
    if request.status is not None and request.status not in allowed:
        close = difflib.get_close_matches(request.status, allowed, n=1, cutoff=0.5)
        hint = f"Did you mean {close[0]!r}?" if close else f"Use one of: {', '.join(allowed)}."
        problems.append(Problem(path, 1, 1, "status", f"must be one of {', '.join(allowed)}; got {request.status!r}", hint, rule="enum"))
    if not request.note.strip():
        problems.append(Problem(path, 1, 1, "note", "the note is empty", "Say in a sentence what happened and what you learned.", rule="review"))
    if request.value is not None and request.value < 0:
        problems.append(Problem(path, 1, 1, "value", f"the value must be 0 or more, got {request.value}", "Give how far you got, in the target's unit.", rule="range"))
    return problems


def review_file(path: str | Path, request: Request, ctx: validation.Context, *, write: bool = True) -> tuple[Added | None, list[Problem]]:
    """Add the review to the file and write it, unless the result would not validate."""
    path = str(path)
    problems = check_request(request, ctx.schema, path)
    if problems:
        return None, problems
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(path, 1, 1, "", f"cannot be read: {exc}", "Check the file name.", rule="io")]
    before = check_text(text, path, ctx)
    if any(p.is_error for p in before):
        return None, before
    new, problems = add_review(text, path, request)
    if new is None:
        return None, problems
    after = [p for p in check_text(new, path, ctx) if p.is_error]
    if after:
        return None, after
    if write:
        atomic_write(Path(path), new)
    index, _ = pick_commitment(YAML(typ="safe").load(new)["commitments"], request.commitment)
    title = YAML(typ="safe").load(new)["commitments"][index or 0]["title"]
    diff = "".join(difflib.unified_diff(text.splitlines(True), new.splitlines(True), path, path))
    last = _as_date(YAML(typ="safe").load(new).get("last_reviewed"))
    return Added(path, (index or 0) + 1, str(title), request.date.isoformat(), last.isoformat() if last else "", diff), []


# --- which reviews are due -------------------------------------------------------------

@dataclass(frozen=True)
class Due:
    slug: str
    name: str
    path: str
    since: str  # the last look back (Community.looked_back), else joined, else ""
    due_on: str  # since + the review period; "" when never reviewed and no join date
    overdue: bool
    days: int  # days overdue (positive) or days left (negative or zero)


def due_reviews(communities: list[model.Community], today: dt.date, within_days: int = 31,
                months: int = 12) -> tuple[list[Due], list[Due]]:
    """(overdue, due within `within_days`), each sorted by due date, oldest first."""
    overdue: list[Due] = []
    soon: list[Due] = []
    horizon = today + dt.timedelta(days=within_days)
    for c in communities:
        since = c.looked_back or c.joined
        due_on = model.add_months(dt.date.fromisoformat(since), months) if since else None
        if c.review_due(today, months):
            days = (today - due_on).days if due_on else 0
            overdue.append(Due(c.slug, c.name, c.path, since, due_on.isoformat() if due_on else "", True, days))
        elif c.review_due(horizon, months):
            days = (today - due_on).days if due_on else 0
            soon.append(Due(c.slug, c.name, c.path, since, due_on.isoformat() if due_on else "", False, days))
    return sorted(overdue, key=_by_due_date), sorted(soon, key=_by_due_date)


def _by_due_date(d: Due) -> tuple[str, str]:
    return d.due_on, d.slug


def md_escape(text: str) -> str:
    """Contributors' text made inert in a GitHub issue: no formatting, links, HTML or @mentions."""
    text = re.sub(r"([\\`*_{}\[\]()<>#+!|~])", r"\\\1", " ".join(text.split()))
    return text.replace("@", "&#64;")


def format_due(overdue: list[Due], soon: list[Due], fmt: str, *, today: dt.date, within_days: int, months: int,
               repo: str, branch: str, skipped: int = 0) -> str:
    """The listing as text for people, Markdown for the tracking issue, or JSON for tools."""
    if fmt == "json":
        return json.dumps({"today": today.isoformat(), "within_days": within_days, "months": months,
                           "overdue": [asdict(d) for d in overdue], "due_soon": [asdict(d) for d in soon],
                           "skipped_invalid": skipped}, indent=1, ensure_ascii=False)
    if fmt == "markdown":
        return _markdown(overdue, soon, today, within_days, months, repo.rstrip("/"), branch, skipped)
    lines = []
    for title, group in ((f"Overdue ({len(overdue)})", overdue), (f"Due within {within_days} days ({len(soon)})", soon)):
        lines.append(f"{title}:")
        for d in group:
            when = f"last reviewed {d.since}" if d.since else "never reviewed, no join date"
            due = (f"due since {d.due_on}" if d.overdue else f"due on {d.due_on}") if d.due_on else "due now"
            lines.append(f"  {d.slug}: {d.name} ({when}; {due})")
        if not group:
            lines.append("  none")
    if skipped:
        lines.append(f"{skipped} file(s) with errors were skipped; scripts/validate shows them.")
    return "\n".join(lines)


def _markdown(overdue: list[Due], soon: list[Due], today: dt.date, within_days: int, months: int,
              repo: str, branch: str, skipped: int) -> str:
    out = [
        f"Checked on {today.isoformat()}. Once a year each community looks back at its commitments: how far it got, "
        f"what went well and what to try next. A review is due {months} months after the last one (or after joining).",
        "",
        f"**How to record a review:** edit your file on GitHub and add an entry under each commitment's `reviews`, "
        f"then set `last_reviewed` ([the guide]({repo}/blob/{branch}/CONTRIBUTING.md#the-yearly-review)); "
        "or, with git, run `scripts/review <file name> --commitment 1 --note \"...\"`.",
        "",
        "This issue is updated automatically every week; please do not edit it.",
    ]
    for title, group in ((f"Overdue ({len(overdue)})", overdue), (f"Due within {within_days} days ({len(soon)})", soon)):
        out += ["", f"## {title}", ""]
        if not group:
            out.append("None.")
            continue
        out += ["| Community | Last reviewed | Review due | File |", "| --- | --- | --- | --- |"]
        for d in group:
            rel = f"data/communities/{d.slug}.yaml"
            out.append(f"| {md_escape(d.name)} | {d.since or 'never'} | {d.due_on or 'now'} | [{rel}]({repo}/blob/{branch}/{rel}) |")
    if skipped:
        out += ["", f"{skipped} file(s) have errors and were not checked; the *Check community records* workflow shows them."]
    return "\n".join(out) + "\n"
