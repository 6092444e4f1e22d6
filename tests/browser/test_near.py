"""/near/: from the browser's location or a typed place, communities within a radius, nearest first."""

from __future__ import annotations

import pytest


@pytest.fixture
def located(browser):
    """A page whose browser says it is in Leith (Edinburgh)."""
    context = browser.new_context(geolocation={"latitude": 55.9756, "longitude": -3.1726}, permissions=["geolocation"])
    context.route("**/*", lambda route: route.abort() if not route.request.url.startswith("http://127.0.0.1") else route.continue_())
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


def _results(page, wait_js) -> list[str]:
    wait_js(page, "document.documentElement.hasAttribute('data-near-ready')")
    return page.locator("#near-results > li").evaluate_all("els => els.map(e => e.dataset.slug)")


def test_geolocation_lists_the_nearest_community_first(located, site_url: str, wait_js) -> None:
    located.goto(site_url + "/near/")
    located.click("#near-locate")
    slugs = _results(located, wait_js)
    assert slugs[0] == "leith"
    first = located.locator("#near-results > li").first
    assert "km" in first.inner_text()
    first.locator(".near-commitments li").first.wait_for()
    assert "Monthly clothes swap" in first.inner_text()
    assert located.errors == []


def test_a_typed_place_and_the_radius(page, site_url: str, wait_js) -> None:
    page.goto(site_url + "/near/?q=Glasgow&r=10")
    slugs = _results(page, wait_js)
    assert slugs and slugs[0] == "govanhill"
    distances = page.locator(".near-distance").all_inner_texts()
    numbers = [float(d.split()[0]) for d in distances]
    assert numbers == sorted(numbers) and numbers[-1] <= 10


def test_an_unknown_postcode_is_explained(page, site_url: str, wait_js) -> None:
    page.goto(site_url + "/near/")
    page.fill("#near-q", "ZZ9 9ZZ")
    page.click("#near-form button[type=submit]")
    wait_js(page, "document.getElementById('near-status').textContent.includes('ZZ9')")
    assert "town" in page.locator("#near-status").inner_text()
    assert page.locator("#near-results > li").count() == 0
    assert page.errors == []


@pytest.mark.parametrize(("radius", "expected"), [("25", "1 community within 25 km of Glasgow."),
                                                  ("100", " communities within 100 km of Glasgow, nearest first.")])
def test_the_count_says_community_or_communities_as_the_number_needs(page, site_url: str, wait_js, radius: str, expected: str) -> None:
    page.goto(site_url + f"/near/?q=Glasgow&r={radius}")
    slugs = _results(page, wait_js)
    status = page.locator("#near-status").inner_text()
    assert (len(slugs) == 1) == (radius == "25")
    assert status.endswith(expected) and status.startswith(str(len(slugs)))
