"""scripts/review: record a yearly review, or list the communities whose review is due.

    scripts/review leith --commitment 1 --value 9 --status in-progress --note "Nine swaps; three cancelled."
    scripts/review leith                      (asks for what is missing, when run in a terminal)
    scripts/review --due --format markdown    (what the weekly workflow puts in the tracking issue)
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import model, records, review, settings, validation
from .cli import EXIT_INVALID, EXIT_OK, UsageError, context_from, date_option, display_path, guarded, load_settings, parser, print_problems
from .problems import Problem


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = parser("review", "Add a dated review to one of a community's commitments (keeping the file's comments and layout), "
                         "or list the communities whose yearly review is due.")
    p.add_argument("slug", nargs="?", help="the community's file name without .yaml (e.g. leith), or the path to its file")
    p.add_argument("--commitment", metavar="N|TITLE", help="which commitment: its number (1 is the first) or its title")
    p.add_argument("--note", metavar="TEXT", help="what happened, what went well, what you will try next")
    p.add_argument("--value", metavar="X", help="how far you got, in the target's unit (a number)")
    p.add_argument("--status", metavar="S", help="the commitment's status now: planned, in-progress, achieved, paused or dropped")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="when you reviewed (default: today)")
    p.add_argument("--dir", metavar="DIR", help="folder of community files (default: the COMMUNITIES_DIR setting)")
    p.add_argument("--dry-run", action="store_true", help="show the change without writing it")
    p.add_argument("--due", action="store_true", help="list communities whose review is overdue or due soon, then exit")
    p.add_argument("--within-days", type=int, default=31, metavar="N", help="with --due: also list reviews due within N days (default 31)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="with --due: output format")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="treat this date as today")
    p.add_argument("--config", metavar="FILE", help="settings file (default: pelican.conf.py)")
    return p.parse_args(argv)


def _number(value: str | None) -> float | None:
    if value is None or value.strip() == "":
        return None
    try:
        return float(value.replace(",", ""))
    except ValueError as exc:
        raise UsageError(f"--value must be a number such as 12 or 2.5, got {value!r}") from exc


def _record_path(slug: str, folder: Path) -> Path:
    given = Path(slug)
    if given.suffix == ".yaml" and given.exists():
        return given
    path = folder / f"{slug}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in records.community_files(folder))
        close = difflib.get_close_matches(slug, known, n=1)
        tip = f" Did you mean {close[0]!r}?" if close else ""
        raise UsageError(f"no community file {display_path(str(path))}.{tip}")
    return path


# --- interactive questions, only in a terminal -------------------------------------------

Ask = Callable[[str], str]


def _interactive(path: Path, args: argparse.Namespace, ask: Ask) -> argparse.Namespace:
    """Ask for whatever the options left out, showing the commitments to choose from."""
    data, problems = records.parse(path.read_text(encoding="utf-8"), str(path))
    commitments = data.get("commitments", []) if isinstance(data, dict) and not problems else []
    if args.commitment is None:
        print(f"Commitments in {display_path(str(path))}:")
        for i, c in enumerate(commitments, 1):
            if isinstance(c, dict):
                last = max((r.get("date", "") for r in c.get("reviews", []) if isinstance(r, dict)), default="")
                print(f"  {i}. {c.get('title')} [{c.get('status')}]" + (f", last reviewed {last}" if last else ", not reviewed yet"))
        args.commitment = ask("Which commitment? (number) ").strip() or "1"
    if args.value is None:
        args.value = ask("How far did you get, as a number in the target's unit? (Enter to skip) ").strip() or None
    if args.status is None:
        args.status = ask("Its status now: planned, in-progress, achieved, paused or dropped? (Enter to keep) ").strip() or None
    if args.note is None:
        args.note = ask("What happened, what went well, what will you try next? ").strip()
    if args.date is None:
        args.date = ask("Date of the review, YYYY-MM-DD (Enter for today) ").strip() or None
    return args


@guarded
def main(argv: Sequence[str] | None = None) -> int:
    return run(argv)


def run(argv: Sequence[str] | None = None, ask: Ask | None = None, interactive: bool | None = None) -> int:
    """The command, with the questions and the terminal check injectable for tests (main adds the error guard)."""
    args = _args(argv)
    conf = load_settings(args.config)
    today = date_option(args.today, "--today") or date_option(conf.get("COMMUNITIES_TODAY"), "COMMUNITIES_TODAY") or dt.date.today()
    folder = Path(args.dir) if args.dir else settings.project_path(conf, "COMMUNITIES_DIR")
    if args.due:
        return _due(args, conf, today, folder)
    if not args.slug:
        raise UsageError("name the community to review, e.g. scripts/review leith (or use --due to list reviews due)")
    path = _record_path(args.slug, folder)
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if (args.commitment is None or args.note is None) and interactive:
        args = _interactive(path, args, ask or input)
    missing = [name for name in ("commitment", "note") if getattr(args, name) is None]
    if missing:
        raise UsageError(f"missing {' and '.join('--' + m for m in missing)} (run it in a terminal to be asked instead)")
    request = review.Request(args.commitment, args.note, date_option(args.date, "--date") or today, _number(args.value),
                             args.status or None)
    ctx, _ = context_from(conf, today.isoformat())
    added, problems = review.review_file(path, request, ctx, write=not args.dry_run)
    if added is None:
        shown = [Problem(display_path(p.path), p.line, p.col, p.field, p.message, p.hint, p.level, p.rule) for p in problems]
        print_problems(shown, 1, "text")
        print(f"Nothing was written: {display_path(str(path))} is unchanged.", file=sys.stderr)
        return EXIT_INVALID
    if args.dry_run:
        print(added.diff, end="")
        print("Dry run: nothing was written.")
        return EXIT_OK
    print(f"{display_path(added.path)}: added a review of commitment {added.index} ({added.title!r}) dated {added.date}; "
          f"last_reviewed is {added.last_reviewed}. The file still passes scripts/validate.")
    return EXIT_OK


def _due(args: argparse.Namespace, conf: dict[str, Any], today: dt.date, folder: Path) -> int:
    if args.within_days < 0:
        raise UsageError(f"--within-days must be 0 or more, got {args.within_days}")
    ctx, _ = context_from(conf, today.isoformat())
    report = validation.validate_files(records.community_files(folder), ctx, conf["COMMUNITIES_MAX_FILE_BYTES"])
    communities = [model.community_from_data(r.slug, r.path, r.data, r.digest) for r in report.valid_records()]
    skipped = len(report.records) - len(communities) + (report.files - len(report.records))
    months = conf["COMMUNITIES_REVIEW_MONTHS"]
    overdue, soon = review.due_reviews(communities, today, args.within_days, months)
    print(review.format_due(overdue, soon, args.format, today=today, within_days=args.within_days, months=months,
                            repo=conf["COMMUNITIES_REPO_URL"], branch=conf["COMMUNITIES_REPO_BRANCH"], skipped=skipped))
    return EXIT_OK
