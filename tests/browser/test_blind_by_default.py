"""Blind by default, in chromium: the owner of a new study codes and cannot see the second
coder's layer until they reveal it on the progress page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from coding import segments as seg
from coding.codebook import services
from coding.models import Codebook, CodingEvent
from interventions.models import Intervention, Role, Study
from interventions.services import membership_add
from tests.browser.conftest import login, screenshot
from tests.browser.test_workspace import drag_select, pick_through_search
from tests.factories import UserFactory

PASSWORD = "veerkracht-test-wachtwoord"
TEXT = (
    "Aanpak\n"
    "Ouders oefenen thuis met nieuwe vaardigheden en de coach geeft feedback op hun opvoeding. "
    "Het netwerk van buren, familie en school steunt de kinderen bij hun ontwikkeling.\n"
)


def test_the_owner_of_a_new_study_codes_blind_until_revealing(
    page: Page, live_server: Any, db: Any
) -> None:
    owner = UserFactory(username="student")
    rater = UserFactory(username="beoordelaar")
    for user in (owner, rater):
        user.set_password(PASSWORD)
        user.save()
    login(page, live_server, "student", PASSWORD)

    # The student makes the study in the browser, as a new user would.
    page.goto(f"{live_server.url}/studies/new/")
    page.fill("input[name='name']", "Blind vanaf het begin")
    page.fill("input[name='slug']", "blind")
    page.select_option("select[name='template']", Study.Template.EMPTY)
    with page.expect_navigation():
        page.click("main form [type='submit']")
    study = Study.objects.get(slug="blind")
    membership_add(study=study, user=rater, role=Role.CODER)
    code = services.code_create(study=study, actor=owner, name="Sociale hulpbronnen")
    intervention = Intervention.objects.create(study=study, title="Gezin Centraal", text=TEXT)
    words = "netwerk van buren"
    hidden = seg.segment_create(
        intervention=intervention,
        coder=rater,
        code=code,
        start=TEXT.index(words),
        end=TEXT.index(words) + len(words),
        quote=words,
        memo="Notitie van de beoordelaar",
    )

    # The owner codes a passage of their own.
    page.goto(f"{live_server.url}/s/blind/i/{intervention.uuid}/code/")
    expect(page.locator("#ws-text")).to_be_visible()
    drag_select(page, "Ouders", "vaardigheden")
    pick_through_search(page, "Sociale")
    expect(page.locator("#ws-text .ws-label")).to_have_count(1)

    # ...and sees nothing of the second rater's: no layer to turn on, no mark, a 404 by URL.
    expect(page.locator("#ws-layers label", has_text="beoordelaar")).to_have_count(0)
    expect(page.locator(".ws-hidden-note")).to_contain_text("once the owner reveals them")
    content = page.content()
    assert str(hidden.uuid) not in content
    assert "Notitie van de beoordelaar" not in content
    screenshot(page, "blind-owner-workspace-before-reveal")
    response = page.goto(f"{live_server.url}/s/blind/segments/{hidden.uuid}/")
    assert response is not None
    assert response.status == 404

    # The progress page offers the policy with "only after the reveal" chosen, and the reveal.
    page.goto(f"{live_server.url}/s/blind/progress/")
    expect(page.locator("#reveal input[value='after_reveal']")).to_be_checked()
    expect(page.locator("#reveal")).to_contain_text("you code in this study too")
    screenshot(page, "blind-owner-progress-before-reveal")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("#reveal button", has_text="Reveal coders' segments").click()
    assert Codebook.objects.get(study=study).is_revealed
    assert CodingEvent.objects.filter(study=study, action="reveal", actor=owner).count() == 1

    # The dashboard says who revealed and when; the layer can now be turned on.
    page.goto(f"{live_server.url}/s/blind/")
    expect(page.locator(".dash-blind")).to_contain_text("by student")
    page.goto(f"{live_server.url}/s/blind/i/{intervention.uuid}/code/")
    page.locator("#ws-layers label", has_text="beoordelaar").click()
    expect(page.locator("#ws-text .ws-label")).to_have_count(2)
    screenshot(page, "blind-owner-workspace-after-reveal")
