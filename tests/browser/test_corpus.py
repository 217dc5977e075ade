"""The student sets up a study as a person would; a coder can read but not change it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import docx
from playwright.sync_api import Page, expect
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from interventions.models import AttributeValue, Intervention, Study
from tests.browser.conftest import login, screenshot

FIXTURE_39 = Path(__file__).resolve().parents[1] / "fixtures" / "interventies_39.csv"


def make_docx(path: Path) -> None:
    document = docx.Document()
    document.add_heading("Doel", level=1)
    document.add_paragraph("Het gezin krijgt weer grip op het dagelijks leven en de coöperatie.")
    document.add_heading("Aanpak", level=1)
    document.add_paragraph("Eén hulpverlener komt wekelijks thuis en bespreekt ideeën.")
    document.save(str(path))


def make_pdf(path: Path) -> None:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pages = [
        [
            "Doelgroep",
            "Gezinnen met meervoudige problemen krijgen gezins-",
            "gerichte hulp aan huis.",
        ],
        ["Aanpak", "Een hulpverlener komt twee keer per week.", "Samen maken zij een plan."],
    ]
    for page_number, lines in enumerate(pages, start=1):
        pdf.drawString(72, 800, "Interventiebeschrijving – Databank")
        for index, line in enumerate(lines):
            pdf.drawString(72, 700 - 15 * index - (10 if index else 0), line)
        pdf.drawString(72, 60, f"Pagina {page_number} van 2")
        pdf.showPage()
    pdf.save()
    path.write_bytes(buffer.getvalue())


def test_the_student_builds_a_study_and_a_coder_only_reads_it(
    page: Page, live_server: Any, django_user_model: Any, tmp_path: Path, browser: Any
) -> None:
    django_user_model.objects.create_user(username="student", password="wachtwoord-123")
    django_user_model.objects.create_user(username="bob", password="wachtwoord-123")
    login(page, live_server, "student", "wachtwoord-123")

    page.get_by_role("link", name="New study").click()
    page.locator("#id_name").fill("Scriptie gezinsinterventies")
    page.get_by_label("Start from").select_option("veerkracht")
    page.get_by_role("button", name="Create study").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Scriptie gezinsinterventies")
    study = Study.objects.get(name="Scriptie gezinsinterventies")
    assert study.attributes.count() == 8

    # Two texts at once: a Word file and a PDF with running headers and a hyphenated word.
    make_docx(tmp_path / "Gezin Vooruit.docx")
    make_pdf(tmp_path / "Thuis Sterk.pdf")
    page.get_by_role("link", name="Upload texts").first.click()
    page.get_by_label("Files").set_input_files(
        [str(tmp_path / "Gezin Vooruit.docx"), str(tmp_path / "Thuis Sterk.pdf")]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("2 added, 0 updated")).to_be_visible()
    pdf_text = Intervention.objects.get(title="Thuis Sterk").text
    assert "gezinsgerichte hulp" in pdf_text
    assert "Pagina 1 van 2" not in pdf_text
    assert "Databank" not in pdf_text
    assert "coöperatie" in Intervention.objects.get(title="Gezin Vooruit").text

    # The 39 interventions' properties: semicolons, Windows-1252, Dutch headers.
    page.get_by_role("link", name="Import properties").first.click()
    page.get_by_label("Metadata file").set_input_files(str(FIXTURE_39))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("39 new, 0 changed, 0 unchanged, 0 with errors.")).to_be_visible()
    assert Intervention.objects.filter(study=study).count() == 2  # a preview changes nothing
    screenshot(page, "corpus-import-preview")
    page.get_by_role("button", name="Confirm import").click()
    expect(page.get_by_text("Import finished: 39 added, 0 updated, 0 unchanged.")).to_be_visible()
    page.get_by_role("link", name="See the interventions").click()

    setting = study.attributes.get(name="Setting")
    at_home = AttributeValue.objects.filter(definition=setting, value="Thuis").count()
    assert at_home > 0
    page.get_by_label("Setting").select_option("Thuis")
    expect(page.get_by_text(f"{at_home} of 41 interventions shown")).to_be_visible()
    rows = page.locator("#intervention-table tbody tr")
    expect(rows).to_have_count(at_home)
    expect(page.get_by_role("cell", name="Coöperatief Opvoeden")).to_have_count(
        1
        if AttributeValue.objects.filter(
            definition=setting, value="Thuis", intervention__title="Coöperatief Opvoeden"
        ).exists()
        else 0
    )
    screenshot(page, "corpus-filtered-list")

    # The student adds the second rater by username.
    page.get_by_role("link", name="Members").first.click()
    page.get_by_label("Username").fill("bob")
    page.locator("#id_role").select_option("coder")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#member-table")).to_contain_text("bob")

    # The coder sees the study and its properties, but has no way to change them.
    coder_context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    coder = coder_context.new_page()
    login(coder, live_server, "bob", "wachtwoord-123")
    coder.get_by_role("link", name="Scriptie gezinsinterventies").click()
    coder.locator(".studybar").get_by_role("link", name="Corpus").click()
    expect(
        coder.locator(".substeps").get_by_role("link", name="Interventions", exact=True)
    ).to_have_attribute("aria-current", "page")
    coder.get_by_role("link", name="Gezin Vooruit").click()
    expect(coder.locator("#attributes")).to_be_visible()
    expect(coder.get_by_role("button", name="Save properties")).to_have_count(0)
    expect(coder.get_by_role("link", name="Import properties")).to_have_count(0)
    screenshot(coder, "corpus-coder-view")
    intervention = Intervention.objects.get(title="Gezin Vooruit")
    status = coder.evaluate(
        """async ([url, field]) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const body = new URLSearchParams({[field]: "Zorginstelling"});
            const response = await fetch(url, {method: "POST", body,
                headers: {"X-CSRFToken": token}});
            return response.status;
        }""",
        [
            f"/s/{study.slug}/i/{intervention.uuid}/attributes/",
            f"a{setting.pk}",
        ],
    )
    assert status == 403
    assert not AttributeValue.objects.filter(intervention=intervention).exists()
    coder_context.close()
