"""Jobs that survive a dead worker or a dead broker, through real workers on Redis.

- A worker SIGKILLed mid agreement run or mid export: a new worker with Celery beat finishes
  the job with the same result, within two minutes. The broker's visibility timeout stays at
  its default here, so only the sweep (heartbeat lost, job queued again) can bring it back.
- A worker that lives but is slow keeps its job: its heartbeat stops the sweep from taking it.
- Redis down (a redis-server of the test's own, stopped): starting a run answers with a page
  that says it waits for a worker; once Redis is back, a worker with beat runs it.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from coding.agreement.runs import compute_for_study
from coding.codebook import exports
from coding.codebook.exports import export_codebook
from coding.models import AgreementRun, ExportJob
from coding.tasks import run_agreement, run_export
from tests.conftest import Cast
from tests.integration.conftest import (
    Worker,
    _delete_queue,
    _stop,
    _wait_for_pong,
    new_run,
    start_worker,
)
from veerkracht.celery import app as celery_app
from veerkracht.models import BackgroundJob

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Short clocks for the workers the tests start: a heartbeat each second, a job untouched for
# 4 s lost its worker, a sweep each second.
FAST_SWEEP = {
    "JOB_HEARTBEAT_SECONDS": "1",
    "JOB_HEARTBEAT_TIMEOUT": "4",
    "JOB_SWEEP_INTERVAL": "1",
}
RECOVERY_LIMIT = 120.0


def wait_for(job: BackgroundJob, wanted: set[str], timeout: float = 60.0) -> float:
    """Wait until the job's status is one of `wanted`; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        job.refresh_from_db()
        if job.status in wanted:
            return time.monotonic() - started
        time.sleep(0.2)
    pytest.fail(f"{job} stayed {job.status!r}, waited {timeout:.0f} s for {sorted(wanted)}")


@pytest.fixture
def queue() -> Iterator[str]:
    name = f"veerkracht-recovery-{uuid.uuid4().hex[:8]}"
    yield name
    _delete_queue(name)


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        _stop(worker)


def kill(worker: Worker) -> None:
    worker.process.send_signal(signal.SIGKILL)
    worker.process.wait(timeout=10)


def test_an_agreement_run_whose_worker_is_killed_is_finished_by_the_next_worker(
    cast: Cast, coded: None, celery_worker: Worker, queue: str, workers: list[Worker],
    tmp_path: Path,
) -> None:  # fmt: skip
    first = start_worker(
        queue, tmp_path / "first.log", {**FAST_SWEEP, "VEERKRACHT_JOB_TEST_PAUSE": "600"}
    )
    workers.append(first)
    _wait_for_pong(first)
    run = new_run(cast)
    run_agreement.apply_async(args=[run.pk], queue=queue)
    wait_for(run, {AgreementRun.Status.RUNNING})

    kill(first)
    killed_at = time.monotonic()
    run.refresh_from_db()
    assert run.status == AgreementRun.Status.RUNNING  # killed halfway, nothing stored

    second = start_worker(queue, tmp_path / "second.log", FAST_SWEEP, beat=True)
    workers.append(second)
    wait_for(run, {AgreementRun.Status.DONE, AgreementRun.Status.FAILED}, RECOVERY_LIMIT)

    assert run.status == AgreementRun.Status.DONE, run.error
    assert time.monotonic() - killed_at < RECOVERY_LIMIT
    assert run.restarts == 1
    expected, segment_ids = compute_for_study(cast.study, run.params)
    assert run.result == expected
    assert sorted(run.segment_ids) == sorted(segment_ids)
    assert "queued again: its worker stopped" in second.log()


def test_an_export_whose_worker_is_killed_is_finished_by_the_next_worker(
    cast: Cast, coded: None, celery_worker: Worker, queue: str, workers: list[Worker],
    tmp_path: Path,
) -> None:  # fmt: skip
    first = start_worker(
        queue, tmp_path / "first.log", {**FAST_SWEEP, "VEERKRACHT_JOB_TEST_PAUSE": "600"}
    )
    workers.append(first)
    _wait_for_pong(first)
    job = ExportJob.objects.create(study=cast.study, created_by=cast.owner, format="json")
    run_export.apply_async(args=[job.pk], queue=queue)
    wait_for(job, {ExportJob.Status.RUNNING})

    kill(first)
    killed_at = time.monotonic()
    second = start_worker(queue, tmp_path / "second.log", FAST_SWEEP, beat=True)
    workers.append(second)
    wait_for(job, {ExportJob.Status.DONE, ExportJob.Status.FAILED}, RECOVERY_LIMIT)

    assert job.status == ExportJob.Status.DONE, job.error
    assert time.monotonic() - killed_at < RECOVERY_LIMIT
    assert job.restarts == 1
    expected = export_codebook(study=cast.study, fmt="json")
    assert (job.filename, bytes(job.content)) == (expected.filename, expected.content)
    client = Client()
    client.force_login(cast.coder_a)
    download = client.get(reverse("export_download", args=[cast.study.slug, job.uuid]))
    assert download.status_code == 200
    assert download.content == expected.content


def test_a_slow_job_whose_worker_lives_is_not_taken_from_it(
    cast: Cast, celery_worker: Worker, queue: str, workers: list[Worker], tmp_path: Path
) -> None:
    slow = start_worker(
        queue, tmp_path / "slow.log", {**FAST_SWEEP, "VEERKRACHT_JOB_TEST_PAUSE": "8"}, beat=True
    )
    workers.append(slow)
    _wait_for_pong(slow)
    job = exports.export_start(study=cast.study, actor=cast.owner, fmt="md")

    # Paused twice as long as the heartbeat timeout, with a sweep every second meanwhile.
    wait_for(job, {ExportJob.Status.DONE, ExportJob.Status.FAILED}, 60)

    assert (job.status, job.restarts) == (ExportJob.Status.DONE, 0)
    assert "queued again" not in slow.log()


# Redis down ---------------------------------------------------------------------------------


class RedisServer:
    """A redis-server of this test's own on a free port, which the test stops and starts."""

    def __init__(self, directory: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "the integration tests need redis-server on PATH"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """This process sends its tasks to a redis-server of the test's own."""
    server = RedisServer(tmp_path)
    server.start()
    conf = celery_app.conf
    before = conf.broker_url
    conf.broker_url = server.url
    _reconnect()
    try:
        yield server
    finally:
        server.stop()
        conf.broker_url = before
        _reconnect()


def _reconnect() -> None:
    celery_app.__dict__.pop("amqp", None)
    celery_app._pool = None


def test_a_run_started_while_redis_is_down_waits_and_completes_once_redis_is_back(
    cast: Cast, coded: None, celery_worker: Worker, own_redis: RedisServer,
    workers: list[Worker], tmp_path: Path,
) -> None:  # fmt: skip
    own_redis.stop()
    client = Client()
    client.force_login(cast.owner)
    form = {
        "coders": ["bob", "carol"], "unit": "word", "overlap": "0.9", "bootstrap": "200",
        "seed": "11",
    }  # fmt: skip

    response = client.post(reverse("agreement_run_start", args=[cast.study.slug]), form)

    assert response.status_code == 302, response.content.decode()
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Waiting for a worker…" in page.content.decode()
    run = AgreementRun.objects.get(study=cast.study)
    assert (run.status, run.sent_at) == (AgreementRun.Status.QUEUED, None)
    status_url = reverse("agreement_run_status", args=[cast.study.slug, run.uuid])
    polled = client.get(status_url, HTTP_HX_REQUEST="true")
    assert polled.status_code == 200
    assert "The task queue cannot be reached right now" in polled.content.decode()

    own_redis.start()
    worker = start_worker(
        celery_worker.queue,
        tmp_path / "after-redis.log",
        {**FAST_SWEEP, "REDIS_URL": own_redis.url},
        beat=True,
    )
    workers.append(worker)
    wait_for(run, {AgreementRun.Status.DONE, AgreementRun.Status.FAILED}, RECOVERY_LIMIT)

    assert run.status == AgreementRun.Status.DONE, f"{run.error}\n{worker.log_tail()}"
    assert run.sent_at is not None
    expected, _ids = compute_for_study(cast.study, run.params)
    assert run.result == expected
