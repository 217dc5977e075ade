"""Intervention properties in bulk: read a sheet, preview it, apply it, export it.

A metadata import is two steps. `import_job_create` reads the file into a plain table (headers
and rows of strings) and stores it on an `ImportJob`; `preview_import` runs that table through
django-import-export as a dry run, so the user sees per row what would be added, changed or
refused. On confirm a Celery task calls `import_apply`, which runs the same table for real in one
transaction: all rows or none.

Rows are matched to interventions by title within the study. A column is the title, the databank
(source), the URL, the text, or a property: a header names a property when it folds to the
property's key, also through the English aliases of `interventions.headers`. Any other column is
unknown and becomes a new property only when the user chooses it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal, NotRequired, TypedDict

import tablib
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import resources, widgets
from import_export.fields import Field
from import_export.instance_loaders import CachedInstanceLoader
from import_export.results import Result, RowResult
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from interventions import services
from interventions.headers import (
    SOURCE_HEADERS,
    TEXT_HEADERS,
    TITLE_HEADERS,
    URL_HEADERS,
    canonical_attribute_name,
    fold_header,
    matches_any,
)
from interventions.models import (
    AttributeDefinition,
    AttributeValue,
    ImportJob,
    Intervention,
    Study,
)
from interventions.textimport import normalize_text
from veerkracht.jobs import job_enqueue
from veerkracht.lib.filenames import display_name
from veerkracht.lib.filenames import extension as file_extension
from veerkracht.lib.localized import UnreadableValue
from veerkracht.lib.spreadsheets import (
    UnreadableText,
    cell_text,
    csv_bytes,
    csv_reader,
    decode_text,
    formula_unescape,
    split_sep_line,
    xlsx_bytes,
)
from veerkracht.lib.uploads import UploadTooLarge, check_size

TABLE_EXTENSIONS = (".csv", ".xlsx")
# A review keeps tens to a few hundred interventions (the study this app grew from: 153 found);
# the dry run the upload page shows takes 0.5 to 2.5 ms a row, so 1,000 rows stay well within a
# request's time (5,000 took 12.7 s at load 4.5; benchmarks/metadata_preview.py).
MAX_ROWS = 1_000
MAX_COLUMNS = 200
MAX_HEADER_LENGTH = 100  # AttributeDefinition.name
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_XLSX_MEMBERS = 10_000
# Errors quoted in the one-line message of a refused import; the preview shows them all.
ERRORS_IN_MESSAGE = 3

# The names under which the intervention's own fields are shown and exported.
TITLE_COLUMN = TITLE_HEADERS[0]
SOURCE_COLUMN = SOURCE_HEADERS[0]
URL_COLUMN = URL_HEADERS[0]
TEXT_COLUMN = TEXT_HEADERS[0]

_ZIP_MAGIC = b"PK\x03\x04"
# Where the resource keeps its _RowState on an Intervention while importing one row.
_ROW_STATE = "_metadata_row"
_VALUES = "_metadata_values"
_TEXT_PREVIEW_LENGTH = 200

Action = Literal["new", "update", "unchanged", "error"]
ColumnKind = Literal["title", "source", "url", "text", "attribute", "unknown"]


class MetadataError(ValueError):
    """A refused metadata file or import; str(error) is one message for the user."""


class Table(TypedDict):
    """A sheet as plain strings, stored as JSON on ImportJob.table.

    `row_numbers[i]` is the number the spreadsheet shows for `rows[i]` (the header is row 1
    unless blank rows precede it), so messages point at the row the user sees.
    """

    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    # The sheet's column letter of each header, and what reading the sheet skipped or joined.
    columns: NotRequired[list[str]]
    notes: NotRequired[list[str]]


# Reading files ------------------------------------------------------------------------------

# Rows above the header that are looked at for it: a title or an explanation, not a table.
HEADER_SEARCH_ROWS = 20


@dataclass
class _Sheet:
    """Rows as read, with the sheet's own numbers, and what the sheet hides."""

    rows: list[tuple[int, list[str]]]
    hidden_rows: set[int] = field(default_factory=set)  # sheet row numbers
    hidden_columns: set[int] = field(default_factory=set)  # 0-based column indexes
    notes: list[str] = field(default_factory=list)
    sheet: str = ""
    other_sheets: list[str] = field(default_factory=list)


def read_table(filename: str, data: bytes, *, locale: str = "nl", sheet: str = "") -> Table:
    """Parse a .csv or .xlsx sheet of interventions, or raise MetadataError saying why not.

    `locale` decides how XLSX numbers and dates become text (as a user of that locale sees
    them in Excel); `sheet` names the sheet of a workbook to read, else the first one that has
    a column of titles is read.
    """
    name = display_name(filename)
    extension = file_extension(filename)
    if extension not in TABLE_EXTENSIONS:
        raise MetadataError(
            _("“%(name)s” is not a sheet this app reads; upload a .csv or .xlsx file.")
            % {"name": name}
        )
    if not data:
        raise MetadataError(_("“%(name)s” is empty.") % {"name": name})
    try:
        check_size(name, len(data))
    except UploadTooLarge as error:
        raise MetadataError(str(error)) from None
    if extension == ".csv":
        return _table(name, _csv_sheet(name, data))
    return _table(name, _xlsx_sheet(name, data, locale=locale, sheet=sheet.strip()))


def _csv_sheet(name: str, data: bytes) -> _Sheet:
    if data.startswith(_ZIP_MAGIC):
        raise MetadataError(
            _("“%(name)s” is an Excel workbook, not a CSV file; give it the extension .xlsx.")
            % {"name": name}
        )
    try:
        text = decode_text(data)
    except UnreadableText:
        raise MetadataError(
            _(
                "Could not read the text encoding of “%(name)s”; save it as UTF-8 CSV "
                "(in Excel: “CSV UTF-8”)."
            )
            % {"name": name}
        ) from None
    if "\x00" in text:
        raise MetadataError(
            _("“%(name)s” is not a CSV text file (it contains binary data).") % {"name": name}
        )
    # Excel writes "sep=;" as the first line when asked to say its separator.
    delimiter, text = split_sep_line(text)
    reader = csv_reader(text, lambda cell: matches_any(cell, TITLE_HEADERS), delimiter=delimiter)
    first = 2 if delimiter else 1
    try:
        rows = list(enumerate(reader, start=first))
    except csv.Error as error:
        raise MetadataError(
            _("“%(name)s” is not a readable CSV file (line %(line)s: %(error)s).")
            % {"name": name, "line": reader.line_num + first - 1, "error": error}
        ) from None
    return _Sheet(rows)


def _xlsx_sheet(name: str, data: bytes, *, locale: str, sheet: str) -> _Sheet:
    not_xlsx = _("“%(name)s” is not a valid .xlsx file; save it again from Excel as .xlsx.") % {
        "name": name
    }
    if not data.startswith(_ZIP_MAGIC):
        raise MetadataError(not_xlsx)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise MetadataError(not_xlsx) from None
    # A few kilobytes of zip can unpack to gigabytes of XML; refuse before openpyxl unpacks.
    if (
        len(members) > MAX_XLSX_MEMBERS
        or sum(member.file_size for member in members) > MAX_XLSX_UNPACKED_BYTES
    ):
        raise MetadataError(
            _("“%(name)s” unpacks to more than %(limit)s MB; it cannot be a sheet of properties.")
            % {"name": name, "limit": MAX_XLSX_UNPACKED_BYTES // (1024 * 1024)}
        )
    try:
        # data_only: a formula cell reads as the value Excel cached for it, which is what the
        # user sees. Not read-only: hidden rows and columns and merged cells are needed.
        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except Exception:
        # openpyxl raises many kinds of errors on damaged files (KeyError, XML errors, ...).
        raise MetadataError(not_xlsx) from None
    try:
        sheets = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
        if not sheets:
            raise MetadataError(_("“%(name)s” has no sheet.") % {"name": name})
        names = [ws.title for ws in sheets]
        if sheet:
            chosen = next((ws for ws in sheets if ws.title.casefold() == sheet.casefold()), None)
            if chosen is None:
                raise MetadataError(
                    _("“%(name)s” has no sheet “%(sheet)s”; its sheets are %(sheets)s.")
                    % {"name": name, "sheet": sheet, "sheets": _quoted_list(names)}
                )
        else:
            chosen = next((ws for ws in sheets if _has_title_header(_ws_head(ws))), None)
            if chosen is None:
                if len(sheets) > 1:
                    raise MetadataError(
                        _(
                            "None of the sheets of “%(name)s” (%(sheets)s) has a column with the "
                            "titles of the interventions; name that column %(titles)s, or choose "
                            "the sheet to read."
                        )
                        % {
                            "name": name,
                            "sheets": _quoted_list(names),
                            "titles": _quoted_choice(TITLE_HEADERS),
                        }
                    )
                chosen = sheets[0]
        result = _worksheet_rows(chosen, locale)
        result.sheet = chosen.title
        result.other_sheets = [title for title in names if title != chosen.title]
        _refuse_uncached_formulas(data, chosen.title, result)
        return result
    except MetadataError:
        raise
    except Exception:
        raise MetadataError(not_xlsx) from None
    finally:
        workbook.close()


def _ws_head(ws: Any) -> list[list[str]]:
    return [
        [cell_text(value) for value in row]
        for row in ws.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)
    ]


def _has_title_header(rows: Iterable[Sequence[str]]) -> bool:
    return any(matches_any(cell, TITLE_HEADERS) for row in rows for cell in row if cell)


def _worksheet_rows(ws: Any, locale: str) -> _Sheet:
    hidden_columns: set[int] = set()
    for dimension in ws.column_dimensions.values():
        if dimension.hidden and dimension.min:
            hidden_columns.update(range(dimension.min - 1, (dimension.max or dimension.min)))
    hidden_rows = {number for number, dim in ws.row_dimensions.items() if dim.hidden}
    rows = []
    for number, cells in enumerate(ws.iter_rows(min_row=1, min_col=1), start=1):
        rows.append((number, [cell_text(cell.value, cell.number_format, locale) for cell in cells]))
        # Counted while reading, so a sheet of a million rows is refused without holding them.
        if number > MAX_ROWS + HEADER_SEARCH_ROWS + 2:
            break
    return _Sheet(rows, hidden_rows=hidden_rows, hidden_columns=hidden_columns)


def _refuse_uncached_formulas(data: bytes, title: str, sheet: _Sheet) -> None:
    """A formula whose result was never saved (a file written by a program, not Excel) reads
    as empty; refuse it rather than import a blank the user never saw."""
    formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        values = dict(sheet.rows)
        for number, row in enumerate(formulas[title].iter_rows(min_row=1, min_col=1), start=1):
            if number > len(values):
                break
            for column, cell in enumerate(row):
                if cell.data_type != "f":
                    continue
                shown = values.get(number, [])
                if column >= len(shown) or shown[column] == "":
                    raise MetadataError(
                        _(
                            "Cell %(cell)s holds a formula whose result is not saved in the "
                            "file; open the file in Excel and save it, or paste the values."
                        )
                        % {"cell": f"{get_column_letter(column + 1)}{number}"}
                    )
    finally:
        formulas.close()


def _quoted_list(names: Sequence[str]) -> str:
    return ", ".join(f"“{name}”" for name in names)


def _quoted_choice(names: Sequence[str]) -> str:
    quoted = [f"“{name}”" for name in names]
    return _("%(names)s or %(last)s") % {"names": ", ".join(quoted[:-1]), "last": quoted[-1]}


def _column_key(header: str) -> str:
    """Two headers with one key would fill the same field, so a sheet may hold each key once."""
    for kind, names in (
        ("title", TITLE_HEADERS),
        ("source", SOURCE_HEADERS),
        ("url", URL_HEADERS),
        ("text", TEXT_HEADERS),
    ):
        if matches_any(header, names):
            return kind
    return "attribute:" + fold_header(canonical_attribute_name(header))


def _header_position(rows: Sequence[list[str]]) -> int:
    """The header row: the first that names the title column, else the first mostly filled.

    Title rows and notes above a table fill one cell or two; the header fills most columns.
    """
    head = rows[:HEADER_SEARCH_ROWS]
    for position, row in enumerate(head):
        if _has_title_header([row]):
            return position
    filled = [sum(1 for cell in row if cell) for row in head]
    widest = max(filled)
    for position, count in enumerate(filled):
        if 2 * count >= widest and count >= min(2, widest):
            return position
    return 0


def _is_number_like(cell: str) -> bool:
    return bool(re.fullmatch(r"[\d\s.,%€$/-]+", cell))


def _joined_header(header: list[str], below: list[str]) -> list[str] | None:
    """A two-row header joined ("Leeftijd" over "van" and "tot": "Leeftijd van", "Leeftijd
    tot"), or None when `below` is the first data row.

    `below` is a second header row when each of its cells stands under a header cell that
    spans several columns (merged, so the cells to its right are empty in the first row), and
    none of them is a number.
    """
    width = max(len(header), len(below))
    header = header + [""] * (width - len(header))
    below = below + [""] * (width - len(below))
    groups: list[tuple[str, int]] = []  # per column: the header above it, and where it starts
    for index, cell in enumerate(header):
        if cell:
            groups.append((cell, index))
        elif groups:
            groups.append(groups[-1])
        else:
            groups.append(("", index))
    spans = Counter(start for _text, start in groups)
    filled = [index for index, cell in enumerate(below) if cell]
    if not filled or not any(not header[index] for index in filled):
        return None
    for index in filled:
        text, start = groups[index]
        if not text or spans[start] < 2 or _is_number_like(below[index]):
            return None
    return [
        f"{groups[index][0]} {below[index]}" if below[index] else groups[index][0]
        for index in range(width)
    ]


def _table(name: str, sheet: _Sheet) -> Table:
    rows: list[list[str]] = []
    numbers: list[int] = []
    skipped_hidden: list[int] = []
    for number, raw in sheet.rows:
        cells = [formula_unescape(cell.strip()) for cell in raw]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if number in sheet.hidden_rows:
            skipped_hidden.append(number)
            continue
        if len(cells) > MAX_COLUMNS:
            raise MetadataError(
                _("“%(name)s” has more than %(limit)s columns.")
                % {"name": name, "limit": MAX_COLUMNS}
            )
        if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise MetadataError(
                _("“%(name)s” has more than %(limit)s rows; split it into smaller files.")
                % {"name": name, "limit": MAX_ROWS}
            )
        rows.append(cells)
        numbers.append(number)
    if not rows:
        raise MetadataError(_("“%(name)s” holds no rows.") % {"name": name})
    notes = list(sheet.notes)
    if sheet.sheet and sheet.other_sheets:
        notes.append(
            _("Read the sheet “%(sheet)s”; not read: %(others)s.")
            % {"sheet": sheet.sheet, "others": _quoted_list(sheet.other_sheets)}
        )
    position = _header_position(rows)
    if position:
        notes.append(
            _("Skipped above the header (row %(row)s): %(lines)s.")
            % {
                "row": numbers[position],
                "lines": "; ".join(" ".join(c for c in row if c) for row in rows[:position]),
            }
        )
    header, header_number = rows[position], numbers[position]
    rows, numbers = rows[position + 1 :], numbers[position + 1 :]
    if rows and (joined := _joined_header(header, rows[0])) is not None:
        notes.append(
            _("Rows %(first)s and %(second)s together are the header.")
            % {"first": header_number, "second": numbers[0]}
        )
        header, rows, numbers = joined, rows[1:], numbers[1:]
    if not rows:
        raise MetadataError(
            _("“%(name)s” has a header row but no interventions under it.") % {"name": name}
        )
    if len(rows) > MAX_ROWS:
        raise MetadataError(
            _("“%(name)s” has more than %(limit)s rows; split it into smaller files.")
            % {"name": name, "limit": MAX_ROWS}
        )
    if skipped_hidden:
        notes.append(
            _("Hidden rows skipped: %(rows)s.")
            % {"rows": ", ".join(str(number) for number in skipped_hidden)}
        )
    width = max(len(header), *(len(row) for row in rows))
    header = header + [""] * (width - len(header))
    rows = [row + [""] * (width - len(row)) for row in rows]

    keep: list[int] = []
    seen: dict[str, int] = {}
    hidden_names: list[str] = []
    for index, heading in enumerate(header):
        letter = get_column_letter(index + 1)
        if index in sheet.hidden_columns:
            if heading or any(row[index] for row in rows):
                hidden_names.append(f"{letter} (“{heading}”)" if heading else letter)
            continue
        if not heading:
            if any(row[index] for row in rows):
                raise MetadataError(
                    _("Column %(column)s has values but no header in row %(row)s.")
                    % {"column": letter, "row": header_number}
                )
            continue
        if len(heading) > MAX_HEADER_LENGTH:
            raise MetadataError(
                _("The header of column %(column)s is longer than %(limit)s characters.")
                % {"column": letter, "limit": MAX_HEADER_LENGTH}
            )
        if not fold_header(heading):
            raise MetadataError(
                _("The header “%(header)s” of column %(column)s has no letters or digits.")
                % {"header": heading, "column": letter}
            )
        key = _column_key(heading)
        if key in seen:
            raise MetadataError(
                _(
                    "Columns %(first)s (“%(header)s”) and %(second)s (“%(other)s”) are the "
                    "same column."
                )
                % {
                    "first": get_column_letter(seen[key] + 1),
                    "header": header[seen[key]],
                    "second": letter,
                    "other": heading,
                }
            )
        seen[key] = index
        keep.append(index)
    if hidden_names:
        notes.append(
            _("Hidden columns skipped: %(columns)s.") % {"columns": ", ".join(hidden_names)}
        )
    if len(keep) > MAX_COLUMNS:
        raise MetadataError(
            _("“%(name)s” has more than %(limit)s columns.") % {"name": name, "limit": MAX_COLUMNS}
        )
    if "title" not in seen:
        message = _(
            "No column holds the titles of the interventions; name that column %(names)s."
        ) % {"names": _quoted_choice(TITLE_HEADERS)}
        if sheet.sheet:
            message += " " + _("Only the sheet “%(sheet)s” was read.") % {"sheet": sheet.sheet}
        raise MetadataError(message)
    title_index = seen["title"]
    first_row_with: dict[str, int] = {}
    for row, number in zip(rows, numbers, strict=True):
        # Titles are matched as the services store them: runs of whitespace are one space.
        row[title_index] = " ".join(row[title_index].split())
        title = row[title_index]
        if not title:
            raise MetadataError(_("Row %(row)s has no title.") % {"row": number})
        if title in first_row_with:
            raise MetadataError(
                _("Row %(row)s and row %(other)s both have the title “%(title)s”.")
                % {"row": first_row_with[title], "other": number, "title": title}
            )
        first_row_with[title] = number
    return {
        "headers": [header[index] for index in keep],
        "rows": [[row[index] for index in keep] for row in rows],
        "row_numbers": numbers,
        "columns": [get_column_letter(index + 1) for index in keep],
        "notes": notes,
    }


# Columns ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a sheet and what it fills. `name` is what the preview and export show."""

    index: int
    header: str
    kind: ColumnKind
    name: str
    definition: AttributeDefinition | None = None


def map_columns(*, study: Study, headers: Sequence[str]) -> list[Column]:
    definitions = {definition.key: definition for definition in study.attributes.all()}
    columns = []
    for index, header in enumerate(headers):
        key = _column_key(header)
        if key == "title":
            columns.append(Column(index, header, "title", TITLE_COLUMN))
        elif key == "source":
            columns.append(Column(index, header, "source", SOURCE_COLUMN))
        elif key == "url":
            columns.append(Column(index, header, "url", URL_COLUMN))
        elif key == "text":
            columns.append(Column(index, header, "text", TEXT_COLUMN))
        elif (definition := definitions.get(key.removeprefix("attribute:"))) is not None:
            columns.append(Column(index, header, "attribute", definition.name, definition))
        else:
            # Offered under the Dutch property name when it is an English alias, so that the
            # attribute made from it matches the column (and the study's other sheets).
            name = " ".join(canonical_attribute_name(header).split())
            columns.append(Column(index, header, "unknown", name))
    return columns


def unknown_columns(*, study: Study, table: Mapping[str, Any]) -> list[str]:
    """Names of the columns that match no property of the study: candidates for new ones."""
    return [
        c.name for c in map_columns(study=study, headers=table["headers"]) if c.kind == "unknown"
    ]


# The import-export resource ----------------------------------------------------------------


class CellWidget(widgets.Widget):
    """Plain strings both ways; the export's writers escape formula-like cells
    (`veerkracht.lib.spreadsheets`)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        # read_table has taken off the export's apostrophe already.
        return str(value).strip() if value is not None else ""

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class TitleWidget(CellWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return " ".join(super().clean(value).split())


class UrlWidget(CellWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        url = super().clean(value)
        # Sheets often hold "www.example.nl/x"; the URL field needs a scheme, and the preview
        # shows the completed address before anything is stored.
        if url and "://" not in url and "." in url and not re.search(r"\s", url):
            url = "https://" + url
        return url


class TextWidget(CellWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return normalize_text(str(value)) if value is not None else ""


class TextField(Field):
    def save(
        self, instance: Intervention, row: Mapping[str, Any], is_m2m: bool = False, **kwargs: Any
    ) -> None:
        # An empty text cell keeps the text: a sheet may carry texts for some rows only, and a
        # blank cell must not wipe a description (or, once coded, fail the whole row).
        if self.clean(row, **kwargs):
            super().save(instance, row, is_m2m, **kwargs)


class AttributeField(Field):
    """A property column. The cleaned value waits on the instance until the row is saved."""

    def __init__(self, definition: AttributeDefinition, locale: str) -> None:
        super().__init__(
            attribute=f"attribute_{definition.pk}", column_name=definition.name, widget=CellWidget()
        )
        self.definition = definition
        self.locale = locale

    def get_value(self, instance: Intervention | None) -> str:
        if instance is None:
            return ""
        state = _row_state(instance)
        if state is None:  # exporting: numbers and dates as the study's locale writes them
            return services.show_attribute_value(
                self.definition, _current_values(instance).get(self.definition.pk, ""), self.locale
            )
        return state.pending.get(
            self.definition.pk, state.values_before.get(self.definition.pk, "")
        )

    def save(
        self, instance: Intervention, row: Mapping[str, Any], is_m2m: bool = False, **kwargs: Any
    ) -> None:
        raw = self.clean(row, **kwargs)
        try:
            value = services.clean_attribute_value(self.definition, raw, locale=self.locale)
        except services.ServiceError as error:
            raise ValidationError(str(error)) from None
        state = _row_state(instance)
        assert state is not None, "after_init_instance sets the row state"
        state.pending[self.definition.pk] = value


def _current_values(instance: Intervention) -> dict[int, str]:
    """Stored values by definition id, from the prefetch cache of the resource's queryset."""
    if instance.pk is None:
        return {}
    # Read once per instance: every property column asks, and .all() builds a queryset each time.
    cached = instance.__dict__.get(_VALUES)
    if not isinstance(cached, dict):
        cached = {value.definition_id: value.value for value in instance.attribute_values.all()}
        instance.__dict__[_VALUES] = cached
    return cached


def _model_values(instance: Intervention) -> tuple[str, str, str, str]:
    return (instance.title, instance.source, instance.url, instance.text)


@dataclass
class _RowState:
    """An intervention as it was before its row, and the property values the row brings."""

    new: bool
    model_before: tuple[str, str, str, str]
    values_before: dict[int, str]
    pending: dict[int, str] = field(default_factory=dict)


def _row_state(instance: Intervention) -> _RowState | None:
    # Kept in the instance's __dict__: import-export hands only the instance from hook to hook,
    # and its deepcopy of the original carries the state along.
    state = instance.__dict__.get(_ROW_STATE)
    return state if isinstance(state, _RowState) else None


class InterventionResource(resources.ModelResource):
    """Interventions of one study as rows: title, databank, URL, text and one column per property.

    Rows are matched by title within the study only. Updates go through
    `services.intervention_update`, so a coded text is refused with the services' message.
    """

    title = Field(attribute="title", column_name=TITLE_COLUMN, widget=TitleWidget())
    source = Field(attribute="source", column_name=SOURCE_COLUMN, widget=CellWidget())
    url = Field(attribute="url", column_name=URL_COLUMN, widget=UrlWidget())
    text = TextField(attribute="text", column_name=TEXT_COLUMN, widget=TextWidget())

    class Meta:
        model = Intervention
        fields = ("title", "source", "url", "text")
        import_id_fields = ("title",)
        # One query for all matching interventions instead of one per row.
        instance_loader_class = CachedInstanceLoader
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True
        store_instance = True
        clean_model_instances = True
        use_transactions = True

    def __init__(
        self,
        *,
        study: Study,
        definitions: Iterable[AttributeDefinition],
        with_text: bool = False,
    ) -> None:
        super().__init__()
        self.study = study
        if not with_text:
            del self.fields["text"]
        self.definitions = {definition.pk: definition for definition in definitions}
        for definition in self.definitions.values():
            self.fields[f"attribute_{definition.pk}"] = AttributeField(definition, study.language)
        # Model field name -> column, for the messages of the model's own validation.
        self.column_names = {
            "title": TITLE_COLUMN,
            "source": SOURCE_COLUMN,
            "url": URL_COLUMN,
            "text": TEXT_COLUMN,
        }
        # Changes per import-export row number (1-based), filled as rows are imported.
        self.row_changes: dict[int, list[tuple[str, str, str]]] = {}

    def get_queryset(self) -> Any:
        return Intervention.objects.filter(study=self.study).prefetch_related("attribute_values")

    def init_instance(self, row: Any = None) -> Intervention:
        return Intervention(study=self.study)

    def after_init_instance(
        self, instance: Intervention, new: bool, row: Any, **kwargs: Any
    ) -> None:
        instance.__dict__[_ROW_STATE] = _RowState(
            new=new, model_before=_model_values(instance), values_before=_current_values(instance)
        )

    def import_instance(self, instance: Intervention, row: Any, **kwargs: Any) -> None:
        # Collect every column's problem, so the preview lists them all at once.
        errors: dict[str, list[str]] = {}
        for resource_field in self.get_import_fields():
            try:
                self.import_field(resource_field, instance, row, **kwargs)
            except ValidationError as error:
                errors[resource_field.column_name] = error.messages
            except ValueError as error:
                errors[resource_field.column_name] = [str(error)]
        if errors:
            raise ValidationError(errors)

    def validate_instance(
        self,
        instance: Intervention,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        messages = (
            ValidationError(import_validation_errors).messages if import_validation_errors else []
        )
        try:
            # Titles are unique by construction (one per sheet, matched by title), and the
            # study was set by the resource: skip the checks that cost a query per row.
            instance.full_clean(
                exclude=["study", "previous_version"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            for name, field_messages in error.message_dict.items():
                column = self.column_names.get(name, name)
                # The value too, so the user finds the cell (a text is too long to quote).
                value = str(getattr(instance, name, "") or "") if name != "text" else ""
                where = f"{column} “{_short(column, value)}”" if value else column
                messages.extend(f"{where}: {message}" for message in field_messages)
        if messages:
            raise ValidationError(messages)

    def do_instance_save(self, instance: Intervention, is_create: bool) -> None:
        if is_create:
            instance.save(force_insert=True)
            if instance.text:
                # What intervention_create does for a new text (services keeps that private).
                services.sections_rebuild(intervention=instance)
            return
        state = _row_state(instance)
        if state is not None and _model_values(instance) == state.model_before:
            return  # only properties changed; after_save_instance writes them
        try:
            services.intervention_update(
                intervention=instance,
                title=instance.title,
                source=instance.source,
                url=instance.url,
                text=instance.text if "text" in self.fields else None,
            )
        except services.ServiceError as error:
            raise ValidationError(str(error)) from None

    def after_save_instance(self, instance: Intervention, row: Any, **kwargs: Any) -> None:
        state = _row_state(instance)
        assert state is not None, "after_init_instance sets the row state"
        if state.new:
            # A new intervention has no values to update or remove: one insert instead of a
            # lookup and an insert per property (the values were cleaned by AttributeField).
            AttributeValue.objects.bulk_create(
                AttributeValue(intervention=instance, definition_id=pk, value=value)
                for pk, value in state.pending.items()
                if value
            )
            return
        changed = [
            (self.definitions[pk], value)
            for pk, value in state.pending.items()
            if value != state.values_before.get(pk, "")
        ]
        if changed:
            services.attribute_values_set(intervention=instance, values=changed)

    def after_import_row(self, row: Any, row_result: RowResult, **kwargs: Any) -> None:
        instance, original = row_result.instance, row_result.original
        changes = []
        for resource_field in self.get_import_fields():
            column = resource_field.column_name
            if column == TITLE_COLUMN or column not in row:
                continue
            old = "" if original is None else str(resource_field.get_value(original) or "")
            new = str(resource_field.get_value(instance) or "")
            if isinstance(resource_field, AttributeField):
                # Shown as the user writes them: 1250,5 rather than the stored 1250.5.
                definition, locale = resource_field.definition, resource_field.locale
                old = services.show_attribute_value(definition, old, locale)
                new = services.show_attribute_value(definition, new, locale)
            if old != new:
                changes.append((column, old, new))
        self.row_changes[kwargs["row_number"]] = changes


@dataclass
class _Plan:
    """A table matched against a study: the columns, and the dataset to feed the resource."""

    columns: list[Column]
    dataset: tablib.Dataset
    row_numbers: list[int]
    titles: list[str]

    @property
    def mapped(self) -> list[Column]:
        return [column for column in self.columns if column.kind != "unknown"]

    def resource(self, study: Study) -> InterventionResource:
        return InterventionResource(
            study=study,
            definitions=[c.definition for c in self.mapped if c.definition is not None],
            with_text=any(c.kind == "text" for c in self.columns),
        )


def _plan(study: Study, table: Mapping[str, Any]) -> _Plan:
    headers = list(table.get("headers") or [])
    rows = list(table.get("rows") or [])
    numbers = list(table.get("row_numbers") or range(2, len(rows) + 2))
    columns = map_columns(study=study, headers=headers)
    title = next((c for c in columns if c.kind == "title"), None)
    if title is None:
        raise MetadataError(_("The sheet has no column with the titles of the interventions."))
    mapped = [column for column in columns if column.kind != "unknown"]
    dataset = tablib.Dataset(headers=[column.name for column in mapped])
    for row in rows:
        dataset.append([row[c.index] if c.index < len(row) else "" for c in mapped])
    titles = [row[title.index] for row in rows]
    return _Plan(columns, dataset, numbers, titles)


def _row_messages(row_result: RowResult) -> list[str]:
    if row_result.validation_error is not None:
        return list(row_result.validation_error.messages)
    return [str(error.error) for error in row_result.errors]


def _action(row_result: RowResult) -> Action:
    if row_result.import_type == RowResult.IMPORT_TYPE_NEW:
        return "new"
    if row_result.import_type == RowResult.IMPORT_TYPE_UPDATE:
        return "update"
    if row_result.import_type == RowResult.IMPORT_TYPE_SKIP:
        return "unchanged"
    return "error"


# Preview and apply -------------------------------------------------------------------------


@dataclass
class PreviewRow:
    number: int  # as the spreadsheet shows it
    title: str
    action: Action
    changes: list[tuple[str, str, str]]  # (column, old value, new value)
    errors: list[str]


@dataclass
class ColumnReading:
    """How one column of the sheet will be read, for the preview, before anything is stored."""

    letter: str  # as the sheet shows it
    header: str
    target: str  # what it fills: "Interventie", a property's name, ...
    kind: str  # "title", "source", "url", "text", "new" or a property kind
    examples: list[tuple[str, str]]  # (as in the sheet, as it will be stored and shown)
    # (row, as in the sheet, as read, as another locale would read it)
    ambiguous: list[tuple[int, str, str, str]]
    unreadable: list[tuple[int, str]]  # (row, value)


@dataclass
class Preview:
    rows: list[PreviewRow]
    headers: list[str]  # the columns that will be imported, by the names the study uses
    unknown_columns: list[str]
    counts: dict[str, int]
    has_errors: bool
    errors: list[str] = field(default_factory=list)  # problems not tied to a row
    columns: list[ColumnReading] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what reading the sheet skipped or joined

    def first_errors(self, limit: int = ERRORS_IN_MESSAGE) -> str:
        messages = self.errors + [
            _("Row %(row)s: %(error)s") % {"row": row.number, "error": error}
            for row in self.rows
            for error in row.errors
        ]
        text = " ".join(messages[:limit])
        if len(messages) > limit:
            text += " " + _("(and %(count)s more)") % {"count": len(messages) - limit}
        return text


def _short(column: str, value: str) -> str:
    if column == TEXT_COLUMN and len(value) > _TEXT_PREVIEW_LENGTH:
        return value[: _TEXT_PREVIEW_LENGTH - 1] + "…"
    return value


def _preview(plan: _Plan, resource: InterventionResource, result: Result) -> Preview:
    rows = []
    for index, row_result in enumerate(result.rows):
        number = index + 1
        action = _action(row_result)
        changes = [] if action == "error" else resource.row_changes.get(number, [])
        rows.append(
            PreviewRow(
                number=plan.row_numbers[index],
                title=plan.titles[index],
                action=action,
                changes=[(c, _short(c, old), _short(c, new)) for c, old, new in changes],
                errors=_row_messages(row_result) if action == "error" else [],
            )
        )
    counts = {"new": 0, "update": 0, "unchanged": 0, "error": 0}
    for row in rows:
        counts[row.action] += 1
    general = [str(error.error) for error in result.base_errors]
    return Preview(
        rows=rows,
        headers=[column.name for column in plan.mapped],
        unknown_columns=[column.name for column in plan.columns if column.kind == "unknown"],
        counts=counts,
        has_errors=bool(general) or counts["error"] > 0,
        errors=general,
    )


EXAMPLES_PER_COLUMN = 3


def column_readings(
    *, study: Study, table: Mapping[str, Any], columns: Sequence[Column] | None = None
) -> list[ColumnReading]:
    """How every column of `table` will be read under the study's locale: what it fills, a few
    values as stored, every ambiguous value (the locale decided) and every unreadable one."""
    headers = list(table.get("headers") or [])
    rows = list(table.get("rows") or [])
    numbers = list(table.get("row_numbers") or range(2, len(rows) + 2))
    letters = list(table.get("columns") or [get_column_letter(i + 1) for i in range(len(headers))])
    locale = study.language
    readings = []
    for column in columns if columns is not None else map_columns(study=study, headers=headers):
        definition = column.definition
        kind = definition.kind if definition is not None else column.kind
        if column.kind == "unknown":
            kind = "new"
        reader = services.READ_KINDS.get(kind)
        examples: list[tuple[str, str]] = []
        ambiguous: list[tuple[int, str, str, str]] = []
        unreadable: list[tuple[int, str]] = []
        for row, number in zip(rows, numbers, strict=False):
            raw = row[column.index] if column.index < len(row) else ""
            if not raw:
                continue
            shown = raw
            if reader is not None and definition is not None:
                try:
                    reading = reader(" ".join(raw.split()), locale)
                except UnreadableValue:
                    unreadable.append((number, raw))
                    continue
                shown = services.show_attribute_value(definition, reading.value, locale)
                if reading.ambiguous:
                    other = services.show_attribute_value(definition, reading.alternative, locale)
                    ambiguous.append((number, raw, shown, other))
            elif column.kind == "url":
                shown = UrlWidget().clean(raw)
            elif column.kind == "text":
                shown = _short(TEXT_COLUMN, raw)
            if len(examples) < EXAMPLES_PER_COLUMN and (raw, shown) not in examples:
                examples.append((raw, shown))
        readings.append(
            ColumnReading(
                letter=letters[column.index] if column.index < len(letters) else "",
                header=column.header,
                target=column.name,
                kind=kind,
                examples=examples,
                ambiguous=ambiguous,
                unreadable=unreadable,
            )
        )
    return readings


def preview_import(*, study: Study, table: Mapping[str, Any]) -> Preview:
    """What importing `table` would do, row by row and column by column; the database is left
    as it was."""
    plan = _plan(study, table)
    resource = plan.resource(study)
    # A dry run writes inside a transaction and rolls it back, so the preview runs exactly
    # the code that applying runs (services, sections, property values) and changes nothing.
    result = resource.import_data(plan.dataset, dry_run=True, use_transactions=True)
    preview = _preview(plan, resource, result)
    preview.columns = column_readings(study=study, table=table, columns=plan.columns)
    preview.notes = list(table.get("notes") or [])
    return preview


def import_job_create(
    *, study: Study, user: User, filename: str, data: bytes, sheet: str = ""
) -> ImportJob:
    table = read_table(filename, data, locale=study.language, sheet=sheet)
    return ImportJob.objects.create(
        study=study,
        created_by=user,
        filename=display_name(filename)[:255],
        table=table,
        status=ImportJob.Status.PREVIEW,
    )


def import_job_confirm(*, job: ImportJob, new_attributes: list[str]) -> None:
    """Queue a previewed import; the chosen unknown columns become new properties."""
    with transaction.atomic():
        # Locked, so a double click confirms once: the second sees the job queued.
        locked = ImportJob.objects.select_for_update().select_related("study").get(pk=job.pk)
        if locked.status != ImportJob.Status.PREVIEW:
            raise MetadataError(_("This import has been confirmed already."))
        preview = preview_import(study=locked.study, table=locked.table)
        if preview.has_errors:
            raise MetadataError(
                _("The file has errors, so nothing was imported. %(errors)s")
                % {"errors": preview.first_errors()}
            )
        chosen = list(dict.fromkeys(new_attributes))
        not_offered = [name for name in chosen if name not in preview.unknown_columns]
        if not_offered:
            raise MetadataError(
                _("“%(name)s” is not a new column of this file.") % {"name": not_offered[0]}
            )
        locked.status = ImportJob.Status.QUEUED
        locked.new_attributes = chosen
        locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "new_attributes", "updated_at"])
        job_enqueue("interventions.apply_import", locked)
    job.refresh_from_db()


def import_apply(
    *, study: Study, table: Mapping[str, Any], new_attributes: list[str]
) -> dict[str, Any]:
    """Apply `table` to the study in one transaction, or raise MetadataError and change nothing.

    Unknown columns not named in `new_attributes` are ignored. A name that has become a
    property since the preview (another import added it) is simply used.
    """
    with transaction.atomic():
        columns = map_columns(study=study, headers=table["headers"])
        unknown = [c.name for c in columns if c.kind == "unknown"]
        known = [c.name for c in columns if c.kind != "unknown"]
        added = []
        for name in dict.fromkeys(new_attributes):
            if name in unknown:
                try:
                    services.attribute_define(study=study, name=name, kind="text")
                except services.ServiceError as error:
                    raise MetadataError(str(error)) from None
                added.append(name)
            elif name not in known:
                raise MetadataError(
                    _("“%(name)s” is not a new column of this file.") % {"name": name}
                )
        plan = _plan(study, table)
        resource = plan.resource(study)
        result = resource.import_data(
            plan.dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True
        )
        preview = _preview(plan, resource, result)
        if preview.has_errors:
            # Raising inside the atomic block also drops the properties made above.
            raise MetadataError(
                _("Nothing was imported. %(errors)s") % {"errors": preview.first_errors()}
            )
    return {
        "added": preview.counts["new"],
        "updated": preview.counts["update"],
        "unchanged": preview.counts["unchanged"],
        "attributes_added": added,
    }


# Texts --------------------------------------------------------------------------------------


@dataclass
class Report:
    added: int
    updated: int


def title_from_filename(filename: str) -> str:
    base = re.split(r"[/\\]", filename)[-1]
    stem, dot, _suffix = base.rpartition(".")
    return " ".join((stem if dot and stem else base).split())


def interventions_from_texts(
    *,
    study: Study,
    texts: list[tuple[str, str]],
    source: str = "",
    headings: Mapping[str, Sequence[str]] | None = None,
) -> Report:
    """Add or update one intervention per (filename, text); all or nothing.

    The title is the file name without folders and extension; a title the study has already
    gets the new text (refused when that text is coded), keeping its title and URL. `headings`
    gives per file name the headings its structure marks (DOCX and HTML).
    """
    headings = headings or {}
    titled: dict[str, tuple[str, str]] = {}
    for filename, text in texts:
        title = title_from_filename(filename)
        if not title:
            raise MetadataError(
                _("“%(name)s” gives no title; rename the file.") % {"name": display_name(filename)}
            )
        if title in titled:
            raise MetadataError(
                _("“%(first)s” and “%(second)s” both give the title “%(title)s”.")
                % {
                    "first": display_name(titled[title][0]),
                    "second": display_name(filename),
                    "title": title,
                }
            )
        if not text.strip():
            raise MetadataError(_("“%(name)s” holds no text.") % {"name": display_name(filename)})
        titled[title] = (filename, text)
    report = Report(added=0, updated=0)
    with transaction.atomic():
        existing = {i.title: i for i in Intervention.objects.filter(study=study, title__in=titled)}
        for title, (filename, text) in titled.items():
            name = re.split(r"[/\\]", filename)[-1][:255]
            intervention = existing.get(title)
            if intervention is None:
                services.intervention_create(
                    study=study,
                    title=title,
                    text=text,
                    source=source,
                    source_filename=name,
                    headings=headings.get(filename, ()),
                )
                report.added += 1
            else:
                services.intervention_update(
                    intervention=intervention,
                    title=intervention.title,
                    source=source or intervention.source,
                    url=intervention.url,
                    text=text,
                    source_filename=name,
                    headings=headings.get(filename, ()),
                )
                report.updated += 1
    return report


# Export -------------------------------------------------------------------------------------


def export_table(*, study: Study, fmt: str) -> bytes:
    """Interventie, Databank, URL and every property, one row per intervention.

    `fmt` is "csv" or "xlsx". Numbers and dates are written as the study's locale writes them:
    for a Dutch study a CSV that Dutch Excel opens directly (UTF-8 with BOM, semicolons, a
    decimal comma, dd-mm-jjjj), and in an XLSX numbers and dates as number and date cells.
    Both import back unchanged.
    """
    definitions = list(study.attributes.all())
    resource = InterventionResource(study=study, definitions=definitions)
    dataset = resource.export(resource.get_queryset().order_by("title"))
    # Headers are property names, user text like the cells: both go through the one rule
    # for cells a spreadsheet would run (`formula_escape`).
    headers, rows = list(dataset.headers or []), [list(row) for row in dataset]
    if fmt == "csv":
        delimiter = ";" if study.language == "nl" else ","
        return csv_bytes(headers, rows, delimiter=delimiter)
    if fmt == "xlsx":
        kinds = {d.name: d.kind for d in definitions}
        column_kinds = [kinds.get(header, "") for header in headers]
        typed = [
            [
                _xlsx_cell(value, kind, study.language)
                for value, kind in zip(row, column_kinds, strict=True)
            ]
            for row in rows
        ]
        return xlsx_bytes(headers, typed, title="Interventies")
    raise MetadataError(_("Export as csv or xlsx, not “%(format)s”.") % {"format": fmt})


def _xlsx_cell(shown: Any, kind: str, locale: str) -> Any:
    """A property value as an XLSX cell: a number or date cell where the property is one."""
    if not shown or kind not in services.READ_KINDS:
        return shown
    value = services.READ_KINDS[kind](str(shown), locale).value
    if kind == AttributeDefinition.Kind.DATE:
        return date.fromisoformat(value)
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)
