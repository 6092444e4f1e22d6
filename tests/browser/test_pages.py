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
