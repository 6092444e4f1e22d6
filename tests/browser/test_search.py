"""/search/: Pagefind's interface finds a community by name, starting from ?q= (the header form)."""

from __future__ import annotations


def test_pagefind_finds_a_community_by_name(page, site_url: str) -> None:
    page.goto(site_url + "/search/?q=Govanhill")
    result = page.locator(".pagefind-ui__result-link[href*='/communities/govanhill/']")
    result.first.wait_for(timeout=10_000)
    assert page.errors == [] and page.dialogs == []


def test_header_search_form_leads_to_results(page, site_url: str) -> None:
    page.goto(site_url + "/")
    page.fill("#site-search-q", "Leith")
    page.press("#site-search-q", "Enter")
    page.wait_for_url("**/search/?q=Leith")
    page.locator(".pagefind-ui__result-link[href*='/communities/leith/']").first.wait_for(timeout=10_000)
    assert page.errors == []


def test_results_and_filters_come_from_both_parts_of_the_index(page, site_url: str, built_site, wait_js) -> None:
    """The index is built in two parts (/pagefind/, /pagefind/part-2/); the interface searches them as one."""
    import gzip
    import json

    def urls(bundle):
        return {json.loads(gzip.decompress(f.read_bytes())[12:])["url"] for f in (bundle / "fragment").glob("*.pf_fragment")}

    part1, part2 = urls(built_site / "pagefind"), urls(built_site / "pagefind" / "part-2")
    kinds = {r["slug"]: r["kind"] for r in json.loads((built_site / "data" / "communities.json").read_text(encoding="utf-8"))}
    hrefs = "[...document.querySelectorAll('.pagefind-ui__result-link')].map(a => a.getAttribute('href'))"

    page.goto(site_url + "/search/?q=swap")
    page.locator(".pagefind-ui__result-link").first.wait_for(timeout=10_000)
    while page.locator(".pagefind-ui__button").count():
        page.click(".pagefind-ui__button")
        page.wait_for_timeout(200)
    found = set(page.evaluate(hrefs))
    assert found & part1 and found & part2, found

    # Filters are named and valued in the directory's words, not field names and slugs.
    assert page.locator(".pagefind-ui__filter-name").all_inner_texts() == ["Commitment area", "Kind", "Region", "Tag"]
    page.locator(".pagefind-ui__filter-name", has_text="Kind").click()
    page.get_by_label("Community of interest").check()
    wait_js(page, f"{hrefs}.length > 0 && {hrefs}.every(h => h.startsWith('/communities/'))", timeout=10)
    slugs = {h.split("/")[2] for h in page.evaluate(hrefs)}
    assert slugs and all(kinds[s] == "interest" for s in slugs), slugs
    assert page.errors == [] and page.dialogs == []
