"""An agreement run through a real worker (one whose worker is killed: test_job_recovery)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from coding.agreement.runs import compute_for_study
from coding.models import AgreementRun
from coding.tasks import run_agreement
from tests.conftest import Cast
from tests.integration.conftest import (
    Worker,
    _delete_queue,
    _stop,
    _wait_for_pong,
    new_run,
    start_worker,
)

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


def test_two_workers_share_a_split_run_and_store_exactly_the_single_result(
    cast: Cast, coded: None, celery_worker: Worker, tmp_path: Path
) -> None:
    queue = f"veerkracht-split-{uuid.uuid4().hex[:8]}"
    split = {"AGREEMENT_SPLIT": "1", "AGREEMENT_BLOCK_TEXTS": "1"}
    workers = [start_worker(queue, tmp_path / f"worker{n}.log", split) for n in range(2)]
    try:
        for worker in workers:
            _wait_for_pong(worker)
        run = new_run(cast)
        run_agreement.apply_async(args=[run.pk], queue=queue)
        wait_for_status(run, {AgreementRun.Status.DONE, AgreementRun.Status.FAILED}, timeout=90)
        assert run.status == AgreementRun.Status.DONE, run.error
        expected, segment_ids = compute_for_study(cast.study, run.params)
        assert run.result == expected
        assert run.segment_ids == segment_ids
        assert not run.parts.exists()
        done = [
            line
            for worker in workers
            for line in worker.log().splitlines()
            if "coding.run_agreement_part[" in line and " succeeded in " in line
        ]
        assert len(done) == 6  # a task per text, each once
    finally:
        for worker in workers:
            _stop(worker)
        _delete_queue(queue)
