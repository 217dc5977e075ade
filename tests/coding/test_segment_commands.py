"""import_segments and export_segments: a round trip, and refusals that change nothing."""

from __future__ import annotations

import csv
import io
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from coding import segments as seg
from coding.codebook import services
from coding.models import Code, CodingEvent, Segment
from interventions.models import Intervention, Section
from tests.conftest import Cast
from tests.factories import InterventionFactory

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
TEXT = (
    "Samenvatting\nHet gezin leert.\n\n"
    f"Aanpak\nDe coördinator en het gezin {FAMILY} maken een plan. Ouders oefenen thuis.\n"
)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def at(word: str, text: str = TEXT) -> tuple[int, int]:
    start = text.index(word)
    return start, start + len(word)


@pytest.fixture
def doc(cast: Cast) -> Intervention:
    cast.intervention.text = TEXT
    cast.intervention.save()
    Section.objects.create(
        intervention=cast.intervention,
        heading="Samenvatting",
        start=0,
        end=TEXT.index("Aanpak"),
        excluded=True,
    )
    return cast.intervention


@pytest.fixture
def codes(cast: Cast) -> dict[str, Code]:
    sociaal = services.code_create(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    return {
        "sociaal": sociaal,
        "doelen": services.code_create(
            study=cast.study, actor=cast.owner, name="Doelen", parent=sociaal
        ),
    }


def write_csv(
    path: Path,
    rows: list[list[Any]],
    delimiter: str = ",",
    bom: bool = False,
    encoding: str = "utf-8",
) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig" if bom else encoding))
    return path


def test_segments_import_with_the_quote_taken_from_the_text(
    cast: Cast, doc: Intervention, codes: dict[str, Code], tmp_path: Path
) -> None:
    start, end = at(f"het gezin {FAMILY} maken")
    file = write_csv(
        tmp_path / "segmenten.csv",
        [
            ["intervention", "code", "start", "end", "memo"],
            ["Gezin Centraal", "Sociale hulpbronnen > Doelen", start, end, "met emoji"],
            ["gezin centraal", "Sociale hulpbronnen", *at("Ouders oefenen thuis"), ""],
        ],
    )
    out = run("import_segments", "--study", "gezin", "--coder", "carol", str(file))
    assert out.strip() == "Imported 2 segments for carol into gezin"
    first, second = Segment.objects.order_by("start")
    assert (first.quote, first.code, first.memo, first.coder) == (
        f"het gezin {FAMILY} maken",
        codes["doelen"],
        "met emoji",
        cast.coder_a,
    )
    assert (second.quote, second.code) == ("Ouders oefenen thuis", codes["sociaal"])
    assert CodingEvent.objects.filter(action="segment_create", actor=cast.coder_a).count() == 2


def test_a_semicolon_separated_file_with_a_bom_imports(
    cast: Cast, doc: Intervention, codes: dict[str, Code], tmp_path: Path
) -> None:
    file = write_csv(
        tmp_path / "excel.csv",
        [["Intervention", "Code", "Start", "End"], ["Gezin Centraal", "Sociale hulpbronnen", 0, 5]],
        delimiter=";",
        bom=True,
    )
    with pytest.raises(CommandError, match="Row 2: the span 0–5 is in the section ‘Samenvatting’"):
        run("import_segments", "--study", "gezin", "--coder", "bob", str(file))
    start, end = at("coördinator")
    write_csv(
        file,
        [
            ["Intervention", "Code", "Start", "End"],
            ["Gezin Centraal", "Sociale hulpbronnen", start, end],
        ],
        delimiter=";",
        bom=True,
    )
    out = run("import_segments", "--study", "gezin", "--coder", "bob", str(file))
    assert out.strip() == "Imported 1 segments for bob into gezin"
    assert Segment.objects.get().quote == "coördinator"


@pytest.mark.parametrize(
    ("delimiter", "bom", "encoding"),
    [(";", False, "cp1252"), ("\t", False, "cp1252"), (",", True, "utf-8")],
    ids=["dutch-excel-csv", "tab-separated-cp1252", "csv-utf8-with-bom"],
)
def test_a_file_from_excel_imports_with_its_dutch_diacritics(
    cast: Cast,
    doc: Intervention,
    codes: dict[str, Code],
    tmp_path: Path,
    delimiter: str,
    bom: bool,
    encoding: str,
) -> None:
    file = write_csv(
        tmp_path / "excel.csv",
        [
            ["intervention", "code", "start", "end", "memo"],
            ["Gezin Centraal", "Sociale hulpbronnen", *at("coördinator"), "één café, privé"],
        ],
        delimiter=delimiter,
        bom=bom,
        encoding=encoding,
    )
    out = run("import_segments", "--study", "gezin", "--coder", "carol", str(file))
    assert out.strip() == "Imported 1 segments for carol into gezin"
    segment = Segment.objects.get()
    assert (segment.quote, segment.memo) == ("coördinator", "één café, privé")


def test_every_bad_row_is_reported_and_nothing_is_imported(
    cast: Cast, doc: Intervention, codes: dict[str, Code], tmp_path: Path
) -> None:
    seg.segment_create(
        intervention=doc,
        coder=cast.coder_a,
        code=codes["doelen"],
        start=at("plan")[0],
        end=at("plan")[1],
        quote="plan",
    )
    before = (Segment.objects.count(), CodingEvent.objects.count())
    good = ["Gezin Centraal", "Sociale hulpbronnen", *at("coördinator")]
    file = write_csv(
        tmp_path / "fout.csv",
        [
            ["intervention", "code", "start", "end"],
            good,
            ["Onbekend", "Sociale hulpbronnen", 0, 3],
            ["Gezin Centraal", "Sociale hulpbronnen > Inhoud", 0, 3],
            ["Gezin Centraal", "Sociale hulpbronnen", "een", 3],
            ["Gezin Centraal", "Sociale hulpbronnen", 14, 20],
            ["Gezin Centraal", "Sociale hulpbronnen", 40, 30],
            ["Gezin Centraal", "Sociale hulpbronnen", 0, 10_000],
            good,
            ["Gezin Centraal", "Sociale hulpbronnen > Doelen", *at("plan")],
        ],
    )
    with pytest.raises(CommandError) as raised:
        run("import_segments", "--study", "gezin", "--coder", "carol", str(file))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("Nothing imported; 8 rows refused.")
    assert "Row 3: there is no intervention ‘Onbekend’ in gezin." in message
    assert "Row 4: there is no code ‘Sociale hulpbronnen > Inhoud’" in message
    assert "Row 5: the start ‘een’ is not a whole number." in message
    assert "Row 6: the span 14–20 is in the section ‘Samenvatting’, which is not coded." in message
    assert "Row 7: the span 40–30 is empty" in message
    assert "Row 8: the span 0–10000 lies outside the text" in message
    assert "Row 9: it gives ‘Sociale hulpbronnen’ to the span" in message
    assert "as row 2 does" in message
    assert "Row 10: carol has given ‘Doelen’ to the span" in message
    assert (Segment.objects.count(), CodingEvent.objects.count()) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"intervention,code,start\r\nGezin Centraal,X,1\r\n", "missing end"),
        (b"intervention,code,start,end\r\n", "only a header row"),
        (b"intervention,code,start,end\r\nCo\x81rdinatie,X,1,2\r\n", "neither UTF-8 nor Windows"),
        (
            b"\xef\xbb\xbfintervention,code,start,end\r\nCo\xf6rdinatie,X,1,2\r\n",
            "says it is UTF-8 but is not \\(byte 34\\)",
        ),
    ],
)
def test_an_unreadable_file_is_refused_in_one_line(
    cast: Cast, doc: Intervention, tmp_path: Path, content: bytes, message: str
) -> None:
    file = tmp_path / "segmenten.csv"
    file.write_bytes(content)
    with pytest.raises(CommandError, match=message) as raised:
        run("import_segments", "--study", "gezin", "--coder", "carol", str(file))
    assert "\n" not in str(raised.value)
    assert not Segment.objects.exists()


@pytest.mark.parametrize(
    ("study", "coder", "message"),
    [
        ("onbekend", "carol", "No study"),
        ("gezin", "niemand", "No user"),
        ("gezin", "sam", "sam cannot code in gezin"),
        ("gezin", "oscar", "oscar cannot code in gezin"),
    ],
)
def test_an_unknown_study_or_a_member_who_does_not_code_is_refused(
    cast: Cast, doc: Intervention, tmp_path: Path, study: str, coder: str, message: str
) -> None:
    file = write_csv(tmp_path / "s.csv", [["intervention", "code", "start", "end"]])
    with pytest.raises(CommandError, match=message):
        run("import_segments", "--study", study, "--coder", coder, str(file))


def test_an_export_imports_back_as_the_same_segments(
    cast: Cast, doc: Intervention, codes: dict[str, Code], tmp_path: Path
) -> None:
    other = InterventionFactory(study=cast.study, title="Ouders Voorop", text="Ouders oefenen.")
    made: list[tuple[Any, Any, Code, str, str]] = [
        (doc, cast.coder_a, codes["doelen"], f"het gezin {FAMILY} maken", "=gevaarlijk"),
        (doc, cast.coder_a, codes["sociaal"], "coördinator", "- punt\nnog een regel"),
        (other, cast.coder_a, codes["doelen"], "Ouders", ""),
        (doc, cast.coder_b, codes["doelen"], "plan", "van bob"),
    ]
    for intervention, coder, code, quote, memo in made:
        start, end = at(quote, intervention.text)
        seg.segment_create(
            intervention=intervention,
            coder=coder,
            code=code,
            start=start,
            end=end,
            quote=quote,
            memo=memo,
        )

    def carols() -> list[tuple[Any, ...]]:
        return list(
            Segment.objects.filter(coder=cast.coder_a)
            .order_by("intervention__title", "start")
            .values_list("intervention__title", "code__name", "start", "end", "quote", "memo")
        )

    expected = carols()
    file = tmp_path / "carol.csv"
    out = run(
        "export_segments",
        "--study",
        "gezin",
        "--coder",
        "carol",
        "--format",
        "csv",
        "-o",
        str(file),
    )
    assert out.strip() == f"Exported 3 segments of gezin to {file}"
    rows = list(csv.reader(io.StringIO(file.read_bytes().decode("utf-8-sig"))))
    assert rows[0] == ["intervention", "code", "start", "end", "memo", "coder", "text"]
    by_text = {row[6]: row for row in rows[1:]}
    assert by_text[f"het gezin {FAMILY} maken"][4] == "'=gevaarlijk"
    assert by_text["coördinator"][4] == "'- punt\nnog een regel"
    assert {row[5] for row in rows[1:]} == {"carol"}

    Segment.objects.filter(coder=cast.coder_a).delete()
    out = run("import_segments", "--study", "gezin", "--coder", "carol", str(file))
    assert out.strip() == "Imported 3 segments for carol into gezin"
    assert carols() == expected


def test_every_coders_segments_export_to_xlsx(
    cast: Cast, doc: Intervention, codes: dict[str, Code], tmp_path: Path
) -> None:
    for coder in (cast.coder_a, cast.coder_b):
        start, end = at("coördinator")
        seg.segment_create(
            intervention=doc,
            coder=coder,
            code=codes["doelen"],
            start=start,
            end=end,
            quote="coördinator",
        )
    file = tmp_path / "alles.xlsx"
    out = run("export_segments", "--study", "gezin", "--format", "xlsx", "-o", str(file))
    assert out.strip() == f"Exported 2 segments of gezin to {file}"
    sheet = openpyxl.load_workbook(file).active
    assert sheet is not None
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["intervention", "code", "start", "end", "memo", "coder", "text"]
    start, end = at("coördinator")
    path = "Sociale hulpbronnen > Doelen"
    assert values[1] == ["Gezin Centraal", path, start, end, None, "bob", "coördinator"]
    assert values[2] == ["Gezin Centraal", path, start, end, None, "carol", "coördinator"]


def test_export_refuses_an_unknown_study_or_coder(cast: Cast, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No study"):
        run("export_segments", "--study", "x", "--format", "csv", "-o", str(tmp_path / "a.csv"))
    with pytest.raises(CommandError, match="No user"):
        run(
            "export_segments",
            "--study",
            "gezin",
            "--coder",
            "niemand",
            "--format",
            "csv",
            "-o",
            str(tmp_path / "a.csv"),
        )
