"""scripts/check-links: try every website and co-op link in the records and report the broken ones.

    scripts/check-links                        (a short text report)
    scripts/check-links --format markdown --output report.md   (what the weekly workflow files as an issue)

Exit status 1 when a link is broken, so a person sees it; the workflow never fails anybody's pull request
because it runs on a schedule only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
from collections.abc import Sequence
from pathlib import Path

from . import links, model, records, settings, validation
from .cli import EXIT_INVALID, EXIT_OK, UsageError, context_from, date_option, guarded, load_settings, parser


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = parser("check-links", "Check every website, contact page, co-op and partner link in the community records.")
    p.add_argument("--dir", metavar="DIR", help="folder of community files (default: the COMMUNITIES_DIR setting)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="report format")
    p.add_argument("--output", metavar="FILE", help="write the report here instead of printing it")
    p.add_argument("--timeout", type=float, default=15.0, metavar="SECONDS", help="give up on a link after this long (default 15)")
    p.add_argument("--workers", type=int, default=8, metavar="N", help="links checked at once (default 8)")
    p.add_argument("--allow-private", action="store_true", help="also fetch addresses on private or local networks (for tests)")
    p.add_argument("--today", metavar="YYYY-MM-DD", help="the date printed on the report")
    p.add_argument("--config", metavar="FILE", help="settings file (default: pelican.conf.py)")
    return p.parse_args(argv)


@guarded
def main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    if args.timeout <= 0 or args.workers < 1:
        raise UsageError("--timeout must be above 0 and --workers at least 1")
    today = date_option(args.today, "--today") or dt.date.today()
    conf = load_settings(args.config)
    folder = Path(args.dir) if args.dir else settings.project_path(conf, "COMMUNITIES_DIR")
    ctx, _ = context_from(conf, today.isoformat())
    report = validation.validate_files(records.community_files(folder), ctx, conf["COMMUNITIES_MAX_FILE_BYTES"])
    communities = [model.community_from_data(r.slug, r.path, r.data, r.digest) for r in report.valid_records()]
    refs = links.collect(communities)
    check = functools.partial(links.check_url, timeout=args.timeout, user_agent=conf["COMMUNITIES_GEOCODER_USER_AGENT"],
                              allow_private=args.allow_private)
    results = links.check_all(refs, workers=args.workers, check=check)
    text = links.format_report(refs, results, args.format, today, conf["COMMUNITIES_REPO_URL"], conf["COMMUNITIES_REPO_BRANCH"])
    if args.output:
        Path(args.output).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    else:
        print(text)
    return EXIT_INVALID if links.summary(refs, results)[links.BROKEN] else EXIT_OK
