"""A worker killed for good mid-job: once the visibility timeout and the margin have passed, the
job's status page shows it failed with a message instead of polling forever."""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from coding.models import AgreementRun
from coding.tasks import run_agreement
from tests.conftest import Cast
from tests.integration.conftest import Worker, _delete_queue, _stop, _wait_for_pong, start_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HTMX = {"HTTP_HX_REQUEST": "true"}
VISIBILITY_TIMEOUT = 2
MARGIN = 3
STOPPED = "The worker stopped before the work was finished; nothing was saved. Start it again."


def wait_for_status(run: AgreementRun, wanted: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status == wanted:
            return
        time.sleep(0.1)
    pytest.fail(f"run stayed {run.status!r}, waited for {wanted!r}")


def test_a_job_whose_worker_is_killed_for_good_is_failed_with_a_message_when_polled(
    cast: Cast, celery_worker: Worker, tmp_path: Path, settings: object
) -> None:
    settings.CELERY_VISIBILITY_TIMEOUT = VISIBILITY_TIMEOUT  # type: ignore[attr-defined]
    settings.JOB_STALE_MARGIN = MARGIN  # type: ignore[attr-defined]
    queue = f"veerkracht-stale-{uuid.uuid4().hex[:8]}"
    short = {"CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)}
    doomed = start_worker(
        queue, tmp_path / "killed.log", {**short, "VEERKRACHT_AGREEMENT_TEST_PAUSE": "60"}
    )
    late = None
    try:
        _wait_for_pong(doomed)
        run = AgreementRun.objects.create(
            study=cast.study,
            created_by=cast.owner,
            params={"coders": ["bob", "carol"], "unit": "intervention", "overlap": 0.9},
        )
        sent = run_agreement.apply_async(args=[run.pk], queue=queue)
        wait_for_status(run, AgreementRun.Status.RUNNING)
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait(timeout=10)

        client = Client()
        client.force_login(cast.owner)
        url = reverse("agreement_run_status", args=[cast.study.slug, run.uuid])
        # Right after the kill the run is only running late: the page keeps polling.
        assert client.get(url, **HTMX).status_code == 200
        deadline = time.monotonic() + VISIBILITY_TIMEOUT + MARGIN + 10
        while (response := client.get(url, **HTMX)).status_code != 286:
            assert time.monotonic() < deadline, "the run was never failed"
            time.sleep(0.5)

        assert STOPPED in response.content.decode()
        run.refresh_from_db()
        assert (run.status, run.error) == (AgreementRun.Status.FAILED, STOPPED)
        assert run.finished_at is not None
        stale_for = (run.finished_at - run.created_at).total_seconds()
        assert stale_for >= VISIBILITY_TIMEOUT + MARGIN

        # The task is still unacknowledged in Redis. A worker that comes back later takes it
        # again and leaves the failed run as it is (and empties the queue for the next test).
        late = start_worker(queue, tmp_path / "late.log", short)
        _wait_for_pong(late)
        assert late.wait_for_task_end(sent.id, timeout=20) == "succeeded"
        run.refresh_from_db()
        assert (run.status, run.error, run.result) == (AgreementRun.Status.FAILED, STOPPED, {})
    finally:
        for worker in (doomed, late):
            if worker is not None:
                _stop(worker)
        _delete_queue(queue)
