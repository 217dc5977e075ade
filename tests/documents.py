"""Test documents rendered as users receive them: report PDFs and Word files.

`report_pdf` typesets paragraphs the way a report generator does: justified lines broken at
Dutch hyphenation points (pyphen's nl_NL patterns) with a hyphen at the line end, a running
header, a footer with a page number that differs per page ("TNO 2023 R10055 9/52"), one or two
columns, and, like some generators, the footer written into the page's content stream in the
middle of the body text, so a text extractor meets it between two lines of a paragraph.
`heading_docx` writes paragraphs with Word's heading styles. Both take the same paragraphs:
(kind, text) with kind "heading" or "body".
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import docx
import pyphen
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

Paragraph = tuple[str, str]

FONT, SIZE, LEADING = "Helvetica", 10, 13
_HYPHENATOR = pyphen.Pyphen(lang="nl_NL")


def marked_paragraphs(marked: str) -> list[Paragraph]:
    """Paragraphs from a corpus text: a line starting with "§ " is a heading, every other
    non-blank line a body paragraph."""
    paragraphs: list[Paragraph] = []
    for line in marked.split("\n"):
        if line.startswith("§ "):
            paragraphs.append(("heading", line[2:]))
        elif line.strip():
            paragraphs.append(("body", line))
    return paragraphs


def _wrap(text: str, width: float) -> list[str]:
    """Lines of at most `width` points; a word that does not fit is broken at a hyphenation
    point when one lets a part of at least three letters fit."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if stringWidth(trial, FONT, SIZE) <= width:
            current = trial
            continue
        broken = False
        if word.isalpha():
            for first, rest in _HYPHENATOR.iterate(word):
                head = f"{current} {first}-" if current else f"{first}-"
                if len(first) >= 3 and len(rest) >= 3 and stringWidth(head, FONT, SIZE) <= width:
                    lines.append(head)
                    current = rest
                    broken = True
                    break
        if not broken:
            if current:
                lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def report_pdf(
    paragraphs: Sequence[Paragraph],
    *,
    header: str = "Interventiebeschrijving | Nederlands Jeugdinstituut",
    footer: str = "TNO 2023 R10055 {page}/{pages}",
    columns: int = 1,
    footer_mid_stream_on: frozenset[int] = frozenset({2}),
    rows: int | None = None,
) -> bytes:
    """A report as a PDF; see the module docstring. Page numbers in `footer_mid_stream_on`
    get their footer drawn halfway through the body text in the content stream; `rows` sets
    the lines per column (short pages give a short text several pages)."""
    page_width, page_height = A4
    margin, gap = 60, 24
    column_width = (page_width - 2 * margin - (columns - 1) * gap) / columns
    top, bottom = page_height - 80, 70
    rows_per_column = rows or int((top - bottom) // LEADING)
    # Lay out every line first, then cut into columns and pages.
    laid: list[tuple[str, str]] = []
    for kind, text in paragraphs:
        if kind == "heading":
            laid.append(("heading", text))
        else:
            laid.extend(("body", line) for line in _wrap(text, column_width))
    per_page = rows_per_column * columns
    pages = [laid[start : start + per_page] for start in range(0, len(laid), per_page)] or [[]]
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    for number, lines in enumerate(pages, start=1):
        pdf.setFont(FONT, 8)
        pdf.drawString(margin, page_height - 45, header)
        footer_text = footer.format(page=number, pages=len(pages))
        middle = len(lines) // 2 if number in footer_mid_stream_on else -1
        for position, (kind, line) in enumerate(lines):
            if position == middle:
                pdf.setFont(FONT, 8)
                pdf.drawString(margin, 40, footer_text)
            column, row = divmod(position, rows_per_column)
            x = margin + column * (column_width + gap)
            y = top - row * LEADING
            pdf.setFont("Helvetica-Bold" if kind == "heading" else FONT, SIZE)
            pdf.drawString(x, y, line)
        if middle < 0:
            pdf.setFont(FONT, 8)
            pdf.drawString(margin, 40, footer_text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def heading_docx(paragraphs: Sequence[Paragraph]) -> bytes:
    document = docx.Document()
    for kind, text in paragraphs:
        if kind == "heading":
            document.add_heading(text, level=1)
        else:
            document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
