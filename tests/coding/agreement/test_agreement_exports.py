"""An agreement run's files: the XLSX and CSV tables and the DOCX method paragraph."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterator
from typing import Any

import docx
import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from coding.agreement import exports as ex
from coding.agreement.assignments import assignment_create
from coding.agreement.runs import agreement_run_start
from coding.codebook import services
from coding.models import AgreementRun, Segment
from interventions.models import Intervention
from tests.conftest import Cast

NO_VARIATION = "no variation: every coder used one category for every unit"
RESULT: dict[str, Any] = {
    "unit": "intervention",
    "coders": ["bob", "carol"],
    "n_interventions": 12,
    "n_interventions_total": 39,
    "overall": {
        "n_units": 96,
        "percent_agreement": 0.88234,
        "cohen_kappa": 0.7312,
        "fleiss_kappa": None,
        "krippendorff_alpha": 0.7434,
        "alpha_ci95": [0.6121, 0.8514],
        "p_below_0667": 0.12,
        "p_below_0800": 0.81,
        "reasons": {"fleiss_kappa": "Fleiss' kappa is for three or more coders"},
        "interpretation": "tentative conclusions only",
    },
    "codes": {
        "Sociaal": {
            "n_units": 12,
            "percent_agreement": 0.9,
            "cohen_kappa": 0.8,
            "fleiss_kappa": None,
            "krippendorff_alpha": 0.81,
            "alpha_ci95": [0.7, 0.9],
            "p_below_0667": 0.01,
            "p_below_0800": 0.4,
            "reasons": {"fleiss_kappa": "Fleiss' kappa is for three or more coders"},
            "interpretation": "reliable",
        },
        "=Materieel": {
            "n_units": 12,
            "percent_agreement": 1.0,
            "cohen_kappa": None,
            "fleiss_kappa": None,
            "krippendorff_alpha": None,
            "alpha_ci95": None,
            "reasons": {
                "cohen_kappa": NO_VARIATION,
                "fleiss_kappa": "Fleiss' kappa is for three or more coders",
                "krippendorff_alpha": NO_VARIATION,
            },
            "interpretation": "not computable",
        },
    },
    "families": {
        "Sociaal": {
            "n_units": 12,
            "percent_agreement": 0.75,
            "cohen_kappa": 0.5,
            "fleiss_kappa": None,
            "krippendorff_alpha": 0.49,
            "alpha_ci95": [0.2, 0.7],
            "p_below_0667": 0.9,
            "p_below_0800": 1.0,
            "reasons": {},
            "interpretation": "not acceptable",
        }
    },
}
INFO = ex.RunInfo(
    date=datetime.date(2025, 3, 3),
    coders=[("alice", "owner"), ("bob", "coder")],
    bootstrap=1000,
    seed=42,
    overlap=0.9,
    codebook_version=(3, "Na kalibratie"),
)


@pytest.fixture(autouse=True)
def _no_language_left_behind() -> Iterator[None]:
    """A request in Dutch leaves Dutch active in this thread; the next test must not see it."""
    yield
    translation.deactivate()


# The table ---------------------------------------------------------------------------------


def test_the_table_has_a_row_per_scope_with_every_measure() -> None:
    headers, rows = ex.table(RESULT)
    assert headers == ex.TABLE_HEADERS
    assert [(r[0], r[1]) for r in rows] == [
        ("overall", ""),
        ("code", "Sociaal"),
        ("code", "=Materieel"),
        ("family", "Sociaal"),
    ]
    overall = dict(zip(headers, rows[0], strict=True))
    assert overall["n_units"] == 96
    assert overall["percent_agreement"] == pytest.approx(0.88234)
    assert overall["cohen_kappa"] == pytest.approx(0.7312)
    assert overall["krippendorff_alpha"] == pytest.approx(0.7434)
    assert overall["alpha_ci95_low"] == pytest.approx(0.6121)
    assert overall["alpha_ci95_high"] == pytest.approx(0.8514)
    assert overall["p_alpha_below_0667"] == pytest.approx(0.12)
    assert overall["p_alpha_below_0800"] == pytest.approx(0.81)
    assert overall["fleiss_kappa"] is None
    assert "fleiss_kappa: Fleiss' kappa is for three or more coders" in overall["not_computable"]


def test_an_undefined_value_is_an_empty_cell_with_its_reason_never_0_or_1() -> None:
    headers, rows = ex.table(RESULT)
    materieel = dict(zip(headers, rows[2], strict=True))
    assert materieel["krippendorff_alpha"] is None
    assert materieel["cohen_kappa"] is None
    assert materieel["alpha_ci95_low"] is None
    assert f"krippendorff_alpha: {NO_VARIATION}" in materieel["not_computable"]
    assert "alpha_ci95: alpha is not computable" in materieel["not_computable"]


def test_the_csv_has_the_columns_and_values_and_keeps_formulas_out() -> None:
    text = ex.export_table(RESULT, "csv").decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ex.TABLE_HEADERS
    by_code = {(r[0], r[1]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    overall = by_code[("overall", "")]
    assert float(overall["krippendorff_alpha"]) == pytest.approx(0.7434)
    assert float(overall["alpha_ci95_low"]) == pytest.approx(0.6121)
    assert overall["fleiss_kappa"] == ""
    # A code name a spreadsheet would run as a formula is quoted.
    materieel = by_code[("code", "'=Materieel")]
    assert materieel["krippendorff_alpha"] == ""
    assert float(materieel["percent_agreement"]) == 1.0


def test_the_xlsx_has_the_table_and_a_sheet_about_the_run() -> None:
    book = openpyxl.load_workbook(io.BytesIO(ex.export_table(RESULT, "xlsx", INFO)))
    assert book.sheetnames == ["Agreement", "Run"]
    sheet = book["Agreement"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == ex.TABLE_HEADERS
    family = dict(zip(rows[0], rows[4], strict=True))
    assert family["scope"] == "family"
    assert family["krippendorff_alpha"] == pytest.approx(0.49)
    assert family["interpretation"] == "not acceptable"
    materieel = dict(zip(rows[0], rows[3], strict=True))
    assert materieel["code"] == "'=Materieel"  # escaped as in CSV, and text, not a formula
    assert sheet.cell(row=4, column=2).data_type == "s"
    assert materieel["krippendorff_alpha"] is None
    about = dict(book["Run"].iter_rows(values_only=True))
    assert about["bootstrap samples"] == 1000
    assert about["seed"] == 42
    assert about["codebook version"] == "v3 Na kalibratie"
    assert about["interventions compared"] == 12


def test_the_segment_unit_names_why_alpha_is_missing() -> None:
    result = {
        "unit": "segment",
        "coders": ["bob", "carol"],
        "overall": {
            "n_units": 10,
            "percent_agreement": 0.6,
            "cohen_kappa": None,
            "fleiss_kappa": None,
            "krippendorff_alpha": None,
            "alpha_ci95": None,
            "brennan_prediger_kappa": 0.55,
            "reasons": {},
        },
        "codes": {},
        "families": {},
    }
    headers, rows = ex.table(result)
    overall = dict(zip(headers, rows[0], strict=True))
    assert overall["brennan_prediger_kappa"] == pytest.approx(0.55)
    assert f"krippendorff_alpha: {ex.NOT_FOR_SEGMENTS}" in overall["not_computable"]
    # Stored under "bp" by the backend, read under its full name.
    assert ex.reason_for({"reasons": {"bp": "x"}}, "brennan_prediger_kappa", "segment") == "x"


# The method paragraph ----------------------------------------------------------------------


def test_the_english_paragraph_names_sample_unit_measures_interval_date_and_version() -> None:
    text = ex.method_paragraph(RESULT, INFO, "en")
    assert "two coders independently coded 12 of the 39 interventions (30.8%)" in text
    assert "alice (researcher) and bob (second rater)" in text
    assert "per intervention and code" in text
    assert "Krippendorff's alpha (nominal) was α = .743" in text
    assert "95% CI [.612, .851] (1,000 bootstrap samples)" in text
    assert (
        "Percent agreement (Krippendorff's observed agreement over pairable values) was 88.2%"
        in text
    )
    assert "Cohen's kappa was κ = .731" in text
    assert "Fleiss" not in text  # not defined for two coders
    assert "allows tentative conclusions only" in text
    assert "3 March 2025" in text
    assert "version 3 of the codebook (‘Na kalibratie’)" in text


def test_the_dutch_paragraph_uses_dutch_words_and_decimal_commas() -> None:
    text = ex.method_paragraph(RESULT, INFO, "nl")
    assert (
        "codeerden twee beoordelaars onafhankelijk van elkaar 12 van de 39 interventies (30,8%)"
        in text
    )
    assert "alice (onderzoeker) en bob (tweede beoordelaar)" in text
    assert "Krippendorffs alfa (nominaal) α = ,743" in text
    assert "95%-BI [,612; ,851] (1.000 bootstrapsteekproeven)" in text
    assert "88,2%" in text
    assert "Cohens kappa κ = ,731" in text
    assert "3 maart 2025" in text
    assert "versie 3 van het codeboek (‘Na kalibratie’)" in text


def test_the_paragraph_says_when_there_is_no_named_version_or_alpha() -> None:
    info = ex.RunInfo(
        date=datetime.date(2025, 1, 9),
        coders=[("bob", "coder"), ("carol", "coder"), ("dirk", "coder")],
        bootstrap=0,
        seed=None,
        overlap=0.9,
        codebook_version=None,
    )
    result = {**RESULT, "overall": RESULT["codes"]["=Materieel"]}
    text = ex.method_paragraph(result, info, "en")
    assert "no named version" in text
    assert "three coders" in text
    assert "bob (rater), carol (rater), and dirk (rater)" in text
    assert f"Krippendorff's alpha could not be computed over all codes ({NO_VARIATION})" in text
    assert "α =" not in text
    assert "CI" not in text
    nl = ex.method_paragraph(result, info, "nl")
    assert "geen benoemde versie" in nl
    assert "er was geen variatie" in nl


def test_coefficients_are_written_apa_style() -> None:
    assert ex.coefficient(0.7434, "en") == ".743"
    assert ex.coefficient(-0.12, "en") == "\u2212.120"
    assert ex.coefficient(1.0, "en") == "1.000"
    assert ex.coefficient(0.0, "nl") == ",000"
    assert ex.whole(10000, "nl") == "10.000"


def test_the_docx_holds_the_paragraph_and_the_per_code_table() -> None:
    document = docx.Document(io.BytesIO(ex.method_docx(RESULT, INFO, "en")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert ex.method_paragraph(RESULT, INFO, "en") in text
    table = document.tables[0]
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0] == ["Code", "n", "% agreement", "α"]
    assert ["Sociaal", "12", "90.0%", ".810"] in cells
    assert ["=Materieel", "12", "100.0%", "–"] in cells


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="lang"):
        ex.method_paragraph(RESULT, INFO, "fr")


# Through the views, from a real run -----------------------------------------------------------


@pytest.fixture
def run(cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]) -> AgreementRun:
    goals = services.code_create(study=cast.study, actor=cast.owner, name="Doelen")
    text = "Ouders leren hun kind beter begrijpen."
    texts = [
        Intervention.objects.create(study=cast.study, title=f"Tekst {n}", text=text)
        for n in range(3)
    ]
    for coder in (cast.coder_a, cast.coder_b):
        assignment_create(
            study=cast.study, actor=cast.owner, coder=coder, interventions=texts, method="all"
        )
    for item, coders in ((texts[0], (cast.coder_a, cast.coder_b)), (texts[1], (cast.coder_a,))):
        for coder in coders:
            Segment.objects.create(
                intervention=item, coder=coder, code=goals, start=0, end=6, quote="Ouders"
            )
    services.version_create(study=cast.study, actor=cast.owner, label="Eerste ronde")
    with django_capture_on_commit_callbacks(execute=True):
        run = agreement_run_start(
            study=cast.study, actor=cast.owner, coders=["bob", "carol"], bootstrap=500, seed=9
        )
    run.refresh_from_db()
    return run


def owner(cast: Cast, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(cast.owner)
    return client


def test_the_xlsx_download_holds_the_runs_figures(cast: Cast, run: AgreementRun) -> None:
    response = owner(cast).get(
        reverse("agreement_export", args=[cast.study.slug, run.uuid, "xlsx"])
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'attachment; filename="agreement-gezin-' in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book["Agreement"].iter_rows(values_only=True))
    doelen = dict(zip(rows[0], rows[2], strict=True))
    assert doelen["code"] == "Doelen"
    assert doelen["percent_agreement"] == pytest.approx(
        run.result["codes"]["Doelen"]["percent_agreement"]
    )
    assert doelen["krippendorff_alpha"] == pytest.approx(
        run.result["codes"]["Doelen"]["krippendorff_alpha"]
    )
    about = dict(book["Run"].iter_rows(values_only=True))
    assert about["codebook version"] == "v1 Eerste ronde"
    assert about["seed"] == 9


def test_the_csv_download_holds_the_runs_figures(cast: Cast, run: AgreementRun) -> None:
    response = owner(cast).get(reverse("agreement_export", args=[cast.study.slug, run.uuid, "csv"]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ex.TABLE_HEADERS
    assert [r[:2] for r in rows[1:]] == [["overall", ""], ["code", "Doelen"]]


def test_an_unknown_format_is_404(cast: Cast, run: AgreementRun) -> None:
    url = reverse("agreement_export", args=[cast.study.slug, run.uuid, "pdf"])
    assert owner(cast).get(url).status_code == 404


def test_the_files_of_an_unfinished_run_are_404(cast: Cast, run: AgreementRun) -> None:
    AgreementRun.objects.filter(pk=run.pk).update(status=AgreementRun.Status.RUNNING)
    client = owner(cast)
    assert (
        client.get(reverse("agreement_method", args=[cast.study.slug, run.uuid])).status_code == 404
    )
    url = reverse("agreement_export", args=[cast.study.slug, run.uuid, "csv"])
    assert client.get(url).status_code == 404


def _docx_text(content: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)


def test_the_method_docx_follows_the_lang_parameter(cast: Cast, run: AgreementRun) -> None:
    url = reverse("agreement_method", args=[cast.study.slug, run.uuid])
    english = owner(cast).get(url + "?lang=en")
    assert english.status_code == 200
    assert "-method-en.docx" in english["Content-Disposition"]
    text = _docx_text(english.content)
    assert (
        "To assess inter-rater reliability, two coders independently coded 3 of the 4 "
        "interventions (75.0%)"
    ) in text
    assert "bob (second rater) and carol (second rater)" not in text  # two raters, no owner
    assert "bob (rater) and carol (rater)" in text
    assert "500 bootstrap samples" in text
    assert "version 1 of the codebook (‘Eerste ronde’)" in text
    day = run.finished_at
    assert day is not None
    assert f"{day.day} {ex.MONTHS['en'][day.month - 1]} {day.year}" in text
    dutch = _docx_text(owner(cast).get(url + "?lang=nl").content)
    assert "Om de interbeoordelaarsbetrouwbaarheid te bepalen" in dutch
    assert "500 bootstrapsteekproeven" in dutch


def test_the_method_docx_follows_the_users_language_by_default(
    cast: Cast, run: AgreementRun
) -> None:
    url = reverse("agreement_method", args=[cast.study.slug, run.uuid])
    assert "Om de interbeoordelaarsbetrouwbaarheid" in _docx_text(
        owner(cast, "nl").get(url).content
    )
    assert "To assess inter-rater" in _docx_text(owner(cast, "en").get(url).content)


def test_the_method_docx_refuses_an_unknown_language(cast: Cast, run: AgreementRun) -> None:
    url = reverse("agreement_method", args=[cast.study.slug, run.uuid])
    response = owner(cast).get(url + "?lang=fr")
    assert response.status_code == 400
    assert "nl or en" in response.content.decode()


def test_a_value_stored_without_its_reason_gets_no_empty_footnote() -> None:
    from coding.agreement.report import Notes, cell

    notes = Notes()
    stored_without = cell({"fleiss_kappa": None}, "fleiss_kappa", "character", notes)
    assert stored_without.note is None
    assert notes.reasons == []
    reason = "Fleiss' kappa is for three or more coders; see Cohen's kappa"
    with_reason = cell(
        {"fleiss_kappa": None, "reasons": {"fleiss_kappa": reason}},
        "fleiss_kappa",
        "character",
        notes,
    )
    assert with_reason.note == 1
    assert len(notes.reasons) == 1
