"""The codebook editor through its pages: who may do what, and what each action does."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from coding.codebook import services
from coding.models import Code, CodebookVersion, CodingEvent, ExportJob, Segment
from interventions.models import Membership, Role
from tests.conftest import Cast
from tests.factories import MembershipFactory, SegmentFactory, StudyFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def tree(cast: Cast) -> dict[str, Code]:
    make = services.code_create
    sociaal = make(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    psych = make(study=cast.study, actor=cast.owner, name="Psychologische hulpbronnen")
    doelen = make(study=cast.study, actor=cast.owner, name="Doelen", parent=sociaal)
    inhoud = make(study=cast.study, actor=cast.owner, name="Inhoud", parent=sociaal)
    return {"sociaal": sociaal, "psych": psych, "doelen": doelen, "inhoud": inhoud}


def names_under(parent: Code | None, study: Any) -> list[str]:
    return list(
        Code.objects.filter(study=study, parent=parent)
        .order_by("position")
        .values_list("name", flat=True)
    )


def edit_data(code: Code, **changes: Any) -> dict[str, Any]:
    data = {
        "name": code.name,
        "definition": code.definition,
        "inclusion": code.inclusion,
        "exclusion": code.exclusion,
        "example": code.example,
        "color": code.color,
        "origin": code.origin,
        "shortcut": code.shortcut,
        "revision": code.revision,
    }
    data.update(changes)
    return data


# Another study ------------------------------------------------------------------------------
# Who may use each URL is tests/test_urls_by_role.py.


@pytest.fixture
def world(cast: Cast, tree: dict[str, Code]) -> dict[str, Any]:
    other = StudyFactory(name="Andere studie", slug="andere")
    MembershipFactory(study=other, user=cast.owner, role=Role.OWNER)
    services.code_create(study=other, actor=cast.owner, name="Materiële hulpbronnen")
    return {**tree, "other": other}


def test_a_code_of_another_study_is_not_found(cast: Cast, world: dict[str, Any]) -> None:
    foreign = Code.objects.get(study=world["other"])
    url = reverse("code_edit", kwargs={"slug": cast.study.slug, "uuid": foreign.uuid})
    response = client_for(cast.owner).post(url, edit_data(foreign, name="Gekaapt"))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "Materiële hulpbronnen"


# The page ----------------------------------------------------------------------------------


def test_the_tree_shows_nesting_colours_badges_and_counts(
    cast: Cast, tree: dict[str, Code]
) -> None:
    services.coding_started_set(study=cast.study, actor=cast.owner, started=True)
    services.code_create(
        study=cast.study, actor=cast.owner, name="Empowerment", parent=tree["psych"]
    )
    SegmentFactory(intervention=cast.intervention, code=tree["doelen"], coder=cast.coder_a)
    SegmentFactory(
        intervention=cast.intervention, code=tree["doelen"], coder=cast.coder_b, start=5, end=9
    )
    page = client_for(cast.coder_a).get(reverse("codebook", kwargs={"slug": cast.study.slug}))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'role="tree"' in html
    assert f'id="node-{tree["doelen"].uuid}"' in html
    assert 'aria-level="2"' in html
    assert f"background-color: {tree['sociaal'].color}" in html
    assert 'class="badge-inductive"' in html
    # Blind coding: carol's count leaves out bob's segment.
    assert '<span class="seg-count" title="segments coded with this code">1<' in html
    # A coder reads: no editing controls.
    assert "Add theme" not in html
    assert "draggable" not in html


def test_a_selected_code_opens_in_the_side_panel(cast: Cast, tree: dict[str, Code]) -> None:
    services.code_update(
        code=tree["doelen"],
        actor=cast.owner,
        revision=None,
        definition="Waar de interventie op mikt.",
    )
    url = reverse("code_detail", kwargs={"slug": cast.study.slug, "uuid": tree["doelen"].uuid})
    owner = client_for(cast.owner).get(url, HTTP_HX_TARGET="code-editor", **HTMX)
    assert owner.status_code == 200
    html = owner.content.decode()
    assert html.lstrip().startswith('<section id="code-editor"')
    assert 'type="color"' in html
    assert 'name="revision"' in html
    assert "Waar de interventie op mikt." in html
    coder = client_for(cast.coder_a).get(url).content.decode()
    assert "Waar de interventie op mikt." in coder
    assert 'type="color"' not in coder


def test_a_code_can_move_anywhere_but_under_itself_or_its_subcodes(
    cast: Cast, tree: dict[str, Code]
) -> None:
    url = reverse("code_detail", kwargs={"slug": cast.study.slug, "uuid": tree["sociaal"].uuid})
    html = client_for(cast.owner).get(url, HTTP_HX_TARGET="code-editor", **HTMX).content.decode()
    move = html[html.index('<select id="move-parent"') :]
    move = move[: move.index("</select>")]
    assert str(tree["psych"].uuid) in move
    for own in ("sociaal", "doelen", "inhoud"):
        assert str(tree[own].uuid) not in move


def test_the_tree_page_takes_a_bounded_number_of_queries(
    cast: Cast, django_assert_max_num_queries: Any
) -> None:
    parents: list[Code | None] = [None]
    for i in range(100):
        parent = parents[i // 5] if i else None
        code = Code.objects.create(
            study=cast.study, parent=parent, name=f"Code {i}", position=i, color="#336699"
        )
        parents.append(code)
    SegmentFactory(intervention=cast.intervention, code=parents[7], coder=cast.coder_a)
    client = client_for(cast.owner)
    url = reverse("codebook", kwargs={"slug": cast.study.slug})
    # A constant number: the layout's notification count is one of them.
    with django_assert_max_num_queries(13):
        response = client.get(url)
    assert response.content.decode().count('role="treeitem"') == 100
    detail = reverse("code_detail", kwargs={"slug": cast.study.slug, "uuid": parents[50].uuid})
    with django_assert_max_num_queries(14):
        client.get(detail)


# Tree actions ------------------------------------------------------------------------------


def test_the_owner_adds_a_theme_and_a_subcode(cast: Cast) -> None:
    client = client_for(cast.owner)
    url = reverse("code_add", kwargs={"slug": cast.study.slug})
    response = client.post(url, {"name": "Veerkracht"}, **HTMX)
    assert response.status_code == 200
    theme = Code.objects.get(study=cast.study, name="Veerkracht")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="code-tree"')
    # The new code opens in the side panel, out of band.
    assert 'id="code-editor"' in html
    assert 'hx-swap-oob="outerHTML"' in html
    assert "“Veerkracht” added." in html
    response = client.post(url, {"name": "Veerkracht versterken", "parent": theme.uuid})
    assert response.status_code == 302
    assert names_under(theme, cast.study) == ["Veerkracht versterken"]


def test_a_refused_add_answers_400_with_the_message_and_adds_nothing(
    cast: Cast, tree: dict[str, Code]
) -> None:
    before = Code.objects.count()
    response = client_for(cast.owner).post(
        reverse("code_add", kwargs={"slug": cast.study.slug}),
        {"name": " doelen ", "parent": tree["sociaal"].uuid},
        **HTMX,
    )
    assert response.status_code == 400
    assert "already" in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert Code.objects.count() == before


def test_an_edit_is_saved_and_the_tree_updates(cast: Cast, tree: dict[str, Code]) -> None:
    code = tree["doelen"]
    url = reverse("code_edit", kwargs={"slug": cast.study.slug, "uuid": code.uuid})
    response = client_for(cast.owner).post(
        url,
        edit_data(code, name="Doelen (sociaal)", definition="Wat men wil bereiken.", shortcut="d"),
        **HTMX,
    )
    assert response.status_code == 200
    code.refresh_from_db()
    assert (code.name, code.definition, code.shortcut) == (
        "Doelen (sociaal)",
        "Wat men wil bereiken.",
        "d",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="code-editor"')
    assert 'id="code-tree"' in html  # out of band, with the new name
    assert "“Doelen (sociaal)” saved." in html
    # The panel now carries the new revision, so the next save goes through too.
    assert f'id="revision-{code.uuid}" value="{code.revision}"' in html


def test_a_stale_edit_answers_409_and_keeps_the_typed_text_beside_the_current(
    cast: Cast, tree: dict[str, Code]
) -> None:
    code = tree["doelen"]
    seen = code.revision
    # sam, a second owner here, edits the code while alice has it open.
    Membership.objects.filter(study=cast.study, user=cast.supervisor).update(role=Role.OWNER)
    services.code_update(
        code=code, actor=cast.supervisor, revision=seen, definition="Tekst van de begeleider."
    )
    url = reverse("code_edit", kwargs={"slug": cast.study.slug, "uuid": code.uuid})
    typed = edit_data(code, definition="Mijn eigen, lang getypte definitie.", revision=seen)
    response = client_for(cast.owner).post(url, typed, **HTMX)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Mijn eigen, lang getypte definitie." in html
    assert "Tekst van de begeleider." in html
    assert "sam" in html
    code.refresh_from_db()
    assert code.definition == "Tekst van de begeleider."
    # The form now carries the current revision: saving again keeps the user's text.
    assert f'value="{code.revision}"' in html
    again = client_for(cast.owner).post(url, {**typed, "revision": code.revision}, **HTMX)
    assert again.status_code == 200
    code.refresh_from_db()
    assert code.definition == "Mijn eigen, lang getypte definitie."


def test_a_bad_colour_answers_400_and_changes_nothing(cast: Cast, tree: dict[str, Code]) -> None:
    code = tree["doelen"]
    url = reverse("code_edit", kwargs={"slug": cast.study.slug, "uuid": code.uuid})
    response = client_for(cast.owner).post(url, edit_data(code, color="rood"), **HTMX)
    assert response.status_code == 400
    assert "not a colour" in response.content.decode()
    code.refresh_from_db()
    assert code.color != "rood"


def test_move_steps_go_up_down_in_and_out(cast: Cast, tree: dict[str, Code]) -> None:
    client = client_for(cast.owner)

    def step(code: Code, direction: str, **extra: Any) -> Any:
        url = reverse("code_move_step", kwargs={"slug": cast.study.slug, "uuid": code.uuid})
        return client.post(url, {"direction": direction}, **extra)

    assert step(tree["inhoud"], "up", **HTMX).status_code == 200
    assert names_under(tree["sociaal"], cast.study) == ["Inhoud", "Doelen"]
    assert step(tree["psych"], "up").status_code == 302
    assert names_under(None, cast.study) == ["Psychologische hulpbronnen", "Sociale hulpbronnen"]
    step(tree["doelen"], "indent")
    assert names_under(tree["inhoud"], cast.study) == ["Doelen"]
    step(tree["doelen"], "outdent")
    assert names_under(tree["sociaal"], cast.study) == ["Inhoud", "Doelen"]
    refused = step(tree["psych"], "up", **HTMX)
    assert refused.status_code == 400
    assert "first already" in refused.content.decode()


def test_a_stale_move_answers_409_and_moves_nothing(cast: Cast, tree: dict[str, Code]) -> None:
    url = reverse("code_move_step", kwargs={"slug": cast.study.slug, "uuid": tree["inhoud"].uuid})
    response = client_for(cast.owner).post(
        url, {"direction": "up", "revision": tree["inhoud"].revision + 5}, **HTMX
    )
    assert response.status_code == 409
    assert names_under(tree["sociaal"], cast.study) == ["Doelen", "Inhoud"]


def test_move_under_puts_a_code_at_the_chosen_place(cast: Cast, tree: dict[str, Code]) -> None:
    client = client_for(cast.owner)
    empowerment = services.code_create(
        study=cast.study, actor=cast.owner, name="Empowerment", parent=tree["psych"]
    )
    url = reverse("code_move", kwargs={"slug": cast.study.slug, "uuid": tree["inhoud"].uuid})
    response = client.post(
        url,
        {"parent": tree["psych"].uuid, "position": "1", "revision": tree["inhoud"].revision},
        **HTMX,
    )
    assert response.status_code == 200
    assert names_under(tree["psych"], cast.study) == ["Inhoud", "Empowerment"]
    # An empty parent makes it a theme; an empty place puts it last.
    client.post(url, {"parent": ""})
    assert names_under(None, cast.study)[-1] == "Inhoud"
    # Under its own subcode: refused.
    url = reverse("code_move", kwargs={"slug": cast.study.slug, "uuid": tree["sociaal"].uuid})
    refused = client.post(url, {"parent": tree["doelen"].uuid}, **HTMX)
    assert refused.status_code == 400
    assert "under itself" in refused.content.decode()
    assert empowerment.parent_id == tree["psych"].pk


def test_the_side_panel_learns_the_revision_of_its_code_after_a_move(
    cast: Cast, tree: dict[str, Code]
) -> None:
    code = tree["inhoud"]
    url = reverse("code_move_step", kwargs={"slug": cast.study.slug, "uuid": code.uuid})
    response = client_for(cast.owner).post(
        url, {"direction": "up", "editing": str(code.uuid)}, **HTMX
    )
    code.refresh_from_db()
    html = response.content.decode()
    for field_id in (f"revision-{code.uuid}", f"move-revision-{code.uuid}"):
        assert f'id="{field_id}" value="{code.revision}" hx-swap-oob="true"' in html


def test_merge_moves_the_segments_to_the_target(cast: Cast, tree: dict[str, Code]) -> None:
    moved = [
        SegmentFactory(intervention=cast.intervention, code=tree["inhoud"], coder=cast.coder_a),
        SegmentFactory(
            intervention=cast.intervention,
            code=tree["inhoud"],
            coder=cast.coder_b,
            start=5,
            end=9,
        ),
    ]
    url = reverse("code_merge", kwargs={"slug": cast.study.slug, "uuid": tree["inhoud"].uuid})
    response = client_for(cast.owner).post(url, {"target": tree["doelen"].uuid}, **HTMX)
    assert response.status_code == 200
    assert not Code.objects.filter(pk=tree["inhoud"].pk).exists()
    assert {s.code_id for s in Segment.objects.filter(pk__in=[s.pk for s in moved])} == {
        tree["doelen"].pk
    }
    html = response.content.decode()
    assert "2 segments moved" in html
    assert '<span class="seg-count" title="segments coded with this code">2<' in html


def test_merging_into_its_own_subcode_is_refused(cast: Cast, tree: dict[str, Code]) -> None:
    url = reverse("code_merge", kwargs={"slug": cast.study.slug, "uuid": tree["sociaal"].uuid})
    response = client_for(cast.owner).post(url, {"target": tree["doelen"].uuid}, **HTMX)
    assert response.status_code == 400
    assert Code.objects.filter(pk=tree["sociaal"].pk).exists()


def test_a_code_with_segments_is_not_deleted_and_the_merge_is_offered(
    cast: Cast, tree: dict[str, Code]
) -> None:
    SegmentFactory(intervention=cast.intervention, code=tree["inhoud"], coder=cast.coder_a)
    url = reverse("code_delete", kwargs={"slug": cast.study.slug, "uuid": tree["inhoud"].uuid})
    response = client_for(cast.owner).post(url, **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert "is used by 1 segment" in html
    merge_url = reverse("code_merge", kwargs={"slug": cast.study.slug, "uuid": tree["inhoud"].uuid})
    assert f'hx-post="{merge_url}"' in html
    assert f'<option value="{tree["doelen"].uuid}">' in html
    assert Code.objects.filter(pk=tree["inhoud"].pk).exists()


def test_a_refused_delete_names_a_single_segment_in_the_singular(
    cast: Cast, tree: dict[str, Code]
) -> None:
    SegmentFactory(intervention=cast.intervention, code=tree["inhoud"], coder=cast.coder_a)
    url = reverse("code_delete", kwargs={"slug": cast.study.slug, "uuid": tree["inhoud"].uuid})
    response = client_for(cast.owner).post(url, **HTMX)
    assert response.status_code == 400
    assert "is used by 1 segment," in response.content.decode()


def test_delete_then_undo_brings_the_code_back(cast: Cast, tree: dict[str, Code]) -> None:
    client = client_for(cast.owner)
    url = reverse("code_delete", kwargs={"slug": cast.study.slug, "uuid": tree["inhoud"].uuid})
    assert client.post(url, **HTMX).status_code == 200
    assert not Code.objects.filter(uuid=tree["inhoud"].uuid).exists()
    response = client.post(reverse("codebook_undo", kwargs={"slug": cast.study.slug}), **HTMX)
    assert response.status_code == 200
    assert "Undone: deleted “Inhoud”." in response.content.decode()
    assert names_under(tree["sociaal"], cast.study) == ["Doelen", "Inhoud"]


def test_undo_with_nothing_to_undo_answers_400(cast: Cast) -> None:
    response = client_for(cast.owner).post(
        reverse("codebook_undo", kwargs={"slug": cast.study.slug}), **HTMX
    )
    assert response.status_code == 400
    assert "no change to undo" in response.content.decode()


def test_after_coding_starts_new_codes_are_inductive(cast: Cast) -> None:
    client = client_for(cast.owner)
    url = reverse("coding_started", kwargs={"slug": cast.study.slug})
    response = client.post(url, {"started": "on"}, **HTMX)
    assert "every new code is marked inductive" in response.content.decode()
    client.post(reverse("code_add", kwargs={"slug": cast.study.slug}), {"name": "Setting"})
    assert Code.objects.get(name="Setting").origin == Code.Origin.INDUCTIVE
    client.post(url, {"started": ""})
    client.post(reverse("code_add", kwargs={"slug": cast.study.slug}), {"name": "Uitvoerder"})
    assert Code.objects.get(name="Uitvoerder").origin == Code.Origin.DEDUCTIVE


def test_names_and_definitions_are_escaped(cast: Cast) -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    code = services.code_create(
        study=cast.study, actor=cast.owner, name=payload, definition=payload
    )
    SegmentFactory(intervention=cast.intervention, code=code, coder=cast.coder_a)
    for user in (cast.owner, cast.coder_a):
        client = client_for(user)
        pages = [
            client.get(reverse("code_detail", kwargs={"slug": cast.study.slug, "uuid": code.uuid})),
            client.get(reverse("codebook_history", kwargs={"slug": cast.study.slug})),
        ]
        for page in pages:
            html = page.content.decode()
            assert "<script>alert" not in html
            assert "<img src=x" not in html
            assert "&lt;script&gt;alert" in html
    refused = client_for(cast.owner).post(
        reverse("code_delete", kwargs={"slug": cast.study.slug, "uuid": code.uuid}), **HTMX
    )
    assert "<script>alert" not in refused.content.decode()


# History and versions ----------------------------------------------------------------------


def test_the_history_lists_changes_newest_first_with_before_and_after(
    cast: Cast, tree: dict[str, Code]
) -> None:
    services.code_update(
        code=tree["doelen"], actor=cast.owner, revision=None, name="Sociale doelen"
    )
    services.code_move(code=tree["inhoud"], actor=cast.owner, parent=tree["psych"], position=0)
    SegmentFactory(intervention=cast.intervention, code=tree["doelen"], coder=cast.coder_a)
    response = client_for(cast.coder_b).get(
        reverse("codebook_history", kwargs={"slug": cast.study.slug})
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<del>Doelen</del> → <ins>Sociale doelen</ins>" in html
    assert (
        "<del>Sociale hulpbronnen, place 2</del> → <ins>Psychologische hulpbronnen, place 1</ins>"
        in html
    )
    assert html.index("Psychologische hulpbronnen, place 1") < html.index("Sociale doelen")


def test_the_history_names_a_code_by_its_theme_where_its_name_alone_is_ambiguous(
    cast: Cast, tree: dict[str, Code]
) -> None:
    make = services.code_create
    material = make(study=cast.study, actor=cast.owner, name="Materiële hulpbronnen")
    other = make(study=cast.study, actor=cast.owner, name="Inhoud", parent=material)
    services.code_update(code=tree["doelen"], actor=cast.owner, revision=None, name="Doel")
    response = client_for(cast.owner).get(
        reverse("codebook_history", kwargs={"slug": cast.study.slug})
    )
    cells = [
        cell.strip()
        for cell in re.findall(
            r"<tr[^>]*>(?:\s*<td>.*?</td>){3}\s*<td>(.*?)</td>", response.content.decode(), re.S
        )
    ]
    # Both codes named "Inhoud" carry their theme; an unambiguous name stays bare; the events
    # of a code renamed since keep the name it had then.
    assert cells.count("Sociale hulpbronnen › Inhoud") == 1
    assert cells.count("Materiële hulpbronnen › Inhoud") == 1
    assert "Sociale hulpbronnen" in cells
    assert cells.count("Doelen") == 1  # created under the name it had then
    assert cells.count("Doel") == 1  # renamed: the event records the new name
    assert other.name == "Inhoud"


def test_the_history_is_paginated_by_50(cast: Cast) -> None:
    for i in range(60):
        services.code_create(study=cast.study, actor=cast.owner, name=f"Code {i:02d}")
    url = reverse("codebook_history", kwargs={"slug": cast.study.slug})
    first = client_for(cast.owner).get(url).content.decode()
    assert first.count("<tr") == 51  # the header and 50 events
    assert "Code 59" in first
    assert "Code 05" not in first
    second = client_for(cast.owner).get(url, {"page": 2}).content.decode()
    assert "Code 05" in second


def test_versions_are_saved_approved_and_compared(cast: Cast, tree: dict[str, Code]) -> None:
    owner, supervisor = client_for(cast.owner), client_for(cast.supervisor)
    response = owner.post(
        reverse("version_create", kwargs={"slug": cast.study.slug}), {"label": "Voor overleg"}
    )
    assert response.status_code == 302
    version = CodebookVersion.objects.get(study=cast.study)
    approve = reverse("codebook_review_approve", kwargs={"slug": cast.study.slug})
    assert owner.post(approve, {"version": 1}).status_code == 403
    response = supervisor.post(approve, {"version": 1})
    assert response.status_code == 302
    assert response["Location"] == reverse("codebook_versions", kwargs={"slug": cast.study.slug})
    version.refresh_from_db()
    assert version.approved_by == cast.supervisor
    again = supervisor.post(approve, {"version": 1})
    assert again.status_code == 400
    assert "Version 1 is approved already." in again.content.decode()

    services.code_update(
        code=tree["doelen"], actor=cast.owner, revision=None, name="Sociale doelen"
    )
    services.code_update(
        code=tree["inhoud"], actor=cast.owner, revision=None, definition="Hoe het werkt."
    )
    services.code_move(code=tree["inhoud"], actor=cast.owner, parent=tree["psych"], position=0)
    services.code_create(study=cast.study, actor=cast.owner, name="Culturele hulpbronnen")
    services.version_create(study=cast.study, actor=cast.owner, label="Na overleg")
    diff_url = reverse("version_diff", kwargs={"slug": cast.study.slug})
    for b in ("2", "current"):
        html = owner.get(diff_url, {"a": "1", "b": b}).content.decode()
        assert "<del>Doelen</del> → <ins>Sociale doelen</ins>" in html
        assert "<ins>Culturele hulpbronnen</ins>" in html
        moved = "<del>Sociale hulpbronnen › Inhoud</del> → <ins>Psychologische hulpbronnen › Inhoud"
        assert moved in html
        assert "<del>—</del> → <ins>Hoe het werkt.</ins>" in html
    assert owner.get(diff_url, {"a": "9", "b": "current"}).status_code == 404
    page = owner.get(reverse("codebook_versions", kwargs={"slug": cast.study.slug}))
    assert "Voor overleg" in page.content.decode()


def test_an_empty_version_label_is_refused(cast: Cast) -> None:
    response = client_for(cast.owner).post(
        reverse("version_create", kwargs={"slug": cast.study.slug}), {"label": "   "}
    )
    assert response.status_code == 400
    assert not CodebookVersion.objects.exists()


def test_each_coder_is_shown_the_version_they_coded_against(
    cast: Cast, tree: dict[str, Code]
) -> None:
    first = services.version_create(study=cast.study, actor=cast.owner, label="Eerste")
    segment = SegmentFactory(
        intervention=cast.intervention, code=tree["doelen"], coder=cast.coder_a
    )
    later = services.version_create(study=cast.study, actor=cast.owner, label="Tweede")
    # A fast test makes all three in one instant; set the versions either side of the segment.
    CodebookVersion.objects.filter(pk=first.pk).update(
        created_at=segment.created_at - timedelta(days=1)
    )
    CodebookVersion.objects.filter(pk=later.pk).update(
        created_at=segment.created_at + timedelta(days=1)
    )
    # The supervisor follows every coder's progress (a blind coder sees only their own row:
    # tests/coding/test_blind_leaks.py).
    html = (
        client_for(cast.supervisor)
        .get(reverse("codebook_versions", kwargs={"slug": cast.study.slug}))
        .content.decode()
    )

    def row(username: str) -> str:
        return html[html.index(f"<strong>{username}</strong>") :].split("</li>")[0]

    assert "v1 Eerste" in row("carol")
    assert "Tweede" not in row("carol")
    assert "not coding yet" in row("bob")
    assert "sam" not in html[html.index("Coded against") :]


# Import, copy, template --------------------------------------------------------------------


def test_a_json_codebook_is_imported_with_a_summary(cast: Cast, tree: dict[str, Code]) -> None:
    body = json.dumps(
        {
            "codes": [
                {
                    "name": "Sociale hulpbronnen",
                    "children": [{"name": "Doelen", "definition": "Nieuwe definitie."}],
                },
                {"name": "Culturele hulpbronnen", "children": [{"name": "Doelen"}]},
            ]
        }
    ).encode()
    upload = SimpleUploadedFile("codeboek.json", body, "application/json")
    response = client_for(cast.owner).post(
        reverse("codebook_import", kwargs={"slug": cast.study.slug}), {"file": upload}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 added, 1 changed, 1 unchanged" in html
    assert "codebookChanged" in json.loads(response["HX-Trigger"])
    culturele = Code.objects.get(study=cast.study, name="Culturele hulpbronnen")
    assert names_under(culturele, cast.study) == ["Doelen"]
    tree["doelen"].refresh_from_db()
    assert tree["doelen"].definition == "Nieuwe definitie."


def test_a_malformed_qdc_is_refused_with_a_message_and_nothing_changes(
    cast: Cast, tree: dict[str, Code]
) -> None:
    before = list(Code.objects.values_list("pk", "name", "revision"))
    events = CodingEvent.objects.count()
    upload = SimpleUploadedFile("codeboek.qdc", b"<CodeBook><Codes><Code name=", "application/xml")
    response = client_for(cast.owner).post(
        reverse("codebook_import", kwargs={"slug": cast.study.slug}), {"file": upload}, **HTMX
    )
    assert response.status_code == 400
    assert 'class="message error" role="alert"' in response.content.decode()
    assert list(Code.objects.values_list("pk", "name", "revision")) == before
    assert CodingEvent.objects.count() == events


def test_a_qdc_import_shows_what_reading_it_dropped(cast: Cast) -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?>'
        b'<CodeBook><Codes><Code name="Veerkracht" isCodable="true">'
        b'<Code name="Beschrijven" isCodable="true"/></Code></Codes></CodeBook>'
    )
    upload = SimpleUploadedFile("codeboek.qdc", body, "application/xml")
    response = client_for(cast.owner).post(
        reverse("codebook_import", kwargs={"slug": cast.study.slug}), {"file": upload}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 added" in html
    assert "dropped or changed" in html
    assert "no REFI-QDA namespace" in html
    assert names_under(Code.objects.get(name="Veerkracht"), cast.study) == ["Beschrijven"]


def test_an_upload_over_the_limit_is_refused(cast: Cast, settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 10
    upload = SimpleUploadedFile("codeboek.json", b'{"codes": [{"name": "Lang"}]}')
    response = client_for(cast.owner).post(
        reverse("codebook_import", kwargs={"slug": cast.study.slug}), {"file": upload}
    )
    assert response.status_code == 400
    assert "“codeboek.json” is larger than" in response.content.decode()
    assert not Code.objects.exists()


def test_a_codebook_is_copied_only_from_a_study_of_ones_own(cast: Cast) -> None:
    own = StudyFactory(slug="eigen")
    MembershipFactory(study=own, user=cast.owner, role=Role.CODER)
    services.code_create(study=own, actor=None, name="Gezinsfunctioneren")
    foreign = StudyFactory(slug="vreemd")
    services.code_create(study=foreign, actor=None, name="Geheim")
    client = client_for(cast.owner)
    url = reverse("codebook_copy", kwargs={"slug": cast.study.slug})
    assert client.post(url, {"source": "vreemd"}).status_code == 404
    assert client.post(url, {"source": "eigen"}).status_code == 302
    assert names_under(None, cast.study) == ["Gezinsfunctioneren"]
    same = client.post(url, {"source": cast.study.slug}, **HTMX)
    assert same.status_code == 400


def test_the_veerkracht_template_adds_its_themes(cast: Cast) -> None:
    response = client_for(cast.owner).post(
        reverse("codebook_template", kwargs={"slug": cast.study.slug}),
        {"template": "veerkracht"},
        **HTMX,
    )
    assert response.status_code == 200, response.content.decode()[:400]
    assert Code.objects.filter(study=cast.study, parent=None).count() == 7


# Exports -----------------------------------------------------------------------------------


def test_an_export_runs_polls_and_downloads(
    cast: Cast, tree: dict[str, Code], django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(cast.coder_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("export_start", kwargs={"slug": cast.study.slug}), {"fmt": "json"}, **HTMX
        )
    assert response.status_code == 200
    job = ExportJob.objects.get(study=cast.study)
    status_url = reverse("export_status", kwargs={"slug": cast.study.slug, "uuid": job.uuid})
    assert 'hx-trigger="every 1s"' in response.content.decode()
    status = client.get(status_url, **HTMX)
    assert status.status_code == 286
    assert "download" in status.content.decode()
    download = client.get(
        reverse("export_download", kwargs={"slug": cast.study.slug, "uuid": job.uuid})
    )
    assert download["Content-Type"] == "application/json"
    assert download["Content-Disposition"] == 'attachment; filename="gezin-codeboek.json"'
    names = [c["name"] for c in json.loads(download.content)["codes"]]
    assert names == ["Sociale hulpbronnen", "Psychologische hulpbronnen"]


def test_a_running_export_keeps_polling(cast: Cast) -> None:
    job = ExportJob.objects.create(study=cast.study, created_by=cast.owner, format="docx")
    url = reverse("export_status", kwargs={"slug": cast.study.slug, "uuid": job.uuid})
    response = client_for(cast.coder_b).get(url, **HTMX)
    assert response.status_code == 200
    assert 'hx-trigger="every 1s"' in response.content.decode()
    download = reverse("export_download", kwargs={"slug": cast.study.slug, "uuid": job.uuid})
    assert client_for(cast.owner).get(download).status_code == 404


def test_an_unknown_export_format_is_refused(cast: Cast) -> None:
    response = client_for(cast.owner).post(
        reverse("export_start", kwargs={"slug": cast.study.slug}), {"fmt": "pdf"}, **HTMX
    )
    assert response.status_code == 400
    assert not ExportJob.objects.exists()


def test_an_export_of_another_study_is_not_found(cast: Cast, world: dict[str, Any]) -> None:
    foreign = ExportJob.objects.create(
        study=world["other"], created_by=cast.owner, format="json", status="done", content=b"{}"
    )
    url = reverse("export_download", kwargs={"slug": cast.study.slug, "uuid": foreign.uuid})
    assert client_for(cast.coder_a).get(url).status_code == 404


def test_a_coder_sees_only_their_own_segment_counts_in_the_tree(
    cast: Cast, tree: dict[str, Code]
) -> None:
    for start in (0, 5, 10):
        SegmentFactory(
            intervention=cast.intervention,
            code=tree["inhoud"],
            coder=cast.coder_b,
            start=start,
            end=start + 3,
        )
    count = '<span class="seg-count" title="segments coded with this code">3<'
    page = client_for(cast.coder_a).get(reverse("codebook", kwargs={"slug": cast.study.slug}))
    assert count not in page.content.decode()
    page = client_for(cast.owner).get(reverse("codebook", kwargs={"slug": cast.study.slug}))
    assert count in page.content.decode()
