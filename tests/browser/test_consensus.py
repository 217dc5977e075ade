"""Reconciliation in chromium: the owner opens the consensus view of an intervention where two
coders disagree, takes one coder's version for one passage, keeps both for another, and sees the
progress move without a page load."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from coding.agreement.assignments import assignment_create
from coding.codebook.services import codebook_reveal
from coding.models import ConsensusDecision, ConsensusSegment
from tests.browser.conftest import login, screenshot
from tests.conftest import Cast
from tests.factories import CodeFactory, SegmentFactory

PASSWORD = "wachtwoord-123"  # tests.factories.UserFactory's
TEXT = (
    "Ouders leren hun kind beter begrijpen. "
    "Het gezin krijgt hulp bij geldzaken. "
    "Wekelijkse huisbezoeken door een gezinscoach."
)
BEGRIJPEN = "Ouders leren hun kind beter begrijpen."
GELD = "Het gezin krijgt hulp bij geldzaken."
BEZOEK = "Wekelijkse huisbezoeken door een gezinscoach."


def code(cast: Cast, coder: Any, name_code: Any, words: str) -> None:
    start = TEXT.index(words)
    SegmentFactory(
        intervention=cast.intervention,
        coder=coder,
        code=name_code,
        start=start,
        end=start + len(words),
    )


def test_the_owner_reconciles_two_disagreements(page: Page, live_server: Any, cast: Cast) -> None:
    cast.intervention.text = TEXT
    cast.intervention.save()
    sociaal = CodeFactory(study=cast.study, name="Sociale hulpbronnen")
    financieel = CodeFactory(study=cast.study, name="Financiële hulpbronnen")
    aanpak = CodeFactory(study=cast.study, name="Aanpak")
    code(cast, cast.coder_a, sociaal, BEGRIJPEN)
    code(cast, cast.coder_b, financieel, BEGRIJPEN)
    code(cast, cast.coder_a, financieel, GELD)
    code(cast, cast.coder_b, sociaal, GELD)
    code(cast, cast.coder_a, aanpak, BEZOEK)
    code(cast, cast.coder_b, aanpak, BEZOEK)
    for coder in (cast.coder_a, cast.coder_b):
        assignment_create(
            study=cast.study,
            actor=cast.owner,
            coder=coder,
            interventions=[cast.intervention],
            method="",
        )
    codebook_reveal(study=cast.study, actor=cast.owner)

    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/s/{cast.study.slug}/consensus/")
    expect(page.get_by_role("cell", name="0 / 3")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("link", name="Gezin Centraal").click()

    progress = page.locator("#cons-progress .cons-count")
    expect(progress).to_contain_text("0 of 3 passages decided")
    expect(progress).to_contain_text("2 disagreements")
    first, second = (
        page.locator(".cons-disagreement").nth(0),
        page.locator(".cons-disagreement").nth(1),
    )
    expect(first).to_contain_text(BEGRIJPEN)
    expect(first).to_contain_text("carol")
    expect(first).to_contain_text("bob")
    screenshot(page, "consensus-before")

    # Take bob's version of the first passage, with a note; htmx swaps the item in place.
    first.locator("textarea[name='note']").fill("bob volgt de definitie")
    first.get_by_role("button", name="Take bob's version").click()
    expect(progress).to_contain_text("1 of 3 passages decided")
    first = page.locator(".cons-item").nth(0)
    expect(first).to_contain_text("Decided by alice")
    expect(first).to_contain_text("bob volgt de definitie")
    expect(first.get_by_role("button", name="Undo the decision")).to_be_visible()

    second.get_by_role("button", name="Keep both").click()
    expect(progress).to_contain_text("2 of 3 passages decided")
    expect(page.locator(".cons-item").nth(1)).to_contain_text("keep every version")
    screenshot(page, "consensus-after")

    assert sorted(ConsensusDecision.objects.values_list("action", flat=True)) == [
        "keep_both",
        "take",
    ]
    assert ConsensusSegment.objects.count() == 3

    # The rest of the passages in one go; a link leads back to the coders' segments.
    page.get_by_role("button", name="Accept the agreed passage").click()
    expect(progress).to_contain_text("3 of 3 passages decided")
    href = page.locator(".cons-quote a").first.get_attribute("href") or ""
    assert "/code/?layers=" in href
    assert "#seg-" in href

    page.goto(f"{live_server.url}/s/{cast.study.slug}/consensus/")
    expect(page.get_by_role("cell", name="3 / 3")).to_be_visible()
    # carol's and bob's figures against the consensus: both coded the intervention.
    expect(page.locator(".cons-against")).to_contain_text("carol")
    page.select_option("#cons-unit", "word")
    expect(page.locator("#cons-unit")).to_have_value("word")
    screenshot(page, "consensus-overview")
