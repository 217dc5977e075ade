"""A person who keeps guessing a password is stopped, and told why; a forgotten password
leads to whom to ask when the server sends no mail."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LOGIN_PATH, screenshot
from tests.conftest import Cast

pytestmark = pytest.mark.django_db(transaction=True)


def try_password(page: Page, password: str) -> None:
    page.fill("input[name='username']", "alice")
    page.fill("input[name='password']", password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


def test_ten_wrong_passwords_lock_the_login_and_the_right_one_no_longer_helps(
    page: Page, live_server: Any, cast: Cast
) -> None:
    page.goto(f"{live_server.url}{LOGIN_PATH}")
    for n in range(9):
        try_password(page, f"gok-{n}")
        expect(page.get_by_role("alert")).to_contain_text(
            "Please enter a correct username and password."
        )

    try_password(page, "gok-9")
    try_password(page, "wachtwoord-123")

    expect(page.get_by_role("alert")).to_contain_text(
        "Too many failed logins for this user name or from this address. Try again in 15 minutes."
    )
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    screenshot(page, "login-locked")


def test_forgot_password_without_mail_says_whom_to_ask(
    page: Page, live_server: Any, cast: Cast
) -> None:
    page.goto(f"{live_server.url}{LOGIN_PATH}")

    page.get_by_role("link", name="Forgot your password?").click()

    expect(page.locator("h1")).to_have_text("Forgot your password?")
    expect(page.locator("main")).to_contain_text("This server sends no e-mail")
    expect(page.locator("main")).to_contain_text("Ask the owner of your study")
    screenshot(page, "password-reset-without-mail")
    page.get_by_role("link", name="Back to log in").click()
    expect(page.locator("h1")).to_have_text("Log in")
