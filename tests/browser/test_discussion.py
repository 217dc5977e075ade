"""Discussing a segment in chromium: carol opens her segment in the workspace, starts a
discussion from its panel mentioning @alice and comes back to the segment; alice finds the
notification and the thread; bob, coding blind before the reveal, gets 404 on it."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, Page, expect

from coding import segments as seg
from coding.codebook import services
from coding.models import CommentThread
from interventions.models import Intervention
from tests.browser.conftest import login, screenshot
from tests.conftest import Cast

PASSWORD = "wachtwoord-123"  # tests.factories.UserFactory's
TEXT = "Aanpak\nOuders oefenen thuis met nieuwe vaardigheden en de coach geeft feedback.\n"


def test_a_coder_discusses_her_segment_and_the_blind_coder_cannot_see_it(
    page: Page, browser: Browser, live_server: Any, cast: Cast
) -> None:
    Intervention.objects.filter(pk=cast.intervention.pk).update(text=TEXT)
    doc = Intervention.objects.get(pk=cast.intervention.pk)
    code = services.code_create(study=cast.study, actor=cast.owner, name="Doelen")
    quote = "Ouders oefenen"
    segment = seg.segments_apply(
        intervention=doc,
        coder=cast.coder_a,
        codes=[code],
        start=TEXT.index(quote),
        end=TEXT.index(quote) + len(quote),
        quote=quote,
    )[0]
    base = f"{live_server.url}/s/{cast.study.slug}"

    # Carol opens her segment and starts a discussion from its panel.
    login(page, live_server, "carol", PASSWORD)
    page.goto(f"{base}/i/{doc.uuid}/code/")
    page.locator(f"#seg-{segment.uuid}").click()
    panel = page.locator("#segment-panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".discussion-panel")).to_contain_text("No discussion yet.")
    panel.locator(".discussion-panel textarea").fill("@alice is deze grens goed?")
    with page.expect_navigation():
        panel.get_by_role("button", name="Start a discussion").click()

    # She is back at her segment, its panel open and listing the new thread.
    expect(page).to_have_url(re.compile(rf"segment={segment.uuid}"))
    expect(page.locator(".message.success")).to_contain_text("Discussion started.")
    discussion = page.locator("#segment-panel .discussion-panel")
    expect(discussion).to_be_visible()
    expect(discussion.locator(".thread-row")).to_have_count(1)
    expect(discussion.locator(".thread-row")).to_contain_text("carol · 1 comment")
    expect(discussion.locator(".thread-row")).to_contain_text("open")
    screenshot(page, "discussion-segment-panel")
    thread = CommentThread.objects.get()
    assert (thread.target_kind, thread.target_uuid) == ("segment", segment.uuid)
    with page.expect_navigation():
        discussion.locator(".thread-title").click()
    expect(page.locator(".comment-body .mention")).to_have_text("@alice")

    # Alice has a notification that leads to the thread.
    alice_context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    alice = alice_context.new_page()
    try:
        login(alice, live_server, "alice", PASSWORD)
        alice.goto(f"{live_server.url}/notifications/")
        expect(alice.locator(".notification.is-unread")).to_contain_text(
            "carol mentioned you in Gezinsinterventies"
        )
        with alice.expect_navigation():
            alice.locator(".notification a").first.click()
        expect(alice.locator(".comment-body")).to_contain_text("is deze grens goed?")
    finally:
        alice_context.close()

    # Bob codes blind until the reveal: the thread on carol's segment does not exist for him.
    bob_context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    bob = bob_context.new_page()
    try:
        login(bob, live_server, "bob", PASSWORD)
        response = bob.goto(f"{base}/comments/{thread.uuid}/")
        assert response is not None
        assert response.status == 404
        bob.goto(f"{base}/comments/")
        expect(bob.get_by_text("No open threads.")).to_be_visible()
    finally:
        bob_context.close()
