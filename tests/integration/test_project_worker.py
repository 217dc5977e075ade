"""A REFI-QDA project import and export run in a real Celery worker on PostgreSQL."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from coding.models import ExportJob, ProjectImportJob, Segment
from coding.projects.services import export_job_start, import_job_confirm, import_job_create
from interventions.models import Membership, Role, Study
from tests.factories import UserFactory
from tests.integration.conftest import Worker
from veerkracht.celery import app as celery_app
from veerkracht.models import BackgroundJob

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

QDPX = Path(__file__).resolve().parents[1] / "fixtures" / "qdpx" / "nvivo.qdpx"
JOB_TIMEOUT = 60.0


def wait(job: BackgroundJob, worker: Worker) -> None:
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        job.refresh_from_db()
        if job.is_finished:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"Job still {job.status!r}.\nWorker log:\n{worker.log_tail()}")
        time.sleep(0.2)


def test_the_worker_imports_a_confirmed_project_and_exports_the_study(
    celery_worker: Worker,
) -> None:
    assert celery_app.conf.task_always_eager is False
    owner = UserFactory(username="alice")
    study = Study.objects.create(name="Gezinsinterventies", slug="gezin")
    Membership.objects.create(study=study, user=owner, role=Role.OWNER)

    job = import_job_create(study=study, actor=owner, filename="nvivo.qdpx", data=QDPX.read_bytes())
    import_job_confirm(job=job, actor=owner, user_map={})
    wait(job, celery_worker)
    assert job.status == ProjectImportJob.Status.DONE, job.error
    assert job.report["imported"] == 4
    assert len(job.report["refused"]) == 3
    assert Segment.objects.filter(intervention__study=study).count() == 4

    export = export_job_start(study=study, actor=owner)
    wait(export, celery_worker)
    assert export.status == ExportJob.Status.DONE, export.error
    names = zipfile.ZipFile(io.BytesIO(bytes(export.content or b""))).namelist()
    assert "project.qde" in names
