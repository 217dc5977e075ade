"""Every URL of the corpus, for every role: who gets in, who gets 403, 404 or a login page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from interventions.models import AttributeDefinition, ImportJob, Invitation, Role, Section
from tests.conftest import Cast

ANYONE = "anyone"  # any logged-in user
MEMBER = "member"
OWNER = "owner"


def _section(cast: Cast) -> Section:
    return Section.objects.create(intervention=cast.intervention, heading="Doel", start=0, end=4)


def _definition(cast: Cast) -> AttributeDefinition:
    return AttributeDefinition.objects.create(study=cast.study, name="Setting")


def _job(cast: Cast) -> ImportJob:
    return ImportJob.objects.create(
        study=cast.study,
        created_by=cast.owner,
        filename="x.csv",
        table={"headers": ["Interventie"], "rows": [["Gezin Centraal"]]},
    )


def _invitation(cast: Cast) -> Invitation:
    return Invitation.objects.create(study=cast.study, role=Role.CODER, created_by=cast.owner)


Route = tuple[str, str, str, Callable[[Cast], dict[str, Any]], dict[str, Any]]

# (url name, method, who may, url kwargs, POST data)
ROUTES: list[Route] = [
    ("home", "get", ANYONE, lambda c: {}, {}),
    ("study_create", "get", ANYONE, lambda c: {}, {}),
    ("study_detail", "get", MEMBER, lambda c: {"slug": c.study.slug}, {}),
    ("study_edit", "get", OWNER, lambda c: {"slug": c.study.slug}, {}),
    (
        "study_edit",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug},
        {"name": "Nieuwe naam", "language": "nl"},
    ),
    ("members", "get", MEMBER, lambda c: {"slug": c.study.slug}, {}),
    (
        "members",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug},
        {"username": "oscar", "role": "coder"},
    ),
    (
        "member_set_role",
        "post",
        OWNER,
        lambda c: {
            "slug": c.study.slug,
            "membership_id": c.study.memberships.get(user=c.coder_b).pk,
        },
        {"role": "supervisor"},
    ),
    (
        "member_remove",
        "post",
        OWNER,
        lambda c: {
            "slug": c.study.slug,
            "membership_id": c.study.memberships.get(user=c.coder_b).pk,
        },
        {},
    ),
    ("invitation_create", "post", OWNER, lambda c: {"slug": c.study.slug}, {"role": "coder"}),
    (
        "invitation_revoke",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug, "token": _invitation(c).token},
        {},
    ),
    ("intervention_list", "get", MEMBER, lambda c: {"slug": c.study.slug}, {}),
    ("intervention_create", "get", OWNER, lambda c: {"slug": c.study.slug}, {}),
    (
        "intervention_create",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug},
        {"title": "Nieuw", "text": "Tekst"},
    ),
    ("intervention_upload", "get", OWNER, lambda c: {"slug": c.study.slug}, {}),
    (
        "intervention_detail",
        "get",
        MEMBER,
        lambda c: {"slug": c.study.slug, "uuid": c.intervention.uuid},
        {},
    ),
    (
        "intervention_edit",
        "get",
        OWNER,
        lambda c: {"slug": c.study.slug, "uuid": c.intervention.uuid},
        {},
    ),
    (
        "intervention_edit",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug, "uuid": c.intervention.uuid},
        {"title": "Gezin Centraal", "text": "Andere tekst"},
    ),
    (
        "intervention_new_version",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug, "uuid": c.intervention.uuid},
        {},
    ),
    (
        "intervention_delete",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug, "uuid": c.intervention.uuid},
        {},
    ),
    (
        "intervention_attributes",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug, "uuid": c.intervention.uuid},
        {},
    ),
    (
        "sections_detect",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug, "uuid": c.intervention.uuid},
        {},
    ),
    (
        "section_add",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug, "uuid": c.intervention.uuid},
        {"heading": "Aanpak"},
    ),
    (
        "section_toggle",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug, "uuid": c.intervention.uuid, "section_id": _section(c).pk},
        {},
    ),
    (
        "section_delete",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug, "uuid": c.intervention.uuid, "section_id": _section(c).pk},
        {},
    ),
    ("attributes", "get", MEMBER, lambda c: {"slug": c.study.slug}, {}),
    (
        "attributes",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug},
        {"name": "Duur", "kind": "number"},
    ),
    (
        "attribute_delete",
        "post",
        OWNER,
        lambda c: {"slug": c.study.slug, "definition_id": _definition(c).pk},
        {},
    ),
    ("metadata_import", "get", OWNER, lambda c: {"slug": c.study.slug}, {}),
    ("metadata_preview", "get", OWNER, lambda c: {"slug": c.study.slug, "job": _job(c).uuid}, {}),
    ("metadata_confirm", "post", OWNER, lambda c: {"slug": c.study.slug, "job": _job(c).uuid}, {}),
    ("metadata_status", "get", OWNER, lambda c: {"slug": c.study.slug, "job": _job(c).uuid}, {}),
    ("metadata_export", "get", MEMBER, lambda c: {"slug": c.study.slug, "fmt": "csv"}, {}),
    ("metadata_export", "get", MEMBER, lambda c: {"slug": c.study.slug, "fmt": "xlsx"}, {}),
]

ROLES = ["anonymous", "outsider", "coder", "supervisor", "owner"]


def _expected(who_may: str, role: str) -> str:
    if role == "anonymous":
        return "login"
    if who_may == ANYONE:
        return "ok"
    if role == "outsider":
        return "404"
    if who_may == MEMBER or role == "owner":
        return "ok"
    return "403"


def _client_for(cast: Cast, role: str) -> Client:
    client = Client()
    user = {
        "anonymous": None,
        "outsider": cast.outsider,
        "coder": cast.coder_a,
        "supervisor": cast.supervisor,
        "owner": cast.owner,
    }[role]
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "route", ROUTES, ids=[f"{name}-{method}" for name, method, *_rest in ROUTES]
)
def test_each_url_answers_each_role_as_its_rights_say(cast: Cast, route: Route, role: str) -> None:
    name, method, who_may, kwargs, data = route
    url = reverse(name, kwargs=kwargs(cast))
    client = _client_for(cast, role)
    response = client.get(url) if method == "get" else client.post(url, data)
    expected = _expected(who_may, role)
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif expected == "ok":
        assert response.status_code in (200, 302), response.content[:500]
    else:
        assert response.status_code == int(expected)


POST_ONLY = sorted(
    {name for name, method, *_ in ROUTES if method == "post"}
    - {name for name, method, *_ in ROUTES if method == "get"}
)


@pytest.mark.parametrize("name", POST_ONLY)
def test_a_get_to_a_writing_url_is_refused_with_405(cast: Cast, name: str) -> None:
    route = next(r for r in ROUTES if r[0] == name)
    client = _client_for(cast, "owner")
    response = client.get(reverse(name, kwargs=route[3](cast)))
    assert response.status_code == 405


def test_the_invitation_page_needs_a_login_and_then_lets_anyone_with_the_link_join(
    cast: Cast,
) -> None:
    invitation = _invitation(cast)
    url = reverse("invitation_accept", kwargs={"token": invitation.token})
    assert Client().get(url).status_code == 302
    client = _client_for(cast, "outsider")
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert cast.study.memberships.filter(user=cast.outsider, role=Role.CODER).exists()


def test_a_post_without_csrf_token_is_refused(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.owner)
    response = client.post(reverse("attributes", kwargs={"slug": cast.study.slug}), {"name": "X"})
    assert response.status_code == 403
    assert not AttributeDefinition.objects.filter(name="X").exists()


def test_a_user_sees_only_the_studies_they_belong_to(cast: Cast) -> None:
    from tests.factories import MembershipFactory, StudyFactory

    other = StudyFactory(name="Geheime studie")
    MembershipFactory(study=other, role=Role.OWNER)
    client = _client_for(cast, "coder")
    page = client.get(reverse("home")).content.decode()
    assert "Gezinsinterventies" in page
    assert "Geheime studie" not in page
