"""Search: Pagefind indexes the written site, after Pelican has finished.

Only pages whose templates mark their main content with `data-pagefind-body`
are indexed (community pages, news articles, handbook and resource pages);
listing pages (directory, tags, regions, map...) carry no such mark, so they
are left out, which keeps the index small and the results useful. Filters come
from `data-pagefind-filter` on community pages (tag, region, kind, area).

Pagefind is the PyPI package `pagefind[bin]`, run as `python -m pagefind` with
the interpreter that runs the build, so no Node.js and no network are needed.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 600


class SearchIndexFailed(RuntimeError):
    """Pagefind did not produce an index; the message carries what it printed."""


def command(site: Path) -> list[str]:
    return [sys.executable, "-m", "pagefind", "--site", str(site), "--quiet"]


def run_pagefind(site: Path) -> float:
    """Index `site` in place (writes site/pagefind/); returns the seconds it took. Raises SearchIndexFailed."""
    started = time.perf_counter()
    try:
        result = subprocess.run(command(site), capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SearchIndexFailed(f"communities: could not run Pagefind ({exc}); install it with pip install 'pagefind[bin]'") from exc
    if result.returncode != 0 or not (site / "pagefind" / "pagefind-entry.json").exists():
        output = (result.stderr or result.stdout or "").strip()[-2000:]
        raise SearchIndexFailed(f"communities: Pagefind failed with exit code {result.returncode}: {output}")
    return time.perf_counter() - started


def index_site(pelican: Any) -> None:
    """finalized receiver: build the search index unless COMMUNITIES_SEARCH_INDEX is false."""
    from .settings import resolve

    if not resolve(pelican.settings)[0]["COMMUNITIES_SEARCH_INDEX"]:
        return
    seconds = run_pagefind(Path(pelican.output_path))
    log.info("communities: search index built in %.1fs", seconds)
