"""The near-duplicate rule kept between runs gives exactly what a scan of every record gives.

With a record cache, the pairs found are kept beside it with each candidate's facts,
and a run tries only the records that are new or whose facts changed. Checked here
against the scan of everything (the path taken without a cache), over runs that add,
remove, rename, move and merely re-word records; and a damaged, old or foreign state
is a full scan, never a wrong answer.
"""

from __future__ import annotations

import datetime as dt
import pickle
import random
from pathlib import Path
from typing import Any

import pytest
from communities import files, validation
from test_fast_paths import _crowded_records

ROOT = Path(__file__).resolve().parents[1]
FINGERPRINT = "test-context"
VERSION = f"{validation._NEAR_STATE_VERSION} {FINGERPRINT}"
_NAMES = ["Leith Co-op", "Leith Coop", "Leiths Co-op", "Leith Co-ops", "Lerwick Co-op", "Lerwick Co-operative", "Scalloway Co-op",
          "Leith Walk Co-op", "LEITH CO-OP", "Léith Co-op", "Kirkwall Coop", "Kirkwal Coop", "Co-op", "Coop"]


def _text(data: dict[str, Any], above: int = 0, description: str = "") -> str:
    """A record's text: `above` comment lines shift the name line, as an edit above it would."""
    loc = data.get("location", {})
    return ("# note\n" * above + f"name: {data['name']}\nkind: {data['kind']}\n"
            + f"location:\n  lat: {loc.get('lat')}\n  lon: {loc.get('lon')}\n" + (f"description: {description}\n" if description else ""))


class Collection:
    """Records by path, changed between runs the ways contributors change them."""

    def __init__(self, seed: int, count: int) -> None:
        self.rng = random.Random(seed)
        self.data = {r.path: r.data for r in _crowded_records(seed, count)}
        self.texts = {path: _text(data) for path, data in self.data.items()}
        self.made = count

    def members(self) -> list[validation._Member]:
        order = list(self.data)
        self.rng.shuffle(order)  # _collection_problems sorts them itself
        return [validation._Member(path, validation.facts_of(self.data[path]), self.texts[path]) for path in order]

    def _point(self) -> dict[str, float]:
        rng = self.rng
        return {"lat": round(rng.choice([55.95, 60.15, 60.4]) + rng.uniform(-0.1, 0.1), 4),
                "lon": round(rng.choice([-3.2, -1.15]) + rng.uniform(-0.15, 0.15), 4)}

    def _add(self, data: dict[str, Any]) -> None:
        path = f"data/{self.rng.choice('mrs')}{self.made:04d}.yaml"  # before, among and after the first ones
        self.made += 1
        self.data[path], self.texts[path] = data, _text(data)

    def change(self) -> str:
        rng = self.rng
        how = rng.choice(["add", "twin", "remove", "rename", "move", "nudge", "kind", "describe", "shift"])
        if how == "add" or not self.data:
            self._add({"name": rng.choice(_NAMES), "kind": "place", "location": self._point()})
            return "add"
        path = rng.choice(sorted(self.data))
        data = self.data[path]
        if how == "twin":  # the same community again, a street away: a new record in a pair, maybe with another new one
            self._add({"name": data["name"] + rng.choice(["", "s", " 2"]), "kind": "place",
                       "location": {"lat": data["location"]["lat"] + 0.001, "lon": data["location"]["lon"]}})
            return how
        if how == "remove":
            del self.data[path], self.texts[path]
            return how
        if how == "rename":
            data["name"] = rng.choice(_NAMES) + rng.choice(["", " 2", "s"])
        elif how == "move":
            data["location"] = self._point()
        elif how == "nudge":  # a few hundred metres: often the same cell, sometimes the next
            data["location"] = {"lat": round(data["location"]["lat"] + rng.uniform(-0.01, 0.01), 4),
                                "lon": round(data["location"]["lon"] + rng.uniform(-0.01, 0.01), 4)}
        elif how == "kind":
            data["kind"] = "interest" if data["kind"] == "place" else "place"
        elif how == "describe":  # the text changes, the facts do not
            self.texts[path] = _text(data, self.texts[path].count("# note\n"), f"edited {rng.random()}")
            return how
        elif how == "shift":  # the text changes above the name: the warning's line moves, the facts do not
            self.texts[path] = _text(data, rng.randint(0, 4))
            return how
        self.texts[path] = _text(data, self.texts[path].count("# note\n"))
        return how


def _count_pair_tests(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the calls of the one pair test, and the pairs each call is given."""
    calls = [0, 0]
    real = validation._near_matches

    def counted(member: Any, others: list[Any], counts: Any) -> Any:
        calls[0] += 1
        calls[1] += len(others)
        return real(member, others, counts)

    monkeypatch.setattr(validation, "_near_matches", counted)
    return calls


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_runs_that_keep_the_pairs_give_what_the_full_scan_gives(tmp_path: Path, seed: int) -> None:
    state = tmp_path / validation.NEAR_DUPLICATE_STATE
    collection = Collection(seed, 300)
    seen: set[str] = set()
    found = 0
    for step in range(40):
        members = collection.members()
        kept = validation._collection_problems(members, state, FINGERPRINT)
        assert kept == validation._collection_problems(members), f"step {step}"
        found = max(found, sum(p.rule == "near-duplicate" for p in kept))
        for _ in range(collection.rng.choice([0, 1, 1, 2, 5, 40])):
            seen.add(collection.change())
    assert found > 50  # crowded enough to test something
    assert seen == {"add", "twin", "remove", "rename", "move", "nudge", "kind", "describe", "shift"}


def test_a_run_where_no_facts_changed_tries_no_pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = tmp_path / validation.NEAR_DUPLICATE_STATE
    collection = Collection(5, 300)
    calls = _count_pair_tests(monkeypatch)
    first = validation._collection_problems(collection.members(), state, FINGERPRINT)
    full = calls[:]
    assert full[0] == sum(1 for m in collection.members() if m.facts[2] and m.facts[3])  # the full scan: every candidate
    written = state.stat()
    warned = next(p.path for p in first if p.rule == "near-duplicate")
    collection.texts[warned] = _text(collection.data[warned], 3, "re-worded")  # its name is three lines further down
    calls[:] = [0, 0]
    again = validation._collection_problems(collection.members(), state, FINGERPRINT)
    assert calls == [0, 0]
    assert (state.stat().st_ino, state.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)  # nor rewrote the state
    assert again == validation._collection_problems(collection.members())
    assert {p.line for p in again if p.path == warned} == {p.line + 3 for p in first if p.path == warned}
    path = next(p for p, d in collection.data.items() if d["kind"] == "place")
    collection.data[path]["name"] += " 2"
    collection.texts[path] = _text(collection.data[path])
    calls[:] = [0, 0]
    renamed = validation._collection_problems(collection.members(), state, FINGERPRINT)
    assert 0 < calls[1] < full[1] / 20  # one record against its neighbours, not every pair
    assert renamed == validation._collection_problems(collection.members())
    assert state.stat().st_mtime_ns != written.st_mtime_ns or state.stat().st_ino != written.st_ino


def _garbage(state: Path, facts: dict[str, Any]) -> None:
    state.write_bytes(b"\x80\x05not a pickle at all")


def _truncated(state: Path, facts: dict[str, Any]) -> None:
    files.write_cache(state, VERSION, (facts, []))
    state.write_bytes(state.read_bytes()[:-40])


def _other_context(state: Path, facts: dict[str, Any]) -> None:
    files.write_cache(state, f"{validation._NEAR_STATE_VERSION} another-context", (facts, []))  # the right facts, no pairs


def _other_code(state: Path, facts: dict[str, Any]) -> None:
    files.write_cache(state, f"near-duplicates 0 {FINGERPRINT}", (facts, []))


def _wrong_shape(state: Path, facts: dict[str, Any]) -> None:
    files.write_cache(state, VERSION, [facts, []])


def _unknown_paths(state: Path, facts: dict[str, Any]) -> None:
    files.write_cache(state, VERSION, (facts, [("data/nowhere.yaml", "data/r0001.yaml")]))


def _bare_pickle(state: Path, facts: dict[str, Any]) -> None:
    state.write_bytes(pickle.dumps((facts, [])))


@pytest.mark.parametrize("spoil", [_garbage, _truncated, _other_context, _other_code, _wrong_shape, _unknown_paths, _bare_pickle])
def test_a_damaged_or_foreign_state_is_a_full_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spoil: Any) -> None:
    state = tmp_path / validation.NEAR_DUPLICATE_STATE
    members = Collection(6, 300).members()
    full = validation._collection_problems(members)
    assert sum(p.rule == "near-duplicate" for p in full) > 50
    spoil(state, {m.path: m.facts for m in members if m.facts[2] and m.facts[3]})
    calls = _count_pair_tests(monkeypatch)
    assert validation._collection_problems(members, state, FINGERPRINT) == full
    assert calls[0] == sum(1 for m in members if m.facts[2] and m.facts[3])
    stored = validation._read_near_state(state, VERSION)  # and written again, whole
    assert stored is not None and len(stored[1]) == sum(p.rule == "near-duplicate" for p in full)
    calls[:] = [0, 0]
    assert validation._collection_problems(members, state, FINGERPRINT) == full
    assert calls == [0, 0]


def test_a_state_that_cannot_be_written_changes_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    members = Collection(7, 200).members()
    full = validation._collection_problems(members)
    assert validation._collection_problems(members, blocker / validation.NEAR_DUPLICATE_STATE, FINGERPRINT) == full


def _file(folder: Path, slug: str, name: str, point: tuple[float, float], above: int = 0) -> Path:
    path = folder / f"{slug}.yaml"
    path.write_text("# note\n" * above + f"name: {name}\nkind: place\nsummary: A co-op.\nlocation:\n  lat: {point[0]}\n  lon: {point[1]}\n",
                    encoding="utf-8")
    return path


def test_validate_files_keeps_the_pairs_beside_the_record_cache(tmp_path: Path) -> None:
    ctx, problems = validation.Context.from_files(ROOT / "data/community.schema.json", ROOT / "data/tags.yaml", dt.date(2026, 11, 24))
    assert problems == []
    folder = tmp_path / "communities"
    folder.mkdir()
    cache = tmp_path / "cache" / "records"
    _file(folder, "leith-co-op", "Leith Co-op", (55.97, -3.17))
    _file(folder, "leith-coop", "Leith Coop", (55.971, -3.171))
    _file(folder, "lerwick-co-op", "Lerwick Co-op", (60.15, -1.15))

    def both() -> list[Any]:
        paths = sorted(folder.iterdir())
        kept = validation.validate_files(paths, ctx, cache_path=cache).problems
        assert kept == validation.validate_files(paths, ctx).problems
        return [(Path(p.path).name, p.line) for p in kept if p.rule == "near-duplicate"]

    assert both() == [("leith-coop.yaml", 1)]
    assert (cache.with_name(validation.NEAR_DUPLICATE_STATE)).is_file()
    _file(folder, "leith-coop", "Leith Coop", (55.971, -3.171), above=2)  # an edit above the name
    assert both() == [("leith-coop.yaml", 3)]
    _file(folder, "lerwick-coop", "Lerwick Coop", (60.151, -1.151))
    assert both() == [("leith-coop.yaml", 3), ("lerwick-coop.yaml", 1)]
    _file(folder, "leith-coop", "Leith Coop", (56.5, -3.171), above=2)  # moved away
    assert both() == [("lerwick-coop.yaml", 1)]
    (folder / "lerwick-co-op.yaml").unlink()
    assert both() == []
