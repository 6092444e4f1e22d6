"""Writing files so that a crash or a full disk never leaves one half-written."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO


def atomic_write(path: Path, data: str | bytes, *, durable: bool = False) -> None:
    """Write to a temporary file beside `path`, then rename over it: readers see the old file or the new, never half.

    The file keeps its permissions. `durable` also flushes the data and the rename
    to disk, for committed data such as the geocode cache.
    """
    with replacing(path, durable=durable) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


@contextlib.contextmanager
def replacing(path: Path, *, durable: bool = False) -> Iterator[BinaryIO]:
    """A new file beside `path`, renamed over it when the block ends (atomic_write, written piece by piece).

    If the block fails, the temporary file is removed and `path` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_cache(path: Path | None, version: str) -> Any:
    """A build cache written by write_cache with the same version, or None (missing, old or damaged).

    Build caches are pickles: a 20 MB cache of rendered HTML loads and saves ten
    times faster than as JSON, and an edit to one record rewrites it. They are
    local build artefacts that this code wrote; never restore one from a source
    you would not run code from (a CI cache shared with pull requests from forks).
    """
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            stored = pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError):
        return None
    if not isinstance(stored, tuple) or len(stored) != 2 or stored[0] != version:
        return None
    return stored[1]


@functools.cache
def code_fingerprint(*modules: str) -> str:
    """A hash of some of this plugin's source files, for cache versions: a change to the code that made a value drops it."""
    here = Path(__file__).parent
    return hashlib.blake2b(b"\0".join((here / name).read_bytes() for name in modules), digest_size=16).hexdigest()


@functools.cache
def package_version(name: str) -> str:
    """An installed package's version, for cache versions: an upgrade may make something else of the same input."""
    from importlib.metadata import version

    return version(name)


def salted_folder(root: Path, *parts: Any) -> Path | None:
    """root/<hash of parts>, made if need be, with the folders other parts made removed; None if it cannot be made.

    For caches written by code we do not control (Jinja's compiled templates,
    Pelican's content cache), which do not know what else their contents depend on.
    """
    salt = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=12).hexdigest()
    folder = root / salt
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only checkout: no cache
        return None
    for other in root.iterdir():
        if other.name != salt:
            if other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    other.unlink()
    return folder


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` unless the file already holds exactly it; whether it was written.

    Reading is several times cheaper than rewriting, and an unchanged file keeps
    its times, so a deploy uploads less.
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def mirror(source: Path, target: Path) -> tuple[int, int]:
    """Make `target` hold exactly the files `source` holds: (files written, files removed).

    A file whose bytes are unchanged is left alone (with its times, so a deploy
    uploads less); a file `source` no longer has is removed, not left behind.
    """
    wanted: set[str] = set()
    written = 0
    for folder, _dirs, names in os.walk(source):
        for name in names:
            rel = os.path.relpath(os.path.join(folder, name), source)
            wanted.add(rel)
            written += write_if_changed(target / rel, Path(folder, name).read_bytes())
    removed = 0
    for folder, _dirs, names in os.walk(target, topdown=False):
        for name in names:
            if os.path.relpath(os.path.join(folder, name), target) not in wanted:
                os.unlink(os.path.join(folder, name))
                removed += 1
        if folder != str(target) and not os.listdir(folder):
            os.rmdir(folder)
    return written, removed


def write_cache(path: Path, version: str, value: Any) -> None:
    atomic_write(path, pickle.dumps((version, value), protocol=pickle.HIGHEST_PROTOCOL))


class ShardedStore:
    """A dict[str, value] kept as several pickles, so a build that changes a few entries rewrites a few small files.

    At 10,000 records a cache held in one file is tens of megabytes, and a
    one-record edit used to rewrite all of it. Keys are spread over the shards by
    a stable hash; save() rewrites only the shards whose contents differ from
    what load() read. A missing or damaged shard is an empty one.
    """

    def __init__(self, folder: Path | None, version: str, shards: int = 32) -> None:
        self.folder = folder
        self.version = version
        self.shards = shards
        self._read: list[dict[str, Any]] = [{} for _ in range(shards)]
        self._only: set[int] | None = None  # the shards load() read, when it was asked for some keys
        if folder is not None:  # the single file this folder replaced (2026-11), tens of megabytes nobody reads
            for old in (folder.with_name(folder.name + ".pickle"), folder.with_name(folder.name + ".json")):
                with contextlib.suppress(OSError):
                    old.unlink()

    def _path(self, index: int) -> Path:
        assert self.folder is not None
        return self.folder / f"{index:02x}.pickle"

    def shard_of(self, key: str) -> int:
        return zlib.crc32(key.encode("utf-8")) % self.shards

    def load(self, keys: Iterable[str] | None = None) -> dict[str, Any]:
        """Every entry; or, given `keys`, those of the shards that hold them (save() then rewrites no other shard)."""
        merged: dict[str, Any] = {}
        if keys is not None:
            self._only = {self.shard_of(k) for k in keys}
        if self.folder is None or not self.folder.is_dir():
            return merged
        for i in range(self.shards) if self._only is None else sorted(self._only):
            stored = read_cache(self._path(i), self.version)
            if isinstance(stored, dict):
                self._read[i] = stored
                merged.update(stored)
        return merged

    def save(self, entries: dict[str, Any]) -> None:
        if self.folder is None:
            return
        buckets: list[dict[str, Any]] = [{} for _ in range(self.shards)]
        crc32, shards = zlib.crc32, self.shards  # shard_of, inlined: a manifest saves 20,000 entries
        for key, value in entries.items():
            buckets[crc32(key.encode("utf-8")) % shards][key] = value
        for i, bucket in enumerate(buckets):
            if self._only is not None and i not in self._only:
                continue  # not read, so not known: left as it is
            if bucket != self._read[i]:  # values read unchanged compare by identity: cheap
                write_cache(self._path(i), self.version, bucket)
                self._read[i] = bucket


class KeptValues:
    """Values kept between builds by key: each is made once, then reused while its key (what it is made from) holds.

    What this build did not ask for is dropped on save(); only the shards whose
    keys changed are rewritten. Used for listing fragments, each record's open
    data texts and the geocode stage's outcomes.
    """

    def __init__(self, folder: Path, version: str, keys: Iterable[str] | None = None) -> None:
        """`keys`: the only keys this build will get or put (a quick rebuild's few), so only their shards are read."""
        self.store = ShardedStore(folder, version)
        self._old: dict[str, Any] = self.store.load(keys)
        self.partial = keys is not None
        self._new: dict[str, Any] = {}
        self.made = 0

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        found = self.peek(key)
        if found is None:
            found = make()
            self.made += 1
        self._new[key] = found
        return found

    def peek(self, key: str) -> Any:
        """The value kept under `key`, or None; nothing is kept for this build until put() or get()."""
        found = self._new.get(key)
        return self._old.get(key) if found is None else found

    def put(self, key: str, value: Any) -> None:
        if self.peek(key) is not value:
            self.made += 1
        self._new[key] = value

    def save(self, keep_unused: bool = False) -> None:
        """`keep_unused` keeps what this build did not ask for too (it asked about only some records)."""
        new = {**self._old, **self._new} if keep_unused or self.partial else self._new
        if new.keys() != self._old.keys() or any(self._old.get(k) is not v for k, v in new.items()):
            self.store.save(new)
