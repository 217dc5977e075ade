"""create_study, add_member and load_demo: output, effects, and refusals that change nothing."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from coding.models import (
    AgreementRun,
    Assignment,
    Code,
    CodebookVersion,
    Comment,
    CommentThread,
    ConsensusDecision,
    InterventionProgress,
    Notification,
    Segment,
)
from interventions.models import AttributeValue, Intervention, Membership, Role, Study
from tests.factories import UserFactory


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_study_from_the_template_prints_what_it_made(db: Any) -> None:
    UserFactory(username="student")
    out = run(
        "create_study", "--name", "Mijn scriptie", "--template", "veerkracht", "--owner", "student"
    )
    assert out.strip() == (
        "Created study mijn-scriptie (Mijn scriptie) from template veerkracht, owner student, "
        "8 attributes"
    )
    study = Study.objects.get(slug="mijn-scriptie")
    assert study.memberships.get().role == Role.OWNER
    assert Code.objects.filter(study=study, parent=None).count() == 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "X", "--owner", "niemand"], "No user 'niemand'"),
        (["--name", "  ", "--owner", "student"], "needs a name"),
        (["--name", "Bestaat", "--slug", "bestaat", "--owner", "student"], "taken"),
    ],
)
def test_create_study_refuses_bad_input_with_one_line(
    db: Any, args: list[str], message: str
) -> None:
    owner = UserFactory(username="student")
    Study.objects.create(name="Bestaat", slug="bestaat")
    before = Study.objects.count()
    with pytest.raises(CommandError, match=message):
        run("create_study", *args)
    assert Study.objects.count() == before
    assert not Membership.objects.filter(user=owner).exists()


def test_add_member_creates_an_absent_user_without_a_password(db: Any) -> None:
    study = Study.objects.create(name="S", slug="s")
    out = run("add_member", "--study", "s", "--user", "tweede", "--role", "coder")
    assert out.strip() == "tweede (new user, no password yet) is coder in s"
    user = get_user_model().objects.get(username="tweede")
    assert not user.has_usable_password()
    assert Membership.objects.get(study=study, user=user).role == Role.CODER
    out = run("add_member", "--study", "s", "--user", "tweede", "--role", "supervisor")
    assert out.strip() == "tweede is supervisor in s"


def test_add_member_refuses_an_unknown_study_and_a_bad_username(db: Any) -> None:
    Study.objects.create(name="S", slug="s")
    with pytest.raises(CommandError, match="No study with slug 'x'"):
        run("add_member", "--study", "x", "--user", "u", "--role", "coder")
    with pytest.raises(CommandError):
        run("add_member", "--study", "s", "--user", "spatie in naam!", "--role", "coder")
    assert not get_user_model().objects.exists()


def _demo_counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Intervention,
            AttributeValue,
            Code,
            Segment,
            Assignment,
            AgreementRun,
            ConsensusDecision,
            CommentThread,
            Comment,
        )
    )


def test_load_demo_loads_six_interventions_and_is_idempotent(db: Any) -> None:
    out = run("load_demo")
    assert "Loaded demo study veerkracht-demo: 6 interventions" in out
    for username in ("student", "begeleider", "beoordelaar"):
        assert username in out
    study = Study.objects.get(slug="veerkracht-demo")
    roles = dict(study.memberships.values_list("user__username", "role"))
    assert roles == {"student": "owner", "begeleider": "supervisor", "beoordelaar": "coder"}
    assert Intervention.objects.filter(study=study).count() == 6
    assert (
        AttributeValue.objects.filter(definition__study=study, definition__name="Hoofddoel").count()
        == 6
    )
    excluded = {
        s.heading for i in study.interventions.all() for s in i.sections.filter(excluded=True)
    }
    assert excluded == {"Samenvatting", "Onderbouwing"}
    # The demo study codes blind, as every new study, and is past the reveal: the round is
    # played, so the student sees every layer.
    from coding import sight
    from interventions.access import access_for

    student = study.memberships.get(user__username="student").user
    assert sight.reveal_state(study).reveal == "after_reveal"
    assert sight.reveal_state(study).is_revealed
    assert sight.layers_open(access_for(study, student))
    counts = _demo_counts()
    again = run("load_demo")
    assert "is there already" in again
    assert "Played" not in again
    assert _demo_counts() == counts
    assert get_user_model().objects.get(username="student").check_password("veerkracht-demo")


def test_load_demo_plays_a_round_with_two_raters_agreement_consensus_and_a_discussion(
    db: Any,
) -> None:
    out = run("load_demo")
    assert "Played the demo round: 105 segments by two raters, agreement run done" in out
    study = Study.objects.get(slug="veerkracht-demo")
    users = {u.username: u for u in get_user_model().objects.all()}

    # Double coding: both raters have all six texts, coded every one and marked it done.
    per_rater = {
        name: Segment.objects.filter(intervention__study=study, coder=users[name]).count()
        for name in ("student", "beoordelaar", "begeleider")
    }
    assert per_rater == {"student": 51, "beoordelaar": 54, "begeleider": 0}
    for name in ("student", "beoordelaar"):
        assert Assignment.objects.filter(coder=users[name], intervention__study=study).count() == 6
        assert InterventionProgress.objects.filter(coder=users[name]).count() == 6
        # Every text has some of this rater's coding, and none in a section not coded.
        for intervention in study.interventions.all():
            mine = intervention.segments.filter(coder=users[name])
            assert mine.exists()
            for section in intervention.sections.filter(excluded=True):
                assert not mine.filter(start__lt=section.end, end__gt=section.start).exists()
    # Partial agreement: some spans the same, some shifted, some with another code.
    pairs = {
        (s.intervention_id, s.code_id, s.start, s.end): s.coder_id
        for s in Segment.objects.filter(coder=users["student"])
    }
    theirs = list(Segment.objects.filter(coder=users["beoordelaar"]))
    same = [s for s in theirs if (s.intervention_id, s.code_id, s.start, s.end) in pairs]
    assert 20 < len(same) < len(theirs)

    # The supervisor approved the codebook; the raters' layers are revealed.
    assert CodebookVersion.objects.get(study=study).approved_by == users["begeleider"]

    # A finished agreement run over both raters with a real figure and disagreements.
    agreement_run = AgreementRun.objects.get(study=study)
    assert agreement_run.status == AgreementRun.Status.DONE
    assert agreement_run.params["coders"] == ["beoordelaar", "student"]
    overall = agreement_run.result["overall"]
    assert 0.5 < overall["cohen_kappa"] < 0.95
    assert 0.5 < overall["percent_agreement"] < 1
    assert agreement_run.result["disagreements"]
    assert len(agreement_run.segment_ids) == 105

    # Consensus under way: decisions in two texts (agreed passages taken, some
    # disagreements decided), the other four still to do.
    decided = ConsensusDecision.objects.filter(intervention__study=study)
    assert decided.count() == 13
    assert set(decided.values_list("intervention__title", flat=True)) == {
        "Kring van Zeven",
        "Vaste Grond",
    }
    assert decided.filter(action=ConsensusDecision.Action.TAKE, note__contains="Besproken").count()

    # An open discussion on a disagreement, with a reply that tells the student.
    thread = CommentThread.objects.get(study=study)
    assert thread.status == CommentThread.Status.OPEN
    authors = thread.comments.values_list("author__username", flat=True)
    assert list(authors) == ["beoordelaar", "begeleider"]
    assert Notification.objects.filter(user=users["student"], read_at=None).exists()


def test_load_demo_plays_the_round_in_a_demo_study_loaded_before_it_had_one(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from interventions.management.commands import load_demo

    # The loader as it was: the study and its members, no round.
    monkeypatch.setattr(load_demo, "round_play", lambda **kwargs: None)
    run("load_demo")
    assert not Segment.objects.exists()
    monkeypatch.undo()

    out = run("load_demo")
    assert "is there already" in out
    assert "Played the demo round: 105 segments" in out
    assert AgreementRun.objects.get().status == AgreementRun.Status.DONE
