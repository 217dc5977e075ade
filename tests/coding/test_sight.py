"""Who sees which coder's segments (`coding.sight`): blind coding before the reveal, every layer
after it, the owner and supervisor as the reveal policy says."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import Http404

from coding import segments as seg
from coding import sight
from coding.codebook import services
from coding.models import Code, Codebook, CommentThread, Segment
from coding.review import comments
from interventions.access import StudyAccess, access_for
from tests.conftest import Cast

TEXT = "Ouders oefenen thuis met nieuwe vaardigheden. Het netwerk van buren steunt."


@pytest.fixture
def layers(cast: Cast) -> dict[str, Segment]:
    cast.intervention.text = TEXT
    cast.intervention.save()
    code = services.code_create(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")

    def coded(coder: Any, words: str) -> Segment:
        start = TEXT.index(words)
        return seg.segment_create(
            intervention=cast.intervention,
            coder=coder,
            code=code,
            start=start,
            end=start + len(words),
            quote=words,
        )

    return {
        "alice": coded(cast.owner, "Ouders"),
        "carol": coded(cast.coder_a, "nieuwe vaardigheden"),
        "bob": coded(cast.coder_b, "netwerk van buren"),
    }


def of(cast: Cast, user: Any) -> StudyAccess | None:
    return access_for(cast.study, user)


def seen(cast: Cast, user: Any) -> list[str]:
    return [u.username for u in sight.visible_coders(of(cast, user))]


def policy(cast: Cast, value: str) -> None:
    services.codebook_reveal_policy_set(study=cast.study, actor=cast.owner, policy=value)


def reveal(cast: Cast) -> None:
    services.codebook_reveal(study=cast.study, actor=cast.owner)


def test_a_codebook_is_revealed_once_the_owner_reveals_it(cast: Cast) -> None:
    codebook = Codebook.for_study(cast.study)
    assert not codebook.is_revealed
    reveal(cast)
    codebook.refresh_from_db()
    assert codebook.is_revealed
    assert sight.reveal_state(cast.study).is_revealed


def test_a_new_study_is_blind_for_everyone_the_owner_included(
    blind_cast: Cast, layers: dict[str, Segment]
) -> None:
    cast = blind_cast
    state = sight.reveal_state(cast.study)
    assert state.reveal == Codebook.Reveal.AFTER_REVEAL
    assert not state.shows_layers_before_reveal
    assert Codebook.for_study(cast.study).reveal == Codebook.Reveal.AFTER_REVEAL
    for user, name in [(cast.owner, "alice"), (cast.coder_a, "carol"), (cast.coder_b, "bob")]:
        assert seen(cast, user) == [name]
    # The supervisor codes nothing, so has no layer of their own.
    assert seen(cast, cast.supervisor) == []
    alice = of(cast, cast.owner)
    assert not sight.layers_open(alice)
    with pytest.raises(Http404):
        sight.segment_for_user(viewer=cast.owner, uuid=layers["bob"].uuid)
    assert sight.blind_note(alice, n_layers=1) == "hidden"
    reveal(cast)
    assert seen(cast, cast.owner) == ["alice", "bob", "carol"]


def test_a_study_made_through_the_service_starts_blind(cast: Cast) -> None:
    from interventions.services import study_create

    study = study_create(name="Nieuw", slug="nieuw", owner=cast.owner)
    assert sight.reveal_state(study).reveal == Codebook.Reveal.AFTER_REVEAL
    assert not sight.layers_open(access_for(study, cast.owner))


def test_the_supervisor_policy_opens_the_layers_to_the_supervisor_only(
    blind_cast: Cast, layers: dict[str, Segment]
) -> None:
    cast = blind_cast
    policy(cast, "supervisor")
    assert seen(cast, cast.supervisor) == ["alice", "bob", "carol"]
    assert seen(cast, cast.owner) == ["alice"]
    assert seen(cast, cast.coder_b) == ["bob"]
    assert sight.blind_note(of(cast, cast.owner), n_layers=1) == "hidden"
    assert sight.blind_note(of(cast, cast.supervisor), n_layers=1) == ""


def test_a_blind_coder_sees_only_their_own_layer_before_the_reveal(
    cast: Cast, layers: dict[str, Segment]
) -> None:
    carol = of(cast, cast.coder_a)
    assert not sight.layers_open(carol)
    assert seen(cast, cast.coder_a) == ["carol"]
    every = [cast.owner.pk, cast.coder_a.pk, cast.coder_b.pk]
    shown = sight.visible_segments(access=carol, intervention=cast.intervention, layers=every)
    assert list(shown) == [layers["carol"]]
    with pytest.raises(Http404):
        sight.segment_for_user(viewer=cast.coder_a, uuid=layers["bob"].uuid)
    assert sight.segment_for_user(viewer=cast.coder_a, uuid=layers["carol"].uuid) == layers["carol"]
    assert not sight.sees_others_progress(carol)


def test_after_the_reveal_every_member_sees_every_layer(
    cast: Cast, layers: dict[str, Segment]
) -> None:
    policy(cast, "after_reveal")
    reveal(cast)
    for user in (cast.owner, cast.supervisor, cast.coder_a, cast.coder_b):
        access = of(cast, user)
        assert sight.layers_open(access)
        assert sight.sees_others_progress(access)
        assert set(seen(cast, user)) >= {"alice", "bob", "carol"}
        assert "sam" not in seen(cast, user)
        if user != cast.supervisor:
            assert seen(cast, user)[0] == user.username
        assert sight.segment_for_user(viewer=user, uuid=layers["bob"].uuid) == layers["bob"]


@pytest.mark.parametrize("who", ["owner", "supervisor"])
def test_the_owner_and_supervisor_see_every_layer_when_the_policy_is_always(
    cast: Cast, layers: dict[str, Segment], who: str
) -> None:
    user = getattr(cast, who)
    access = of(cast, user)
    assert sight.layers_open(access)
    assert {"alice", "bob", "carol"} <= set(seen(cast, user))
    assert sight.blind_note(access, n_layers=1) == ""


@pytest.mark.parametrize("who", ["owner", "supervisor"])
def test_under_after_reveal_the_owner_and_supervisor_wait_for_the_reveal(
    cast: Cast, layers: dict[str, Segment], who: str
) -> None:
    policy(cast, "after_reveal")
    user = getattr(cast, who)
    access = of(cast, user)
    assert not sight.layers_open(access)
    assert seen(cast, user) == ([user.username] if who == "owner" else [])
    with pytest.raises(Http404):
        sight.segment_for_user(viewer=user, uuid=layers["carol"].uuid)
    assert sight.blind_note(access, n_layers=1) == "hidden"
    # Their progress overview still shows everyone: progress is no coding.
    assert sight.sees_others_progress(access)
    reveal(cast)
    assert sight.layers_open(access)
    assert sight.blind_note(access, n_layers=1) == ""


def test_an_outsider_sees_nothing(cast: Cast, layers: dict[str, Segment]) -> None:
    assert of(cast, cast.outsider) is None
    assert sight.visible_coders(None) == []
    assert not sight.layers_open(None)
    assert not sight.may_reconcile(None)
    assert not sight.sees_others_progress(None)
    assert list(sight.visible_segments(access=None, intervention=cast.intervention)) == []
    with pytest.raises(Http404):
        sight.segment_for_user(viewer=cast.outsider, uuid=layers["alice"].uuid)


def test_a_segment_of_another_study_is_not_found_under_this_one(
    cast: Cast, layers: dict[str, Segment]
) -> None:
    from tests.factories import MembershipFactory, StudyFactory

    other = StudyFactory(slug="ander")
    MembershipFactory(study=other, user=cast.owner, role="owner")
    elsewhere = access_for(other, cast.owner)
    with pytest.raises(Http404):
        sight.segment_for_user(viewer=cast.owner, uuid=layers["alice"].uuid, access=elsewhere)


def test_a_blind_coder_is_told_that_the_others_are_hidden(cast: Cast) -> None:
    carol = of(cast, cast.coder_a)
    assert carol is not None
    assert sight.blind_note(carol, n_layers=1) == "coder"
    assert sight.blind_note(carol, n_layers=2) == ""
    reveal(cast)
    assert sight.blind_note(carol, n_layers=1) == ""


def test_reconciling_needs_the_right_and_open_layers(cast: Cast) -> None:
    assert sight.may_reconcile(of(cast, cast.owner))
    assert not sight.may_reconcile(of(cast, cast.supervisor))
    assert not sight.may_reconcile(of(cast, cast.coder_a))
    reveal(cast)
    assert sight.may_reconcile(of(cast, cast.coder_a))
    assert not sight.may_reconcile(of(cast, cast.supervisor))


def test_a_thread_on_a_segment_is_seen_by_those_who_see_the_segment(
    cast: Cast, layers: dict[str, Segment]
) -> None:
    thread = comments.thread_start(
        study=cast.study,
        actor=cast.coder_a,
        target_kind="segment",
        target_uuid=layers["carol"].uuid,
        body="Klopt dit?",
    )
    carol = cast.coder_a.pk
    for user, sees in [
        (cast.owner, True),
        (cast.supervisor, True),
        (cast.coder_a, True),
        (cast.coder_b, False),
        (cast.outsider, False),
    ]:
        assert sight.ThreadSight.of(of(cast, user)).sees(thread, carol, set()) is sees, user
    reveal(cast)
    assert sight.ThreadSight.of(of(cast, cast.coder_b)).sees(thread, carol, set())


def test_a_thread_on_a_deleted_segment_stays_with_moderators_and_participants(
    cast: Cast,
) -> None:
    thread = CommentThread(study=cast.study, target_kind="segment", created_by=cast.coder_a)
    took_part = {cast.coder_a.pk}
    for user, sees in [
        (cast.owner, True),
        (cast.supervisor, True),
        (cast.coder_a, True),
        (cast.coder_b, False),
    ]:
        assert sight.ThreadSight.of(of(cast, user)).sees(thread, None, took_part) is sees, user


def test_a_thread_on_a_code_is_seen_by_every_member(cast: Cast) -> None:
    code = Code(study=cast.study, name="Thema")
    thread = CommentThread(study=cast.study, target_kind="code", target_uuid=code.uuid)
    for user in (cast.owner, cast.supervisor, cast.coder_a, cast.coder_b):
        assert sight.ThreadSight.of(of(cast, user)).sees(thread, None, set())
    assert not sight.ThreadSight.of(of(cast, cast.outsider)).sees(thread, None, set())
