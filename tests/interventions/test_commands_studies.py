"""create_study, add_member and load_demo: output, effects, and refusals that change nothing."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from coding.models import Code
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
    # The demo codes blind, as every new study: the student sees the second rater's segments
    # only after revealing them.
    from coding import sight
    from interventions.access import access_for

    student = study.memberships.get(user__username="student").user
    assert sight.reveal_state(study).reveal == "after_reveal"
    assert not sight.layers_open(access_for(study, student))
    counts = (Intervention.objects.count(), AttributeValue.objects.count(), Code.objects.count())
    assert "is there already" in run("load_demo")
    assert (
        Intervention.objects.count(),
        AttributeValue.objects.count(),
        Code.objects.count(),
    ) == counts
    assert get_user_model().objects.get(username="student").check_password("veerkracht-demo")
