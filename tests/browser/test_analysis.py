"""Analysis in chromium: the owner filters a table by a property, opens a matrix cell's
segments, searches a word, auto-codes three of its five hits and downloads a figure."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from coding.codebook import services
from coding.models import Segment
from interventions.models import Intervention
from tests.browser.conftest import login, screenshot
from tests.coding.analysis.conftest import at
from tests.conftest import Cast
from tests.factories import AttributeDefinitionFactory, AttributeValueFactory

PASSWORD = "wachtwoord-123"  # tests.factories.UserFactory's

TEXTS = {
    "Sterke gezinnen": (
        "Aanpak\nDe veerkracht van ouders groeit door steun van buren. "
        "Veerkracht is hier het doel.\n\nOuders leren samen koken.\n"
    ),
    "Buurtnetwerk": "Aanpak\nHet netwerk versterkt de veerkracht van kinderen.\n",
    "Thuis sterk": "Aanpak\nWerken aan veerkracht thuis. Ook veerkracht op school.\n",
}


def test_tables_search_and_auto_coding(page: Page, live_server: Any, cast: Cast) -> None:
    owner = cast.owner
    sociaal = services.code_create(study=cast.study, actor=owner, name="Sociale hulpbronnen")
    doelen = services.code_create(study=cast.study, actor=owner, name="Doelen", parent=sociaal)
    veerkracht = services.code_create(study=cast.study, actor=owner, name="Veerkracht")
    setting: Any = AttributeDefinitionFactory(study=cast.study, name="Setting")
    docs: dict[str, Intervention] = {}
    for (title, text), value in zip(TEXTS.items(), ["Thuis", "Buurt", "Thuis"], strict=True):
        docs[title] = Intervention.objects.create(study=cast.study, title=title, text=text)
        AttributeValueFactory(intervention=docs[title], definition=setting, value=value)
    first = docs["Sterke gezinnen"]
    start = first.text.index("steun van buren")
    at(first, owner, doelen, start, start + len("steun van buren"))
    at(docs["Thuis sterk"], owner, doelen, 7, 24)

    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/s/{cast.study.slug}/")
    # The study bar's "Reporting" step opens the analysis.
    page.locator(".studybar").get_by_role("link", name="Reporting").click()
    expect(page.locator(".substeps").get_by_role("link", name="Analysis")).to_have_attribute(
        "aria-current", "page"
    )

    # Codes × interventions, counting segments, only the interventions set "Thuis".
    page.select_option("#id_table", "matrix")
    page.select_option("#id_count", "segments")
    page.select_option("#id_layer", "alice")
    page.select_option(f"#id_a{setting.pk}", "Thuis")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    table = page.locator("table.analysis-table")
    expect(table.locator("thead th")).to_have_text(
        ["Code", "Sterke gezinnen", "Thuis sterk", "Total"]
    )
    expect(page.get_by_test_id("analysis-about")).to_contain_text("Setting: Thuis")
    theme = table.locator("tbody tr").filter(has_text="Sociale hulpbronnen")
    expect(theme.locator("td.num")).to_have_text(["1", "1", "2"])
    figure = page.locator(".analysis-figure img")
    expect(figure).to_be_visible()
    page.wait_for_function("document.querySelector('.analysis-figure img').naturalWidth > 0")
    box = figure.bounding_box()
    assert box is not None
    assert box["height"] > 200
    screenshot(page, "analysis-matrix")

    # A theme folds its subcodes away.
    theme.get_by_role("button").click()
    expect(table.locator("tbody tr").filter(has_text="Doelen")).to_be_hidden()
    theme.get_by_role("button").click()

    # The figure downloads as PNG.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PNG (300 dpi)").click()
    assert download.value.suggested_filename == "gezin-matrix-alice.png"

    # A cell opens its segments in the code report.
    with page.expect_navigation():
        theme.locator("td.num a").first.click()
    expect(page.locator(".report-table mark")).to_have_text(["steun van buren"])

    # Search a word across the corpus: five hits in three of the four interventions.
    page.get_by_role("link", name="Text search").click()
    page.fill("#id_q", "veerkracht")
    with page.expect_navigation():
        page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("search-summary")).to_contain_text(
        "5 hits in 3 of the 4 interventions"
    )
    rows = page.locator(".kwic-row")
    expect(rows).to_have_count(5)
    screenshot(page, "analysis-search")

    # Auto-code three of them, each as its sentence, after a preview.
    for index in (0, 2, 4):
        rows.nth(index).locator("input[type=checkbox]").check()
    page.select_option("#autocode-code", label="Veerkracht")
    page.select_option("#autocode-unit", "sentence")
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()
    expect(page.locator(".autocode-preview li")).to_have_count(3)
    screenshot(page, "analysis-autocode-preview")
    assert not Segment.objects.filter(code=veerkracht).exists()
    with page.expect_navigation():
        page.get_by_role("button", name="Code these passages").click()
    expect(page.locator(".message.success")).to_contain_text("Coded 3 passages")
    quotes = sorted(Segment.objects.filter(code=veerkracht).values_list("quote", flat=True))
    assert len(quotes) == 3
    assert all("veerkracht" in quote.casefold() for quote in quotes)
    screenshot(page, "analysis-autocoded")

    # And the whole action can be undone.
    with page.expect_navigation():
        page.get_by_role("button", name="Undo").click()
    expect(page.locator(".message.success")).to_contain_text("3 segments deleted")
    assert not Segment.objects.filter(code=veerkracht).exists()
