"""Inter-rater agreement in chromium: the owner sets up double coding, a second rater finishes
the assigned interventions, the owner starts a run and watches its progress bar, the report
shows per-code values, and a disagreement opens both coders' segments in the workspace."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from coding.agreement.runs import agreement_run_start
from coding.codebook import services
from coding.models import AgreementRun, Code, InterventionProgress, Segment
from coding.tasks import run_agreement
from interventions.models import Intervention
from tests.browser.conftest import login, screenshot
from tests.conftest import Cast
from veerkracht.celery import app as celery_app

PASSWORD = "wachtwoord-123"  # tests.factories.UserFactory's
TEXT = (
    "Doel\n"
    "Ouders leren hun kind beter begrijpen. Het gezin krijgt hulp bij geldzaken.\n"
    "\n"
    "Aanpak\n"
    "Wekelijkse huisbezoeken door een gezinscoach.\n"
)
BEGRIJPEN = "Ouders leren hun kind beter begrijpen."
GELD = "Het gezin krijgt hulp bij geldzaken."
BEZOEK = "Wekelijkse huisbezoeken door een gezinscoach."

# Records every progress value and status the run's row shows, as htmx swaps it.
WATCH_PROGRESS = """(uuid) => {
  window.__seen = [];
  const cell = document.getElementById("run-status-" + uuid).parentElement;
  const note = () => {
    const status = document.getElementById("run-status-" + uuid);
    if (!status) return;
    const bar = status.querySelector("progress");
    const tag = status.querySelector(".tag").textContent.trim();
    window.__seen.push(bar ? "progress:" + bar.getAttribute("value") : "tag:" + tag);
  };
  note();
  new MutationObserver(note).observe(cell, { childList: true, subtree: true });
}"""


def code(item: Intervention, coder: Any, tag: Code, quote: str) -> Segment:
    start = item.text.index(quote)
    return Segment.objects.create(
        intervention=item, coder=coder, code=tag, start=start, end=start + len(quote), quote=quote
    )


@pytest.fixture
def study(cast: Cast) -> dict[str, Any]:
    """Carol coded and finished everything; bob coded his first two texts so far."""
    make = services.code_create
    sociaal = make(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    doelen = make(study=cast.study, actor=cast.owner, name="Doelen", parent=sociaal)
    inhoud = make(study=cast.study, actor=cast.owner, name="Inhoud", parent=sociaal)
    materieel = make(study=cast.study, actor=cast.owner, name="Materiële hulpbronnen")
    texts = [
        Intervention.objects.create(study=cast.study, title=title, text=TEXT)
        for title in ("Alleen Ouder", "Basta", "Coach Thuis")
    ]
    a, b, c = texts
    carol, bob = cast.coder_a, cast.coder_b
    code(a, carol, doelen, BEGRIJPEN)
    code(a, carol, materieel, GELD)
    code(b, carol, doelen, BEGRIJPEN)
    code(b, carol, inhoud, BEZOEK)
    code(c, carol, inhoud, BEZOEK)
    for item in [*texts, cast.intervention]:
        InterventionProgress.objects.create(intervention=item, coder=carol)
    code(a, bob, doelen, BEGRIJPEN)
    code(a, bob, materieel, GELD)
    disputed = code(b, bob, inhoud, BEGRIJPEN)
    code(b, bob, inhoud, BEZOEK)
    return {"texts": texts, "doelen": doelen, "inhoud": inhoud, "disputed": disputed}


@contextmanager
def queued_tasks(settings: Any) -> Iterator[None]:
    """Tasks go to the (in-memory) broker instead of running at once, as with a real worker.

    Celery read its settings once already, so its own configuration is switched too.
    """
    eager = celery_app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = False
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = eager


def second_page(browser: Browser) -> Page:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    return context.new_page()


def assign_through_the_form(page: Page, coder: str, titles: list[str] | None) -> None:
    page.select_option("select[name='coder']", coder)
    if titles is None:
        page.check("input[name='method'][value='all']")
    else:
        page.check("input[name='method'][value='list']")
        for title in titles:
            page.get_by_label(title, exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"assigned to {coder}")


def test_a_second_rater_finishes_and_the_owner_runs_and_reads_agreement(
    browser: Browser,
    page: Page,
    live_server: Any,
    cast: Cast,
    study: dict[str, Any],
    settings: Any,
) -> None:
    base = f"{live_server.url}/s/{cast.study.slug}"
    titles = [t.title for t in study["texts"]]

    # The owner sets up double coding: everything for carol, three texts for bob.
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{base}/agreement/assignments/")
    # Only the chosen way of picking shows its fields.
    expect(page.locator(".method-sample")).to_be_visible()
    expect(page.locator(".method-list")).to_be_hidden()
    assign_through_the_form(page, "carol", None)
    assign_through_the_form(page, "bob", titles)
    expect(page.locator("#coder-bob .assigned-list li")).to_have_count(3)
    expect(page.locator(".double-coded")).to_contain_text("3 of 4 interventions")
    screenshot(page, "agreement-setup")

    # A first run on bob's coding so far, for the chart's history.
    earlier = agreement_run_start(study=cast.study, actor=cast.owner, coders=["bob", "carol"])
    earlier.refresh_from_db()
    assert earlier.status == AgreementRun.Status.DONE

    # Bob finishes his third text and marks each assigned text done in the workspace.
    c = study["texts"][2]
    code(c, cast.coder_b, study["doelen"], BEZOEK)
    bob = second_page(browser)
    login(bob, live_server, "bob", PASSWORD)
    bob.goto(f"{base}/")
    # The study page's guide has a step for his coding that leads to his texts.
    his_step = bob.locator(".guide-step", has_text="Finish your assigned interventions")
    expect(his_step).to_contain_text("Not done yet")
    his_step.get_by_role("link", name="Your assigned interventions").click()
    expect(bob.locator("h1")).to_have_text("Your assigned interventions")
    expect(bob.locator(".my-assignments li")).to_have_count(3)
    expect(bob.locator(".my-assignments")).not_to_contain_text("Gezin Centraal")  # carol's only
    screenshot(bob, "agreement-mine")
    for title in titles:
        bob.get_by_role("link", name=title, exact=True).click()
        expect(bob.locator("h1")).to_have_text(title)
        bob.locator("#ws-progress").get_by_role("button", name="Mark as done").click()
        expect(bob.locator("#ws-progress .tag")).to_have_text("Done")
        bob.goto(f"{base}/agreement/mine/")
    expect(bob.locator(".lead")).to_contain_text("3 of 3 interventions marked done")
    bob.context.close()
    assert InterventionProgress.objects.filter(coder=cast.coder_b).count() == 3

    # The owner starts a run; a worker (here: this test) takes it from the queue.
    settings.JOB_TEST_PAUSE = 2
    page.goto(f"{base}/agreement/")
    expect(page.locator("#run-" + str(earlier.uuid))).to_contain_text("coding changed since")
    expect(page.locator(".overlap-field")).to_be_hidden()
    page.select_option("select[name='unit']", "segment")
    expect(page.locator(".overlap-field")).to_be_visible()
    page.select_option("select[name='unit']", "intervention")
    expect(page.get_by_label("bob", exact=True)).to_be_checked()
    expect(page.get_by_label("carol", exact=True)).to_be_checked()
    page.fill("input[name='bootstrap']", "500")
    page.fill("input[name='seed']", "12")
    with queued_tasks(settings):
        with page.expect_navigation():
            page.get_by_role("button", name="Start the run").click()
        run = AgreementRun.objects.exclude(pk=earlier.pk).get()
        assert run.status == AgreementRun.Status.QUEUED
        status = page.locator(f"#run-status-{run.uuid}")
        expect(status.locator("progress")).to_have_attribute("value", "0")
        page.evaluate(WATCH_PROGRESS, str(run.uuid))
        run_agreement.apply(args=[run.pk])
    expect(status.get_by_role("link", name="Open the report")).to_be_visible(timeout=10_000)
    seen = page.evaluate("window.__seen")
    assert seen[0] == "progress:0"
    assert "progress:10" in seen, seen  # the bar moved while the worker computed
    assert seen[-1] == "tag:done"
    run.refresh_from_db()
    alpha = run.result["overall"]["krippendorff_alpha"]
    expect(page.locator(f"#run-alpha-{run.uuid}")).to_contain_text(f"{alpha:.3f}")
    expect(page.locator(".alpha-chart .chart-point")).to_have_count(2)
    expect(page.locator(".alpha-chart polyline")).to_have_count(1)
    screenshot(page, "agreement-runs")

    # The report: per-code values, sortable by clicking or with the keyboard.
    status.get_by_role("link", name="Open the report").click()
    expect(page.locator("h1")).to_have_text("Agreement report")
    codes = page.locator("#codes-table")
    doelen = codes.locator("tbody tr", has_text="Sociale hulpbronnen › Doelen")
    expected = run.result["codes"]["Sociale hulpbronnen > Doelen"]
    expect(doelen).to_contain_text(f"{100 * expected['percent_agreement']:.1f}%")
    expect(doelen.locator("td").nth(4)).to_have_text(
        re.compile(re.escape(f"{expected['krippendorff_alpha']:.3f}"))
    )
    alpha_header = codes.locator("thead th").nth(5)
    alpha_header.get_by_role("button").click()
    expect(alpha_header).to_have_attribute("aria-sort", "ascending")
    values = [
        float(v) if v else None
        for v in codes.locator("tbody tr td:nth-of-type(5)").evaluate_all(
            "cells => cells.map(c => c.dataset.sort)"
        )
    ]
    defined = [v for v in values if v is not None]
    assert defined == sorted(defined)
    assert values[: len(defined)] == defined  # "not computable" sorts last
    alpha_header.get_by_role("button").focus()
    page.keyboard.press("Enter")
    expect(alpha_header).to_have_attribute("aria-sort", "descending")
    screenshot(page, "agreement-report")

    # A disagreement opens both coders' segments in the workspace.
    disputed = study["disputed"]
    # Bob's segment is in two entries: as his unmatched one, and as carol's nearest.
    item = page.locator(
        ".disagreement", has=page.locator(f"a[href*='segment={disputed.uuid}']")
    ).first
    links = item.locator(".dis-quote a")
    expect(links).to_have_count(2)
    hrefs = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    anchors = [href.rsplit("#", 1)[1] for href in hrefs]
    assert f"seg-{disputed.uuid}" in anchors
    item.locator(".dis-quote a").first.click()
    expect(page.locator("#ws-text")).to_be_visible()
    for anchor in anchors:
        expect(page.locator(f"#{anchor}")).to_be_visible()
    expect(page.locator(f"#{anchors[0]}")).to_be_in_viewport()
    screenshot(page, "agreement-disagreement-workspace")

    # The study page shows the chart to the owner.
    page.goto(f"{base}/")
    expect(page.locator(".agreement-card .alpha-chart svg")).to_be_visible()
    page.locator(".agreement-card").screenshot(
        path=str(screenshot(page, "agreement-study").with_name("agreement-chart.png"))
    )
