"""Every main page fits a phone: at 390 × 844 no page is wider than the screen (only a wide
table scrolls, inside its own box), and the header's menu opens by button and keyboard. Each
page is also photographed at 390 × 844 and 1280 × 800 (tests/browser/screenshots/layout-*)."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from coding.agreement.assignments import assignment_create
from coding.agreement.runs import agreement_run_start
from coding.codebook.services import codebook_reveal
from coding.models import AgreementRun, Code
from coding.review.comments import thread_start
from coding.segments import progress_set
from interventions.models import Study
from tests.browser.conftest import SCREENSHOTS, login, screenshot
from tests.factories import SegmentFactory

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 800}
WIDE = {"width": 1920, "height": 1080}
PASSWORD = "veerkracht-demo"  # interventions/management/commands/load_demo.py

# Elements wider than the screen, outside the boxes that may scroll on their own: names the
# culprit when the check fails.
WIDER_THAN_SCREEN = """() => {
  const width = %d;
  const boxes = ".table-scroll, .analysis-wrap, .table-wrap";
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.parentElement && el.parentElement.closest(boxes)) continue;
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1) {
      const classes = typeof el.className === "string" ? el.className.trim() : "";
      const name = el.tagName.toLowerCase() + (classes ? "." + classes.replace(/\\s+/g, ".") : "");
      out.push(name + " right=" + Math.round(box.right));
    }
  }
  return out.slice(0, 12);
}"""


@pytest.fixture
def demo(db: Any) -> Study:
    """The demo study with a round behind it: both raters coded every text (agreeing on one
    passage, differing on another), marked them done, the layers are revealed, an agreement
    run finished, and a thread is open."""
    call_command("load_demo", quiet_logins=True, stdout=StringIO())
    study = Study.objects.get(slug="veerkracht-demo")
    users = {u.username: u for u in get_user_model().objects.all()}
    student, rater = users["student"], users["beoordelaar"]
    interventions = list(study.interventions.order_by("title"))
    for coder in (student, rater):
        assignment_create(
            study=study, actor=student, coder=coder, interventions=interventions, method=""
        )
    codes = list(Code.objects.filter(study=study, parent__isnull=False).order_by("pk"))
    for n, intervention in enumerate(interventions):
        text = intervention.text
        first = text.index(" ", 120) + 1
        second = text.index(" ", min(len(text) - 200, 600)) + 1
        for coder, other in ((student, 0), (rater, 1)):
            SegmentFactory(
                intervention=intervention,
                coder=coder,
                code=codes[n % len(codes)],
                start=first,
                end=first + 60,
            )
            SegmentFactory(
                intervention=intervention,
                coder=coder,
                code=codes[(n + other + 3) % len(codes)],
                start=second,
                end=second + 80,
            )
            progress_set(intervention=intervention, coder=coder, done=True)
    codebook_reveal(study=study, actor=student)
    agreement_run_start(study=study, actor=student, coders=None)
    thread_start(
        study=study,
        actor=users["begeleider"],
        target_kind="intervention",
        target_uuid=interventions[0].uuid,
        body="Klopt de code bij de tweede alinea? @student",
    )
    return study


def main_pages(study: Study) -> Iterator[tuple[str, str]]:
    slug = study.slug
    first = study.interventions.order_by("title").first()
    assert first is not None
    run = AgreementRun.objects.filter(study=study, status=AgreementRun.Status.DONE).first()
    assert run is not None, "the agreement run did not finish"
    yield "home", "/"
    yield "study", f"/s/{slug}/"
    yield "interventions", f"/s/{slug}/interventions/"
    yield "intervention", f"/s/{slug}/i/{first.uuid}/"
    yield "workspace", f"/s/{slug}/i/{first.uuid}/code/"
    yield "codebook", f"/s/{slug}/codebook/"
    yield "progress", f"/s/{slug}/progress/"
    yield "agreement", f"/s/{slug}/agreement/"
    yield "agreement-report", f"/s/{slug}/agreement/{run.uuid}/"
    yield "consensus", f"/s/{slug}/consensus/"
    yield "consensus-intervention", f"/s/{slug}/i/{first.uuid}/consensus/"
    yield "analysis", f"/s/{slug}/analysis/"
    yield "comments", f"/s/{slug}/comments/"
    yield "dashboard", f"/s/{slug}/#dashboard-heading"
    yield "members", f"/s/{slug}/members/"
    yield "properties", f"/s/{slug}/attributes/"
    yield "import", f"/s/{slug}/import/"


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="nl-NL", viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    yield page
    context.close()


def widths(page: Page) -> tuple[int, int]:
    """The document's width and the viewport's as set (a mobile browser widens its layout
    viewport to fit a page that is too wide, so window.innerWidth would hide the fault)."""
    assert page.viewport_size is not None
    width = page.evaluate("() => document.documentElement.scrollWidth")
    return width, page.viewport_size["width"]


def shoot(page: Page, name: str) -> None:
    """The first screenful only: what a person sees on opening the page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def test_no_main_page_is_wider_than_a_phone(phone: Page, live_server: Any, demo: Study) -> None:
    phone.goto(f"{live_server.url}/accounts/login/")
    scroll, viewport = widths(phone)
    assert scroll <= viewport, f"login: {scroll} > {viewport}"
    shoot(phone, "layout-phone-login")
    login(phone, live_server, "student", PASSWORD)

    too_wide = {}
    for name, path in main_pages(demo):
        phone.goto(f"{live_server.url}{path}")
        phone.wait_for_load_state("networkidle")
        scroll, viewport = widths(phone)
        if scroll > viewport:
            too_wide[name] = (scroll, phone.evaluate(WIDER_THAN_SCREEN % viewport))
        shoot(phone, f"layout-phone-{name}")

    assert not too_wide, f"wider than {PHONE['width']} px: {too_wide}"


@pytest.mark.parametrize(
    ("label", "viewport"),
    [("tablet", TABLET), ("desktop", DESKTOP), ("wide", WIDE)],
)
def test_every_main_page_fits_a_tablet_and_a_desktop_with_its_steps_on_one_row(
    browser: Browser, live_server: Any, demo: Study, label: str, viewport: dict[str, int]
) -> None:
    context = browser.new_context(locale="nl-NL", viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    try:
        login(page, live_server, "student", PASSWORD)
        for name, path in main_pages(demo):
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
            scroll, width = widths(page)
            assert scroll <= width, (name, scroll, page.evaluate(WIDER_THAN_SCREEN % width))
            if viewport["width"] >= DESKTOP["width"]:
                tops = page.eval_on_selector_all(
                    ".studybar .step-link",
                    "links => links.map(l => Math.round(l.getBoundingClientRect().top))",
                )
                rows = len(set(tops))
                assert rows == (0 if name == "home" else 1), f"{name}: the steps take {rows} rows"
            else:
                expect(page.get_by_role("button", name="Menu")).to_be_visible()
            shoot(page, f"layout-{label}-{name}")
    finally:
        context.close()


def test_the_phone_menu_opens_by_button_and_keyboard(
    phone: Page, live_server: Any, demo: Study
) -> None:
    login(phone, live_server, "student", PASSWORD)
    phone.goto(f"{live_server.url}/s/{demo.slug}/")
    toggle = phone.get_by_role("button", name="Menu")
    menu = phone.locator("#site-menu")

    expect(menu).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="Overeenstemming")).to_be_visible()
    expect(menu.get_by_role("button", name="Uitloggen")).to_be_visible()
    expect(menu.get_by_label("Taal")).to_be_visible()
    scroll, viewport = widths(phone)
    assert scroll <= viewport
    screenshot(phone, "layout-phone-menu-open")

    # Escape from inside the menu closes it and gives the focus back to the button.
    menu.get_by_role("link", name="Corpus").focus()
    phone.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    # The keyboard opens it too, and a step in it leads to its page.
    phone.keyboard.press("Enter")
    expect(menu).to_be_visible()
    # A tap on the page behind it closes it.
    phone.locator("h1").tap()
    expect(menu).to_be_hidden()
    toggle.tap()
    menu.get_by_role("link", name="Corpus").click()
    expect(phone).to_have_url(f"{live_server.url}/s/{demo.slug}/interventions/")
    expect(phone.locator(".substeps [aria-current='page']")).to_have_text("Interventies")
