"""Importing REFI-QDA projects: the fixtures of four programs, and broken archives."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from coding.models import Code, CodingEvent, CommentThread, Segment
from coding.projects.archive import ProjectFormatError
from coding.projects.services import ProjectError, project_import, project_preview
from interventions.models import AttributeValue, Intervention, Membership
from tests.conftest import Cast
from tests.factories import MembershipFactory, StudyFactory, UserFactory

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "qdpx"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
NS = "{urn:QDA-XML:project:1.0}"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def file_quotes(data: bytes, reading: str) -> dict[tuple[str, str], str]:
    """{(selection GUID, code GUID): the file's own text[start:end]} for every coding of a
    plain-text selection, read straight from the archive (not through the importer)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    qde = next(n for n in archive.namelist() if n.endswith(".qde"))
    root = ET.fromstring(archive.read(qde))
    quotes: dict[tuple[str, str], str] = {}
    for holder in root.iter():
        if holder.tag not in (f"{NS}TextSource", f"{NS}Representation"):
            continue
        content = holder.find(f"{NS}PlainTextContent")
        if content is not None:
            raw = content.text or ""
        else:
            path = holder.get("plainTextPath", "").removeprefix("internal://")
            raw = archive.read(f"Sources/{path}").decode("utf-8").removeprefix("\ufeff")
        if reading == "crlf-one":
            raw = raw.replace("\r\n", "\n")
        for selection in holder.findall(f"{NS}PlainTextSelection"):
            start = int(selection.get("startPosition", ""))
            end = int(selection.get("endPosition", ""))
            for coding in selection.findall(f"{NS}Coding"):
                target = coding.find(f"{NS}CodeRef").get("targetGUID", "")
                key = (selection.get("guid", ""), target)
                quotes[key] = raw[start:end].replace("\r\n", "\n")
    return quotes


def coded_selections(data: bytes) -> int:
    archive = zipfile.ZipFile(io.BytesIO(data))
    qde = next(n for n in archive.namelist() if n.endswith(".qde"))
    root = ET.fromstring(archive.read(qde))
    return sum(
        len(element.findall(f"{NS}Coding"))
        for element in root.iter()
        if element.tag.endswith("Selection")
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_coded_selection_of_a_vendor_project_is_imported_or_refused_with_a_reason(
    cast: Cast, name: str
) -> None:
    data = fixture(name)
    expected = EXPECTED[name]
    report = project_import(study=cast.study, actor=cast.owner, data=data, filename=name)

    assert report.coded_selections == coded_selections(data) == expected["coded"]
    assert len(report.refused) == expected["refused"]
    assert report.imported + len(report.refused) == report.coded_selections
    assert all(refusal["reason"] for refusal in report.refused)
    assert Segment.objects.filter(intervention__study=cast.study).count() == report.imported
    assert report.memos == expected["memos"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_imported_quote_is_the_files_own_text_at_its_offsets(cast: Cast, name: str) -> None:
    data = fixture(name)
    project_import(study=cast.study, actor=cast.owner, data=data, filename=name)
    quotes = file_quotes(data, EXPECTED[name]["reading"])
    segments = Segment.objects.filter(intervention__study=cast.study).select_related(
        "code", "intervention"
    )
    assert segments
    for segment in segments:
        assert segment.intervention.text[segment.start : segment.end] == segment.quote
        assert quotes[(segment.guid, segment.code.guid)] == segment.quote


def test_the_text_keeps_its_trailing_blanks_and_blank_lines_but_not_crlf_or_bom(
    cast: Cast,
) -> None:
    project_import(
        study=cast.study, actor=cast.owner, data=fixture("maxqda.qdpx"), filename="m.qdpx"
    )
    text = Intervention.objects.get(study=cast.study, title="Thuisprogramma").text
    assert not text.startswith("\ufeff")
    assert "\r" not in text
    assert "e\u0301e\u0301n" in text  # not normalised to NFC: that would move the offsets

    project_import(
        study=cast.study, actor=cast.owner, data=fixture("atlasti.qdpx"), filename="a.qdpx"
    )
    text = Intervention.objects.get(study=cast.study, title="Gezin Centraal (2)").text
    assert "problemen.   \n\n\n\nAanpak" in text
    assert text.endswith("aangepakt.  \n")


def test_the_codebook_keeps_guids_as_written_colours_descriptions_and_is_codable(
    cast: Cast,
) -> None:
    project_import(
        study=cast.study, actor=cast.owner, data=fixture("maxqda.qdpx"), filename="m.qdpx"
    )
    doelen = Code.objects.get(study=cast.study, name="Doelen")
    assert doelen.guid == "C6C1BE73-B4F4-4C2D-91F1-90B73BFC5C25"
    assert doelen.parent.name == "Sociale hulpbronnen"
    assert doelen.definition == "Wat de interventie beoogt."
    cultural = Code.objects.get(study=cast.study, name="Culturele hulpbronnen")
    assert not cultural.color_chosen

    project_import(
        study=cast.study, actor=cast.owner, data=fixture("qualcoder.qdpx"), filename="q.qdpx"
    )
    assert not Code.objects.get(study=cast.study, name="Eigenschappen").is_codable


def test_the_same_vendor_codebook_keeps_its_guids_in_a_second_study(cast: Cast) -> None:
    other = StudyFactory(slug="tweede")
    MembershipFactory(study=other, user=cast.owner, role="owner")
    for study in (cast.study, other):
        project_import(
            study=study, actor=cast.owner, data=fixture("maxqda.qdpx"), filename="m.qdpx"
        )
    guids = {
        study: set(Code.objects.filter(study=study).values_list("guid", flat=True))
        for study in (cast.study, other)
    }
    assert guids[cast.study] == guids[other]
    assert "C9E3D7E0-4DBF-46E2-96EF-14574ECD3B90" in guids[other]


def test_a_code_renamed_in_the_other_program_arrives_as_a_rename(cast: Cast) -> None:
    data = fixture("maxqda.qdpx")
    project_import(study=cast.study, actor=cast.owner, data=data, filename="m.qdpx")
    renamed = rewrite_qde(data, lambda xml: xml.replace(b'name="Doelen"', b'name="Doelstellingen"'))
    report = project_import(study=cast.study, actor=cast.owner, data=renamed, filename="m.qdpx")

    code = Code.objects.get(study=cast.study, guid="C6C1BE73-B4F4-4C2D-91F1-90B73BFC5C25")
    assert code.name == "Doelstellingen"
    assert not Code.objects.filter(study=cast.study, name="Doelen").exists()
    assert report.codes_renamed == ["‘Doelen’ renamed ‘Doelstellingen’"]
    # The texts were there already: the same segments are refused, not doubled.
    assert report.sources_matched == ["Thuisprogramma"]
    assert report.imported == 0
    assert len(report.refused) == 3


def test_users_become_coders_and_a_user_map_names_the_member(cast: Cast) -> None:
    report = project_import(
        study=cast.study,
        actor=cast.owner,
        data=fixture("nvivo.qdpx"),
        filename="n.qdpx",
        user_map={"Carla": "carol"},
    )
    carol_segments = Segment.objects.filter(coder=cast.coder_a).count()
    assert carol_segments == 2
    dirk = get_user_model().objects.get(username="dirk")
    assert Membership.objects.get(study=cast.study, user=dirk).role == "coder"
    assert not dirk.has_usable_password()
    assert {u["target"] for u in report.users} == {"carol", "dirk"}


def test_a_user_map_to_the_supervisor_or_an_outsider_is_refused(cast: Cast) -> None:
    for target in ("sam", "oscar"):
        with pytest.raises(ProjectError):
            project_import(
                study=cast.study,
                actor=cast.owner,
                data=fixture("nvivo.qdpx"),
                filename="n.qdpx",
                user_map={"Carla": target},
            )
    assert not Segment.objects.exists()


def test_notes_become_memos_and_comments_and_cases_become_properties(cast: Cast) -> None:
    project_import(
        study=cast.study, actor=cast.owner, data=fixture("nvivo.qdpx"), filename="n.qdpx"
    )
    intervention = Intervention.objects.get(study=cast.study, title="Gezin Centraal (NVivo)")
    thread = CommentThread.objects.get(target_uuid=intervention.uuid)
    assert thread.comments.get().body == "Let op: tekst is van 2019."
    assert thread.comments.get().author.username == "dirk"
    assert AttributeValue.objects.get(intervention=intervention).value == "Regio Noord"

    project_import(
        study=cast.study, actor=cast.owner, data=fixture("maxqda.qdpx"), filename="m.qdpx"
    )
    values = dict(
        AttributeValue.objects.filter(intervention__title="Thuisprogramma").values_list(
            "definition__name", "value"
        )
    )
    assert values == {"Setting": "Thuis", "Duur in weken": "26"}


def test_the_preview_says_what_will_be_imported_and_writes_nothing(cast: Cast) -> None:
    preview = project_preview(study=cast.study, data=fixture("atlasti.qdpx"))
    assert preview.project.planned == 5
    assert preview.new_codes == 4
    assert [u.target for u in preview.users] == ["anouk", "bram"]
    assert any("set" in line for line in preview.project.dropped)
    assert not Code.objects.exists()
    assert not get_user_model().objects.filter(username="anouk").exists()


def test_only_the_owner_imports(cast: Cast) -> None:
    for user in (cast.supervisor, cast.coder_a, cast.outsider):
        with pytest.raises(ProjectError):
            project_import(
                study=cast.study, actor=user, data=fixture("atlasti.qdpx"), filename="a.qdpx"
            )
    assert not Intervention.objects.filter(guid__startswith="a1b2").exists()


# Broken archives -------------------------------------------------------------------------


def rewrite_qde(data: bytes, change: Any) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            target.writestr(name, change(content) if name.endswith(".qde") else content)
    return out.getvalue()


def without(data: bytes, prefix: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if not name.startswith(prefix):
                target.writestr(name, source.read(name))
    return out.getvalue()


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", fixture_qde())
        archive.writestr(
            "Sources/B1C2D3E4-0000-4000-8000-0000000000AA.txt", b"\0" * (30 * 1024 * 1024)
        )
    return out.getvalue()


def fixture_qde() -> bytes:
    return zipfile.ZipFile(io.BytesIO(fixture("maxqda.qdpx"))).read("project.qde")


XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    b'<Project xmlns="urn:QDA-XML:project:1.0" name="&x;"/>'
)


def past_the_end(data: bytes) -> bytes:
    return rewrite_qde(data, lambda xml: xml.replace(b'endPosition="', b'endPosition="9', 1))


BROKEN = {
    "not a zip": (lambda: b"PK\x03\x04 this is no zip", "cannot be opened as ZIP"),
    "missing source": (
        lambda: without(fixture("maxqda.qdpx"), "Sources/"),
        "which is missing from the archive",
    ),
    "malformed XML": (
        lambda: rewrite_qde(fixture("maxqda.qdpx"), lambda xml: xml[:-20]),
        "not well-formed XML",
    ),
    "XXE": (lambda: rewrite_qde(fixture("maxqda.qdpx"), lambda xml: XXE), "DTD or entities"),
    "selection past the end": (
        lambda: past_the_end(fixture("maxqda.qdpx")),
        "past the end of its text",
    ),
    "zip bomb": (zip_bomb, "zip bomb"),
    "no project.qde": (lambda: without(fixture("maxqda.qdpx"), "project.qde"), "no project.qde"),
}


def counts() -> tuple[int, ...]:
    return (
        Intervention.objects.count(),
        Code.objects.count(),
        Segment.objects.count(),
        get_user_model().objects.count(),
        Membership.objects.count(),
        CodingEvent.objects.count(),
        AttributeValue.objects.count(),
    )


@pytest.mark.parametrize("problem", sorted(BROKEN))
def test_a_broken_archive_is_refused_with_its_problem_named_and_nothing_stored(
    cast: Cast, problem: str
) -> None:
    make, message = BROKEN[problem]
    before = counts()
    with pytest.raises(ProjectFormatError, match=message):
        project_import(study=cast.study, actor=cast.owner, data=make(), filename="x.qdpx")
    assert counts() == before


def test_a_failure_halfway_through_the_writes_leaves_nothing_behind(cast: Cast) -> None:
    """The codebook and the users are written before the texts; a text clash refuses all."""
    data = fixture("maxqda.qdpx")
    project_import(study=cast.study, actor=cast.owner, data=data, filename="m.qdpx")
    changed = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in changed.namelist():
            content = changed.read(name)
            if name.startswith("Sources/"):
                content = content.replace(b"Doel", b"Taak", 1)
            if name.endswith(".qde"):
                content = content.replace(b'name="johnb"', b'name="nieuw"').replace(
                    b'name="Doelen"', b'name="Andere naam"'
                )
            target.writestr(name, content)
    before = counts()
    with pytest.raises(ProjectError, match="with a different text"):
        project_import(study=cast.study, actor=cast.owner, data=out.getvalue(), filename="m")
    assert counts() == before
    assert Code.objects.filter(name="Doelen").exists()


def test_the_xxe_payload_is_never_read(cast: Cast, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("GEHEIM")
    payload = XXE.replace(b"file:///etc/passwd", f"file://{secret}".encode())
    data = rewrite_qde(fixture("maxqda.qdpx"), lambda xml: payload)
    with pytest.raises(ProjectFormatError) as refused:
        project_import(study=cast.study, actor=cast.owner, data=data, filename="x.qdpx")
    assert "GEHEIM" not in str(refused.value)
    assert str(secret) not in str(refused.value)


def test_a_bad_upload_of_an_unknown_owner_never_creates_accounts(cast: Cast) -> None:
    UserFactory(username="anouk")  # taken by someone outside the study
    report = project_import(
        study=cast.study, actor=cast.owner, data=fixture("atlasti.qdpx"), filename="a.qdpx"
    )
    assert {u["target"] for u in report.users} == {"anouk_2", "bram"}
    assert not Membership.objects.filter(study=cast.study, user__username="anouk").exists()


def test_a_reversed_selection_is_refused_with_its_reason_and_the_rest_imported(
    cast: Cast,
) -> None:
    data = rewrite_qde(
        fixture("maxqda.qdpx"),
        lambda xml: re.sub(
            rb'startPosition="\d+" endPosition="(\d+)"',
            rb'startPosition="\1" endPosition="5"',
            xml,
            count=1,
        ),
    )
    report = project_import(study=cast.study, actor=cast.owner, data=data, filename="m.qdpx")
    assert report.imported == 2
    assert [r["reason"] for r in report.refused] == ["an empty or reversed selection (61–5)"]


def test_the_preview_counts_codes_matched_by_guid_or_by_name(cast: Cast) -> None:
    from coding.codebook import services as codebook

    codebook.code_create(study=cast.study, actor=cast.owner, name="Hulpbronnen")
    preview = project_preview(study=cast.study, data=fixture("atlasti.qdpx"))
    assert (preview.new_codes, preview.matched_codes) == (3, 1)
