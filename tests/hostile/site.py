"""The inert corpus as a site: every payload in every text field of the schema, one build.

`hostile_records()` makes one record per payload, with that payload (cut to the
field's length limit) in every string field the schema defines, and an
attribute-breaking address in every URL field. The hand-written records in
tests/hostile/inert/ are added as they are. One build covers them all.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .payloads import PAYLOADS, URL_PAYLOADS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCHEMA = json.loads((ROOT / "data" / "community.schema.json").read_text(encoding="utf-8"))
SINGLE_LINE = {"name", "place", "region", "title", "unit", "sector", "postcode", "members", "meets"}


def free_text_fields(schema: dict[str, Any] = SCHEMA, where: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """(path, subschema) of every string field with no enum, pattern or format: text a person types."""
    kind = schema.get("type")
    if kind == "object":
        for name, sub in schema.get("properties", {}).items():
            yield from free_text_fields(sub, (*where, name))
    elif kind == "array":
        yield from free_text_fields(schema.get("items", {}), (*where, "[]"))
    elif kind == "string" and not ({"enum", "pattern", "format"} & set(schema)):
        yield where, schema


def fit(text: str, sub: dict[str, Any], field: str) -> str:
    if field in SINGLE_LINE:
        text = text.replace("\n", " ")
    text = text[: sub.get("maxLength", len(text))]
    while len(text.strip()) < sub.get("minLength", 0):
        text += " pad"
    return text


def _assign(node: Any, path: tuple[str, ...], value: str, sub: dict[str, Any]) -> None:
    """Put `value` at `path`, into every item where the path crosses a list."""
    step, rest = path[0], path[1:]
    if step == "[]":
        for item in node:
            _assign(item, rest, value, sub)
        return
    if not rest:
        node[step] = fit(value, sub, step)
    elif step in node:  # optional parts left out of some items (the second commitment) stay out
        _assign(node[step], rest, value, sub)


def skeleton(index: int) -> dict[str, Any]:
    """A valid record with every optional part present, so every text field exists."""
    url = URL_PAYLOADS[index % len(URL_PAYLOADS)]
    place = index % 2 == 0
    data: dict[str, Any] = {
        "name": "",
        "kind": "place" if place else "interest",
        "summary": "",
        "description": "",
        "action_group": {"name": "", "members": 3, "meets": ""},
        "location": {"place": "", "region": "", "country": "GB", "postcode": "", "publish_postcode": True},
        "tags": ["food", "housing"],
        "website": url,
        "contact": {"email": f"o'brien+{index}@example.org", "url": url if index % 3 else f"mailto:h{index}@example.org"},
        "joined": "2024-01-15",
        "last_reviewed": "2025-02-01",
        "commitments": [
            {"area": "action", "title": "", "description": "", "measure": "", "status": "in-progress",
             "target": {"value": 10, "unit": ""},
             "reviews": [{"date": "2025-02-01", "value": 4, "status": "in-progress", "note": ""}]},
            {"area": "enterprise", "title": "", "measure": "", "status": "planned"},
        ],
        "cooperatives": [{"name": "", "url": url, "sector": ""}, {"name": ""}],
        "partners": [{"name": "", "url": url}],
    }
    if place:
        data["location"].update(lat=round(51.0 + index * 0.07, 4), lon=round(-2.5 + (index % 7) * 0.1, 4))
    return data


def hostile_records(payloads: tuple[str, ...] = PAYLOADS) -> dict[str, dict[str, Any]]:
    """slug -> record data, one record per payload."""
    fields = list(free_text_fields())
    out: dict[str, dict[str, Any]] = {}
    for index, payload in enumerate(payloads):
        data = skeleton(index)
        for path, sub in fields:
            _assign(data, path, payload, sub)
        # Names are unique per record; the payload follows a marker so each stays findable.
        data["name"] = fit(f"H{index:02d} {payload}", SCHEMA["properties"]["name"], "name")
        out[f"hostile-{index:02d}"] = data
    return out


def write_corpus(folder: Path) -> dict[str, dict[str, Any]]:
    """The generated records and tests/hostile/inert/*.yaml in `folder`; slug -> data as written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = hostile_records()
    for slug, data in written.items():
        (folder / f"{slug}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000),
                                              encoding="utf-8")
    for path in sorted((HERE / "inert").glob("*.yaml")):
        shutil.copy(path, folder / path.name)
        written[path.stem] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return written


def isolated_config(folder: Path, **overrides: Any) -> Path:
    """A settings file: the project's pelican.conf.py with its own cache folder, so builds never share state."""
    folder.mkdir(parents=True, exist_ok=True)
    values = {"COMMUNITIES_CACHE_DIR": str(folder / "cache"), "COMMUNITIES_TODAY": "2026-11-24",
              "COMMUNITIES_SEARCH_INDEX": False, **overrides}
    conf = folder / "test.conf.py"
    conf.write_text(
        "import runpy as _runpy\n"
        f"globals().update({{k: v for k, v in _runpy.run_path({str(ROOT / 'pelican.conf.py')!r}).items() if k.isupper()}})\n"
        + "".join(f"{k} = {v!r}\n" for k, v in values.items()),
        encoding="utf-8",
    )
    return conf


def build(tmp: Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    """Write the corpus under `tmp` and build it with scripts/build; (site folder, slug -> record)."""
    import subprocess
    import sys

    written = write_corpus(tmp / "communities")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "build"), "--communities", str(tmp / "communities"),
                             "--output", str(tmp / "site"), "--config", str(isolated_config(tmp)), "--no-search"],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp / "site", written
