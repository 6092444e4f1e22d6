"""The built example site: every page type's content checked against the records."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
RECORDS = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "data/communities").glob("*.yaml"))}
TAGS = yaml.safe_load((ROOT / "data/tags.yaml").read_text(encoding="utf-8"))


def html(site: Path, path: str) -> str:
    return (site / path).read_text(encoding="utf-8")


def text_of(page: str) -> str:
    import html as html_mod

    return html_mod.unescape(re.sub(r"<[^>]+>", " ", page))


def test_every_record_has_its_page_and_nothing_is_lost(built_site: Path) -> None:
    pages = {p.parent.name for p in (built_site / "communities").glob("*/index.html")}
    assert pages == set(RECORDS)
    with (built_site / "data/communities.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["slug"] for r in rows) == sorted(RECORDS)
    records = json.loads(html(built_site, "data/communities.json"))
    assert sorted(r["slug"] for r in records) == sorted(RECORDS)
    geo = json.loads(html(built_site, "data/communities.geojson"))
    places = {slug for slug, r in RECORDS.items() if r["kind"] == "place"}
    featured = {f["properties"]["slug"] for f in geo["features"]}
    assert places <= featured
    assert all(slug in places or RECORDS[slug].get("location") for slug in featured)
    assert {p.stem for p in (built_site / "data/communities").glob("*.json")} == set(RECORDS)


def test_geojson_is_rfc7946(built_site: Path) -> None:
    geo = json.loads(html(built_site, "data/communities.geojson"))
    assert geo["type"] == "FeatureCollection"
    for feature in geo["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        assert round(lat, 3) == lat and round(lon, 3) == lon  # published coordinates are rounded


def test_community_page_shows_its_record(built_site: Path) -> None:
    slug, record = "leith", RECORDS["leith"]
    page = html(built_site, f"communities/{slug}/index.html")
    text = text_of(page)
    assert record["name"] in text and record["summary"].strip() in text
    for commitment in record["commitments"]:
        assert commitment["title"] in text and commitment["measure"] in text
        for review in commitment.get("reviews", []):
            assert review["note"].strip().split("\n")[0][:40] in text
    for tag in record.get("tags", []):
        assert f'href="/tags/{tag}/"' in page
    for coop in record.get("cooperatives", []):
        assert coop["name"] in text
    assert f"/edit/main/data/communities/{slug}.yaml" in page
    assert record["contact"]["email"] not in page  # obfuscated
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert ld["@type"] == "Organization" and ld["name"] == record["name"]
    assert ld["location"]["@type"] == "Place" and "geo" in ld["location"]


def test_progress_bars_and_review_due_badges(built_site: Path) -> None:
    overdue = [s for s, r in RECORDS.items() if str(r.get("last_reviewed") or r.get("joined")) < "2025-11-24"]
    fresh = [s for s, r in RECORDS.items() if str(r.get("last_reviewed") or "") >= "2026-01-01"]
    assert overdue and fresh
    for slug in overdue:
        assert "badge-due" in html(built_site, f"communities/{slug}/index.html"), slug
    for slug in fresh:
        assert "badge-due" not in html(built_site, f"communities/{slug}/index.html"), slug
    with_target = next(s for s, r in RECORDS.items() if any("target" in c for c in r["commitments"]))
    assert "<progress" in html(built_site, f"communities/{with_target}/index.html")


def test_unpublished_postcodes_never_reach_the_output(built_site: Path) -> None:
    hidden = [r["location"]["postcode"] for r in RECORDS.values()
              if r.get("location", {}).get("postcode") and not r["location"].get("publish_postcode")]
    assert hidden
    for path in built_site.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".json", ".csv", ".geojson", ".xml"}:
            content = path.read_text(encoding="utf-8")
            for postcode in hidden:
                assert postcode not in content, path


def test_directory_lists_every_community_with_filters(built_site: Path) -> None:
    page = html(built_site, "communities/index.html")
    assert page.count('class="card"') == len(RECORDS)
    for name in ("tag", "region", "kind", "area", "sort"):
        assert f'name="{name}"' in page


@pytest.mark.parametrize("tag", sorted(TAGS))
def test_tag_pages_list_the_communities_using_them(built_site: Path, tag: str) -> None:
    page = html(built_site, f"tags/{tag}/index.html")
    using = [s for s, r in RECORDS.items() if tag in r.get("tags", [])]
    assert page.count('class="card"') == len(using)
    for slug in using:
        assert f'href="/communities/{slug}/"' in page


def test_tag_pages_include_news_with_that_tag(built_site: Path) -> None:
    tagged = {}
    for article in (ROOT / "content/blog").glob("*.md"):
        meta = dict(line.split(": ", 1) for line in article.read_text(encoding="utf-8").split("\n\n")[0].splitlines() if ": " in line)
        for tag in meta.get("Tags", "").split(","):
            tagged.setdefault(tag.strip(), []).append(meta["Title"])
    tag, titles = next((t, ts) for t, ts in sorted(tagged.items()) if t in TAGS)
    text = text_of(html(built_site, f"tags/{tag}/index.html"))
    for title in titles:
        assert title in text


def test_regions_and_communities_of_interest(built_site: Path) -> None:
    regions = list((built_site / "regions").glob("*/index.html"))
    listed = sum(p.read_text(encoding="utf-8").count('class="card"') for p in regions)
    assert listed == sum(1 for r in RECORDS.values() if r.get("location"))
    interest = html(built_site, "interest/index.html")
    assert interest.count('class="card"') == sum(1 for r in RECORDS.values() if r["kind"] == "interest")


def test_a_community_of_interest_without_a_place_says_its_kind_once(built_site: Path) -> None:
    slug = "coop-musicians-network"
    assert RECORDS[slug]["kind"] == "interest" and not RECORDS[slug].get("location")
    page = re.sub(r"\s+", " ", text_of(html(built_site, f"communities/{slug}/index.html")))
    cards = re.sub(r"\s+", " ", text_of(html(built_site, "interest/index.html")))
    for shown in (page, cards):
        assert "Community of interest" in shown and "Community of interest · Community of interest" not in shown


def test_commitments_library_holds_every_commitment(built_site: Path) -> None:
    text = text_of(html(built_site, "commitments/index.html"))
    for record in RECORDS.values():
        for commitment in record["commitments"]:
            assert commitment["title"] in text


def test_stats_page_draws_charts_without_javascript(built_site: Path) -> None:
    page = html(built_site, "stats/index.html")
    assert page.count("<svg") >= 4
    overdue = sum(1 for r in RECORDS.values() if str(r.get("last_reviewed") or r.get("joined")) < "2025-11-24")
    assert f"<strong>{overdue}</strong>" in page


def test_home_blog_resources_feeds_and_404(built_site: Path) -> None:
    home = text_of(html(built_site, "index.html"))
    assert "Three steps" in home and f"{len(RECORDS)}" in home
    assert (built_site / "blog/index.html").exists()
    resources = html(built_site, "resources/index.html")
    for page in (ROOT / "content/pages").glob("*.md"):
        assert f"/resources/{page.stem}/" in resources
    atom = html(built_site, "feeds/communities.atom.xml")
    assert atom.count("<entry>") == min(50, sum(1 for r in RECORDS.values() if r.get("joined")))
    assert (built_site / "feeds/all.atom.xml").exists()
    assert "Page not found" in html(built_site, "404.html")
    sitemap = html(built_site, "sitemap.xml")
    assert sitemap.count("<url>") > len(RECORDS)
    assert json.loads(html(built_site, "data/community.schema.json"))["title"] == "Co-operative community"


def test_no_cdn_in_the_output(built_site: Path) -> None:
    for path in built_site.rglob("*"):
        if path.suffix in {".html", ".css", ".js"} and "vendor" not in path.parts and "pagefind" not in path.parts:
            content = path.read_text(encoding="utf-8", errors="replace")
            for cdn in ("unpkg.com", "jsdelivr", "cdnjs", "googleapis", "bootstrapcdn", "code.jquery.com"):
                assert cdn not in content, (path, cdn)


def test_site_wide_data_files_joined_from_kept_pieces_are_the_files_made_whole(conf: dict) -> None:
    """The build joins each record's kept GeoJSON feature and CSV row; that must be what the exporters make."""
    import io

    from communities import exports, pipeline

    comms = pipeline.load(conf).communities
    features = [exports.dumps(exports.geojson_feature(c, "https://example.org")).rstrip("\n") for c in comms if c.point]
    assert exports.geojson_text(features) == exports.dumps(exports.geojson(comms, "https://example.org"))
    whole = io.StringIO()
    writer = csv.DictWriter(whole, fieldnames=exports.CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for c in comms:
        writer.writerow(next(csv.DictReader(io.StringIO(exports.csv_header() + exports.csv_line(c, "https://example.org")))))
    assert exports.csv_text(comms, "https://example.org") == whole.getvalue()
    assert sum(1 for _ in csv.reader(io.StringIO(exports.csv_text(comms)))) == len(comms) + 1


def test_statistics_count_every_commitment_by_area_and_status(conf: dict) -> None:
    from collections import Counter

    from communities import catalogue, pipeline
    from communities.model import AREAS, STATUSES

    loaded = pipeline.load(conf)
    stats = catalogue.build(loaded.communities, loaded.vocabulary, loaded.today).stats
    expected = Counter((k["area"], k["status"]) for r in RECORDS.values() for k in r["commitments"])
    assert {(area, bar.key): bar.value for area, bars in stats.by_area_status.items() for bar in bars} == {
        (area, status): expected[(area, status)] for area in AREAS for status in STATUSES}
    assert stats.commitments == sum(expected.values())


def test_home_shows_the_six_newest_communities_latest_first(built_site: Path) -> None:
    import re

    recent = html(built_site, "index.html").split('id="recent-h"', 1)[1].split("</section>", 1)[0]
    shown = list(dict.fromkeys(re.findall(r'href="[^"]*/communities/([a-z0-9-]+)/"', recent)))
    names = {slug: r["name"].casefold() for slug, r in RECORDS.items()}
    dated = sorted((slug for slug, r in RECORDS.items() if r.get("joined")), key=lambda s: names[s])  # ties stay in name order
    assert shown == sorted(dated, key=lambda s: str(RECORDS[s]["joined"]), reverse=True)[:6]


def test_the_main_element_is_written_cleanly(built_site: Path) -> None:
    assert '<main id="main" class="wrap" tabindex="-1">' in html(built_site, "communities/index.html")
    post = next(p for p in (built_site / "blog").rglob("index.html") if p.parent != built_site / "blog")
    assert '<main id="main" class="wrap" tabindex="-1" data-pagefind-body>' in post.read_text(encoding="utf-8")


def test_targets_and_reached_values_show_the_number_written(tmp_path: Path) -> None:
    """10.05 once showed as "105": the template dropped every '.0' from the number's text."""
    from conftest import build_site

    data = tmp_path / "communities"
    data.mkdir()
    text = (ROOT / "data/communities/leith.yaml").read_text(encoding="utf-8")
    text = text.replace("target: {value: 12, unit: swaps}", "target: {value: 10.05, unit: tonnes}")
    text = text.replace("value: 11\n", "value: 1.05\n").replace("target: {value: 25, unit: co-ops}", "target: {value: 2500, unit: co-ops}")
    (data / "leith.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = build_site(out, data, "--no-search")
    assert result.returncode == 0, result.stdout + result.stderr
    page = text_of(html(out, "communities/leith/index.html"))
    assert "10.05 tonnes" in page and "reached 1.05 tonnes" in page
    assert "2,500 co-ops" in page and "80 households" in page and "reached 0 households" in page
    library = text_of(html(out, "commitments/index.html"))
    assert "Target: 10.05 tonnes" in library and "Target: 2,500 co-ops" in library


def test_accessibility_details_of_the_page_chrome(built_site: Path) -> None:
    """Each found by an axe and keyboard audit of the built site."""
    page = html(built_site, "communities/leith/index.html")
    assert 'id="main" class="wrap" tabindex="-1"' in page  # the skip link moves focus, not only the view
    mini = re.search(r'<div class="mini-map"[^>]*>', page).group(0)
    assert 'role="region"' in mini and 'role="img"' not in mini  # Leaflet puts buttons and links inside it
    icon = re.search(r'<link rel="icon" href="(/theme/[^"]+)"', page).group(1)
    assert (built_site / icon.lstrip("/")).is_file()
    stats = html(built_site, "stats/index.html")
    for figure in re.findall(r'<figure class="chart">.*?</figure>', stats, re.S):
        # The drawing is hidden from screen readers, which get the numbers once, from the table.
        assert '<svg' in figure and 'aria-hidden="true"' in figure.split("<svg", 1)[1].split(">", 1)[0]
        assert '<div class="chart-table visually-hidden"><table class="data-table">' in figure and figure.count("<caption>") == 1
    deserts = html(built_site, "deserts/index.html")
    assert '<div class="table-scroll" role="region" aria-labelledby="deserts-caption" tabindex="0">' in deserts



def test_no_page_skips_a_heading_level(built_site: Path) -> None:
    """Screen-reader users move by headings: each page starts at h1 and never goes down more than one level at a time."""
    skipped = {}
    for path in sorted(built_site.rglob("*.html")):
        rel = path.relative_to(built_site).as_posix()
        if rel.startswith(("pagefind/", "theme/")):
            continue
        levels = [int(n) for n in re.findall(r"<h([1-6])[\s>]", path.read_text(encoding="utf-8"))]
        jumps = [(a, b) for a, b in zip([0, *levels], levels, strict=False) if b > a + 1]
        if jumps:
            skipped[rel] = jumps
    assert skipped == {}
