from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from coding.codebook.services import code_paths
from coding.codebook.tree import CodebookFormatError, split_path
from coding.models import Code, Segment
from coding.segments import (
    MEMO_MAX_LENGTH,
    SegmentError,
    check_span,
    csv_unescape,
    segment_create,
)
from interventions.access import access_for
from interventions.models import Intervention, Section, Study

REQUIRED = ("intervention", "code", "start", "end")
KNOWN = (*REQUIRED, "memo")
WHOLE_NUMBER = re.compile(r"-?\d+")
SHOWN_ERRORS = 10


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:]


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Command(BaseCommand):
    help = (
        "Import one coder's segments from a CSV file with the columns intervention (title), code "
        "(path with ' > '), start, end (code points) and optionally memo; all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--study", required=True, help="slug of the study")
        parser.add_argument("--coder", required=True, help="username of the coder")
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        study = Study.objects.filter(slug=options["study"]).first()
        if study is None:
            raise CommandError(f"No study with slug {options['study']!r}.")
        coder = get_user_model().objects.filter(username=options["coder"]).first()
        if coder is None:
            raise CommandError(f"No user {options['coder']!r}.")
        access = access_for(study, coder)
        if access is None or not access.can_code:
            raise CommandError(
                f"{coder.username} cannot code in {study.slug}: only its owner and coders code."
            )
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        if path.stat().st_size > settings.UPLOAD_MAX_BYTES:
            raise CommandError(f"{path.name} is larger than {settings.UPLOAD_MAX_BYTES} bytes.")
        headers, rows = self.read_table(path)
        planned = self.validate(study, coder, headers, rows)
        try:
            with transaction.atomic():
                for intervention, code, start, end, memo in planned:
                    segment_create(
                        intervention=intervention,
                        coder=coder,
                        code=code,
                        start=start,
                        end=end,
                        quote=intervention.text[start:end],
                        memo=memo,
                    )
        except SegmentError as error:
            raise CommandError(f"Nothing imported: {_one_line(str(error))}") from None
        self.stdout.write(
            f"Imported {len(planned)} segments for {coder.username} into {study.slug}"
        )

    def read_table(self, path: Path) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
        data = path.read_bytes()
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CommandError(
                f"{path.name} is not UTF-8 text (byte {error.start}); save it as ‘CSV UTF-8’."
            ) from None
        if not text.strip():
            raise CommandError(f"{path.name} is empty.")
        first_line = text.splitlines()[0]
        # Dutch Excel separates with ";", most other programs with ",".
        delimiter = max(
            (",", ";", "\t"),
            key=lambda d: sum(
                h.strip().lower() in KNOWN for h in next(csv.reader([first_line], delimiter=d))
            ),
        )
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
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
            raise CommandError(f"{path.name} cannot be read as CSV: {error}") from None
        missing = [name for name in REQUIRED if name not in headers]
        if missing:
            found = ", ".join(h for h in header_row if h.strip()) or "none"
            raise CommandError(
                f"{path.name} needs the columns {', '.join(REQUIRED)}; missing "
                f"{', '.join(missing)} (found: {found})."
            )
        if not rows:
            raise CommandError(f"{path.name} holds no segments, only a header row.")
        return headers, rows

    def validate(
        self,
        study: Study,
        coder: Any,
        headers: dict[str, int],
        rows: list[tuple[int, list[str]]],
    ) -> list[tuple[Intervention, Code, int, int, str]]:
        """Check every row against the database without writing; refuse them all on an error."""
        interventions = {i.title: i for i in Intervention.objects.filter(study=study)}
        folded_titles: dict[str, list[Intervention]] = {}
        for each in interventions.values():
            folded_titles.setdefault(each.title.casefold(), []).append(each)
        sections: dict[int, list[Section]] = {}
        for section in Section.objects.filter(intervention__study=study, excluded=True):
            sections.setdefault(section.intervention_id, []).append(section)
        codes = {code.pk: code for code in Code.objects.filter(study=study)}
        by_path = {path: codes[pk] for pk, path in code_paths(study).items()}
        folded_paths: dict[tuple[str, ...], list[Code]] = {}
        for known_path, known in by_path.items():
            folded_paths.setdefault(tuple(p.casefold() for p in known_path), []).append(known)
        given = set(
            Segment.objects.filter(intervention__study=study, coder=coder).values_list(
                "intervention_id", "code_id", "start", "end"
            )
        )
        seen: dict[tuple[int, int, int, int], int] = {}

        def cell(cells: list[str], name: str) -> str:
            index = headers.get(name)
            if index is None or index >= len(cells):
                return ""
            return csv_unescape(cells[index]).strip()

        errors: list[str] = []
        planned: list[tuple[Intervention, Code, int, int, str]] = []
        for number, cells in rows:

            def refuse(message: str, number: int = number) -> None:
                errors.append(f"Row {number}: {_lower_first(_one_line(message))}")

            title = cell(cells, "intervention")
            intervention = interventions.get(title)
            if intervention is None and len(folded_titles.get(title.casefold(), [])) == 1:
                intervention = folded_titles[title.casefold()][0]
            if intervention is None:
                refuse(f"There is no intervention ‘{title}’ in {study.slug}.")
                continue
            try:
                path = split_path(cell(cells, "code"))
            except CodebookFormatError as error:
                refuse(str(error))
                continue
            code = by_path.get(path)
            folded = tuple(p.casefold() for p in path)
            if code is None and len(folded_paths.get(folded, [])) == 1:
                code = folded_paths[folded][0]
            if code is None:
                refuse(f"There is no code ‘{' > '.join(path)}’ in the codebook of {study.slug}.")
                continue
            bounds = []
            for name in ("start", "end"):
                value = cell(cells, name)
                if not WHOLE_NUMBER.fullmatch(value):
                    refuse(f"The {name} ‘{value}’ is not a whole number.")
                    break
                bounds.append(int(value))
            if len(bounds) != 2:
                continue
            start, end = bounds
            memo = cell(cells, "memo")
            if len(memo) > MEMO_MAX_LENGTH:
                refuse(f"The memo has {len(memo):,} characters; at most {MEMO_MAX_LENGTH:,}.")
                continue
            try:
                check_span(
                    intervention=intervention,
                    start=start,
                    end=end,
                    quote=intervention.text[start:end],
                    sections=sections.get(intervention.pk, []),
                )
            except SegmentError as error:
                refuse(str(error))
                continue
            key = (intervention.pk, code.pk, start, end)
            if key in seen:
                refuse(f"It gives ‘{code.name}’ to the span {start}–{end} as row {seen[key]} does.")
                continue
            if key in given:
                refuse(
                    f"{coder.username} has given ‘{code.name}’ to the span {start}–{end} already."
                )
                continue
            seen[key] = number
            planned.append((intervention, code, start, end, memo))
        if errors:
            more = len(errors) - SHOWN_ERRORS
            shown = " ".join(e if e.endswith(".") else f"{e}." for e in errors[:SHOWN_ERRORS])
            tail = f" And {more} more." if more > 0 else ""
            rows_word = "row" if len(errors) == 1 else "rows"
            raise CommandError(
                f"Nothing imported; {len(errors)} {rows_word} refused. {shown}{tail}"
            )
        return planned
