"""Search: Pagefind indexes what people search for, after Pelican has written the site.

Pagefind is not pointed at the 10,000-page output. It indexes a scratch folder
holding one lean page per community (name, place, summary, description,
commitments, tags, and the tag/region/kind/area filters), written from the
records this build published in `data/communities.json`, plus copies of the
built pages whose templates mark their main content with `data-pagefind-body`
(news articles, handbook and resource pages). Every page sits at its real
path, so results link to the real URLs.

Pagefind 1.5 does most of its work on one core, so the communities are dealt
into two parts, indexed at the same time into `OUTPUT/pagefind/` (with the
news and handbook pages) and `OUTPUT/pagefind/part-2/`; the search page
merges them (Pagefind's `mergeIndex`). See docs/search.md.

Pagefind is the PyPI package `pagefind[bin]`, run as `python -m pagefind` with
the interpreter that runs the build, so no Node.js and no network are needed.
`python -m communities.search SITE` indexes an already built site the same way
(the benchmark times exactly that).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import search_records
from .environment import translations_for
from .files import mirror

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 600
THEME = Path(__file__).resolve().parents[2] / "theme"  # the project's theme, for a site indexed on its own
BUNDLE = "pagefind"
#: Indexed at once, one Pagefind each. theme/templates/search.html merges part 2 when there are two communities or more.
PARTS = 2
RECORDS = "data/communities.json"
SCRATCH_BYTES_PER_PAGE = 24 << 10  # a lean page is 2-8 KB, its index fragment 1-3 KB; a tmpfs file takes whole 4 KB pages
VOCABULARY = "data/tags.json"


class SearchIndexFailed(RuntimeError):
    """Pagefind did not produce an index; the message carries what it printed."""


@dataclass(frozen=True)
class Indexed:
    communities: int
    pages: tuple[str, ...]  # the built pages indexed as they are (news, handbook, resources)
    seconds: float


def command(source: Path, bundle: Path) -> list[str]:
    return [sys.executable, "-m", "pagefind", "--site", str(source), "--output-path", str(bundle), "--quiet"]


def bundle_path(site: Path, part: int) -> Path:
    """Part 1 is the main bundle (`pagefind/`); the others sit inside it (`pagefind/part-2/`)."""
    return site / BUNDLE if part == 1 else site / BUNDLE / f"part-{part}"


class _Run:
    """One Pagefind process, its output kept in a file (no pipe to fill while another one is waited on)."""

    def __init__(self, source: Path, bundle: Path) -> None:
        self.bundle = bundle
        self.output = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(command(source, bundle), stdout=self.output, stderr=subprocess.STDOUT)
        except OSError as exc:
            self.output.close()
            raise SearchIndexFailed(f"communities: could not run Pagefind ({exc}); install it with pip install 'pagefind[bin]'") from exc

    def check(self) -> None:
        """After the process ended: raise SearchIndexFailed unless it wrote an index."""
        if self.proc.returncode != 0 or not (self.bundle / "pagefind-entry.json").exists():
            self.output.seek(0)
            printed = self.output.read().decode("utf-8", errors="replace").strip()[-2000:]
            raise SearchIndexFailed(f"communities: Pagefind failed with exit code {self.proc.returncode}: {printed}")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.output.close()


def _stop(runs: list[_Run]) -> None:
    for run in runs:
        run.close()


def _finish(runs: list[_Run]) -> None:
    """Wait for every run; the first to fail stops the others. Raises SearchIndexFailed."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    waiting = list(runs)
    try:
        while waiting:
            for run in [r for r in waiting if r.proc.poll() is not None]:
                run.check()
                waiting.remove(run)
            if waiting:
                if time.monotonic() > deadline:
                    raise SearchIndexFailed(f"communities: Pagefind did not finish within {TIMEOUT_SECONDS}s")
                time.sleep(0.02)
    finally:
        _stop(runs)


def run_pagefind(jobs: Iterable[tuple[Path, Path]]) -> None:
    """Index each (source, bundle) pair, all at once. Raises SearchIndexFailed with what Pagefind printed.

    Each Pagefind starts as soon as `jobs` gives its pair, so a job made lazily
    (index_output writes each part's pages) is made while the earlier ones run.
    """
    runs: list[_Run] = []
    try:
        for source, bundle in jobs:
            runs.append(_Run(source, bundle))
    except BaseException:
        _stop(runs)
        raise
    _finish(runs)


def _scratch(pages: int) -> str | None:
    """A RAM-backed folder for the scratch pages when there is one with room (containers often give it 64 MB)."""
    shm = "/dev/shm"
    try:
        if os.access(shm, os.W_OK | os.X_OK):
            free = os.statvfs(shm)
            if free.f_bavail * free.f_frsize > SCRATCH_BYTES_PER_PAGE * pages + (64 << 20):
                return shm
    except (OSError, AttributeError):  # no statvfs on Windows
        pass
    return None  # the system's temporary folder


def index_output(site: Path, records: Sequence[tuple[str, dict[str, Any]]], labels: search_records.FilterLabels, lang: str) -> Indexed:
    """Build `site/pagefind/` from the community records and the site's marked pages.

    Pagefind writes a fresh index into the scratch folder, which is then mirrored
    into `site/pagefind/`: files whose bytes are unchanged are left alone, and files
    of the last index that this one does not have are removed. Pagefind itself,
    writing over an old index, leaves them behind: the index would grow with every
    build, and a removed community's words would stay on the server.
    """
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="communities-search-", dir=_scratch(len(records))) as scratch:
        pages: list[str] = []
        fresh = Path(scratch) / "index"

        def parts() -> Iterator[tuple[Path, Path]]:
            for part, part_records in enumerate(search_records.split(records, PARTS), start=1):
                source = Path(scratch) / f"part-{part}"
                search_records.write_community_pages(source, part_records, labels, lang)
                if part == 1:
                    pages.extend(search_records.copy_marked_pages(site, source, skip=[BUNDLE]))
                yield source, bundle_path(fresh, part)

        run_pagefind(parts())
        mirror(bundle_path(fresh, 1), bundle_path(site, 1))
    return Indexed(len(records), tuple(pages), time.perf_counter() - started)


def published_records(site: Path) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, str]]:
    """The records and tag labels a build published in its open data, in the directory's order."""
    try:
        records = json.loads((site / RECORDS).read_text(encoding="utf-8"))
        vocabulary = json.loads((site / VOCABULARY).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SearchIndexFailed(f"communities: cannot index {site}: its open data is missing or unreadable ({exc})") from exc
    return [(r["slug"], r) for r in records], {slug: entry.get("label", slug) for slug, entry in vocabulary.items()}


def site_language(site: Path) -> str:
    try:
        head = (site / "index.html").read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return "en"
    match = re.search(r'<html[^>]*\slang="([^"]+)"', head)
    return match.group(1) if match else "en"


def index_built_site(site: Path, lang: str | None = None, theme: Path = THEME) -> Indexed:
    """Index a built site; its filters are named and valued in its language, from the theme's catalog."""
    records, tag_labels = published_records(site)
    lang = lang or site_language(site)
    labels = search_records.filter_labels(translations_for(theme, lang).gettext, tag_labels)
    return index_output(site, records, labels, lang)


def index_site(pelican: Any) -> None:
    """finalized receiver: build the search index unless COMMUNITIES_SEARCH_INDEX is false."""
    from .settings import resolve

    if not resolve(pelican.settings)[0]["COMMUNITIES_SEARCH_INDEX"]:
        return
    done = index_built_site(Path(pelican.output_path), pelican.settings.get("DEFAULT_LANG") or "en", Path(pelican.settings["THEME"]))
    log.info("communities: search index of %d communities and %d pages built in %.1fs", done.communities, len(done.pages), done.seconds)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m communities.search SITE`: index a built site as the build does (what the benchmark times)."""
    p = argparse.ArgumentParser(prog="python -m communities.search", description=main.__doc__)
    p.add_argument("site", type=Path, help="a built site (the build's output folder)")
    p.add_argument("--lang", help="the site's language (default: <html lang> of SITE/index.html)")
    args = p.parse_args(argv)
    try:
        done = index_built_site(args.site, args.lang)
    except SearchIndexFailed as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Indexed {done.communities} communities and {len(done.pages)} pages in {done.seconds:.1f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
