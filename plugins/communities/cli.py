"""The command-line edge: arguments in, Problems printed, exit codes out.

Library code returns values; only this module prints or picks an exit code, and
no traceback ever reaches a contributor: an unexpected failure is reported as
one line that says where to report it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import runpy
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import problems as problems_mod
from . import records, settings, validation

ROOT = Path(__file__).resolve().parents[2]
EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake in how the command was called (exit 2)."""


def load_settings(conf: str | Path | None = None) -> dict[str, Any]:
    """pelican.conf.py's values merged over the plugin defaults, without importing Pelican."""
    conf_path = Path(conf) if conf else ROOT / "pelican.conf.py"
    values = {k: v for k, v in runpy.run_path(str(conf_path)).items() if k.isupper()}
    values.setdefault("PROJECT_ROOT", str(conf_path.resolve().parent))
    merged, warnings = settings.resolve(values)
    for warning in warnings:
        print(warning, file=sys.stderr)
    merged["PROJECT_ROOT"] = values["PROJECT_ROOT"]
    merged["_ALL"] = values
    return merged


def context_from(conf: dict[str, Any], today: str | None = None) -> tuple[validation.Context, list[problems_mod.Problem]]:
    day = today or conf.get("COMMUNITIES_TODAY")
    return validation.Context.from_files(
        settings.project_path(conf, "COMMUNITIES_SCHEMA"),
        settings.project_path(conf, "COMMUNITIES_TAGS"),
        dt.date.fromisoformat(day) if day else None,
    )


def date_option(value: str | None, option: str) -> dt.date | None:
    """A YYYY-MM-DD command-line value, or a usage error that says how to write it."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"{option} must be a date written YYYY-MM-DD, got {value!r}") from exc


def record_cache_path(conf: dict[str, Any]) -> Path:
    return settings.project_path(conf, "COMMUNITIES_CACHE_DIR") / "records"


def display_path(path: str) -> str:
    """Paths under the current folder are shown relative to it, as a contributor typed them."""
    if not os.path.isabs(path):
        return path
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def guarded(main: Callable[[Sequence[str] | None], int]) -> Callable[[Sequence[str] | None], int]:
    """Run a command so that no traceback reaches the person using it."""

    def run(argv: Sequence[str] | None = None) -> int:
        try:
            return main(argv)
        except UsageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print("stopped.", file=sys.stderr)
            return 130
        except Exception as exc:
            if argv and "--debug" in argv:
                raise
            print(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in the tools, not in your file. Please open an issue and paste this message.",
                file=sys.stderr,
            )
            return EXIT_USAGE

    return run


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise UsageError(message)


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    return _Parser(prog=prog, description=description)


# --- validate --------------------------------------------------------------------------

def _validate_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = parser("validate", "Check community records against the schema and the project's rules.")
    p.add_argument("paths", nargs="*", help="record files or folders (default: every file in data/communities/)")
    p.add_argument("--format", choices=("text", "json", "github"), default="text",
                   help="text for people, json for tools, github for pull-request annotations")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="treat this date as today (dates after it are 'in the future')")
    p.add_argument("--strict", action="store_true", help="fail on warnings too")
    p.add_argument("--config", metavar="FILE", help="settings file (default: pelican.conf.py)")
    p.add_argument("--no-cache", action="store_true", help="check every file afresh, ignoring results kept from earlier runs")
    return p.parse_args(argv)


@guarded
def validate_main(argv: Sequence[str] | None = None) -> int:
    args = _validate_args(argv)
    date_option(args.today, "--today")
    conf = load_settings(args.config)
    ctx, vocab_problems = context_from(conf, args.today)
    if args.paths:
        missing = [p for p in args.paths if not Path(p).exists()]
        if missing:
            raise UsageError(f"no such file or folder: {', '.join(missing)}")
        paths = records.expand_paths(args.paths)
    else:
        paths = records.community_files(settings.project_path(conf, "COMMUNITIES_DIR"))
    report = validation.validate_files(paths, ctx, conf["COMMUNITIES_MAX_FILE_BYTES"],
                                       cache_path=None if args.no_cache else record_cache_path(conf),
                                       workers=conf["COMMUNITIES_WORKERS"], keep_records=False)
    found = vocab_problems + report.problems
    found = [problems_mod.Problem(display_path(p.path), p.line, p.col, p.field, p.message, p.hint, p.level, p.rule)
             for p in found]
    print_problems(found, report.files, args.format)
    errors, warnings = problems_mod.count(found)
    return EXIT_INVALID if errors or (args.strict and warnings) else EXIT_OK


def print_problems(found: list[problems_mod.Problem], files: int, fmt: str) -> None:
    if fmt == "json":
        print(problems_mod.format_json(found, files))
        return
    for problem in found:
        print(problems_mod.format_github(problem) if fmt == "github" else problems_mod.format_text(problem))
    print(problems_mod.summary_line(files, found))
