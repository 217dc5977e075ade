"""Background jobs, one way for all: a row with a status, a Celery task that takes its id.

A job is stored QUEUED and its task is sent by name once the transaction commits (services send
by name, so they never import the task modules that import them). The worker marks it RUNNING
(`job_begin`), then DONE with its result (`job_finish`) or FAILED with a message the user reads
(`job_fail`). A finished job is never changed again, so a second delivery of a task does nothing.

No job hangs or vanishes:

- A broker that cannot be reached leaves the job QUEUED with `sent_at` empty, and the page says
  it waits for a worker. `sweep` sends it again once the broker answers: Celery beat runs it
  every JOB_SWEEP_INTERVAL seconds (`veerkracht.sweep_jobs`), and a status page runs it for the
  job it shows (`job_revive`). A job queued but not taken JOB_RESEND_AFTER seconds after it was
  sent is sent again too (a broker restarted without its data loses its messages).
- While a job runs, its worker touches `updated_at` every JOB_HEARTBEAT_SECONDS. A running job
  untouched for JOB_HEARTBEAT_TIMEOUT seconds lost its worker (SIGKILL, a lost machine): the
  sweep queues it again and sends its task, and `job_begin` lets the next worker take it. After
  MAX_RESTARTS such restarts the job is failed with a message instead. Acks-late with
  reject-on-worker-lost and the broker's visibility timeout hand the task on as well; a
  delivery of a job that is running with a live worker does nothing.
- `job_task` fails the job when its work raises: with the error's own message for the errors
  meant for the user, after a few retries with backoff when the database is away, and with a
  general message for anything else (raised again, so the worker logs it).

Every task is therefore safe to run twice: its writes are one transaction or idempotent, and
only the first `job_finish` counts. Without REDIS_URL (`make run`, the tests) tasks run
in-process on commit and none of this is needed.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, connections, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from veerkracht.celery import app as celery_app
from veerkracht.models import BackgroundJob, JobStatus

logger = logging.getLogger(__name__)

J = TypeVar("J", bound=BackgroundJob)

MAX_RETRIES = 3
RETRY_BASE_SECONDS = 5
ERROR_MAX_LENGTH = 2000
# Times a job is taken back from a worker that stopped before it is given up: a job that kills
# its worker each time (memory, say) must not loop for ever.
MAX_RESTARTS = 3
# Seconds between two attempts to send a job the broker refused, per job.
SEND_RETRY_SECONDS = 10

# Lazy: the worker stores them in its own language when the job fails.
DATABASE_AWAY = gettext_lazy("The database could not be reached; nothing was saved. Try again.")
UNEXPECTED = gettext_lazy(
    "The work stopped on an unexpected error; nothing was saved. If it happens again, tell the "
    "administrator."
)
WORKER_STOPPED = gettext_lazy(
    "The worker stopped before the work was finished, several times; nothing was saved. Tell "
    "the administrator."
)

# The task name of each kind of job, filled in by `job_task`: what the sweep sends.
# The task of each kind of job: (model, kind) -> task name, where kind is None for a model
# with one task, or the value of the job's `kind` field when one model has several (ExportJob:
# codebook exports and project exports).
JOB_TASKS: dict[tuple[type[BackgroundJob], str | None], str] = {}


def _task_of(job: BackgroundJob) -> str | None:
    kind = getattr(job, "kind", None)
    return JOB_TASKS.get((type(job), kind)) or JOB_TASKS.get((type(job), None))


def _of_kind(model: type[BackgroundJob], kind: str | None) -> QuerySet[Any]:
    """The jobs of `model` that the task registered for `kind` runs."""
    jobs = _jobs(model)
    if kind is not None:
        return jobs.filter(kind=kind)
    others = [k for (m, k) in JOB_TASKS if m is model and k is not None]
    return jobs.exclude(kind__in=others) if others else jobs


# True while a task retries its own job after a database error: it may take the job it left
# running (its heartbeat is recent, since it stopped only seconds ago).
_retrying: contextvars.ContextVar[bool] = contextvars.ContextVar("retrying", default=False)


# Sending -------------------------------------------------------------------------------------


def job_enqueue(
    task_name: str, job: BackgroundJob, *, robust: bool = False, args: tuple[Any, ...] = ()
) -> None:
    """Send the job's task once the current transaction commits, so the worker finds the row.

    The task goes by name, with the job's id and then `args` (a part of the job, for a job
    split over workers). A broker that cannot be reached leaves the job queued and unsent, for
    the sweep to send once the broker is back (a part is sent again by its job's main task,
    which the sweep restarts). `robust` is for side effects that must never break the request
    that caused them (mail): without a broker, an error of the task run in-process is logged.
    """
    model, job_id = type(job), job.pk
    transaction.on_commit(lambda: _send(task_name, model, job_id, args), robust=robust)


def _send(
    task_name: str, model: type[BackgroundJob], job_id: int, args: tuple[Any, ...] = ()
) -> bool:
    """Hand the task to the broker (or, without one, run it here); False when it could not."""
    if celery_app.conf.task_always_eager:
        celery_app.signature(task_name, args=(job_id, *args)).delay()
        return True
    try:
        celery_app.signature(task_name, args=(job_id, *args)).delay()
    except Exception as error:  # a refused or lost connection: the row is kept, to send later
        logger.warning(
            "Could not send %s for %s %s, the sweep sends it again: %s",
            task_name,
            model.__name__,
            job_id,
            error,
        )
        return False
    # On a job a quick worker already began too: it says the task reached the broker.
    _jobs(model).filter(pk=job_id).update(sent_at=timezone.now())
    return True


# The worker's steps --------------------------------------------------------------------------


def job_begin(jobs: QuerySet[J], job_id: int, *, progress: int = 0) -> J | None:
    """Mark the job running and return it from `jobs`; None when it is gone, finished, or
    running with a live worker (this delivery is a duplicate).

    A running job whose worker stopped (no heartbeat for JOB_HEARTBEAT_TIMEOUT) is taken over.
    """
    model = jobs.model
    now = timezone.now()
    job = _jobs(model).filter(pk=job_id)
    begun = job.filter(status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, progress=progress, updated_at=now
    )
    if not begun and _retrying.get():
        begun = job.filter(status=JobStatus.RUNNING).update(progress=progress, updated_at=now)
    elif not begun:
        # Delivered again after its worker stopped (the broker's visibility timeout): take over.
        begun = job.filter(
            status=JobStatus.RUNNING, updated_at__lt=_heartbeat_lost_before()
        ).update(progress=progress, updated_at=now, restarts=F("restarts") + 1)
    if not begun:
        return None
    found = jobs.filter(pk=job_id).first()
    if found is not None and found.restarts > MAX_RESTARTS:
        job_fail(model, job_id, WORKER_STOPPED)
        return None
    if settings.JOB_TEST_PAUSE:
        # Only for the integration tests that kill a worker mid-job; zero everywhere else.
        time.sleep(settings.JOB_TEST_PAUSE)
    return found


def job_finish(model: type[BackgroundJob], job_id: int, **result: Any) -> bool:
    """Mark the job done and store `result` on it; a finished job is left as it is."""
    now = timezone.now()
    done = _active(model, job_id).update(
        status=JobStatus.DONE, progress=100, error="", finished_at=now, updated_at=now, **result
    )
    return bool(done)


def job_fail(model: type[BackgroundJob], job_id: int, message: str | Promise) -> bool:
    """Mark the job failed with a message for the user; a finished job is left as it is."""
    return bool(_fail(_jobs(model).filter(pk=job_id), message))


def _jobs(model: type[BackgroundJob]) -> QuerySet[Any]:
    # Untyped: `status` is declared by each job model, not by the base.
    jobs: QuerySet[Any] = model._default_manager.all()
    return jobs


def _active(model: type[BackgroundJob], job_id: int) -> QuerySet[Any]:
    """The job if it is queued or running: the only jobs a step may change."""
    return _jobs(model).filter(pk=job_id, status__in=BackgroundJob.ACTIVE)


def _fail(jobs: QuerySet[Any], message: str | Promise) -> int:
    """Fail those of `jobs` still queued or running; a finished job is left as it is."""
    now = timezone.now()
    return jobs.filter(status__in=BackgroundJob.ACTIVE).update(
        status=JobStatus.FAILED,
        error=str(message)[:ERROR_MAX_LENGTH],
        finished_at=now,
        updated_at=now,
    )


# The heartbeat -------------------------------------------------------------------------------


class _Heartbeat(threading.Thread):
    """Touches a running job's `updated_at` while its worker lives; a SIGKILL stops it too."""

    def __init__(self, model: type[BackgroundJob], job_id: int) -> None:
        super().__init__(name=f"heartbeat-{model.__name__}-{job_id}", daemon=True)
        self.model, self.job_id = model, job_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    _jobs(self.model).filter(pk=self.job_id, status=JobStatus.RUNNING).update(
                        updated_at=timezone.now()
                    )
                except Exception as error:  # the database away: the work itself will say so
                    logger.warning(
                        "Heartbeat of %s %s: %s", self.model.__name__, self.job_id, error
                    )
        finally:
            connections.close_all()  # this thread's own connections

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)


# Jobs that wait for a broker or lost their worker ---------------------------------------------


def _heartbeat_lost_before() -> Any:
    return timezone.now() - timedelta(seconds=settings.JOB_HEARTBEAT_TIMEOUT)


@dataclass
class Sweep:
    """What a sweep did: jobs sent (again), taken back from a stopped worker, failed."""

    sent: int = 0
    restarted: int = 0
    failed: int = 0

    def __iadd__(self, other: Sweep) -> Sweep:
        self.sent += other.sent
        self.restarted += other.restarted
        self.failed += other.failed
        return self


def _due(jobs: QuerySet[Any]) -> QuerySet[Any]:
    """Those of `jobs` the sweep must act on: unsent or lost queued jobs, jobs whose worker
    stopped."""
    now = timezone.now()
    unsent = Q(sent_at__isnull=True, updated_at__lt=now - timedelta(seconds=SEND_RETRY_SECONDS))
    lost = Q(sent_at__lt=now - timedelta(seconds=settings.JOB_RESEND_AFTER))
    return jobs.filter(
        Q(status=JobStatus.QUEUED) & (unsent | lost)
        | Q(status=JobStatus.RUNNING, updated_at__lt=_heartbeat_lost_before())
    )


def _revive(model: type[BackgroundJob], job_id: int, task_name: str) -> Sweep:
    """Send a due queued job again, or queue again a running job whose worker stopped.

    Each change is claimed with a conditional update, so two sweeps at once act once.
    """
    done = Sweep()
    now = timezone.now()
    due = _due(_jobs(model).filter(pk=job_id))
    stopped = due.filter(status=JobStatus.RUNNING)
    if _fail(stopped.filter(restarts__gte=MAX_RESTARTS), WORKER_STOPPED):
        logger.warning("%s %s failed: its worker stopped too often", model.__name__, job_id)
        done.failed += 1
        return done
    restarted = stopped.update(
        status=JobStatus.QUEUED,
        progress=0,
        restarts=F("restarts") + 1,
        sent_at=None,
        updated_at=now,
    )
    if restarted:
        logger.warning("%s %s queued again: its worker stopped", model.__name__, job_id)
        done.restarted += 1
    elif not due.filter(status=JobStatus.QUEUED).update(updated_at=now):
        return done  # nothing due, or another sweep claimed it
    if _send(task_name, model, job_id):
        done.sent += 1
    return done


def sweep() -> Sweep:
    """Send every job that waits for a broker, restart every job whose worker stopped."""
    done = Sweep()
    for (model, kind), task_name in JOB_TASKS.items():
        for job_id in _due(_of_kind(model, kind)).values_list("pk", flat=True):
            done += _revive(model, job_id, task_name)
    return done


def job_revive(job: BackgroundJob) -> None:
    """The sweep for the one job a page shows; updates the instance when it acted.

    No query for a finished job or one that is fine, so a status view may call it on every
    poll.
    """
    if not _is_due(job):
        return
    task_name = _task_of(job)
    if task_name is None:
        return
    _revive(type(job), job.pk, task_name)
    job.refresh_from_db()


def _is_due(job: BackgroundJob) -> bool:
    now = timezone.now()
    if job.status == JobStatus.RUNNING:
        return job.updated_at < _heartbeat_lost_before()
    if job.status != JobStatus.QUEUED:
        return False
    if job.sent_at is None:
        return job.updated_at < now - timedelta(seconds=SEND_RETRY_SECONDS)
    return job.sent_at < now - timedelta(seconds=settings.JOB_RESEND_AFTER)


# The task ------------------------------------------------------------------------------------


def job_task(
    *,
    name: str,
    model: type[BackgroundJob],
    user_errors: tuple[type[Exception], ...] = (),
    kind: str | None = None,
    part: bool = False,
) -> Callable[[Callable[..., None]], Any]:
    """Make `work(job_id, *args)` the Celery task `name` of jobs of `model` (of those whose
    `kind` field is `kind`, when one model has several tasks). With `part`, the task does one
    part of a job split over workers (`args` name the part): the sweep restarts the job's main
    task, which sends the parts still missing, and a failing part fails the whole job.

    `work` loads the job with `job_begin`, does the work and stores it with `job_finish`; it
    must be safe to run again (its writes in one transaction, or idempotent). Then:

    - an error in `user_errors` fails the job with its own message (the user's input is wrong:
      trying again would fail the same way);
    - a database error is retried `MAX_RETRIES` times, 5, 10 and 20 s apart, then fails the
      job; nothing else is retried;
    - any other error fails the job with a general message and is raised for the worker's log.

    While `work` runs in a worker, a heartbeat thread keeps the job's `updated_at` recent. The
    message is acknowledged only after the work (acks_late, rejected when the worker is lost),
    and the sweep restarts a job whose heartbeat stopped, so a worker that dies mid-job leaves
    the job to the next worker.
    """

    def decorate(work: Callable[..., None]) -> Any:
        def run(task: Any, job_id: int, *args: Any) -> None:
            heartbeat = None if task.request.is_eager else _Heartbeat(model, job_id)
            if heartbeat is not None:
                heartbeat.start()
            retrying = _retrying.set(bool(task.request.retries))
            try:
                work(job_id, *args)
            except user_errors as error:
                job_fail(model, job_id, str(error))
            except OperationalError as error:
                # A lost connection or a deadlock: the work's transaction rolled back.
                if task.request.retries >= task.max_retries:
                    job_fail(model, job_id, DATABASE_AWAY)
                    raise
                logger.warning("%s %s: database error, retrying: %s", name, job_id, error)
                countdown = RETRY_BASE_SECONDS * 2**task.request.retries
                raise task.retry(exc=error, countdown=countdown) from error
            except Exception:
                job_fail(model, job_id, UNEXPECTED)
                raise
            finally:
                _retrying.reset(retrying)
                if heartbeat is not None:
                    heartbeat.stop()

        # Named after `work` for the worker's log and the docs; no __wrapped__, since Celery
        # reads the task's signature from the function it is given.
        run.__name__, run.__qualname__ = work.__name__, work.__qualname__
        run.__module__, run.__doc__ = work.__module__, work.__doc__
        if not part:
            JOB_TASKS[(model, kind)] = name
        return shared_task(
            name=name,
            bind=True,
            acks_late=True,
            reject_on_worker_lost=True,
            max_retries=MAX_RETRIES,
        )(run)

    return decorate
