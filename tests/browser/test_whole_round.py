"""A whole round in chromium: two coders code the same intervention blind through the picker,
the owner reveals their layers and runs agreement, reconciles the five disagreements in the
consensus view, the supervisor starts a thread mentioning the owner, who replies and resolves
it, the supervisor approves the codebook, and the owner's dashboard shows all of it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from coding.agreement.assignments import assignment_create
from coding.codebook import services
from coding.models import (
    AgreementRun,
    Code,
    CodebookVersion,
    CommentThread,
    ConsensusDecision,
    InterventionProgress,
    Segment,
)
from tests.browser.conftest import login, screenshot
from tests.browser.test_agreement import second_page
from tests.browser.test_workspace import drag_select, pick_through_search
from tests.conftest import Cast

PASSWORD = "een-hele-ronde-2025"

# Each passage has first and last words found nowhere else in the text.
MOEDERS = "Moeders oefenen geduld tijdens lastige momenten"
SCHULD = "Schuldhulp regelt een vast weekbudget"
BUREN = "Buurtgenoten bieden praktische steun aan jonge gezinnen"
WENSEN = "Kinderen formuleren samen haalbare wensen"
VADERS = "Vaders ontdekken eigen sterke kanten door positieve feedback"
VADERS_KORT = "Vaders ontdekken eigen"
BEZOEK = "Wekelijkse huisbezoeken door een gezinscoach"
TEXT = f"{MOEDERS}. {SCHULD}.\n\n{BUREN}. {WENSEN}.\n\n{VADERS}. {BEZOEK}.\n"

# (first word, last word, search for carol's code, search for bob's code). Bob's differs in the
# code for the first four passages and in the boundaries for the fifth; both agree on the last.
CAROL = [
    ("Moeders", "momenten", "psych"),
    ("Schuldhulp", "weekbudget", "materi"),
    ("Buurtgenoten", "gezinnen", "sociale"),
    ("Kinderen", "wensen", "doelen"),
    ("Vaders", "feedback", "psych"),
    ("Wekelijkse", "gezinscoach", "sociale"),
]
BOB = [
    ("Moeders", "momenten", "doelen"),
    ("Schuldhulp", "weekbudget", "sociale"),
    ("Buurtgenoten", "gezinnen", "materi"),
    ("Kinderen", "wensen", "psych"),
    ("Vaders", "eigen", "psych"),
    ("Wekelijkse", "gezinscoach", "sociale"),
]


@pytest.fixture
def round_setup(cast: Cast) -> dict[str, Code]:
    """The text, a small codebook, real passwords, and the intervention assigned to both."""
    cast.intervention.text = TEXT
    cast.intervention.save()
    for user in (cast.owner, cast.supervisor, cast.coder_a, cast.coder_b):
        user.set_password(PASSWORD)
        user.save()
    make = services.code_create
    sociaal = make(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    codes = {
        "sociaal": sociaal,
        "doelen": make(study=cast.study, actor=cast.owner, name="Doelen", parent=sociaal),
        "psych": make(study=cast.study, actor=cast.owner, name="Psychologische hulpbronnen"),
        "materieel": make(study=cast.study, actor=cast.owner, name="Materiële hulpbronnen"),
    }
    for coder in (cast.coder_a, cast.coder_b):
        assignment_create(
            study=cast.study,
            actor=cast.owner,
            coder=coder,
            interventions=[cast.intervention],
            method="",
        )
    return codes


def code_in_the_workspace(
    page: Page, live_server: Any, cast: Cast, username: str, passages: list[tuple[str, str, str]]
) -> None:
    """Log in, code each passage with the mouse and the picker, and mark the text done."""
    login(page, live_server, username, PASSWORD)
    page.goto(f"{live_server.url}/s/{cast.study.slug}/i/{cast.intervention.uuid}/code/")
    expect(page.locator("#ws-text")).to_be_visible()
    # Blind coding: nobody else's marks before the reveal.
    expect(page.locator("#ws-text mark")).to_have_count(0)
    for number, (first, last, search) in enumerate(passages, start=1):
        drag_select(page, first, last)
        quote = page.locator("#picker-quote")
        expect(quote).to_contain_text(first)
        expect(quote).to_contain_text(last)
        pick_through_search(page, search)
        expect(page.locator("#ws-status")).to_contain_text("Coded:")
        expect(page.locator("#ws-text .ws-label")).to_have_count(number)
    page.locator("#ws-progress").get_by_role("button", name="Mark as done").click()
    expect(page.locator("#ws-progress .tag")).to_have_text("Done")


def test_a_whole_round_from_coding_to_the_dashboard(
    browser: Browser, page: Page, live_server: Any, cast: Cast, round_setup: dict[str, Code]
) -> None:
    codes = round_setup
    base = f"{live_server.url}/s/{cast.study.slug}"

    # 1. Carol and bob code the same passages, each in their own browser, blind.
    carol = second_page(browser)
    try:
        code_in_the_workspace(carol, live_server, cast, "carol", [c[:3] for c in CAROL])
        screenshot(carol, "round-1-carol-coded")
    finally:
        carol.context.close()
    bob = second_page(browser)
    try:
        code_in_the_workspace(bob, live_server, cast, "bob", [b[:3] for b in BOB])
        screenshot(bob, "round-1-bob-coded")
    finally:
        bob.context.close()
    carols = {s.quote: s.code for s in Segment.objects.filter(coder=cast.coder_a)}
    bobs = {s.quote: s.code for s in Segment.objects.filter(coder=cast.coder_b)}
    assert carols == {
        MOEDERS: codes["psych"],
        SCHULD: codes["materieel"],
        BUREN: codes["sociaal"],
        WENSEN: codes["doelen"],
        VADERS: codes["psych"],
        BEZOEK: codes["sociaal"],
    }
    assert bobs == {
        MOEDERS: codes["doelen"],
        SCHULD: codes["sociaal"],
        BUREN: codes["materieel"],
        WENSEN: codes["psych"],
        VADERS_KORT: codes["psych"],
        BEZOEK: codes["sociaal"],
    }
    assert InterventionProgress.objects.filter(intervention=cast.intervention).count() == 2

    # The owner reveals the coders' layers on the progress page.
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{base}/progress/")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Reveal coders' segments").click()
    expect(page.locator(".messages")).to_contain_text("Revealed")

    # 2. Alice starts an agreement run on words; eager here, it is done when the page returns.
    page.goto(f"{base}/agreement/")
    expect(page.get_by_label("bob", exact=True)).to_be_checked()
    expect(page.get_by_label("carol", exact=True)).to_be_checked()
    page.select_option("select[name='unit']", "word")
    with page.expect_navigation():
        page.get_by_role("button", name="Start the run").click()
    run = AgreementRun.objects.get()
    status = page.locator(f"#run-status-{run.uuid}")
    expect(status.get_by_role("link", name="Open the report")).to_be_visible(timeout=10_000)
    run.refresh_from_db()
    assert run.status == AgreementRun.Status.DONE
    alpha = run.result["overall"]["krippendorff_alpha"]
    assert alpha is not None
    expect(page.locator(f"#run-alpha-{run.uuid}")).to_contain_text(f"{alpha:.3f}")
    status.get_by_role("link", name="Open the report").click()
    expect(page.locator("h1")).to_have_text("Agreement report")
    # Codes without a coefficient are folded under a count: open them to read every row.
    folded = page.locator("#codes-folded summary")
    if folded.count():
        folded.click()
    table = page.locator("#codes-table, #codes-folded")
    shown = 0
    for path, figures in run.result["codes"].items():
        label = path.replace(" > ", " › ")
        row = table.locator(f"tbody tr:has(th[data-sort='{label}'])")
        expect(row).to_have_count(1)
        if figures.get("percent_agreement") is not None:
            expect(row).to_contain_text(f"{100 * figures['percent_agreement']:.1f}%")
            shown += 1
        if figures.get("krippendorff_alpha") is not None:
            expect(row.locator("td").nth(4)).to_contain_text(f"{figures['krippendorff_alpha']:.3f}")
    assert shown == 4
    screenshot(page, "round-2-agreement-report")

    # 3. Alice reconciles the five disagreements in the consensus view.
    page.goto(f"{base}/consensus/")
    expect(page.get_by_role("cell", name="0 / 6")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("link", name="Gezin Centraal").click()
    progress = page.locator("#cons-progress .cons-count")
    expect(progress).to_contain_text("0 of 6 passages decided")
    expect(progress).to_contain_text("5 disagreements")
    disagreements = page.locator(".cons-disagreement")
    expect(disagreements).to_have_count(5)
    ids = disagreements.evaluate_all("items => items.map(item => item.id)")
    for item_id, words in zip(ids, [MOEDERS, SCHULD, BUREN, WENSEN, VADERS], strict=True):
        expect(page.locator(f"[id='{item_id}']")).to_contain_text(words)
    decisions = [
        ("Take carol's version", "carol volgt de definitie"),
        ("Take bob's version", ""),
        ("Keep both", "beide codes passen"),
        ("Keep both", ""),
        ("Take carol's version", "de hele zin hoort erbij"),
    ]
    for done, (item_id, (button, note)) in enumerate(zip(ids, decisions, strict=True), start=1):
        item = page.locator(f"[id='{item_id}']")
        if note:
            item.locator("textarea[name='note']").fill(note)
        item.get_by_role("button", name=button).click()
        expect(progress).to_contain_text(f"{done} of 6 passages decided")
        expect(item).to_contain_text("Decided by alice")
        if note:
            expect(item).to_contain_text(note)
    expect(page.locator(".cons-bar")).to_have_attribute("value", "5")
    screenshot(page, "round-3-consensus")
    assert sorted(ConsensusDecision.objects.values_list("action", flat=True)) == [
        "keep_both",
        "keep_both",
        "take",
        "take",
        "take",
    ]
    page.goto(f"{base}/consensus/")
    expect(page.get_by_role("cell", name="5 / 6")).to_be_visible()

    # 4. Sam starts a thread on a code mentioning alice; she replies and resolves it.
    sam = second_page(browser)
    try:
        login(sam, live_server, "sam", PASSWORD)
        sam.goto(f"{base}/comments/")
        sam.select_option("#thread-target", label="Psychologische hulpbronnen")
        sam.fill("textarea[name='body']", "@alice waar ligt de grens met Doelen?")
        with sam.expect_navigation():
            sam.get_by_role("button", name="Start thread").click()
        expect(sam.locator(".comment-body .mention")).to_have_text("@alice")
        screenshot(sam, "round-4-thread-started")

        page.goto(f"{base}/")
        expect(page.locator(".notifications-link .unread-count")).to_have_text("1")
        expect(page.locator(".dashboard .dash-threads")).to_have_text("1 open thread")
        with page.expect_navigation():
            page.locator(".notifications-link").click()
        expect(page.locator(".notification.is-unread")).to_contain_text(
            "sam mentioned you in Gezinsinterventies"
        )
        with page.expect_navigation():
            page.locator(".notification a").first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Psychologische hulpbronnen")
        page.fill("textarea[name='body']", "Doelen gaan over wat het gezin wil bereiken, @sam.")
        with page.expect_navigation():
            page.get_by_role("button", name="Reply", exact=True).click()
        expect(page.locator(".comment")).to_have_count(2)
        with page.expect_navigation():
            page.get_by_role("button", name="Resolve thread").click()
        expect(page.locator(".thread-status")).to_contain_text("resolved")
        screenshot(page, "round-4-thread-resolved")
        assert CommentThread.objects.get().status == "resolved"

        # 5. Sam approves the codebook on the review page.
        sam.goto(f"{base}/review/codebook/")
        with sam.expect_navigation():
            sam.get_by_role("button", name="Approve the current codebook").click()
        expect(sam.locator(".message.success")).to_contain_text(
            re.compile(r"approved as version \d+")
        )
        expect(sam.get_by_text("No changes since the approved version.")).to_be_visible()
        screenshot(sam, "round-5-codebook-approved")
    finally:
        sam.context.close()
    version = CodebookVersion.objects.get(approved_at__isnull=False)
    assert version.approved_by == cast.supervisor

    # 6. Alice's study page shows the whole round.
    page.goto(f"{base}/")
    dashboard = page.locator(".dashboard")
    coders = dashboard.locator(".dash-coders tbody tr")
    for name in ("bob", "carol"):
        expect(coders.filter(has_text=name).locator("td")).to_have_text([name, "1", "1"])
    expect(dashboard.locator(".dash-agreement .dash-figure")).to_contain_text(f"{alpha:.3f}")
    expect(dashboard.locator(".dash-threads")).to_have_text("0 open threads")
    expect(dashboard.locator(".dash-codebook")).to_contain_text(f"Approved: v{version.number}")
    expect(dashboard.locator(".dash-codebook")).to_contain_text("no changes since then")
    review = dashboard.locator(".dash-review")
    expect(review).to_contain_text("5 of 6 passages decided")
    expect(review).to_contain_text("0 of 1 intervention fully decided")
    expect(review.locator("progress")).to_have_attribute("value", "5")
    screenshot(page, "round-6-dashboard")
