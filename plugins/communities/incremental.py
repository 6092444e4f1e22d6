"""Quick rebuilds: when a few records changed and where listings show them did not, only what shows them is made.

The full build holds every record in memory, which costs about a second at 10,000
records even when one file changed. After each build a snapshot keeps, for every
record, what the next build needs to decide without that: the file's digest, the
facts the rules across records compare, its page, listing and placement keys, its
region and the length of its piece of each site-wide data file; the stamps of every
other file it wrote; and the build's warnings. A rebuild whose changes stay inside some
records' own pages (a description, contact details, links, an older review) checks only
those files, renders only their pages and splices their new pieces into the site-wide
files. One that also changes the words listings show of a record (its summary, a
commitment's title, measure, target or latest note), but not where or how often they
show it, replaces its card, library entries and feed entry where the last build wrote
them (each a whole piece of HTML or XML that names its record). Anything else takes the
full build, which writes a new snapshot:

- a record added, removed or renamed, or more than MAX_CHANGED changed;
- a change to where a listing, count, chart, map or feed shows a record (its placement key differs);
- a change the rules across records look at (its name, kind or coordinates);
- another day, a template, a setting, the vocabulary, the schema, the geocode data, the news, this code;
- an output file that is not as the last build left it, or a card the build no longer keeps.

tests/test_incremental.py edits every part of a record and compares the quick
rebuild with a full one, byte for byte.
"""

from __future__ import annotations

import itertools
import mmap
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from . import records
from .exports import Joined
from .files import code_fingerprint, read_cache, replacing, write_cache
from .problems import Problem
from .validation import Facts, Stamps

MAX_CHANGED = 200  # beyond this the full build, which renders on every core, is as quick
RULES_ACROSS_RECORDS = frozenset({"unique-slug", "unique-name", "near-duplicate"})


class Kept(NamedTuple):
    """One record as the last build left it."""

    digest: str
    facts: Facts | None
    page_key: str
    listing_key: str
    placement_key: str  # what decides where listings show it (the listing key holds this and the words shown)
    region: str | None
    pieces: tuple[int, ...]  # UTF-8 length of its piece of each site-wide file; 0: not in that file


@dataclass
class Snapshot:
    """What the last build made from what: written by every build, read by the next."""

    conditions: str  # everything besides the records that the output depends on
    records: dict[str, Kept]  # by path, in the order the site-wide files list them
    written: dict[str, tuple[int, int]]  # every file the full build wrote besides the records' own, as written: (size, mtime_ns)
    problems: tuple[Problem, ...]  # the warnings, which a quick rebuild logs again

    def looked_across(self, paths: Iterable[str]) -> bool:
        """Whether a rule across records found something in one of these files (a quick rebuild cannot place it again)."""
        wanted = set(paths)
        return any(p.path in wanted and p.rule in RULES_ACROSS_RECORDS for p in self.problems)


def _version() -> str:
    return "snapshot-1 " + code_fingerprint("incremental.py", "generator.py", "validation.py", "model.py", "exports.py")


def load(path: Path) -> Snapshot | None:
    """The last build's snapshot, if this code made it (a quick rebuild also needs its conditions to be today's)."""
    found = read_cache(path, _version())
    return found if isinstance(found, Snapshot) else None


def save(path: Path, snapshot: Snapshot) -> None:
    write_cache(path, _version(), snapshot)


def forget(path: Path) -> None:
    """No snapshot: a failed or interrupted build leaves the next one to take the full path."""
    path.unlink(missing_ok=True)


def changed_files(snapshot: Snapshot, paths: list[str], stamps: Stamps) -> dict[str, bytes] | None:
    """The files whose bytes differ from the snapshot's, with those bytes; None when files came or went.

    A file whose stamp (size, times, inode) is unchanged, with the digest the snapshot has, is not read
    (validation.Stamps). Other runs note stamps too (scripts/validate, a build that failed, a build into
    another folder), so a stamp that holds says what the file is now, not that the last build here saw it.
    """
    if len(paths) != len(snapshot.records) or not all(p in snapshot.records for p in paths):
        return None
    changed: dict[str, bytes] = {}
    for path in paths:
        digest, stamp = stamps.unchanged(path)
        if digest is None or digest != snapshot.records[path].digest:
            raw, _ = records.read_bytes(path)
            if raw is None:
                return None  # unreadable now: the full build says why
            digest = records.digest_of(raw)
            if digest != snapshot.records[path].digest:
                changed[path] = raw
        stamps.note(path, stamp, digest)
    return changed


def intact(snapshot: Snapshot, root: Path) -> bool:
    """Whether the output folder still holds what the last build wrote (someone may have cleaned it)."""
    for save_as, (size, mtime) in snapshot.written.items():
        try:
            st = os.stat(root / save_as)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) != (size, mtime):
            return False
    try:  # one listing for the data files, not 10,000 checks
        data = set(os.listdir(root / "data" / "communities"))
    except OSError:
        return False
    slugs = [records.slug_of(path) for path in snapshot.records]
    pages = os.path.join(root, "communities", "")
    return all(f"{s}.json" in data for s in slugs) and all(os.path.isfile(f"{pages}{s}/index.html") for s in slugs)


def utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def expected_size(joined: Joined, lengths: Iterable[int]) -> int:
    present = [n for n in lengths if n]
    return (utf8_len(joined.head) + sum(present) + utf8_len(joined.sep) * max(0, len(present) - 1)
            + utf8_len(joined.tail))


def _spans(joined: Joined, lengths: list[int], new: dict[int, bytes]) -> list[tuple[int, int, bytes]]:
    """(where the piece starts, its length now, the new piece) for each record in `new`, in file order."""
    head, sep, spans = utf8_len(joined.head), utf8_len(joined.sep), []
    for i in sorted(new):
        before = lengths[:i]  # the pieces before it, and a separator after each one present
        spans.append((head + sum(before) + sep * (i - before.count(0)), lengths[i], new[i]))
    return spans


class Span(NamedTuple):
    """A stretch of a file to replace."""

    start: int
    length: int
    new: bytes


def splice_file(path: Path, joined: Joined, lengths: list[int], new: dict[int, bytes]) -> bool:
    """Replace the pieces at `new`'s positions in a file written as `joined` from pieces of these `lengths`.

    Whether it changed. A replaced piece is present before and after (its listing key, which says whether
    the record is on the map, held).
    """
    with path.open("rb", buffering=0) as src:
        spans = [Span(start, length, piece) for start, length, piece in _spans(joined, lengths, new)
                 if length != len(piece) or os.pread(src.fileno(), length, start) != piece]
    return replace_spans(path, spans)


def find_texts(root: Path, files: Iterable[str], texts: list[tuple[bytes, bytes]]) -> dict[str, list[Span]] | None:
    """Where in these files each (old, new) pair's old text is, to be replaced by its new; None if one is in none of them.

    Each old text is a whole card, library entry or feed entry, which names its record: it is found nowhere else.
    """
    found: dict[str, list[Span]] = {}
    seen: set[bytes] = set()
    for save_as in files:
        spans = []
        try:
            with open(root / save_as, "rb") as handle:
                if not os.fstat(handle.fileno()).st_size:
                    continue  # nothing to map, nor to find
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:  # searched where it lies, not copied
                    for old, new in texts:
                        at = data.find(old)
                        while at >= 0:
                            spans.append(Span(at, len(old), new))
                            seen.add(old)
                            at = data.find(old, at + len(old))
        except OSError:
            return None
        spans.sort()
        if any(a.start + a.length > b.start for a, b in itertools.pairwise(spans)):
            return None  # texts that overlap: not whole entries as the last build wrote them
        if spans:
            found[save_as] = spans
    return found if all(old in seen for old, _ in texts) else None


def replace_spans(path: Path, spans: list[Span]) -> bool:
    """Replace these stretches of the file, taken in file order; whether there were any.

    The file is written anew beside the old and renamed over it; the unchanged stretches are copied by the kernel
    (os.copy_file_range) where it can: the 40 MB of communities.json at 10,000 records then never pass through Python.
    """
    if not spans:
        return False
    with path.open("rb", buffering=0) as src:
        size = os.fstat(src.fileno()).st_size
        with replacing(path) as dst:
            done = 0
            for start, length, piece in spans:
                dst.flush()  # what was written goes before what the kernel copies next
                _copy(src.fileno(), dst.fileno(), done, start - done)
                dst.write(piece)
                done = start + length
            dst.flush()
            _copy(src.fileno(), dst.fileno(), done, size - done)
    return True


def _copy(src: int, dst: int, offset: int, count: int) -> None:
    """`count` bytes of `src` from `offset` appended to `dst`: in the kernel where it can, else through a buffer."""
    while count > 0:
        try:
            copied = os.copy_file_range(src, dst, count, offset)
        except (AttributeError, OSError):  # not Linux, or another file system: the plain way
            copied = os.write(dst, os.pread(src, min(count, 1 << 24), offset))
        if copied <= 0:
            raise OSError(f"could not copy {count} bytes at {offset}")
        offset += copied
        count -= copied
