"""An agreement run through a real worker, and one whose worker is killed halfway."""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from coding.agreement.assignments import assignment_create
from coding.agreement.runs import compute_for_study
from coding.codebook import services
from coding.models import AgreementRun, Segment
from coding.tasks import run_agreement
from interventions.models import Intervention
from tests.conftest import Cast
from tests.integration.conftest import Worker, _delete_queue, _stop, _wait_for_pong, start_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
TEXT = "Ouders leren hun kind beter begrijpen en het netwerk helpt mee."


@pytest.fixture
def coded(cast: Cast) -> None:
    theme = services.code_create(study=cast.study, actor=cast.owner, name="Sociaal")
    codes = [
        services.code_create(study=cast.study, actor=cast.owner, name=n, parent=theme)
        for n in ("Doelen", "Inhoud")
    ]
    texts = [
        Intervention.objects.create(study=cast.study, title=f"Tekst {n}", text=TEXT)
        for n in range(6)
    ]
    for coder in (cast.coder_a, cast.coder_b):
        assignment_create(
            study=cast.study, actor=cast.owner, coder=coder, interventions=texts, method="all"
        )
    for n, text in enumerate(texts):
        for coder, code in ((cast.coder_a, codes[0]), (cast.coder_b, codes[n % 2])):
            Segment.objects.create(
                intervention=text, coder=coder, code=code, start=0, end=6, quote=TEXT[:6]
            )


def wait_for_status(run: AgreementRun, wanted: set[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in wanted:
            return
        time.sleep(0.2)
    pytest.fail(f"run stayed {run.status!r}, waited for {sorted(wanted)}")


def new_run(cast: Cast) -> AgreementRun:
    params = {
        "coders": ["bob", "carol"],
        "unit": "word",
        "overlap": 0.9,
        "bootstrap": 500,
        "seed": 11,
    }
    return AgreementRun.objects.create(study=cast.study, created_by=cast.owner, params=params)


def test_a_real_worker_computes_a_run(cast: Cast, coded: None, celery_worker: Worker) -> None:
    run = new_run(cast)
    run_agreement.delay(run.pk)
    wait_for_status(run, {AgreementRun.Status.DONE, AgreementRun.Status.FAILED})
    assert run.status == AgreementRun.Status.DONE, run.error
    expected, segment_ids = compute_for_study(cast.study, run.params)
    assert run.result == expected
    assert sorted(run.segment_ids) == sorted(segment_ids)


def test_a_worker_killed_mid_run_leaves_the_run_to_the_next_worker(
    cast: Cast, coded: Any, celery_worker: Worker, tmp_path: Path
) -> None:
    queue = f"veerkracht-kill-{uuid.uuid4().hex[:8]}"
    short_visibility = {"CELERY_VISIBILITY_TIMEOUT": "3"}
    first = start_worker(
        queue, tmp_path / "first.log", {**short_visibility, "VEERKRACHT_AGREEMENT_TEST_PAUSE": "60"}
    )
    second = None
    try:
        _wait_for_pong(first)
        run = new_run(cast)
        run_agreement.apply_async(args=[run.pk], queue=queue)
        wait_for_status(run, {AgreementRun.Status.RUNNING})
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        run.refresh_from_db()
        assert run.status == AgreementRun.Status.RUNNING  # killed halfway, nothing stored
        second = start_worker(queue, tmp_path / "second.log", short_visibility)
        _wait_for_pong(second)
        wait_for_status(run, {AgreementRun.Status.DONE, AgreementRun.Status.FAILED}, timeout=90)
        assert run.status == AgreementRun.Status.DONE, run.error
        expected, _ids = compute_for_study(cast.study, run.params)
        assert run.result == expected
        assert str(run.pk) in second.log() or "run_agreement" in second.log()
    finally:
        for worker in (first, second):
            if worker is not None:
                _stop(worker)
        _delete_queue(queue)


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
