"""Browser fixtures: the app served on a free local port from a thread, and Debian's Chromium
driven by Playwright. Outside CI, a machine without Chromium skips these tests and says why;
in CI (CI=1) a missing browser is an error."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def serve(app: Flask) -> Iterator[str]:
    """Serve `app` from a background thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def live_demo(demo_app: Flask) -> Iterator[str]:
    """The demo catalogue served over HTTP."""
    yield from serve(demo_app)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing")
        pytest.skip(f"Chromium not installed at {CHROMIUM}: run `make test` as root to install it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A page 360 px wide, like a small phone."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def live_staff(staff_app: Flask) -> Iterator[str]:
    """The staff instance (tests/conftest.py: agencies, accounts per role) served over HTTP."""
    yield from serve(staff_app)


@pytest.fixture
def desktop(browser):
    """A desktop-sized page with its own cookies."""
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="vi-VN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
