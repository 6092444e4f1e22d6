"""Chromium through Playwright, against the built site served on localhost.

Tests skip when Chromium is absent, unless REQUIRE_BROWSER=1 (set by .ci/run),
where a missing browser is a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]

pytestmark = pytest.mark.browser


def _chromium() -> str | None:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    server, url = serve(built_site)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    executable = _chromium()
    if not executable:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (REQUIRE_BROWSER=1) but /usr/bin/chromium is missing: apt-get install -y chromium")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh page that records uncaught errors and dialogs; tests assert both stay empty."""
    context = browser.new_context(service_workers="block")
    # Map tiles are third-party: never fetched in tests.
    context.route("**/*", lambda route: route.abort() if not route.request.url.startswith("http://127.0.0.1") else route.continue_())
    pg = context.new_page()
    pg.errors = []
    pg.dialogs = []
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
    pg.on("dialog", lambda dialog: (pg.dialogs.append(dialog.message), dialog.dismiss()))
    yield pg
    context.close()


@pytest.fixture
def wait_js():
    """wait_js(page, expression, timeout=5.0): poll a JavaScript expression until it is truthy; returns its value.

    Playwright's wait_for_function evaluates its predicate with eval inside the page, which the
    site's Content-Security-Policy (no 'unsafe-eval') forbids; page.evaluate goes through the
    DevTools protocol and is allowed.
    """
    import time

    def wait(page, expression: str, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while True:
            value = page.evaluate(expression)
            if value or time.monotonic() > deadline:
                assert value, f"timed out waiting for {expression!r}"
                return value
            time.sleep(0.05)

    return wait


@pytest.fixture(scope="session")
def serve_folder() -> Iterator[object]:
    """serve_folder(path) -> base URL of a local server for another built site; all are stopped at the end."""
    servers = []

    def start(folder: Path) -> str:
        server, url = serve(folder)
        servers.append(server)
        return url

    yield start
    for server in servers:
        server.shutdown()
