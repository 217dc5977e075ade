"""Sheets as Dutch users make them: the values stored are the values Excel shows them.

The corpus below is written here in the shapes users really have: a `sep=` line, title rows,
two-row headers with a merged cell, an explanation sheet first, formulas with the values Excel
cached, hidden rows and columns, formatted dates, percentages and amounts, and Dutch numbers
("1.250" is 1250).
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command

from interventions import metadata
from interventions.metadata import MetadataError
from interventions.models import AttributeValue, Intervention, Study
from interventions.services import (
    ServiceError,
    attribute_define,
    attribute_values_set,
    clean_attribute_value,
    study_create,
)
from tests.factories import InterventionFactory, UserFactory


@pytest.fixture
def owner(db: Any) -> Any:
    return UserFactory(username="alice")


@pytest.fixture
def study(owner: Any) -> Study:
    study = study_create(name="Gezinsinterventies", slug="gezin", owner=owner, template="empty")
    attribute_define(study=study, name="Deelnemers", kind="number")
    attribute_define(study=study, name="Kosten", kind="number")
    attribute_define(study=study, name="Startdatum", kind="date")
    attribute_define(study=study, name="Bereik", kind="text")
    return study


def csv_bytes(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8-sig")


def with_cached_values(data: bytes, sheet: str, values: dict[str, str]) -> bytes:
    """The workbook as Excel saves it: every formula also holds the value it last computed
    (openpyxl writes formulas without one)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == sheet:
                text = content.decode()
                for cell, value in values.items():
                    text = re.sub(
                        rf'(<c r="{cell}"[^>]*>)<f>([^<]*)</f><v\s*(?:/>|></v>)',
                        rf"\1<f>\2</f><v>{value}</v>",
                        text,
                    )
                content = text.encode()
            target.writestr(item, content)
    return out.getvalue()


def formatted_workbook() -> bytes:
    """An explanation sheet first, then the table: a title row, formats, a formula, a hidden
    column and a hidden row."""
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Toelichting"
    notes.append(["Deze map bevat de interventies van de scriptie."])
    notes.append(["Kosten in euro's per gezin."])
    sheet = workbook.create_sheet("Interventies")
    sheet.append(["Overzicht geïncludeerde interventies"])
    sheet.append([])
    sheet.append(["Interventie", "Startdatum", "Bereik", "Kosten", "Intern", "Deelnemers"])
    sheet.append(["Vaste Grond", datetime(2023, 9, 15), 0.125, 1250.5, "niet delen", "=2*625"])  # noqa: DTZ001 (Excel cells have no time zone)
    sheet.append(["Twee Oevers", datetime(2024, 2, 1), 0.07, 3400, "x", "=1000+1000"])  # noqa: DTZ001 (Excel cells have no time zone)
    sheet.append(["Weggelaten", datetime(2024, 3, 1), 0.5, 1, "", 1])  # noqa: DTZ001 (Excel cells have no time zone)
    for row in (4, 5, 6):
        sheet[f"B{row}"].number_format = "dd-mm-yyyy"
        sheet[f"C{row}"].number_format = "0.0%"
        sheet[f"D{row}"].number_format = '"€" #,##0.00'
    sheet.column_dimensions["E"].hidden = True
    sheet.row_dimensions[6].hidden = True
    stream = io.BytesIO()
    workbook.save(stream)
    return with_cached_values(
        stream.getvalue(), "xl/worksheets/sheet2.xml", {"F4": "1250", "F5": "2000"}
    )


def merged_header_workbook() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Interventie", "Leeftijd", None, "Setting"])
    sheet.append([None, "van", "tot", None])
    sheet.append(["Vaste Grond", 4, 12, "Thuis"])
    sheet.merge_cells("B1:C1")
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


# Each: a file, and per intervention the values stored, as the study shows them.
CORPUS = [
    pytest.param(
        "sep-titel.csv",
        csv_bytes(
            "sep=;\nOverzicht interventies 2023;;;;\n\n"
            "Interventie;Deelnemers;Kosten;Startdatum;Bereik\n"
            "Vaste Grond;1.250;€ 3.400;15-09-2023;12,5 %\n"
            "Twee Oevers;2.000;1.250,50;1-2-2024;7 %\n"
            "Drie Stappen;1.000;€ 3.400,-;2024-03-01;100 %\n"
        ),
        {
            "Vaste Grond": {
                "Deelnemers": "1250",
                "Kosten": "3400",
                "Startdatum": "15-09-2023",
                "Bereik": "12,5 %",
            },
            "Twee Oevers": {
                "Deelnemers": "2000",
                "Kosten": "1250,5",
                "Startdatum": "01-02-2024",
                "Bereik": "7 %",
            },
            "Drie Stappen": {
                "Deelnemers": "1000",
                "Kosten": "3400",
                "Startdatum": "01-03-2024",
                "Bereik": "100 %",
            },
        },
        id="csv-sep-line-title-rows-dutch-numbers",
    ),
    pytest.param(
        "twee-rijen.csv",
        csv_bytes("Interventie;Leeftijd;;Setting\n;van;tot;\nVaste Grond;4;12;Thuis\n"),
        {"Vaste Grond": {"Leeftijd van": "4", "Leeftijd tot": "12", "Setting": "Thuis"}},
        id="csv-two-row-header",
    ),
    pytest.param(
        "opgemaakt.xlsx",
        formatted_workbook(),
        {
            "Vaste Grond": {
                "Startdatum": "15-09-2023",
                "Bereik": "12,5 %",
                "Kosten": "1250,5",
                "Deelnemers": "1250",
            },
            "Twee Oevers": {
                "Startdatum": "01-02-2024",
                "Bereik": "7,0 %",
                "Kosten": "3400",
                "Deelnemers": "2000",
            },
        },
        id="xlsx-explanation-sheet-formats-formulas-hidden",
    ),
    pytest.param(
        "samengevoegd.xlsx",
        merged_header_workbook(),
        {"Vaste Grond": {"Leeftijd van": "4", "Leeftijd tot": "12", "Setting": "Thuis"}},
        id="xlsx-merged-two-row-header",
    ),
]


def shown_values(study: Study) -> dict[str, dict[str, str]]:
    from interventions.services import show_attribute_value

    shown: dict[str, dict[str, str]] = {}
    for value in AttributeValue.objects.filter(intervention__study=study).select_related(
        "definition", "intervention"
    ):
        shown.setdefault(value.intervention.title, {})[value.definition.name] = (
            show_attribute_value(value.definition, value.value, study.language)
        )
    return shown


@pytest.mark.parametrize(("filename", "data", "expected"), CORPUS)
def test_every_file_of_the_corpus_is_stored_as_excel_shows_it(
    study: Study, filename: str, data: bytes, expected: dict[str, dict[str, str]]
) -> None:
    table = metadata.read_table(filename, data, locale=study.language)
    preview = metadata.preview_import(study=study, table=table)
    assert not preview.has_errors, preview.first_errors()

    metadata.import_apply(
        study=study,
        table=table,
        new_attributes=metadata.unknown_columns(study=study, table=table),
    )

    assert shown_values(study) == expected


def test_the_formatted_workbook_says_what_it_skipped_and_which_sheet_it_read(
    study: Study,
) -> None:
    table = metadata.read_table("opgemaakt.xlsx", formatted_workbook())

    notes = " ".join(table.get("notes", []))
    assert "Read the sheet “Interventies”; not read: “Toelichting”." in notes
    assert "Overzicht geïncludeerde interventies" in notes
    assert "Hidden rows skipped: 6." in notes
    assert "Hidden columns skipped: E (“Intern”)." in notes
    assert "Intern" not in table["headers"]
    assert table["columns"] == ["A", "B", "C", "D", "F"]


def test_a_two_row_header_is_reported_as_joined() -> None:
    table = metadata.read_table("x.xlsx", merged_header_workbook())

    assert table["headers"] == ["Interventie", "Leeftijd van", "Leeftijd tot", "Setting"]
    assert table["row_numbers"] == [3]
    assert "Rows 1 and 2 together are the header." in table.get("notes", [])


def test_a_first_data_row_is_not_taken_for_a_second_header_row() -> None:
    # Column C has values but no header: refused rather than joined with the data.
    with pytest.raises(MetadataError, match="Column C has values but no header in row 1"):
        metadata.read_table(
            "x.csv", csv_bytes("Interventie;Leeftijd;;Setting\nVaste Grond;4;12;Thuis\n")
        )


def test_a_workbook_without_a_title_column_names_its_sheets(db: Any) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Toelichting"
    workbook.active.append(["Uitleg"])
    workbook.create_sheet("Gegevens").append(["Omschrijving", "Setting"])
    workbook["Gegevens"].append(["Vaste Grond", "Thuis"])
    stream = io.BytesIO()
    workbook.save(stream)

    with pytest.raises(MetadataError) as refused:
        metadata.read_table("x.xlsx", stream.getvalue())

    assert "“Toelichting”, “Gegevens”" in str(refused.value)
    assert "Interventie" in str(refused.value)


def test_a_chosen_sheet_is_read_and_an_unknown_one_is_refused_naming_the_sheets() -> None:
    data = formatted_workbook()

    with pytest.raises(MetadataError) as refused:
        metadata.read_table("x.xlsx", data, sheet="Blad1")
    assert str(refused.value) == (
        "“x.xlsx” has no sheet “Blad1”; its sheets are “Toelichting”, “Interventies”."
    )

    with pytest.raises(MetadataError) as no_titles:
        metadata.read_table("x.xlsx", data, sheet="toelichting")
    assert "Only the sheet “Toelichting” was read." in str(no_titles.value)

    assert metadata.read_table("x.xlsx", data, sheet="interventies")["rows"][0][0] == "Vaste Grond"


def test_a_formula_without_a_saved_result_is_refused_naming_the_cell() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Interventie", "Deelnemers"])
    workbook.active.append(["Vaste Grond", "=2*3"])
    stream = io.BytesIO()
    workbook.save(stream)

    with pytest.raises(MetadataError, match="Cell B2 holds a formula whose result is not saved"):
        metadata.read_table("x.xlsx", stream.getvalue())


# Numbers and dates per the study's locale ---------------------------------------------------


@pytest.mark.parametrize(
    ("language", "raw", "stored"),
    [
        ("nl", "1.250", "1250"),
        ("nl", "2.000", "2000"),
        ("nl", "1.000", "1000"),
        ("nl", "1.250,50", "1250.5"),
        ("nl", "€ 3.400", "3400"),
        ("nl", "1,25", "1.25"),
        ("nl", "12,5 %", "12.5"),
        ("nl", "-3,5", "-3.5"),
        ("en", "1.250", "1.25"),
        ("en", "1,250", "1250"),
        ("en", "1,250.50", "1250.5"),
    ],
)
def test_a_number_is_read_as_the_studys_locale_writes_it(
    study: Study, language: str, raw: str, stored: str
) -> None:
    study.language = language
    study.save()
    definition = study.attributes.get(name="Deelnemers")

    assert clean_attribute_value(definition, raw) == stored


def test_the_preview_shows_how_each_column_is_read_and_flags_ambiguous_values(
    study: Study,
) -> None:
    table = metadata.read_table(
        "x.csv",
        csv_bytes("Interventie;Deelnemers;Startdatum;Nieuw\nVaste Grond;1.250;03-04-2023;ja\n"),
    )

    columns = {c.header: c for c in metadata.preview_import(study=study, table=table).columns}

    assert columns["Deelnemers"].kind == "number"
    assert columns["Deelnemers"].examples == [("1.250", "1250")]
    assert columns["Deelnemers"].ambiguous == [(2, "1.250", "1250", "1,25")]
    assert columns["Startdatum"].examples == [("03-04-2023", "03-04-2023")]
    assert columns["Startdatum"].ambiguous == []  # Dutch dates put the day first, always
    assert columns["Nieuw"].kind == "new"
    assert columns["Interventie"].kind == "title"


def test_an_english_study_flags_a_date_that_reads_both_ways(study: Study) -> None:
    study.language = "en"
    study.save()
    table = metadata.read_table(
        "x.csv", csv_bytes("Interventie;Startdatum\nVaste Grond;03-04-2023\nB;25-12-2023\n")
    )

    (column,) = [c for c in metadata.column_readings(study=study, table=table) if c.kind == "date"]

    assert column.ambiguous == [(2, "03-04-2023", "2023-04-03", "2023-03-04")]
    assert column.examples == [("03-04-2023", "2023-04-03"), ("25-12-2023", "2023-12-25")]


def test_an_unreadable_value_refuses_the_import_naming_row_column_and_value(
    study: Study, owner: Any
) -> None:
    InterventionFactory.create(study=study, title="Vaste Grond")
    table = metadata.read_table(
        "x.csv",
        csv_bytes(
            "Interventie;Deelnemers;Startdatum\nVaste Grond;12;01-01-2024\n"
            "Twee Oevers;ongeveer 5;31-02-2023\n"
        ),
    )
    before = AttributeValue.objects.count(), Intervention.objects.count()

    preview = metadata.preview_import(study=study, table=table)
    with pytest.raises(MetadataError) as refused:
        metadata.import_apply(study=study, table=table, new_attributes=[])

    message = str(refused.value)
    assert "Row 3: “Deelnemers” takes a number; “ongeveer 5” is not one." in message
    assert "Row 3: “Startdatum” takes a date (such as 15-09-2023); “31-02-2023” is not one." in (
        message
    )
    columns = {c.header: c for c in preview.columns}
    assert columns["Deelnemers"].unreadable == [(3, "ongeveer 5")]
    assert columns["Startdatum"].letter == "C"
    assert (AttributeValue.objects.count(), Intervention.objects.count()) == before


def test_a_value_typed_on_the_page_is_read_in_the_studys_locale(study: Study) -> None:
    intervention = InterventionFactory.create(study=study, title="Vaste Grond")
    definition = study.attributes.get(name="Kosten")

    attribute_values_set(intervention=intervention, values=[(definition, "1.250,50")])

    assert AttributeValue.objects.get(definition=definition).value == "1250.5"
    with pytest.raises(ServiceError):
        attribute_values_set(intervention=intervention, values=[(definition, "veel")])


# Exports in the study's locale read back unchanged -----------------------------------------


@pytest.fixture
def filled(study: Study) -> Study:
    table = metadata.read_table("x.csv", CORPUS[0].values[1])
    metadata.import_apply(study=study, table=table, new_attributes=[])
    return study


def test_the_csv_export_writes_decimal_commas_and_dutch_dates(filled: Study) -> None:
    content = metadata.export_table(study=filled, fmt="csv").decode("utf-8-sig")

    assert content.splitlines()[0].startswith("Interventie;")
    assert "Twee Oevers;;;2000;1250,5;01-02-2024;7 %" in content


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_an_export_imports_back_unchanged(filled: Study, fmt: str, language: str) -> None:
    filled.language = language
    filled.save()
    before = shown_values(filled)
    stored = dict(AttributeValue.objects.values_list("pk", "value"))

    content = metadata.export_table(study=filled, fmt=fmt)
    table = metadata.read_table(f"export.{fmt}", content, locale=language)
    preview = metadata.preview_import(study=filled, table=table)

    assert not preview.has_errors, preview.first_errors()
    assert preview.counts["unchanged"] == 3
    assert not [c for c in preview.columns if c.ambiguous]
    metadata.import_apply(study=filled, table=table, new_attributes=[])
    assert dict(AttributeValue.objects.values_list("pk", "value")) == stored
    assert shown_values(filled) == before


def test_the_xlsx_export_writes_numbers_and_dates_as_cells(filled: Study) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(metadata.export_table(study=filled, fmt="xlsx")))
    rows = list(workbook.active.iter_rows(values_only=True))
    header = rows[0]
    twee = next(row for row in rows if row[0] == "Twee Oevers")

    assert twee[header.index("Kosten")] == 1250.5
    assert twee[header.index("Deelnemers")] == 2000
    assert twee[header.index("Startdatum")].date() == date(2024, 2, 1)


def test_the_export_command_writes_the_studys_locale(filled: Study, tmp_path: Path) -> None:
    output = tmp_path / "uit.csv"

    call_command("export_interventions", "--study", "gezin", "-o", str(output))

    assert "1250,5" in output.read_bytes().decode("utf-8-sig")
