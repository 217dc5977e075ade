"""Comment threads, @mentions, notifications and the supervisor's list of open threads."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from coding import segments as seg
from coding.codebook import services
from coding.models import Code, Comment, CommentThread, Notification, Segment
from coding.review import comments as com
from interventions.models import Intervention, Membership, Role
from tests.conftest import Cast
from tests.factories import CodeFactory, InterventionFactory, StudyFactory

TEXT = "Doel\nHet gezin versterken met coördinatie.\n\nAanpak\nWekelijkse huisbezoeken."
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def stored() -> tuple[int, int, int]:
    return CommentThread.objects.count(), Comment.objects.count(), Notification.objects.count()


@pytest.fixture
def code(cast: Cast) -> Code:
    return services.code_create(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")


@pytest.fixture
def doc(cast: Cast) -> Intervention:
    Intervention.objects.filter(pk=cast.intervention.pk).update(text=TEXT)
    return Intervention.objects.get(pk=cast.intervention.pk)


@pytest.fixture
def carols(cast: Cast, doc: Intervention, code: Code) -> Segment:
    start = TEXT.index("Het gezin")
    return seg.segment_create(
        intervention=doc,
        coder=cast.coder_a,
        code=code,
        start=start,
        end=start + 9,
        quote="Het gezin",
    )


def start(cast: Cast, actor: Any, kind: str, uuid: Any, body: str) -> CommentThread:
    return com.thread_start(
        study=cast.study, actor=actor, target_kind=kind, target_uuid=uuid, body=body
    )


def after_reveal_policy(cast: Cast) -> None:
    services.codebook_reveal_policy_set(study=cast.study, actor=cast.owner, policy="after_reveal")


def notified(comment: Comment) -> dict[str, str]:
    return {n.user.username: n.reason for n in comment.notifications.select_related("user")}


# Starting and replying ----------------------------------------------------------------------


def test_every_member_may_start_a_thread_on_a_code_an_intervention_or_a_segment_they_see(
    cast: Cast, doc: Intervention, code: Code, carols: Segment
) -> None:
    targets = [("code", code.uuid), ("intervention", doc.uuid), ("segment", carols.uuid)]
    for member in (cast.owner, cast.supervisor, cast.coder_a):
        for kind, uuid in targets:
            thread = start(cast, member, kind, uuid, f"  Vraag van {member.username}.  ")
            thread.refresh_from_db()
            assert (thread.target_kind, thread.target_uuid) == (kind, uuid)
            assert (thread.status, thread.created_by) == ("open", member)
            (comment,) = thread.comments.all()
            assert (comment.author, comment.body) == (member, f"Vraag van {member.username}.")
    start(cast, cast.coder_b, "code", code.uuid, "Wat betekent deze code?")
    assert CommentThread.objects.count() == 10


def test_an_outsider_cannot_comment_and_nothing_is_stored(
    cast: Cast, code: Code, carols: Segment
) -> None:
    thread = start(cast, cast.owner, "code", code.uuid, "Definitie aanscherpen?")
    before = stored()
    with pytest.raises(com.CommentError, match="members"):
        start(cast, cast.outsider, "code", code.uuid, "Hallo")
    with pytest.raises(com.CommentError, match="cannot reply"):
        com.comment_add(thread=thread, actor=cast.outsider, body="Hallo")
    assert stored() == before


def test_a_blind_coder_cannot_comment_on_another_coders_segment(
    cast: Cast, carols: Segment
) -> None:
    after_reveal_policy(cast)
    thread = start(cast, cast.coder_a, "segment", carols.uuid, "Twijfel over dit fragment.")
    before = stored()
    with pytest.raises(com.CommentError, match="no such segment"):
        start(cast, cast.coder_b, "segment", carols.uuid, "Ik zie dit niet")
    with pytest.raises(com.CommentError, match="cannot reply"):
        com.comment_add(thread=thread, actor=cast.coder_b, body="Ik zie dit niet")
    with pytest.raises(Http404):
        com.thread_for_user(viewer=cast.coder_b, uuid=thread.uuid)
    assert stored() == before
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    com.comment_add(thread=thread, actor=cast.coder_b, body="Nu wel.")
    assert com.thread_for_user(viewer=cast.coder_b, uuid=thread.uuid) == thread


def test_a_target_must_exist_in_this_study(cast: Cast, carols: Segment) -> None:
    foreign_code = CodeFactory(study=StudyFactory())
    foreign_doc = InterventionFactory(study=StudyFactory())
    before = stored()
    refusals = [
        ("code", foreign_code.uuid, "no such code"),
        ("intervention", foreign_doc.uuid, "no such intervention"),
        ("segment", foreign_doc.uuid, "no such segment"),
        ("segment", "geen-uuid", "nothing to comment on"),
        ("section", carols.uuid, "Comment on one of"),
    ]
    for kind, uuid, message in refusals:
        with pytest.raises(com.CommentError, match=message):
            start(cast, cast.owner, kind, uuid, "Hier?")
    assert stored() == before


def test_a_comment_is_not_empty_and_at_most_5000_characters(cast: Cast, code: Code) -> None:
    thread = start(cast, cast.owner, "code", code.uuid, "x" * 5000)
    before = stored()
    for body in ("   ", "x" * 5001):
        with pytest.raises(com.CommentError):
            start(cast, cast.owner, "code", code.uuid, body)
        with pytest.raises(com.CommentError):
            com.comment_add(thread=thread, actor=cast.owner, body=body)
    assert stored() == before
    for body in ("", "x" * 5001):
        with pytest.raises(IntegrityError), transaction.atomic():
            Comment.objects.create(thread=thread, author=cast.owner, body=body)


# Mentions and notifications -----------------------------------------------------------------


def test_mentions_notify_members_and_leave_other_names_as_text(cast: Cast, code: Code) -> None:
    body = "@bob en @sam, kijk even. Vraag het @nobody of @oscar (mail: info@gezin.nl). @carol."
    thread = start(cast, cast.owner, "code", code.uuid, body)
    comment = thread.comments.get()
    assert comment.body == body
    assert notified(comment) == {"bob": "mention", "sam": "mention", "carol": "mention"}
    assert [u.username for u in com.mentioned_members(cast.study, body)] == ["bob", "sam", "carol"]


def test_a_reply_notifies_earlier_participants_but_never_its_author(cast: Cast, code: Code) -> None:
    thread = start(cast, cast.supervisor, "code", code.uuid, "Is dit deductief?")
    first = com.comment_add(thread=thread, actor=cast.owner, body="Ja, uit de theorie.")
    assert notified(first) == {"sam": "reply"}
    second = com.comment_add(thread=thread, actor=cast.coder_a, body="Eens met @alice.")
    assert notified(second) == {"sam": "reply", "alice": "mention"}
    third = com.comment_add(thread=thread, actor=cast.owner, body="Dank @alice @carol")
    assert notified(third) == {"sam": "reply", "carol": "mention"}


def test_a_mentioned_coder_who_may_not_see_the_segment_is_not_notified(
    cast: Cast, carols: Segment
) -> None:
    thread = start(cast, cast.supervisor, "segment", carols.uuid, "@bob @carol wat vinden jullie?")
    assert notified(thread.comments.get()) == {"carol": "mention"}
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    reply = com.comment_add(thread=thread, actor=cast.supervisor, body="@bob nu jij.")
    assert notified(reply) == {"bob": "mention", "carol": "reply"}


def test_notifications_are_listed_newest_first_and_marked_read_one_or_all(
    cast: Cast, code: Code
) -> None:
    thread = start(cast, cast.owner, "code", code.uuid, "@bob eerste")
    com.comment_add(thread=thread, actor=cast.owner, body="@bob tweede")
    start(cast, cast.owner, "code", code.uuid, "@carol derde, elders")
    mine = list(com.notifications_for(cast.coder_b))
    assert [n.comment.body for n in mine] == ["@bob tweede", "@bob eerste"]
    assert com.unread_count(cast.coder_b) == 2
    # Someone else's notification is not touched.
    assert com.notification_mark_read(user=cast.coder_a, uuid=mine[0].uuid) == 0
    assert com.notification_mark_read(user=cast.coder_b, uuid="geen") == 0
    assert com.notification_mark_read(user=cast.coder_b, uuid=mine[0].uuid) == 1
    assert [n.comment.body for n in com.notifications_for(cast.coder_b)] == ["@bob eerste"]
    assert len(com.notifications_for(cast.coder_b, unread_only=False)) == 2
    assert com.notification_mark_read(user=cast.coder_b) == 1
    assert com.unread_count(cast.coder_b) == 0
    assert com.unread_count(cast.coder_a) == 1


def test_no_email_goes_out_unless_a_backend_is_configured(
    cast: Cast, code: Code, django_capture_on_commit_callbacks: Any
) -> None:
    cast.coder_b.email = "bob@example.org"
    cast.coder_b.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        start(cast, cast.owner, "code", code.uuid, "@bob kijk")
    assert callbacks == []
    assert mail.outbox == []


@override_settings(EMAIL_BACKEND=LOCMEM)
def test_with_a_backend_configured_the_notified_get_an_email_after_commit(
    cast: Cast, code: Code, django_capture_on_commit_callbacks: Any
) -> None:
    cast.coder_b.email = "bob@example.org"
    cast.coder_b.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        start(cast, cast.owner, "code", code.uuid, "@bob en @carol, kijk naar deze code")
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    # carol has no address: only bob gets mail.
    (message,) = mail.outbox
    assert message.to == ["bob@example.org"]
    assert message.subject == "alice commented in Gezinsinterventies"
    assert "@bob en @carol" in message.body


@override_settings(EMAIL_BACKEND=LOCMEM)
def test_a_failing_mail_server_never_breaks_a_comment(
    cast: Cast, code: Code, django_capture_on_commit_callbacks: Any
) -> None:
    cast.coder_b.email = "bob@example.org"
    cast.coder_b.save()
    with (
        mock.patch("coding.review.comments.send_mail", side_effect=OSError("no server")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        thread = start(cast, cast.owner, "code", code.uuid, "@bob kijk")
    assert thread.comments.count() == 1
    assert com.unread_count(cast.coder_b) == 1
    assert mail.outbox == []


# Resolving ----------------------------------------------------------------------------------


def test_owner_supervisor_starter_and_the_segments_coder_resolve_and_reopen(
    cast: Cast, carols: Segment, code: Code
) -> None:
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    for actor in (cast.owner, cast.supervisor, cast.coder_b, cast.coder_a):
        thread = start(cast, cast.coder_b, "segment", carols.uuid, "Klopt de code?")
        com.thread_resolve(thread=thread, actor=actor)
        thread.refresh_from_db()
        assert (thread.status, thread.resolved_by) == ("resolved", actor)
        assert thread.resolved_at is not None
        com.thread_reopen(thread=thread, actor=actor)
        thread.refresh_from_db()
        assert (thread.status, thread.resolved_by, thread.resolved_at) == ("open", None, None)


def test_another_coder_cannot_resolve_and_nothing_changes(cast: Cast, code: Code) -> None:
    thread = start(cast, cast.supervisor, "code", code.uuid, "Definitie?")
    with pytest.raises(com.CommentError, match="resolve or reopen"):
        com.thread_resolve(thread=thread, actor=cast.coder_a)
    with pytest.raises(com.CommentError, match="resolve or reopen"):
        com.thread_resolve(thread=thread, actor=cast.outsider)
    thread.refresh_from_db()
    assert (thread.status, thread.resolved_at) == ("open", None)


def test_a_reply_reopens_a_resolved_thread(cast: Cast, code: Code) -> None:
    thread = start(cast, cast.supervisor, "code", code.uuid, "Definitie?")
    com.thread_resolve(thread=thread, actor=cast.supervisor)
    com.comment_add(thread=thread, actor=cast.coder_a, body="Toch nog een vraag.")
    assert thread.status == "open"
    thread.refresh_from_db()
    assert (thread.status, thread.resolved_by, thread.resolved_at) == ("open", None, None)


def test_a_resolved_thread_needs_its_time_in_the_database(cast: Cast, code: Code) -> None:
    thread = start(cast, cast.supervisor, "code", code.uuid, "Definitie?")
    with pytest.raises(IntegrityError), transaction.atomic():
        CommentThread.objects.filter(pk=thread.pk).update(status="resolved")


# Reading ------------------------------------------------------------------------------------


def test_open_threads_lists_what_the_viewer_may_see_most_recent_first(
    cast: Cast, doc: Intervention, code: Code, carols: Segment
) -> None:
    after_reveal_policy(cast)
    on_code = start(cast, cast.supervisor, "code", code.uuid, "Code?")
    on_doc = start(cast, cast.coder_b, "intervention", doc.uuid, "Tekst compleet?")
    on_segment = start(cast, cast.coder_a, "segment", carols.uuid, "Mijn twijfel " + "x" * 300)
    done = start(cast, cast.owner, "code", code.uuid, "Opgelost")
    com.thread_resolve(thread=done, actor=cast.owner)
    com.comment_add(thread=on_code, actor=cast.owner, body="Antwoord.")

    def listed(viewer: Any) -> list[Any]:
        return [row.thread for row in com.open_threads(cast.study, viewer)]

    assert listed(cast.coder_a) == [on_code, on_segment, on_doc]
    # Before the reveal, carol's segment is hers alone.
    assert listed(cast.coder_b) == [on_code, on_doc]
    assert listed(cast.supervisor) == [on_code, on_doc]
    assert listed(cast.outsider) == []
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    rows = com.open_threads(cast.study, cast.supervisor)
    assert [r.thread for r in rows] == [on_code, on_segment, on_doc]
    by_thread = {r.thread: r for r in rows}
    assert by_thread[on_code].n_comments == 2
    assert by_thread[on_code].excerpt == "Code?"
    assert by_thread[on_code].target_label == "Sociale hulpbronnen"
    assert by_thread[on_doc].target_label == "Gezin Centraal"
    assert by_thread[on_doc].intervention_uuid == doc.uuid
    assert by_thread[on_segment].target_label == "Sociale hulpbronnen: “Het gezin”"
    assert by_thread[on_segment].intervention_uuid == doc.uuid
    assert len(by_thread[on_segment].excerpt) == com.EXCERPT_LENGTH
    assert com.open_thread_count(cast.study, cast.supervisor) == 3


def test_a_thread_on_a_deleted_segment_stays_with_owner_supervisor_and_participants(
    cast: Cast, carols: Segment
) -> None:
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    thread = start(cast, cast.coder_a, "segment", carols.uuid, "Weg ermee?")
    com.comment_add(thread=thread, actor=cast.coder_b, body="Ja.")
    seg.segment_delete(segment=carols, actor=cast.coder_a)
    for viewer in (cast.owner, cast.supervisor, cast.coder_a, cast.coder_b):
        (row,) = com.open_threads(cast.study, viewer)
        assert (row.thread, row.target_label, row.intervention_uuid) == (
            thread,
            "a deleted segment",
            None,
        )
    # A coder who took no part does not see what the deleted segment was about.
    newcomer = Membership.objects.create(study=cast.study, user=cast.outsider, role=Role.CODER)
    assert com.open_threads(cast.study, newcomer.user) == []


def test_the_open_list_takes_a_fixed_number_of_queries(
    cast: Cast, doc: Intervention, code: Code, carols: Segment
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            rows = com.open_threads(cast.study, cast.supervisor)
            _ = [(r.thread.created_by, r.target_label, r.excerpt) for r in rows]
        return len(queries)

    start(cast, cast.owner, "code", code.uuid, "Een")
    start(cast, cast.owner, "segment", carols.uuid, "Twee")
    start(cast, cast.owner, "intervention", doc.uuid, "Drie")
    small = count()
    for n in range(6):
        start(cast, cast.coder_a, "intervention", doc.uuid, f"Nog {n}")
        start(cast, cast.coder_b, "code", code.uuid, f"En {n}")
    assert count() == small <= 10


def test_threads_on_a_target_come_with_their_comments_oldest_first(
    cast: Cast, code: Code, django_assert_max_num_queries: Any
) -> None:
    first = start(cast, cast.owner, "code", code.uuid, "Een")
    second = start(cast, cast.supervisor, "code", code.uuid, "Twee")
    com.comment_add(thread=first, actor=cast.coder_a, body="Antwoord")
    with django_assert_max_num_queries(8):
        threads = com.threads_on(
            study=cast.study, viewer=cast.coder_b, target_kind="code", target_uuid=code.uuid
        )
        bodies = [[(c.author.username, c.body) for c in t.comments.all()] for t in threads]
    assert threads == [first, second]
    assert bodies == [[("alice", "Een"), ("carol", "Antwoord")], [("sam", "Twee")]]
    assert (
        com.threads_on(
            study=cast.study, viewer=cast.outsider, target_kind="code", target_uuid=code.uuid
        )
        == []
    )
