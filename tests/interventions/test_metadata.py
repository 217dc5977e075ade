"""Metadata import and export: reading sheets, previewing, applying all or nothing, exporting."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import openpyxl
import pytest
from django.db import OperationalError

from interventions import metadata
from interventions.metadata import MetadataError
from interventions.models import (
    AttributeDefinition,
    AttributeValue,
    ImportJob,
    Intervention,
    Section,
    Study,
)
from interventions.services import ServiceError, attribute_define, study_create
from interventions.tasks import apply_import
from interventions.textimport import detect_sections, normalize_text
from tests.factories import InterventionFactory, SegmentFactory, UserFactory

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "interventies_39.csv"
FIXTURE_HEADERS = [
    "Interventie",
    "Databank",
    "Erkenning",
    "URL",
    "Primaire doelgroep",
    "Leeftijd primaire doelgroep",
    "Intermediaire doelgroep",
    "Hoofddoel",
    "Setting",
    "Type organisatie",
    "Uitvoerder",
]
TEMPLATE_NAMES = [
    "Primaire doelgroep",
    "Leeftijd primaire doelgroep",
    "Intermediaire doelgroep",
    "Hoofddoel",
    "Setting",
    "Type organisatie",
    "Uitvoerder",
    "Erkenning",
]


@pytest.fixture
def owner(db: Any) -> Any:
    return UserFactory(username="alice")


@pytest.fixture
def study(owner: Any) -> Study:
    return study_create(name="Gezinsinterventies", slug="gezin", owner=owner, template="veerkracht")


@pytest.fixture
def empty_study(owner: Any) -> Study:
    return study_create(name="Leeg", slug="leeg", owner=owner, template="empty")


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def database_counts() -> dict[str, int]:
    return {
        "interventions": Intervention.objects.count(),
        "values": AttributeValue.objects.count(),
        "attributes": AttributeDefinition.objects.count(),
        "sections": Section.objects.count(),
        "jobs": ImportJob.objects.count(),
    }


def snapshot(study: Study) -> dict[str, Any]:
    return {
        "interventions": sorted(
            Intervention.objects.filter(study=study).values_list(
                "pk", "title", "source", "url", "text", "updated_at"
            )
        ),
        "values": sorted(
            AttributeValue.objects.filter(intervention__study=study).values_list(
                "pk", "intervention_id", "definition_id", "value"
            )
        ),
        "attributes": sorted(study.attributes.values_list("pk", "name", "kind", "position")),
        "sections": sorted(
            Section.objects.filter(intervention__study=study).values_list("pk", "start", "end")
        ),
    }


def values_of(study: Study) -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {i.title: {} for i in study.interventions.all()}
    for value in AttributeValue.objects.filter(intervention__study=study).select_related(
        "intervention", "definition"
    ):
        table[value.intervention.title][value.definition.name] = value.value
    return table


def apply(study: Study, filename: str, data: bytes, new: list[str] | None = None) -> dict:
    table = metadata.read_table(filename, data)
    return metadata.import_apply(study=study, table=table, new_attributes=new or [])


def import_fixture(study: Study) -> dict:
    return apply(study, FIXTURE.name, FIXTURE.read_bytes())


# Reading files ------------------------------------------------------------------------------


def test_it_reads_the_dutch_excel_fixture_as_semicolon_separated_cp1252() -> None:
    table = metadata.read_table(FIXTURE.name, FIXTURE.read_bytes())

    assert table["headers"] == FIXTURE_HEADERS
    assert len(table["rows"]) == 39
    assert table["row_numbers"] == list(range(2, 41))
    assert table["rows"][0][0] == "Coöperatief Opvoeden"
    assert all(len(row) == len(FIXTURE_HEADERS) for row in table["rows"])


def test_the_39_row_fixture_imports_with_every_value_right(study: Study) -> None:
    summary = import_fixture(study)

    assert summary == {"added": 39, "updated": 0, "unchanged": 0, "attributes_added": []}
    assert study.interventions.count() == 39
    assert list(study.attributes.values_list("name", flat=True)) == TEMPLATE_NAMES
    first = study.interventions.get(title="Coöperatief Opvoeden")
    assert first.source == "NJi Effectieve Jeugdinterventies"
    assert first.url == "https://voorbeeld.example/databank/cooperatief-opvoeden"
    values = values_of(study)
    assert values["Coöperatief Opvoeden"] == {
        "Erkenning": "Goed onderbouwd",
        "Primaire doelgroep": "Ouders van kinderen met opvoedproblemen",
        "Leeftijd primaire doelgroep": "2-12 jaar",
        "Intermediaire doelgroep": "Ouders",
        "Hoofddoel": "Versterken van hulpbronnen",
        "Setting": "Thuis",
        "Type organisatie": "Wijkteam",
        "Uitvoerder": "Gezinscoach en ervaringsdeskundige ouder",
    }
    assert values["Gezinsgerichte Ondersteuning Één Plan"]["Hoofddoel"] == (
        "Afname problemen én hulpbronnen versterken"
    )
    assert "Samen ‘Sterk’ Thuis" in values
    assert values["Jonge Ouders Route"]["Intermediaire doelgroep"] == "Baby’s en peuters"
    assert values["Kleine Stap, Groot Gezin"]["Leeftijd primaire doelgroep"] == (
        "-9 maanden tot 4 jaar"
    )


def test_importing_the_fixture_again_leaves_every_row_unchanged(study: Study) -> None:
    import_fixture(study)
    before = snapshot(study)

    summary = import_fixture(study)

    assert summary == {"added": 0, "updated": 0, "unchanged": 39, "attributes_added": []}
    assert snapshot(study) == before


def test_english_headers_with_odd_spacing_and_case_match_the_dutch_properties(
    study: Study,
) -> None:
    data = csv_bytes(
        "  INTERVENTION ,Main goal, leeftijd_primaire_doelgroep ,setting,Source, link\n"
        "Vaste Grond,Versterken van hulpbronnen,0-18 jaar,Thuis,NJi,www.example.nl/vaste-grond\n"
    )
    table = metadata.read_table("properties.csv", data)

    preview = metadata.preview_import(study=study, table=table)
    summary = metadata.import_apply(study=study, table=table, new_attributes=[])

    assert preview.headers == [
        "Interventie",
        "Hoofddoel",
        "Leeftijd primaire doelgroep",
        "Setting",
        "Databank",
        "URL",
    ]
    assert preview.unknown_columns == []
    assert summary["added"] == 1
    assert values_of(study) == {
        "Vaste Grond": {
            "Hoofddoel": "Versterken van hulpbronnen",
            "Leeftijd primaire doelgroep": "0-18 jaar",
            "Setting": "Thuis",
        }
    }
    intervention = study.interventions.get()
    assert (intervention.source, intervention.url) == ("NJi", "https://www.example.nl/vaste-grond")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_a_comma_separated_utf8_file_imports_with_or_without_bom(
    study: Study, encoding: str
) -> None:
    data = csv_bytes(
        "Interventie,Hoofddoel,Uitvoerder\n"
        '"Twee Oevers","Afname problemen én hulpbronnen versterken","Coach, vrijwilliger"\n'
        "Café Ouderkracht,Versterken van hulpbronnen,Opbouwwerker\n",
        encoding,
    )

    summary = apply(study, "interventies.csv", data)

    assert summary["added"] == 2
    assert values_of(study) == {
        "Twee Oevers": {
            "Hoofddoel": "Afname problemen én hulpbronnen versterken",
            "Uitvoerder": "Coach, vrijwilliger",
        },
        "Café Ouderkracht": {
            "Hoofddoel": "Versterken van hulpbronnen",
            "Uitvoerder": "Opbouwwerker",
        },
    }


def test_a_tab_separated_file_is_read_too(study: Study) -> None:
    table = metadata.read_table("x.csv", csv_bytes("Interventie\tSetting\nVaste Grond\tThuis\n"))

    assert table["headers"] == ["Interventie", "Setting"]
    assert table["rows"] == [["Vaste Grond", "Thuis"]]


def test_an_xlsx_made_with_openpyxl_imports_with_whole_numbers_without_decimals(
    study: Study,
) -> None:
    attribute_define(study=study, name="Aantal sessies", kind="number")
    attribute_define(study=study, name="Duur in weken", kind="text")
    data = xlsx_bytes(
        [
            ["Interventie", "Setting", "Aantal sessies", "Duur in weken"],
            ["Vaste Grond", "Thuis", 12, 12.0],
            [None, None, None, None],
            ["Twee Oevers", "Zorginstelling", 1.5, "8"],
        ]
    )

    table = metadata.read_table("interventies.xlsx", data)
    summary = metadata.import_apply(study=study, table=table, new_attributes=[])

    assert table["row_numbers"] == [2, 4]
    assert summary["added"] == 2
    assert values_of(study) == {
        "Vaste Grond": {"Setting": "Thuis", "Aantal sessies": "12", "Duur in weken": "12"},
        "Twee Oevers": {"Setting": "Zorginstelling", "Aantal sessies": "1.5", "Duur in weken": "8"},
    }


def test_blank_rows_and_trailing_blank_columns_are_dropped_and_rows_keep_sheet_numbers() -> None:
    data = csv_bytes("Interventie;Setting;;\n;;;\nVaste Grond;Thuis;;\n\nTwee Oevers;;;\n")

    table = metadata.read_table("x.csv", data)

    assert table == {
        "headers": ["Interventie", "Setting"],
        "rows": [["Vaste Grond", "Thuis"], ["Twee Oevers", ""]],
        "row_numbers": [3, 5],
        "columns": ["A", "B"],
        "notes": [],
    }


# Refused files: a clear message and nothing stored ------------------------------------------


def formula_xlsx() -> bytes:
    return xlsx_bytes([["Interventie", "Aantal"], ["Vaste Grond", "=1+1"]])


def zip_bytes(members: dict[str, bytes]) -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return stream.getvalue()


REFUSED_FILES = [
    pytest.param(
        "x.csv",
        b"Interventie;Setting\r\nVaste Gr\xc3\x81\x8d\x8f\x90\x9d;Thuis\r\n",
        "Could not read the text encoding of “x.csv”; save it as UTF-8 CSV (in Excel: “CSV "
        "UTF-8”).",
        id="wrong-encoding",
    ),
    pytest.param(
        "x.csv",
        csv_bytes("Programma;Setting\nVaste Grond;Thuis\n"),
        "No column holds the titles of the interventions; name that column “Interventie”, "
        "“Intervention”, “Titel”, “Title”, “Naam” or “Name”.",
        id="no-title-column",
    ),
    pytest.param(
        "x.csv",
        csv_bytes(
            "Interventie;Setting\nVaste  Grond;Thuis\nTwee Oevers;Thuis\n Vaste Grond;Thuis\n"
        ),
        "Row 2 and row 4 both have the title “Vaste Grond”.",
        id="two-rows-one-title",
    ),
    pytest.param(
        "x.csv",
        csv_bytes("Interventie;Setting\nVaste Grond;Thuis\n;Thuis\n"),
        "Row 3 has no title.",
        id="row-without-title",
    ),
    pytest.param(
        "x.csv",
        csv_bytes("Interventie;Hoofddoel;Setting;Main goal\nVaste Grond;a;b;c\n"),
        "Columns B (“Hoofddoel”) and D (“Main goal”) are the same column.",
        id="duplicate-headers",
    ),
    pytest.param(
        "x.csv",
        csv_bytes("Interventie;Setting;  setting \nVaste Grond;a;b\n"),
        "Columns B (“Setting”) and C (“setting”) are the same column.",
        id="duplicate-headers-after-folding",
    ),
    pytest.param(
        "x.csv",
        csv_bytes("Interventie;;Setting\nVaste Grond;Thuis;x\n"),
        "Column B has values but no header in row 1.",
        id="values-without-header",
    ),
    pytest.param("x.csv", b"", "“x.csv” is empty.", id="empty-file"),
    pytest.param("x.csv", b"\r\n ; ;\r\n\r\n", "“x.csv” holds no rows.", id="no-rows"),
    pytest.param(
        "x.csv",
        csv_bytes("Interventie;Setting\n"),
        "“x.csv” has a header row but no interventions under it.",
        id="header-only",
    ),
    pytest.param(
        "x.csv",
        csv_bytes("Interventie\n" + "".join(f"Interventie {n}\n" for n in range(1001))),
        "“x.csv” has more than 1000 rows; split it into smaller files.",
        id="too-many-rows",
    ),
    pytest.param(
        "x.csv",
        csv_bytes(";".join(["Interventie"] + [f"K{n}" for n in range(200)]) + "\nA\n"),
        "“x.csv” has more than 200 columns.",
        id="too-many-columns",
    ),
    pytest.param(
        "x.xlsx",
        formula_xlsx(),
        "Cell B2 holds a formula whose result is not saved in the file; open the file in "
        "Excel and save it, or paste the values.",
        id="xlsx-formula",
    ),
    pytest.param(
        "x.xlsx",
        csv_bytes("Interventie;Setting\nVaste Grond;Thuis\n"),
        "“x.xlsx” is not a valid .xlsx file; save it again from Excel as .xlsx.",
        id="xlsx-not-a-zip",
    ),
    pytest.param(
        "x.xlsx",
        zip_bytes({"hello.txt": b"not a workbook"}),
        "“x.xlsx” is not a valid .xlsx file; save it again from Excel as .xlsx.",
        id="zip-but-not-xlsx",
    ),
    pytest.param(
        "x.xlsx",
        formula_xlsx()[:300],
        "“x.xlsx” is not a valid .xlsx file; save it again from Excel as .xlsx.",
        id="xlsx-truncated",
    ),
    pytest.param(
        "x.csv",
        formula_xlsx(),
        "“x.csv” is an Excel workbook, not a CSV file; give it the extension .xlsx.",
        id="xlsx-named-csv",
    ),
    pytest.param(
        "x.ods",
        b"whatever",
        "“x.ods” is not a sheet this app reads; upload a .csv or .xlsx file.",
        id="unknown-extension",
    ),
]


@pytest.mark.parametrize(("filename", "data", "message"), REFUSED_FILES)
def test_a_bad_file_is_refused_with_a_clear_message_and_nothing_stored(
    study: Study, owner: Any, filename: str, data: bytes, message: str
) -> None:
    InterventionFactory.create(study=study, title="Vaste Grond")
    before = database_counts()

    with pytest.raises(MetadataError) as refused:
        metadata.import_job_create(study=study, user=owner, filename=filename, data=data)

    assert str(refused.value) == message
    assert database_counts() == before


def test_a_file_over_the_upload_limit_is_refused(study: Study, owner: Any, settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    data = csv_bytes("Interventie;Setting\n" + "Vaste Grond;" + "x" * (1024 * 1024) + "\n")
    before = database_counts()

    with pytest.raises(MetadataError, match=r"“big.csv” is 1.0 MB; the limit is 1 MB."):
        metadata.import_job_create(study=study, user=owner, filename="big.csv", data=data)

    assert database_counts() == before


def test_an_xlsx_that_unpacks_too_large_is_refused_before_it_is_opened(
    study: Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metadata, "MAX_XLSX_UNPACKED_BYTES", 1000)
    before = database_counts()

    with (
        mock.patch.object(metadata, "load_workbook") as load_workbook,
        pytest.raises(MetadataError, match="unpacks to more than"),
    ):
        metadata.read_table("bomb.xlsx", zip_bytes({"a.xml": b"\0" * 2000}))

    load_workbook.assert_not_called()
    assert database_counts() == before


def test_an_xlsx_with_too_many_members_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metadata, "MAX_XLSX_MEMBERS", 3)

    with pytest.raises(MetadataError, match="unpacks to more than"):
        metadata.read_table("many.xlsx", zip_bytes({f"{n}.xml": b"x" for n in range(4)}))


# Preview ------------------------------------------------------------------------------------


@pytest.fixture
def vaste_grond(study: Study) -> Intervention:
    intervention = InterventionFactory.create(study=study, title="Vaste Grond", source="NJi")
    setting = study.attributes.get(name="Setting")
    AttributeValue.objects.create(intervention=intervention, definition=setting, value="Thuis")
    return intervention


def test_the_preview_shows_new_changed_and_unchanged_rows_with_old_and_new_values(
    study: Study, vaste_grond: Intervention
) -> None:
    InterventionFactory.create(study=study, title="Rustpunt Thuis", source="RIVM")
    data = csv_bytes(
        "Interventie;Databank;Setting;Hoofddoel\n"
        "Vaste Grond;NJi;Zorginstelling;\n"
        "Twee Oevers;Movisie;Thuis;Afname problemen\n"
        "Rustpunt Thuis;RIVM;;\n"
    )
    table = metadata.read_table("x.csv", data)

    preview = metadata.preview_import(study=study, table=table)

    assert preview.headers == ["Interventie", "Databank", "Setting", "Hoofddoel"]
    assert [(row.number, row.title, row.action) for row in preview.rows] == [
        (2, "Vaste Grond", "update"),
        (3, "Twee Oevers", "new"),
        (4, "Rustpunt Thuis", "unchanged"),
    ]
    assert preview.rows[0].changes == [("Setting", "Thuis", "Zorginstelling")]
    assert preview.rows[1].changes == [
        ("Databank", "", "Movisie"),
        ("Setting", "", "Thuis"),
        ("Hoofddoel", "", "Afname problemen"),
    ]
    assert preview.rows[2].changes == []
    assert preview.counts == {"new": 1, "update": 1, "unchanged": 1, "error": 0}
    assert preview.has_errors is False
    assert all(row.errors == [] for row in preview.rows)


def test_an_empty_cell_removes_a_value(study: Study, vaste_grond: Intervention) -> None:
    table = metadata.read_table("x.csv", csv_bytes("Interventie;Setting\nVaste Grond;\n"))

    preview = metadata.preview_import(study=study, table=table)
    metadata.import_apply(study=study, table=table, new_attributes=[])

    assert preview.rows[0].changes == [("Setting", "Thuis", "")]
    assert values_of(study) == {"Vaste Grond": {}}


def test_the_preview_shows_each_rows_errors_and_the_other_rows_still(study: Study) -> None:
    attribute_define(study=study, name="Aantal sessies", kind="number")
    data = csv_bytes(
        "Interventie;Aantal sessies;URL\n"
        "Vaste Grond;12;\n"
        "Twee Oevers;abc;https://voorbeeld.example/twee-oevers\n"
        "Rustpunt Thuis;3;niet een adres\n"
    )
    table = metadata.read_table("x.csv", data)

    preview = metadata.preview_import(study=study, table=table)

    assert [row.action for row in preview.rows] == ["new", "error", "error"]
    assert preview.rows[1].number == 3
    assert preview.rows[1].errors == ["“Aantal sessies” takes a number; “abc” is not one."]
    assert preview.rows[2].errors == ["URL “niet een adres”: Enter a valid URL."]
    assert preview.counts == {"new": 1, "update": 0, "unchanged": 0, "error": 2}
    assert preview.has_errors is True
    assert "Row 3: “Aantal sessies” takes a number; “abc” is not one." in preview.first_errors()


def test_the_preview_changes_nothing_in_the_database(
    study: Study, vaste_grond: Intervention
) -> None:
    table = metadata.read_table(FIXTURE.name, FIXTURE.read_bytes())
    table["rows"].append(
        ["Vaste Grond", "Movisie", "", "", "", "", "", "", "Zorginstelling", "", ""]
    )
    table["row_numbers"].append(41)
    before = snapshot(study)
    counts_before = database_counts()

    preview = metadata.preview_import(study=study, table=table)

    assert preview.counts == {"new": 39, "update": 1, "unchanged": 0, "error": 0}
    assert snapshot(study) == before
    assert database_counts() == counts_before


def test_an_unknown_column_is_offered_and_only_added_when_chosen(study: Study) -> None:
    data = csv_bytes("Interventie;Kosten;Setting\nVaste Grond;€ 1.200;Thuis\n")
    table = metadata.read_table("x.csv", data)

    preview = metadata.preview_import(study=study, table=table)
    ignored = metadata.import_apply(study=study, table=table, new_attributes=[])

    assert preview.unknown_columns == ["Kosten"]
    assert preview.headers == ["Interventie", "Setting"]
    assert ignored["attributes_added"] == []
    assert not study.attributes.filter(name="Kosten").exists()
    assert values_of(study) == {"Vaste Grond": {"Setting": "Thuis"}}

    chosen = metadata.import_apply(study=study, table=table, new_attributes=["Kosten"])

    assert chosen == {"added": 0, "updated": 1, "unchanged": 0, "attributes_added": ["Kosten"]}
    kosten = study.attributes.get(name="Kosten")
    assert (kosten.kind, kosten.position) == ("text", 8)
    assert values_of(study) == {"Vaste Grond": {"Setting": "Thuis", "Kosten": "€ 1.200"}}


def test_an_english_alias_new_to_the_study_is_offered_under_its_dutch_name(
    empty_study: Study,
) -> None:
    table = metadata.read_table(
        "x.csv", csv_bytes("Title;Main goal\nVaste Grond;Afname problemen\n")
    )

    preview = metadata.preview_import(study=empty_study, table=table)
    metadata.import_apply(study=empty_study, table=table, new_attributes=["Hoofddoel"])

    assert preview.unknown_columns == ["Hoofddoel"]
    assert values_of(empty_study) == {"Vaste Grond": {"Hoofddoel": "Afname problemen"}}


def test_apply_refuses_a_new_attribute_that_is_not_a_column(study: Study) -> None:
    table = metadata.read_table("x.csv", csv_bytes("Interventie;Kosten\nVaste Grond;10\n"))
    before = database_counts()

    with pytest.raises(MetadataError, match="“Prijs” is not a new column of this file."):
        metadata.import_apply(study=study, table=table, new_attributes=["Prijs"])

    assert database_counts() == before


def test_interventions_of_another_study_are_not_matched(study: Study, empty_study: Study) -> None:
    other = InterventionFactory.create(study=empty_study, title="Vaste Grond", source="Elders")
    table = metadata.read_table("x.csv", csv_bytes("Interventie;Databank\nVaste Grond;NJi\n"))

    summary = metadata.import_apply(study=study, table=table, new_attributes=[])

    assert summary["added"] == 1
    other.refresh_from_db()
    assert other.source == "Elders"
    assert study.interventions.get().source == "NJi"


# Applying: all or nothing -------------------------------------------------------------------


def test_a_row_error_during_apply_rolls_back_every_row(
    study: Study, vaste_grond: Intervention
) -> None:
    attribute_define(study=study, name="Aantal sessies", kind="number")
    data = csv_bytes(
        "Interventie;Setting;Aantal sessies;Kosten\n"
        "Vaste Grond;Zorginstelling;4;10\n"
        "Twee Oevers;Thuis;6;20\n"
        "Rustpunt Thuis;Thuis;zes;30\n"
    )
    table = metadata.read_table("x.csv", data)
    before = snapshot(study)
    counts_before = database_counts()

    with pytest.raises(MetadataError) as refused:
        metadata.import_apply(study=study, table=table, new_attributes=["Kosten"])

    assert str(refused.value) == (
        "Nothing was imported. Row 4: “Aantal sessies” takes a number; “zes” is not one."
    )
    assert snapshot(study) == before
    assert database_counts() == counts_before


def test_a_text_column_fills_new_interventions_with_their_sections(study: Study) -> None:
    text = "Samenvatting\nKort.\n\nAanpak\nWekelijkse   huisbezoeken."
    stream = io.StringIO()
    csv.writer(stream, delimiter=";").writerows([["Interventie", "Tekst"], ["Vaste Grond", text]])

    metadata.import_apply(
        study=study,
        table=metadata.read_table("x.csv", stream.getvalue().encode()),
        new_attributes=[],
    )

    intervention = study.interventions.get()
    assert intervention.text == normalize_text(text)
    spans = detect_sections(intervention.text)
    assert [(s.heading, s.start, s.end) for s in intervention.sections.all()] == [
        (s.heading, s.start, s.end) for s in spans if s.start < s.end
    ]


def test_a_text_change_on_a_coded_intervention_is_a_row_error(study: Study) -> None:
    coded = InterventionFactory.create(study=study, title="Vaste Grond")
    SegmentFactory(intervention=coded, code__study=study)
    original_text = coded.text
    table = metadata.read_table(
        "x.csv", csv_bytes("Interventie;Tekst;Setting\nVaste Grond;Een andere tekst.;Thuis\n")
    )

    preview = metadata.preview_import(study=study, table=table)

    assert preview.rows[0].action == "error"
    assert preview.rows[0].errors == [
        "The text of “Vaste Grond” is coded already, so it cannot change in place. Make a new "
        "version of the intervention instead."
    ]
    with pytest.raises(MetadataError, match="is coded already"):
        metadata.import_apply(study=study, table=table, new_attributes=[])
    coded.refresh_from_db()
    assert coded.text == original_text
    assert values_of(study) == {"Vaste Grond": {}}


def test_an_empty_text_cell_keeps_the_text_of_a_coded_intervention(study: Study) -> None:
    coded = InterventionFactory.create(study=study, title="Vaste Grond")
    SegmentFactory(intervention=coded, code__study=study)
    original_text = coded.text
    table = metadata.read_table(
        "x.csv", csv_bytes("Interventie;Tekst;Setting\nVaste Grond;;Thuis\n")
    )

    summary = metadata.import_apply(study=study, table=table, new_attributes=[])

    assert summary["updated"] == 1
    coded.refresh_from_db()
    assert coded.text == original_text
    assert values_of(study) == {"Vaste Grond": {"Setting": "Thuis"}}


# Jobs and the task --------------------------------------------------------------------------


FOUR_ROWS = csv_bytes(
    "Interventie;Hoofddoel;Setting;Kosten\n"
    "Vaste Grond;Versterken van hulpbronnen;Thuis;10\n"
    "Twee Oevers;Afname problemen én hulpbronnen versterken;Ambulant;20\n"
    "Rustpunt Thuis;Afname problemen;Residentieel;30\n"
    "Kring van Zeven;Versterken van hulpbronnen;Thuis of zorginstelling;40\n"
)


def test_creating_a_job_stores_the_table_for_preview(study: Study, owner: Any) -> None:
    job = metadata.import_job_create(
        study=study, user=owner, filename="C:\\Users\\alice\\interventies.csv", data=FOUR_ROWS
    )

    assert job.status == ImportJob.Status.PREVIEW
    assert job.filename == "interventies.csv"
    assert job.table["headers"] == ["Interventie", "Hoofddoel", "Setting", "Kosten"]
    assert len(job.table["rows"]) == 4
    assert study.interventions.count() == 0


def test_confirming_queues_the_task_on_commit_and_the_task_applies_the_import(
    study: Study, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = metadata.import_job_create(study=study, user=owner, filename="x.csv", data=FOUR_ROWS)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        metadata.import_job_confirm(job=job, new_attributes=["Kosten"])
    job.refresh_from_db()
    assert (job.status, job.new_attributes) == (ImportJob.Status.QUEUED, ["Kosten"])
    assert study.interventions.count() == 0
    assert len(callbacks) == 1

    callbacks[0]()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.summary == {"added": 4, "updated": 0, "unchanged": 0, "attributes_added": ["Kosten"]}
    assert job.progress == 100
    assert job.finished_at is not None
    assert job.error == ""
    assert values_of(study)["Twee Oevers"] == {
        "Hoofddoel": "Afname problemen én hulpbronnen versterken",
        "Setting": "Ambulant",
        "Kosten": "20",
    }


def test_confirming_twice_is_refused_and_imports_once(
    study: Study, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = metadata.import_job_create(study=study, user=owner, filename="x.csv", data=FOUR_ROWS)
    with django_capture_on_commit_callbacks(execute=True):
        metadata.import_job_confirm(job=job, new_attributes=[])
    before = snapshot(study)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(MetadataError, match="This import has been confirmed already."),
    ):
        metadata.import_job_confirm(job=job, new_attributes=["Kosten"])

    assert callbacks == []
    assert snapshot(study) == before
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.summary["added"] == 4


def test_confirm_refuses_a_job_whose_preview_has_errors(
    study: Study, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    attribute_define(study=study, name="Kosten", kind="number")
    data = csv_bytes("Interventie;Kosten\nVaste Grond;tien\n")
    job = metadata.import_job_create(study=study, user=owner, filename="x.csv", data=data)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(MetadataError, match="Row 2: “Kosten” takes a number"),
    ):
        metadata.import_job_confirm(job=job, new_attributes=[])

    assert callbacks == []
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEW
    assert study.interventions.count() == 0


def test_confirm_refuses_a_new_attribute_that_is_not_an_unknown_column(
    study: Study, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    job = metadata.import_job_create(study=study, user=owner, filename="x.csv", data=FOUR_ROWS)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(MetadataError, match="“Setting” is not a new column of this file."),
    ):
        metadata.import_job_confirm(job=job, new_attributes=["Setting"])

    assert callbacks == []
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEW


def queued_job(study: Study, owner: Any, data: bytes = FOUR_ROWS) -> ImportJob:
    job = metadata.import_job_create(study=study, user=owner, filename="x.csv", data=data)
    job.status = ImportJob.Status.QUEUED
    job.save(update_fields=["status"])
    return job


def test_re_running_a_done_job_changes_nothing(study: Study, owner: Any) -> None:
    job = queued_job(study, owner)
    apply_import.delay(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    before = snapshot(study)
    job_before = (job.status, job.summary, job.finished_at, job.error, job.progress)

    with mock.patch("interventions.tasks.import_apply") as import_apply:
        apply_import.delay(job.pk)

    import_apply.assert_not_called()
    job.refresh_from_db()
    assert (job.status, job.summary, job.finished_at, job.error, job.progress) == job_before
    assert snapshot(study) == before


def test_the_task_leaves_a_job_that_was_never_confirmed_alone(study: Study, owner: Any) -> None:
    job = metadata.import_job_create(study=study, user=owner, filename="x.csv", data=FOUR_ROWS)

    apply_import.delay(job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEW
    assert study.interventions.count() == 0


def test_the_task_marks_a_refused_import_failed_with_the_message(study: Study, owner: Any) -> None:
    attribute_define(study=study, name="Kosten", kind="number")
    job = queued_job(study, owner, csv_bytes("Interventie;Kosten\nVaste Grond;10\nTwee;x\n"))

    apply_import.delay(job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.error == "Nothing was imported. Row 3: “Kosten” takes a number; “x” is not one."
    assert job.finished_at is not None
    assert study.interventions.count() == 0


@pytest.mark.usefixtures("eager_retries")
def test_the_task_retries_a_database_error_and_then_applies(study: Study, owner: Any) -> None:
    job = queued_job(study, owner)
    calls = [OperationalError("database is locked")]

    def flaky(**kwargs: Any) -> dict:
        if calls:
            raise calls.pop()
        return metadata.import_apply(**kwargs)

    with mock.patch("interventions.tasks.import_apply", side_effect=flaky) as import_apply:
        result = apply_import.delay(job.pk)

    assert result.successful()
    assert import_apply.call_count == 2
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert study.interventions.count() == 4


@pytest.mark.usefixtures("eager_retries")
def test_the_task_gives_up_after_three_retries_and_marks_the_job_failed(
    study: Study, owner: Any
) -> None:
    job = queued_job(study, owner)

    with mock.patch(
        "interventions.tasks.import_apply", side_effect=OperationalError("gone")
    ) as import_apply:
        result = apply_import.delay(job.pk)

    assert result.failed()
    assert isinstance(result.result, OperationalError)
    assert import_apply.call_count == 4
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "database could not be reached" in job.error


def test_the_task_does_not_retry_other_errors(study: Study, owner: Any) -> None:
    job = queued_job(study, owner)

    with (
        mock.patch("interventions.tasks.import_apply", side_effect=RuntimeError("bug")) as apply,
        pytest.raises(RuntimeError),
    ):
        apply_import.delay(job.pk)

    assert apply.call_count == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED


# Texts --------------------------------------------------------------------------------------


def test_texts_become_interventions_titled_by_file_name(study: Study) -> None:
    report = metadata.interventions_from_texts(
        study=study,
        texts=[
            ("map/Vaste Grond.txt", "Doel\nHet gezin versterken."),
            ("C:\\Documenten\\Twee  Oevers.v2.docx", "Aanpak\nHuisbezoeken."),
        ],
        source="NJi",
    )

    assert report == metadata.Report(added=2, updated=0)
    vaste_grond = study.interventions.get(title="Vaste Grond")
    assert (vaste_grond.source, vaste_grond.source_filename) == ("NJi", "Vaste Grond.txt")
    assert vaste_grond.text == "Doel\nHet gezin versterken."
    assert study.interventions.filter(title="Twee Oevers.v2").exists()


def test_a_text_for_an_existing_title_updates_it_and_keeps_title_and_url(study: Study) -> None:
    existing = InterventionFactory.create(
        study=study, title="Vaste Grond", source="NJi", url="https://voorbeeld.example/vg"
    )

    report = metadata.interventions_from_texts(
        study=study,
        texts=[("Vaste Grond.pdf", "Nieuwe tekst."), ("Twee Oevers.txt", "Tekst.")],
    )

    assert report == metadata.Report(added=1, updated=1)
    existing.refresh_from_db()
    assert (existing.title, existing.source, existing.url, existing.text) == (
        "Vaste Grond",
        "NJi",
        "https://voorbeeld.example/vg",
        "Nieuwe tekst.",
    )


def test_two_files_with_one_title_are_refused(study: Study) -> None:
    before = database_counts()

    with pytest.raises(
        MetadataError, match="“Vaste Grond.txt” and “Vaste Grond.pdf” both give the title"
    ):
        metadata.interventions_from_texts(
            study=study, texts=[("Vaste Grond.txt", "a"), ("a/Vaste Grond.pdf", "b")]
        )

    assert database_counts() == before


def test_texts_are_all_or_nothing_when_one_is_refused(study: Study) -> None:
    coded = InterventionFactory.create(study=study, title="Vaste Grond")
    SegmentFactory(intervention=coded, code__study=study)
    before = database_counts()

    with pytest.raises(ServiceError, match="is coded already"):
        metadata.interventions_from_texts(
            study=study, texts=[("Twee Oevers.txt", "Tekst."), ("Vaste Grond.txt", "Anders.")]
        )

    assert database_counts() == before


# Export -------------------------------------------------------------------------------------


def test_the_csv_export_is_utf8_with_bom_and_semicolons_with_attributes_by_position(
    study: Study,
) -> None:
    import_fixture(study)

    content = metadata.export_table(study=study, fmt="csv")

    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").split("\r\n")
    assert lines[0].split(";") == ["Interventie", "Databank", "URL", *TEMPLATE_NAMES]
    assert len([line for line in lines if line]) == 40
    first = next(line for line in lines if line.startswith("Coöperatief Opvoeden;"))
    assert first.split(";")[:4] == [
        "Coöperatief Opvoeden",
        "NJi Effectieve Jeugdinterventies",
        "https://voorbeeld.example/databank/cooperatief-opvoeden",
        "Ouders van kinderen met opvoedproblemen",
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_back_with_every_row_unchanged(study: Study, fmt: str) -> None:
    import_fixture(study)

    content = metadata.export_table(study=study, fmt=fmt)
    preview = metadata.preview_import(
        study=study, table=metadata.read_table(f"export.{fmt}", content)
    )

    assert preview.counts == {"new": 0, "update": 0, "unchanged": 39, "error": 0}
    assert preview.unknown_columns == []
    assert preview.headers == ["Interventie", "Databank", "URL", *TEMPLATE_NAMES]


def test_export_cells_that_look_like_formulas_get_an_apostrophe_and_import_back(
    study: Study,
) -> None:
    intervention = InterventionFactory.create(study=study, title="=Gevaarlijk", source="@databank")
    AttributeValue.objects.create(
        intervention=intervention,
        definition=study.attributes.get(name="Setting"),
        value='=HYPERLINK("http://evil.example","klik")',
    )
    AttributeValue.objects.create(
        intervention=intervention,
        definition=study.attributes.get(name="Hoofddoel"),
        value="+31 20 123",
    )

    content = metadata.export_table(study=study, fmt="csv")
    xlsx = metadata.export_table(study=study, fmt="xlsx")

    row = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))[1]
    assert row[:2] == ["'=Gevaarlijk", "'@databank"]
    assert '\'=HYPERLINK("http://evil.example","klik")' in row
    assert "'+31 20 123" in row
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).worksheets[0]
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)
    assert sheet["A2"].value == "'=Gevaarlijk"
    for data, name in ((content, "x.csv"), (xlsx, "x.xlsx")):
        table = metadata.read_table(name, data)
        assert table["rows"][0][:2] == ["=Gevaarlijk", "@databank"]
        preview = metadata.preview_import(study=study, table=table)
        assert [row.action for row in preview.rows] == ["unchanged"]


def test_export_cells_starting_with_a_tab_a_carriage_return_or_an_apostrophe_are_escaped_too(
    study: Study,
) -> None:
    intervention = InterventionFactory.create(study=study, title="Vaste Grond")
    values = {"Setting": "\t=1+1", "Hoofddoel": "\r=1+1", "Uitvoerder": "'citaat"}
    for name, value in values.items():
        AttributeValue.objects.create(
            intervention=intervention, definition=study.attributes.get(name=name), value=value
        )

    content = metadata.export_table(study=study, fmt="csv")
    xlsx = metadata.export_table(study=study, fmt="xlsx")

    row = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))[1]
    assert {"'\t=1+1", "'\r=1+1", "''citaat"} <= set(row)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).worksheets[0]
    assert {"'\t=1+1", "'\r=1+1", "''citaat"} <= {cell.value for cell in sheet[2]}
    for data, name in ((content, "x.csv"), (xlsx, "x.xlsx")):
        assert set(values.values()) <= set(metadata.read_table(name, data)["rows"][0])


def test_an_unknown_export_format_is_refused(study: Study) -> None:
    with pytest.raises(MetadataError, match="Export as csv or xlsx"):
        metadata.export_table(study=study, fmt="ods")
