"""The join form: fill it in Chromium, get a file scripts/validate accepts and a GitHub link that carries it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]


def open_form(page, site_url: str, query: str = "") -> None:
    response = page.goto(f"{site_url}/join/{query}")
    assert response.status == 200
    page.wait_for_selector("#join-form[data-ready]")


def fill_minimal(page) -> None:
    page.fill("#f-name", "Co-operative Testville")
    page.check("#f-kind-place")
    page.fill("#f-summary", "Neighbours in Testville linking up local co-ops and swapping clothes.")
    page.fill("#f-location-place", "Testville")
    page.fill("#f-location-region", "Testshire")
    page.fill("#f-location-country", "GB")
    page.check("#f-tags-food")
    page.check("#f-commitments-0-area-action")
    page.fill("#f-commitments-0-title", "Monthly clothes swap")
    page.fill("#f-commitments-0-measure", "Number of swaps held")
    page.fill("#f-commitments-0-target-value", "12")
    page.fill("#f-commitments-0-target-unit", "swaps")
    page.select_option("#f-commitments-0-status", "planned")


def generate(page) -> str:
    page.click("#generate")
    page.wait_for_selector("#result:not([hidden])")
    return page.input_value("#yaml-output")


def test_filled_form_makes_a_valid_file_and_a_github_link_that_carries_it(page, site_url: str, tmp_path: Path) -> None:
    open_form(page, site_url)
    fill_minimal(page)
    slug = page.input_value("#f-slug")
    assert slug == "co-operative-testville"
    text = generate(page)
    assert text.startswith("# yaml-language-server: $schema=../community.schema.json\n")
    assert "value: 12\n" in text  # numbers stay numbers

    record = tmp_path / f"{slug}.yaml"
    record.write_text(text, encoding="utf-8")
    checked = subprocess.run([sys.executable, str(ROOT / "scripts" / "validate"), str(record)],
                             capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    href = page.get_attribute("#github-link", "href")  # read, never followed: third-party requests are aborted
    parts = urlsplit(href)
    assert parts.path.endswith("/new/main")
    query = parse_qs(parts.query)
    assert query["filename"] == [f"data/communities/{slug}.yaml"]
    assert query["value"] == [text]
    assert page.evaluate("document.activeElement.id") == "result-h"
    assert page.errors == []
    assert page.dialogs == []


def test_invalid_email_shows_the_message_next_to_the_field(page, site_url: str) -> None:
    open_form(page, site_url)
    fill_minimal(page)
    page.fill("#f-contact-email", "not-an-address")
    page.click("#generate")
    page.wait_for_selector("#error-summary:not([hidden])")
    error = page.locator("#f-contact-email-error")
    assert error.is_visible()
    assert "is not an e-mail address" in error.inner_text()
    field = page.locator("#f-contact-email")
    assert field.get_attribute("aria-invalid") == "true"
    assert "f-contact-email-error" in field.get_attribute("aria-describedby").split()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#error-summary h2").inner_text() == "1 answer needs a fix"
    link = page.locator("#error-summary a")
    assert link.count() == 1
    link.click()
    assert page.evaluate("document.activeElement.id") == "f-contact-email"
    assert page.locator("#result").is_hidden()
    assert page.errors == []
    assert page.dialogs == []


def test_missing_required_fields_are_reported_from_the_schema(page, site_url: str) -> None:
    open_form(page, site_url)
    page.click("#generate")
    page.wait_for_selector("#error-summary:not([hidden])")
    for field in ("f-name", "f-kind", "f-summary", "f-commitments-0-title"):
        assert page.locator(f"#{field}").get_attribute("aria-invalid") == "true", field
        assert page.locator(f"#{field}-error").is_visible(), field
    assert re.fullmatch(r"\d+ answers need a fix", page.locator("#error-summary h2").inner_text())
    assert page.errors == []


def test_commitments_are_added_and_removed_with_named_buttons_and_focus_follows(page, site_url: str) -> None:
    open_form(page, site_url)
    remove_first = page.locator("#f-commitments > .items > li:nth-child(1) > fieldset > [data-remove]")
    assert remove_first.is_hidden()  # at least one commitment is required
    page.click("#f-commitments > [data-add]")
    assert page.evaluate("document.activeElement.id") == "f-commitments-1-area-action"
    second = page.locator("#f-commitments > .items > li:nth-child(2) > fieldset > [data-remove]")
    assert second.inner_text() == "Remove Commitment 2"
    second.click()
    assert page.locator("#f-commitments > .items > li").count() == 1
    assert page.evaluate("document.activeElement.id") == "f-commitments-0-area-action"
    assert "Commitment 2 removed" in page.inner_text("#live")
    assert page.errors == []


def test_update_prefills_the_form_and_leads_to_the_edit_page(page, site_url: str, tmp_path: Path) -> None:
    open_form(page, site_url, "?update=leith")
    assert page.input_value("#f-name") == "Co-operative Leith"
    assert page.input_value("#f-slug") == "leith"
    assert page.locator("#update-notice").is_visible()
    text = generate(page)
    assert page.get_attribute("#github-link", "href").endswith("/edit/main/data/communities/leith.yaml")
    record = tmp_path / "leith.yaml"
    record.write_text(text, encoding="utf-8")
    checked = subprocess.run([sys.executable, str(ROOT / "scripts" / "validate"), str(record)],
                             capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert page.errors == []
    assert page.dialogs == []


@pytest.mark.parametrize("slug", ["leith"])
def test_a_new_community_cannot_take_a_published_file_name(page, site_url: str, slug: str) -> None:
    open_form(page, site_url)
    fill_minimal(page)
    page.fill("#f-slug", slug)
    page.click("#generate")
    page.wait_for_selector("#error-summary:not([hidden])")
    assert "already on the site" in page.inner_text("#f-slug-error")
    assert page.errors == []


def test_without_javascript_the_page_explains_the_other_routes(browser, site_url: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    context.route("**/*", lambda route: route.abort() if not route.request.url.startswith("http://127.0.0.1") else route.continue_())
    page = context.new_page()
    page.goto(f"{site_url}/join/")
    notice = page.locator("#noscript-notice")
    assert "needs JavaScript" in notice.inner_text()
    hrefs = [a.get_attribute("href") for a in notice.locator("a").all()]
    assert any(h.endswith("/new/main/data/communities") for h in hrefs)
    assert any(h.endswith("CONTRIBUTING.md") for h in hrefs)
    context.close()
