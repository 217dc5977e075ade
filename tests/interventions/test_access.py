"""The role predicates of `StudyAccess`: README's "Roles" table, one predicate at a time."""

from __future__ import annotations

from typing import Any, get_args
from uuid import UUID, uuid4

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from interventions.access import (
    Right,
    _intervention_access,
    access_for,
    allows,
    get_intervention_for_user,
    get_study_for_user,
    members_who_code,
    owner_of,
    users_who_code,
)
from interventions.models import Intervention, Membership, Role, Study
from tests.conftest import Cast
from tests.factories import InterventionFactory, MembershipFactory, StudyFactory, UserFactory

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


def _fields(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_the_access_query_gives_the_rows_the_orm_gives(cast: Cast) -> None:
    """The access query is written as SQL: what it builds equals the ORM's rows, value by value
    and type by type (datetimes aware, UUIDs as UUIDs), with the text left unread on asking."""
    from coding.models import Codebook

    book = Codebook.for_study(cast.study)
    book.reveal = Codebook.Reveal.SUPERVISOR
    book.revealed_at = timezone.now()
    book.save()
    for text in (True, False):
        access, found = _intervention_access(
            cast.study.slug, str(cast.intervention.uuid), cast.coder_a.pk, text=text
        )
        expected = Intervention.objects.get(pk=cast.intervention.pk)
        if text:
            assert _fields(found) == _fields(expected)
        else:
            assert "text" in found.get_deferred_fields()
            assert found.text == expected.text  # read when first used
        assert _fields(found.study) == _fields(Study.objects.get(pk=cast.study.pk))
        membership = Membership.objects.get(study=cast.study, user=cast.coder_a)
        assert _fields(access.membership) == _fields(membership)
        assert _fields(access.user) == _fields(User.objects.get(pk=cast.coder_a.pk))
        assert access.user.last_login is None or access.user.last_login.tzinfo is not None
        assert isinstance(found.uuid, UUID)
        assert found.created_at.tzinfo is not None
        assert access.reveal == (book.pk, "supervisor", book.revealed_at)
    access, _found = _intervention_access(
        cast.study.slug, cast.intervention.uuid, cast.owner.pk, text=False, user=cast.owner
    )
    assert access.user is cast.owner
    assert access.can_manage


def test_the_access_query_finds_nothing_for_a_wrong_slug_uuid_or_member(cast: Cast) -> None:
    uuid = cast.intervention.uuid
    for slug, asked, user_id in [
        ("geen-studie", uuid, cast.owner.pk),
        (cast.study.slug, uuid4(), cast.owner.pk),
        (cast.study.slug, "geen-uuid", cast.owner.pk),
        (cast.study.slug, uuid, cast.outsider.pk),
        (cast.study.slug, uuid, None),
    ]:
        with pytest.raises(Http404):
            _intervention_access(slug, asked, user_id, text=False)
    bare = StudyFactory(slug="zonder-codeboek")
    MembershipFactory(study=bare, user=cast.owner, role=Role.OWNER)
    text = InterventionFactory(study=bare)
    access, _found = _intervention_access(bare.slug, text.uuid, cast.owner.pk, text=False)
    assert access.reveal == (None, None, None)  # no codebook yet
