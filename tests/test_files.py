"""files.py: the sharded build caches that let a one-record edit rewrite a few small files, not one large one."""

from __future__ import annotations

from pathlib import Path

import pytest
from communities import files


def _shards(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.pickle"))}


def test_a_sharded_store_gives_back_what_it_saved(tmp_path: Path) -> None:
    entries = {f"key-{i}": ("value", i) for i in range(500)}
    files.ShardedStore(tmp_path / "c", "v1").save(entries)
    assert files.ShardedStore(tmp_path / "c", "v1").load() == entries
    assert len(_shards(tmp_path / "c")) > 1  # spread over several files


def test_changing_one_entry_rewrites_only_the_shards_it_touches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "c"
    entries = {f"key-{i}": f"value {i}" for i in range(500)}
    files.ShardedStore(folder, "v1").save(entries)
    before = _shards(folder)
    written: list[Path] = []
    real = files.write_cache
    monkeypatch.setattr(files, "write_cache", lambda path, *a: (written.append(path), real(path, *a)))
    store = files.ShardedStore(folder, "v1")
    loaded = store.load()
    del loaded["key-7"]
    loaded["key-new"] = "new"
    store.save(loaded)
    assert 1 <= len(written) <= 2  # the shard that lost key-7 and the one that gained key-new
    after = _shards(folder)
    assert sum(before[name] != after[name] for name in before) == len(written)
    store.save(loaded)  # nothing changed since: nothing written
    assert len(written) <= 2
    assert files.ShardedStore(folder, "v1").load() == loaded


def test_a_damaged_missing_or_older_shard_is_empty_not_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    entries = {f"key-{i}": i for i in range(200)}
    files.ShardedStore(folder, "v1").save(entries)
    shards = sorted(folder.glob("*.pickle"))
    shards[0].write_bytes(b"not a pickle")
    shards[1].unlink()
    survived = files.ShardedStore(folder, "v1").load()
    assert 0 < len(survived) < len(entries)
    assert all(entries[k] == v for k, v in survived.items())
    assert files.ShardedStore(folder, "v2").load() == {}  # another version of the code: nothing reused


def test_kept_values_are_made_once_and_dropped_when_no_build_asks_for_them(tmp_path: Path) -> None:
    made: list[str] = []

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    first = files.KeptValues(tmp_path / "kept", "v1")
    assert [first.get(k, lambda k=k: make(k)) for k in ("a", "b")] == ["A", "B"]
    first.save()
    second = files.KeptValues(tmp_path / "kept", "v1")
    assert second.get("a", lambda: make("a")) == "A" and made == ["a", "b"]
    second.save()  # "b" was not asked for
    assert files.ShardedStore(tmp_path / "kept", "v1").load() == {"a": "A"}


def test_kept_values_asked_for_a_few_keys_read_and_rewrite_only_their_shards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entries = {f"key-{i}": i for i in range(300)}
    files.ShardedStore(tmp_path / "kept", "v1").save(entries)
    read: list[Path] = []
    real = files.read_cache
    monkeypatch.setattr(files, "read_cache", lambda path, *a: (read.append(path), real(path, *a))[1])
    few = files.KeptValues(tmp_path / "kept", "v1", keys=["key-1", "key-new"])
    assert 1 <= len(read) <= 2
    assert few.peek("key-1") == 1 and few.peek("key-2") in (None, 2)  # key-2 only if it shares a shard
    few.put("key-new", "new")
    few.save()  # nothing it did not read is lost: the other entries of those shards, and every other shard
    assert files.ShardedStore(tmp_path / "kept", "v1").load() == {**entries, "key-new": "new"}


def test_the_single_file_cache_a_store_replaced_is_removed(tmp_path: Path) -> None:
    (tmp_path / "markdown.pickle").write_bytes(b"x" * 1000)
    (tmp_path / "pages-abc.json").write_text("{}")
    (tmp_path / "other.pickle").write_bytes(b"kept")
    files.ShardedStore(tmp_path / "markdown", "v1")
    files.ShardedStore(tmp_path / "pages-abc", "v1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.pickle"]


def test_a_salted_folder_is_kept_while_its_parts_hold_and_replaced_when_they_change(tmp_path: Path) -> None:
    first = files.salted_folder(tmp_path / "c", "jinja 3", {"lang": "cy"})
    assert first is not None and first.is_dir()
    (first / "compiled").write_text("x")
    (tmp_path / "c" / "stray-file").write_text("from an older layout")
    assert files.salted_folder(tmp_path / "c", "jinja 3", {"lang": "cy"}) == first and (first / "compiled").exists()
    second = files.salted_folder(tmp_path / "c", "jinja 3", {"lang": "en"})
    assert second != first and [p.name for p in (tmp_path / "c").iterdir()] == [second.name]
    (tmp_path / "blocker").write_text("not a folder")
    assert files.salted_folder(tmp_path / "blocker", "x") is None


def test_mirror_writes_what_changed_keeps_what_did_not_and_removes_what_is_gone(tmp_path: Path) -> None:
    source, target = tmp_path / "new", tmp_path / "site"
    for rel, text in {"entry.json": "new entry", "fragment/a.pf": "same", "fragment/b.pf": "added"}.items():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_text(text)
    for rel, text in {"entry.json": "old entry", "fragment/a.pf": "same", "fragment/gone.pf": "removed record", "old/x.pf": "x"}.items():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_text(text)
    import os

    os.utime(target / "fragment/a.pf", ns=(1_000_000_000, 1_000_000_000))
    assert files.mirror(source, target) == (2, 2)
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == ["entry.json", "fragment", "fragment/a.pf", "fragment/b.pf"]
    assert (target / "entry.json").read_text() == "new entry" and (target / "fragment/b.pf").read_text() == "added"
    assert (target / "fragment/a.pf").stat().st_mtime_ns == 1_000_000_000  # unchanged bytes: not written again
