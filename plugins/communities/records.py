"""Load: community YAML files -> plain Python data, with every refusal as a Problem.

Reading is the hot path (10,000 files per build), so valid files go through
libyaml's C parser once and never pay for position tracking: one lean walk over
its node tree builds the data, and any file with something unusual in it (a tag,
an alias, a key that is not text, a repeated key, an error) is read again by the
strict constructors, which explain every refusal. Positions are recovered lazily
by `locate`, which re-composes the node tree only for a file that has a problem
to report.

What the loader refuses, whatever the schema says: bytes that are not UTF-8,
files over the size limit, tabs, duplicate keys, anchors and aliases (alias
bombs), merge keys, several documents, non-text keys, and a top level that is
not a mapping. YAML 1.1 readings that surprise people (`NO` -> false,
`19:30` -> 1170) are kept as `Trap` strings for the validator to explain.
Timestamps stay strings, as check-jsonschema does, so the schema checks dates.
"""

from __future__ import annotations

import hashlib
import operator
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .problems import Problem

MAX_FILE_BYTES = 100_000
SLUG_RE = re.compile(r"\A[a-z0-9]+(?:-[a-z0-9]+)*\Z")  # \Z: `$` would let a final newline through
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
    source: str | None = field(default=None, repr=False)  # the file's text; None: read from `path` when first asked for
    digest: str = ""

    @property
    def text(self) -> str:
        """The file's text. A record from the cache whose file was not read this run reads it now (rarely needed)."""
        if self.source is None:
            raw, _ = read_bytes(self.path)
            self.source = text_of(raw) if raw is not None else ""
        return self.source


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


def _implicit_table(loader: type) -> dict[str, tuple[tuple[str, Any], ...]]:
    wildcard = list(loader.yaml_implicit_resolvers.get(None, []))
    return {first: tuple(resolvers + wildcard) for first, resolvers in loader.yaml_implicit_resolvers.items() if first is not None}


class _ReadLoader(_Loader):  # type: ignore[misc, valid-type]
    """libyaml's composer with cheaper tag resolution: it asks Python once or twice for every node.

    The same answers as yaml's Resolver.resolve when, as here, no path resolvers are
    registered; descend/ascend_resolver only track paths for those, so builtins that do
    nothing stand in for them (a builtin skips the bound-method call).
    """

    _implicit = _implicit_table(_Loader)
    _implicit_none = tuple(_Loader.yaml_implicit_resolvers.get(None, []))

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, regexp in self._implicit.get(value[:1], self._implicit_none):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    if not _Loader.yaml_path_resolvers:
        descend_resolver = operator.is_  # any two arguments, no effect
        ascend_resolver = tuple  # no arguments, no effect


class _StrictLoader(_ReadLoader):
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
    text = node.value
    if text.isdigit() and (text[0] != "0" or len(text) == 1):  # plain decimal, the usual case
        return int(text)
    try:
        value = loader.construct_yaml_int(node)
    except ValueError:  # '0b_', '0x_': YAML 1.1's pattern for numbers matches, but no digit follows (a PyYAML bug)
        return node.value  # text, as YAML 1.2 reads it; the schema then says what was expected
    text = node.value.replace("_", "")
    digits = text.lstrip("+-")
    if ":" in text or (len(digits) > 1 and digits.startswith("0")) or text != node.value:
        return Trap(node.value, value)
    return value


def _construct_float(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    text = node.value
    if ":" in text or "_" in text:
        return Trap(text, loader.construct_yaml_float(node))
    if text[-1] not in "fFnN":  # not .inf or .nan: what construct_yaml_float does comes down to float()
        return float(text)
    return loader.construct_yaml_float(node)


def _construct_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> str:
    return str(node.value)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)
_StrictLoader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


# --- the quick path ---------------------------------------------------------------------
#
# Almost every file is plain: text keys, no tags, no anchors, a few levels deep. For those,
# one walk over libyaml's node tree builds exactly what the constructors above would, at
# a fraction of the cost per node. Anything the walk is not sure of (a tag, an alias, a key
# that is not text, a repeated key, deep nesting, an error) sends the whole file through
# `_strict_parse`, so every refusal keeps its message and position.

_UNSURE = object()
_ScalarNode, _SequenceNode, _MappingNode = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode
_PLAIN_IMPLICIT = (True, False)
_SCALARS: dict[str, Any] = {
    "tag:yaml.org,2002:bool": _construct_bool,
    "tag:yaml.org,2002:int": _construct_int,
    "tag:yaml.org,2002:float": _construct_float,
    "tag:yaml.org,2002:timestamp": _construct_timestamp,
    "tag:yaml.org,2002:null": lambda loader, node: None,
}
_IMPLICIT = _implicit_table(_Loader)  # first character -> the implicit resolvers to try, as Resolver.resolve does


class _QuickLoader(_ReadLoader):
    """The composer, asked for no tags at all: the walk resolves plain scalars itself.

    The composer calls resolve(kind, value, implicit) for every node without an explicit
    tag. `slice` is a builtin that takes any three arguments and keeps them, so the node's
    tag becomes slice(kind, value, implicit) without a Python call; a node with an explicit
    tag keeps its tag string.
    """

    resolve = slice


def _quick_loader_works() -> bool:
    if _Loader.yaml_path_resolvers or _Loader.yaml_implicit_resolvers.get(None):
        return False
    try:
        node = yaml.compose("a: [b]\n", Loader=_QuickLoader)
    except Exception:  # an unexpected composer: use the ordinary one
        return False
    key, value = node.value[0]
    return all(isinstance(n.tag, slice) for n in (node, key, value, value.value[0])) and key.tag.step == _PLAIN_IMPLICIT


_QUICK_LOADER: type = _QuickLoader if _quick_loader_works() else _ReadLoader


class _Unsure(Exception):
    """The quick path cannot vouch for this file; the strict loader reads it instead."""


def _quick_parse(text: str) -> Any:
    """Plain data, or _UNSURE when the strict loader must decide."""
    loader = _QUICK_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        # An alias needs an anchor, and an anchor needs '&': without one every node is used once.
        return _build(loader, node, set() if "&" in text else None, 0)
    except Exception:  # whatever it is, the strict loader reports it
        return _UNSURE
    finally:
        loader.dispose()


_resolved: dict[str, str] = {}  # plain scalar -> its implicit tag, for the values and keys every file repeats


def _resolve_plain(value: str) -> str:
    tag = _resolved.get(value)
    if tag is None:
        tag = next((t for t, regexp in _IMPLICIT.get(value[:1], ()) if regexp.match(value)), _STR)
        if len(_resolved) < 10_000:
            _resolved[value] = tag
    return tag


def _scalar(loader: Any, node: Any) -> Any:
    """What the strict constructors make of a scalar node, or _Unsure."""
    tag = node.tag
    if tag.__class__ is slice:  # no explicit tag: resolve it as Resolver.resolve would
        value = node.value
        if tag.step[0] and value[:1] in _IMPLICIT:
            resolved = _resolve_plain(value)
            if resolved != _STR:
                construct = _SCALARS.get(resolved)
                if construct is None or node.style:  # merge (<<), value (=), or "! '2024-01-01'": refused
                    raise _Unsure
                return construct(loader, node)
        return value
    if tag == _STR:
        return node.value
    construct = _SCALARS.get(tag)
    if construct is None or node.style or loader.resolve(_ScalarNode, node.value, _PLAIN_IMPLICIT) != tag:
        raise _Unsure
    return construct(loader, node)


def _build(loader: Any, node: Any, seen: set[Any] | None, depth: int) -> Any:
    if seen is not None:
        if node in seen:
            raise _Unsure
        seen.add(node)
    kind = node.__class__
    if kind is _ScalarNode:
        return _scalar(loader, node)
    if depth >= MAX_DEPTH:
        raise _Unsure
    depth += 1
    tag = node.tag
    implicit = tag.__class__ is slice
    if kind is _MappingNode and (implicit or tag == _MAP):
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not _ScalarNode:
                raise _Unsure
            key = key_node.value
            tag = key_node.tag
            if tag.__class__ is slice:
                if tag.step[0] and key[:1] in _IMPLICIT and _resolved.get(key) is not _STR and _resolve_plain(key) != _STR:
                    raise _Unsure  # a key YAML reads as a number, yes/no, null or a date
            elif tag != _STR:
                raise _Unsure
            if key in mapping:
                raise _Unsure
            if seen is not None:
                if key_node in seen:
                    raise _Unsure
                seen.add(key_node)
                mapping[key] = _build(loader, value_node, seen, depth)
            elif value_node.__class__ is _ScalarNode:
                tag = value_node.tag
                value = value_node.value
                if tag.__class__ is slice and (not tag.step[0] or value[:1] not in _IMPLICIT or _resolved.get(value) is _STR):
                    mapping[key] = value  # text, the usual case, without a call
                else:
                    mapping[key] = _scalar(loader, value_node)
            else:
                mapping[key] = _build(loader, value_node, None, depth)
        return mapping
    if kind is _SequenceNode and (implicit or tag == _SEQ):
        if seen is not None:
            return [_build(loader, child, seen, depth) for child in node.value]
        items = []
        for child in node.value:
            if child.__class__ is _ScalarNode:
                tag = child.tag
                value = child.value
                if tag.__class__ is slice and (not tag.step[0] or value[:1] not in _IMPLICIT or _resolved.get(value) is _STR):
                    items.append(value)
                else:
                    items.append(_scalar(loader, child))
            else:
                items.append(_build(loader, child, None, depth))
        return items
    raise _Unsure


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
    data = _quick_parse(text)
    if data is not _UNSURE:
        return data, []
    return _strict_parse(text, path)


def _strict_parse(text: str, path: str) -> tuple[Any, list[Problem]]:
    """The loader that explains every refusal: run for any file the quick path is not sure of."""
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


def _file_name(path: str) -> str:
    """Path(path).name, without building a Path for the usual 'folder/slug.yaml'."""
    name = path.rpartition(os.sep)[2]
    if not name or name in (".", "..") or (os.altsep and os.altsep in path):
        return Path(path).name
    return name


def slug_of(path: str) -> str:
    """Path(path).stem: the file name without its extension."""
    name = _file_name(path)
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def text_of(raw: bytes) -> str:
    """The text of bytes that `decode` has accepted before (a cache hit): no checks again."""
    text = raw.decode("utf-8")
    return text[1:] if text.startswith("\ufeff") else text


def check_filename(path: str) -> list[Problem]:
    """The slug is the file name: lowercase ASCII kebab-case, ending .yaml."""
    name = _file_name(path)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if ext == "yaml" and SLUG_RE.match(stem) and len(stem) <= MAX_SLUG_LENGTH:
        return []  # checked for every record on every build: the suggestion is worked out only when needed
    suggestion = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "your-community"
    if ext != "yaml":
        return [Problem(path, 1, 1, "", f"file name {name!r} must end in .yaml",
                        f"Rename it to {suggestion}.yaml.", rule="filename")]
    return [Problem(path, 1, 1, "", f"file name {name!r} must be lowercase letters, digits and hyphens "
                    f"(at most {MAX_SLUG_LENGTH} characters before .yaml)",
                    f"Rename it to {suggestion[:MAX_SLUG_LENGTH]}.yaml.", rule="filename")]


def read_record(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[RawRecord | None, list[Problem]]:
    """One file -> a RawRecord, or the problems that stopped it being read."""
    path = str(path)
    raw, problems = read_bytes(path)
    if raw is None:
        return None, check_filename(path) + problems
    return record_from_bytes(path, raw, max_bytes)


def read_bytes(path: str) -> tuple[bytes | None, list[Problem]]:
    try:
        with open(path or ".", "rb", buffering=0) as handle:  # Path("") is the current folder; read whole, no buffer needed
            return handle.read(), []
    except OSError as exc:
        return None, [Problem(path, 1, 1, "", f"cannot be read: {exc.strerror or exc}",
                              "Check the file exists and is readable.", rule="io")]


def digest_of(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def record_from_bytes(path: str, raw: bytes, max_bytes: int = MAX_FILE_BYTES, digest: str = "") -> tuple[RawRecord | None, list[Problem]]:
    """Bytes already read (and hashed, if `digest` is given) -> a RawRecord, or the problems that stopped it being read."""
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
    return RawRecord(path, slug_of(path), data, text, digest or digest_of(raw)), problems


def community_files(directory: str | Path) -> list[Path]:
    """Every file in the communities folder that looks like a record, sorted."""
    return [Path(path) for path in community_paths(directory)]


def community_paths(directory: str | Path) -> list[str]:
    """community_files as the strings the loader names records by: 10,000 Path objects take 50 ms to make and print."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    with os.scandir(folder) as entries:  # no stat per file, unlike Path.iterdir + is_file
        names = [entry.name for entry in entries if not entry.name.startswith(".") and entry.is_file()]
    if os.name != "posix":
        return [str(path) for path in sorted(folder / name for name in names)]  # paths compare without case there
    base = os.path.join(str(folder), "")  # with its separator: str(folder / name) is then base + name
    return [base + name for name in sorted(names)]  # in the order sorted(paths) gives


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders expanded to their records."""
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(community_files(p) if p.is_dir() else [p])
    return out


# --- positions, on demand -------------------------------------------------------------

Location = tuple[int, int]


_last_composed: tuple[str, Any] = ("", None)


def _composed(text: str) -> Any:
    """The node tree of `text`, or None; the last one is kept, as a file's problems are located one after another."""
    global _last_composed
    last_text, last_node = _last_composed
    if last_text is text or last_text == text:
        return last_node
    try:
        node = yaml.compose(text, Loader=_ReadLoader)
    except yaml.YAMLError:
        node = None
    _last_composed = (text, node)
    return node


def locate(text: str, where: tuple[str | int, ...], key: bool = False) -> tuple[Location, str | None]:
    """(line, col) of the node at `where`, and its source text when it is a scalar.

    With key=True and a mapping key last in `where`, the key's own position.
    Where the path runs out (a missing field), the deepest existing node.
    """
    node = _composed(text)
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
