"""`scripts/new-community` and `scripts/schema-docs`: writing records and docs from the schema."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import records, schemadoc, settings, validation
from .catalogue import slugify
from .cli import EXIT_INVALID, EXIT_OK, ROOT, UsageError, context_from, display_path, guarded, load_settings, parser, print_problems
from .files import atomic_write

AREA_WORDS = {"action": "co-operative action (street party, clothes swap, meet-ups...)",
              "enterprise": "co-operative enterprise (finding and promoting local co-ops, a directory, events...)"}


def _args(argv: Sequence[str] | None):
    p = parser("new-community", "Write a new community record from your answers (asked for when not given as options).")
    p.add_argument("--name", help="the community's name")
    p.add_argument("--slug", help="file name without .yaml (default: made from the name)")
    p.add_argument("--kind", choices=("place", "interest"), help="place, or interest for a community of interest")
    p.add_argument("--summary", help="one or two sentences (at most 200 characters)")
    p.add_argument("--place", help="neighbourhood, village, town, city or region (places only)")
    p.add_argument("--region", help="county or council area")
    p.add_argument("--country", default="GB", help="two-letter country code (default GB)")
    p.add_argument("--tags", help="comma-separated tags from data/tags.yaml, e.g. food,repair")
    p.add_argument("--website", help="https:// address")
    p.add_argument("--email", help="contact e-mail address")
    p.add_argument("--commitment", action="append", default=[], metavar="AREA:TITLE:MEASURE",
                   help="a commitment, e.g. 'action:Hold a street party:Households taking part' (repeatable)")
    p.add_argument("--dir", help="folder to write into (default: data/communities)")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="the joined date (default: today)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    return p.parse_args(argv)


def _ask(question: str, ask: Callable[[str], str], default: str = "") -> str:
    suffix = f" [{default}]" if default else ""
    answer = ask(f"{question}{suffix}: ").strip()
    return answer or default


def gather(args: Any, interactive: bool, ask: Callable[[str], str] = input) -> dict[str, Any]:
    """Options first; questions for what is missing when someone is at the keyboard."""
    def need(value: str | None, question: str, flag: str, default: str = "") -> str:
        if value:
            return value
        if interactive:
            return _ask(question, ask, default)
        if default:
            return default
        raise UsageError(f"{flag} is needed (or run without options in a terminal to be asked)")

    name = need(args.name, "Community name", "--name")
    kind = need(args.kind, "Kind: place or interest", "--kind", "place")
    if kind not in ("place", "interest"):
        raise UsageError(f"kind must be place or interest, got {kind!r}")
    data: dict[str, Any] = {"name": name, "kind": kind,
                            "summary": need(args.summary, "Summary (one or two sentences)", "--summary")}
    if kind == "place" or args.place:
        location = {"place": need(args.place, "Place (neighbourhood, town...)", "--place")}
        region = args.region or (_ask("Region (county or council area)", ask) if interactive else "")
        if region:
            location["region"] = region
        location["country"] = args.country
        data["location"] = location
    tags = args.tags if args.tags is not None else (_ask("Tags, comma-separated (see data/tags.yaml)", ask) if interactive else "")
    if tags:
        data["tags"] = [t.strip() for t in tags.split(",") if t.strip()]
    for field, flag, question in (("website", args.website, "Website (https://...)"),):
        value = flag or (_ask(question, ask) if interactive else "")
        if value:
            data[field] = value
    email = args.email or (_ask("Contact e-mail", ask) if interactive else "")
    if email:
        data["contact"] = {"email": email}
    data["joined"] = args.today or dt.date.today().isoformat()
    data["commitments"] = _commitments(args.commitment, interactive, ask)
    return data


def _commitments(specs: list[str], interactive: bool, ask: Callable[[str], str]) -> list[dict[str, Any]]:
    out = []
    for spec in specs:
        parts = spec.split(":", 2)
        if len(parts) != 3 or parts[0] not in AREA_WORDS:
            raise UsageError(f"--commitment must look like 'action:Title:How you measure it', got {spec!r}")
        out.append({"area": parts[0], "title": parts[1].strip(), "measure": parts[2].strip(), "status": "planned"})
    if not out and interactive:
        for area, words in AREA_WORDS.items():
            title = _ask(f"A commitment to {words}", ask)
            if title:
                out.append({"area": area, "title": title, "measure": _ask("How will you measure it?", ask), "status": "planned"})
    if not out:
        raise UsageError("at least one --commitment is needed, e.g. --commitment 'action:Hold a street party:Households taking part'")
    return out


@guarded
def new_community_main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    conf = load_settings()
    interactive = sys.stdin.isatty() and not args.name
    data = gather(args, interactive)
    slug = args.slug or slugify(data["name"])
    folder = Path(args.dir) if args.dir else settings.project_path(conf, "COMMUNITIES_DIR")
    target = folder / f"{slug}.yaml"
    if target.exists() and not args.force:
        raise UsageError(f"{display_path(str(target))} already exists; choose another --slug, or --force to replace it")
    schema = json.loads(settings.project_path(conf, "COMMUNITIES_SCHEMA").read_text(encoding="utf-8"))
    text = schemadoc.record_yaml(data, schema)
    ctx, _ = context_from(conf, args.today)
    problems = _check_text(text, target, ctx)
    if any(p.is_error for p in problems):
        print("The record was not written; please fix these answers:\n", file=sys.stderr)
        print_problems(problems, 1, "text")
        return EXIT_INVALID
    atomic_write(target, text)
    print(f"Wrote {display_path(str(target))}. Next: add a description and your commitments' targets, "
          f"then check it with scripts/validate {display_path(str(target))}")
    return EXIT_OK


def _check_text(text: str, target: Path, ctx: validation.Context) -> list:
    """Validate the text as if it were already at `target`, without touching the folder."""
    data, problems = records.parse(text, str(target))
    if problems:
        return problems
    raw = records.RawRecord(str(target), target.stem, data, text)
    return records.check_filename(str(target)) + validation.check_record(raw, ctx)


@guarded
def schema_docs_main(argv: Sequence[str] | None = None) -> int:
    p = parser("schema-docs", "Regenerate docs/fields.md, docs/settings.md and data/template.yaml from the schema and the settings table.")
    p.add_argument("--check", action="store_true", help="exit 1 if the committed files are out of date")
    args = p.parse_args(argv)
    schema = json.loads((ROOT / "data/community.schema.json").read_text(encoding="utf-8"))
    outputs = {
        ROOT / "docs/fields.md": schemadoc.field_reference(schema),
        ROOT / "docs/settings.md": schemadoc.settings_reference(settings.SETTINGS),
        ROOT / "data/template.yaml": schemadoc.template(schema),
    }
    stale = [path for path, text in outputs.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{display_path(str(path))} is out of date: run scripts/schema-docs", file=sys.stderr)
        return EXIT_INVALID if stale else EXIT_OK
    for path in stale:
        atomic_write(path, outputs[path])
        print(f"wrote {display_path(str(path))}")
    return EXIT_OK

