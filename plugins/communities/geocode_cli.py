"""The command-line edge of geocoding: scripts/geocode.

Finds coordinates for records without lat/lon, keeps them in the committed cache,
and says in plain words what it did and could not do. Like scripts/validate, it
never shows a traceback: trouble with the network is a result, not a crash.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import geocoding, model, records, settings, validation
from . import problems as problems_mod
from .cli import EXIT_INVALID, EXIT_OK, UsageError, context_from, display_path, guarded, load_settings, parser, print_problems

MAX_SUMMARY_ROWS = 500


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = parser("geocode", "Find coordinates for community records without lat/lon and keep them in the committed cache.")
    p.add_argument("paths", nargs="*", help="record files or folders (default: every file in data/communities/)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--online", dest="online", action="store_true", default=True,
                      help="ask the geocoding service (COMMUNITIES_GEOCODER) for places not in the cache (the default)")
    mode.add_argument("--offline", dest="online", action="store_false",
                      help="use only the cache and the offline gazetteer, as a build does")
    p.add_argument("--dry-run", action="store_true", help="look places up and report, but leave the cache as it is")
    p.add_argument("--format", choices=("text", "github"), default="text",
                   help="text for people, github for pull-request annotations")
    p.add_argument("--summary", metavar="FILE", help='append a Markdown table of the results to FILE (e.g. "$GITHUB_STEP_SUMMARY")')
    p.add_argument("--retries", type=int, default=geocoding.RETRIES, metavar="N",
                   help=f"retries per lookup after a timeout, HTTP 429 or 5xx, waiting longer each time (default {geocoding.RETRIES})")
    p.add_argument("--config", metavar="FILE", help="settings file (default: pelican.conf.py)")
    return p.parse_args(argv)


def _communities(paths: list[str], conf: dict[str, Any]) -> tuple[list[model.Community], int, int]:
    """Valid records as Communities, how many files were read, and how many were skipped as invalid."""
    if paths:
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            raise UsageError(f"no such file or folder: {', '.join(missing)}")
        files = records.expand_paths(paths)
    else:
        files = records.community_files(settings.project_path(conf, "COMMUNITIES_DIR"))
    ctx, _ = context_from(conf)
    report = validation.validate_files(files, ctx, conf["COMMUNITIES_MAX_FILE_BYTES"])
    valid = report.valid_records()
    communities = [model.community_from_data(r.slug, r.path, r.data, r.digest) for r in valid]
    return communities, report.files, len(report.records) - len(valid) + (report.files - len(report.records))


@guarded
def geocode_main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    if args.retries < 0:
        raise UsageError(f"--retries must be 0 or more, got {args.retries}")
    conf = load_settings(args.config)
    communities, files, skipped = _communities(args.paths, conf)
    try:
        run = geocoding.geocode_communities(communities, conf, online=args.online, dry_run=args.dry_run,
                                            retries=args.retries, progress=sys.stderr.isatty())
    except geocoding.GeocoderSetupError as exc:
        raise UsageError(str(exc)) from exc
    found = [problems_mod.Problem(display_path(p.path), p.line, p.col, p.field, p.message, p.hint, p.level, p.rule)
             for p in run.problems]
    print_problems(found, files, args.format)
    for line in summary_lines(run, skipped):
        print(line)
    if args.summary:
        with open(args.summary, "a", encoding="utf-8") as handle:
            handle.write(markdown_summary(run, skipped))
    errors, _ = problems_mod.count(found)
    return EXIT_INVALID if errors or run.unreachable or run.cache_blocked else EXIT_OK


def _plural(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _tally(run: geocoding.GeocodeRun) -> str:
    return (f"resolved online {run.count('online')}, from cache {run.count('cache')}, "
            f"from gazetteer {run.count('gazetteer')}, failed {len(run.failed)}")


def _cache_line(run: geocoding.GeocodeRun) -> str:
    where = display_path(str(run.cache_path))
    new = _plural(run.new_entries, "new entry", "new entries")
    if run.cache_blocked and run.new_entries:
        return f"cache: {where} has problems (above), so {new} were not written; restore it and run again."
    if run.dry_run:
        return f"cache: dry run, {new} not written; {where} was not changed."
    if run.written:
        return f"cache: {new} written to {where}."
    return f"cache: {where} was not changed."


def summary_lines(run: geocoding.GeocodeRun, skipped: int) -> list[str]:
    """The end-of-run report, in plain words."""
    own = run.count("record")
    lines = [f"geocode: {_plural(len(run.outcomes), 'record')} read; {own} give their own lat/lon; "
             f"{_plural(len(run.needed), 'record')} needed coordinates: {_tally(run)}."]
    if skipped:
        lines.append(f"  skipped {_plural(skipped, 'file')} with errors: run scripts/validate to see them.")
    for outcome in run.failed:
        kind = "" if outcome.community.kind == "place" else " (a community of interest: optional)"
        lines.append(f"  failed{kind}: {display_path(outcome.community.path)}: {outcome.place}: {outcome.detail}")
    if not run.online and run.needed:
        lines.append("  offline: the geocoding service was not asked (run without --offline to ask it).")
    if run.unreachable:
        lines.append(f"could not finish: {run.unreachable}. After that, {_plural(run.not_looked_up, 'more record was', 'more records were')} "
                     "not looked up online; run scripts/geocode again when the service can be reached.")
    lines.append(_cache_line(run))
    return lines


_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+!|~"} | {"<": "&lt;", ">": "&gt;", "\n": " ", "\r": " "})


def _md(text: str) -> str:
    """Record text shown as text in the job summary, never as markup or HTML."""
    return text.translate(_MARKDOWN_SPECIAL)


def _point(outcome: geocoding.Outcome) -> str:
    point = outcome.community.point
    return f"{point.lat}, {point.lon}" if point else "–"


def markdown_summary(run: geocoding.GeocodeRun, skipped: int) -> str:
    """A table for $GITHUB_STEP_SUMMARY: one row per record that needed coordinates (no postcodes)."""
    lines = ["### Geocoding", ""]
    rows = run.needed
    if rows:
        lines += ["| Record | Place | Result | Point | Detail |", "| --- | --- | --- | --- | --- |"]
        for outcome in rows[:MAX_SUMMARY_ROWS]:
            result = "failed" if outcome.source == "unplaced" else outcome.source
            cells = [display_path(outcome.community.path), outcome.place, result, _point(outcome), outcome.detail]
            lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
        if len(rows) > MAX_SUMMARY_ROWS:
            lines.append(f"\n…and {len(rows) - MAX_SUMMARY_ROWS} more.")
    else:
        lines.append("Every record gives its own coordinates.")
    lines += ["", f"**{_md(_tally(run))}.**"]
    if skipped:
        lines.append(f"Skipped {_plural(skipped, 'file')} with errors (see the validate job).")
    if run.unreachable:
        lines.append(f"> Could not finish: {_md(run.unreachable)}.")
    lines += [_md(_cache_line(run)), "", ""]
    return "\n".join(lines)
