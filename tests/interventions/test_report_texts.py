"""Sections found from a document's own structure, and PDF text without page furniture.

The documents are written here (tests/documents.py renders them): reports with numbered
headings, contents pages, tables and running headers; PDFs with a footer "TNO 2023 R10055
n/N" that differs per page and, on page 2, stands in the middle of the text stream.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from interventions.models import Intervention
from interventions.textimport import detect_sections, extract_document, extract_text
from tests.conftest import Cast
from tests.documents import heading_docx, marked_paragraphs, report_pdf
from tests.interventions.test_textimport import pdf_bytes

CORPUS = Path(__file__).resolve().parents[2] / "benchmarks" / "sections_corpus"


def plain_and_marks(name: str) -> tuple[str, list[str]]:
    marked = (CORPUS / name).read_text(encoding="utf-8")
    lines = marked.split("\n")
    plain = "\n".join(line[2:] if line.startswith("§ ") else line for line in lines)
    return plain, [line[2:] for line in lines if line.startswith("§ ")]


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.txt")))
def test_the_hand_marked_headings_of_the_corpus_are_found(name: str) -> None:
    plain, marks = plain_and_marks(name)

    assert [span.heading for span in detect_sections(plain)] == marks


def test_contents_lines_table_rows_and_running_headers_are_not_headings() -> None:
    text = (
        "Inhoudsopgave\n1 Inleiding\t4\n2 Methode .......... 8\nSamenvatting 3\n\n"
        "1 Inleiding\nDe inleiding van dit rapport gaat over gezinnen en hun hulpbronnen.\n"
        "Rapport Gezinnen 2023\n"
        "Tabel 1\nInterventie  Doelgroep  Setting\nVaste Grond  Gezinnen  Thuis\n"
        "Databank\tGevonden\nNJi\t71\n"
        "Rapport Gezinnen 2023\n\n2 Methode\nWe zochten in vier databanken naar beschrijvingen.\n"
        "Rapport Gezinnen 2023\n"
    )

    assert [span.heading for span in detect_sections(text)] == [
        "Inhoudsopgave",
        "1 Inleiding",
        "2 Methode",
    ]


def test_a_numbered_list_is_not_a_run_of_headings() -> None:
    text = (
        "Het gaat onder meer om:\n1. Eén gezin, één plan\n2. Aandacht voor alle leefgebieden\n"
        "3. Inzet van het netwerk\nDeze elementen komen in de meeste effectieve interventies terug."
    )

    assert detect_sections(text) == []


def test_a_short_line_between_a_sentence_and_a_paragraph_is_a_heading_in_pdf_text() -> None:
    text = (
        "Het programma is bedoeld voor jonge gezinnen.\nWerkwijze van de coach\n"
        "In twaalf huisbezoeken werkt de coach met het gezin aan kleine, haalbare doelen.\n"
        "Zij kiezen zelf.\nThuis\nZorginstelling\n"
    )

    assert [span.heading for span in detect_sections(text)] == ["Werkwijze van de coach"]


def test_docx_heading_styles_give_the_sections() -> None:
    plain, marks = plain_and_marks("movisie_vragen.txt")
    docx = heading_docx(marked_paragraphs((CORPUS / "movisie_vragen.txt").read_text()))

    text = extract_text("beschrijving.docx", docx)

    assert [span.heading for span in detect_sections(text)] == marks


def test_html_headings_give_the_sections() -> None:
    page = (
        b"<html><body><main><h1>Samen Sterk</h1><p>Een korte inleiding op de aanpak.</p>"
        b"<h2>Voor wie is de interventie?</h2><p>Ouders met kinderen tot 12 jaar die weinig "
        b"steun ervaren.</p><h2>Wat kost het</h2><p>Niets voor de ouders.</p></main></body></html>"
    )

    text = extract_text("pagina.html", page)

    assert [span.heading for span in detect_sections(text)] == [
        "Samen Sterk",
        "Voor wie is de interventie?",
        "Wat kost het",
    ]


# PDF text ------------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [1, 2])
def test_report_pdfs_keep_no_page_number_or_running_header(columns: int) -> None:
    plain, marks = plain_and_marks("nji_werkzame_factoren.txt")
    paragraphs = marked_paragraphs((CORPUS / "nji_werkzame_factoren.txt").read_text())
    pdf = report_pdf(paragraphs, columns=columns, rows=14)

    text = extract_text("rapport.pdf", pdf)

    assert "TNO" not in text
    assert "R10055" not in text
    assert "Interventiebeschrijving |" not in text
    assert [span.heading for span in detect_sections(text)] == marks
    # Every paragraph came through whole: hyphenated words joined, no furniture inside.
    # The source's own running line ("NJi Werkzame factoren GMCP") goes as page furniture too.
    # (A line break after a full stop may stay a line break: a PDF does not say which it is.)
    words = " ".join(text.split())
    for kind, paragraph in paragraphs:
        if kind == "body" and paragraph != "NJi Werkzame factoren GMCP":
            assert paragraph in words


def test_a_footer_written_mid_stream_does_not_split_a_word() -> None:
    pages = [
        ["Kop", "Eerste pagina met tekst."],
        ["Hulp aan gezinnen in Neder-", "TNO 2023 R10055 9/52", "land is versnipperd."],
        ["Derde pagina.", "Met een tweede regel."],
    ]
    pdf = pdf_bytes(pages, footer="TNO 2023 R10055 {page}/52")

    text = extract_text("a.pdf", pdf)

    assert "Hulp aan gezinnen in Nederland is versnipperd." in text
    assert "TNO" not in text


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # An elided compound keeps its hyphen and space.
        (["Samenwerking tussen gezins-", "en jeugdhulp in de regio."], "gezins- en jeugdhulp"),
        # "en." and "en," end a word that was broken, not a list.
        (["Kinderen leren en groei-", "en. Daarna volgt meer."], "leren en groeien. Daarna"),
        (["Volgens Van Rooij-", "en, 2019, werkt het."], "Van Rooijen, 2019"),
        # A capitalised word broken at a hyphenation point is one word.
        (["Het programma PRIS-", "MA werkt met gezinnen."], "programma PRISMA werkt"),
        (["DE COLLEC-", "TIEVE AANPAK"], "DE COLLECTIEVE AANPAK"),
        # Names keep their hyphen.
        (["Gezinnen in Noord-", "Holland krijgen hulp."], "in Noord-Holland krijgen"),
        (["Een GGZ-", "instelling biedt hulp."], "Een GGZ-instelling biedt"),
        # A Dutch word broken at a hyphenation point is joined.
        (["De ontwik-", "keling van het kind."], "De ontwikkeling van het kind."),
    ],
)
def test_line_end_hyphens_are_joined_only_where_the_word_is_a_word(
    lines: list[str], expected: str
) -> None:
    assert expected in extract_text("a.pdf", pdf_bytes([lines]))


def test_the_spelling_elsewhere_in_the_document_decides_a_hyphen() -> None:
    # "zorg-aanbieders" hyphenated in the text itself: the line-end hyphen is that one.
    lines = ["De zorg-aanbieders werken samen.", "Alle zorg-", "aanbieders doen mee."]

    assert "Alle zorg-aanbieders doen mee." in extract_text("a.pdf", pdf_bytes([lines]))


def test_docx_heading_styles_come_first_even_where_the_layout_would_not_tell() -> None:
    paragraphs = [
        ("heading", "Wat doet de coach bij het gezin thuis, week na week, in het eerste jaar."),
        ("body", "- huisbezoek"),
        ("body", "- netwerkberaad"),
        ("body", "Korte regel zonder punt"),
        ("body", "Een lange alinea die na een korte regel komt en dus op een kop lijkt."),
        ("heading", "Kosten"),
        ("body", "Gratis."),
    ]

    document = extract_document("a.docx", heading_docx(paragraphs))

    assert document.headings == (
        "Wat doet de coach bij het gezin thuis, week na week, in het eerste jaar.",
        "Kosten",
    )
    assert [s.heading for s in detect_sections(document.text, document.headings)] == [
        "Wat doet de coach bij het gezin thuis, week na week, in het eerste jaar.",
        "Kosten",
    ]


def test_html_headings_are_the_structure_and_a_page_without_them_falls_back_to_layout() -> None:
    page = b"<main><h2>Doel van de aanpak.</h2><p>Ouders krijgen steun.</p></main>"
    plain = b"<main><p>Doelgroep</p><p>Ouders van jonge kinderen met zorgen.</p></main>"

    with_headings = extract_document("a.html", page)
    without = extract_document("b.html", plain)

    assert with_headings.headings == ("Doel van de aanpak.",)
    assert [s.heading for s in detect_sections(with_headings.text, with_headings.headings)] == [
        "Doel van de aanpak."
    ]
    assert without.headings == ()
    assert [s.heading for s in detect_sections(without.text, without.headings)] == ["Doelgroep"]


def test_an_uploaded_docx_gets_the_sections_of_its_heading_styles(cast: Cast) -> None:
    from interventions import metadata

    paragraphs = [
        ("heading", "Aanpak in drie stappen."),
        ("body", "Eerst een kennismaking."),
        ("heading", "Samenvatting"),
        ("body", "Kort."),
    ]
    document = extract_document("stappen.docx", heading_docx(paragraphs))

    metadata.interventions_from_texts(
        study=cast.study,
        texts=[("stappen.docx", document.text)],
        headings={"stappen.docx": document.headings},
    )

    sections = Intervention.objects.get(title="stappen").sections.order_by("start")
    assert [(s.heading, s.excluded) for s in sections] == [
        ("Aanpak in drie stappen.", False),
        ("Samenvatting", True),
    ]
