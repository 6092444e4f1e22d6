"""Writing files so that a crash or a full disk never leaves one half-written."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: Path, data: str | bytes, *, durable: bool = False) -> None:
    """Write to a temporary file beside `path`, then rename over it: readers see the old file or the new, never half.

    The file keeps its permissions. `durable` also flushes the data and the rename
    to disk, for committed data such as the geocode cache.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
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


def write_cache(path: Path, version: str, value: Any) -> None:
    atomic_write(path, pickle.dumps((version, value), protocol=pickle.HIGHEST_PROTOCOL))


class KeptValues:
    """Values kept between builds by key: each is made once, then reused while its key (what it is made from) holds.

    What this build did not ask for is dropped on save(); the file is left alone when
    its keys are the same as before. Used for listing fragments, each record's open
    data texts and the geocode stage's outcomes.
    """

    def __init__(self, path: Path, version: str) -> None:
        self.path = path
        self.version = version
        stored = read_cache(path, version)
        self._old: dict[Any, Any] = stored if isinstance(stored, dict) else {}
        self._new: dict[Any, Any] = {}
        self.made = 0

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        found = self._new.get(key)
        if found is None:
            found = self._old.get(key)
            if found is None:
                found = make()
                self.made += 1
            self._new[key] = found
        return found

    def save(self) -> None:
        if self._new.keys() != self._old.keys():
            write_cache(self.path, self.version, self._new)
