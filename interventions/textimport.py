"""Turn uploaded intervention descriptions (.txt, .docx, .pdf, .html) into stable plain text.

The stored text is immutable and coded segments point into it with code-point offsets, so every
step here is deterministic: the same bytes always give the same text. Nothing in this module
touches the database.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import docx
import pyphen
from bs4 import BeautifulSoup
from bs4.element import NavigableString, PreformattedString, Tag
from django.core.exceptions import ImproperlyConfigured
from django.utils.formats import number_format
from django.utils.translation import gettext
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PasswordType, PdfReader

from veerkracht.lib.filenames import display_name
from veerkracht.lib.filenames import extension as file_extension
from veerkracht.lib.spreadsheets import UNICODE_BOMS, UnreadableText, decode_text
from veerkracht.lib.uploads import UploadTooLarge, check_size

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.styles.style import CharacterStyle
    from docx.table import _Cell

SUPPORTED_EXTENSIONS = (".txt", ".docx", ".pdf", ".html", ".htm")

MAX_PDF_PAGES = 500
MAX_DOCX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_DOCX_MEMBERS = 10_000
# A long intervention description has a few hundred paragraphs and some 100,000 characters;
# these limits are far above that and keep a request well within its time.
MAX_DOCX_PARAGRAPHS = 20_000
MAX_TEXT_CHARACTERS = 2_000_000


def _(message: str) -> str:
    # This module is also used where Django settings are not configured (scripts, plain unit
    # tests); an error message should then fall back to its English text, not crash itself.
    try:
        return gettext(message)
    except ImproperlyConfigured:
        return message


class TextImportError(ValueError):
    """An upload could not be turned into text; ``str(error)`` is a one-line user message."""


@dataclass(frozen=True)
class SectionSpan:
    """A heading and the code-point range ``text[start:end]`` of its section, heading included."""

    heading: str
    start: int
    end: int


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_LINE_AND_SPACE_MAP = str.maketrans(
    {
        "\r": "\n",
        # Vertical tab, form feed, NEL and the Unicode separators do break lines in the source;
        # deleting them (as other controls are) would glue words of adjacent lines together.
        "\x0b": "\n",
        "\x0c": "\n",
        "\x85": "\n",
        "\u2028": "\n",
        "\u2029": "\n",
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
    }
)

# Controls other than \t and \n, invisible format characters (zero-width space, soft hyphen,
# bidi marks, BOM, ...) and lone surrogates (from lenient decoding) carry no visible text, but
# they would make offsets and searches disagree with what a reader sees. ZWJ is handled apart.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200c\u200e\u200f"
    r"\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]"
)

# Characters that take part in emoji ZWJ sequences (👨‍👩‍👧, 🏳️‍🌈, 🧑‍⚕️): a ZWJ between two
# of these is meaningful, anywhere else it is an invisible leftover.
_EMOJI_PART = (
    r"\u00a9\u00ae\u203c\u2049\u2122\u2139\u2190-\u21ff\u2300-\u23ff\u2460-\u24ff"
    r"\u25a0-\u27bf\u2900-\u297f\u2b00-\u2bff\u3030\u303d\u3297\u3299\ufe0f"
    r"\U0001f000-\U0001faff\U000e0020-\U000e007f"
)
_STRAY_ZWJ = re.compile(rf"(?<![{_EMOJI_PART}])\u200d|\u200d(?![{_EMOJI_PART}])")
_EXTRA_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_text(raw: str) -> str:
    """Return ``raw`` as NFC text with ``\\n`` line ends and without invisible noise.

    Curly quotes, dashes and diacritics are kept as they are. Runs of blank lines become one
    blank line and blank lines at the start and end are dropped. Idempotent.
    """
    text = raw.replace("\r\n", "\n").translate(_LINE_AND_SPACE_MAP)
    text = _INVISIBLE.sub("", text)
    text = _STRAY_ZWJ.sub("", text)
    # NFC last, so that a combining mark separated from its letter by a removed character
    # still composes with it.
    text = unicodedata.normalize("NFC", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _EXTRA_BLANK_LINES.sub("\n\n", text)
    return text.strip("\n")


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractedText:
    """A document's text, and the headings its own structure marks (DOCX heading styles, HTML
    h1-h6), in document order; empty for .txt and .pdf, where the text alone tells."""

    text: str
    headings: tuple[str, ...] = ()


def extract_text(filename: str, data: bytes) -> str:
    """Extract normalised plain text from an uploaded file; raise TextImportError if impossible."""
    return extract_document(filename, data).text


def extract_document(filename: str, data: bytes) -> ExtractedText:
    """The text of an uploaded file with its structural headings; TextImportError if none."""
    name = display_name(filename)
    extension = file_extension(filename)
    if extension not in SUPPORTED_EXTENSIONS:
        raise TextImportError(
            _("“%(name)s” has an unsupported file type; upload a .txt, .docx, .pdf or .html file.")
            % {"name": name}
        )
    if not data:
        raise TextImportError(_("“%(name)s” is empty.") % {"name": name})
    try:
        check_size(name, len(data))
    except UploadTooLarge as error:
        raise TextImportError(str(error)) from None
    headings: list[str] = []
    text = normalize_text(_EXTRACTORS[extension](name, data, headings))
    if len(text) > MAX_TEXT_CHARACTERS:
        raise TextImportError(
            _("“%(name)s” holds more than %(limit)s characters of text; split it up.")
            % {"name": name, "limit": number_format(MAX_TEXT_CHARACTERS, force_grouping=True)}
        )
    if not text.strip():
        if extension == ".pdf":
            raise TextImportError(
                _(
                    "No text could be found in “%(name)s”; it is probably a scanned document. "
                    "Upload a PDF with selectable text."
                )
                % {"name": name}
            )
        raise TextImportError(_("No text could be found in “%(name)s”.") % {"name": name})
    found = (" ".join(normalize_text(heading).split()) for heading in headings)
    return ExtractedText(text, tuple(heading for heading in found if heading))


@contextmanager
def _unreadable_as(message: str) -> Iterator[None]:
    # Parsers raise all sorts of exceptions on damaged input (including KeyError, struct.error,
    # RecursionError); the user should only ever see one clear message.
    try:
        yield
    except TextImportError:
        raise
    except Exception as exc:
        raise TextImportError(message) from exc


# --------------------------------------------------------------------------------------------
# Plain text
# --------------------------------------------------------------------------------------------


def _extract_txt(name: str, data: bytes, headings: list[str]) -> str:
    return _decode_prose(
        data, _("“%(name)s” is not a text file (it contains binary data).") % {"name": name}
    )


def _decode_prose(data: bytes, binary: str, declared: str | None = None) -> str:
    """A byte order mark decides the encoding, then the `declared` one, then UTF-8 or else
    Windows-1252, where bytes that fit no encoding become U+FFFD: a damaged byte should not
    lose a whole description. Raises TextImportError(`binary`) for binary data."""
    # Windows tools still write "Unicode" text as UTF-16 with a BOM; that is text, not binary,
    # even though it is full of NUL bytes.
    if not data.startswith(UNICODE_BOMS):
        if b"\x00" in data:
            raise TextImportError(binary)
        if declared:
            try:
                return data.decode(declared)
            except (UnicodeDecodeError, LookupError):
                pass
    try:
        return decode_text(data, lenient=True)
    except UnreadableText:
        # Only UTF-16 that is damaged gets here.
        raise TextImportError(binary) from None


# --------------------------------------------------------------------------------------------
# Word (.docx)
# --------------------------------------------------------------------------------------------

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _extract_docx(name: str, data: bytes, headings: list[str]) -> str:
    not_docx = _("“%(name)s” is not a valid Word (.docx) file.") % {"name": name}
    if not data.startswith(_ZIP_MAGIC):
        if data.startswith(_OLE_MAGIC):
            raise TextImportError(
                _(
                    "“%(name)s” is an old Word (.doc) file; save it as .docx in Word "
                    "and upload it again."
                )
                % {"name": name}
            )
        raise TextImportError(not_docx)
    with _unreadable_as(not_docx), zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
    # zipfile stops inflating a member at its declared size (and then fails on the CRC), so the
    # declared sizes are a safe upper bound on what python-docx will unpack.
    unpacked = sum(member.file_size for member in members)
    if len(members) > MAX_DOCX_MEMBERS or unpacked > MAX_DOCX_UNPACKED_BYTES:
        raise TextImportError(
            _("“%(name)s” is too large to process when unpacked.") % {"name": name}
        )
    if "word/document.xml" not in {member.filename for member in members}:
        raise TextImportError(not_docx)
    with _unreadable_as(
        _("“%(name)s” could not be read; the Word file seems to be damaged.") % {"name": name}
    ):
        document = docx.Document(io.BytesIO(data))
        return "\n".join(_docx_lines(document, headings, name))


def _docx_lines(document: DocxDocument, headings: list[str], name: str = "") -> Iterator[str]:
    # python-docx looks a paragraph's style up among all styles each time (slow for long
    # documents): look each style id up once.
    styles: dict[str | None, list[str]] = {}
    for n, block in enumerate(_docx_blocks(document.element.body, document), start=1):
        if n > MAX_DOCX_PARAGRAPHS:
            raise TextImportError(
                _("“%(name)s” has more than %(limit)s paragraphs; split it into smaller files.")
                % {"name": name, "limit": number_format(MAX_DOCX_PARAGRAPHS, force_grouping=True)}
            )
        if isinstance(block, Table):
            yield from _docx_table_lines(block)
            continue
        style_id = block._p.style
        if style_id not in styles:
            styles[style_id] = _style_names(block.style)
        style_names = styles[style_id]
        if any(style.startswith("toc") for style in style_names):
            continue
        if any(
            style.startswith("heading") or style in {"title", "subtitle"} for style in style_names
        ):
            yield ""
            if block.text.strip():
                headings.append(block.text)
        yield block.text


def _docx_blocks(element: Any, parent: Any) -> Iterator[Paragraph | Table]:
    # Document.iter_inner_content() skips content controls (w:sdt), which templates use to
    # wrap whole passages; walk the body ourselves so that their text is not lost.
    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, parent)
        elif child.tag == qn("w:tbl"):
            yield Table(child, parent)
        elif child.tag == qn("w:sdt") and not _is_toc_sdt(child):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _docx_blocks(content, parent)
        elif child.tag == qn("w:customXml"):
            yield from _docx_blocks(child, parent)


def _is_toc_sdt(sdt: Any) -> bool:
    # A generated table of contents repeats the headings with page numbers: noise for coders.
    gallery = sdt.find(f"{qn('w:sdtPr')}/{qn('w:docPartObj')}/{qn('w:docPartGallery')}")
    return gallery is not None and "contents" in (gallery.get(qn("w:val")) or "").lower()


def _style_names(style: CharacterStyle | None) -> list[str]:
    # A custom style based on "Heading 2" is a heading too, so follow the base-style chain
    # (bounded, because a damaged styles part can contain a cycle).
    names: list[str] = []
    for _depth in range(10):
        if style is None:
            break
        names.append((style.name or "").strip().lower())
        style = style.base_style
    return names


def _docx_table_lines(table: Table) -> Iterator[str]:
    for row in table.rows:
        cells: list[_Cell] = []
        for cell in row.cells:
            # A horizontally merged cell is reported once per grid column it spans.
            if not cells or cell is not cells[-1]:
                cells.append(cell)
        texts = [text for text in (_docx_cell_text(cell) for cell in cells) if text]
        if texts:
            yield " | ".join(texts)


def _docx_cell_text(cell: _Cell) -> str:
    parts: list[str] = []
    for item in cell.iter_inner_content():
        if isinstance(item, Table):
            parts.extend(_docx_table_lines(item))
        else:
            parts.append(item.text)
    # One table row is one line, so line breaks inside a cell become spaces.
    return " ".join(" ".join(parts).split())


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------

_PDF_MAGIC = b"%PDF-"
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"}
)
_HYPHENS = "-\u00ad\u2010"
_SOFT_HYPHEN = "\u00ad"
# "gezins-\nen jeugdhulp" is an elided compound, not one word broken over two lines.
_ELISION_WORDS = frozenset({"en", "of", "tot", "noch", "and", "or"})
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_SENTENCE_END = ".!?:;"
_PAGE_NUMBER = re.compile(
    r"""^(?:
        [-–—]?\s*\d{1,4}\s*[-–—]?
      | (?:pagina|page|blz\.?|p\.)\s*\d{1,4}(?:\s*(?:van|of|/)\s*\d{1,4})?
      | \d{1,4}\s*(?:/|van|of)\s*\d{1,4}
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


def _extract_pdf(name: str, data: bytes, headings: list[str]) -> str:
    if not data.startswith(_PDF_MAGIC):
        if data.startswith(_ZIP_MAGIC):
            raise TextImportError(
                _("“%(name)s” is not a valid PDF file (it looks like a ZIP archive).")
                % {"name": name}
            )
        raise TextImportError(_("“%(name)s” is not a valid PDF file.") % {"name": name})
    damaged = _("“%(name)s” could not be read; the PDF file seems to be damaged.") % {"name": name}
    with _unreadable_as(damaged):
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not _pdf_opens_without_password(reader):
            raise TextImportError(
                _(
                    "“%(name)s” is protected with a password; remove the protection "
                    "and upload it again."
                )
                % {"name": name}
            )
        if not reader.pages:
            # pypdf's lenient mode "recovers" garbage as a document without pages.
            raise TextImportError(damaged)
        if len(reader.pages) > MAX_PDF_PAGES:
            raise TextImportError(
                _("“%(name)s” has more than %(limit)s pages.")
                % {"name": name, "limit": MAX_PDF_PAGES}
            )
        pages = [page.extract_text() or "" for page in reader.pages]
        return _clean_pdf_pages(pages)


def _pdf_opens_without_password(reader: PdfReader) -> bool:
    # Many published PDFs are "encrypted" only with an owner password against editing; any
    # viewer opens them, so refusing them would only confuse. Everything else is refused.
    try:
        return reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except Exception:
        return False


@dataclass
class _PdfLine:
    text: str
    # Longest line on the page, in characters: tells a line that was wrapped at the text
    # width from a line that ended early on purpose (a heading, a list item).
    page_width: int


def _clean_pdf_pages(pages: list[str]) -> str:
    page_lines = [_pdf_page_lines(page) for page in pages]
    repeated = _repeated_edge_keys(page_lines)
    lines: list[_PdfLine] = []
    for page in page_lines:
        width = max((len(line) for line in page), default=0)
        edges = _edge_positions(page)
        body = [
            line
            for position, line in enumerate(page)
            # A running header or footer goes wherever it stands: some generators write the
            # footer into the middle of the page's text ("in Neder-", "TNO 2023 9/52", "land").
            if not (
                (line and _edge_key(line) in repeated)
                or (position in edges and _PAGE_NUMBER.match(line))
            )
        ]
        # Blank lines at a page edge are layout, not a paragraph break: dropping them lets a
        # paragraph that runs on over the page break be joined up again.
        while body and not body[-1]:
            body.pop()
        start = next((index for index, line in enumerate(body) if line), len(body))
        lines.extend(_PdfLine(line, width) for line in body[start:])
    vocabulary = _vocabulary(line.text for line in lines)
    return "\n".join(line.text for line in _join_pdf_lines(lines, vocabulary))


def _pdf_page_lines(page_text: str) -> list[str]:
    # NFC first: the hyphenation rules below look at letters, and a decomposed "é" ends in a
    # combining mark, not a letter.
    text = page_text.replace("\r\n", "\n").replace("\r", "\n").translate(_LIGATURES)
    text = unicodedata.normalize("NFC", text)
    return [line.strip() for line in text.split("\n")]


def _edge_positions(lines: list[str]) -> set[int]:
    filled = [position for position, line in enumerate(lines) if line]
    return set(filled[:2] + filled[-2:])


def _edge_key(line: str) -> str:
    # Page numbers differ from page to page, so compare running headers with digits masked.
    return " ".join(re.sub(r"\d+", "#", line).split())


def _repeated_edge_keys(page_lines: list[list[str]]) -> set[str]:
    """Running headers and footers: lines (digits masked) that stand at a page edge somewhere
    and occur on at least two pages and half of them, at an edge or (as some generators
    write the footer mid-stream) anywhere on the page."""
    at_edges: set[str] = set()
    counts: Counter[str] = Counter()
    for lines in page_lines:
        at_edges.update(_edge_key(lines[position]) for position in _edge_positions(lines))
        counts.update({_edge_key(line) for line in lines if line})
    pages = len(page_lines)
    return {
        key
        for key in at_edges
        if key and counts[key] >= 2 and 2 * counts[key] >= pages and _could_be_furniture(key)
    }


def _could_be_furniture(key: str) -> bool:
    # A heading repeated on each page ("Samenvatting" in a collection) is not page furniture;
    # a header or footer is short and has no sentence end.
    return len(key) <= 120 and not key.endswith((".", ":"))


def _vocabulary(lines: Iterable[str]) -> frozenset[str]:
    """The words of the document, lower case, with and without their inner hyphens as written
    ("noord-holland"): a line-end hyphen is judged by the neighbours' spelling of the word."""
    words: set[str] = set()
    for line in lines:
        for match in _WORD.finditer(line):
            words.add(match.group(0).casefold())
    return frozenset(words)


def _join_pdf_lines(lines: list[_PdfLine], vocabulary: frozenset[str]) -> list[_PdfLine]:
    joined: list[_PdfLine] = []
    for line in lines:
        previous = joined[-1] if joined else None
        if previous is not None and previous.text and line.text:
            merged = _join_hyphenated(previous.text, line.text, vocabulary)
            if merged is None and _is_hard_wrap(previous, line.text):
                merged = previous.text + " " + line.text
            if merged is not None:
                previous.text = merged
                continue
        joined.append(_PdfLine(line.text, line.page_width))
    return joined


def _join_hyphenated(previous: str, following: str, vocabulary: frozenset[str]) -> str | None:
    """`previous` + `following` when `previous` ends in a hyphen: joined where the two parts
    make a word, with the hyphen kept where it belongs to the word, or None.

    A word counts when the document spells it so elsewhere (the neighbour rule) or when
    Dutch hyphenation allows a break at that point (pyphen's nl_NL patterns, the patterns
    typesetters use). "gezins-" before "en jeugdhulp" is an elided compound and keeps its
    hyphen and space; before "en." or "en," it was a word broken in two ("groei-", "en.").
    """
    mark = previous[-1]
    if len(previous) < 2 or mark not in _HYPHENS or not following[0].isalpha():
        return None
    before = previous[-2]
    if before.isdigit():
        # "12-\njarigen": a compound with a number keeps its hyphen.
        return previous + following
    if not before.isalpha():
        return None
    if mark == _SOFT_HYPHEN:
        return previous[:-1] + following
    head_match = re.search(r"[^\W\d_]+$", previous[:-1])
    tail_match = re.match(r"[^\W\d_]+", following)
    head = head_match.group(0) if head_match else ""
    tail = tail_match.group(0) if tail_match else ""
    after_tail = following[len(tail) : len(tail) + 2]
    if tail.casefold() in _ELISION_WORDS and after_tail[:1] == " " and after_tail[1:2].isalnum():
        return previous + " " + following
    joined = (head + tail).casefold()
    if joined in vocabulary:
        return previous[:-1] + following
    if f"{head}-{tail}".casefold() in vocabulary:
        return previous + following
    breaks_here = len(head) in _dutch_hyphenation_points(joined)
    if head.isupper() and tail.isupper():
        # "PRIS-\nMA", "COLLEC-\nTIEVE": a capitalised word broken in two.
        return previous[:-1] + following if breaks_here else previous + following
    if tail[0].isupper() or head.isupper():
        # "Noord-\nHolland", "GGZ-\ninstelling": the hyphen is part of the name.
        return previous + following
    return previous[:-1] + following if breaks_here else previous + following


def _dutch_hyphenation_points(word: str) -> list[int]:
    return list(_hyphenator().positions(word))


@cache
def _hyphenator() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="nl_NL")


def _is_hard_wrap(previous: _PdfLine, following: str) -> bool:
    if previous.text[-1] in _SENTENCE_END or not following[0].islower():
        return False
    return not _is_title_like(previous.text, previous.page_width)


def _is_title_like(line: str, page_width: int) -> bool:
    if _is_known_heading(line):
        return True
    return _is_short_heading(line) and 2 * len(line) < page_width


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

_DROPPED_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "nav",
        "header",
        "footer",
        "form",
        "aside",
        "svg",
        "iframe",
        "head",
        "title",
    }
)
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "blockquote",
        "caption",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "hr",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
    }
)
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_HTML_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
# lxml's HTML parser does not understand a DOCTYPE with an internal subset and would leave its
# tail ("]>") in the text; the subset can only declare entities, which are never resolved here.
_DOCTYPE = re.compile(r"<!DOCTYPE[^\[>]*(?:\[[^\]]*\])?[^>]*>", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# Codecs that exist in Python but are not character sets a web page can declare.
_NOT_WEB_CODECS = frozenset(
    {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"}
)


def _extract_html(name: str, data: bytes, headings: list[str]) -> str:
    text = _decode_prose(
        data,
        _("“%(name)s” is not an HTML file (it contains binary data).") % {"name": name},
        _declared_encoding(data),
    )
    with _unreadable_as(_("“%(name)s” could not be read as HTML.") % {"name": name}):
        # The text is already decoded, so BeautifulSoup does no encoding guessing of its own;
        # lxml's HTML parser neither loads DTDs nor resolves external entities.
        soup = BeautifulSoup(_DOCTYPE.sub("", text, count=1), "lxml")
        root = soup.body or soup
        container = _html_main_container(root)
        renderer = _HtmlLines()
        lines = renderer.render(container, keep_header_footer=True) if container else []
        if not any(line.strip() for line in lines):
            renderer = _HtmlLines()
            lines = renderer.render(root, keep_header_footer=False)
        headings.extend(renderer.headings)
        return "\n".join(lines)


def _declared_encoding(data: bytes) -> str | None:
    declared = _META_CHARSET.search(data[:8192])
    return _web_encoding(declared.group(1).decode("ascii")) if declared else None


def _web_encoding(label: str) -> str | None:
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name in _NOT_WEB_CODECS:
        return None
    # Browsers read Latin-1 and ASCII declarations as windows-1252 (curly quotes in
    # 0x80-0x9f), and a UTF-16 declaration without a BOM as UTF-8.
    if name in {"latin-1", "iso8859-1", "ascii"}:
        return "cp1252"
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return "utf-8"
    return name


def _html_main_container(root: Tag) -> Tag | None:
    main = root.find("main")
    if isinstance(main, Tag):
        return main
    articles = [tag for tag in root.find_all("article") if isinstance(tag, Tag)]
    if not articles:
        return None
    # Pages that list several articles: the longest is the description; max() keeps the
    # first of equals, so the choice is deterministic.
    return max(articles, key=lambda tag: len(tag.get_text()))


def _is_hidden(tag: Tag) -> bool:
    aria_hidden = tag.get("aria-hidden")
    return (isinstance(aria_hidden, str) and aria_hidden.strip().lower() == "true") or (
        tag.has_attr("hidden")
    )


class _HtmlLines:
    """Renders an element tree to lines: blocks end lines, headings get a blank line before."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._current: list[str] = []
        self._current_is_pre = False
        self._prefix = ""
        self.headings: list[str] = []

    def render(self, root: Tag, *, keep_header_footer: bool) -> list[str]:
        # Iterative walk: deeply nested markup must not hit Python's recursion limit.
        # Inside the chosen <main>/<article>, <header> and <footer> hold the article's own title
        # and dates, so they are only dropped as page furniture when walking the whole page.
        dropped = _DROPPED_TAGS - {"header", "footer"} if keep_header_footer else _DROPPED_TAGS
        stack: list[tuple[Any, bool, bool]] = [(root, True, False)]
        while stack:
            node, entering, in_pre = stack.pop()
            if isinstance(node, NavigableString):
                if not isinstance(node, PreformattedString):
                    self._add_text(str(node), in_pre)
                continue
            if not isinstance(node, Tag):
                continue
            tag = node.name.lower()
            if not entering:
                self._close(tag)
                continue
            if node is not root and (tag in dropped or _is_hidden(node)):
                continue
            if tag == "tr":
                self._add_row(node, keep_header_footer=keep_header_footer)
                continue
            self._open(tag)
            child_in_pre = in_pre or tag == "pre"
            stack.append((node, False, in_pre))
            stack.extend((child, True, child_in_pre) for child in reversed(node.contents))
        self._end_line()
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return self.lines

    def _open(self, tag: str) -> None:
        if tag in _HEADING_TAGS:
            self._blank_line()
        elif tag == "br":
            if self._current:
                self._end_line()
            elif self.lines and self.lines[-1]:
                # <br><br> is how old pages separate paragraphs.
                self.lines.append("")
        elif tag in _BLOCK_TAGS:
            self._end_line()
        if tag == "li":
            self._prefix = "- "

    def _close(self, tag: str) -> None:
        if tag in _HEADING_TAGS and self._current:
            self.headings.append("".join(self._current))
        if tag in _HEADING_TAGS or tag in _BLOCK_TAGS:
            self._end_line()
        if tag == "li":
            self._prefix = ""

    def _add_row(self, row: Tag, *, keep_header_footer: bool) -> None:
        self._end_line()
        cells = [
            " ".join(
                " ".join(_HtmlLines().render(cell, keep_header_footer=keep_header_footer)).split()
            )
            for cell in row.find_all(["td", "th"], recursive=False)
            if isinstance(cell, Tag) and not _is_hidden(cell)
        ]
        line = " | ".join(cell for cell in cells if cell)
        if line:
            self.lines.append(self._prefix + line)
            self._prefix = ""

    def _add_text(self, text: str, in_pre: bool) -> None:
        if in_pre:
            pieces = text.split("\n")
            for index, piece in enumerate(pieces):
                if index:
                    self._end_line(keep_empty=True)
                if piece:
                    self._append(piece, pre=True)
            return
        text = _HTML_WHITESPACE.sub(" ", text)
        if not self._current or self._current[-1].endswith(" "):
            text = text.lstrip(" ")
        if text:
            self._append(text, pre=False)

    def _append(self, text: str, *, pre: bool) -> None:
        if not self._current and self._prefix:
            self._current.append(self._prefix)
            self._prefix = ""
        self._current.append(text)
        self._current_is_pre = self._current_is_pre or pre

    def _end_line(self, *, keep_empty: bool = False) -> None:
        line = "".join(self._current)
        line = line.rstrip() if self._current_is_pre else line.strip()
        if line or keep_empty:
            self.lines.append(line)
        self._current = []
        self._current_is_pre = False

    def _blank_line(self) -> None:
        self._end_line()
        if self.lines and self.lines[-1]:
            self.lines.append("")


_EXTRACTORS: dict[str, Callable[[str, bytes, list[str]], str]] = {
    ".txt": _extract_txt,
    ".docx": _extract_docx,
    ".pdf": _extract_pdf,
    ".html": _extract_html,
    ".htm": _extract_html,
}


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------

_KNOWN_HEADINGS = frozenset(
    heading.casefold()
    for heading in (
        # Databank descriptions (NJi, RIVM, NCJ, Movisie)
        "Samenvatting",
        "Doel",
        "Doelen",
        "Hoofddoel",
        "Subdoelen",
        "Doelgroep",
        "Doelgroepen",
        "Aanpak",
        "Opzet",
        "Werkwijze",
        "Uitvoering",
        "Onderbouwing",
        "Theoretische onderbouwing",
        "Probleemomschrijving",
        "Probleem",
        "Effectiviteit",
        "Onderzoek",
        "Kosten",
        "Randvoorwaarden",
        "Implementatie",
        "Materialen",
        "Contact",
        "Literatuur",
        "Kwaliteit",
        "Beschrijving",
        "Werkzame factoren",
        "Achtergrond",
        # Reports and theses
        "Voorwoord",
        "Inhoud",
        "Inhoudsopgave",
        "Inleiding",
        "Introductie",
        "Methode",
        "Methoden",
        "Methodologie",
        "Resultaten",
        "Conclusie",
        "Conclusies",
        "Discussie",
        "Conclusie en discussie",
        "Discussie en conclusie",
        "Aanbevelingen",
        "Literatuurlijst",
        "Referenties",
        "Bronnen",
        "Bijlage",
        "Bijlagen",
        "Dankwoord",
        # English
        "Summary",
        "Abstract",
        "Introduction",
        "Background",
        "Method",
        "Methods",
        "Results",
        "Discussion",
        "Conclusion",
        "Conclusions",
        "References",
        "Appendix",
        "Goal",
        "Goals",
        "Target group",
        "Approach",
        "Rationale",
        "Theory",
        "Implementation",
        "Evidence",
    )
)
# Reports number their headings ("2. Doelgroep", "3.1 Aanpak", "1 Werkzame factoren").
_HEADING_NUMBER = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+")
# "Bijlage 2", "Appendix B: vragenlijst"
_APPENDIX = re.compile(r"^(?:bijlage|appendix|hoofdstuk|chapter)\s+[\dA-Z]{1,3}\b", re.I)
# A table-of-contents line: dot leaders, or a page number after a gap or after a heading.
_TOC_LINE = re.compile(r"(?:\.{3,}|…+|·{3,}|\s{2,}|\t)\s*\d{1,4}$")
_TRAILING_PAGE = re.compile(r"\s\d{1,4}$")
# A table row as text: cells split by bars or tabs, or by runs of spaces.
_TABLE_ROW = re.compile(r"\||\t|\S {2,}\S.* {2,}\S")
_CAPTION = re.compile(r"^(?:tabel|table|figuur|figure|grafiek|bron|source)\s+\d", re.I)
_LIST_ITEM = re.compile(r"^(?:[-–•*·▪]\s|[a-z]\)\s)")
# A line that repeats this often is a running header or footer, not a heading.
_RUNNING_REPEATS = 3
# A body line after a heading in text without blank lines (PDF) is at least this long.
_BODY_LINE = 40


def _heading_label(line: str) -> str:
    label = line.strip()
    return label[:-1].rstrip() if label.endswith(":") else label


def _is_known_heading(line: str) -> bool:
    label = _HEADING_NUMBER.sub("", _heading_label(line), count=1)
    return label.casefold() in _KNOWN_HEADINGS or bool(_APPENDIX.match(label))


def _is_short_heading(line: str) -> bool:
    stripped = line.strip()
    label = _heading_label(stripped)
    words = _HEADING_NUMBER.sub("", label, count=1)
    return (
        bool(words)
        and len(label) <= 80
        and len(words.split()) <= 10
        and stripped[-1] not in ".,;!"
        and (words[0].isupper() or words[0].isdigit())
        # A table row ("Duur | 8 weken") is data, not a heading.
        and not _TABLE_ROW.search(label)
        and not _LIST_ITEM.match(stripped)
        and not _CAPTION.match(words)
    )


def _numbering(line: str) -> tuple[int, ...] | None:
    match = _HEADING_NUMBER.match(line.strip())
    if match is None:
        return None
    rest = line.strip()[match.end() :]
    if not rest or not rest[0].isupper():
        return None  # "3 kinderen kregen hulp": a number in a sentence
    return tuple(int(part) for part in match.group(1).split("."))


def _is_toc_line(line: str) -> bool:
    stripped = line.strip()
    if _TOC_LINE.search(stripped):
        return True
    # "1 Werkzame factoren 5": a numbered heading with its page number is a contents line.
    return _numbering(stripped) is not None and bool(_TRAILING_PAGE.search(stripped))


def detect_sections(text: str, headings: Sequence[str] = ()) -> list[SectionSpan]:
    """Find headings in ``text``; each section runs from its heading line to the next one.

    A heading is a line of its own that the layout sets apart: after a blank line or a finished
    sentence, and followed by body text (DOCX heading styles and HTML headings come out of the
    import that way); a numbered heading ("2.3 Methode"); or a heading reports commonly use
    ("Inleiding", "Methode", "Literatuurlijst"). Contents lines (dot leaders, page numbers),
    table rows, list items and lines repeated as running headers are never headings.
    `headings` from the document's own structure (`ExtractedText.headings`) come first: when
    they are found in the text, in order, they are the headings.
    Text before the first heading belongs to no section. Offsets are code points.
    """
    lines = text.split("\n")
    starts: list[int] = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    structural = _structural_headings(lines, headings)
    if structural:
        return _spans(text, lines, starts, structural)
    repeats = Counter(line.strip() for line in lines if line.strip())
    # Running headers and contents lines say nothing about the layout around a heading: to
    # the lines next to them they count as blank.
    lines = [
        "" if repeats[line.strip()] >= _RUNNING_REPEATS or _is_toc_line(line) else line
        for line in lines
    ]
    candidate = [
        bool(line.strip())
        and repeats[line.strip()] < _RUNNING_REPEATS
        and not _is_toc_line(line)
        and (_is_known_heading(line) or _is_short_heading(line))
        for line in lines
    ]
    accepted = [False] * len(lines)
    # From the end, so that a chapter heading directly above a section heading ("2 Methode",
    # "2.1 Opzet") can ask whether that one is a heading.
    for index in range(len(lines) - 1, -1, -1):
        if candidate[index]:
            accepted[index] = _is_heading(lines, index, candidate, accepted)

    return _spans(text, lines, starts, [index for index, ok in enumerate(accepted) if ok])


def _structural_headings(lines: list[str], headings: Sequence[str]) -> list[int]:
    """The lines that are `headings`, matched in order (a heading not found is passed)."""
    found: list[int] = []
    position = 0
    for heading in headings:
        for index in range(position, len(lines)):
            if " ".join(lines[index].split()) == heading:
                found.append(index)
                position = index + 1
                break
    return found


def _spans(text: str, lines: list[str], starts: list[int], indexes: list[int]) -> list[SectionSpan]:
    headings = [(index, _heading_label(lines[index])) for index in indexes]
    sections: list[SectionSpan] = []
    for position, (index, label) in enumerate(headings):
        end = starts[headings[position + 1][0]] if position + 1 < len(headings) else len(text)
        sections.append(SectionSpan(heading=label, start=starts[index], end=end))
    return sections


def _neighbour(lines: list[str], index: int, step: int) -> int | None:
    index += step
    while 0 <= index < len(lines):
        if lines[index].strip():
            return index
        index += step
    return None


def _is_heading(lines: list[str], index: int, candidate: list[bool], accepted: list[bool]) -> bool:
    line = lines[index].strip()
    previous = lines[index - 1].strip() if index > 0 else ""
    following = lines[index + 1].strip() if index + 1 < len(lines) else ""
    after = _neighbour(lines, index, 1)
    before = _neighbour(lines, index, -1)
    if after is None:
        return False  # nothing follows: a closing line, not a heading
    numbering = _numbering(line)
    if numbering is not None:
        if before is not None and _numbering(lines[before]) is not None:
            previous_numbering = _numbering(lines[before])
            if previous_numbering and len(previous_numbering) == len(numbering):
                return False  # an item of a numbered list ("1. Overzicht", "2. Inkomen")
        if candidate[after]:
            next_numbering = _numbering(lines[after])
            # A chapter heading followed straight by its first section heading.
            return bool(
                next_numbering
                and len(next_numbering) > len(numbering)
                and next_numbering[: len(numbering)] == numbering
                and accepted[after]
            )
        return previous == "" or previous[-1] in ".!?:)" or accepted[before or 0]
    set_apart = previous == "" or (before is not None and accepted[before])
    if _is_known_heading(line):
        # "Inleiding" alone on a line: a heading unless it sits inside a sentence.
        return set_apart or previous[-1] in ".!?:)" or not following[:1].islower()
    if not following or candidate[after] and after == index + 1:
        return False  # a run of short lines: a list, a table or a title page
    if set_apart:
        return True
    # Text without blank lines (PDF): a short line between a finished sentence and a paragraph.
    return previous[-1] in ".!?" and len(following) >= max(_BODY_LINE, len(line) + 10)
