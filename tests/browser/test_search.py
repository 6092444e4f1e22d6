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
