"""Codebook exports as jobs: made by the task, failed with a message, never left running."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from coding.codebook import exports
from coding.models import ExportJob
from coding.tasks import run_export
from tests.conftest import Cast, aged

HTMX = {"HTTP_HX_REQUEST": "true"}


def queued(cast: Cast, fmt: str = "json") -> ExportJob:
    return ExportJob.objects.create(study=cast.study, created_by=cast.owner, format=fmt)


def test_starting_an_export_sends_the_task_that_makes_the_file(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.export_start(study=cast.study, actor=cast.owner, fmt="md")

    job.refresh_from_db()
    assert (job.status, job.progress, job.filename) == ("done", 100, "gezin-codeboek.md")
    assert job.finished_at is not None


def test_making_a_finished_export_again_changes_nothing(cast: Cast) -> None:
    job = queued(cast)
    run_export.delay(job.pk)
    job.refresh_from_db()
    before = (job.finished_at, job.updated_at, bytes(job.content))

    with mock.patch("coding.tasks.export_codebook") as export_codebook:
        run_export.delay(job.pk)

    export_codebook.assert_not_called()
    job.refresh_from_db()
    assert (job.finished_at, job.updated_at, bytes(job.content)) == before


@pytest.mark.usefixtures("eager_retries")
def test_an_export_whose_database_stays_away_fails_after_three_retries(cast: Cast) -> None:
    job = queued(cast)

    with mock.patch(
        "coding.tasks.export_codebook", side_effect=OperationalError("gone")
    ) as export_codebook:
        result = run_export.delay(job.pk)

    assert result.failed()
    assert export_codebook.call_count == 4
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == "The database could not be reached; nothing was saved. Try again."
    assert job.finished_at is not None


def test_an_export_that_hits_an_unexpected_error_fails_with_a_message(cast: Cast) -> None:
    job = queued(cast)

    with (
        mock.patch("coding.tasks.export_codebook", side_effect=RuntimeError("bug")) as made,
        pytest.raises(RuntimeError),
    ):
        run_export.delay(job.pk)

    assert made.call_count == 1
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error.startswith("The work stopped on an unexpected error; nothing was saved.")


def test_an_export_refused_by_the_codebook_fails_with_its_reason(cast: Cast) -> None:
    job = queued(cast, fmt="pdf")

    run_export.delay(job.pk)

    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "Unknown export format “pdf”.")


def test_an_export_whose_worker_stopped_is_made_again_when_its_status_is_polled(
    cast: Cast, stale_after: int
) -> None:
    job = queued(cast)
    ExportJob.objects.filter(pk=job.pk).update(status="running")
    aged(job, stale_after + 1)
    client = Client()
    client.force_login(cast.coder_a)

    # Without a broker the task runs in-process, so the restarted export is made at once.
    response = client.get(reverse("export_status", args=[cast.study.slug, job.uuid]), **HTMX)

    assert response.status_code == 286
    html = response.content.decode()
    assert "gezin-codeboek.json is ready." in html
    assert "hx-trigger" not in html
    job.refresh_from_db()
    assert (job.status, job.restarts) == ("done", 1)


@pytest.mark.usefixtures("dead_broker")
def test_an_export_started_while_the_broker_is_down_waits_for_a_worker(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.coder_a)

    response = client.post(reverse("export_start", args=[cast.study.slug]), {"fmt": "md"})

    assert response.status_code == 302
    job = ExportJob.objects.get(study=cast.study)
    assert (job.status, job.sent_at) == ("queued", None)
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Waiting for a worker…" in html
    assert "The task queue cannot be reached right now" in html
    assert 'hx-trigger="every 1s"' in html


def test_a_running_export_younger_than_the_timeout_keeps_polling(
    cast: Cast, stale_after: int
) -> None:
    job = queued(cast)
    ExportJob.objects.filter(pk=job.pk).update(status="running")
    aged(job, stale_after - 5)
    client = Client()
    client.force_login(cast.coder_a)

    response = client.get(reverse("export_status", args=[cast.study.slug, job.uuid]), **HTMX)

    assert response.status_code == 200
    assert 'hx-trigger="every 1s"' in response.content.decode()
