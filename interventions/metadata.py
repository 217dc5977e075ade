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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

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
from veerkracht.lib.spreadsheets import (
    UnreadableText,
    cell_text,
    csv_bytes,
    csv_reader,
    decode_text,
    formula_unescape,
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


# Reading files ------------------------------------------------------------------------------


def read_table(filename: str, data: bytes) -> Table:
    """Parse a .csv or .xlsx sheet of interventions, or raise MetadataError saying why not."""
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
    rows = _csv_rows(name, data) if extension == ".csv" else _xlsx_rows(name, data)
    return _table(name, rows)


def _csv_rows(name: str, data: bytes) -> Iterator[tuple[int, list[str]]]:
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
    reader = csv_reader(text)
    try:
        yield from enumerate(reader, start=1)
    except csv.Error as error:
        raise MetadataError(
            _("“%(name)s” is not a readable CSV file (line %(line)s: %(error)s).")
            % {"name": name, "line": reader.line_num, "error": error}
        ) from None


def _xlsx_rows(name: str, data: bytes) -> Iterator[tuple[int, list[str]]]:
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
        # data_only=False: a formula cell shows as a formula, so it can be refused, instead of
        # as the value Excel cached for it last (which another program may never have written).
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:
        # openpyxl raises many kinds of errors on damaged files (KeyError, XML errors, ...).
        raise MetadataError(not_xlsx) from None
    try:
        if not workbook.worksheets:
            raise MetadataError(_("“%(name)s” has no sheet.") % {"name": name})
        sheet = workbook.worksheets[0]
        # The stored sheet dimension may be wrong (some programs write "A1"); read every cell.
        sheet.reset_dimensions()
        for number, cells in enumerate(sheet.iter_rows(min_row=1, min_col=1), start=1):
            values = []
            for column, cell in enumerate(cells, start=1):
                if cell.data_type == "f":
                    raise MetadataError(
                        _("Cell %(cell)s holds a formula; save the sheet with values only.")
                        % {"cell": f"{get_column_letter(column)}{number}"}
                    )
                values.append(cell_text(cell.value))
            yield number, values
    except MetadataError:
        raise
    except Exception:
        raise MetadataError(not_xlsx) from None
    finally:
        workbook.close()


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


def _table(name: str, numbered_rows: Iterable[tuple[int, list[str]]]) -> Table:
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, raw in numbered_rows:
        cells = [formula_unescape(cell.strip()) for cell in raw]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if len(cells) > MAX_COLUMNS:
            raise MetadataError(
                _("“%(name)s” has more than %(limit)s columns.")
                % {"name": name, "limit": MAX_COLUMNS}
            )
        # Counted while reading, so a sheet of a million rows is refused without holding them.
        if len(rows) > MAX_ROWS:
            raise MetadataError(
                _("“%(name)s” has more than %(limit)s rows; split it into smaller files.")
                % {"name": name, "limit": MAX_ROWS}
            )
        rows.append(cells)
        numbers.append(number)
    if not rows:
        raise MetadataError(_("“%(name)s” holds no rows.") % {"name": name})
    header, header_number = rows[0], numbers[0]
    rows, numbers = rows[1:], numbers[1:]
    if not rows:
        raise MetadataError(
            _("“%(name)s” has a header row but no interventions under it.") % {"name": name}
        )
    width = max(len(header), *(len(row) for row in rows))
    header = header + [""] * (width - len(header))
    rows = [row + [""] * (width - len(row)) for row in rows]

    keep: list[int] = []
    seen: dict[str, int] = {}
    for index, heading in enumerate(header):
        letter = get_column_letter(index + 1)
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
    if len(keep) > MAX_COLUMNS:
        raise MetadataError(
            _("“%(name)s” has more than %(limit)s columns.") % {"name": name, "limit": MAX_COLUMNS}
        )
    if "title" not in seen:
        raise MetadataError(
            _("No column holds the titles of the interventions; name that column %(names)s.")
            % {"names": _quoted_choice(TITLE_HEADERS)}
        )
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

    def __init__(self, definition: AttributeDefinition) -> None:
        super().__init__(
            attribute=f"attribute_{definition.pk}", column_name=definition.name, widget=CellWidget()
        )
        self.definition = definition

    def get_value(self, instance: Intervention | None) -> str:
        if instance is None:
            return ""
        state = _row_state(instance)
        if state is None:  # exporting
            return _current_values(instance).get(self.definition.pk, "")
        return state.pending.get(
            self.definition.pk, state.values_before.get(self.definition.pk, "")
        )

    def save(
        self, instance: Intervention, row: Mapping[str, Any], is_m2m: bool = False, **kwargs: Any
    ) -> None:
        raw = self.clean(row, **kwargs)
        try:
            value = services.clean_attribute_value(self.definition, raw)
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
            self.fields[f"attribute_{definition.pk}"] = AttributeField(definition)
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
                messages.extend(f"{column}: {message}" for message in field_messages)
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
class Preview:
    rows: list[PreviewRow]
    headers: list[str]  # the columns that will be imported, by the names the study uses
    unknown_columns: list[str]
    counts: dict[str, int]
    has_errors: bool
    errors: list[str] = field(default_factory=list)  # problems not tied to a row

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


def preview_import(*, study: Study, table: Mapping[str, Any]) -> Preview:
    """What importing `table` would do, row by row; the database is left as it was."""
    plan = _plan(study, table)
    resource = plan.resource(study)
    # A dry run writes inside a transaction and rolls it back, so the preview runs exactly
    # the code that applying runs (services, sections, property values) and changes nothing.
    result = resource.import_data(plan.dataset, dry_run=True, use_transactions=True)
    return _preview(plan, resource, result)


def import_job_create(*, study: Study, user: User, filename: str, data: bytes) -> ImportJob:
    table = read_table(filename, data)
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
    *, study: Study, texts: list[tuple[str, str]], source: str = ""
) -> Report:
    """Add or update one intervention per (filename, text); all or nothing.

    The title is the file name without folders and extension; a title the study has already
    gets the new text (refused when that text is coded), keeping its title and URL.
    """
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
                    study=study, title=title, text=text, source=source, source_filename=name
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
                )
                report.updated += 1
    return report


# Export -------------------------------------------------------------------------------------


def export_table(*, study: Study, fmt: str) -> bytes:
    """Interventie, Databank, URL and every property, one row per intervention.

    `fmt` is "csv" or "xlsx". The CSV is what Dutch Excel opens directly (UTF-8 with BOM,
    semicolons); both import back unchanged.
    """
    resource = InterventionResource(study=study, definitions=study.attributes.all())
    dataset = resource.export(resource.get_queryset().order_by("title"))
    # Headers are property names, user text like the cells: both go through the one rule
    # for cells a spreadsheet would run (`formula_escape`).
    headers, rows = list(dataset.headers or []), [list(row) for row in dataset]
    if fmt == "csv":
        return csv_bytes(headers, rows, delimiter=";")
    if fmt == "xlsx":
        return xlsx_bytes(headers, rows, title="Interventies")
    raise MetadataError(_("Export as csv or xlsx, not “%(format)s”.") % {"format": fmt})
