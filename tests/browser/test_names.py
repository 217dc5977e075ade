"""Names with their place, in chromium and in Dutch: the supervisor starts a discussion on
"Sociale hulpbronnen › Inhoud" chosen from the subject dropdown, the student reads the
notification and the bell goes quiet, the margin labels name the code with its theme and the
coders by initials in their own colours, and the agreement report leads with its summary with
the codes it cannot compute folded away."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from coding import segments as seg
from coding.codebook import services
from coding.codebook.services import codebook_reveal
from coding.models import AgreementRun, Code
from interventions.models import Intervention
from tests.browser.conftest import SCREENSHOTS, login, screenshot
from tests.conftest import Cast
from tests.factories import CodeFactory, SegmentFactory

PASSWORD = "wachtwoord-123"  # tests.factories.UserFactory's
TEXT = "Aanpak\nOuders oefenen thuis met nieuwe vaardigheden en de coach geeft feedback.\n"


def dutch(browser: Browser) -> Page:
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 800})
    return context.new_page()


def code_at(cast: Cast, *path: str) -> Code:
    paths = services.code_paths(cast.study)
    pk = next(pk for pk, found in paths.items() if found == path)
    return Code.objects.get(pk=pk)


def test_the_supervisor_discusses_a_code_named_by_its_theme_and_the_student_reads_it(
    browser: Browser, live_server: Any, cast: Cast
) -> None:
    services.codebook_apply_template(study=cast.study, actor=cast.owner, template="veerkracht")
    inhoud = code_at(cast, "Sociale hulpbronnen", "Inhoud")
    base = f"{live_server.url}/s/{cast.study.slug}"

    sam = dutch(browser)
    try:
        login(sam, live_server, "sam", PASSWORD)
        sam.goto(f"{base}/comments/")
        expect(sam.get_by_role("heading", level=1)).to_have_text("Discussie")
        subject = sam.locator("#thread-target")
        labels = subject.locator("option").all_inner_texts()
        assert "Sociale hulpbronnen › Inhoud" in labels
        assert "Materiële hulpbronnen › Inhoud" in labels
        assert "Inhoud" not in labels
        assert "Setting" in labels
        subject.select_option(label="Sociale hulpbronnen › Inhoud")
        sam.locator("textarea[name='body']").fill("@alice valt ‘buurtnetwerk’ hieronder?")
        screenshot(sam, "names-comment-subject")
        with sam.expect_navigation():
            sam.locator("form button[type='submit']").last.click()
        expect(sam.locator("main")).to_contain_text("Sociale hulpbronnen › Inhoud")
    finally:
        sam.context.close()

    alice = dutch(browser)
    try:
        login(alice, live_server, "alice", PASSWORD)
        alice.goto(f"{live_server.url}/notifications/")
        expect(alice.locator(".unread-count")).to_have_text("1")
        with alice.expect_navigation():
            alice.locator(".notification a").first.click()
        expect(alice.locator("main")).to_contain_text("Sociale hulpbronnen › Inhoud")
        # Opening the thread read its news: the bell has nothing left to count.
        expect(alice.locator(".unread-count")).to_have_count(0)
        # The study's activity: the template as one line, the discussion's code by its theme.
        alice.goto(f"{base}/")
        activity = alice.locator(".dash-activity")
        expect(activity).to_contain_text(
            "maakte het codeboek aan uit het sjabloon “Veerkracht en hulpbronnen” (27 codes)"
        )
        expect(activity.locator("li")).to_have_count(1)
    finally:
        alice.context.close()
    assert inhoud.origin == Code.Origin.DEDUCTIVE


def test_margin_labels_name_the_code_with_its_theme_and_each_coder_in_their_colour(
    browser: Browser, live_server: Any, cast: Cast
) -> None:
    services.codebook_apply_template(study=cast.study, actor=cast.owner, template="veerkracht")
    Intervention.objects.filter(pk=cast.intervention.pk).update(text=TEXT)
    doc = Intervention.objects.get(pk=cast.intervention.pk)
    quote = "nieuwe vaardigheden"
    start = TEXT.index(quote)
    for coder, path in (
        (cast.coder_a, ("Sociale hulpbronnen", "Inhoud")),
        (cast.coder_b, ("Psychologische hulpbronnen", "Inhoud")),
    ):
        seg.segments_apply(
            intervention=doc,
            coder=coder,
            codes=[code_at(cast, *path)],
            start=start,
            end=start + len(quote),
            quote=quote,
        )
    codebook = services.Codebook.for_study(cast.study)
    codebook.revealed_at = timezone.now()
    codebook.save()

    sam = dutch(browser)
    try:
        login(sam, live_server, "sam", PASSWORD)
        sam.goto(f"{live_server.url}/s/{cast.study.slug}/i/{doc.uuid}/code/")
        labels = sam.locator("#ws-text .ws-label")
        expect(labels).to_have_count(2)
        names = labels.locator(".ws-label-name").all_inner_texts()
        assert sorted(names) == [
            "Psychologische hulpbronnen › Inhoud",
            "Sociale hulpbronnen › Inhoud",
        ]
        initials = labels.locator(".ws-initials")
        assert sorted(initials.all_inner_texts()) == ["BO", "CA"]
        colours = initials.evaluate_all(
            "els => els.map(el => getComputedStyle(el).backgroundColor)"
        )
        assert len(set(colours)) == 2
        # The supervisor codes nothing: the layer list holds the two coders only.
        layers = sam.locator("#ws-layers input[type=checkbox]")
        expect(layers).to_have_count(2)
        screenshot(sam, "names-margin-labels")
    finally:
        sam.context.close()


def test_the_agreement_report_leads_with_its_summary_and_folds_what_it_cannot_compute(
    browser: Browser, live_server: Any, cast: Cast
) -> None:
    services.codebook_apply_template(study=cast.study, actor=cast.owner, template="veerkracht")
    computable = {
        "n_units": 6,
        "percent_agreement": 0.83,
        "cohen_kappa": 0.66,
        "krippendorff_alpha": 0.71,
    }
    # A code nobody used: full agreement on its absence, no coefficient.
    nothing = {
        "n_units": 6,
        "percent_agreement": 1.0,
        "cohen_kappa": None,
        "krippendorff_alpha": None,
        "reasons": {
            "cohen_kappa": "no variation: every coder used one category for every unit",
            "krippendorff_alpha": "no variation: every coder used one category for every unit",
        },
    }
    paths = [" > ".join(path) for path in services.code_paths(cast.study).values()]
    codes = {path: (computable if "Sociale" in path else nothing) for path in paths}
    run = AgreementRun.objects.create(
        study=cast.study,
        created_by=cast.owner,
        params={"coders": ["bob", "carol"], "unit": "intervention", "bootstrap": 0},
        status=AgreementRun.Status.DONE,
        result={
            "unit": "intervention",
            "coders": ["bob", "carol"],
            "overall": {**computable, "interpretation": "tentative"},
            "codes": codes,
            "n_interventions": 1,
            "n_interventions_total": 1,
        },
        finished_at=timezone.now(),
    )
    alice = dutch(browser)
    try:
        login(alice, live_server, "alice", PASSWORD)
        alice.goto(f"{live_server.url}/s/{cast.study.slug}/agreement/{run.uuid}/")
        first = alice.locator("main section.card").first
        expect(first.locator("h2#overall-heading")).to_be_visible()
        expect(alice.locator("#codes-table tbody tr")).to_have_count(3)
        folded = alice.locator("#codes-folded")
        expect(folded.locator("summary")).to_contain_text("24 codes niet te berekenen")
        expect(folded.locator("table")).not_to_be_visible()
        height = alice.evaluate("document.documentElement.scrollHeight")
        assert height < 3000, height
        screenshot(alice, "names-agreement-report-folded")
        folded.locator("summary").click()
        expect(folded.locator("tbody tr")).to_have_count(24)
    finally:
        alice.context.close()


SENTENCES = [f"Zin {n}: het gezin krijgt hulp bij stap {n}." for n in range(1, 9)]
CONSENSUS_TEXT = " ".join(SENTENCES)


def test_a_disagreement_opened_by_its_link_stops_below_the_top_edge(
    browser: Browser, live_server: Any, cast: Cast
) -> None:
    cast.intervention.text = CONSENSUS_TEXT
    cast.intervention.save()
    sociaal = CodeFactory(study=cast.study, name="Sociale hulpbronnen")
    financieel = CodeFactory(study=cast.study, name="Financiële hulpbronnen")
    for words in SENTENCES:
        start = CONSENSUS_TEXT.index(words)
        for coder, code in ((cast.coder_a, sociaal), (cast.coder_b, financieel)):
            SegmentFactory(
                intervention=cast.intervention,
                coder=coder,
                code=code,
                start=start,
                end=start + len(words),
            )
    codebook_reveal(study=cast.study, actor=cast.owner)
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 500})
    alice = context.new_page()
    try:
        login(alice, live_server, "alice", PASSWORD)
        url = f"{live_server.url}/s/{cast.study.slug}/i/{cast.intervention.uuid}/consensus/"
        alice.goto(url)
        expect(alice.locator(".cons-disagreement")).to_have_count(8)
        anchor = alice.locator(".cons-disagreement").nth(3).get_attribute("id")
        alice.goto(f"{url}#{anchor}")
        target = alice.locator(f"#{anchor}")
        expect(target).to_be_in_viewport()
        top = target.evaluate("el => el.getBoundingClientRect().top")
        assert alice.evaluate("window.scrollY") > 0
        # Its heading shows whole, with room above it, not flush with the window's edge.
        assert top >= 40, top
        # What the window shows (a full-page screenshot would hide the scroll position).
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        alice.screenshot(path=str(SCREENSHOTS / "names-consensus-anchor.png"))
    finally:
        context.close()


def test_the_codebook_history_names_each_code_by_its_theme_where_the_name_is_shared(
    browser: Browser, live_server: Any, cast: Cast
) -> None:
    services.codebook_apply_template(study=cast.study, actor=cast.owner, template="veerkracht")
    inhoud = code_at(cast, "Sociale hulpbronnen", "Inhoud")
    page = dutch(browser)
    try:
        login(page, live_server, "alice", PASSWORD)
        page.goto(f"{live_server.url}/s/{cast.study.slug}/codebook/")
        # A code's definition changes; the owner reads the history from the codebook page.
        services.code_update(
            code=inhoud, actor=cast.owner, revision=None, definition="Wat het netwerk biedt."
        )
        page.locator(".page-head").get_by_role("link", name="Geschiedenis").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Geschiedenis van het codeboek")
        newest = page.locator("table.history tbody tr").first
        expect(newest.locator("td").nth(3)).to_have_text("Sociale hulpbronnen › Inhoud")
        codes = page.locator("table.history tbody td:nth-child(4)").all_inner_texts()
        assert "Materiële hulpbronnen › Inhoud" in codes
        assert "Inhoud" not in codes
        screenshot(page, "names-codebook-history")
    finally:
        page.context.close()
