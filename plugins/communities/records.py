"""Load: community YAML files -> plain Python data, with every refusal as a Problem.

Reading is the hot path (10,000 files per build), so valid files go through
libyaml's C parser once and never pay for position tracking. Positions are
recovered lazily by `locate`, which re-composes the node tree only for a file
that has a problem to report.

What the loader refuses, whatever the schema says: bytes that are not UTF-8,
files over the size limit, tabs, duplicate keys, anchors and aliases (alias
bombs), merge keys, several documents, non-text keys, and a top level that is
not a mapping. YAML 1.1 readings that surprise people (`NO` -> false,
`19:30` -> 1170) are kept as `Trap` strings for the validator to explain.
Timestamps stay strings, as check-jsonschema does, so the schema checks dates.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .problems import Problem

MAX_FILE_BYTES = 100_000
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 60

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_CANONICAL_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


class Trap(str):
    """A scalar that YAML 1.1 tools read differently from how it looks."""

    reads_as: Any

    def __new__(cls, text: str, reads_as: Any) -> Trap:
        obj = super().__new__(cls, text)
        obj.reads_as = reads_as
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (Trap, (str(self), self.reads_as))


class _Refused(Exception):
    """Raised inside the constructor; turned into a Problem at the edge of `parse`."""

    def __init__(self, mark: Any, message: str, hint: str, rule: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message
        self.hint = hint
        self.rule = rule


@dataclass
class RawRecord:
    """One community file as data, before any rule has looked at it."""

    path: str
    slug: str
    data: dict[str, Any]
    text: str = field(repr=False)
    digest: str = ""


_MAP, _SEQ, _STR = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:str"
_SCALAR_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "null", "timestamp", "merge")}
MAX_DEPTH = 50  # records are about five levels deep; libyaml's composer overflows the C stack near 30,000


def _tag_refusal(loader: Any, node: yaml.Node) -> _Refused | None:
    """Explicit tags (!!float, !!binary, !!set, !custom...) are refused: what they build is not plain data."""
    if isinstance(node, yaml.MappingNode):
        ok = node.tag == _MAP
    elif isinstance(node, yaml.SequenceNode):
        ok = node.tag == _SEQ
    else:
        ok = node.tag == _STR or (
            node.tag in _SCALAR_TAGS and not node.style
            and loader.resolve(yaml.ScalarNode, node.value, (True, False)) == node.tag
        )
    if ok:
        return None
    return _Refused(node.start_mark, f"uses a YAML type tag ({node.tag.replace('tag:yaml.org,2002:', '!!')})",
                    "Remove the tag and write the value plainly; put text in quotes.", "no-tags")


class _StrictLoader(_Loader):  # type: ignore[misc, valid-type]
    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        refused = _tag_refusal(self, node)
        if refused:
            raise refused
        if node in self.constructed_objects or node in self.recursive_objects:
            # The shared node's own mark is the anchor; the caller fills in where it is used.
            raise _Refused(
                None,
                "uses a YAML anchor or alias (&name / *name)",
                "Write the value out in full; anchors and aliases are not allowed in community files.",
                "no-aliases",
            )
        return super().construct_object(node, deep)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    first_seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            raise _Refused(
                key_node.start_mark,
                "uses a YAML merge key (<<)",
                "Write the fields out in full; merge keys are not allowed in community files.",
                "no-aliases",
            )
        key = loader.construct_object(key_node)
        if isinstance(key, Trap):
            key = str(key)
        if not isinstance(key, str):
            raise _Refused(
                key_node.start_mark,
                f"field name {key_node.value if isinstance(key_node, yaml.ScalarNode) else 'made of a list or group'!r} is not plain text",
                "Field names are words such as name, summary or tags; check the spelling and put text values after the colon.",
                "key-type",
            )
        if key in mapping:
            raise _Refused(
                key_node.start_mark,
                f"field {key!r} appears twice (first on line {first_seen[key]})",
                f"Keep one {key!r} line and delete the other.",
                "duplicate-key",
            )
        first_seen[key] = key_node.start_mark.line + 1
        mapping[key] = _construct_at(loader, value_node, key_node.start_mark)
    return mapping


def _construct_sequence(loader: _StrictLoader, node: yaml.SequenceNode) -> list[Any]:
    return [_construct_at(loader, child, node.start_mark) for child in node.value]


def _construct_at(loader: _StrictLoader, node: yaml.Node, mark: Any) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except _Refused as exc:
        if exc.mark is None:
            exc.mark = mark
        raise


def _construct_bool(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    if node.value in _CANONICAL_BOOLS:
        return _CANONICAL_BOOLS[node.value]
    return Trap(node.value, loader.construct_yaml_bool(node))


def _construct_int(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    value = loader.construct_yaml_int(node)
    text = node.value.replace("_", "")
    digits = text.lstrip("+-")
    if ":" in text or (len(digits) > 1 and digits.startswith("0")) or text != node.value:
        return Trap(node.value, value)
    return value


def _construct_float(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    if ":" in node.value or "_" in node.value:
        return Trap(node.value, loader.construct_yaml_float(node))
    return loader.construct_yaml_float(node)


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> str:
    return str(node.value)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_StrictLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def decode(raw: bytes, path: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[str | None, list[Problem]]:
    """Bytes -> text, refusing what YAML tools and people's editors disagree on."""
    if len(raw) > max_bytes:
        return None, [
            Problem(
                path, 1, 1, "", f"file is {len(raw):,} bytes; the limit is {max_bytes:,}",
                "Shorten the description; link to your own website for the full story.", rule="size",
            )
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _position(raw[: exc.start].decode("utf-8", "replace"), exc.start)
        return None, [
            Problem(
                path, line, col, "", "is not UTF-8 text",
                "Save the file as UTF-8 (in most editors: Save As, then choose the UTF-8 encoding).",
                rule="encoding",
            )
        ]
    if text.startswith("\ufeff"):
        text = text[1:]
    tab = text.find("\t")
    if tab >= 0:
        line, col = _position(text, tab)
        return None, [
            Problem(path, line, col, "", "contains a tab character",
                    "Use spaces instead of tabs; YAML indentation must be spaces.", rule="tabs")
        ]
    return text, []


def parse(text: str, path: str) -> tuple[Any, list[Problem]]:
    """Text -> data, or a single problem where YAML or the loader's rules refuse it."""
    deep = _too_deep(text)
    if deep is not None:
        return None, [Problem(path, deep.line + 1, deep.column + 1, "", f"is nested more than {MAX_DEPTH} levels deep",
                              "Community records are only a few levels deep; check the brackets and indentation.", rule="syntax")]
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data(), []
    except _Refused as exc:
        line, col = (exc.mark.line + 1, exc.mark.column + 1) if exc.mark else (1, 1)
        return None, [Problem(path, line, col, "", exc.message, exc.hint, rule=exc.rule)]
    except yaml.reader.ReaderError as exc:
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        line, col = _position(text, min(max(exc.position, 0), len(text)))
        return None, [Problem(path, line, col, "", f"YAML syntax: contains a character YAML does not allow (U+{char:04X})",
                              "Remove control characters; save the file as plain UTF-8 text.", rule="syntax")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = "; ".join(part for part in (exc.context, exc.problem) if part) or "is not valid YAML"
        return None, [Problem(path, line, col, "", f"YAML syntax: {what}", _syntax_hint(what), rule="syntax")]
    except yaml.YAMLError as exc:
        return None, [Problem(path, 1, 1, "", f"YAML syntax: {exc}", _syntax_hint(str(exc)), rule="syntax")]
    except RecursionError:
        return None, [
            Problem(path, 1, 1, "", "is nested too deeply to read",
                    "Community records are only a few levels deep; check the indentation.", rule="syntax")
        ]
    finally:
        loader.dispose()


def _too_deep(text: str) -> Any:
    """The mark where nesting passes MAX_DEPTH, found from parser events before anything recurses.

    Every level of nesting costs at least one of [ { - ? (or more indentation than a
    file may hold), so ordinary files skip the scan.
    """
    if sum(text.count(c) for c in "[{-?") < 500:
        return None
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None  # parse() reports the syntax error with its position
    return None


def _syntax_hint(what: str) -> str:
    if "expected a single document" in what:
        return "Remove the extra '---' line: one community per file."
    if "mapping values are not allowed" in what:
        return "A value containing ': ' must be in quotes, e.g. summary: \"Food: grown here\"."
    if "could not find expected ':'" in what:
        return "Each field needs a colon after its name, e.g. name: Leith."
    if "found character" in what and "cannot start any token" in what:
        return "Put values starting with @, ` or % in quotes."
    if "special characters are not allowed" in what or "unacceptable character" in what:
        return "Remove control characters; save the file as plain UTF-8 text."
    return "Check the indentation and that text containing ': ' or '#' is in quotes."


def check_filename(path: str) -> list[Problem]:
    """The slug is the file name: lowercase ASCII kebab-case, ending .yaml."""
    name = Path(path).name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    suggestion = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "your-community"
    if ext != "yaml":
        return [Problem(path, 1, 1, "", f"file name {name!r} must end in .yaml",
                        f"Rename it to {suggestion}.yaml.", rule="filename")]
    if not SLUG_RE.match(stem) or len(stem) > MAX_SLUG_LENGTH:
        return [Problem(path, 1, 1, "", f"file name {name!r} must be lowercase letters, digits and hyphens "
                        f"(at most {MAX_SLUG_LENGTH} characters before .yaml)",
                        f"Rename it to {suggestion[:MAX_SLUG_LENGTH]}.yaml.", rule="filename")]
    return []


def read_record(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[RawRecord | None, list[Problem]]:
    """One file -> a RawRecord, or the problems that stopped it being read."""
    path = str(path)
    raw, problems = read_bytes(path)
    if raw is None:
        return None, check_filename(path) + problems
    return record_from_bytes(path, raw, max_bytes)


def read_bytes(path: str) -> tuple[bytes | None, list[Problem]]:
    try:
        return Path(path).read_bytes(), []
    except OSError as exc:
        return None, [Problem(path, 1, 1, "", f"cannot be read: {exc.strerror or exc}",
                              "Check the file exists and is readable.", rule="io")]


def digest_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def record_from_bytes(path: str, raw: bytes, max_bytes: int = MAX_FILE_BYTES) -> tuple[RawRecord | None, list[Problem]]:
    """Bytes already read -> a RawRecord, or the problems that stopped it being read."""
    problems = check_filename(path)
    text, refused = decode(raw, path, max_bytes)
    if text is None:
        return None, problems + refused
    data, refused = parse(text, path)
    if refused:
        return None, problems + refused
    if data is None:
        return None, problems + [Problem(path, 1, 1, "", "file is empty",
                                         "Start from the template: scripts/new-community.", rule="top-level")]
    if not isinstance(data, dict):
        return None, problems + [Problem(path, 1, 1, "", "must be a set of fields (name: ..., summary: ...)",
                                         "Start from the template: scripts/new-community.", rule="top-level")]
    return RawRecord(path, Path(path).stem, data, text, digest_of(raw)), problems


def community_files(directory: str | Path) -> list[Path]:
    """Every file in the communities folder that looks like a record, sorted."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders expanded to their records."""
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(community_files(p) if p.is_dir() else [p])
    return out


# --- positions, on demand -------------------------------------------------------------

Location = tuple[int, int]


def locate(text: str, where: tuple[str | int, ...], key: bool = False) -> tuple[Location, str | None]:
    """(line, col) of the node at `where`, and its source text when it is a scalar.

    With key=True and a mapping key last in `where`, the key's own position.
    Where the path runs out (a missing field), the deepest existing node.
    """
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return (1, 1), None
    if node is None:
        return (1, 1), None
    last = len(where) - 1
    for index, step in enumerate(where):
        nxt = None
        key_node = None
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == step:
                    key_node, nxt = k, v
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            nxt = node.value[step]
        if nxt is None:
            break
        node = key_node if (key and index == last and key_node is not None) else nxt
    mark = node.start_mark
    raw = node.value if isinstance(node, yaml.ScalarNode) else None
    return (mark.line + 1, mark.column + 1), raw


def load_tags(path: str | Path) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """The tag vocabulary: slug -> {label, description}."""
    path = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return {}, [Problem(path, 1, 1, "", f"cannot be read: {exc.strerror or exc}", "", rule="io")]
    text, problems = decode(raw, path, max_bytes=1_000_000)
    if text is None:
        return {}, problems
    data, problems = parse(text, path)
    if problems:
        return {}, problems
    tags: dict[str, dict[str, str]] = {}
    for slug, entry in (data or {}).items():
        if not SLUG_RE.match(slug) or not isinstance(entry, dict) or not isinstance(entry.get("label"), str):
            (line, col), _ = locate(text, (slug,), key=True)
            problems.append(Problem(path, line, col, slug, "each tag needs a kebab-case name and a label",
                                    "Write it as:  my-tag:\\n  label: My tag\\n  description: ...", rule="tags"))
            continue
        tags[slug] = {"label": entry["label"], "description": str(entry.get("description", ""))}
    return tags, problems
