"""The benchmark harness: the site against plain Pelican and Hugo, side by side, in one run.

Each measurement is a small function returning a `Measurement` (name, samples,
peak memory, extra); `render` turns a `Results` into the Markdown table, and
nothing else prints a number. Every build runs in its own subprocess under
`/usr/bin/time` so its peak memory is its own. Machines are noisy: the table
shows medians, min-max and ratios, never a single run.

    scripts/bench                      # N = 1,000 and 10,000, 3 runs each
    scripts/bench --full               # adds N = 50,000
    scripts/bench --quick --no-browser # N = 50, one run (what the test suite runs)

Everything the runs write lives under --work (benchmarks/work/, git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import gzip
import hashlib
import http.server
import importlib.metadata
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

from communities import fakedata  # noqa: E402
from communities.cli import UsageError, guarded, parser  # noqa: E402

PYTHON = sys.executable
TIME = "/usr/bin/time"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]
TODAY = "2026-11-24"
SEED = 1
MARKER_SELECTOR = ".leaflet-marker-icon, .marker-cluster"
BROWSER_TIMEOUT_MS = 60_000
EDIT_SENTENCE = "We added this sentence for benchmark run {run}."


# --- what a measurement is ------------------------------------------------------------------

@dataclass
class Measurement:
    """One step at one N: its samples (seconds, bytes or milliseconds), peak memory and notes."""

    name: str
    samples: list[float] = field(default_factory=list)
    unit: str = "s"  # s, ms, B
    peak_rss_kb: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # "not installed", "n/a: ..." when there are no samples

    @property
    def ok(self) -> bool:
        return bool(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass(frozen=True)
class Goal:
    step: str
    limit: float
    kind: str  # "abs" (in the step's unit), "hugo" (ratio to Hugo's like-for-like step), "per" (per community)
    text: str


GOALS = (
    Goal("cold", 1.0, "hugo", "≤ 1.0 × Hugo"),
    Goal("edit", 0.2, "hugo", "≤ 0.2 × Hugo"),
    Goal("validate", 2.0, "abs", "≤ 2 s"),
    Goal("map_html", 30 * 1024, "abs", "≤ 30 KB gz"),
    Goal("map_data", 80, "per", "≤ 80 B/community gz"),
    Goal("markers", 1500, "abs", "≤ 1.5 s"),
    Goal("filter", 100, "abs", "≤ 100 ms"),
    Goal("pagefind", 10.0, "abs", "≤ 10 s"),
)
GOAL_N = 10_000

# Our step -> the peers' like-for-like step, for the ratio columns.
PEER_OF = {"cold": "cold", "nochange": "edit", "edit": "edit", "edit_summary": "edit", "edit_name": "edit"}

LABELS = {
    "validate": "Validation (`scripts/validate`), first run: no cache",
    "validate_warm": "Validation, repeat run: content-hash cache",
    "cold": "Cold full build",
    "nochange": "Rebuild, nothing changed",
    "edit": "Rebuild, one record edited",
    "edit_summary": "Rebuild, one record's summary edited (words listings show)",
    "edit_name": "Rebuild, one record's name edited (where listings show it: the full build)",
    "pagefind": "Pagefind index",
    "map_html": "Map page HTML",
    "map_data": "Map data",
    "markers": "Map markers clickable",
    "filter": "Map filter change",
}
PEER_LABELS = {"cold": "cold build", "edit": "rebuild, one record edited"}


@dataclass
class Profile:
    n: int
    step: str
    total_s: float
    top_self: list[tuple[float, str]]
    top_cumulative: list[tuple[float, str]]
    tree_path: str
    note: str = ""


@dataclass
class SizeRun:
    n: int
    ours: dict[str, Measurement]
    hugo: dict[str, Measurement]
    pelican: dict[str, Measurement]


@dataclass
class Results:
    started: str
    machine: dict[str, str]
    versions: dict[str, str]
    runs: int
    sizes: list[SizeRun] = field(default_factory=list)
    profiles: list[Profile] = field(default_factory=list)
    seconds: float = 0.0


# --- running things -------------------------------------------------------------------------

@dataclass
class Timed:
    seconds: float
    peak_rss_kb: int | None
    returncode: int
    output: str


def run_timed(cmd: Sequence[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Timed:
    """Wall-clock time and peak RSS of one command, run to completion in its own process."""
    full_env = {**os.environ, **(env or {})}
    with tempfile.NamedTemporaryFile("r", suffix=".time") as stats:
        wrapped = [TIME, "-f", "%M", "-o", stats.name, *cmd] if Path(TIME).exists() else list(cmd)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        proc = subprocess.run(wrapped, cwd=cwd, env=full_env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if wrapped[0] == TIME:
            text = Path(stats.name).read_text().strip().splitlines()
            peak = int(text[-1]) if text and text[-1].isdigit() else None
        else:  # the children's high-water mark: exact only when this child is the largest so far
            after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            peak = after if after > before else None
    return Timed(seconds, peak, proc.returncode, proc.stdout + proc.stderr)


def _repeat(name: str, runs: int, once: Callable[[int], Timed], before: Callable[[int], None] | None = None) -> Measurement:
    m = Measurement(name)
    peaks = []
    for run in range(runs):
        if before:
            before(run)
        t = once(run)
        if t.returncode != 0:
            raise RuntimeError(f"{name} failed (exit {t.returncode}):\n{t.output[-3000:]}")
        m.samples.append(t.seconds)
        if t.peak_rss_kb:
            peaks.append(t.peak_rss_kb)
    m.peak_rss_kb = max(peaks) if peaks else None
    return m


def _rm(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# --- the work folder for one N ---------------------------------------------------------------

@dataclass
class Workspace:
    n: int
    root: Path
    site: Path = ROOT  # the project being measured: a snapshot of the working tree (see `snapshot`)

    @property
    def records(self) -> Path:
        return self.root / "records"

    @property
    def out(self) -> Path:
        return self.root / "site"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def conf(self) -> Path:
        return self.root / "bench.conf.py"

    @property
    def trash(self) -> Path:
        return self.root / "trash"

    def set_aside(self, path: Path) -> None:
        """Move a folder out of the way instead of deleting it; empty_trash() deletes it after the last step.

        On this ext4 (no journal), files created within seconds of deleting thousands
        of others skip every freed inode one by one: seconds of kernel time that belong
        to the benchmark's clean-up, not to the build being measured, and that land on
        whichever tool runs next. A deploy builds into a fresh checkout, never that.
        """
        if path.exists():
            self.trash.mkdir(parents=True, exist_ok=True)
            path.rename(self.trash / f"{len(list(self.trash.iterdir()))}-{path.name}")

    def empty_trash(self) -> None:
        _rm(self.trash)

    def build_cmd(self) -> list[str]:
        return [PYTHON, str(self.site / "scripts" / "build"), "--communities", str(self.records), "--output", str(self.out),
                "--no-search", "--config", str(self.conf)]


SNAPSHOT_IGNORE = shutil.ignore_patterns(".git", ".venv", "output", ".cache", "work", "__pycache__", ".pytest_cache",
                                         ".ruff_cache", ".hypothesis", "node_modules")


def snapshot(work: Path) -> Path:
    """A copy of the working tree as it is now, so edits made while the benchmark runs do not mix into it."""
    target = work / "site-snapshot"
    _rm(target)
    shutil.copytree(ROOT, target, ignore=SNAPSHOT_IGNORE, symlinks=True)
    return target


def prepare(n: int, work: Path, site: Path = ROOT) -> Workspace:
    """Records for N (made once per seed and generator version), and a settings file that keeps caches here."""
    ws = Workspace(n, work / f"n{n}", site)
    stamp = hashlib.sha256(f"{n}:{SEED}:{TODAY}".encode() + Path(fakedata.__file__).read_bytes()).hexdigest()[:16]
    stamp_file = ws.root / "records.stamp"
    if not (stamp_file.exists() and stamp_file.read_text() == stamp and ws.records.is_dir()):
        _rm(ws.records)
        fakedata.write(n, ws.records, SEED, dt.date.fromisoformat(TODAY))
        stamp_file.write_text(stamp)
    ws.conf.write_text(
        '"""Benchmark settings: the project\'s, with the caches kept in the benchmark work folder."""\n'
        "import runpy as _runpy\n\n"
        f"globals().update({{k: v for k, v in _runpy.run_path({str(ws.site / 'pelican.conf.py')!r}).items() if k.isupper()}})\n"
        f"COMMUNITIES_CACHE_DIR = {str(ws.cache)!r}\n"
        f"COMMUNITIES_TODAY = {TODAY!r}\n",
        encoding="utf-8",
    )
    return ws


def _edit_record(path: Path, run: int) -> None:
    """Append one sentence to the record's description (a `|` block written by fakedata)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    start = lines.index("description: |")
    end = next(i for i in range(start + 1, len(lines)) if lines[i] and not lines[i].startswith(" "))
    lines.insert(end - 1 if not lines[end - 1].strip() else end, "  " + EDIT_SENTENCE.format(run=run))
    path.write_text("\n".join(lines), encoding="utf-8")


EDIT_MARK = re.compile(r" \(edit \d+\)$")


def _mark(field: str, path: Path, run: int, limit: int) -> None:
    """Mark a one-line field of the record with the run's number, in place of the last run's mark, within `limit` characters."""
    lines = path.read_text(encoding="utf-8").split("\n")
    i = next(i for i, line in enumerate(lines) if line.startswith(f"{field}:"))
    value = EDIT_MARK.sub("", yaml.safe_load(lines[i])[field])
    mark = f" (edit {run})"
    lines[i] = f"{field}: " + json.dumps(value[: limit - len(mark)] + mark, ensure_ascii=False)
    path.write_text("\n".join(lines), encoding="utf-8")


def _edit_summary(path: Path, run: int) -> None:
    """The summary, which cards and the feed show: the words change, not where the record is listed."""
    _mark("summary", path, run, 200)


def _edit_name(path: Path, run: int) -> None:
    """The name, by which listings are sorted and the rules across records compare records: the full build."""
    _mark("name", path, run, 120)


@contextlib.contextmanager
def restored(path: Path) -> Iterator[None]:
    original = path.read_bytes()
    try:
        yield
    finally:
        path.write_bytes(original)


# --- our steps ------------------------------------------------------------------------------

def _validate_cmd(ws: Workspace) -> list[str]:
    return [PYTHON, str(ws.site / "scripts" / "validate"), str(ws.records), "--today", TODAY, "--config", str(ws.conf)]


def measure_validation(ws: Workspace, runs: int) -> Measurement:
    """What a pull request's check costs on a fresh runner: nothing remembered."""
    return _repeat("validate", runs, lambda _run: run_timed(_validate_cmd(ws)), lambda _run: ws.set_aside(ws.cache))


def measure_validation_warm(ws: Workspace, runs: int) -> Measurement:
    """A contributor re-running the check: unchanged files come from the content-hash cache."""
    run_timed(_validate_cmd(ws))  # prime the cache
    return _repeat("validate_warm", runs, lambda _run: run_timed(_validate_cmd(ws)))


def measure_cold_build(ws: Workspace, runs: int) -> Measurement:
    """A first build on a fresh machine: no output folder and no caches."""
    def clean(_run: int) -> None:
        ws.set_aside(ws.out)
        ws.set_aside(ws.cache)

    return _repeat("cold", runs, lambda _run: run_timed(ws.build_cmd()), clean)


def measure_nochange_rebuild(ws: Workspace, runs: int) -> Measurement:
    _ensure_built(ws)
    return _repeat("nochange", runs, lambda _run: run_timed(ws.build_cmd()))


def measure_edit_rebuild(ws: Workspace, runs: int) -> Measurement:
    return _measure_one_record_rebuild(ws, runs, "edit", _edit_record)


def measure_summary_rebuild(ws: Workspace, runs: int) -> Measurement:
    """Like measure_edit_rebuild, but the edit shows on every listing that has the record's card."""
    return _measure_one_record_rebuild(ws, runs, "edit_summary", _edit_summary)


def measure_name_rebuild(ws: Workspace, runs: int) -> Measurement:
    """Like measure_edit_rebuild, but the edit may move the record in every listing that has it."""
    return _measure_one_record_rebuild(ws, runs, "edit_name", _edit_name)


def _measure_one_record_rebuild(ws: Workspace, runs: int, step: str, edit: Callable[[Path, int], None]) -> Measurement:
    """Each run edits the same record (the middle one) and rebuilds; the record is restored afterwards."""
    _ensure_built(ws)
    target = sorted(ws.records.glob("*.yaml"))[len(list(ws.records.glob("*.yaml"))) // 2]
    with restored(target):
        m = _repeat(step, runs, lambda _run: run_timed(ws.build_cmd()), lambda run: edit(target, run))
    m.extra["record"] = target.name
    run_timed(ws.build_cmd())  # back in step with the restored record
    return m


def _ensure_built(ws: Workspace) -> None:
    if not (ws.out / "index.html").exists():
        t = run_timed(ws.build_cmd())
        if t.returncode:
            raise RuntimeError(f"build failed:\n{t.output[-3000:]}")


def measure_pagefind(ws: Workspace, runs: int) -> Measurement:
    """The search index as the build makes it (`python -m communities.search SITE`), each run from no index at all.

    The previous run's index is set aside, not deleted (see Workspace.set_aside): a build replaces its index in place.
    """
    _ensure_built(ws)
    cmd = [PYTHON, "-m", "communities.search", str(ws.out)]
    env = {"PYTHONPATH": str(ws.site / "plugins")}
    m = _repeat("pagefind", runs, lambda _run: run_timed(cmd, env=env), lambda _run: ws.set_aside(ws.out / "pagefind"))
    index = ws.out / "pagefind"
    m.extra["index_bytes"] = sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) if index.exists() else 0
    return m


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6, mtime=0))


_REF = re.compile(r"""(?:src|data-[\w-]+)\s*=\s*["']([^"'#?]+\.(?:geojson|json))["']|["']([^"'\s]+\.(?:geojson|json))["']""")


def map_files(out: Path) -> tuple[Path | None, list[Path]]:
    """The map page and the JSON/GeoJSON files it names: a guess, used when the browser did not say what it fetched."""
    page = out / "map" / "index.html"
    if not page.exists():
        return None, []
    html = page.read_text(encoding="utf-8", errors="replace")
    found: list[Path] = []
    for match in _REF.finditer(html):
        ref = match.group(1) or match.group(2)
        if "://" in ref or ref.startswith(("data:", "mailto:", "//")):
            continue
        target = (out / ref.lstrip("/")) if ref.startswith("/") else (page.parent / ref)
        target = target.resolve()
        if target.is_file() and target not in found:
            found.append(target)
    return page, found


def measure_sizes(ws: Workspace, fetched: list[str] | None = None) -> tuple[Measurement, Measurement]:
    """Gzipped size of the map page, and of the data it loads: what Chromium fetched, else the files the page names."""
    _ensure_built(ws)
    page, named = map_files(ws.out)
    site = ws.out.resolve()
    data = [site / f for f in fetched] if fetched else named
    html = Measurement("map_html", unit="B")
    blob = Measurement("map_data", unit="B")
    if page is None:
        html.note = blob.note = "not built (no /map/ page)"
        return html, blob
    raw = page.read_bytes()
    html.samples = [float(_gz(raw))]
    html.extra = {"raw": len(raw)}
    if not data:
        blob.note = "n/a: /map/ names no data file (inline in the HTML?)"
        return html, blob
    raw_total = sum(p.stat().st_size for p in data)
    gz_total = sum(_gz(p.read_bytes()) for p in data)
    blob.samples = [float(gz_total)]
    blob.extra = {"raw": raw_total, "files": [str(p.relative_to(site)) for p in data], "per": gz_total / ws.n,
                  "how": "fetched by the page" if fetched else "named by the page (no browser run)"}
    return html, blob


# --- the browser ------------------------------------------------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# Runs before the page's own scripts: notes the first frame in which a marker is on screen and
# is what a click at its centre would hit. performance.now() counts from navigation start.
_MARKERS_READY = """
(() => {
  const sel = __SELECTOR__;
  const check = () => {
    for (const el of document.querySelectorAll(sel)) {
      const r = el.getBoundingClientRect();
      const x = r.left + r.width / 2, y = r.top + r.height / 2;
      if (r.width > 0 && r.height > 0 && x >= 0 && y >= 0 && x < innerWidth && y < innerHeight) {
        const hit = document.elementFromPoint(x, y);
        if (hit && (hit === el || el.contains(hit))) { window.__benchMarkers = performance.now(); return; }
      }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
""".replace("__SELECTOR__", json.dumps(MARKER_SELECTOR))

# Selects a tag in the map's filter <select>; the time runs until the first frame after the
# resulting DOM change has been painted (rAF, then a task queued behind the paint).
_FILTER_CHANGE = """
async ([value, tags]) => {
  const known = new Set(tags);
  const select = [...document.querySelectorAll('select')].find(s => [...s.options].some(o => known.has(o.value)));
  if (!select) return {error: 'no <select> with tag options on /map/'};
  let changed = false;
  const observer = new MutationObserver(() => { changed = true; });
  observer.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  const t0 = performance.now();
  select.value = value;
  select.dispatchEvent(new Event('input', {bubbles: true}));
  select.dispatchEvent(new Event('change', {bubbles: true}));
  const afterPaint = () => new Promise(r => requestAnimationFrame(() => { const c = new MessageChannel(); c.port1.onmessage = r; c.port2.postMessage(0); }));
  while (true) {
    await new Promise(r => setTimeout(r, 0));
    if (changed) { await afterPaint(); break; }
    if (performance.now() - t0 > 10000) { observer.disconnect(); return {error: 'the page did not change within 10 s of choosing a tag'}; }
  }
  observer.disconnect();
  return {ms: performance.now() - t0};
}
"""


def _tag_options(page: Any) -> list[str]:
    return page.evaluate("""(tags) => {
      const known = new Set(tags);
      const s = [...document.querySelectorAll('select')].find(s => [...s.options].some(o => known.has(o.value)));
      return s ? [...s.options].map(o => o.value).filter(v => known.has(v)) : [];
    }""", _vocabulary())


@functools.cache
def _vocabulary() -> list[str]:
    from communities import records

    tags, _ = records.load_tags(ROOT / "data" / "tags.yaml")
    return sorted(tags)


_FETCHED = """() => performance.getEntriesByType('resource')
  .filter(e => e.initiatorType === 'fetch' || e.initiatorType === 'xmlhttprequest').map(e => new URL(e.name).pathname)"""


def measure_browser(ws: Workspace, runs: int) -> tuple[Measurement, Measurement]:
    """Markers clickable (from navigation start, a fresh browser context each run) and filter changes.

    markers.extra["fetched"] lists the files the page fetched, for the map data size.
    """
    markers = Measurement("markers", unit="ms")
    filt = Measurement("filter", unit="ms")
    if not (ws.out / "map" / "index.html").exists():
        markers.note = filt.note = "not built (no /map/ page)"
        return markers, filt
    if not Path(CHROMIUM).exists():
        markers.note = filt.note = "n/a: Chromium not installed"
        return markers, filt
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with serving(ws.out) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            page = None
            for _run in range(runs):
                # bypass_csp: the site's CSP forbids eval, which Playwright's wait_for_function needs; the page's scripts are unaffected.
                context = browser.new_context(service_workers="block", viewport={"width": 1280, "height": 800}, bypass_csp=True)
                context.route("**/*", lambda route: route.abort() if not route.request.url.startswith("http://127.0.0.1")
                              else route.continue_())
                context.add_init_script(_MARKERS_READY)
                if page is not None:
                    page.context.close()
                page = context.new_page()
                page.goto(f"{url}/map/", wait_until="commit")
                try:
                    page.wait_for_function("window.__benchMarkers !== undefined", timeout=BROWSER_TIMEOUT_MS)
                except PlaywrightError:
                    markers.note = f"n/a: no {MARKER_SELECTOR} was clickable within {BROWSER_TIMEOUT_MS // 1000} s"
                    break
                markers.samples.append(page.evaluate("window.__benchMarkers"))
                if "fetched" not in markers.extra:
                    with contextlib.suppress(PlaywrightError):
                        page.wait_for_load_state("networkidle", timeout=10_000)
                    paths = [p.lstrip("/") for p in page.evaluate(_FETCHED)]
                    markers.extra["fetched"] = [p for p in dict.fromkeys(paths) if (ws.out / p).is_file()]
            if page is None or not markers.samples:
                filt.note = "n/a: the markers never became clickable"
                return markers, filt
            options = _tag_options(page)
            if not options:
                filt.note = "n/a: no <select> with tag options on /map/"
                return markers, filt
            for run in range(runs):
                result = page.evaluate(_FILTER_CHANGE, [options[run % len(options)], _vocabulary()])
                if "error" in result:
                    filt.note = f"n/a: {result['error']}"
                    filt.samples = []
                    break
                filt.samples.append(result["ms"])
            page.context.close()
        finally:
            browser.close()
    return markers, filt


# --- peers ----------------------------------------------------------------------------------

def _plain_records(ws: Workspace) -> Iterator[tuple[str, str, str, str]]:
    """(slug, title, date, description) for each record, as the peers see it."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted(ws.records.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        yield path.stem, data["name"], str(data["joined"]), data.get("description", "")


def _write_pelican_project(ws: Workspace) -> Path:
    site = ws.root / "pelican-plain"
    ws.set_aside(site)
    content = site / "content"
    content.mkdir(parents=True)
    for slug, title, date, body in _plain_records(ws):
        (content / f"{slug}.md").write_text(f"Title: {title}\nDate: {date}\nSlug: {slug}\n\n{body}", encoding="utf-8")
    (site / "conf.py").write_text('AUTHOR = "Bench"\nSITENAME = "Plain Pelican"\nPATH = "content"\nTIMEZONE = "UTC"\n'
                                  'DEFAULT_LANG = "en"\nSITEURL = ""\n', encoding="utf-8")
    return site


def _write_hugo_project(ws: Workspace) -> Path:
    site = ws.root / "hugo"
    ws.set_aside(site)
    content = site / "content" / "communities"
    content.mkdir(parents=True)
    for slug, title, date, body in _plain_records(ws):
        front = json.dumps({"title": title, "date": date, "slug": slug}, ensure_ascii=False)
        (content / f"{slug}.md").write_text(f"{front}\n\n{body}", encoding="utf-8")
    layouts = site / "layouts" / "_default"
    layouts.mkdir(parents=True)
    (layouts / "baseof.html").write_text('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>'
                                         "<body>{{ block \"main\" . }}{{ end }}</body></html>\n")
    (layouts / "single.html").write_text('{{ define "main" }}<article><h1>{{ .Title }}</h1><time>{{ .Date.Format "2 January 2006" }}</time>'
                                         "{{ .Content }}</article>{{ end }}\n")
    (layouts / "list.html").write_text('{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}'
                                       '<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}\n')
    (site / "config.toml").write_text('baseURL = "http://localhost/"\ntitle = "Plain Hugo"\nlanguageCode = "en"\n', encoding="utf-8")
    return site


def _peer_steps(ws: Workspace, name: str, runs: int, build: Callable[[], Timed], out: Path, edit_file: Path,
                clean_extra: Sequence[Path] = ()) -> dict[str, Measurement]:
    def clean(_run: int) -> None:  # the same fresh start as our cold build
        ws.set_aside(out)
        for extra in clean_extra:
            ws.set_aside(extra)

    cold = _repeat("cold", runs, lambda _run: build(), clean)
    with restored(edit_file):
        def edit(run: int) -> None:
            with edit_file.open("a", encoding="utf-8") as handle:
                handle.write("\n" + EDIT_SENTENCE.format(run=run) + "\n")

        rebuilt = _repeat("edit", runs, lambda _run: build(), edit)
    cold.extra["peer"] = rebuilt.extra["peer"] = name
    return {"cold": cold, "edit": rebuilt}


def measure_pelican(ws: Workspace, runs: int) -> dict[str, Measurement]:
    site = _write_pelican_project(ws)
    out = site / "output"
    cmd = [PYTHON, "-m", "pelican", "content", "-s", "conf.py", "-o", str(out), "-q"]
    first = sorted((site / "content").glob("*.md"))[ws.n // 2]
    return _peer_steps(ws, "pelican", runs, lambda: run_timed(cmd, cwd=site), out, first, [site / "cache"])


def measure_hugo(ws: Workspace, runs: int) -> dict[str, Measurement]:
    hugo = shutil.which("hugo")
    if not hugo:
        return {k: Measurement(k, note="not installed") for k in ("cold", "edit")}
    site = _write_hugo_project(ws)
    out = site / "public"
    cmd = [hugo, "--quiet", "--source", str(site), "--destination", str(out)]
    first = sorted((site / "content" / "communities").glob("*.md"))[ws.n // 2]
    return _peer_steps(ws, "hugo", runs, lambda: run_timed(cmd, cwd=site), out, first, [site / "resources"])


# --- profiles -----------------------------------------------------------------------------

_PROFILE_RUNNER = ROOT / "benchmarks" / "profile_step.py"


def profile_step(ws: Workspace, step: str, folder: Path) -> Profile:
    """pyinstrument over one step, in-process (COMMUNITIES_WORKERS=1 so worker time is seen too)."""
    try:
        importlib.metadata.version("pyinstrument")
    except importlib.metadata.PackageNotFoundError:
        return Profile(ws.n, step, 0.0, [], [], "", "pyinstrument is not installed (pip install pyinstrument==5.1.3)")
    folder.mkdir(parents=True, exist_ok=True)
    tree = folder / f"n{ws.n}-{step}.txt"
    summary = folder / f"n{ws.n}-{step}.json"
    if step == "validate":
        argv = ["validate", str(ws.records), "--today", TODAY, "--config", str(ws.conf)]
    else:
        argv = ["build", *ws.build_cmd()[2:]]
    if step == "cold":
        ws.set_aside(ws.out)
        ws.set_aside(ws.cache)
    elif step in ("edit", "nochange"):
        _ensure_built(ws)
    target = sorted(ws.records.glob("*.yaml"))[ws.n // 2]
    with restored(target):
        if step == "edit":
            _edit_record(target, 99)
        t = run_timed([PYTHON, str(_PROFILE_RUNNER), str(ws.site), str(tree), str(summary), *argv], env={"COMMUNITIES_WORKERS": "1"})
    if t.returncode:
        return Profile(ws.n, step, 0.0, [], [], "", f"profiling failed: {t.output[-500:]}")
    if step == "edit":
        run_timed(ws.build_cmd())
    data = json.loads(summary.read_text())
    return Profile(ws.n, step, data["total"], [tuple(x) for x in data["self"]], [tuple(x) for x in data["cumulative"]],
                   str(tree.relative_to(ROOT)) if tree.is_relative_to(ROOT) else str(tree),
                   "COMMUNITIES_WORKERS=1, under the profiler (slower than the timed runs)")


# --- the machine --------------------------------------------------------------------------

def _first_line(cmd: Sequence[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not installed"
    return out.splitlines()[0] if out else "unknown"


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), cpu)
    mem = "unknown"
    with contextlib.suppress(OSError, StopIteration, ValueError):
        kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    return {"CPU": cpu, "Cores": str(os.cpu_count()), "RAM": mem, "OS": platform.platform()}


def versions() -> dict[str, str]:
    def dist(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    hugo = shutil.which("hugo")
    return {
        "Python": platform.python_version(),
        "Pelican": dist("pelican"),
        "Hugo": _first_line([hugo, "version"]) if hugo else "not installed",
        "Pagefind": _first_line([PYTHON, "-m", "pagefind", "--version"]),
        "Chromium": _first_line([CHROMIUM, "--version"]) if Path(CHROMIUM).exists() else "not installed",
        "Playwright": dist("playwright"),
    }


def _commit(site: Path) -> str:
    """The commit measured: this repository's HEAD when measuring a snapshot of it, else 'not a git checkout'."""
    if site != ROOT and site.parent.name != "work" and not site.name == "site-snapshot":
        return f"{site} (given with --site)"
    commit = _first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return commit + (" with uncommitted changes" if dirty else "")


# --- one whole run ------------------------------------------------------------------------

def bench_size(n: int, runs: int, work: Path, site: Path, browser: bool, log: Callable[[str], None]) -> tuple[SizeRun, Workspace]:
    log(f"N={n:,}: records")
    ws = prepare(n, work, site)
    ws.empty_trash()  # a run stopped part way leaves some; deleted before anything of this size is timed
    ours: dict[str, Measurement] = {}
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("validate", lambda: measure_validation(ws, runs)),
        ("validate_warm", lambda: measure_validation_warm(ws, runs)),
        ("cold", lambda: measure_cold_build(ws, runs)),
        ("nochange", lambda: measure_nochange_rebuild(ws, runs)),
        ("edit", lambda: measure_edit_rebuild(ws, runs)),
        ("edit_summary", lambda: measure_summary_rebuild(ws, runs)),
        ("edit_name", lambda: measure_name_rebuild(ws, runs)),
        ("pagefind", lambda: measure_pagefind(ws, runs)),
    ]
    for name, fn in steps:
        log(f"N={n:,}: {LABELS[name]}")
        ours[name] = fn()
    if browser:
        log(f"N={n:,}: Chromium")
        ours["markers"], ours["filter"] = measure_browser(ws, runs)
    else:
        ours["markers"] = Measurement("markers", unit="ms", note="skipped (--no-browser)")
        ours["filter"] = Measurement("filter", unit="ms", note="skipped (--no-browser)")
    ours["map_html"], ours["map_data"] = measure_sizes(ws, ours["markers"].extra.get("fetched"))
    log(f"N={n:,}: Hugo")
    hugo = measure_hugo(ws, runs)
    log(f"N={n:,}: plain Pelican")
    pelican = measure_pelican(ws, runs)
    return SizeRun(n, ours, hugo, pelican), ws  # run_all empties the trash once nothing more is timed


def judge(run: SizeRun, goal: Goal) -> tuple[str, float | None]:
    """PASS / MISS / '—' for one goal, and the value compared with it."""
    m = run.ours.get(goal.step)
    if m is None or not m.ok:
        return "—", None
    if goal.kind == "hugo":
        peer = run.hugo.get(PEER_OF[goal.step])
        if peer is None or not peer.ok:
            return "— (no Hugo)", None
        value = m.median / peer.median
    elif goal.kind == "per":
        value = m.median / run.n
    else:
        value = m.median
    return ("PASS" if value <= goal.limit else "MISS"), value


def run_all(sizes: Sequence[int], runs: int, work: Path, browser: bool, profile: bool, log: Callable[[str], None],
            site: Path | None = None) -> Results:
    started = time.perf_counter()
    results = Results(dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), machine(), versions(), runs)
    last: Workspace | None = None
    if site is None:
        site = snapshot(work)
        log(f"measuring a snapshot of the working tree in {site}")
    else:
        log(f"measuring the project in {site}")
    results.versions["Site commit"] = _commit(site)
    spaces: list[Workspace] = []
    try:
        for n in sizes:
            size_run, last = bench_size(n, runs, work, site, browser, log)
            spaces.append(last)
            results.sizes.append(size_run)
        if profile and last is not None:
            biggest = results.sizes[-1]
            wanted = ["cold", "edit"]  # always: these are what the build work is about
            if judge(biggest, next(g for g in GOALS if g.step == "validate"))[0] == "MISS":
                wanted.insert(0, "validate")
            for step in wanted:
                log(f"N={biggest.n:,}: profiling {LABELS[step]}")
                results.profiles.append(profile_step(last, step, work / "profiles"))
    finally:
        for ws in spaces:  # deleting tens of thousands of files slows whatever creates files next: so, last
            ws.empty_trash()
    results.seconds = time.perf_counter() - started
    return results


# --- the report ---------------------------------------------------------------------------

def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
    if unit == "B":
        return f"{value / 1024:.1f} KB" if value >= 1024 else f"{value:.0f} B"
    return f"{value:g}"


def _rss(m: Measurement) -> str:
    return f"{m.peak_rss_kb / 1024:.0f} MB" if m.peak_rss_kb else "—"


def _ratio(m: Measurement, peer: Measurement | None) -> str:
    if not m.ok or peer is None or not peer.ok:
        return "—"
    return f"{m.median / peer.median:.2f}×"


def _row(label: str, m: Measurement, hugo: Measurement | None, pelican: Measurement | None, goal: str, result: str) -> str:
    if not m.ok:
        return f"| {label} | {m.note or 'n/a'} | — | — | — | — | {goal} | {result} |"
    spread = f"{_fmt(min(m.samples), m.unit)} – {_fmt(max(m.samples), m.unit)}" if len(m.samples) > 1 else "(1 run)"
    return (f"| {label} | {_fmt(m.median, m.unit)} | {spread} | {_rss(m)} | {_ratio(m, hugo)} | {_ratio(m, pelican)} "
            f"| {goal} | {result} |")


def render_size(run: SizeRun) -> list[str]:
    goals = {g.step: g for g in GOALS}
    lines = [f"## N = {run.n:,} communities", "",
             "| Step | Median | Min – max | Peak RSS | vs Hugo | vs plain Pelican | Goal (10,000) | Result |",
             "|---|---|---|---|---|---|---|---|"]
    for step in ("validate", "validate_warm", "cold", "nochange", "edit", "edit_summary", "edit_name", "pagefind", "map_html", "map_data", "markers",
                 "filter"):
        if step not in run.ours:  # a step this run did not measure (e.g. results from an older harness)
            continue
        m = run.ours[step]
        peer_step = PEER_OF.get(step)
        hugo = run.hugo.get(peer_step) if peer_step else None
        pelican = run.pelican.get(peer_step) if peer_step else None
        label = LABELS[step]
        if step == "map_html" and m.ok:
            label += f" (gzip; raw {_fmt(m.extra['raw'], 'B')})"
        if step == "map_data" and m.ok:
            label += f" (gzip; raw {_fmt(m.extra['raw'], 'B')}; {m.extra['per']:.1f} B/community; {', '.join(m.extra['files'])})"
        goal = goals.get(step)
        result = ""
        if goal:
            verdict, value = judge(run, goal)
            shown = "" if value is None else (f" ({value:.2f}×)" if goal.kind == "hugo" else f" ({value:.1f} B)" if goal.kind == "per" else "")
            result = f"**{verdict}**{shown}" if verdict in ("PASS", "MISS") else verdict
            if run.n != GOAL_N and verdict in ("PASS", "MISS"):
                result += " (goal is for 10,000)"
        lines.append(_row(label, m, hugo, pelican, goal.text if goal else "", result))
    for peer_name, peer in (("Hugo", run.hugo), ("Plain Pelican", run.pelican)):
        for step in ("cold", "edit"):
            lines.append(_row(f"Peer: {peer_name}, {PEER_LABELS[step]}", peer[step], None, None, "", ""))
    lines.append("")
    return lines


def render(results: Results) -> str:
    """The whole RESULTS.md, from values only."""
    lines = ["# Benchmark results", "",
             f"Measured {results.started} by `make bench` (`scripts/bench`) in {results.seconds / 60:.0f} min: medians of {results.runs} "
             f"run{'s' if results.runs != 1 else ''}, each build in its own process, all steps and peers on the same machine in the same run. "
             "Ratios are median over the peer's median for the like-for-like step (a cold build against a cold build; a rebuild "
             "against the peer's rebuild after the same one-record edit, which for Hugo and Pelican is a full build). "
             "See [docs/benchmarks.md](../docs/benchmarks.md) for what each step does.", "",
             "## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in results.machine.items()]
    lines += ["", "## Versions", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in results.versions.items()]
    lines.append("")
    for size_run in results.sizes:
        lines += render_size(size_run)
    misses = [(run, g) for run in results.sizes for g in GOALS if judge(run, g)[0] == "MISS" and run.n == max(r.n for r in results.sizes)]
    lines += ["## Why", ""]
    if not misses:
        lines += ["Every goal measured at the largest N was met.", ""]
    for run, goal in misses:
        lines.append(f"- **{LABELS[goal.step]}** at N = {run.n:,} misses {goal.text}.")
    if misses:
        lines.append("")
    for prof in results.profiles:
        lines += [f"### Profile: {LABELS[prof.step]}, N = {prof.n:,}", ""]
        if prof.note and not prof.top_self:
            lines += [prof.note, ""]
            continue
        lines += [f"pyinstrument, {prof.total_s:.1f} s in total ({prof.note}); full tree in `{prof.tree_path}`.", "",
                  "Top functions by own time:", "", "| Own time | Function |", "|---|---|"]
        lines += [f"| {s:.2f} s | `{fn}` |" for s, fn in prof.top_self]
        lines += ["", "Top functions by total time (calls below them included, excluding the entry points):", "",
                  "| Total time | Function |", "|---|---|"]
        lines += [f"| {s:.2f} s | `{fn}` |" for s, fn in prof.top_cumulative]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# --- the command line ---------------------------------------------------------------------

def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = parser("bench", "Measure the site against plain Pelican and Hugo, side by side; write benchmarks/RESULTS.md.")
    p.add_argument("--sizes", default="1000,10000", metavar="N,N", help="numbers of communities (default 1000,10000)")
    p.add_argument("--full", action="store_true", help="add N = 50,000")
    p.add_argument("--runs", default="3", metavar="K", help="runs of each step; the table shows medians (default 3, at least 3 for a table worth quoting)")
    p.add_argument("--quick", action="store_true", help="N = 50, one run: checks the harness works (numbers mean nothing)")
    p.add_argument("--no-browser", action="store_true", help="skip the Chromium timings")
    p.add_argument("--no-profile", action="store_true", help="skip the profiles of the largest N")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"), metavar="FILE", help="where to write the table")
    p.add_argument("--site", metavar="DIR", help="measure the project in DIR (default: a snapshot of this working tree)")
    p.add_argument("--work", default=str(ROOT / "benchmarks" / "work"), metavar="DIR", help="scratch folder (default benchmarks/work)")
    return p.parse_args(argv)


def _positive(text: str, option: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise UsageError(f"{option} takes whole numbers, got {text!r}") from None
    if value < 1:
        raise UsageError(f"{option} must be at least 1, got {value}")
    return value


@guarded
def bench_main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    if args.quick:
        sizes, runs = [50], 1
    else:
        sizes = [_positive(s.strip(), "--sizes") for s in args.sizes.split(",") if s.strip()]
        runs = _positive(args.runs, "--runs")
        if args.full and 50_000 not in sizes:
            sizes.append(50_000)
    if not sizes:
        raise UsageError("--sizes needs at least one number")
    sizes = sorted(set(sizes))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    site = Path(args.site).resolve() if args.site else None
    if site and not (site / "scripts" / "build").exists():
        raise UsageError(f"--site {args.site!r} is not a project folder (no scripts/build)")
    results = run_all(sizes, runs, work, not args.no_browser, not args.no_profile, log, site)
    text = render(results)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"Wrote {out}.", file=sys.stderr)
    return 0
