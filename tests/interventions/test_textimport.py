"""Text import: every supported format is built for real here, then read back."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import docx
import pytest
from django.conf import settings
from django.utils import translation
from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from interventions.textimport import (
    SUPPORTED_EXTENSIONS,
    SectionSpan,
    TextImportError,
    detect_sections,
    extract_text,
    normalize_text,
)

HEADER = "Interventiebeschrijving – Databank"


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    # Assertions look at the English source messages, whatever language the settings choose.
    if settings.configured:
        with translation.override("en"):
            yield
    else:
        yield


def refusal(filename: str, data: bytes) -> str:
    with pytest.raises(TextImportError) as caught:
        extract_text(filename, data)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------


def docx_bytes(build: Callable[[DocxDocument], None]) -> bytes:
    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_bytes(
    pages: list[list[str]], *, header: str | None = None, footer: str | None = None
) -> bytes:
    """One PDF page per list of body lines; ``footer`` may use {page} and {pages}."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    _width, height = A4
    for number, lines in enumerate(pages, start=1):
        if header:
            pdf.setFont("Helvetica", 9)
            pdf.drawString(72, height - 40, header)
        pdf.setFont("Helvetica", 11)
        y = height - 90
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 15
        if footer:
            pdf.setFont("Helvetica", 9)
            pdf.drawString(72, 30, footer.format(page=number, pages=len(pages)))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def encrypted(pdf: bytes, *, user_password: str, owner_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password, owner_password=owner_password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# normalize_text
# --------------------------------------------------------------------------------------------


def test_it_turns_crlf_and_lone_cr_into_newlines() -> None:
    assert normalize_text("een\r\ntwee\rdrie\n") == "een\ntwee\ndrie"


def test_it_replaces_non_breaking_spaces_with_plain_spaces() -> None:
    assert normalize_text("10\u00a0%\u202fkorting") == "10 % korting"


def test_it_composes_decomposed_accents_to_nfc() -> None:
    text = normalize_text("caf" + "e\u0301 cooperatie e\u0301e\u0301n")
    assert text == "café cooperatie één"
    assert len(text) == len("café cooperatie één")


def test_it_keeps_an_emoji_zwj_family_intact() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert normalize_text(f"Gezin {family} thuis") == f"Gezin {family} thuis"


def test_it_drops_a_zwj_that_is_not_inside_an_emoji_sequence() -> None:
    assert normalize_text("gezins\u200dleden") == "gezinsleden"


def test_it_removes_zero_width_and_control_characters_but_keeps_tabs() -> None:
    raw = "\ufeffOuder\u200bschap\x00\x07 en\u00ad kind\tjaar\x1b"
    assert normalize_text(raw) == "Ouderschap en kind\tjaar"


def test_it_strips_trailing_spaces_and_collapses_blank_lines() -> None:
    raw = "\n \n  Titel  \n\n\n\n\nAlinea één.   \t\n\n\n"
    assert normalize_text(raw) == "  Titel\n\nAlinea één."


def test_it_keeps_a_single_blank_line_between_paragraphs() -> None:
    assert normalize_text("Eén.\n\nTwee.") == "Eén.\n\nTwee."


def test_it_keeps_curly_quotes_dashes_and_diacritics() -> None:
    raw = "“Coöperatie” – ‘privé’ … naïef"
    assert normalize_text(raw) == raw


@pytest.mark.parametrize(
    "raw",
    [
        "a\r\n\r\n\r\n\u00a0b\u200b\u0301",
        "e\u200b\u0301 \U0001f468\u200d\u200d\U0001f469",
        "\x0bx\x0cy\u2028z  \n\n\n",
    ],
)
def test_it_gives_the_same_text_when_normalizing_twice(raw: str) -> None:
    once = normalize_text(raw)
    assert normalize_text(once) == once


# --------------------------------------------------------------------------------------------
# Refusals shared by all formats
# --------------------------------------------------------------------------------------------


def test_it_refuses_an_empty_file() -> None:
    assert "“leeg.txt” is empty" in refusal("leeg.txt", b"")


def test_it_refuses_an_unknown_extension() -> None:
    message = refusal("notities.odt", b"PK\x03\x04rest")
    assert "notities.odt" in message
    assert "unsupported" in message


def test_it_refuses_a_file_without_extension() -> None:
    assert "unsupported" in refusal("README", b"tekst")


def test_it_refuses_a_file_over_the_upload_limit() -> None:
    message = refusal("groot.txt", b"a" * (settings.UPLOAD_MAX_BYTES + 1))
    assert "limit is 10 MB" in message


def test_it_accepts_a_file_of_exactly_the_upload_limit(settings: Any) -> None:
    # Below the limit on characters, so that the one on bytes is what is tested.
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    limit = settings.UPLOAD_MAX_BYTES
    assert extract_text("groot.txt", b"a" * limit) == "a" * limit


def test_it_refuses_a_text_of_more_characters_than_the_limit_with_a_clear_message() -> None:
    from interventions.textimport import MAX_TEXT_CHARACTERS

    data = ("Ouders oefenen thuis. " * (MAX_TEXT_CHARACTERS // 20)).encode()
    message = refusal("boek.txt", data)
    assert message == "“boek.txt” holds more than 2,000,000 characters of text; split it up."


def test_it_refuses_a_docx_of_more_paragraphs_than_the_limit_quickly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    from interventions import textimport

    monkeypatch.setattr(textimport, "MAX_DOCX_PARAGRAPHS", 300)
    data = docx_bytes(lambda d: [d.add_paragraph(f"Alinea {n}.") for n in range(301)])
    assert refusal("lang.docx", data) == (
        "“lang.docx” has more than 300 paragraphs; split it into smaller files."
    )
    assert extract_text("kort.docx", docx_bytes(lambda d: d.add_paragraph("Eén alinea.")))
    # 20,000 paragraphs in one style take seconds, not minutes: a style is looked up once.
    monkeypatch.setattr(textimport, "MAX_DOCX_PARAGRAPHS", 20_000)
    many = docx_bytes(lambda d: [d.add_paragraph(f"Alinea {n}.") for n in range(5_000)])
    started = time.perf_counter()
    assert extract_text("veel.docx", many).count("Alinea") == 5_000
    assert time.perf_counter() - started < 5


def test_the_upload_limit_is_the_one_in_the_settings(settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    message = refusal("groot.txt", b"a" * (2 * 1024 * 1024 + 1))
    assert message == "“groot.txt” is 2.0 MB; the limit is 2 MB."


def test_it_matches_extensions_case_insensitively() -> None:
    assert extract_text("VERSLAG.TXT", b"Hallo") == "Hallo"


def test_it_names_only_the_last_path_part_of_the_file_on_one_line() -> None:
    message = refusal("C:\\Users\\piet\\map/raar\nnaam.odt", b"x")
    assert "“raar naam.odt”" in message
    assert "piet" not in message


def test_it_lists_the_supported_extensions() -> None:
    assert SUPPORTED_EXTENSIONS == (".txt", ".docx", ".pdf", ".html", ".htm")


def test_it_refuses_a_file_with_only_whitespace() -> None:
    assert "No text could be found" in refusal("leeg.txt", b" \r\n\t\r\n")


# --------------------------------------------------------------------------------------------
# .txt
# --------------------------------------------------------------------------------------------


def test_it_reads_utf8_text() -> None:
    raw = "Café “De Zon” – coöperatie\r\n".encode()
    assert extract_text("a.txt", raw) == "Café “De Zon” – coöperatie"


def test_it_drops_the_utf8_byte_order_mark() -> None:
    raw = b"\xef\xbb\xbf" + "Café “De Zon”".encode()
    assert extract_text("a.txt", raw) == "Café “De Zon”"


def test_it_falls_back_to_cp1252_for_text_that_is_not_utf8() -> None:
    raw = "Café “De Zon” privé".encode("cp1252")
    assert extract_text("a.txt", raw) == "Café “De Zon” privé"


def test_it_does_not_crash_on_bytes_undefined_in_cp1252() -> None:
    text = extract_text("a.txt", b"caf\xe9 \x81\x8d einde")
    assert text.startswith("café ")
    assert text.endswith(" einde")


def test_it_reads_utf16_text_with_a_byte_order_mark() -> None:
    raw = "Eén coöperatie".encode("utf-16")
    assert extract_text("windows.txt", raw) == "Eén coöperatie"


def test_it_refuses_a_text_file_with_nul_bytes_as_binary() -> None:
    message = refusal("data.txt", b"MZ\x90\x00\x03\x00\x00\x00")
    assert "binary" in message


# --------------------------------------------------------------------------------------------
# .docx
# --------------------------------------------------------------------------------------------


def build_description(document: DocxDocument) -> None:
    document.add_heading("Stevig Ouderschap", level=0)
    document.add_paragraph("Een programma voor één gezin tegelijk.")
    document.add_heading("Doelgroep", level=1)
    document.add_paragraph("Ouders in een coöperatie, privé begeleid.")
    table = document.add_table(rows=2, cols=3)
    rows = [("Duur", "8 weken", ""), ("Kosten", "€ 1.250", "p.p.")]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_heading("Aanpak", level=2)
    document.add_paragraph("Huisbezoeken door een jeugdverpleegkundige.")


def test_it_reads_docx_paragraphs_headings_and_tables_in_document_order() -> None:
    text = extract_text("beschrijving.docx", docx_bytes(build_description))
    assert text == (
        "Stevig Ouderschap\n"
        "Een programma voor één gezin tegelijk.\n"
        "\n"
        "Doelgroep\n"
        "Ouders in een coöperatie, privé begeleid.\n"
        "Duur | 8 weken\n"
        "Kosten | € 1.250 | p.p.\n"
        "\n"
        "Aanpak\n"
        "Huisbezoeken door een jeugdverpleegkundige."
    )


def test_it_finds_the_sections_of_a_docx_description() -> None:
    text = extract_text("beschrijving.docx", docx_bytes(build_description))
    # The title stands at the start, is short and has body text under it: a heading too.
    assert [span.heading for span in detect_sections(text)] == [
        "Stevig Ouderschap",
        "Doelgroep",
        "Aanpak",
    ]


def test_it_writes_a_horizontally_merged_docx_cell_once() -> None:
    def build(document: DocxDocument) -> None:
        table = document.add_table(rows=1, cols=3)
        merged = table.cell(0, 0).merge(table.cell(0, 1))
        merged.text = "Samen"
        table.cell(0, 2).text = "Apart"

    assert extract_text("t.docx", docx_bytes(build)) == "Samen | Apart"


def test_it_reads_docx_text_inside_content_controls() -> None:
    def build(document: DocxDocument) -> None:
        document.add_paragraph("Voor het veld.")
        inside = document.add_paragraph("In het veld.")
        sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
        inside._p.addprevious(sdt)
        sdt.append(content)
        content.append(inside._p)
        document.add_paragraph("Na het veld.")

    assert extract_text("t.docx", docx_bytes(build)) == (
        "Voor het veld.\nIn het veld.\nNa het veld."
    )


def test_it_refuses_random_bytes_named_docx() -> None:
    message = refusal("kapot.docx", bytes(range(256)))
    assert "not a valid Word (.docx) file" in message


def test_it_refuses_an_old_word_doc_named_docx() -> None:
    message = refusal("oud.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert ".doc" in message


def test_it_refuses_a_zip_without_a_word_document() -> None:
    message = refusal("archief.docx", zip_bytes({"readme.txt": b"hallo"}))
    assert "not a valid Word (.docx) file" in message


def test_it_refuses_a_truncated_docx() -> None:
    data = docx_bytes(build_description)
    refusal("half.docx", data[: len(data) // 2])


def test_it_refuses_a_damaged_document_xml_inside_a_docx() -> None:
    original = zipfile.ZipFile(io.BytesIO(docx_bytes(build_description)))
    members = {name: original.read(name) for name in original.namelist()}
    members["word/document.xml"] = b"<w:document><w:body><w:p>"
    assert "damaged" in refusal("stuk.docx", zip_bytes(members))


def test_it_refuses_a_docx_that_unpacks_to_more_than_100_mb() -> None:
    bomb = zip_bytes({"word/document.xml": b"<x/>", "word/media/leeg.bin": bytes(101 * 2**20)})
    assert len(bomb) < 1024 * 1024
    assert "too large" in refusal("bom.docx", bomb)


def test_it_refuses_a_docx_with_more_than_ten_thousand_members() -> None:
    members = {f"word/m{index}.xml": b"" for index in range(10_001)}
    members["word/document.xml"] = b"<x/>"
    assert "too large" in refusal("veel.docx", zip_bytes(members))


# --------------------------------------------------------------------------------------------
# .pdf
# --------------------------------------------------------------------------------------------


def three_page_description() -> bytes:
    return pdf_bytes(
        [
            [
                "Samenvatting",
                "Het programma ondersteunt ouders en hun gezins-",
                "leden die in Noord-",
                "Holland wonen. De begeleiding is gericht op",
                "het versterken van het netwerk rond het gezin.",
            ],
            [
                "Doelgroep",
                "Gezinnen met zorgen over opvoeding, één coöperatie",
                "en privé gesprekken.",
            ],
            [
                "Aanpak",
                "Een coach komt wekelijks langs bij het gezin thuis.",
            ],
        ],
        header=HEADER,
        footer="Pagina {page} van {pages}",
    )


def test_it_drops_repeated_pdf_headers_and_footers() -> None:
    text = extract_text("beschrijving.pdf", three_page_description())
    assert HEADER not in text
    assert "Pagina" not in text
    assert text.startswith("Samenvatting\n")
    assert text.endswith("Een coach komt wekelijks langs bij het gezin thuis.")


def test_it_joins_words_hyphenated_across_pdf_lines() -> None:
    text = extract_text("beschrijving.pdf", three_page_description())
    assert "ouders en hun gezinsleden die" in text
    assert "gezins-" not in text


def test_it_keeps_the_hyphen_when_a_pdf_line_break_splits_a_name() -> None:
    text = extract_text("beschrijving.pdf", three_page_description())
    assert "in Noord-Holland wonen." in text


def test_it_joins_hard_wrapped_pdf_lines_within_a_paragraph() -> None:
    text = extract_text("beschrijving.pdf", three_page_description())
    assert "De begeleiding is gericht op het versterken van het netwerk rond het gezin." in text
    assert "één coöperatie en privé gesprekken." in text


def test_it_keeps_pdf_headings_on_their_own_line() -> None:
    text = extract_text("beschrijving.pdf", three_page_description())
    assert "\nDoelgroep\nGezinnen met zorgen" in text
    assert [span.heading for span in detect_sections(text)] == [
        "Samenvatting",
        "Doelgroep",
        "Aanpak",
    ]


def test_it_keeps_a_pdf_heading_apart_from_a_lower_case_line_after_it() -> None:
    pdf = pdf_bytes(
        [["Doelgroep", "ouders van jonge kinderen die zorgen hebben over de opvoeding."]]
    )
    assert extract_text("a.pdf", pdf).startswith("Doelgroep\nouders van")


def test_it_joins_a_paragraph_that_runs_on_over_a_pdf_page_break() -> None:
    pdf = pdf_bytes(
        [["Eerste alinea.", "De tweede alinea loopt door tot onder aan de"], ["pagina en verder."]],
        header=HEADER,
        footer="Pagina {page} van {pages}",
    )
    assert extract_text("a.pdf", pdf) == (
        "Eerste alinea.\nDe tweede alinea loopt door tot onder aan de pagina en verder."
    )


def test_it_keeps_an_elided_compound_across_pdf_lines() -> None:
    pdf = pdf_bytes([["Samenwerking tussen de gezins-", "en jeugdhulp in de regio."]])
    assert extract_text("a.pdf", pdf) == "Samenwerking tussen de gezins- en jeugdhulp in de regio."


@pytest.mark.parametrize(
    "footer", ["{page}", "- {page} -", "Pagina {page} van {pages}", "Page {page} of {pages}"]
)
def test_it_drops_a_lone_pdf_page_number(footer: str) -> None:
    # One page: the number is not a repeated footer, only its form gives it away.
    pdf = pdf_bytes([["Alleen deze pagina.", "Met een tweede regel."]], footer=footer)
    assert extract_text("a.pdf", pdf) == "Alleen deze pagina.\nMet een tweede regel."


def test_it_keeps_a_line_that_repeats_on_too_few_pdf_pages() -> None:
    pdf = pdf_bytes(
        [
            ["Kosten", "Gratis."],
            ["Contact", "Bel ons."],
            ["Kosten", "Nog eens."],
            ["Slot."],
            ["Eind."],
        ],
    )
    assert extract_text("a.pdf", pdf).count("Kosten") == 2


def test_it_refuses_a_zip_named_pdf_saying_it_looks_like_a_zip() -> None:
    message = refusal("rapport.pdf", zip_bytes({"word/document.xml": b"<x/>"}))
    assert message == "“rapport.pdf” is not a valid PDF file (it looks like a ZIP archive)."


def test_it_refuses_a_pdf_that_does_not_start_with_the_pdf_marker() -> None:
    assert "not a valid PDF file" in refusal("nep.pdf", b"<html>hallo</html>")


def test_it_refuses_a_corrupt_pdf() -> None:
    refusal("kapot.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 4)


def test_it_refuses_a_truncated_pdf() -> None:
    data = three_page_description()
    refusal("half.pdf", data[: len(data) // 3])


def test_it_refuses_a_password_protected_pdf() -> None:
    pdf = encrypted(three_page_description(), user_password="geheim", owner_password="eigenaar")
    assert "password" in refusal("geheim.pdf", pdf)


def test_it_reads_a_pdf_that_is_only_locked_against_editing() -> None:
    pdf = encrypted(three_page_description(), user_password="", owner_password="eigenaar")
    assert "gezinsleden" in extract_text("beveiligd.pdf", pdf)


def test_it_says_a_pdf_without_text_is_probably_scanned() -> None:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.rect(72, 72, 200, 300, fill=1)
    pdf.showPage()
    pdf.save()
    message = refusal("scan.pdf", buffer.getvalue())
    assert "scanned" in message


def test_it_refuses_a_pdf_with_more_than_five_hundred_pages() -> None:
    writer = PdfWriter()
    for _page in range(501):
        writer.add_blank_page(width=100, height=100)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert "more than 500 pages" in refusal("dik.pdf", buffer.getvalue())


# --------------------------------------------------------------------------------------------
# .html
# --------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="nl">
<head><meta charset="utf-8"><title>Databank</title>
<style>p { color: red }</style></head>
<body>
<header><a href="/">Logo</a> Zoeken</header>
<nav><ul><li>Home</li><li>Interventies</li></ul></nav>
<script>document.write("tracking")</script>
<article>
  <h1>Stevig   Ouderschap</h1>
  <p>Een <b>programma</b> voor&nbsp;ouders
     van jonge kinderen.</p>
  <div aria-hidden="true">Deel deze pagina</div>
  <h2>Doelgroep</h2>
  <ul><li>Ouders</li><li><p>Kinderen van 0–4 jaar</p></li></ul>
  <h2>Kosten</h2>
  <table><tr><th>Duur</th><td>8 weken</td></tr></table>
  <p>Eerste regel<br>tweede regel</p>
  <noscript>Zet JavaScript aan</noscript>
  <form><label>Naam</label><input></form>
</article>
<aside>Gerelateerd</aside>
<footer>© Databank</footer>
</body></html>"""


def test_it_reads_the_article_of_an_html_page_without_navigation_or_scripts() -> None:
    assert extract_text("pagina.html", PAGE.encode()) == (
        "Stevig Ouderschap\n"
        "Een programma voor ouders van jonge kinderen.\n"
        "\n"
        "Doelgroep\n"
        "- Ouders\n"
        "- Kinderen van 0–4 jaar\n"
        "\n"
        "Kosten\n"
        "Duur | 8 weken\n"
        "Eerste regel\n"
        "tweede regel"
    )


def test_it_reads_the_body_of_an_html_page_without_main_or_article() -> None:
    page = b"<body><header>Menu</header><h2>Doel</h2><div>Minder stress.</div><footer>x</footer>"
    assert extract_text("a.htm", page) == "Doel\nMinder stress."


def test_it_decodes_html_with_the_declared_charset() -> None:
    page = '<meta charset="windows-1252"><p>Café “De Zon”</p>'.encode("cp1252")
    assert extract_text("a.html", page) == "Café “De Zon”"


def test_it_decodes_html_declared_as_latin1_like_a_browser() -> None:
    page = '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><p>“Zo”</p>'
    assert extract_text("a.html", page.encode("cp1252")) == "“Zo”"


def test_it_decodes_undeclared_html_as_utf8_or_else_cp1252() -> None:
    assert extract_text("a.html", "<p>privé</p>".encode()) == "privé"
    assert extract_text("a.html", "<p>privé</p>".encode("cp1252")) == "privé"


def test_it_does_not_resolve_external_entities_in_html() -> None:
    page = b"""<!DOCTYPE html [<!ENTITY geheim SYSTEM "file:///etc/passwd">]>
<html><body><p>Tekst &geheim; einde</p></body></html>"""
    text = extract_text("a.html", page)
    assert "root:" not in text
    assert text.startswith("Tekst")
    assert text.endswith("einde")


def test_it_keeps_preformatted_html_text_as_it_is() -> None:
    page = b"<pre>stap 1\n    stap 2</pre>"
    assert extract_text("a.html", page) == "stap 1\n    stap 2"


def test_it_refuses_html_with_nul_bytes_as_binary() -> None:
    assert "binary" in refusal("a.html", b"<p>\x00\x01\x02</p>")


def test_it_refuses_html_without_text() -> None:
    page = b"<html><body><nav>Menu</nav><script>x()</script></body></html>"
    assert "No text could be found" in refusal("a.html", page)


# --------------------------------------------------------------------------------------------
# detect_sections
# --------------------------------------------------------------------------------------------

DESCRIPTION = """Stevig Ouderschap

Stevig Ouderschap is een preventief programma voor ouders.

Samenvatting
Het programma bestaat uit huisbezoeken.

Doelgroep:
Ouders van kinderen van 0–4 jaar.
Met zorgen over de opvoeding.

Wat het programma kost
Eén traject kost € 1.250.

Dit is geen kop.
Want het eindigt met een punt.

Theoretische onderbouwing
De aanpak gaat uit van gehechtheid."""


def test_it_finds_the_headings_of_a_dutch_description() -> None:
    assert [span.heading for span in detect_sections(DESCRIPTION)] == [
        "Samenvatting",
        "Doelgroep",
        "Wat het programma kost",
        "Theoretische onderbouwing",
    ]


def test_it_gives_sections_that_start_at_their_heading_and_end_at_the_next() -> None:
    spans = detect_sections(DESCRIPTION)
    for span, following in zip(spans, [*spans[1:], None], strict=True):
        assert DESCRIPTION[span.start : span.end].startswith(span.heading)
        assert span.end == (following.start if following else len(DESCRIPTION))
    assert spans[0] == SectionSpan(
        heading="Samenvatting",
        start=DESCRIPTION.index("Samenvatting"),
        end=DESCRIPTION.index("Doelgroep:"),
    )
    assert DESCRIPTION[spans[1].start : spans[1].end] == (
        "Doelgroep:\nOuders van kinderen van 0–4 jaar.\nMet zorgen over de opvoeding.\n\n"
    )


def test_it_leaves_text_before_the_first_heading_out_of_the_sections() -> None:
    spans = detect_sections(DESCRIPTION)
    assert spans[0].start > DESCRIPTION.index("preventief programma")


def test_it_recognises_known_headings_without_a_blank_line_and_in_any_case() -> None:
    text = "Inleiding tekst.\nDOELGROEP\nOuders.\n2. Aanpak:\nHuisbezoek."
    assert [(span.heading, span.start) for span in detect_sections(text)] == [
        ("DOELGROEP", 17),
        ("2. Aanpak", 35),
    ]


def test_it_does_not_take_a_short_line_inside_a_paragraph_for_a_heading() -> None:
    text = (
        "Dit is de eerste regel van een alinea die over regels doorloopt\nKorte Regel\nen verder."
    )
    assert detect_sections(text) == []


def test_it_does_not_take_a_short_line_without_body_text_for_a_heading() -> None:
    assert detect_sections("Welkom\n\nLosse Regel\n\nNog een alinea.") == []


def test_it_finds_no_sections_in_empty_text() -> None:
    assert detect_sections("") == []
