"""/deserts/: the table is in the page; the map shades towns; changing the distance redraws the table."""

from __future__ import annotations


def test_deserts_table_map_and_distance(page, site_url: str, wait_js) -> None:
    page.goto(site_url + "/deserts/")
    before = page.locator("#deserts-rows tr").count()
    assert before > 0
    page.wait_for_selector("#deserts-legend:not([hidden])")
    page.select_option("#deserts-km", "50")
    wait_js(page, f"document.querySelectorAll('#deserts-rows tr').length < {before}")
    assert "km=50" in page.url
    populations = [int(t.replace(",", "")) for t in page.locator("#deserts-rows td.num:nth-of-type(1)").all_inner_texts()]
    assert populations == sorted(populations, reverse=True)
    assert page.errors == [] and page.dialogs == []
