"""Exporting a study as a REFI-QDA project, and the round trip through a fresh study."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from coding import segments as seg
from coding.codebook import services
from coding.models import (
    Codebook,
    Comment,
    CommentThread,
    ConsensusDecision,
    ConsensusSegment,
    Segment,
)
from coding.projects.reading import CONSENSUS_USER_GUID
from coding.projects.services import ProjectError, project_export
from coding.projects.writing import validate_qde
from interventions.models import AttributeDefinition, AttributeValue, Study
from tests.conftest import Cast
from tests.factories import InterventionFactory, MembershipFactory

NS = "{urn:QDA-XML:project:1.0}"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
TEXT = (
    "Samenvatting\nHet gezin leert.\n\n"
    f"Aanpak\nDe coördinator en het gezin {FAMILY} maken een plan. Ouders oefenen thuis.\n"
)


def span(text: str, quote: str) -> tuple[int, int]:
    start = text.index(quote)
    return start, start + len(quote)


@pytest.fixture
def coded(cast: Cast) -> Cast:
    """Two coders' segments with memos, a consensus segment, a property and a note."""
    intervention = InterventionFactory(study=cast.study, title="Gezinscoaching", text=TEXT)
    theme = services.code_create(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    goals = services.code_create(
        study=cast.study,
        actor=cast.owner,
        name="Doelen",
        parent=theme,
        definition="Wat de interventie beoogt.",
        inclusion="Expliciet genoemd.",
    )
    content = services.code_create(study=cast.study, actor=cast.owner, name="Inhoud", parent=theme)
    for coder, quote, code, memo in (
        (cast.coder_a, f"het gezin {FAMILY} maken", goals, "Gezin als geheel."),
        (cast.coder_a, "Ouders oefenen thuis", content, ""),
        (cast.coder_b, "Ouders oefenen thuis", goals, "Twijfel: doel of inhoud?"),
        (cast.owner, "De coördinator", content, ""),
    ):
        start, end = span(TEXT, quote)
        seg.segment_create(
            intervention=intervention,
            coder=coder,
            code=code,
            start=start,
            end=end,
            quote=quote,
            memo=memo,
        )
    start, end = span(TEXT, "Ouders oefenen thuis")
    decision = ConsensusDecision.objects.create(
        intervention=intervention,
        item_key="k" * 64,
        action="take",
        decided_by=cast.owner,
        decided_at=timezone.now(),
    )
    ConsensusSegment.objects.create(
        decision=decision,
        intervention=intervention,
        code=goals,
        start=start,
        end=end,
        quote=TEXT[start:end],
    )
    setting = AttributeDefinition.objects.create(study=cast.study, name="Setting")
    AttributeValue.objects.create(intervention=intervention, definition=setting, value="Thuis")
    thread = CommentThread.objects.create(
        study=cast.study,
        target_kind="intervention",
        target_uuid=intervention.uuid,
        created_by=cast.coder_a,
    )
    Comment.objects.create(thread=thread, author=cast.coder_a, body="Tekst uit 2021.")
    return cast


def members(data: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist()}


def selections_by_user(data: bytes) -> dict[str, set[tuple[int, int, str]]]:
    root = ET.fromstring(members(data)["project.qde"])
    names = {u.get("guid"): u.get("name") for u in root.iter(f"{NS}User")}
    out: dict[str, set[tuple[int, int, str]]] = {}
    for selection in root.iter(f"{NS}PlainTextSelection"):
        for coding in selection.findall(f"{NS}Coding"):
            out.setdefault(names[coding.get("creatingUser")], set()).add(
                (
                    int(selection.get("startPosition")),
                    int(selection.get("endPosition")),
                    coding.find(f"{NS}CodeRef").get("targetGUID"),
                )
            )
    return out


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_export_is_valid_against_project_xsd_and_holds_every_layer(coded: Cast) -> None:
    data = project_export(study=coded.study, actor=None)
    files = members(data)
    validate_qde(files["project.qde"])  # raises on any schema error
    layers = selections_by_user(data)
    assert set(layers) == {"alice", "bob", "carol", "Consensus"}
    assert len(layers["carol"]) == 2
    root = ET.fromstring(files["project.qde"])
    assert CONSENSUS_USER_GUID in {u.get("guid") for u in root.iter(f"{NS}User")}
    source = next(s for s in root.iter(f"{NS}TextSource") if s.get("name") == "Gezinscoaching")
    text = files["Sources/" + source.get("plainTextPath").removeprefix("internal://")]
    assert text.decode("utf-8") == TEXT
    for selection in source.findall(f"{NS}PlainTextSelection"):
        start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
        assert TEXT[start:end] == selection.get("name")
    notes = [n.findtext(f"{NS}PlainTextContent", "") for n in root.iter(f"{NS}Note")]
    assert sorted(notes) == ["Gezin als geheel.", "Tekst uit 2021.", "Twijfel: doel of inhoud?"]
    doelen = next(c for c in root.iter(f"{NS}Code") if c.get("name") == "Doelen")
    assert doelen.findtext(f"{NS}Description") == (
        "Wat de interventie beoogt.\n\nInclusie: Expliciet genoemd.\nHerkomst: deductief"
    )


def test_export_import_into_a_fresh_study_and_export_again_gives_the_same_project(
    coded: Cast, tmp_path: Path
) -> None:
    first = tmp_path / "first.qdpx"
    run("export_project", "--study", coded.study.slug, "-o", str(first))
    fresh = Study.objects.create(name=coded.study.name, slug="vers")
    MembershipFactory(study=fresh, user=coded.owner, role="owner")
    output = run(
        "import_project",
        "--study",
        "vers",
        str(first),
        "--user-map",
        "carol=carol",
        "bob=bob",
        "alice=alice",
    )
    assert "refused: 0" in output
    second = tmp_path / "second.qdpx"
    run("export_project", "--study", "vers", "-o", str(second))

    one, two = members(first.read_bytes()), members(second.read_bytes())
    assert one.keys() == two.keys()
    # Texts, codes with their GUIDs, every coder's segments, the consensus layer, memos,
    # notes and properties: the whole project file is the same.
    assert one == two
    assert Segment.objects.filter(intervention__study=fresh, coder=coded.coder_b).count() == 1
    assert ConsensusSegment.objects.filter(intervention__study=fresh).count() == 1


def test_the_coders_option_narrows_the_layers(coded: Cast, tmp_path: Path) -> None:
    out = tmp_path / "carol.qdpx"
    run("export_project", "--study", coded.study.slug, "-o", str(out), "--coders", "carol")
    assert set(selections_by_user(out.read_bytes())) == {"carol"}
    run("export_project", "--study", coded.study.slug, "-o", str(out), "--coders", "bob,consensus")
    assert set(selections_by_user(out.read_bytes())) == {"bob", "Consensus"}
    with pytest.raises(CommandError, match="No member of this study is called nobody"):
        run("export_project", "--study", coded.study.slug, "-o", str(out), "--coders", "nobody")


def test_the_owner_exports_only_the_layers_sight_shows_them(coded: Cast) -> None:
    Codebook.objects.filter(study=coded.study).update(reveal="after_reveal")
    before_reveal = project_export(study=coded.study, actor=coded.owner)
    assert set(selections_by_user(before_reveal)) == {"alice"}

    Codebook.objects.filter(study=coded.study).update(revealed_at=timezone.now())
    after_reveal = project_export(study=coded.study, actor=coded.owner)
    assert set(selections_by_user(after_reveal)) == {"alice", "bob", "carol", "Consensus"}


def test_only_the_owner_exports(coded: Cast) -> None:
    for user in (coded.supervisor, coded.coder_a, coded.outsider):
        with pytest.raises(ProjectError):
            project_export(study=coded.study, actor=user)


def test_the_import_command_reports_counts_and_refusals(cast: Cast) -> None:
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "qdpx" / "nvivo.qdpx"
    output = run(
        "import_project", "--study", cast.study.slug, str(fixture), "--user-map", "Dirk=bob"
    )
    assert output.startswith(f"Imported project nvivo.qdpx into {cast.study.slug}:")
    assert "Coded selections in the file: 7; segments imported: 4; refused: 3." in output
    assert "User “Dirk” → bob (member): 2 segments." in output
    assert "Refused: “Gezin Centraal (NVivo)” selection" in output
    assert "Skipped text: “Genogram” (picture)" in output


def test_the_import_command_refuses_a_broken_file_and_a_bad_map(cast: Cast, tmp_path: Path) -> None:
    broken = tmp_path / "broken.qdpx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="Nothing imported: The file is not a .qdpx project"):
        run("import_project", "--study", cast.study.slug, str(broken))
    with pytest.raises(CommandError, match="REFIUSER=USERNAME"):
        run("import_project", "--study", cast.study.slug, str(broken), "--user-map", "Dirk")


def test_the_user_map_may_come_before_the_file(cast: Cast) -> None:
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "qdpx" / "nvivo.qdpx"
    output = run(
        "import_project",
        "--study",
        cast.study.slug,
        "--user-map",
        "Dirk=bob",
        "Carla=carol",
        str(fixture),
    )
    assert "User “Carla” → carol (member): 2 segments." in output
    assert Segment.objects.filter(coder=cast.coder_b).count() == 2
