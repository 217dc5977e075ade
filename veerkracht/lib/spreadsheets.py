"""Spreadsheet files in and out: CSV text as Excel writes it, and cells Excel will not run.

Reading. Excel writes CSV in its user's locale: UTF-8 with or without a byte order mark ("CSV
UTF-8"), Windows-1252 (Dutch Excel's plain "CSV"), or UTF-16 with a byte order mark ("Unicode
text"); separated by ";" (Dutch, where the comma is the decimal separator), "," or a tab.
`decode_text` reads those encodings, `csv_reader` the text under the delimiter
`sniff_delimiter` picks from the header line. Every caller first holds the file to
``settings.UPLOAD_MAX_BYTES`` with `veerkracht.lib.uploads.check_size` (or `read_file`), which
also serves the files that are no spreadsheets.

An XLSX cell's value reads as text through `cell_text`; given the cell's number format and a
locale it reads as the sheet shows it to a user of that locale (a date cell as 15-09-2023, a
percent cell 0.125 as "12,5 %", 1250.5 under "#,##0.00" as "1.250,50").

Writing: one rule for every CSV and XLSX file the app writes. A spreadsheet runs a cell starting
with ``= + - @``, a tab or a carriage return as a formula (OWASP "CSV injection"), so
`formula_escape` puts an apostrophe in front of such a cell, and in front of a cell that starts
with an apostrophe, which keeps the escape reversible: `formula_unescape` takes exactly that one
apostrophe off again, so a file we wrote reads back as the same text. Every text cell gets it,
headers included (a property's name is user text too). `csv_bytes` writes a CSV table that way;
`xlsx_write_cell` writes an XLSX cell that way and types every text cell as a string, so no cell
of a workbook we write is a formula. Every importer reads cells through `formula_unescape`.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from _csv import Reader

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# In the order that wins a tie: a Dutch header may hold a comma, hardly ever a semicolon.
DELIMITERS = (";", ",", "\t")
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
UNICODE_BOMS = (codecs.BOM_UTF8, *UTF16_BOMS)


class UnreadableText(ValueError):
    """Bytes in none of the encodings Excel writes; str(error) is the message for the user."""


def decode_text(data: bytes, *, lenient: bool = False) -> str:
    """`_decode_text`, refusing a NUL character."""
    text = _decode_text(data, lenient=lenient)
    if "\x00" in text:
        raise UnreadableText(
            _("The file holds a NUL character (at %(position)d); it is damaged or not text.")
            % {"position": text.index("\x00")}
        )
    return text


def _decode_text(data: bytes, *, lenient: bool = False) -> str:
    """Text from a file Excel or Windows wrote: UTF-8 (a BOM is dropped), UTF-16 with a BOM,
    else Windows-1252; UnreadableText otherwise, and for text holding a NUL character (no
    spreadsheet writes one; the database could not store it).

    Python's cp1252 refuses its five undefined bytes, so a file in some other encoding fails
    instead of turning into wrong letters. `lenient` (for prose, where a damaged byte should
    not lose the whole text) puts U+FFFD for bytes that fit no encoding; a damaged UTF-16 file
    still fails.
    """
    errors = "replace" if lenient else "strict"
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors)
        except UnicodeDecodeError as error:
            raise UnreadableText(
                _("The file says it is UTF-8 but is not (byte %(position)d).")
                % {"position": error.start + len(codecs.BOM_UTF8)}
            ) from error
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise UnreadableText(_("The file is damaged UTF-16 text.")) from error
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252", errors)
    except UnicodeDecodeError as error:
        raise UnreadableText(
            _("The file is neither UTF-8 nor Windows-1252 text; save it as ‘CSV UTF-8’.")
        ) from error


_SEP_LINE = re.compile(r"^sep=(.)[ \t]*\r?\n", re.IGNORECASE)
# Lines looked at for the header: title rows and notes may stand above it.
SNIFF_LINES = 20


def split_sep_line(text: str) -> tuple[str | None, str]:
    """The delimiter a first line "sep=;" names (Excel writes and reads it), and the text after
    that line; (None, text) when there is no such line."""
    match = _SEP_LINE.match(text)
    if match is None or match.group(1) in '"\r\n':
        return None, text
    return match.group(1), text[match.end() :]


def sniff_delimiter(text: str, known: Callable[[str], bool] | None = None) -> str:
    """The delimiter of the header line: the first line (of the first `SNIFF_LINES`) that some
    delimiter splits into two or more filled cells, so a title line above the table is passed.

    Of those that split it, the one under which the most headers are `known` wins, then the one
    that makes the most filled columns; a text that none splits is one column, read with ",".
    """
    lines = [line for line in text.splitlines() if line.strip()][:SNIFF_LINES]
    for header in lines:
        best = _best_delimiter(header, known, filled_only=True)
        if best is not None:
            return best
        if known is not None and known(header.strip()):
            # A known header alone on its line: a table of one column.
            return ","
    # No line has two filled cells: the first line's empty cells still say how it is split.
    return _best_delimiter(lines[0], known, filled_only=False) or "," if lines else ","


def _best_delimiter(
    line: str, known: Callable[[str], bool] | None, *, filled_only: bool
) -> str | None:
    best, best_score = None, (-1, -1)
    for delimiter in DELIMITERS:
        try:
            cells = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            continue
        if filled_only:
            cells = [cell for cell in cells if cell.strip()]
        if len(cells) < 2:
            continue
        score = (sum(1 for cell in cells if known is not None and known(cell)), len(cells))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def csv_reader(
    text: str, known: Callable[[str], bool] | None = None, *, delimiter: str | None = None
) -> Reader:
    """The records of CSV text, under `delimiter` or else the one `sniff_delimiter` picks;
    raises csv.Error.

    A record is one spreadsheet row even when a quoted cell spans several lines; the reader's
    `line_num` says which line it got to.
    """
    return csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter or sniff_delimiter(text, known)
    )


def cell_text(value: Any, number_format: str | None = None, locale: str | None = None) -> str:
    """An XLSX cell's value (as openpyxl gives it) as the text the sheet shows.

    Without a `locale`, numbers and dates come out in a neutral form ("0.125", "2023-09-15");
    with one, as the cell's `number_format` shows them to a user of that locale.
    """
    if value is None:
        return ""
    if locale is not None and not isinstance(value, bool | str):
        shown = _formatted(value, number_format or "General", locale)
        if shown is not None:
            return shown
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        # Excel keeps every number as a float: an age of 12 must not come back as "12.0".
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


_FORMAT_SECTIONS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


def _formatted(value: Any, number_format: str, locale: str) -> str | None:
    """`value` as Excel shows it under `number_format` to a `locale` user; None: no rule here."""
    from veerkracht.lib.localized import SEPARATORS, locale_of, show_date

    locale = locale_of(locale)
    decimal_mark, group_mark = SEPARATORS[locale]
    if isinstance(value, datetime):
        shown = show_date(value.date().isoformat(), locale)
        return shown if value.time() == time(0) else f"{shown} {value.strftime('%H:%M')}"
    if isinstance(value, date):
        return show_date(value.isoformat(), locale)
    if not isinstance(value, int | float):
        return None
    # The part of the format for positive numbers, without quoted text, escapes and colours.
    pattern = _FORMAT_SECTIONS.sub("", number_format.split(";")[0])
    percent = "%" in pattern
    number = value * 100 if percent else value
    if pattern.strip().lower() in {"general", "@", ""}:
        if isinstance(number, float) and not number.is_integer():
            text = repr(round(number, 10)).replace(".", decimal_mark)
        else:
            text = str(int(number))
    else:
        decimals_match = re.search(r"\.([0#]+)", pattern)
        decimals = len(decimals_match.group(1)) if decimals_match else 0
        text = f"{abs(number):,.{decimals}f}" if "," in pattern else f"{abs(number):.{decimals}f}"
        text = text.translate({ord(","): group_mark, ord("."): decimal_mark})
        text = ("-" if number < 0 else "") + text
        if "€" in number_format:
            text = "€ " + text
    if percent:
        text += " %" if locale == "nl" else "%"
    return text


def formula_escape(value: str) -> str:
    """`value` as a cell a spreadsheet will not run as a formula; `formula_unescape` undoes it."""
    if value.startswith((*FORMULA_TRIGGERS, "'")):
        return "'" + value
    return value


def formula_unescape(value: str) -> str:
    """A cell as `formula_escape` had it: the one apostrophe it put in front taken off."""
    if value.startswith("'") and value[1:2].startswith((*FORMULA_TRIGGERS, "'")):
        return value[1:]
    return value


def _escaped(row: Iterable[Any]) -> list[Any]:
    return [formula_escape(cell) if isinstance(cell, str) else cell for cell in row]


def csv_bytes(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], *, delimiter: str = ","
) -> bytes:
    """A table as CSV: UTF-8 with a BOM (so Excel reads it), CRLF rows, every text cell and
    header through `formula_escape`."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n", delimiter=delimiter)
    writer.writerow(_escaped(headers))
    writer.writerows(_escaped(row) for row in rows)
    return text.getvalue().encode("utf-8-sig")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold at all (most C0 controls).

    Word, Excel and SVG are XML inside; one stray control character pasted from a PDF would
    otherwise make the whole export fail.
    """
    return "".join(
        ch
        for ch in text
        if ch in "\t\n\r"
        or ("\x20" <= ch <= "\ud7ff")
        or ("\ue000" <= ch <= "\ufffd")
        or ch >= "\U00010000"
    )


def xlsx_write_cell(sheet: Any, row: int, column: int, value: Any) -> Any:
    """Write one cell of an openpyxl sheet by the rule above and return it: text through
    `formula_escape` and typed as a string (openpyxl would take any text starting with "="
    for a formula), numbers and dates as they are."""
    if isinstance(value, str):
        cell = sheet.cell(row=row, column=column, value=formula_escape(xml_text(value)))
        cell.data_type = "s"
        return cell
    return sheet.cell(row=row, column=column, value=value)


def xlsx_bytes(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str,
    widths: Sequence[int] = (),
) -> bytes:
    """A table as an XLSX workbook of one sheet: bold headers, the first row frozen, every
    cell through `xlsx_write_cell`."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = title
    bold = Font(bold=True)
    for column, header in enumerate(headers, start=1):
        xlsx_write_cell(sheet, 1, column, header).font = bold
    for row_number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            xlsx_write_cell(sheet, row_number, column, value)
    for column in range(1, len(headers) + 1):
        width = widths[column - 1] if column <= len(widths) else 24
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
