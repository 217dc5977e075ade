"""Segments as a table: the rows `export_segments` writes and `segments_import` reads back.

Columns: intervention (title), code (path with " > "), start, end (code points), memo, and on
export also coder and text. An import is one coder's segments, all or nothing: every row is
checked against the database first, and a single refused row refuses the file with a message
that names the rows (at most `SHOWN_ERRORS` of them).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from coding.codebook.services import code_paths
from coding.codebook.tree import CodebookFormatError, path_string, split_path
from coding.models import Code, Segment
from coding.segments import MEMO_MAX_LENGTH, SegmentError, check_span, segments_apply
from interventions.access import access_for
from interventions.models import Intervention, Section, Study
from veerkracht.lib.spreadsheets import UnreadableText, csv_reader, decode_text, formula_unescape

REQUIRED = ("intervention", "code", "start", "end")
KNOWN = (*REQUIRED, "memo")
EXPORT_HEADERS = ["intervention", "code", "start", "end", "memo", "coder", "text"]
WHOLE_NUMBER = re.compile(r"-?\d+")
SHOWN_ERRORS = 10

Rows = list[tuple[int, list[str]]]


@dataclass(frozen=True)
class PlannedSegment:
    intervention: Intervention
    code: Code
    start: int
    end: int
    memo: str


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def read_rows(filename: str, data: bytes) -> tuple[dict[str, int], Rows]:
    """The header positions and the non-empty rows (with their line numbers) of a CSV file."""
    try:
        text = decode_text(data)
    except UnreadableText as error:
        raise SegmentError(f"{filename}: {_lower_first(str(error))}") from None
    if not text.strip():
        raise SegmentError(f"{filename} is empty.")
    reader = csv_reader(text, known=lambda header: header.strip().lower() in KNOWN)
    try:
        header_row = next(reader)
        headers: dict[str, int] = {}
        for index, header in enumerate(header_row):
            headers.setdefault(header.strip().lower(), index)
        rows = [
            (number, cells)
            for number, cells in enumerate(reader, start=2)
            if any(cell.strip() for cell in cells)
        ]
    except csv.Error as error:
        raise SegmentError(f"{filename} cannot be read as CSV: {error}") from None
    missing = [name for name in REQUIRED if name not in headers]
    if missing:
        found = ", ".join(h for h in header_row if h.strip()) or "none"
        raise SegmentError(
            f"{filename} needs the columns {', '.join(REQUIRED)}; missing "
            f"{', '.join(missing)} (found: {found})."
        )
    if not rows:
        raise SegmentError(f"{filename} holds no segments, only a header row.")
    return headers, rows


class _Lookup:
    """The study's interventions, codes, excluded sections and the coder's segments, loaded
    once; titles and paths match exactly, else ignoring case when that is unambiguous."""

    def __init__(self, study: Study, coder: User) -> None:
        self.interventions = {i.title: i for i in Intervention.objects.filter(study=study)}
        self.folded_titles: dict[str, list[Intervention]] = {}
        for each in self.interventions.values():
            self.folded_titles.setdefault(each.title.casefold(), []).append(each)
        self.sections: dict[int, list[Section]] = {}
        for section in Section.objects.filter(intervention__study=study, excluded=True):
            self.sections.setdefault(section.intervention_id, []).append(section)
        codes = {code.pk: code for code in Code.objects.filter(study=study)}
        self.by_path = {path: codes[pk] for pk, path in code_paths(study).items()}
        self.folded_paths: dict[tuple[str, ...], list[Code]] = {}
        for known_path, known in self.by_path.items():
            self.folded_paths.setdefault(tuple(p.casefold() for p in known_path), []).append(known)
        self.given = set(
            Segment.objects.filter(intervention__study=study, coder=coder).values_list(
                "intervention_id", "code_id", "start", "end"
            )
        )

    def intervention(self, title: str) -> Intervention | None:
        found = self.interventions.get(title)
        if found is None and len(self.folded_titles.get(title.casefold(), [])) == 1:
            found = self.folded_titles[title.casefold()][0]
        return found

    def code(self, path: tuple[str, ...]) -> Code | None:
        found = self.by_path.get(path)
        folded = tuple(p.casefold() for p in path)
        if found is None and len(self.folded_paths.get(folded, [])) == 1:
            found = self.folded_paths[folded][0]
        return found


def plan_rows(
    *, study: Study, coder: User, headers: dict[str, int], rows: Rows
) -> list[PlannedSegment]:
    """Check every row against the database without writing; refuse them all on an error."""
    lookup = _Lookup(study, coder)
    seen: dict[tuple[int, int, int, int], int] = {}

    def cell(cells: list[str], name: str) -> str:
        index = headers.get(name)
        if index is None or index >= len(cells):
            return ""
        return formula_unescape(cells[index]).strip()

    errors: list[str] = []
    planned: list[PlannedSegment] = []
    for number, cells in rows:

        def refuse(message: str, number: int = number) -> None:
            errors.append(f"Row {number}: {_lower_first(_one_line(message))}")

        title = cell(cells, "intervention")
        intervention = lookup.intervention(title)
        if intervention is None:
            refuse(f"There is no intervention ‘{title}’ in {study.slug}.")
            continue
        try:
            path = split_path(cell(cells, "code"))
        except CodebookFormatError as error:
            refuse(str(error))
            continue
        code = lookup.code(path)
        if code is None:
            refuse(f"There is no code ‘{' > '.join(path)}’ in the codebook of {study.slug}.")
            continue
        bounds = []
        for name in ("start", "end"):
            value = cell(cells, name)
            # Twelve digits is more than any text's length; more would only be a damaged file.
            if not WHOLE_NUMBER.fullmatch(value) or len(value) > 12:
                refuse(f"The {name} ‘{value[:20]}’ is not a whole number.")
                break
            bounds.append(int(value))
        if len(bounds) != 2:
            continue
        start, end = bounds
        memo = cell(cells, "memo")
        if len(memo) > MEMO_MAX_LENGTH:
            refuse(f"The memo has {len(memo):,} characters; at most {MEMO_MAX_LENGTH:,}.")
            continue
        if "\x00" in memo:
            refuse("The memo holds a NUL character; the file is damaged.")
            continue
        try:
            check_span(
                intervention=intervention,
                start=start,
                end=end,
                quote=intervention.text[start:end],
                sections=lookup.sections.get(intervention.pk, []),
            )
        except SegmentError as error:
            refuse(str(error))
            continue
        key = (intervention.pk, code.pk, start, end)
        if key in seen:
            refuse(f"It gives ‘{code.name}’ to the span {start}–{end} as row {seen[key]} does.")
            continue
        if key in lookup.given:
            refuse(f"{coder.username} has given ‘{code.name}’ to the span {start}–{end} already.")
            continue
        seen[key] = number
        planned.append(PlannedSegment(intervention, code, start, end, memo))
    if errors:
        more = len(errors) - SHOWN_ERRORS
        shown = " ".join(e if e.endswith(".") else f"{e}." for e in errors[:SHOWN_ERRORS])
        tail = f" And {more} more." if more > 0 else ""
        rows_word = "row" if len(errors) == 1 else "rows"
        raise SegmentError(f"Nothing imported; {len(errors)} {rows_word} refused. {shown}{tail}")
    return planned


def segments_import(*, study: Study, coder: User, filename: str, data: bytes) -> list[Segment]:
    """Import one coder's segments from a CSV file: every row or none.

    Raises `SegmentError` with a message for the user; nothing is written then.
    """
    access = access_for(study, coder)
    if access is None or not access.can_code:
        raise SegmentError(
            f"{coder.username} cannot code in {study.slug}: only its owner and coders code."
        )
    headers, rows = read_rows(filename, data)
    planned = plan_rows(study=study, coder=coder, headers=headers, rows=rows)
    # The coder's access and the codebook's paths are loaded once for the whole file.
    paths = code_paths(study)
    try:
        with transaction.atomic():
            return [
                segment
                for row in planned
                for segment in segments_apply(
                    intervention=row.intervention,
                    coder=coder,
                    codes=[row.code],
                    start=row.start,
                    end=row.end,
                    quote=row.intervention.text[row.start : row.end],
                    memo=row.memo,
                    access=access,
                    paths=paths,
                )
            ]
    except SegmentError as error:
        raise SegmentError(f"Nothing imported: {_one_line(str(error))}") from None


def segments_table(*, study: Study, coder: User | None = None) -> tuple[list[str], list[list[Any]]]:
    """All segments of the study (or of one coder) as rows `segments_import` reads back.

    Not filtered for blind coding: this is the command line's full export, not a page.
    """
    paths = code_paths(study)
    segments = Segment.objects.filter(intervention__study=study)
    if coder is not None:
        segments = segments.filter(coder=coder)
    rows = segments.order_by(
        "intervention__title", "coder__username", "start", "end", "code_id"
    ).values_list(
        "intervention__title", "code_id", "start", "end", "memo", "coder__username", "quote"
    )
    return list(EXPORT_HEADERS), [
        [title, path_string(paths.get(code_pk, ())), start, end, memo, username, quote]
        for title, code_pk, start, end, memo, username, quote in rows
    ]
