"""Playwright browser tests against pytest-django's live_server, in Debian's chromium.

Playwright's own browser download does not work here, so the browser is always the system
chromium. Every test in this folder is marked `browser`. Use the helpers like this:

    from tests.browser.conftest import login, screenshot

    def test_it_shows_the_studies(page, live_server, cast):
        login(page, live_server, "alice", "wachtwoord-123")
        screenshot(page, "home")
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

# The sync API keeps an asyncio loop running in the main thread for the whole session, which
# Django's async-safety check would take for async code calling the ORM.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
LOGIN_PATH = "/accounts/login/"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Browser tests need chromium at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def login(page: Page, live_server: Any, username: str, password: str) -> None:
    """Log in through the login form and wait for the page it leads to."""
    page.goto(f"{live_server.url}{LOGIN_PATH}")
    page.fill("input[name='username']", username)
    page.fill("input[name='password']", password)
    with page.expect_navigation():
        page.click("form [type='submit']")
    if re.search(re.escape(LOGIN_PATH) + r"(\?|$)", page.url):
        raise AssertionError(f"Logging in as {username!r} failed; still at {page.url}")


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG to tests/browser/screenshots/<name>.png and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
