"""Chromium starts, the live server answers, and the login form works."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import login, screenshot


def test_the_login_page_shows_the_login_form(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/accounts/login/")

    form = page.locator("form:has(input[name='password'])")
    expect(form.locator("input[name='username']")).to_be_visible()
    expect(form.locator("input[name='password']")).to_have_attribute("type", "password")
    expect(form.locator("[type='submit']")).to_be_visible()
    screenshot(page, "login")


def test_the_login_helper_logs_a_user_in(
    page: Page, live_server: Any, django_user_model: Any
) -> None:
    django_user_model.objects.create_user(username="alice", password="wachtwoord-123")

    login(page, live_server, "alice", "wachtwoord-123")

    assert "/accounts/login/" not in page.url
