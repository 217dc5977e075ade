"""Background jobs, one way for all: a row with a status, a Celery task that takes its id.

A job is stored QUEUED and its task is sent by name once the transaction commits (services send
by name, so they never import the task modules that import them). The worker marks it RUNNING
(`job_begin`), then DONE with its result (`job_finish`) or FAILED with a message the user reads
(`job_fail`). A finished job is never changed again, so a second delivery of a task does nothing.

No job stays running for good:

- `job_task` fails the job when its work raises: with the error's own message for the errors
  meant for the user, after a few retries with backoff when the database is away, and with a
  general message for anything else (raised again, so the worker logs it).
- A worker killed for good (SIGKILL, a lost machine) says nothing. With acks_late, Redis hands
  its task to another worker after CELERY_VISIBILITY_TIMEOUT, and that worker runs it again. A
  job still queued or running JOB_STALE_MARGIN seconds after that has no worker coming back:
  `fail_if_stale` fails it with a message. The status views and the pages that list jobs call
  it as they show a job; `manage.py fail_stale_jobs` does it for every job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import kombu.exceptions
from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from veerkracht.celery import app as celery_app
from veerkracht.models import BackgroundJob, JobStatus

logger = logging.getLogger(__name__)

J = TypeVar("J", bound=BackgroundJob)

MAX_RETRIES = 3
RETRY_BASE_SECONDS = 5
ERROR_MAX_LENGTH = 2000

# Lazy: the worker stores them in its own language when the job fails.
DATABASE_AWAY = gettext_lazy("The database could not be reached; nothing was saved. Try again.")
UNEXPECTED = gettext_lazy(
    "The work stopped on an unexpected error; nothing was saved. If it happens again, tell the "
    "administrator."
)
WORKER_STOPPED = gettext_lazy(
    "The worker stopped before the work was finished; nothing was saved. Start it again."
)


# Sending -------------------------------------------------------------------------------------


def job_enqueue(
    task_name: str, job: BackgroundJob, *, robust: bool = False, args: tuple[Any, ...] = ()
) -> None:
    """Send the job's task once the current transaction commits, so the worker finds the row.

    The task goes by name, with the job's id and then `args` (a part of the job, for a job
    split over workers). A broker that cannot be reached fails the job with a message.
    `robust` is for side effects that must never break the request that caused them (mail):
    any error in sending (or, without a broker, in running the task in-process) is logged.
    """
    model, job_id = type(job), job.pk

    def send() -> None:
        try:
            celery_app.signature(task_name, args=(job_id, *args)).delay()
        except kombu.exceptions.OperationalError:
            logger.exception("Could not send %s for %s %s", task_name, model.__name__, job_id)
            job_fail(
                model,
                job_id,
                _("The task queue could not be reached, so nothing was started. Try again."),
            )

    transaction.on_commit(send, robust=robust)


# The worker's steps --------------------------------------------------------------------------


def job_begin(jobs: QuerySet[J], job_id: int, *, progress: int = 0) -> J | None:
    """Mark the job running and return it from `jobs`; None when it is gone or finished.

    A running job is taken again: its worker died and the broker handed the task on.
    """
    begun = _active(jobs.model, job_id).update(
        status=JobStatus.RUNNING, progress=progress, updated_at=timezone.now()
    )
    if not begun:
        return None
    return jobs.filter(pk=job_id).first()


def job_finish(model: type[BackgroundJob], job_id: int, **result: Any) -> bool:
    """Mark the job done and store `result` on it; a finished job is left as it is."""
    now = timezone.now()
    done = _active(model, job_id).update(
        status=JobStatus.DONE, progress=100, error="", finished_at=now, updated_at=now, **result
    )
    return bool(done)


def job_fail(model: type[BackgroundJob], job_id: int, message: str | Promise) -> bool:
    """Mark the job failed with a message for the user; a finished job is left as it is."""
    return bool(_fail(model._default_manager.filter(pk=job_id), message))


def _active(model: type[BackgroundJob], job_id: int) -> QuerySet[Any]:
    """The job if it is queued or running: the only jobs a step may change."""
    # Through an untyped queryset: `status` is declared by each job model, not by the base.
    jobs: QuerySet[Any] = model._default_manager.filter(pk=job_id)
    return jobs.filter(status__in=BackgroundJob.ACTIVE)


def _fail(jobs: QuerySet[Any], message: str | Promise) -> int:
    """Fail those of `jobs` still queued or running; a finished job is left as it is."""
    now = timezone.now()
    return jobs.filter(status__in=BackgroundJob.ACTIVE).update(
        status=JobStatus.FAILED,
        error=str(message)[:ERROR_MAX_LENGTH],
        finished_at=now,
        updated_at=now,
    )


# Jobs whose worker stopped -------------------------------------------------------------------


def stale_before() -> datetime:
    """A job queued or running since before this has no worker left to finish it."""
    seconds = settings.CELERY_VISIBILITY_TIMEOUT + settings.JOB_STALE_MARGIN
    return timezone.now() - timedelta(seconds=seconds)


def fail_stale(jobs: QuerySet[Any]) -> int:
    """Fail the stale jobs among `jobs` with a message; returns how many."""
    return _fail(jobs.filter(updated_at__lt=stale_before()), WORKER_STOPPED)


def fail_if_stale(job: BackgroundJob) -> bool:
    """Fail this job if it is stale, and show that on the instance; True when it did.

    No query for a finished or recent job, so a status view may call it on every poll.
    """
    if job.status not in BackgroundJob.ACTIVE or job.updated_at >= stale_before():
        return False
    # The update checks again: a redelivered task may have just begun the job anew.
    if not fail_stale(type(job)._default_manager.filter(pk=job.pk)):
        return False
    job.refresh_from_db(fields=["status", "error", "finished_at", "updated_at"])
    return True


# The task ------------------------------------------------------------------------------------


def job_task(
    *,
    name: str,
    model: type[BackgroundJob],
    user_errors: tuple[type[Exception], ...] = (),
) -> Callable[[Callable[..., None]], Any]:
    """Make `work(job_id, *args)` the Celery task `name` of jobs of `model`; `args` name a part
    of the job when it is split over workers, and a failing part fails the whole job.

    `work` loads the job with `job_begin`, does the work and stores it with `job_finish`; it
    must be safe to run again (its writes in one transaction, or idempotent). Then:

    - an error in `user_errors` fails the job with its own message (the user's input is wrong:
      trying again would fail the same way);
    - a database error is retried `MAX_RETRIES` times, 5, 10 and 20 s apart, then fails the
      job; nothing else is retried;
    - any other error fails the job with a general message and is raised for the worker's log.

    The message is acknowledged only after the work (acks_late), so a worker that dies mid-job
    leaves the task to the next worker; `fail_if_stale` covers a worker that never comes back.
    """

    def decorate(work: Callable[..., None]) -> Any:
        def run(task: Any, job_id: int, *args: Any) -> None:
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

        # Named after `work` for the worker's log and the docs; no __wrapped__, since Celery
        # reads the task's signature from the function it is given.
        run.__name__, run.__qualname__ = work.__name__, work.__qualname__
        run.__module__, run.__doc__ = work.__module__, work.__doc__
        return shared_task(
            name=name,
            bind=True,
            acks_late=True,
            reject_on_worker_lost=True,
            max_retries=MAX_RETRIES,
        )(run)

    return decorate
