"""The code tree: create, edit, move, merge, delete, undo, versions and imports."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from coding.codebook import services
from coding.codebook.tree import CodeNode
from coding.models import Code, CodebookVersion, CodingEvent, Segment
from interventions.models import Membership, Role
from tests.conftest import Cast
from tests.factories import SegmentFactory


def tree_names(cast: Cast) -> dict[str, list[str]]:
    children = services.codes_by_parent(cast.study)
    names = {code.pk: code.name for codes in children.values() for code in codes}
    return {
        (names[parent] if parent else "<top>"): [c.name for c in codes]
        for parent, codes in children.items()
    }


@pytest.fixture
def tree(cast: Cast) -> dict[str, Code]:
    make = services.code_create
    sociaal = make(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    psych = make(study=cast.study, actor=cast.owner, name="Psychologische hulpbronnen")
    doelen = make(study=cast.study, actor=cast.owner, name="Doelen", parent=sociaal)
    inhoud = make(study=cast.study, actor=cast.owner, name="Inhoud", parent=sociaal)
    return {"sociaal": sociaal, "psych": psych, "doelen": doelen, "inhoud": inhoud}


def test_a_codes_subtree_holds_its_subcodes_of_every_level_and_nothing_else(
    cast: Cast, tree: dict[str, Code]
) -> None:
    gezin = services.code_create(
        study=cast.study, actor=cast.owner, name="Gezin", parent=tree["doelen"]
    )
    children = services.codes_by_parent(cast.study)
    assert services.subtree_code_ids(tree["sociaal"], children) == {
        tree["sociaal"].pk,
        tree["doelen"].pk,
        tree["inhoud"].pk,
        gezin.pk,
    }
    assert services.subtree_code_ids(tree["psych"], children) == {tree["psych"].pk}


def test_codes_are_ordered_and_a_subcode_takes_its_theme_colour(
    cast: Cast, tree: dict[str, Code]
) -> None:
    assert tree_names(cast) == {
        "<top>": ["Sociale hulpbronnen", "Psychologische hulpbronnen"],
        "Sociale hulpbronnen": ["Doelen", "Inhoud"],
    }
    assert tree["doelen"].color == tree["sociaal"].color
    assert tree["sociaal"].color != tree["psych"].color


def test_two_codes_of_one_name_under_one_parent_are_refused(
    cast: Cast, tree: dict[str, Code]
) -> None:
    with pytest.raises(services.CodebookError, match="already"):
        services.code_create(
            study=cast.study, actor=cast.owner, name=" doelen ", parent=tree["sociaal"]
        )
    # The same name under another parent is fine.
    services.code_create(study=cast.study, actor=cast.owner, name="Doelen", parent=tree["psych"])


def test_a_code_made_after_coding_started_is_inductive(cast: Cast, tree: dict[str, Code]) -> None:
    services.coding_started_set(study=cast.study, actor=cast.owner, started=True)
    code = services.code_create(
        study=cast.study, actor=cast.owner, name="Empowerment", origin="deductive"
    )
    assert code.origin == Code.Origin.INDUCTIVE


def test_a_stale_edit_is_refused_and_a_fresh_one_is_recorded(
    cast: Cast, tree: dict[str, Code]
) -> None:
    code = tree["doelen"]
    seen = code.revision
    services.code_update(code=code, actor=cast.owner, revision=seen, definition="Eerste")
    with pytest.raises(services.ConflictError, match="alice"):
        # alice again, in a second tab still showing the old revision
        services.code_update(code=code, actor=cast.owner, revision=seen, definition="Tweede")
    code.refresh_from_db()
    assert code.definition == "Eerste"
    event = CodingEvent.objects.filter(action="code_update").get()
    assert event.before == {"definition": ""}
    assert event.after == {"definition": "Eerste"}


def test_moving_by_keyboard_steps_reorders_indents_and_outdents(
    cast: Cast, tree: dict[str, Code]
) -> None:
    services.code_move_step(code=tree["inhoud"], actor=cast.owner, direction="up")
    assert tree_names(cast)["Sociale hulpbronnen"] == ["Inhoud", "Doelen"]
    services.code_move_step(code=tree["doelen"], actor=cast.owner, direction="indent")
    assert tree_names(cast)["Inhoud"] == ["Doelen"]
    tree["doelen"].refresh_from_db()
    services.code_move_step(code=tree["doelen"], actor=cast.owner, direction="outdent")
    assert tree_names(cast)["Sociale hulpbronnen"] == ["Inhoud", "Doelen"]
    with pytest.raises(services.CodebookError, match="first"):
        services.code_move_step(code=tree["sociaal"], actor=cast.owner, direction="up")


def test_a_code_cannot_move_under_its_own_subcode(cast: Cast, tree: dict[str, Code]) -> None:
    with pytest.raises(services.CodebookError, match="under itself"):
        services.code_move(
            code=tree["sociaal"], actor=cast.owner, parent=tree["doelen"], position=0
        )


def test_merging_moves_segments_and_subcodes_to_the_target(
    cast: Cast, tree: dict[str, Code]
) -> None:
    text = cast.intervention.text
    moved = SegmentFactory(
        intervention=cast.intervention, code=tree["inhoud"], coder=cast.coder_a, start=0, end=4
    )
    SegmentFactory(
        intervention=cast.intervention, code=tree["doelen"], coder=cast.coder_a, start=5, end=9
    )
    # The same span with both codes by one coder becomes one segment.
    SegmentFactory(
        intervention=cast.intervention,
        code=tree["inhoud"],
        coder=cast.coder_a,
        start=5,
        end=9,
        memo="ook inhoud",
    )
    services.code_create(study=cast.study, actor=cast.owner, name="Netwerk", parent=tree["inhoud"])
    services.code_merge(source=tree["inhoud"], target=tree["doelen"], actor=cast.owner)
    assert not Code.objects.filter(pk=tree["inhoud"].pk).exists()
    assert Segment.objects.filter(code=tree["doelen"]).count() == 2
    moved.refresh_from_db()
    assert moved.code_id == tree["doelen"].pk
    assert Segment.objects.get(code=tree["doelen"], start=5).memo == "ook inhoud"
    assert tree_names(cast)["Doelen"] == ["Netwerk"]
    assert text == cast.intervention.text


def test_undo_brings_back_a_merged_code_with_its_segments(
    cast: Cast, tree: dict[str, Code]
) -> None:
    segment = SegmentFactory(
        intervention=cast.intervention, code=tree["inhoud"], coder=cast.coder_a, start=0, end=4
    )
    services.code_merge(source=tree["inhoud"], target=tree["doelen"], actor=cast.owner)
    services.codebook_undo(study=cast.study, actor=cast.owner)
    restored = Code.objects.get(uuid=tree["inhoud"].uuid)
    segment.refresh_from_db()
    assert segment.code_id == restored.pk
    assert tree_names(cast)["Sociale hulpbronnen"] == ["Doelen", "Inhoud"]


def test_deleting_a_used_code_is_refused_with_the_way_out(
    cast: Cast, tree: dict[str, Code]
) -> None:
    SegmentFactory(intervention=cast.intervention, code=tree["doelen"], coder=cast.coder_a)
    with pytest.raises(services.CodebookError, match="Merge it into another code"):
        services.code_delete(code=tree["sociaal"], actor=cast.owner)
    assert Code.objects.filter(study=cast.study).count() == 4


def test_undo_restores_a_deleted_subtree_with_the_same_guids(
    cast: Cast, tree: dict[str, Code]
) -> None:
    services.code_delete(code=tree["sociaal"], actor=cast.owner)
    assert tree_names(cast) == {"<top>": ["Psychologische hulpbronnen"]}
    services.codebook_undo(study=cast.study, actor=cast.owner)
    assert tree_names(cast)["<top>"] == ["Sociale hulpbronnen", "Psychologische hulpbronnen"]
    assert Code.objects.get(name="Doelen").uuid == tree["doelen"].uuid


def test_undo_walks_back_one_change_at_a_time(cast: Cast, tree: dict[str, Code]) -> None:
    services.code_update(code=tree["doelen"], actor=cast.owner, revision=None, name="Doel")
    services.code_move_step(code=tree["psych"], actor=cast.owner, direction="up")
    services.codebook_undo(study=cast.study, actor=cast.owner)
    assert tree_names(cast)["<top>"] == ["Sociale hulpbronnen", "Psychologische hulpbronnen"]
    services.codebook_undo(study=cast.study, actor=cast.owner)
    assert Code.objects.get(pk=tree["doelen"].pk).name == "Doelen"


def test_a_named_version_snapshots_the_tree(cast: Cast, tree: dict[str, Code]) -> None:
    version = services.version_create(
        study=cast.study, actor=cast.owner, label="v2 na overleg begeleider"
    )
    assert version.number == 1
    assert [n["name"] for n in version.snapshot] == [
        "Sociale hulpbronnen",
        "Psychologische hulpbronnen",
    ]
    assert version.snapshot[0]["children"][0]["guid"] == str(tree["doelen"].uuid)
    services.version_approve(version=version, actor=cast.supervisor)
    assert CodebookVersion.objects.get().approved_by == cast.supervisor


def test_importing_merges_by_path_and_reports_what_changed(
    cast: Cast, tree: dict[str, Code]
) -> None:
    nodes = [
        CodeNode(
            name="Sociale hulpbronnen",
            children=[
                CodeNode(name="doelen", definition="Waar de interventie op richt."),
                CodeNode(name="Netwerk", origin="inductive"),
            ],
        ),
        CodeNode(name="Culturele hulpbronnen"),
    ]
    report = services.codebook_import(study=cast.study, actor=cast.owner, nodes=nodes)
    assert report.added == ["Sociale hulpbronnen > Netwerk", "Culturele hulpbronnen"]
    assert report.changed == ["Sociale hulpbronnen > doelen"]
    assert Code.objects.get(pk=tree["doelen"].pk).definition == "Waar de interventie op richt."


def test_a_bad_import_changes_nothing(cast: Cast, tree: dict[str, Code]) -> None:
    from coding.codebook.tree import CodebookFormatError

    before = Code.objects.count()
    nodes = [CodeNode(name="Nieuw"), CodeNode(name="nieuw")]
    with pytest.raises(CodebookFormatError):
        services.codebook_import(study=cast.study, actor=cast.owner, nodes=nodes)
    assert Code.objects.count() == before


def test_the_veerkracht_template_gives_seven_themes(cast: Cast) -> None:
    services.codebook_apply_template(study=cast.study, actor=cast.owner, template="veerkracht")
    themes = tree_names(cast)["<top>"]
    assert len(themes) == 7
    assert themes[0] == "Eigenschappen interventies"
    assert tree_names(cast)["Veerkracht"] == ["Veerkracht beschrijven", "Veerkracht versterken"]


@pytest.mark.django_db(transaction=True)
def test_two_people_editing_different_codes_at_once_lose_neither_change(cast: Cast) -> None:
    a = services.code_create(study=cast.study, actor=cast.owner, name="A")
    b = services.code_create(study=cast.study, actor=cast.owner, name="B")
    # sam is a second owner here: two people who both may edit the codebook.
    Membership.objects.filter(study=cast.study, user=cast.supervisor).update(role=Role.OWNER)
    errors: list[Any] = []

    def edit(code: Code, user: Any, text: str) -> None:
        try:
            for n in range(5):
                fresh = Code.objects.get(pk=code.pk)
                services.code_update(
                    code=fresh, actor=user, revision=fresh.revision, definition=f"{text} {n}"
                )
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    if connection.vendor == "sqlite":
        # SQLite in memory is one connection per thread; run the edits interleaved instead.
        edit(a, cast.owner, "eigenaar")
        edit(b, cast.supervisor, "begeleider")
    else:
        threads = [
            threading.Thread(target=edit, args=(a, cast.owner, "eigenaar")),
            threading.Thread(target=edit, args=(b, cast.supervisor, "begeleider")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert Code.objects.get(pk=a.pk).definition == "eigenaar 4"
    assert Code.objects.get(pk=b.pk).definition == "begeleider 4"


def test_a_move_to_where_a_code_already_is_changes_nothing(
    cast: Cast, tree: dict[str, Code]
) -> None:
    code = tree["inhoud"]
    revision = code.revision
    services.code_move(code=code, actor=cast.owner, parent=tree["sociaal"], position=1)
    code.refresh_from_db()
    assert code.revision == revision
    assert not CodingEvent.objects.filter(action="code_move").exists()


def _consensus(cast: Cast, code: Code, start: int = 0, end: int = 4) -> Any:
    from django.utils import timezone

    from coding.models import ConsensusDecision, ConsensusSegment

    decision = ConsensusDecision.objects.create(
        intervention=cast.intervention,
        item_key=f"{code.pk}-{start}-{end}",
        action="take",
        decided_by=cast.owner,
        decided_at=timezone.now(),
    )
    return ConsensusSegment.objects.create(
        decision=decision,
        intervention=cast.intervention,
        code=code,
        start=start,
        end=end,
        quote=cast.intervention.text[start:end],
        created_by=cast.owner,
    )


def test_merging_moves_the_consensus_layer_too_and_undo_brings_it_back(
    cast: Cast, tree: dict[str, Code]
) -> None:
    moved = _consensus(cast, tree["inhoud"], 0, 4)
    _consensus(cast, tree["doelen"], 5, 9)
    duplicate = _consensus(cast, tree["inhoud"], 5, 9)
    services.code_merge(source=tree["inhoud"], target=tree["doelen"], actor=cast.owner)
    moved.refresh_from_db()
    assert moved.code_id == tree["doelen"].pk
    assert not type(duplicate).objects.filter(pk=duplicate.pk).exists()
    services.codebook_undo(study=cast.study, actor=cast.owner)
    restored = Code.objects.get(uuid=tree["inhoud"].uuid)
    moved.refresh_from_db()
    assert moved.code_id == restored.pk
    assert type(duplicate).objects.filter(code=restored, start=5, end=9).exists()


def test_a_code_in_the_consensus_layer_cannot_be_deleted(cast: Cast, tree: dict[str, Code]) -> None:
    _consensus(cast, tree["doelen"])
    with pytest.raises(services.CodebookError, match="used by 1 segment"):
        services.code_delete(code=tree["doelen"], actor=cast.owner)
    assert Code.objects.filter(pk=tree["doelen"].pk).exists()
