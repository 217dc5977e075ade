"""The owner brings in an NVivo project, maps a user to a coder, and takes the study out again."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from coding.models import Segment
from interventions.models import Membership, Role, Study
from tests.browser.conftest import login, screenshot

QDPX = Path(__file__).resolve().parents[1] / "fixtures" / "qdpx" / "nvivo.qdpx"


def test_the_owner_imports_a_project_after_a_preview_and_exports_the_study(
    page: Page, live_server: Any, django_user_model: Any
) -> None:
    owner = django_user_model.objects.create_user(username="student", password="wachtwoord-123")
    carol = django_user_model.objects.create_user(username="carol", password="wachtwoord-123")
    study = Study.objects.create(name="Scriptie gezinsinterventies", slug="scriptie")
    Membership.objects.create(study=study, user=owner, role=Role.OWNER)
    Membership.objects.create(study=study, user=carol, role=Role.CODER)
    login(page, live_server, "student", "wachtwoord-123")

    page.goto(f"{live_server.url}/s/scriptie/")
    page.get_by_role("link", name="REFI-QDA project").click()
    page.get_by_label("REFI-QDA project (.qdpx)").set_input_files(str(QDPX))
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="What will be imported")).to_be_visible()
    expect(
        page.get_by_text("Coded selections: 7; 4 become segments, 3 are refused")
    ).to_be_visible()
    expect(page.get_by_text("an empty or reversed selection (5–5)")).to_be_visible()
    expect(page.get_by_text("Skipped text: “Genogram” (picture)")).to_be_visible()
    # Nothing is stored before the owner confirms.
    assert not Segment.objects.exists()
    page.get_by_label("Layer for Carla").select_option("carol")
    screenshot(page, "project-import-preview")
    page.get_by_role("button", name="Confirm import").click()

    status = page.locator("#import-status")
    expect(status).to_contain_text("4 of 7 coded selections imported as segments, 3 refused")
    expect(status).to_contain_text("“Carla” → carol: 2 segments")
    expect(status).to_contain_text("“Dirk” → dirk: 2 segments")
    page.get_by_text("3 refused selections").click()
    expect(status).to_contain_text("its code {00000000-0000-4000-8000-00000000DEAD} is not")
    screenshot(page, "project-import-done")
    assert Segment.objects.filter(coder=carol).count() == 2

    # A new study codes blind: the owner reveals the coders' layers, then exports all of them.
    page.goto(f"{live_server.url}/s/scriptie/progress/")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Reveal coders' segments").click()
    page.goto(f"{live_server.url}/s/scriptie/project/")
    page.get_by_role("button", name="Export as .qdpx").click()
    download_link = page.get_by_role("link", name="Download scriptie.qdpx")
    expect(download_link).to_be_visible()
    screenshot(page, "project-export-ready")
    with page.expect_download() as download_info:
        download_link.click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    qde = archive.read("project.qde").decode()
    assert 'name="carol"' in qde
    assert "Gezin Centraal (NVivo)" in qde
