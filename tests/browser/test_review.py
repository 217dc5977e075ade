"""Review in chromium: the supervisor starts a thread on a code mentioning @alice, alice sees
the unread count, opens the thread from her notifications, replies and resolves it; the
supervisor approves the codebook; the study page's dashboard shows no open threads and the
approved version."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, Page, expect

from coding.codebook import services
from coding.models import CodebookVersion, CommentThread
from tests.browser.conftest import login, screenshot
from tests.conftest import Cast

PASSWORD = "wachtwoord-123"  # tests.factories.UserFactory's


def test_a_thread_is_discussed_resolved_and_the_codebook_approved(
    page: Page, browser: Browser, live_server: Any, cast: Cast
) -> None:
    services.code_create(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    base = f"{live_server.url}/s/{cast.study.slug}"

    # Sam starts a thread on a code and mentions alice.
    login(page, live_server, "sam", PASSWORD)
    page.goto(f"{base}/comments/")
    expect(page.get_by_text("No open threads.")).to_be_visible()
    page.select_option("#thread-target", label="Sociale hulpbronnen")
    page.fill("textarea[name='body']", "@alice is de definitie helder genoeg? <b>niet vet</b>")
    with page.expect_navigation():
        page.get_by_role("button", name="Start thread").click()
    expect(page.locator(".comment-body .mention")).to_have_text("@alice")
    expect(page.locator(".comment-body")).to_contain_text("<b>niet vet</b>")
    screenshot(page, "review-thread-started")

    # Alice sees one unread notification in the top bar and follows it to the thread.
    alice_context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    alice = alice_context.new_page()
    try:
        login(alice, live_server, "alice", PASSWORD)
        alice.goto(f"{base}/")
        expect(alice.locator(".notifications-link .unread-count")).to_have_text("1")
        with alice.expect_navigation():
            alice.locator(".notifications-link").click()
        expect(alice.locator(".notification.is-unread")).to_contain_text(
            "sam mentioned you in Gezinsinterventies"
        )
        screenshot(alice, "review-notifications")
        with alice.expect_navigation():
            alice.locator(".notification a").first.click()
        expect(alice.get_by_role("heading", level=1)).to_contain_text("Sociale hulpbronnen")
        alice.fill("textarea[name='body']", "Ja, @sam, ik heb een voorbeeld toegevoegd.")
        with alice.expect_navigation():
            alice.get_by_role("button", name="Reply", exact=True).click()
        expect(alice.locator(".comment")).to_have_count(2)
        with alice.expect_navigation():
            alice.get_by_role("button", name="Resolve thread").click()
        expect(alice.locator(".thread-status")).to_contain_text("resolved")
        expect(alice.get_by_role("button", name="Reopen thread")).to_be_visible()
        screenshot(alice, "review-thread-resolved")
        # Opening the thread read her notification: nothing is left to mark.
        alice.goto(f"{live_server.url}/notifications/")
        expect(alice.locator(".notifications-link .unread-count")).to_have_count(0)
        expect(alice.locator(".notification.is-unread")).to_have_count(0)
        expect(alice.get_by_role("button", name="Mark all as read")).to_have_count(0)
        # The owner wrote the codebook and does not approve it: the page says who does.
        alice.goto(f"{base}/review/codebook/")
        expect(alice.locator(".approver-note")).to_have_text(
            "The study's supervisor approves the codebook."
        )
        expect(alice.get_by_role("button", name="Approve")).to_have_count(0)
        screenshot(alice, "review-codebook-owner")
    finally:
        alice_context.close()
    assert CommentThread.objects.get().status == "resolved"

    # Sam approves the codebook on the review page.
    page.goto(f"{base}/review/codebook/")
    expect(page.get_by_text("No approved version yet.").first).to_be_visible()
    expect(page.locator(".notifications-link .unread-count")).to_have_text("1")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve the current codebook").click()
    expect(page.locator(".message.success")).to_contain_text("approved as version 1")
    expect(page.get_by_text("No changes since the approved version.")).to_be_visible()
    screenshot(page, "review-codebook-approved")
    version = CodebookVersion.objects.get()
    assert version.approved_by == cast.supervisor

    # The study page's dashboard.
    page.goto(f"{base}/")
    dashboard = page.locator(".dashboard")
    expect(dashboard.locator(".dash-threads")).to_have_text("0 open threads")
    expect(dashboard.locator(".dash-codebook")).to_contain_text(
        re.compile(r"Approved: v1, “Approved \d")
    )
    screenshot(page, "review-dashboard")
