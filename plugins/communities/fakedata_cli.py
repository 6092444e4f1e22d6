"""`scripts/make-fake-data`: write N synthetic, valid community records for benchmarks and load tests."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import fakedata
from .cli import EXIT_OK, UsageError, date_option, display_path, guarded, parser

MAX_COUNT = 1_000_000


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = parser("make-fake-data", "Write N realistic, valid, synthetic community records (the same for the same seed).")
    p.add_argument("--count", metavar="N", required=True, help="how many records to write")
    p.add_argument("--out", metavar="DIR", required=True, help="folder to write <slug>.yaml files into (created if missing)")
    p.add_argument("--seed", metavar="N", default=str(fakedata.DEFAULT_SEED), help=f"random seed (default {fakedata.DEFAULT_SEED})")
    p.add_argument("--today", metavar="YYYY-MM-DD", default=fakedata.DEFAULT_TODAY.isoformat(),
                   help=f"every date is on or before this day (default {fakedata.DEFAULT_TODAY.isoformat()})")
    p.add_argument("--replace", action="store_true", help="delete the .yaml files already in DIR first")
    return p.parse_args(argv)


def _int(value: str, option: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"{option} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise UsageError(f"{option} must be between {low:,} and {high:,}, got {number:,}")
    return number


@guarded
def make_fake_data_main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    count = _int(args.count, "--count", 1, MAX_COUNT)
    seed = _int(args.seed, "--seed", 0, 2**63)
    today = date_option(args.today, "--today")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out must be a folder, but {args.out!r} is a file")
    existing = sorted(out.glob("*.yaml")) if out.is_dir() else []
    if existing and not args.replace:
        raise UsageError(f"{args.out!r} already holds {len(existing):,} .yaml files; use --replace to delete them first, or another folder")
    for path in existing:
        path.unlink()
    written = fakedata.write(count, out, seed, today)
    print(f"Wrote {len(written):,} records to {display_path(str(out.resolve()))}/ (seed {seed}).", file=sys.stdout)
    return EXIT_OK
