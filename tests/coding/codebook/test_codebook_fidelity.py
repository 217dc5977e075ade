# ruff: noqa: E501 - the vendor file is kept in the shape its program writes it
"""A vendor's codebook goes out as it came in: GUIDs, descriptions, colours and isCodable."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from coding.codebook import qdc, services
from coding.codebook.exports import export_codebook
from coding.models import Code
from tests.conftest import Cast
from tests.factories import MembershipFactory, StudyFactory

NS = "{urn:QDA-XML:codebook:1.0}"
VENDOR = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="MAXQDA 24">
 <Codes>
  <Code guid="C9E3D7E0-4DBF-46E2-96EF-14574ECD3B90" name="Assessments" isCodable="false" color="#32bd59">
   <Description>A parent category; only its codes are applied.</Description>
   <Code guid="088164C3-4BB6-4C84-8FCF-E550D479867D" name="Affective outcomes" isCodable="true">
    <Description>Emotions, attitudes, interests.</Description>
   </Code>
   <Code guid="{42969CC0-FED4-424B-BEBB-C4D3A833AA21}" name="Authentic assessment" isCodable="true"/>
  </Code>
 </Codes>
</CodeBook>
"""


def codes_of(data: bytes) -> dict[str, ET.Element]:
    return {c.get("name", ""): c for c in ET.fromstring(data).iter(f"{NS}Code")}


def import_vendor(cast: Cast, text: str = VENDOR) -> services.ImportReport:
    nodes, _dropped = qdc.from_qdc(text.encode())
    return services.codebook_import(study=cast.study, actor=cast.owner, nodes=nodes)


def test_export_gives_a_vendors_codes_back_as_they_came(cast: Cast) -> None:
    import_vendor(cast)
    out = export_codebook(study=cast.study, fmt="qdc").content
    came, went = codes_of(VENDOR.encode()), codes_of(out)
    for name, original in came.items():
        written = went[name]
        assert written.get("guid") == original.get("guid")
        assert written.get("isCodable") == original.get("isCodable")
        assert (written.get("color") or "").lower() == (original.get("color") or "").lower()
        assert written.findtext(f"{NS}Description") == original.findtext(f"{NS}Description")
    assert "Herkomst" not in out.decode()
    assert went["Authentic assessment"].find(f"{NS}Description") is None


def test_our_own_fields_still_travel_in_the_description(cast: Cast) -> None:
    services.code_create(
        study=cast.study, actor=cast.owner, name="Doelen", definition="Wat.", example="“Zo.”"
    )
    out = export_codebook(study=cast.study, fmt="qdc").content
    assert codes_of(out)["Doelen"].findtext(f"{NS}Description") == (
        "Wat.\n\nVoorbeeld: “Zo.”\nHerkomst: deductief"
    )


def test_a_code_renamed_in_the_vendors_program_arrives_as_a_rename(cast: Cast) -> None:
    import_vendor(cast)
    report = import_vendor(cast, VENDOR.replace('name="Affective outcomes"', 'name="Affect"'))
    code = Code.objects.get(study=cast.study, guid="088164C3-4BB6-4C84-8FCF-E550D479867D")
    assert code.name == "Affect"
    assert Code.objects.filter(study=cast.study).count() == 3
    assert report.renamed == ["‘Affective outcomes’ renamed ‘Affect’"]


def test_a_new_code_may_take_the_name_another_code_was_renamed_from(cast: Cast) -> None:
    """The import knows its siblings' names as they are after each rename, also when it made a
    code under the same parent before the rename."""
    import_vendor(cast)
    changed = VENDOR.replace(
        '<Code guid="088164C3-4BB6-4C84-8FCF-E550D479867D" name="Affective outcomes"',
        '<Code guid="5B8A1F7C-2E4D-4C1B-9A3E-7D6F0C2B1A99" name="Attitudes" isCodable="true"/>\n'
        '   <Code guid="088164C3-4BB6-4C84-8FCF-E550D479867D" name="Affect"',
    ).replace(
        '<Code guid="{42969CC0-FED4-424B-BEBB-C4D3A833AA21}" name="Authentic assessment" '
        'isCodable="true"/>',
        '<Code guid="{42969CC0-FED4-424B-BEBB-C4D3A833AA21}" name="Authentic assessment" '
        'isCodable="true"/>\n   <Code guid="7C1D2E3F-4A5B-4C6D-8E9F-0A1B2C3D4E5F" '
        'name="Affective outcomes" isCodable="true"/>',
    )
    report = import_vendor(cast, changed)
    names = sorted(
        Code.objects.filter(study=cast.study, parent__name="Assessments").values_list(
            "name", flat=True
        )
    )
    assert names == ["Affect", "Affective outcomes", "Attitudes", "Authentic assessment"]
    assert report.renamed == ["‘Affective outcomes’ renamed ‘Affect’"]


def test_a_code_moved_in_the_vendors_program_moves_here(cast: Cast) -> None:
    import_vendor(cast)
    moved = VENDOR.replace(
        '<Code guid="{42969CC0-FED4-424B-BEBB-C4D3A833AA21}" name="Authentic assessment" '
        'isCodable="true"/>\n  </Code>',
        '</Code>\n  <Code guid="{42969CC0-FED4-424B-BEBB-C4D3A833AA21}" name="Authentic '
        'assessment" isCodable="true"/>',
    )
    report = import_vendor(cast, moved)
    code = Code.objects.get(study=cast.study, name="Authentic assessment")
    assert code.parent is None
    assert len(report.moved) == 1


def test_the_same_codebook_in_a_second_study_keeps_every_guid(cast: Cast) -> None:
    other = StudyFactory(slug="tweede")
    MembershipFactory(study=other, user=cast.owner, role="owner")
    import_vendor(cast)
    nodes, _dropped = qdc.from_qdc(VENDOR.encode())
    services.codebook_import(study=other, actor=cast.owner, nodes=nodes)
    out = codes_of(export_codebook(study=other, fmt="qdc").content)
    assert out["Assessments"].get("guid") == "C9E3D7E0-4DBF-46E2-96EF-14574ECD3B90"
    assert out["Authentic assessment"].get("guid") == "{42969CC0-FED4-424B-BEBB-C4D3A833AA21}"


def test_the_codebook_command_reports_renames(cast: Cast, tmp_path: Path) -> None:
    first, second = tmp_path / "a.qdc", tmp_path / "b.qdc"
    first.write_text(VENDOR)
    second.write_text(VENDOR.replace('name="Affective outcomes"', 'name="Affect"'))
    call_command("import_codebook", "--study", cast.study.slug, str(first), stdout=StringIO())
    out = StringIO()
    call_command("import_codebook", "--study", cast.study.slug, str(second), stdout=out)
    assert "  renamed ‘Affective outcomes’ renamed ‘Affect’" in out.getvalue()


def test_a_colour_chosen_here_is_exported_again(cast: Cast) -> None:
    import_vendor(cast)
    code = Code.objects.get(study=cast.study, name="Affective outcomes")
    services.code_update(code=code, actor=cast.owner, revision=None, color="#123456")
    out = codes_of(export_codebook(study=cast.study, fmt="qdc").content)
    assert out["Affective outcomes"].get("color") == "#123456"
