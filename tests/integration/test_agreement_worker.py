"""An agreement run through a real worker (one whose worker is killed: test_job_recovery)."""

from __future__ import annotations

import time

import pytest

from coding.agreement.runs import compute_for_study
from coding.models import AgreementRun
from coding.tasks import run_agreement
from tests.conftest import Cast
from tests.integration.conftest import Worker, new_run

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for_status(run: AgreementRun, wanted: set[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in wanted:
            return
        time.sleep(0.2)
    pytest.fail(f"run stayed {run.status!r}, waited for {sorted(wanted)}")


def test_a_real_worker_computes_a_run(cast: Cast, coded: None, celery_worker: Worker) -> None:
    run = new_run(cast)
    run_agreement.delay(run.pk)
    wait_for_status(run, {AgreementRun.Status.DONE, AgreementRun.Status.FAILED})
    assert run.status == AgreementRun.Status.DONE, run.error
    expected, segment_ids = compute_for_study(cast.study, run.params)
    assert run.result == expected
    assert sorted(run.segment_ids) == sorted(segment_ids)
