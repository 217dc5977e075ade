"""The Content-Security-Policy holds in the browser: the main pages load, their scripts run
(htmx, the small modules) and chromium reports no violation; the behaviours moved out of
inline handlers (confirm before deleting, submit on a choice, clear a form after htmx) work.

The workspace, progress, analysis and project pages are on the list too; the progress page's
reveal form asks first under the CSP (its data-confirm, through ui.js): tested below.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Dialog, Page, expect

from coding.codebook import services
from interventions.models import Intervention
from tests.browser.conftest import login, screenshot
from tests.conftest import Cast

pytestmark = pytest.mark.django_db(transaction=True)

# Records every CSP violation the page reports, also one before the first script of ours runs.
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""


class Watch:
    """Console errors and CSP violations of one page, from the start."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(WATCH_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text}")

    def violations(self) -> list[str]:
        reported: list[str] = self.page.evaluate("window.__cspViolations || []")
        in_console = [m for m in self.console if "Content Security Policy" in m]
        return reported + in_console


def main_pages(cast: Cast) -> list[str]:
    slug = cast.study.slug
    per_study = [
        "study_detail", "intervention_list", "codebook", "codebook_versions", "codebook_history",
        "code_report", "agreement", "consensus",
        "comment_threads", "attributes", "members", "metadata_import",
        "study_progress", "analysis_search", "analysis_snapshots", "project_page",
    ]  # fmt: skip
    return [
        reverse("home"),
        *(reverse(name, args=[slug]) for name in per_study),
        reverse("intervention_detail", args=[slug, cast.intervention.uuid]),
        reverse("workspace", args=[slug, cast.intervention.uuid]),
        reverse("analysis_tables", args=[slug]) + "?table=matrix&count=interventions&layer=alice",
        reverse("password_change"),
        reverse("password_reset"),
    ]


def test_the_main_pages_load_with_no_csp_violation(
    page: Page, live_server: Any, cast: Cast
) -> None:
    theme = services.code_create(study=cast.study, actor=cast.owner, name="Sociaal")
    services.code_create(study=cast.study, actor=cast.owner, name="Doelen", parent=theme)
    watch = Watch(page)
    page.goto(f"{live_server.url}{reverse('login')}")
    assert page.evaluate("typeof htmx") == "object"  # the scripts of ours do run
    login(page, live_server, "alice", "wachtwoord-123")

    seen = []
    for path in main_pages(cast):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        seen.append(path)
        assert watch.violations() == [], f"on {path}"
    page.goto(f"{live_server.url}/admin/login/")
    page.wait_for_load_state("networkidle")
    screenshot(page, "csp-admin-login")

    page.goto(f"{live_server.url}{reverse('codebook', args=[cast.study.slug])}")
    page.wait_for_load_state("networkidle")
    screenshot(page, "csp-codebook")
    assert watch.violations() == []
    assert [m for m in watch.console if "htmx" in m.lower()] == []
    assert seen == main_pages(cast)


def test_the_language_menu_switches_on_a_choice_without_an_inline_handler(
    page: Page, live_server: Any, cast: Cast
) -> None:
    watch = Watch(page)
    login(page, live_server, "alice", "wachtwoord-123")

    with page.expect_navigation():
        page.select_option("#language-select", "nl")

    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()
    assert watch.violations() == []


def test_deleting_an_intervention_asks_first_and_cancel_keeps_it(
    page: Page, live_server: Any, cast: Cast
) -> None:
    watch = Watch(page)
    login(page, live_server, "alice", "wachtwoord-123")
    page.goto(
        f"{live_server.url}"
        f"{reverse('intervention_detail', args=[cast.study.slug, cast.intervention.uuid])}"
    )
    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Delete").click()
    page.wait_for_timeout(300)

    assert asked == ["Delete this intervention?"]
    assert Intervention.objects.filter(pk=cast.intervention.pk).exists()

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Delete").click()

    assert not Intervention.objects.filter(pk=cast.intervention.pk).exists()
    assert watch.violations() == []


def test_a_new_theme_clears_its_field_after_htmx_added_it(
    page: Page, live_server: Any, cast: Cast
) -> None:
    watch = Watch(page)
    login(page, live_server, "alice", "wachtwoord-123")
    page.goto(f"{live_server.url}{reverse('codebook', args=[cast.study.slug])}")

    page.fill("#theme-name", "Materiële hulpbronnen")
    page.get_by_role("button", name="Add theme").click()

    expect(page.locator("#code-tree")).to_contain_text("Materiële hulpbronnen")
    expect(page.locator("#theme-name")).to_have_value("")
    screenshot(page, "csp-codebook-theme-added")
    assert watch.violations() == []


def test_revealing_the_coders_segments_asks_first_under_the_csp(
    page: Page, live_server: Any, cast: Cast
) -> None:
    from coding.models import Codebook

    login(page, live_server, "alice", "wachtwoord-123")
    page.goto(f"{live_server.url}{reverse('study_progress', args=[cast.study.slug])}")
    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Reveal coders' segments").click()
    page.wait_for_timeout(300)

    assert asked == [
        "Reveal every coder’s segments to everyone in the study? This cannot be undone."
    ]
    assert not Codebook.for_study(cast.study).is_revealed
