"""Metadata imports as jobs: a confirmed import whose worker is gone does not stay running.

How the task applies, retries and refuses an import is in test_metadata.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from interventions import metadata
from interventions.models import ImportJob
from tests.conftest import Cast, aged

HTMX = {"HTTP_HX_REQUEST": "true"}
CSV = b"Interventie;Setting\r\nVaste Grond;Thuis\r\n"


def owner_client(cast: Cast) -> Client:
    client = Client()
    client.force_login(cast.owner)
    return client


def running_import(cast: Cast) -> ImportJob:
    job = metadata.import_job_create(study=cast.study, user=cast.owner, filename="x.csv", data=CSV)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    return job


def test_an_import_whose_worker_stopped_is_applied_when_its_status_is_polled(
    cast: Cast, stale_after: int
) -> None:
    job = running_import(cast)
    aged(job, stale_after + 1)
    url = reverse("metadata_status", args=[cast.study.slug, job.uuid])

    # Without a broker the task runs in-process, so the restarted import is applied at once.
    response = owner_client(cast).get(url, **HTMX)

    assert response.status_code == 286
    html = response.content.decode()
    assert "Import finished: 1 added, 0 updated, 0 unchanged." in html
    assert "hx-trigger" not in html
    job.refresh_from_db()
    assert (job.status, job.restarts) == ("done", 1)
    assert cast.study.interventions.filter(title="Vaste Grond").count() == 1


@pytest.mark.usefixtures("dead_broker")
def test_an_import_confirmed_while_the_broker_is_down_waits_for_a_worker(cast: Cast) -> None:
    job = metadata.import_job_create(study=cast.study, user=cast.owner, filename="x.csv", data=CSV)
    client = owner_client(cast)

    response = client.post(reverse("metadata_confirm", args=[cast.study.slug, job.uuid]))

    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Waiting for a worker…" in page.content.decode()
    job.refresh_from_db()
    assert (job.status, job.sent_at) == ("queued", None)
    assert cast.study.interventions.filter(title="Vaste Grond").count() == 0


def test_a_running_import_younger_than_the_timeout_keeps_polling(
    cast: Cast, stale_after: int
) -> None:
    job = running_import(cast)
    aged(job, stale_after - 5)
    url = reverse("metadata_status", args=[cast.study.slug, job.uuid])

    response = owner_client(cast).get(url, **HTMX)

    assert response.status_code == 200
    assert 'hx-trigger="every 1s"' in response.content.decode()


def test_a_preview_confirmed_long_after_the_upload_is_not_stale(
    cast: Cast, stale_after: int, django_capture_on_commit_callbacks: Any
) -> None:
    job = metadata.import_job_create(study=cast.study, user=cast.owner, filename="x.csv", data=CSV)
    aged(job, stale_after * 10)

    with django_capture_on_commit_callbacks(execute=False):
        metadata.import_job_confirm(job=job, new_attributes=[])

    response = owner_client(cast).get(
        reverse("metadata_status", args=[cast.study.slug, job.uuid]), **HTMX
    )
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED
