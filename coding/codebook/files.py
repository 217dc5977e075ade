"""Codebook files: JSON, CSV and Excel in both directions; Markdown, Word and SVG out.

Every function takes or returns plain :class:`~coding.codebook.tree.CodeNode` trees; none
touches the database. Importers end with :func:`~coding.codebook.tree.validate_tree`, so
whatever a file holds, the caller gets a tree within the app's limits or a
:class:`~coding.codebook.tree.CodebookFormatError` whose text can be shown to the user as it is.

Table layout (CSV and XLSX), one row per code, parents before children::

    path,name,definition,inclusion,exclusion,example,color,origin,guid
    Sociale hulpbronnen,Sociale hulpbronnen,…,,,,#4c78a8,deductive,0b0c…
    Sociale hulpbronnen > Doelen,Doelen,…

When reading, a file may instead give ``name`` and ``parent`` (the parent's name, or its path
when the name alone is ambiguous). Headers may be Dutch (pad, naam, ouder, definitie, …) and are
matched ignoring case, accents and spaces.

Exported CSV cells that a spreadsheet would run as a formula get a leading apostrophe and the
reader takes it off again (`veerkracht.lib.spreadsheets`), so a CSV round trip gives back the
same text.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

import docx
import openpyxl
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import _Cell
from lxml import etree

from coding.codebook.tree import (
    MAX_CODES,
    MAX_DEPTH,
    CodebookFormatError,
    CodeNode,
    name_key,
    normalize_color,
    normalize_guid,
    normalize_origin,
    path_string,
    split_path,
    validate_tree,
    walk,
)
from interventions.headers import fold_header
from veerkracht.lib.spreadsheets import (
    UnreadableText,
    cell_text,
    csv_bytes,
    csv_reader,
    decode_text,
    formula_unescape,
    xlsx_bytes,
)
from veerkracht.lib.spreadsheets import (
    xml_text as spreadsheet_xml_text,
)

TABLE_COLUMNS = (
    "path",
    "name",
    "definition",
    "inclusion",
    "exclusion",
    "example",
    "color",
    "origin",
    "guid",
)
MAX_XLSX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_XLSX_MEMBERS = 10_000

# Which field a folded header fills. Dutch first, then English and common variants.
_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "path": ("pad", "codepad", "path", "codepath"),
    "name": ("naam", "codenaam", "code", "name", "codename"),
    "parent": (
        "ouder",
        "oudercode",
        "bovenliggendecode",
        "bovenliggend",
        "parent",
        "parentcode",
        "parentpath",
    ),
    "definition": ("definitie", "omschrijving", "beschrijving", "definition", "description"),
    "inclusion": (
        "inclusiecriteria",
        "inclusiecriterium",
        "inclusie",
        "inclusion",
        "inclusioncriteria",
        "inclusioncriterion",
    ),
    "exclusion": (
        "exclusiecriteria",
        "exclusiecriterium",
        "exclusie",
        "exclusion",
        "exclusioncriteria",
        "exclusioncriterion",
    ),
    "example": ("voorbeeld", "voorbeeldcitaat", "citaat", "example", "examplequote", "quote"),
    "color": ("kleur", "color", "colour"),
    "origin": ("herkomst", "oorsprong", "origin"),
    "guid": ("guid", "uuid"),
}
_HEADER_FIELDS: dict[str, str] = {
    fold_header(alias): name for name, aliases in _HEADER_ALIASES.items() for alias in aliases
}

# Labels inside exported documents follow the language the user picks for the appendix, not the
# interface language, so they are chosen explicitly rather than through gettext.
_LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "code": "Code",
        "definition": "Definitie",
        "example": "Voorbeeld",
        "inclusion": "Inclusie",
        "exclusion": "Exclusie",
        "legend": (
            "Vetgedrukt: thema. Onderstreept: inductieve code (toegevoegd tijdens het "
            "coderen); de overige codes zijn deductief (uit de theorie)."
        ),
        "markdown_legend": (
            "(D) deductief, uit de theorie; (I) inductief, toegevoegd tijdens het coderen."
        ),
        "svg_legend": "doorgetrokken rand: deductief; gestippelde rand: inductief",
    },
    "en": {
        "code": "Code",
        "definition": "Definition",
        "example": "Example",
        "inclusion": "Inclusion",
        "exclusion": "Exclusion",
        "legend": (
            "Bold: theme. Underlined: inductive code (added while coding); the other codes "
            "are deductive (from theory)."
        ),
        "markdown_legend": "(D) deductive, from theory; (I) inductive, added while coding.",
        "svg_legend": "solid border: deductive; dashed border: inductive",
    },
}


def _labels(language: str) -> dict[str, str]:
    return _LABELS.get(language.split("-")[0].lower(), _LABELS["nl"])


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold (`spreadsheets.xml_text`)."""
    return spreadsheet_xml_text(text)


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------


def _node_dict(node: CodeNode) -> dict[str, Any]:
    return {
        "name": node.name,
        "definition": node.definition,
        "inclusion": node.inclusion,
        "exclusion": node.exclusion,
        "example": node.example,
        "color": node.color,
        "origin": node.origin,
        "guid": node.guid,
        "children": [_node_dict(child) for child in node.children],
    }


def to_json(nodes: list[CodeNode]) -> bytes:
    document = {"codes": [_node_dict(node) for node in nodes]}
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def from_json(data: bytes) -> list[CodeNode]:
    """Read our JSON format; missing optional keys are fine, values of the wrong type are not."""
    if not data.strip():
        raise CodebookFormatError(_("The file is empty."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CodebookFormatError(_("The file is not UTF-8 text.")) from error
    try:
        document = json.loads(
            text, parse_int=_json_number, parse_float=_json_number, parse_constant=_json_number
        )
    except json.JSONDecodeError as error:
        raise CodebookFormatError(
            _("The file is not valid JSON (line %(line)d): %(reason)s")
            % {"line": error.lineno, "reason": error.msg}
        ) from error
    except ValueError as error:
        # `_json_number`'s refusal, or Python's own limit on the digits of an integer.
        raise CodebookFormatError(
            _("The file holds a number no codebook has (%(reason)s).")
            % {"reason": str(error)[:120]}
        ) from error
    except RecursionError as error:
        raise CodebookFormatError(_("The file is nested too deeply to be a codebook.")) from error
    if isinstance(document, dict):
        if "codes" not in document:
            raise CodebookFormatError(_("The file has no “codes” list."))
        codes = document["codes"]
    else:
        # A bare list of codes is what someone hand-writing the file is likely to produce.
        codes = document
    counter = [0]
    nodes = _json_nodes(codes, "codes", 1, counter)
    if not nodes:
        raise CodebookFormatError(_("The file holds no codes."))
    validate_tree(nodes)
    return nodes


# Numbers play no part in a codebook file (positions come from the order); any that a file
# holds must still be sane, not a 100,000-digit integer or Infinity.
_JSON_NUMBER_DIGITS = 30


def _json_number(literal: str) -> float:
    if len(literal) > _JSON_NUMBER_DIGITS or literal in ("NaN", "Infinity", "-Infinity"):
        raise ValueError(_("“%(number)s…”") % {"number": literal[:20]})
    return float(literal)


def _json_nodes(items: object, where: str, depth: int, counter: list[int]) -> list[CodeNode]:
    if not isinstance(items, list):
        raise CodebookFormatError(_("%(where)s: must be a list of codes.") % {"where": where})
    if items and depth > MAX_DEPTH:
        raise CodebookFormatError(
            _("%(where)s: codes are nested deeper than %(max)d levels.")
            % {"where": where, "max": MAX_DEPTH}
        )
    nodes = []
    for index, item in enumerate(items):
        here = f"{where}[{index}]"
        counter[0] += 1
        if counter[0] > MAX_CODES:
            raise CodebookFormatError(
                _("The file has more than %(max)s codes; at most %(max)s are accepted.")
                % {"max": number_format(MAX_CODES, force_grouping=True)}
            )
        if not isinstance(item, dict):
            raise CodebookFormatError(
                _("%(where)s: must be an object with a name.") % {"where": here}
            )
        name = _json_text(item, "name", here)
        if not name.strip():
            raise CodebookFormatError(_("%(where)s: name is missing.") % {"where": here})
        raw_color = _json_text(item, "color", here) or _json_text(item, "colour", here)
        color = normalize_color(raw_color)
        if color is None:
            raise CodebookFormatError(
                _("%(where)s: the colour ‘%(color)s’ is not understood; use #rrggbb.")
                % {"where": here, "color": raw_color}
            )
        raw_origin = _json_text(item, "origin", here)
        origin = normalize_origin(raw_origin)
        if origin is None:
            raise CodebookFormatError(
                _("%(where)s: the origin ‘%(origin)s’ must be deductive or inductive.")
                % {"where": here, "origin": raw_origin}
            )
        raw_guid = _json_text(item, "guid", here)
        guid = normalize_guid(raw_guid)
        if guid is None:
            raise CodebookFormatError(
                _("%(where)s: the guid ‘%(guid)s’ is not a UUID.")
                % {"where": here, "guid": raw_guid}
            )
        children = item.get("children")
        nodes.append(
            CodeNode(
                name=name.strip(),
                definition=_json_text(item, "definition", here),
                inclusion=_json_text(item, "inclusion", here),
                exclusion=_json_text(item, "exclusion", here),
                example=_json_text(item, "example", here),
                color=color,
                origin=origin,
                guid=guid,
                children=[]
                if children is None
                else _json_nodes(children, f"{here}.children", depth + 1, counter),
            )
        )
    return nodes


def _json_text(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CodebookFormatError(
            _("%(where)s: %(key)s must be text.") % {"where": where, "key": key}
        )
    return value


# --------------------------------------------------------------------------------------------
# CSV and XLSX out
# --------------------------------------------------------------------------------------------


def _table_rows(nodes: list[CodeNode]) -> Iterator[list[str]]:
    for path, node in walk(nodes):
        yield [
            path_string(path),
            node.name,
            node.definition,
            node.inclusion,
            node.exclusion,
            node.example,
            node.color,
            node.origin,
            node.guid,
        ]


def to_csv(nodes: list[CodeNode]) -> bytes:
    """UTF-8 with a BOM (so Excel recognises the encoding), comma-separated, CRLF rows."""
    return csv_bytes(TABLE_COLUMNS, _table_rows(nodes))


def to_xlsx(nodes: list[CodeNode]) -> bytes:
    widths = (40, 28, 60, 40, 40, 40, 10, 12, 38)
    return xlsx_bytes(TABLE_COLUMNS, _table_rows(nodes), title="Codebook", widths=widths)


# --------------------------------------------------------------------------------------------
# CSV and XLSX in
# --------------------------------------------------------------------------------------------


@dataclass
class _Table:
    headers: list[str]
    # (row number as a spreadsheet shows it, cells); blank rows left out.
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    data_rows: int = 0


def from_table(filename: str, data: bytes) -> list[CodeNode]:
    """Read a codebook from a .csv or .xlsx file (see the module docstring for the layout)."""
    if not data.strip():
        raise CodebookFormatError(_("The file is empty."))
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in ("csv", "txt", "tsv"):
        table = _read_csv(data)
    elif extension in ("xlsx", "xlsm"):
        table = _read_xlsx(data)
    else:
        raise CodebookFormatError(
            _("Files of type ‘%(extension)s’ cannot be read; use .csv or .xlsx.")
            % {"extension": extension or filename}
        )
    if table.data_rows > MAX_CODES:
        raise CodebookFormatError(
            _("The file has %(rows)s rows; at most %(max)s codes are accepted.")
            % {
                "rows": number_format(table.data_rows, force_grouping=True),
                "max": number_format(MAX_CODES, force_grouping=True),
            }
        )
    if not table.rows:
        raise CodebookFormatError(_("The file holds no codes, only a header row."))
    columns = _map_columns(table.headers)
    if "path" in columns:
        if "parent" in columns:
            raise CodebookFormatError(
                _("The file has both a path and a parent column; keep one of them.")
            )
        nodes = _nodes_from_paths(table, columns)
    elif "name" in columns:
        nodes = _nodes_from_parents(table, columns)
    else:
        raise CodebookFormatError(
            _("The file needs a ‘path’ column, or ‘name’ and ‘parent’ columns; found: %(headers)s.")
            % {"headers": ", ".join(header for header in table.headers if header) or "-"}
        )
    validate_tree(nodes)
    return nodes


def _read_csv(data: bytes) -> _Table:
    try:
        text = decode_text(data)
    except UnreadableText as error:
        raise CodebookFormatError(str(error)) from error
    reader = csv_reader(text, known=lambda header: fold_header(header) in _HEADER_FIELDS)
    try:
        headers = next(reader, [])
        table = _Table(headers=[header.strip() for header in headers])
        for row_number, cells in enumerate(reader, start=2):
            _add_row(table, row_number, [formula_unescape(cell) for cell in cells])
    except csv.Error as error:
        raise CodebookFormatError(
            _("The CSV file cannot be read (row %(row)d): %(reason)s")
            % {"row": reader.line_num, "reason": error}
        ) from error
    return table


def _add_row(table: _Table, row_number: int, cells: list[str]) -> None:
    if not any(cell.strip() for cell in cells):
        return
    table.data_rows += 1
    # Past the limit the rows are only counted, for the message, never kept.
    if table.data_rows <= MAX_CODES:
        table.rows.append((row_number, [cell.replace("\r\n", "\n") for cell in cells]))


def _read_xlsx(data: bytes) -> _Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise CodebookFormatError(
            _("The file is not an Excel workbook (.xlsx); save it as .xlsx or .csv.")
        ) from error
    with archive:
        members = archive.infolist()
        # Declared sizes are enough: zipfile stops inflating a member at its declared size.
        unpacked = sum(member.file_size for member in members)
        if len(members) > MAX_XLSX_MEMBERS or unpacked > MAX_XLSX_UNPACKED_BYTES:
            raise CodebookFormatError(
                _("The workbook unpacks to more than %(max)d MB or %(members)s parts; refused.")
                % {
                    "max": MAX_XLSX_UNPACKED_BYTES // (1024 * 1024),
                    "members": number_format(MAX_XLSX_MEMBERS, force_grouping=True),
                }
            )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:
        # openpyxl reports a damaged or foreign archive with a dozen exception types
        # (KeyError for a missing part, InvalidFileException, XML errors); to the user
        # they all mean the same thing.
        raise CodebookFormatError(
            _("The file cannot be read as an Excel workbook (.xlsx).")
        ) from error
    try:
        if not workbook.worksheets:
            raise CodebookFormatError(_("The workbook has no sheets."))
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows()
        header_cells = next(rows, ())
        table = _Table(headers=[_xlsx_value(cell).strip() for cell in header_cells])
        for row_number, cells in enumerate(rows, start=2):
            _add_row(table, row_number, [_xlsx_value(cell) for cell in cells])
    finally:
        workbook.close()
    return table


def _xlsx_value(cell: Any) -> str:
    if getattr(cell, "data_type", None) == "f":
        raise CodebookFormatError(
            _("Cell %(cell)s holds a formula; formulas are not accepted, paste the values only.")
            % {"cell": getattr(cell, "coordinate", "?")}
        )
    return formula_unescape(cell_text(getattr(cell, "value", None)))


def _map_columns(headers: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = _HEADER_FIELDS.get(fold_header(header))
        if name is None:
            continue  # extra columns (notes, counts) are the user's business
        if name in columns:
            raise CodebookFormatError(
                _("The columns ‘%(first)s’ and ‘%(second)s’ both give the %(field)s; keep one.")
                % {"first": headers[columns[name]], "second": header, "field": name}
            )
        columns[name] = index
    return columns


def _cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    if index is None or index >= len(cells):
        return ""
    return cells[index]


def _node_from_row(
    row_number: int, cells: list[str], columns: dict[str, int], name: str
) -> CodeNode:
    raw_color = _cell(cells, columns, "color")
    color = normalize_color(raw_color)
    if color is None:
        raise CodebookFormatError(
            _("Row %(row)d: the colour ‘%(color)s’ is not understood; use #rrggbb.")
            % {"row": row_number, "color": raw_color}
        )
    raw_origin = _cell(cells, columns, "origin")
    origin = normalize_origin(raw_origin)
    if origin is None:
        raise CodebookFormatError(
            _("Row %(row)d: the origin ‘%(origin)s’ must be deductive or inductive.")
            % {"row": row_number, "origin": raw_origin}
        )
    raw_guid = _cell(cells, columns, "guid")
    guid = normalize_guid(raw_guid)
    if guid is None:
        raise CodebookFormatError(
            _("Row %(row)d: the guid ‘%(guid)s’ is not a UUID.")
            % {"row": row_number, "guid": raw_guid}
        )
    return CodeNode(
        name=name,
        definition=_cell(cells, columns, "definition"),
        inclusion=_cell(cells, columns, "inclusion"),
        exclusion=_cell(cells, columns, "exclusion"),
        example=_cell(cells, columns, "example"),
        color=color,
        origin=origin,
        guid=guid,
    )


def _path_key(parts: Iterable[str]) -> str:
    return name_key(path_string(parts))


def _nodes_from_paths(table: _Table, columns: dict[str, int]) -> list[CodeNode]:
    roots: list[CodeNode] = []
    by_key: dict[str, CodeNode] = {}
    defined_at: dict[str, int] = {}

    def ensure(parts: tuple[str, ...]) -> list[CodeNode]:
        """The children list that a code under ``parts`` goes into, creating missing levels."""
        if not parts:
            return roots
        found = by_key.get(_path_key(parts))
        if found is not None:
            return found.children
        siblings = ensure(parts[:-1])
        created = CodeNode(name=parts[-1])
        siblings.append(created)
        by_key[_path_key(parts)] = created
        return created.children

    for row_number, cells in table.rows:
        raw_path = _cell(cells, columns, "path")
        name = _cell(cells, columns, "name").strip()
        if not raw_path.strip():
            raise CodebookFormatError(_("Row %(row)d: the path is empty.") % {"row": row_number})
        try:
            parts = split_path(raw_path)
        except CodebookFormatError as error:
            raise CodebookFormatError(
                _("Row %(row)d: %(problem)s") % {"row": row_number, "problem": error}
            ) from error
        parent_parts, name = _split_off_name(row_number, raw_path, parts, name)
        if len(parent_parts) >= MAX_DEPTH:
            # Refused here, before ensure() recurses through a path of any length.
            raise CodebookFormatError(
                _("Row %(row)d: the path is deeper than %(max)d levels.")
                % {"row": row_number, "max": MAX_DEPTH}
            )
        key = _path_key((*parent_parts, name))
        node = _node_from_row(row_number, cells, columns, name)
        existing = by_key.get(key)
        if existing is None:
            ensure(parent_parts).append(node)
            by_key[key] = node
        elif key in defined_at:
            raise CodebookFormatError(
                _("Rows %(first)d and %(second)d have the same path ‘%(path)s’.")
                % {"first": defined_at[key], "second": row_number, "path": raw_path.strip()}
            )
        else:
            # A level created for an earlier child row: this row describes it after all.
            for attribute in fields(CodeNode):
                if attribute.name != "children":
                    setattr(existing, attribute.name, getattr(node, attribute.name))
        defined_at[key] = row_number
    return roots


def _split_off_name(
    row_number: int, raw_path: str, parts: tuple[str, ...], name: str
) -> tuple[tuple[str, ...], str]:
    """(parent path, name) of a row; a name column settles names that contain " > "."""
    if not name:
        return parts[:-1], parts[-1]
    try:
        name_parts = split_path(name)
    except CodebookFormatError:
        name_parts = (name,)
    tail = parts[-len(name_parts) :]
    if len(tail) == len(name_parts) and all(
        name_key(a) == name_key(b) for a, b in zip(tail, name_parts, strict=True)
    ):
        return parts[: -len(name_parts)], name
    raise CodebookFormatError(
        _("Row %(row)d: the name ‘%(name)s’ is not the last part of the path ‘%(path)s’.")
        % {"row": row_number, "name": name, "path": raw_path.strip()}
    )


@dataclass
class _Entry:
    row: int
    node: CodeNode
    parent_ref: str
    parent: int | None = None


def _nodes_from_parents(table: _Table, columns: dict[str, int]) -> list[CodeNode]:
    entries: list[_Entry] = []
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    by_name: dict[str, list[int]] = {}
    for row_number, cells in table.rows:
        name = _cell(cells, columns, "name").strip()
        if not name:
            raise CodebookFormatError(_("Row %(row)d: the name is empty.") % {"row": row_number})
        parent_ref = " ".join(_cell(cells, columns, "parent").split())
        pair = (name_key(name), name_key(parent_ref))
        if pair in seen:
            first_row, first_name = seen[pair]
            raise CodebookFormatError(
                _(
                    "Rows %(first)d and %(second)d give ‘%(parent)s’ two codes of one name: "
                    "‘%(first_name)s’ and ‘%(second_name)s’."
                )
                % {
                    "first": first_row,
                    "second": row_number,
                    "parent": parent_ref or _("the top level"),
                    "first_name": first_name,
                    "second_name": name,
                }
            )
        seen[pair] = (row_number, name)
        by_name.setdefault(name_key(name), []).append(len(entries))
        entries.append(
            _Entry(row_number, _node_from_row(row_number, cells, columns, name), parent_ref)
        )

    _resolve_parents(entries, by_name)

    roots: list[CodeNode] = []
    for entry in entries:
        siblings = roots if entry.parent is None else entries[entry.parent].node.children
        siblings.append(entry.node)
    return roots


def _resolve_parents(entries: list[_Entry], by_name: dict[str, list[int]]) -> None:
    """Set each entry's parent index: by unique name first, then by path for the rest."""
    # A dict as an ordered set: the first unresolved row is the one the error names.
    pending: dict[int, None] = {}
    for index, entry in enumerate(entries):
        if not entry.parent_ref:
            continue
        candidates = by_name.get(name_key(entry.parent_ref), [])
        if len(candidates) == 1:
            entry.parent = candidates[0]
        else:
            pending[index] = None
    # Before any path is followed, so that following parents upwards always ends.
    _refuse_cycles(entries)

    def full_path(index: int) -> tuple[str, ...] | None:
        """The names from the top down to ``index``, or None while a link is unresolved."""
        names: list[str] = []
        current: int | None = index
        while current is not None:
            if current in pending:
                return None
            names.append(entries[current].node.name)
            current = entries[current].parent
        return tuple(reversed(names))

    # A parent given as a path can point below another such parent, so repeat until stable.
    progress = True
    while pending and progress:
        progress = False
        for index in list(pending):
            try:
                parts = split_path(entries[index].parent_ref)
            except CodebookFormatError:
                continue
            wanted = _path_key(parts)
            for candidate in by_name.get(name_key(parts[-1]), []):
                found = full_path(candidate)
                if found is not None and _path_key(found) == wanted:
                    entries[index].parent = candidate
                    del pending[index]
                    progress = True
                    break
    if not pending:
        return
    entry = entries[next(iter(pending))]
    candidates = by_name.get(name_key(entry.parent_ref), [])
    if len(candidates) > 1:
        example = full_path(candidates[0]) or (entries[candidates[0]].node.name,)
        raise CodebookFormatError(
            _(
                "Row %(row)d: several codes are called ‘%(parent)s’; give the parent’s path "
                "instead, e.g. ‘%(example)s’."
            )
            % {"row": entry.row, "parent": entry.parent_ref, "example": path_string(example)}
        )
    raise CodebookFormatError(
        _("Row %(row)d: the parent ‘%(parent)s’ of ‘%(name)s’ is not a code in the file.")
        % {"row": entry.row, "parent": entry.parent_ref, "name": entry.node.name}
    )


def _refuse_cycles(entries: list[_Entry]) -> None:
    done: set[int] = set()
    for start in range(len(entries)):
        chain: list[int] = []
        on_chain: set[int] = set()
        current: int | None = start
        while current is not None and current not in done:
            if current in on_chain:
                cycle = chain[chain.index(current) :] + [current]
                raise CodebookFormatError(
                    _("The parents form a cycle: %(cycle)s.")
                    % {
                        "cycle": " → ".join(
                            f"‘{entries[index].node.name}’" for index in reversed(cycle)
                        )
                    }
                )
            chain.append(current)
            on_chain.add(current)
            current = entries[current].parent
        done.update(chain)


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")
# A scheme that runs code when a renderer makes a link of it; its colon is escaped, so no
# renderer sees a scheme (CommonMark shows "\:" as ":").
_MARKDOWN_SCRIPT_SCHEME = re.compile(r"(?i)\b(javascript|vbscript|data)(\s*):")
# A line that starts like a list item or a numbered item would restructure the list.
_MARKDOWN_LINE_START = re.compile(r"^(\s*)([-+]|\d+(?=[.)]))", re.MULTILINE)


def _markdown_escape(text: str) -> str:
    """Code text as Markdown that renders as that text: HTML as entities (a renderer that
    lets HTML through shows them as characters), Markdown's own marks backslash-escaped, and
    script schemes broken, so no tag, link or image can come from a code's text."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", escaped)
    escaped = _MARKDOWN_SCRIPT_SCHEME.sub(r"\1\2\\:", escaped)
    return _MARKDOWN_LINE_START.sub(
        lambda match: (
            f"{match.group(1)}{match.group(2)}\\"
            if match.group(2)[0].isdigit()
            else f"{match.group(1)}\\{match.group(2)}"
        ),
        escaped,
    )


def _markdown_block(text: str, indent: str) -> list[str]:
    return [f"{indent}{line}" if line.strip() else "" for line in text.split("\n")]


def to_markdown(nodes: list[CodeNode], title: str, *, language: str = "nl") -> bytes:
    """The codebook as a nested Markdown list: name, origin (D)/(I), definition, criteria."""
    labels = _labels(language)
    lines = [f"# {_markdown_escape(title)}", "", f"*{labels['markdown_legend']}*", ""]
    for path, node in walk(nodes):
        depth = len(path)
        indent = "  " * (depth - 1)
        content_indent = indent + "  "
        name = _markdown_escape(node.name)
        marker = "(I)" if node.origin == "inductive" else "(D)"
        lines.append(f"{indent}- {'**' + name + '**' if depth == 1 else name} {marker}")
        lines.append("")
        if node.definition.strip():
            lines.extend(_markdown_block(_markdown_escape(node.definition.strip()), content_indent))
            lines.append("")
        for key in ("inclusion", "exclusion", "example"):
            value = getattr(node, key).strip()
            if value:
                text = f"*{labels[key]}:* {_markdown_escape(value)}"
                lines.extend(_markdown_block(text, content_indent))
                lines.append("")
    return ("\n".join(lines).rstrip("\n") + "\n").encode("utf-8")


# --------------------------------------------------------------------------------------------
# Word
# --------------------------------------------------------------------------------------------

_DOCX_INDENT_PER_LEVEL = Cm(0.5)
_DOCX_COLUMN_WIDTHS = (Cm(5.0), Cm(6.5), Cm(4.5))  # fits A4 portrait with default margins


def _new_document(title: str) -> Any:
    document = docx.Document()
    document.core_properties.title = xml_text(title)
    document.add_heading(xml_text(title), level=1)
    return document


def _legend(document: Any, text: str) -> None:
    paragraph = document.add_paragraph()
    run = paragraph.add_run(text)
    run.italic = True
    run.font.size = Pt(9)


def _repeat_as_header(row: Any) -> None:
    # A codebook table runs over pages; Word repeats a row marked tblHeader on each one.
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _fill_cell(cell: _Cell, text: str) -> Any:
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(xml_text(text))
    return paragraph, run


def to_docx_table(nodes: list[CodeNode], title: str, *, language: str = "nl") -> bytes:
    """The codebook table for a thesis appendix: Code / Definitie / Voorbeeld, one row per code.

    Themes (top-level codes) are bold, inductive codes underlined, deeper codes indented; the
    inclusion and exclusion criteria follow the definition in its cell.
    """
    labels = _labels(language)
    document = _new_document(title)
    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    table.autofit = False
    for column, width in zip(table.columns, _DOCX_COLUMN_WIDTHS, strict=True):
        column.width = width
    header = table.rows[0]
    _repeat_as_header(header)
    for cell, key, width in zip(
        header.cells, ("code", "definition", "example"), _DOCX_COLUMN_WIDTHS, strict=True
    ):
        cell.width = width
        _fill_cell(cell, labels[key])[1].bold = True

    for path, node in walk(nodes):
        depth = len(path)
        # add_row copies the column widths into the new cells, which Word needs per cell.
        code_cell, definition_cell, example_cell = table.add_row().cells
        paragraph, run = _fill_cell(code_cell, node.name)
        if depth > 1:
            paragraph.paragraph_format.left_indent = _DOCX_INDENT_PER_LEVEL * (depth - 1)
        run.bold = depth == 1 or None  # None: inherit, rather than an explicit "off"
        run.underline = node.origin == "inductive" or None
        if node.definition:
            _fill_cell(definition_cell, node.definition)
        for key in ("inclusion", "exclusion"):
            value = getattr(node, key)
            if value:
                # The definition cell's first paragraph may still be empty: use it then.
                first = definition_cell.paragraphs[0]
                criterion = first if not first.text else definition_cell.add_paragraph()
                criterion.add_run(f"{labels[key]}: ").italic = True
                criterion.add_run(xml_text(value))
        if node.example:
            _fill_cell(example_cell, node.example)
    _legend(document, labels["legend"])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_LIST_STYLES = ("List Bullet", "List Bullet 2", "List Bullet 3")
# 'List Bullet 3' sits at 1.9 cm in Word's default template; deeper levels step on from there.
_LIST_LEVEL3_INDENT = Cm(1.9)
_LIST_HANGING = Cm(0.63)


def to_docx_tree(nodes: list[CodeNode], title: str, *, language: str = "nl") -> bytes:
    """The code tree as a nested bulleted list; themes bold, inductive codes underlined."""
    labels = _labels(language)
    document = _new_document(title)
    for path, node in walk(nodes):
        depth = len(path)
        paragraph = document.add_paragraph(style=_LIST_STYLES[min(depth, len(_LIST_STYLES)) - 1])
        if depth > len(_LIST_STYLES):
            extra = depth - len(_LIST_STYLES)
            paragraph.paragraph_format.left_indent = _LIST_LEVEL3_INDENT + _LIST_HANGING * extra
            paragraph.paragraph_format.first_line_indent = -_LIST_HANGING
        run = paragraph.add_run(xml_text(node.name))
        run.bold = depth == 1 or None  # None: inherit, rather than an explicit "off"
        run.underline = node.origin == "inductive" or None
    _legend(document, labels["legend"])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------------------------

_SVG_NS = "http://www.w3.org/2000/svg"
_SVG_FONT = "'Segoe UI', 'Helvetica Neue', Arial, 'Noto Color Emoji', 'Segoe UI Emoji', sans-serif"
_SVG_MARGIN = 20
_SVG_TITLE_HEIGHT = 40
_SVG_ROW_HEIGHT = 30
_SVG_BOX_HEIGHT = 22
_SVG_INDENT = 28
_SVG_PADDING = 8
_SVG_TEXT = "#1a1a1a"
_SVG_NEUTRAL = "#7f7f7f"


def _text_width(text: str, size: float, bold: bool = False) -> float:
    """A generous estimate of rendered width; the SVG has no font metrics to ask."""
    width = 0.0
    for ch in text:
        if unicodedata.combining(ch) or ch in "\u200d\ufe0f":
            continue
        if unicodedata.east_asian_width(ch) in "WF" or ord(ch) >= 0x1F000:
            width += 1.15
        elif ch in "iIl.,:;'|!()[] ":
            width += 0.32
        elif ch.isupper() or ch in "mwMW@%&":
            width += 0.78
        else:
            width += 0.58
    return width * size * (1.08 if bold else 1.0)


def _tint(color: str, amount: float = 0.85) -> str:
    """``color`` mixed towards white, light enough for dark text at any hue."""
    channels = [int(color[index : index + 2], 16) for index in (1, 3, 5)]
    mixed = [round(channel + (255 - channel) * amount) for channel in channels]
    return "#" + "".join(f"{channel:02x}" for channel in mixed)


def _svg(parent: Any, tag: str, text: str | None = None, /, **attributes: str | float) -> Any:
    """A child element; "_" in an attribute keyword becomes "-" (stroke_width: stroke-width)."""
    element = etree.SubElement(
        parent,
        f"{{{_SVG_NS}}}{tag}",
        {
            key.replace("_", "-"): value if isinstance(value, str) else f"{value:g}"
            for key, value in attributes.items()
        },
    )
    if text is not None:
        element.text = xml_text(text)
    return element


def to_svg(nodes: list[CodeNode], title: str, *, language: str = "nl") -> bytes:
    """The code tree as an indented diagram: one box per code, elbow connectors to children.

    Boxes are tinted with the code's colour, or its theme's when it has none (border in the
    colour itself), and carry dark text; inductive codes have a dashed border. Hovering a box
    shows its definition.
    """
    labels = _labels(language)
    title_size, theme_size, code_size = 16.0, 13.0, 12.0
    top = _SVG_MARGIN + _SVG_TITLE_HEIGHT
    boxes: dict[int, tuple[float, float, float]] = {}
    right = _SVG_MARGIN + _text_width(title, title_size, bold=True)
    rows = list(walk(nodes))
    for row, (path, node) in enumerate(rows):
        depth = len(path)
        size = theme_size if depth == 1 else code_size
        box_x = float(_SVG_MARGIN + (depth - 1) * _SVG_INDENT)
        box_width = _text_width(node.name, size, bold=depth == 1) + 2 * _SVG_PADDING
        boxes[id(node)] = (box_x, float(top + row * _SVG_ROW_HEIGHT), box_width)
        right = max(right, box_x + box_width)
    legend_y = top + len(rows) * _SVG_ROW_HEIGHT + 16
    right = max(right, _SVG_MARGIN + _text_width(labels["svg_legend"], 11))
    width = round(right + _SVG_MARGIN)
    height = round(legend_y + _SVG_MARGIN)

    root = etree.Element(
        f"{{{_SVG_NS}}}svg",
        {
            "width": str(width),
            "height": str(height),
            "viewBox": f"0 0 {width} {height}",
            "role": "img",
            "font-family": _SVG_FONT,
        },
        nsmap={None: _SVG_NS},
    )
    _svg(root, "title", title)
    _svg(root, "rect", x=0, y=0, width=width, height=height, fill="#ffffff")
    _svg(
        root,
        "text",
        title,
        x=_SVG_MARGIN,
        y=_SVG_MARGIN + title_size,
        font_size=title_size,
        font_weight="bold",
        fill=_SVG_TEXT,
    )

    connectors: list[str] = []
    for _path, node in rows:
        x, y, _width = boxes[id(node)]
        stem = x + 10
        for child in node.children:
            child_x, child_y, _child_width = boxes[id(child)]
            middle = child_y + _SVG_BOX_HEIGHT / 2
            connectors.append(f"M{stem:g},{y + _SVG_BOX_HEIGHT:g}V{middle:g}H{child_x:g}")
    if connectors:
        _svg(root, "path", d="".join(connectors), fill="none", stroke="#9a9a9a", stroke_width=1.2)

    # A code without a colour of its own takes its nearest coloured ancestor's, so the codes
    # of one theme read as a group.
    colors: dict[int, str] = {}
    for _path, node in rows:
        inherited = colors.get(id(node), _SVG_NEUTRAL)
        colors[id(node)] = node.color or inherited
        for child in node.children:
            colors[id(child)] = colors[id(node)]

    for path, node in rows:
        x, y, box_width = boxes[id(node)]
        depth = len(path)
        stroke = colors[id(node)]
        group = _svg(root, "g")
        tooltip = node.name if not node.definition else f"{node.name}: {node.definition}"
        _svg(group, "title", tooltip)
        rect: dict[str, str | float] = {
            "x": x,
            "y": y,
            "width": round(box_width, 1),
            "height": _SVG_BOX_HEIGHT,
            "rx": 4,
            "fill": _tint(stroke),
            "stroke": stroke,
            "stroke_width": 2 if depth == 1 else 1.3,
        }
        if node.origin == "inductive":
            rect["stroke_dasharray"] = "4 3"
        _svg(group, "rect", **rect)
        label: dict[str, str | float] = {
            "x": x + _SVG_PADDING,
            "y": y + _SVG_BOX_HEIGHT / 2 + (theme_size if depth == 1 else code_size) * 0.36,
            "font_size": theme_size if depth == 1 else code_size,
            "fill": _SVG_TEXT,
        }
        if depth == 1:
            label["font_weight"] = "bold"
        _svg(group, "text", node.name, **label)

    _svg(
        root,
        "text",
        labels["svg_legend"],
        x=_SVG_MARGIN,
        y=legend_y,
        font_size=11,
        fill="#555555",
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
