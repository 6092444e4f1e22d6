"""Every kind of page loads in Chromium without an uncaught error or a dialog."""

from __future__ import annotations

import pytest

PAGES = ["/", "/communities/", "/communities/leith/", "/tags/food/", "/regions/", "/commitments/", "/stats/", "/blog/", "/resources/how-to-start/"]


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_without_errors(page, site_url: str, path: str) -> None:
    response = page.goto(site_url + path)
    assert response.status == 200
    page.wait_for_load_state("load")
    assert page.errors == []
    assert page.dialogs == []


def test_email_is_revealed_as_a_mailto_link(page, site_url: str) -> None:
    page.goto(site_url + "/communities/leith/")
    link = page.locator(".email a")
    assert link.get_attribute("href").startswith("mailto:")
    assert "@" in link.inner_text()


def test_directory_tag_filter_narrows_the_list_and_keeps_it_in_the_url(page, site_url: str) -> None:
    page.goto(site_url + "/communities/")
    total = page.locator(".card").count()
    page.select_option("#f-tag", "gaelic")
    visible = page.locator(".card:visible").count()
    assert 0 < visible < total
    assert "tag=gaelic" in page.url
    page.reload()
    assert page.locator(".card:visible").count() == visible


def test_the_community_page_draws_its_small_map(page, site_url: str) -> None:
    page.goto(site_url + "/communities/leith/")
    page.wait_for_load_state("load")
    assert page.locator("#mini-map .leaflet-interactive").count() == 1
    assert page.errors == []


def _cards(page) -> list[dict[str, str]]:
    return page.evaluate("""Array.from(document.querySelectorAll('#directory-list .card')).filter(c => !c.hidden)
        .map(c => ({slug: c.dataset.slug, joined: c.dataset.joined || '', region: c.dataset.region || ''}))""")


def test_directory_sorts_newest_first_and_by_region_keeping_name_order_within(page, site_url: str) -> None:
    page.goto(site_url + "/communities/")
    # Three communities that joined on one day: newest first must still list them in name order.
    page.evaluate("Array.from(document.querySelectorAll('#directory-list .card')).slice(0, 3).forEach(c => c.dataset.joined = '2030-01-01')")
    by_name = _cards(page)
    page.select_option("#f-sort", "joined")
    dated = sorted((c for c in by_name if c["joined"]), key=lambda c: c["joined"], reverse=True)  # stable: ties by name
    assert _cards(page) == dated + [c for c in by_name if not c["joined"]]
    page.select_option("#f-sort", "region")
    menu = page.evaluate("Array.from(document.querySelectorAll('#f-region option')).map(o => o.value).filter(Boolean)")
    assert _cards(page) == sorted(by_name, key=lambda c: menu.index(c["region"]) if c["region"] else len(menu))
    page.select_option("#f-sort", "name")
    assert _cards(page) == by_name


def test_directory_name_filter_ignores_accents_and_case(page, site_url: str) -> None:
    page.goto(site_url + "/communities/")
    page.fill("#f-q", "RIGH CO-OP")
    assert [c["slug"] for c in _cards(page)] == ["port-righ"]
    assert page.locator(".card:visible .card-title").inner_text() == "Port Rìgh Co-operative Community"


@pytest.mark.parametrize(("width", "drawn"), [(1024, True), (360, False)])
def test_charts_are_drawn_on_wide_screens_and_tables_on_phones(page, site_url: str, width: int, drawn: bool) -> None:
    """Drawn 640 units wide, a chart's labels would be 7 px high on a phone; its table says the same in the page's text size."""
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(site_url + "/stats/")
    figure = page.locator("figure.chart").first
    assert figure.locator("svg").is_visible() is drawn
    # Visually hidden (1 px, clipped: still read by screen readers) beside the drawing, laid out without it.
    hidden = figure.locator(".chart-table").evaluate("e => getComputedStyle(e).position === 'absolute' && e.offsetHeight <= 1")
    assert hidden is drawn
    if not drawn:
        size = figure.locator("th").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 14
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # the page does not scroll sideways
