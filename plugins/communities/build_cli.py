"""`scripts/build`: run the Pelican build and report record problems for people.

Pelican's own logging stays for maintainers; a contributor whose record breaks
the build sees the validator's messages, never a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .cli import EXIT_INVALID, EXIT_OK, ROOT, display_path, guarded, parser, print_problems
from .problems import Problem


def _args(argv: Sequence[str] | None):
    p = parser("build", "Build the site into the output folder (offline unless --online).")
    p.add_argument("--communities", metavar="DIR", help="folder of community records (default: data/communities)")
    p.add_argument("--output", metavar="DIR", help="where to write the site (default: output)")
    p.add_argument("--online", action="store_true", help="allow live geocoding for places not in the cache")
    p.add_argument("--no-search", action="store_true", help="skip the Pagefind search index")
    p.add_argument("--config", metavar="FILE", default=str(ROOT / "pelican.conf.py"), help="settings file")
    p.add_argument("-v", "--verbose", action="store_true", help="show Pelican's progress messages")
    p.add_argument("--debug", action="store_true", help="show the full error on an internal failure (for maintainers)")
    return p.parse_args(argv)


def run_build(config: str, overrides: dict, verbose: bool = False) -> None:
    """Pelican with our settings; raises pipeline.BuildFailed on record errors."""
    from pelican import Pelican
    from pelican.settings import read_settings

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    settings = read_settings(config, override=overrides)
    Pelican(settings).run()


@guarded
def build_main(argv: Sequence[str] | None = None) -> int:
    from .pipeline import BuildFailed
    from .search import SearchIndexFailed

    args = _args(argv)
    overrides: dict = {}
    if args.communities:
        overrides["COMMUNITIES_DIR"] = str(Path(args.communities).resolve())
    if args.output:
        overrides["OUTPUT_PATH"] = str(Path(args.output).resolve())
    if args.online:
        overrides["COMMUNITIES_GEOCODE_ONLINE"] = True
    if args.no_search:
        overrides["COMMUNITIES_SEARCH_INDEX"] = False
    started = time.perf_counter()
    try:
        run_build(args.config, overrides, args.verbose)
    except OSError as exc:
        # A full disk or an output folder we may not write to: the person's machine, not a bug.
        where = f" {display_path(str(exc.filename))}" if exc.filename else ""
        print(f"The site was not built: could not write or read{where}: {exc.strerror or exc}.\n"
              "Check there is free disk space and that the output folder can be written to; "
              "your community records and the caches were not changed.", file=sys.stderr)
        return EXIT_INVALID
    except SearchIndexFailed as failed:
        print("The site was built, but its search index was not: Pagefind stopped with this message.\n"
              f"{failed}\n"
              "Check that pagefind[bin] is installed (make site installs it), or build without the index "
              "with scripts/build --no-search.", file=sys.stderr)
        return EXIT_INVALID
    except BuildFailed as failed:
        shown = [Problem(display_path(p.path), p.line, p.col, p.field, p.message, p.hint, p.level, p.rule) for p in failed.problems]
        print("The site was not built: some community records need fixing.\n", file=sys.stderr)
        print_problems(shown, failed.files, "text")
        return EXIT_INVALID
    output = overrides.get("OUTPUT_PATH", "output")
    print(f"Built {display_path(str(output))}/ in {time.perf_counter() - started:.1f}s.")
    return EXIT_OK


def exit_without_teardown(code: int) -> None:
    """Leave at once: at 10,000 communities, freeing every object one by one on the way out took 1.6 s.

    For the scripts only (never for code that runs inside a test or another program).
    Everything the build writes is closed by then; the streams are flushed here.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
