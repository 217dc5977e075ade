"""Comment threads, notifications, the study dashboard and codebook approval, per role."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coding import segments as seg
from coding.codebook import services
from coding.models import Code, CodebookVersion, Comment, CommentThread, Notification, Segment
from coding.review import comments as com
from coding.review.dashboard import pending_codebook_changes
from interventions.models import Intervention
from tests.conftest import Cast

TEXT = "Doel\nHet gezin versterken met coördinatie.\n\nAanpak\nWekelijkse huisbezoeken."


@pytest.fixture
def code(cast: Cast) -> Code:
    return services.code_create(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")


@pytest.fixture
def thread(cast: Cast, code: Code) -> CommentThread:
    return com.thread_start(
        study=cast.study,
        actor=cast.supervisor,
        target_kind="code",
        target_uuid=code.uuid,
        body="Is dit helder?",
    )


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def users(cast: Cast) -> dict[str, Any]:
    return {
        "anonymous": None,
        "outsider": cast.outsider,
        "coder": cast.coder_a,
        "supervisor": cast.supervisor,
        "owner": cast.owner,
    }


def stored() -> tuple[int, int, int]:
    return CommentThread.objects.count(), Comment.objects.count(), Notification.objects.count()


# Access per role ----------------------------------------------------------------------------

# Who may use each URL is tests/test_urls_by_role.py; here, what each role's request does.

ROLE_NAMES = ["anonymous", "outsider", "coder", "supervisor", "owner"]


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_starting_a_thread_is_open_to_every_member(cast: Cast, code: Code, role: str) -> None:
    url = reverse("comment_thread_start", args=[cast.study.slug])
    response = client_for(users(cast)[role]).post(
        url, {"target": f"code:{code.uuid}", "body": "Vraag"}
    )
    expected = {"anonymous": 302, "outsider": 404}.get(role, 302)
    assert response.status_code == expected
    started = CommentThread.objects.count()
    assert started == (0 if role in ("anonymous", "outsider") else 1)
    if started:
        assert response["Location"].endswith(f"/comments/{CommentThread.objects.get().uuid}/")


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_replying_is_open_to_every_member(cast: Cast, thread: CommentThread, role: str) -> None:
    url = reverse("comment_reply", args=[cast.study.slug, thread.uuid])
    response = client_for(users(cast)[role]).post(url, {"body": "Antwoord"})
    assert response.status_code == {"anonymous": 302, "outsider": 404}.get(role, 302)
    assert thread.comments.count() == (1 if role in ("anonymous", "outsider") else 2)


SETTLE = {"anonymous": 302, "outsider": 404, "coder": 400, "supervisor": 302, "owner": 302}


@pytest.mark.parametrize("role", list(SETTLE))
def test_resolving_and_reopening_follow_the_backend_rules(
    cast: Cast, thread: CommentThread, role: str
) -> None:
    client = client_for(users(cast)[role])
    slug = cast.study.slug
    response = client.post(reverse("comment_thread_resolve", args=[slug, thread.uuid]))
    assert response.status_code == SETTLE[role]
    thread.refresh_from_db()
    resolved = role in ("supervisor", "owner")
    assert thread.status == ("resolved" if resolved else "open")
    if role == "coder":
        assert "Only the owner, the supervisor" in response.content.decode()
    if resolved:
        response = client.post(reverse("comment_thread_reopen", args=[slug, thread.uuid]))
        assert response.status_code == 302
        thread.refresh_from_db()
        assert thread.status == "open"


def test_the_starter_of_a_thread_may_resolve_it(cast: Cast, code: Code) -> None:
    thread = com.thread_start(
        study=cast.study, actor=cast.coder_b, target_kind="code", target_uuid=code.uuid, body="?"
    )
    client = client_for(cast.coder_b)
    page = client.get(reverse("comment_thread", args=[cast.study.slug, thread.uuid]))
    assert "Resolve thread" in page.content.decode()
    response = client.post(reverse("comment_thread_resolve", args=[cast.study.slug, thread.uuid]))
    assert response.status_code == 302
    assert (
        "Resolve thread"
        not in client_for(cast.coder_a)
        .get(reverse("comment_thread", args=[cast.study.slug, thread.uuid]))
        .content.decode()
    )


APPROVE = {"anonymous": 302, "outsider": 404, "coder": 403, "supervisor": 302, "owner": 403}


@pytest.mark.parametrize("role", list(APPROVE))
def test_approving_the_codebook_is_for_the_supervisor_alone(
    cast: Cast, code: Code, role: str
) -> None:
    url = reverse("codebook_review_approve", args=[cast.study.slug])
    response = client_for(users(cast)[role]).post(url)
    assert response.status_code == APPROVE[role]
    approved = CodebookVersion.objects.filter(approved_at__isnull=False).count()
    assert approved == (1 if role == "supervisor" else 0)


def test_the_owner_reads_who_approves_instead_of_an_approve_button(cast: Cast, code: Code) -> None:
    services.version_create(study=cast.study, actor=cast.owner, label="v1")
    review = client_for(cast.owner).get(reverse("codebook_review", args=[cast.study.slug]))
    page = review.content.decode()
    assert "Approve the current codebook" not in page
    assert "supervisor approves the codebook." in page
    versions = client_for(cast.owner).get(reverse("codebook_versions", args=[cast.study.slug]))
    page = versions.content.decode()
    assert "Approve v1" not in page
    assert "not yet: the supervisor approves" in page
    versions = client_for(cast.supervisor).get(reverse("codebook_versions", args=[cast.study.slug]))
    page = versions.content.decode()
    assert "Approve v1" in page
    assert reverse("codebook_review_approve", args=[cast.study.slug]) in page


def test_the_mark_read_endpoint_requires_a_signed_in_user(cast: Cast) -> None:
    response = client_for(None).post(reverse("notifications_read"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_thread_of_another_study_is_not_found_under_this_one(
    cast: Cast, thread: CommentThread
) -> None:
    from tests.factories import MembershipFactory, StudyFactory

    other = StudyFactory(slug="ander")
    MembershipFactory(study=other, user=cast.supervisor, role="supervisor")
    url = reverse("comment_thread", args=["ander", thread.uuid])
    assert client_for(cast.supervisor).get(url).status_code == 404


# Writing comments -----------------------------------------------------------------------------


def test_a_mention_notifies_the_mentioned_member_only(cast: Cast, code: Code) -> None:
    client_for(cast.supervisor).post(
        reverse("comment_thread_start", args=[cast.study.slug]),
        {"target": f"code:{code.uuid}", "body": "@alice kijk je even? (@oscar is geen lid)"},
    )
    notes = Notification.objects.select_related("user")
    assert [(n.user.username, n.reason) for n in notes] == [("alice", "mention")]
    page = client_for(cast.owner).get(reverse("notifications")).content.decode()
    assert "sam mentioned you in Gezinsinterventies" in page
    bar = client_for(cast.owner).get(reverse("study_detail", args=[cast.study.slug]))
    assert 'class="unread-count"' in bar.content.decode()
    assert (
        'class="unread-count"'
        not in client_for(cast.coder_a)
        .get(reverse("study_detail", args=[cast.study.slug]))
        .content.decode()
    )


def test_marking_one_or_all_notifications_read(cast: Cast, code: Code) -> None:
    for body in ("@alice een", "@alice twee"):
        com.thread_start(
            study=cast.study,
            actor=cast.supervisor,
            target_kind="code",
            target_uuid=code.uuid,
            body=body,
        )
    first, second = com.notifications_for(cast.owner)
    client = client_for(cast.owner)
    # Someone else's notification is never touched.
    client_for(cast.coder_a).post(reverse("notifications_read"), {"notification": first.uuid})
    assert com.unread_count(cast.owner) == 2
    client.post(reverse("notifications_read"), {"notification": first.uuid})
    assert list(com.notifications_for(cast.owner)) == [second]
    client.post(reverse("notifications_read"))
    assert com.unread_count(cast.owner) == 0


def test_the_notifications_are_newest_first_and_link_to_their_thread(
    cast: Cast, code: Code
) -> None:
    a = com.thread_start(
        study=cast.study,
        actor=cast.supervisor,
        target_kind="code",
        target_uuid=code.uuid,
        body="@alice oud",
    )
    b = com.thread_start(
        study=cast.study,
        actor=cast.supervisor,
        target_kind="code",
        target_uuid=code.uuid,
        body="@alice nieuw",
    )
    page = client_for(cast.owner).get(reverse("notifications")).content.decode()
    assert page.index(f"/comments/{b.uuid}/") < page.index(f"/comments/{a.uuid}/")


@pytest.mark.parametrize("body", ["", "   ", "x" * 5001])
def test_a_refused_comment_answers_400_and_stores_nothing(
    cast: Cast, code: Code, body: str
) -> None:
    before = stored()
    response = client_for(cast.coder_a).post(
        reverse("comment_thread_start", args=[cast.study.slug]),
        {"target": f"code:{code.uuid}", "body": body},
    )
    assert response.status_code == 400
    assert stored() == before


def test_a_target_outside_the_study_is_refused_with_the_message(cast: Cast) -> None:
    from tests.factories import StudyFactory

    elsewhere = services.code_create(study=StudyFactory(slug="elders"), actor=None, name="Elders")
    response = client_for(cast.coder_a).post(
        reverse("comment_thread_start", args=[cast.study.slug]),
        {"target": f"code:{elsewhere.uuid}", "body": "Vraag"},
    )
    assert response.status_code == 400
    assert "There is no such code in this study." in response.content.decode()
    assert stored() == (0, 0, 0)


def test_a_comment_body_is_escaped_and_only_members_are_highlighted(
    cast: Cast, thread: CommentThread
) -> None:
    evil = '<script>alert("x")</script> <img src=x onerror=alert(1)> @carol @oscar'
    client_for(cast.owner).post(
        reverse("comment_reply", args=[cast.study.slug, thread.uuid]), {"body": evil}
    )
    for url in (
        reverse("comment_thread", args=[cast.study.slug, thread.uuid]),
        reverse("comment_threads", args=[cast.study.slug]),
        reverse("notifications"),
    ):
        page = client_for(cast.coder_a).get(url).content.decode()
        assert "<script>alert" not in page
        assert "<img src=x" not in page
    page = (
        client_for(cast.coder_a)
        .get(reverse("comment_thread", args=[cast.study.slug, thread.uuid]))
        .content.decode()
    )
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert '<span class="mention">@carol</span>' in page
    assert '<span class="mention">@oscar</span>' not in page


def test_a_started_thread_on_an_intervention_links_to_the_workspace(cast: Cast) -> None:
    client = client_for(cast.coder_a)
    client.post(
        reverse("comment_thread_start", args=[cast.study.slug]),
        {"target": f"intervention:{cast.intervention.uuid}", "body": "Over de tekst"},
    )
    thread = CommentThread.objects.get()
    page = client.get(reverse("comment_thread", args=[cast.study.slug, thread.uuid]))
    assert reverse("workspace", args=[cast.study.slug, cast.intervention.uuid]) in (
        page.content.decode()
    )


# Segments and blind coding ------------------------------------------------------------------


@pytest.fixture
def carols(cast: Cast, code: Code) -> Segment:
    Intervention.objects.filter(pk=cast.intervention.pk).update(text=TEXT)
    doc = Intervention.objects.get(pk=cast.intervention.pk)
    start = TEXT.index("Het gezin")
    return seg.segment_create(
        intervention=doc,
        coder=cast.coder_a,
        code=code,
        start=start,
        end=start + 9,
        quote="Het gezin",
    )


def test_a_blind_coder_cannot_open_a_thread_on_another_coders_segment(
    cast: Cast, carols: Segment
) -> None:
    thread = com.thread_start(
        study=cast.study,
        actor=cast.coder_a,
        target_kind="segment",
        target_uuid=carols.uuid,
        body="Twijfel @bob",
    )
    url = reverse("comment_thread", args=[cast.study.slug, thread.uuid])
    assert client_for(cast.coder_b).get(url).status_code == 404
    assert client_for(cast.coder_a).get(url).status_code == 200
    assert client_for(cast.supervisor).get(url).status_code == 200
    reply = reverse("comment_reply", args=[cast.study.slug, thread.uuid])
    assert client_for(cast.coder_b).post(reply, {"body": "hoi"}).status_code == 404
    listed = client_for(cast.coder_b).get(reverse("comment_threads", args=[cast.study.slug]))
    assert "Twijfel" not in listed.content.decode()
    # Nor may bob start one on it.
    before = stored()
    response = client_for(cast.coder_b).post(
        reverse("comment_thread_start", args=[cast.study.slug]),
        {"target": f"segment:{carols.uuid}", "body": "Ik zie het"},
    )
    assert response.status_code == 400
    assert stored() == before


def test_the_coder_of_the_segment_may_resolve_its_thread(cast: Cast, carols: Segment) -> None:
    thread = com.thread_start(
        study=cast.study,
        actor=cast.supervisor,
        target_kind="segment",
        target_uuid=carols.uuid,
        body="Klopt dit?",
    )
    client = client_for(cast.coder_a)
    page = client.get(reverse("comment_thread", args=[cast.study.slug, thread.uuid]))
    assert "Resolve thread" in page.content.decode()
    assert "Sociale hulpbronnen: “Het gezin”" in page.content.decode()
    client.post(reverse("comment_thread_resolve", args=[cast.study.slug, thread.uuid]))
    thread.refresh_from_db()
    assert thread.status == "resolved"


# Codebook approval --------------------------------------------------------------------------


def test_the_review_page_says_when_nothing_is_approved(cast: Cast, code: Code) -> None:
    page = client_for(cast.coder_a).get(reverse("codebook_review", args=[cast.study.slug]))
    text = page.content.decode()
    assert "No approved version yet." in text
    assert "Approve the current codebook" not in text
    supervisor = client_for(cast.supervisor).get(reverse("codebook_review", args=[cast.study.slug]))
    assert "Approve the current codebook" in supervisor.content.decode()


def test_approval_by_the_supervisor_creates_an_approved_version_and_empties_the_diff(
    cast: Cast, code: Code
) -> None:
    client = client_for(cast.supervisor)
    url = reverse("codebook_review_approve", args=[cast.study.slug])
    assert client.post(url).status_code == 302
    version = CodebookVersion.objects.get()
    assert (version.approved_by, version.created_by) == (cast.supervisor, cast.supervisor)
    assert version.label.startswith("Approved ")
    pending = pending_codebook_changes(cast.study)
    assert pending is not None
    assert pending.is_empty
    page = client.get(reverse("codebook_review", args=[cast.study.slug])).content.decode()
    assert "No changes since the approved version." in page
    assert "Approve the current codebook" not in page
    # Approving the same codebook again changes nothing.
    assert client.post(url).status_code == 400
    assert CodebookVersion.objects.count() == 1
    # A change shows up as pending.
    services.code_create(study=cast.study, actor=cast.owner, name="Nieuw")
    page = client.get(reverse("codebook_review", args=[cast.study.slug])).content.decode()
    assert "1 change awaits approval." in page
    assert "<ins>Nieuw</ins>" in page


# The dashboard --------------------------------------------------------------------------------


def test_the_dashboard_shows_threads_and_the_approved_version(
    cast: Cast, thread: CommentThread
) -> None:
    client_for(cast.supervisor).post(reverse("codebook_review_approve", args=[cast.study.slug]))
    page = client_for(cast.owner).get(reverse("study_detail", args=[cast.study.slug]))
    text = page.content.decode()
    assert "1 open thread" in text
    assert "Approved: v1, “Approved" in text
    assert "Latest agreement" in text
    coder = client_for(cast.coder_a).get(reverse("study_detail", args=[cast.study.slug]))
    assert "Latest agreement" not in coder.content.decode()


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_thread_list_and_the_dashboard_take_a_bounded_number_of_queries(
    cast: Cast, code: Code
) -> None:
    client = client_for(cast.supervisor)
    threads_url = reverse("comment_threads", args=[cast.study.slug])
    study_url = reverse("study_detail", args=[cast.study.slug])

    def add(first: int, n: int) -> None:
        for i in range(first, first + n):
            other = services.code_create(study=cast.study, actor=cast.owner, name=f"Code {i}")
            com.thread_start(
                study=cast.study,
                actor=cast.coder_a,
                target_kind="code",
                target_uuid=other.uuid,
                body=f"Vraag {i} @sam",
            )
            com.thread_start(
                study=cast.study,
                actor=cast.coder_b,
                target_kind="intervention",
                target_uuid=cast.intervention.uuid,
                body=f"Tekst {i}",
            )

    add(0, 2)
    few = queries(client, threads_url), queries(client, study_url)
    add(2, 10)
    many = queries(client, threads_url), queries(client, study_url)
    assert many == few
    assert many[0] <= 15
