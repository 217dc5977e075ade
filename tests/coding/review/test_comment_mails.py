"""Comment e-mails as jobs: one per notified member with an address, sent by a task after the
commit, failed with a message when the mail cannot go out, never breaking the comment."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.db import OperationalError
from django.test import override_settings

from coding.codebook import services
from coding.models import Code, CommentThread, MailJob
from coding.review import comments as com
from coding.tasks import send_comment_mail
from tests.conftest import Cast

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
pytestmark = pytest.mark.usefixtures("email_backend")


@pytest.fixture
def email_backend() -> Iterator[None]:
    with override_settings(EMAIL_BACKEND=LOCMEM):
        yield


@pytest.fixture
def code(cast: Cast) -> Code:
    cast.coder_b.email = "bob@example.org"
    cast.coder_b.save()
    return services.code_create(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")


def start(cast: Cast, code: Code, body: str) -> CommentThread:
    return com.thread_start(
        study=cast.study, actor=cast.owner, target_kind="code", target_uuid=code.uuid, body=body
    )


def test_each_notified_member_with_an_address_gets_a_mail_job_sent_after_the_commit(
    cast: Cast, code: Code, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        thread = start(cast, code, "@bob en @carol, kijk naar deze code")
    # carol has no address: bob's notification alone gets a mail, queued until the commit.
    (job,) = MailJob.objects.all()
    assert (job.notification.user, job.status) == (cast.coder_b, "queued")
    assert mail.outbox == []

    for callback in callbacks:
        callback()

    job.refresh_from_db()
    assert (job.status, job.error) == ("done", "")
    (message,) = mail.outbox
    assert message.to == ["bob@example.org"]
    assert job.notification.comment.thread == thread


def test_a_mail_sent_again_goes_out_once(
    cast: Cast, code: Code, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        start(cast, code, "@bob kijk")
    job = MailJob.objects.get()

    send_comment_mail.delay(job.pk)

    assert len(mail.outbox) == 1


def test_a_mail_server_that_refuses_fails_the_mail_job_with_its_answer(
    cast: Cast, code: Code, django_capture_on_commit_callbacks: Any
) -> None:
    closed = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    with (
        mock.patch("coding.review.comments.send_mail", side_effect=closed),
        django_capture_on_commit_callbacks(execute=True),
    ):
        thread = start(cast, code, "@bob kijk")

    assert thread.comments.count() == 1
    assert com.unread_count(cast.coder_b) == 1
    job = MailJob.objects.get()
    assert job.status == "failed"
    assert job.error == "The mail server did not take the mail: Connection unexpectedly closed"
    assert mail.outbox == []


def test_an_unexpected_error_fails_the_mail_job_and_never_breaks_the_comment(
    cast: Cast, code: Code, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        mock.patch("coding.tasks.comment_mail_send", side_effect=RuntimeError("bug")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        thread = start(cast, code, "@bob kijk")

    assert thread.comments.count() == 1
    job = MailJob.objects.get()
    assert job.status == "failed"
    assert job.error.startswith("The work stopped on an unexpected error; nothing was saved.")


@pytest.mark.usefixtures("eager_retries")
def test_a_mail_whose_database_stays_away_fails_after_three_retries(
    cast: Cast, code: Code, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        start(cast, code, "@bob kijk")
    job = MailJob.objects.get()

    with mock.patch(
        "coding.tasks.comment_mail_send", side_effect=OperationalError("gone")
    ) as comment_mail_send:
        result = send_comment_mail.delay(job.pk)

    assert result.failed()
    assert comment_mail_send.call_count == 4
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == "The database could not be reached; nothing was saved. Try again."


def test_a_member_who_dropped_their_address_meanwhile_fails_the_mail_job(
    cast: Cast, code: Code, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        start(cast, code, "@bob kijk")
    cast.coder_b.email = ""
    cast.coder_b.save()

    for callback in callbacks:
        callback()

    job = MailJob.objects.get()
    assert (job.status, job.error) == ("failed", "bob has no e-mail address.")
    assert mail.outbox == []
