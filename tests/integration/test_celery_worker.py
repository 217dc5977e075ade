"""The metadata import runs in a real Celery worker, and running it again changes nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from interventions.metadata import import_job_confirm, import_job_create
from interventions.models import AttributeValue, ImportJob, Intervention, Study
from interventions.services import study_create
from interventions.tasks import apply_import
from tests.factories import UserFactory
from tests.integration.conftest import Worker
from veerkracht.celery import app as celery_app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

POLL_INTERVAL = 0.2
JOB_TIMEOUT = 60.0

CSV = (
    "Interventie;Hoofddoel;Setting\n"
    "Vaste Grond;Versterken van hulpbronnen;Thuis\n"
    "Twee Oevers;Afname problemen én hulpbronnen versterken;Ambulant\n"
    "Rustpunt Thuis;Afname problemen;Residentieel\n"
).encode()

EXPECTED = {
    "Vaste Grond": {"Hoofddoel": "Versterken van hulpbronnen", "Setting": "Thuis"},
    "Twee Oevers": {
        "Hoofddoel": "Afname problemen én hulpbronnen versterken",
        "Setting": "Ambulant",
    },
    "Rustpunt Thuis": {"Hoofddoel": "Afname problemen", "Setting": "Residentieel"},
}


def wait_until_finished(job: ImportJob, worker: Worker) -> list[str]:
    """Poll the job row until it is done or failed; return the statuses seen on the way."""
    seen: list[str] = []
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        job.refresh_from_db()
        if not seen or seen[-1] != job.status:
            seen.append(job.status)
        if job.is_finished:
            return seen
        if time.monotonic() > deadline:
            pytest.fail(
                f"Import job still {job.status!r} after {JOB_TIMEOUT:.0f} s (seen: {seen}).\n"
                f"Worker log:\n{worker.log_tail()}"
            )
        time.sleep(POLL_INTERVAL)


def attribute_table(study: Study) -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {
        i.title: {} for i in Intervention.objects.filter(study=study)
    }
    values = AttributeValue.objects.filter(intervention__study=study).select_related(
        "intervention", "definition"
    )
    for value in values:
        table[value.intervention.title][value.definition.name] = value.value
    return table


def snapshot(study: Study) -> dict[str, Any]:
    return {
        "interventions": sorted(
            Intervention.objects.filter(study=study).values_list("pk", "title", "updated_at")
        ),
        "values": sorted(
            AttributeValue.objects.filter(intervention__study=study).values_list(
                "pk", "intervention_id", "definition_id", "value"
            )
        ),
        "attributes": sorted(study.attributes.values_list("pk", "name", "kind")),
    }


def run_import(worker: Worker) -> tuple[Study, ImportJob, list[str], list[str]]:
    """Import CSV through the worker; return the study, job, statuses seen and task ids sent."""
    owner = UserFactory(username="alice")
    study = study_create(name="Gezinsinterventies", owner=owner, template="veerkracht")
    job = import_job_create(study=study, user=owner, filename="interventies.csv", data=CSV)
    sent_before = len(worker.published_ids("apply_import"))
    import_job_confirm(job=job, new_attributes=[])
    statuses = wait_until_finished(job, worker)
    return study, job, statuses, worker.published_ids("apply_import")[sent_before:]


def test_the_worker_applies_a_confirmed_metadata_import(celery_worker: Worker) -> None:
    assert celery_app.conf.task_always_eager is False

    study, job, statuses, task_ids = run_import(celery_worker)

    assert job.status == ImportJob.Status.DONE, f"{statuses}; error: {job.error}"
    # Confirm left the job queued for the worker; the row only ever moved forward from there.
    order: list[str] = [ImportJob.Status.QUEUED, ImportJob.Status.RUNNING, ImportJob.Status.DONE]
    assert all(status in order for status in statuses), statuses
    assert statuses == sorted(statuses, key=order.index), statuses
    assert job.finished_at is not None
    assert attribute_table(study) == EXPECTED
    # Confirming published the task to the broker (an eager call publishes nothing), on this
    # run's queue, and the worker process logged running it to the end.
    assert len(task_ids) == 1, celery_worker.published
    sent = next(p for p in celery_worker.published if p["id"] == task_ids[0])
    assert sent["routing_key"] == celery_worker.queue
    assert celery_worker.wait_for_task_end(task_ids[0]) == "succeeded"
    assert f"[{task_ids[0]}] received" in celery_worker.log()


def test_applying_a_finished_import_again_changes_nothing(celery_worker: Worker) -> None:
    study, job, _statuses, _task_ids = run_import(celery_worker)
    assert job.status == ImportJob.Status.DONE, job.error
    before = snapshot(study)
    job_before = (job.status, job.summary, job.finished_at, job.error)

    apply_import.delay(job.pk)

    again = celery_worker.published_ids("apply_import")[-1]
    assert celery_worker.wait_for_task_end(again) == "succeeded", celery_worker.log_tail()
    job.refresh_from_db()
    assert (job.status, job.summary, job.finished_at, job.error) == job_before
    assert snapshot(study) == before
    assert attribute_table(study) == EXPECTED
