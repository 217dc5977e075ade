"""The import_interventions and export_interventions management commands."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from interventions.models import AttributeDefinition, AttributeValue, Intervention, Section, Study
from interventions.services import attribute_define, study_create
from tests.factories import InterventionFactory, SegmentFactory, UserFactory

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "interventies_39.csv"


@pytest.fixture
def study(db: Any) -> Study:
    owner = UserFactory(username="alice")
    return study_create(name="Gezinsinterventies", slug="gezin", owner=owner, template="veerkracht")


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue().strip()


def database_counts() -> dict[str, int]:
    return {
        "interventions": Intervention.objects.count(),
        "values": AttributeValue.objects.count(),
        "attributes": AttributeDefinition.objects.count(),
        "sections": Section.objects.count(),
    }


def test_it_imports_the_39_row_sheet_and_says_what_it_did(study: Study) -> None:
    output = run("import_interventions", "--study", "gezin", str(FIXTURE))

    assert output == "Imported 39 rows into gezin: 39 added, 0 updated, 0 unchanged"
    assert study.interventions.count() == 39
    value = AttributeValue.objects.get(
        intervention__title="Coöperatief Opvoeden", definition__name="Hoofddoel"
    )
    assert value.value == "Versterken van hulpbronnen"


def test_new_sheet_columns_become_attributes_and_the_output_names_them(
    study: Study, tmp_path: Path
) -> None:
    sheet = tmp_path / "extra.csv"
    sheet.write_text("Interventie;Kosten;Doelgroep extra\nVaste Grond;10;Ouders\n", "utf-8")

    output = run("import_interventions", "--study", "gezin", str(sheet))

    assert output == (
        "Imported 1 rows into gezin: 1 added, 0 updated, 0 unchanged; "
        "new attributes: Kosten, Doelgroep extra"
    )
    assert list(study.attributes.values_list("name", flat=True))[-2:] == [
        "Kosten",
        "Doelgroep extra",
    ]


def test_an_xlsx_sheet_with_a_text_column_imports_the_texts(study: Study, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Intervention", "Text", "Setting"])
    workbook.active.append(["Vaste Grond", "Doel\nHet gezin versterken.", "Thuis"])
    path = tmp_path / "met-tekst.xlsx"
    workbook.save(path)

    output = run("import_interventions", "--study", "gezin", str(path))

    assert output == "Imported 1 rows into gezin: 1 added, 0 updated, 0 unchanged"
    assert study.interventions.get().text == "Doel\nHet gezin versterken."


def test_a_folder_of_texts_is_imported_and_other_files_are_listed_as_skipped(
    study: Study, tmp_path: Path
) -> None:
    (tmp_path / "Vaste Grond.txt").write_text("Doel\nHet gezin versterken.", "utf-8")
    (tmp_path / "Twee Oevers.html").write_text(
        "<html><body><h1>Aanpak</h1><p>Huisbezoeken.</p></body></html>", "utf-8"
    )
    (tmp_path / "kenmerken.csv").write_text("Interventie\nX\n", "utf-8")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / "oud").mkdir()
    (tmp_path / "oud" / "Rustpunt.txt").write_text("Niet meenemen.", "utf-8")

    output = run("import_interventions", "--study", "gezin", "--source", "NJi", str(tmp_path))

    assert output.splitlines() == [
        "Skipped 3 that are not text files: kenmerken.csv, logo.png, oud/",
        "Imported 2 files into gezin: 2 added, 0 updated",
    ]
    assert sorted(study.interventions.values_list("title", "source")) == [
        ("Twee Oevers", "NJi"),
        ("Vaste Grond", "NJi"),
    ]


def test_a_text_file_with_a_title_the_study_has_updates_that_intervention(
    study: Study, tmp_path: Path
) -> None:
    existing = InterventionFactory.create(
        study=study, title="Vaste Grond", url="https://x.example/vg"
    )
    path = tmp_path / "Vaste Grond.txt"
    path.write_text("Nieuwe tekst.", "utf-8")

    output = run("import_interventions", "--study", "gezin", str(path))

    assert output == "Imported 1 file into gezin: 0 added, 1 updated"
    existing.refresh_from_db()
    assert (existing.text, existing.url) == ("Nieuwe tekst.", "https://x.example/vg")


def test_export_then_import_round_trips_unchanged(study: Study, tmp_path: Path) -> None:
    run("import_interventions", "--study", "gezin", str(FIXTURE))
    for fmt in ("csv", "xlsx"):
        path = tmp_path / f"export.{fmt}"

        exported = run("export_interventions", "--study", "gezin", "--format", fmt, "-o", str(path))
        imported = run("import_interventions", "--study", "gezin", str(path))

        assert exported == f"Exported 39 interventions of gezin to {path}"
        assert imported == "Imported 39 rows into gezin: 0 added, 0 updated, 39 unchanged"
    assert study.attributes.count() == 8


def test_the_csv_export_opens_in_dutch_excel(study: Study, tmp_path: Path) -> None:
    run("import_interventions", "--study", "gezin", str(FIXTURE))
    path = tmp_path / "export.csv"

    run("export_interventions", "--study", "gezin", "-o", str(path))

    content = path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbfInterventie;Databank;URL;Primaire doelgroep;")
    assert "Samen ‘Sterk’ Thuis;" in content.decode("utf-8-sig")


def test_the_export_format_follows_the_file_extension(study: Study, tmp_path: Path) -> None:
    InterventionFactory.create(study=study, title="Vaste Grond")
    path = tmp_path / "export.xlsx"

    run("export_interventions", "--study", "gezin", "-o", str(path))

    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert [cell.value for cell in sheet[1]][:3] == ["Interventie", "Databank", "URL"]
    assert sheet["A2"].value == "Vaste Grond"


# Bad input: CommandError (a non-zero exit) and nothing changed -------------------------------


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_INPUT = [
    pytest.param(
        lambda tmp: ["--study", "onbekend", str(FIXTURE)],
        "There is no study 'onbekend'.",
        id="study",
    ),
    pytest.param(
        lambda tmp: ["--study", "gezin", str(tmp / "weg.csv")],
        "does not exist.",
        id="missing-file",
    ),
    pytest.param(
        lambda tmp: [
            "--study",
            "gezin",
            str(write(tmp / "x.csv", b"Interventie;Setting\r\nVaste \x81\x8d;Thuis\r\n")),
        ],
        "Could not read the text encoding of “x.csv”",
        id="encoding",
    ),
    pytest.param(
        lambda tmp: [
            "--study",
            "gezin",
            str(write(tmp / "x.csv", b"Interventie;Setting\r\nA;Thuis\r\nA;Thuis\r\n")),
        ],
        "Row 2 and row 3 both have the title “A”.",
        id="duplicate-title",
    ),
    pytest.param(
        lambda tmp: ["--study", "gezin", str(write(tmp / "leeg.txt", b""))],
        "“leeg.txt” is empty.",
        id="empty-text",
    ),
    pytest.param(
        lambda tmp: ["--study", "gezin", str(write(tmp / "foto.png", b"\x89PNG"))],
        "“foto.png” has an unsupported file type",
        id="unsupported-file",
    ),
    pytest.param(
        lambda tmp: ["--study", "gezin", str((tmp / "leeg").resolve())],
        "holds no .txt, .docx, .pdf, .html, .htm files",
        id="folder-without-texts",
    ),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_INPUT)
def test_bad_input_exits_with_a_one_line_reason_and_changes_nothing(
    study: Study, tmp_path: Path, arguments: Any, message: str
) -> None:
    (tmp_path / "leeg").mkdir()
    before = database_counts()

    with pytest.raises(CommandError) as refused:
        run("import_interventions", *arguments(tmp_path))

    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    assert database_counts() == before


def test_a_row_error_refuses_the_whole_sheet(study: Study, tmp_path: Path) -> None:
    attribute_define(study=study, name="Aantal sessies", kind="number")
    sheet = write(
        tmp_path / "x.csv",
        b"Interventie;Aantal sessies;Nieuw\nVaste Grond;4;a\nTwee Oevers;vier;b\n",
    )
    before = database_counts()

    with pytest.raises(CommandError, match="Row 3: “Aantal sessies” takes a number"):
        run("import_interventions", "--study", "gezin", str(sheet))

    assert database_counts() == before


def test_one_coded_text_in_a_folder_refuses_every_file(study: Study, tmp_path: Path) -> None:
    coded = InterventionFactory.create(study=study, title="Vaste Grond")
    SegmentFactory(intervention=coded, code__study=study)
    (tmp_path / "Vaste Grond.txt").write_text("Een andere tekst.", "utf-8")
    (tmp_path / "Twee Oevers.txt").write_text("Tekst.", "utf-8")
    before = database_counts()

    with pytest.raises(CommandError, match="is coded already"):
        run("import_interventions", "--study", "gezin", str(tmp_path))

    assert database_counts() == before


def test_export_of_an_unknown_study_is_refused(db: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="There is no study 'onbekend'."):
        run("export_interventions", "--study", "onbekend", "-o", str(tmp_path / "x.csv"))

    assert not (tmp_path / "x.csv").exists()


def test_export_to_a_folder_that_does_not_exist_is_refused(study: Study, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Could not write"):
        run("export_interventions", "--study", "gezin", "-o", str(tmp_path / "weg" / "x.csv"))
