"""The demo as a new user meets it after `make run`: logged in as student, in Dutch (the app's
default), the study page's dashboard, the agreement report, the consensus and the open
discussion are filled without setting anything up."""

from __future__ import annotations

import re
from typing import Any

from django.core.management import call_command
from playwright.sync_api import Browser, expect

from coding.models import AgreementRun
from interventions.management.commands.load_demo import DEMO_PASSWORD, DEMO_SLUG
from tests.browser.conftest import login, screenshot


def test_the_student_sees_agreement_consensus_and_the_dashboard_filled(
    browser: Browser, live_server: Any, transactional_db: Any
) -> None:
    call_command("load_demo", "--quiet-logins")
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        login(page, live_server, "student", DEMO_PASSWORD)
        base = f"{live_server.url}/s/{DEMO_SLUG}"

        run = AgreementRun.objects.get()
        alpha = f"{run.result['overall']['krippendorff_alpha']:.3f}".replace(".", ",")

        # The study page's dashboard: both raters done, the latest agreement, the
        # reconciliation under way, an open discussion, the activity of the round.
        page.goto(f"{base}/")
        dashboard = page.locator("main")
        expect(dashboard).to_contain_text(alpha)
        expect(dashboard).to_contain_text("beoordelaar")
        expect(dashboard).to_contain_text(re.compile(r"13\D+56"))
        expect(dashboard).to_contain_text("1 open discussie")
        expect(dashboard).to_contain_text("Startversie")
        screenshot(page, "demo-study")

        # From the dashboard to the finished agreement report.
        with page.expect_navigation():
            page.get_by_role("link", name="Rapport openen").click()
        assert page.url.endswith(f"/agreement/{run.uuid}/")
        report = page.locator("main")
        expect(report).to_contain_text(alpha)
        expect(report).to_contain_text("Kring van Zeven")  # a disagreement listed
        expect(report).to_contain_text("Sociale hulpbronnen")
        screenshot(page, "demo-agreement-report")

        # The consensus: two texts under way, four to do.
        page.goto(f"{base}/consensus/")
        rows = page.locator("main table").first.locator("tbody tr")
        expect(rows).to_have_count(6)
        expect(rows.filter(has_text="Kring van Zeven")).to_contain_text("7 / 11")
        expect(rows.filter(has_text="Twee Oevers")).to_contain_text("0 / 10")
        screenshot(page, "demo-consensus")

        # The open discussion, with its reply.
        page.goto(f"{base}/comments/")
        with page.expect_navigation():
            page.locator("main a", has_text="Ouders krijgen dagelijks begeleiding").click()
        expect(page.locator("main")).to_contain_text("Leg de grens vast")
        screenshot(page, "demo-discussion")
    finally:
        context.close()
