"""A real Celery worker on Redis against the PostgreSQL test database.

Runs only when DATABASE_URL and REDIS_URL are set (`make test` selects these tests only then).
Tasks go through the broker in these tests only, whatever the settings say for the others.
The worker is a subprocess that consumes a queue named for this run alone, so a worker left
over from another run on the same Redis never takes our tasks, and it reads the test database
pytest-django created, so it sees the rows a `transaction=True` test commits.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery.signals import after_task_publish
from django.conf import settings
from django.db import connection

from coding.agreement.assignments import assignment_create
from coding.codebook import services
from coding.models import AgreementRun, Segment
from interventions.models import Intervention
from tests.conftest import Cast
from veerkracht.celery import app as celery_app

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


@dataclass
class Worker:
    """The running worker: its node name, queue, log and the tasks the test process published."""

    process: subprocess.Popen[bytes]
    nodename: str
    queue: str
    log_path: Path
    published: list[dict[str, Any]] = field(default_factory=list)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def published_ids(self, task_name_part: str) -> list[str]:
        return [p["id"] for p in self.published if task_name_part in p["name"]]

    def wait_for_task_end(self, task_id: str, timeout: float = 30.0) -> str:
        """Wait until the worker logs that task `task_id` ended; return "succeeded" or "failed"."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log().splitlines():
                if f"[{task_id}]" not in line:
                    continue
                if " succeeded in " in line:
                    return "succeeded"
                if " raised unexpected" in line or " retry: " in line.lower():
                    return "failed"
            if self.process.poll() is not None:
                pytest.fail(f"The Celery worker died.\n{self.log_tail()}")
            time.sleep(0.2)
        pytest.fail(
            f"The worker did not log the end of task {task_id} within {timeout:.0f} s.\n"
            f"{self.log_tail()}"
        )


def _database_url_for(test_database: str) -> str:
    """DATABASE_URL with its database name swapped for the one pytest-django made."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{test_database}"))


def _route_this_process_to(queue: str) -> None:
    # Settings were read before any conftest ran, so the environment alone is too late here.
    os.environ["CELERY_QUEUE"] = queue
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    celery_app.conf.task_default_queue = queue
    # The AMQP helper caches its queues and router on first use; rebuild it from the new conf.
    celery_app.__dict__.pop("amqp", None)
    routed = celery_app.amqp.router.route({}, "veerkracht.integration.probe")["queue"].name
    assert routed == queue, f"tasks would go to queue {routed!r}, not {queue!r}"


def _check_broker() -> None:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as error:
        pytest.fail(f"The Celery broker at REDIS_URL={os.environ['REDIS_URL']} is down: {error}")


def _wait_for_pong(worker: Worker) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            pytest.fail(
                f"The Celery worker exited with code {worker.process.returncode} while starting."
                f"\n{worker.log_tail()}"
            )
        replies = celery_app.control.ping(destination=[worker.nodename], timeout=1.0)
        if any(worker.nodename in reply for reply in replies):
            return
    pytest.fail(
        f"The Celery worker {worker.nodename} did not answer a ping within "
        f"{START_TIMEOUT:.0f} s (REDIS_URL={os.environ['REDIS_URL']}).\n{worker.log_tail()}"
    )


def _stop(worker: Worker) -> None:
    if worker.process.poll() is None:
        worker.process.terminate()  # SIGTERM: warm shutdown, the current task finishes first
        try:
            worker.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(timeout=STOP_TIMEOUT)


def _delete_queue(queue: str) -> None:
    try:
        with celery_app.connection_for_write() as conn:
            # Declared first so this channel knows the queue's bindings, which delete removes.
            bound = celery_app.amqp.queues[queue](conn.default_channel)
            bound.declare()
            bound.delete()
    except Exception as error:  # cleanup must not hide the test's own result
        print(f"Could not delete Redis queue {queue}: {error}", file=sys.stderr)
    _forget_unacked(queue)


def _forget_unacked(queue: str) -> None:
    """Drop the messages a killed worker of `queue` left unacknowledged: Redis would hand them
    back to the deleted queue after the visibility timeout, where nobody takes them."""
    try:
        with celery_app.connection_for_write() as conn:
            client = conn.default_channel.client
            for tag, raw in client.hgetall("unacked").items():
                _message, _exchange, routing_key = json.loads(raw)
                if routing_key == queue:
                    client.hdel("unacked", tag)
                    client.zrem("unacked_index", tag)
    except Exception as error:  # cleanup must not hide the test's own result
        print(f"Could not clean unacknowledged messages of {queue}: {error}", file=sys.stderr)


def start_worker(
    queue: str, log_path: Path, extra_env: dict[str, str] | None = None, *, beat: bool = False
) -> Worker:
    """Start a Celery worker process on `queue`, against the test database; not waited for.

    With `beat`, the worker runs Celery beat too (-B), which sends the job sweep to `queue`.
    """
    nodename = f"{queue}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "veerkracht.settings_test",
        "DATABASE_URL": _database_url_for(connection.settings_dict["NAME"]),
        "CELERY_QUEUE": queue,
        "VEERKRACHT_INTEGRATION_WORKER": "1",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    command = [
        sys.executable, "-m", "celery", "-A", "veerkracht", "worker",
        "--pool=solo", "--concurrency=1", "-Q", queue, "-n", nodename,
        "--loglevel=INFO", "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    if beat:
        command += ["-B", "-s", str(log_path.with_suffix(".beat-schedule"))]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    return Worker(process=process, nodename=nodename, queue=queue, log_path=log_path)


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        pytest.skip("integration tests need DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)")
    assert connection.vendor == "postgresql", "integration tests run against PostgreSQL"

    token = uuid.uuid4().hex[:10]
    queue = f"veerkracht-test-{token}"
    _route_this_process_to(queue)
    _check_broker()

    worker = start_worker(queue, tmp_path_factory.mktemp("celery") / "worker.log")

    def record(sender: Any = None, headers: Any = None, **kwargs: Any) -> None:
        headers = headers or {}
        worker.published.append(
            {
                "name": str(headers.get("task", sender)),
                "id": str(headers.get("id", "")),
                "routing_key": (kwargs.get("routing_key") or ""),
            }
        )

    after_task_publish.connect(record, weak=False)
    try:
        _wait_for_pong(worker)
        yield worker
    finally:
        after_task_publish.disconnect(record)
        _stop(worker)
        _delete_queue(queue)


@pytest.fixture(autouse=True)
def _tasks_go_through_the_broker(celery_worker: Worker) -> Iterator[None]:
    """Send tasks to the worker here, even where the test settings run them eagerly elsewhere."""
    eager_before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = eager_before


# Data the job tests share --------------------------------------------------------------

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


def new_run(cast: Cast) -> AgreementRun:
    params: dict[str, Any] = {
        "coders": ["bob", "carol"],
        "unit": "word",
        "overlap": 0.9,
        "bootstrap": 500,
        "seed": 11,
    }
    return AgreementRun.objects.create(study=cast.study, created_by=cast.owner, params=params)
