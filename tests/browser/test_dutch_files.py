"""The owner imports a Dutch sheet after seeing how its columns are read, and fixes sections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from interventions import services
from interventions.models import AttributeValue
from tests.browser.conftest import login, screenshot
from tests.conftest import Cast

PASSWORD = "wachtwoord-123"  # tests.factories.UserFactory's

SHEET = (
    "sep=;\r\nOverzicht interventies 2023;;;\r\n\r\n"
    "Interventie;Deelnemers;Startdatum;Bereik\r\n"
    "Vaste Grond;1.250;15-09-2023;12,5 %\r\n"
    "Twee Oevers;2.000;01-02-2024;7 %\r\n"
)


def test_the_owner_sees_how_each_column_is_read_before_importing(
    page: Page, live_server: Any, cast: Cast, tmp_path: Path
) -> None:
    services.attribute_define(study=cast.study, name="Deelnemers", kind="number")
    services.attribute_define(study=cast.study, name="Startdatum", kind="date")
    sheet = tmp_path / "interventies.csv"
    sheet.write_bytes(SHEET.encode("utf-8-sig"))
    login(page, live_server, "alice", PASSWORD)

    page.goto(f"{live_server.url}/s/{cast.study.slug}/")
    page.get_by_role("link", name="Import properties").click()
    page.get_by_label("Metadata file").set_input_files(str(sheet))
    page.get_by_role("button", name="Preview").click()

    readings = page.locator("#column-readings")
    expect(readings).to_contain_text("How the columns will be read")
    deelnemers = readings.locator("tr[data-column='B']")
    expect(deelnemers).to_contain_text("number")
    expect(deelnemers).to_contain_text("1.250 → 1250")
    expect(deelnemers).to_contain_text("Row 5: “1.250” read as 1250, not 1,25")
    expect(readings.locator("tr[data-column='C']")).to_contain_text("date")
    expect(readings.locator("tr[data-column='D']")).to_contain_text("new property “Bereik”")
    expect(page.get_by_text("Skipped above the header (row 4): Overzicht interventies 2023."))
    assert not AttributeValue.objects.exists()
    screenshot(page, "import-preview-columns")

    page.get_by_role("button", name="Confirm import").click()
    expect(page.get_by_text("Import finished: 2 added")).to_be_visible()
    stored = dict(
        AttributeValue.objects.filter(intervention__title="Vaste Grond").values_list(
            "definition__name", "value"
        )
    )
    assert stored == {"Deelnemers": "1250", "Startdatum": "2023-09-15", "Bereik": "12,5 %"}


def test_the_owner_splits_renames_and_merges_sections_on_the_page(
    page: Page, live_server: Any, cast: Cast
) -> None:
    text = (
        "Samenvatting\nEen korte samenvatting van de aanpak.\n\n"
        "Doelgroep\nGezinnen met jonge kinderen\n"
        "De coach komt wekelijks langs bij het gezin thuis.\n\n"
        "Aanpak\nOuders oefenen thuis met nieuwe vaardigheden."
    )
    intervention = services.intervention_create(
        study=cast.study, title="Stevig Ouderschap", text=text
    )
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/s/{cast.study.slug}/i/{intervention.uuid}/")
    sections = page.locator("#sections")

    def item(name: str) -> Any:
        return sections.locator("li").filter(has=page.locator(".section-name", has_text=name))

    item("Doelgroep").get_by_text("Fix “Doelgroep”").click()
    item("Doelgroep").get_by_label("Start a new section at").select_option(
        label="De coach komt wekelijks langs bij het gezin thuis."
    )
    item("Doelgroep").get_by_role("button", name="Split").click()
    expect(page.get_by_text("Section split.")).to_be_visible()

    new = item("De coach komt wekelijks")
    new.get_by_text("Fix “De coach komt wekelijks").click()
    new.get_by_label("Heading").fill("Werkwijze")
    new.get_by_role("button", name="Rename").click()
    expect(page.get_by_text("Section renamed.")).to_be_visible()
    expect(sections.locator(".section-name")).to_have_text(
        ["Samenvatting", "Doelgroep", "Werkwijze", "Aanpak"]
    )
    item("Werkwijze").get_by_text("Fix “Werkwijze”").click()
    screenshot(page, "sections-fixed")

    item("Werkwijze").get_by_role("button", name="Merge with the next section").click()
    expect(page.get_by_text("Sections merged.")).to_be_visible()
    expect(sections.locator(".section-name")).to_have_text(
        ["Samenvatting", "Doelgroep", "Werkwijze"]
    )
    intervention.refresh_from_db()
    assert intervention.text == text
