"""/map/ and /embed/ in Chromium: markers from the data file, filters that narrow map and list together, state in the URL."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


def _ready(page, wait_js) -> int:
    wait_js(page, "document.documentElement.hasAttribute('data-map-ready')")
    return int(page.evaluate("document.documentElement.getAttribute('data-map-ready')"))


DRAWN = """() => {
  let n = document.querySelectorAll('.leaflet-marker-icon:not(.marker-cluster)').length;
  document.querySelectorAll('.marker-cluster').forEach(c => { n += parseInt(c.textContent, 10) || 0; });
  return n;
}"""


def _visible_markers(page, wait_js, expected: int) -> int:
    """Single markers plus the communities inside cluster icons, as drawn once the animations settle."""
    try:
        wait_js(page, f"({DRAWN})() === {expected}", timeout=3)
    except AssertionError:  # report the number actually drawn
        pass
    return page.evaluate(DRAWN)


def test_markers_appear_from_the_map_data(page, site_url: str, built_site: Path, wait_js) -> None:
    page.goto(site_url + "/map/")
    placed = len(json.loads((built_site / "data" / "map.json").read_text())["slug"])
    assert _ready(page, wait_js) == placed > 0
    page.wait_for_selector(".leaflet-marker-icon")
    layer = page.evaluate("Object.values(window.siteMaps)[0].communitiesLayer.getLayers().length")
    assert layer == placed
    assert _visible_markers(page, wait_js, placed) == placed
    assert page.locator("#map-list li").count() == placed
    assert page.errors == [] and page.dialogs == []



def test_clusters_say_how_many_communities_they_hold(page, site_url: str, wait_js) -> None:
    page.goto(site_url + "/map/")
    _ready(page, wait_js)
    page.wait_for_selector(".marker-cluster")
    labels = page.locator(".marker-cluster").evaluate_all("els => els.map(e => [e.textContent.trim(), e.getAttribute('aria-label')])")
    assert labels
    for number, label in labels:
        assert label == f"{number} communities here: zoom in"
    assert page.locator("#map-count").inner_text().endswith("communities on the map shown")

def test_a_popup_shows_name_summary_tags_and_a_link(page, site_url: str, wait_js) -> None:
    page.goto(site_url + "/map/?focus=leith")
    _ready(page, wait_js)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Leith" in popup.locator("h3").inner_text()
    assert popup.locator("a[href$='/communities/leith/']").count() == 1
    wait_js(page, "!document.querySelector('.map-popup-summary').textContent.startsWith('…')")
    assert "clothes swaps" in popup.locator(".map-popup-summary").inner_text()
    assert popup.locator(".tags a[href$='/tags/food/']").count() == 1
    assert page.errors == []


def test_tag_filter_narrows_map_and_list_and_survives_a_reload(page, site_url: str, wait_js) -> None:
    page.goto(site_url + "/map/")
    total = _ready(page, wait_js)
    page.select_option("#m-tag", "gaelic")
    wait_js(page, f"document.documentElement.getAttribute('data-map-ready') !== '{total}'")
    shown = int(page.evaluate("document.documentElement.getAttribute('data-map-ready')"))
    assert 0 < shown < total
    assert "tag=gaelic" in page.url
    assert page.locator("#map-list li").count() == shown
    assert _visible_markers(page, wait_js, shown) == shown
    page.reload()
    assert _ready(page, wait_js) == shown
    assert page.locator("#m-tag").input_value() == "gaelic"
    assert page.locator("#map-list li").count() == shown
    assert _visible_markers(page, wait_js, shown) == shown
    assert page.errors == []


def test_text_box_and_region_filter(page, site_url: str, wait_js) -> None:
    page.goto(site_url + "/map/?region=edinburgh")
    shown = _ready(page, wait_js)
    assert shown >= 1
    assert all("Edinburgh" in t for t in page.locator("#map-list li").all_inner_texts())
    page.goto(site_url + "/map/")
    _ready(page, wait_js)
    page.fill("#m-q", "leith")
    wait_js(page, "document.documentElement.getAttribute('data-map-ready') === '1'")
    assert "q=leith" in page.url
    assert "Leith" in page.locator("#map-list li").first.inner_text()


def test_map_falls_back_to_the_geojson(page, site_url: str, wait_js) -> None:
    page.route("**/data/map.json", lambda route: route.fulfill(status=404, body="gone"))
    page.goto(site_url + "/map/?tag=food")
    assert _ready(page, wait_js) > 0
    assert page.locator("#map-list li").count() > 0
    assert page.errors == []


def test_locate_me_and_full_screen(browser, site_url: str, wait_js) -> None:
    context = browser.new_context(geolocation={"latitude": 55.97, "longitude": -3.17}, permissions=["geolocation"])
    context.route("**/*", lambda route: route.abort() if not route.request.url.startswith("http://127.0.0.1") else route.continue_())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site_url + "/map/")
    _ready(page, wait_js)
    page.click("#map-locate")
    wait_js(page, "document.getElementById('map-status').textContent.length > 0")
    page.wait_for_selector("path.leaflet-interactive")
    page.click("#map-fullscreen")
    wait_js(page, "document.getElementById('map-fullscreen').getAttribute('aria-pressed') === 'true'")
    assert errors == []
    context.close()


def test_embed_takes_the_same_filters(page, site_url: str, wait_js) -> None:
    page.goto(site_url + "/map/?tag=food")
    on_map = _ready(page, wait_js)
    page.goto(site_url + "/embed/?tag=food")
    assert _ready(page, wait_js) == on_map
    assert "tag=food" in page.locator("#map-full-link").get_attribute("href")
    assert page.errors == [] and page.dialogs == []


# --------------------------------------------------------------------------- hostile records

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_SUMMARY = "</script><script>alert(1)</script> and \"quotes\" & <b>bold</b>"


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory, serve_folder) -> str:
    """A site built from two records, one whose text is built to run script if it were ever treated as HTML."""
    root = Path(__file__).resolve().parents[2]
    tmp = tmp_path_factory.mktemp("hostile-map")
    data = tmp / "communities"
    data.mkdir()
    record = yaml.safe_load((root / "data" / "communities" / "leith.yaml").read_text(encoding="utf-8"))
    record["name"] = HOSTILE_NAME
    record["summary"] = HOSTILE_SUMMARY
    record["location"]["place"] = "<svg onload=alert(2)>"
    (data / "hostile.yaml").write_text(yaml.safe_dump(record, allow_unicode=True), encoding="utf-8")
    shutil.copy(root / "data" / "communities" / "govanhill.yaml", data / "govanhill.yaml")
    result = subprocess.run([sys.executable, str(root / "scripts" / "build"), "--output", str(tmp / "site"), "--communities", str(data),
                             "--no-search"], capture_output=True, text=True, cwd=root, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return serve_folder(tmp / "site")


def test_hostile_records_fire_no_dialog(page, hostile_site: str, wait_js) -> None:
    page.goto(hostile_site + "/map/?focus=hostile")
    assert _ready(page, wait_js) == 2
    page.locator(".leaflet-popup-content").wait_for()
    wait_js(page, "!document.querySelector('.map-popup-summary').textContent.startsWith('…')")
    assert page.locator(".map-popup-summary").inner_text().startswith("</script>")
    assert page.locator(f"#map-list a:text-is('{HOSTILE_NAME}')").count() == 1
    for path in ("/communities/hostile/", "/near/?q=Leith&r=25", "/embed/", "/deserts/"):
        page.goto(hostile_site + path)
        page.wait_for_load_state("networkidle")
    assert page.dialogs == []
    assert page.errors == []
    assert page.evaluate("document.querySelectorAll('img[src=x], svg[onload]').length") == 0
