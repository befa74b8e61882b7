"""The browser tests' fixtures: the app served on a real port, and one headless Chromium per
session (or per pytest-xdist worker); each test opens its own context in it."""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from tests.support.browser_kit import CHROMIUM


@pytest.fixture
def live_server(app, demo):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    # Imported here so that runs without browser tests never load Playwright.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield browser
        browser.close()
