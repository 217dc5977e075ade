"""The role predicates of `StudyAccess`: README's "Roles" table, one predicate at a time."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from interventions.access import (
    Right,
    access_for,
    allows,
    get_intervention_for_user,
    get_study_for_user,
    members_who_code,
    owner_of,
    users_who_code,
)
from interventions.models import Role
from tests.conftest import Cast
from tests.factories import MembershipFactory, StudyFactory, UserFactory

EVERY_MEMBER = {"owner", "supervisor", "coder"}
# Who holds each right; the same as README's table.
RIGHTS: dict[str, set[str]] = {
    "can_read": EVERY_MEMBER,
    "can_manage": {"owner"},
    "can_edit_codebook": {"owner"},
    "can_code": {"owner", "coder"},
    "can_reveal": {"owner"},
    "sees_layers_before_reveal": {"owner", "supervisor"},
    "sees_layers_before_reveal_as_supervisor": {"supervisor"},
    "sees_all_progress": {"owner", "supervisor"},
    "sees_agreement": {"owner", "supervisor"},
    "can_run_agreement": {"owner"},
    "can_reconcile": {"owner", "coder"},
    "can_overrule": {"owner"},
    "can_comment": EVERY_MEMBER,
    "moderates_comments": {"owner", "supervisor"},
    "can_approve": {"supervisor"},
    "can_exchange_projects": {"owner"},
}


def member(cast: Cast, role: str) -> Any:
    return {"owner": cast.owner, "supervisor": cast.supervisor, "coder": cast.coder_a}[role]


def test_the_table_names_every_right() -> None:
    assert set(RIGHTS) == set(get_args(Right))


@pytest.mark.parametrize("role", sorted(EVERY_MEMBER))
@pytest.mark.parametrize("right", sorted(RIGHTS))
def test_each_role_holds_the_rights_the_table_gives_it(cast: Cast, right: str, role: str) -> None:
    access = access_for(cast.study, member(cast, role))
    assert access is not None
    assert getattr(access, right) is (role in RIGHTS[right])
    assert allows(cast.study, member(cast, role), right) is (role in RIGHTS[right])  # type: ignore[arg-type]


def test_only_the_supervisor_approves_not_the_student_who_wrote_the_codebook(cast: Cast) -> None:
    approvers = [
        user
        for user in (cast.owner, cast.supervisor, cast.coder_a, cast.coder_b)
        if allows(cast.study, user, "can_approve")
    ]
    assert approvers == [cast.supervisor]


def test_outsiders_and_anonymous_users_have_no_access(cast: Cast) -> None:
    assert access_for(cast.study, cast.outsider) is None
    assert access_for(cast.study, AnonymousUser()) is None
    assert access_for(cast.study, None) is None
    assert not allows(cast.study, cast.outsider, "can_read")
    assert not allows(cast.study, AnonymousUser(), "can_read")


def test_a_management_command_acting_as_nobody_holds_every_right(cast: Cast) -> None:
    assert all(allows(cast.study, None, right) for right in get_args(Right))


def test_the_access_object_knows_its_user_and_study(cast: Cast) -> None:
    access = access_for(cast.study, cast.coder_a)
    assert access is not None
    assert (access.user, access.study) == (cast.coder_a, cast.study)


def test_the_fetch_helpers_answer_404_to_outsiders_and_403_without_the_right(cast: Cast) -> None:
    slug = cast.study.slug
    with pytest.raises(Http404):
        get_study_for_user(cast.outsider, slug)
    with pytest.raises(Http404):
        get_study_for_user(AnonymousUser(), slug)
    with pytest.raises(Http404):
        get_study_for_user(cast.owner, "geen-studie")
    with pytest.raises(PermissionDenied):
        get_study_for_user(cast.coder_a, slug, need="can_manage")
    assert get_study_for_user(cast.owner, slug, need="can_manage").study == cast.study
    with pytest.raises(PermissionDenied):
        get_intervention_for_user(cast.owner, slug, cast.intervention.uuid, need="can_approve")
    access, found = get_intervention_for_user(cast.coder_a, slug, cast.intervention.uuid)
    assert (access.user, found) == (cast.coder_a, cast.intervention)
    other = StudyFactory(slug="ander")
    MembershipFactory(study=other, user=cast.owner, role=Role.OWNER)
    with pytest.raises(Http404):
        get_intervention_for_user(cast.owner, "ander", cast.intervention.uuid)


def test_who_codes_is_the_owner_and_the_coders(cast: Cast) -> None:
    users = list(users_who_code(cast.study).order_by("username"))
    assert users == [cast.owner, cast.coder_b, cast.coder_a]
    assert {m.user for m in members_who_code(cast.study)} == set(users)


def test_the_owner_of_a_study_is_its_first_owner_by_name(cast: Cast) -> None:
    assert owner_of(cast.study) == cast.owner
    MembershipFactory(study=cast.study, user=UserFactory(username="aaron"), role=Role.OWNER)
    assert owner_of(cast.study).username == "aaron"
    assert owner_of(StudyFactory(slug="leeg")) is None
