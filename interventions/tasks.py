"""Background work of the interventions app: applying a confirmed metadata import."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from interventions.metadata import MetadataError, import_apply
from interventions.models import ImportJob

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 5
FINISHED = (ImportJob.Status.DONE, ImportJob.Status.FAILED)
# Running too: a worker that died mid-import left it so, and the redelivered task resumes it.
APPLICABLE = (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)


def _fail(job_id: int, message: str) -> None:
    ImportJob.objects.filter(pk=job_id).exclude(status__in=FINISHED).update(
        status=ImportJob.Status.FAILED, error=message, finished_at=timezone.now()
    )


@shared_task(name="interventions.apply_import", acks_late=True, bind=True, max_retries=3)
def apply_import(self: Any, job_id: int) -> None:
    """Apply a confirmed import. Safe to run again: a finished job is left as it is.

    The import and the job's "done" are committed together, so a worker that dies in between
    leaves a job that a redelivery applies (once) rather than one applied twice.
    """
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status not in APPLICABLE:
        # Deleted, finished, or never confirmed: only confirm may start an import.
        return
    # Committed on its own, so the polling page shows "running" during the long transaction.
    ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING
    )
    try:
        with transaction.atomic():
            # The lock makes a second delivery of this task wait, then see the job done.
            job = ImportJob.objects.select_for_update().select_related("study").get(pk=job_id)
            if job.status not in APPLICABLE:
                return
            summary = import_apply(
                study=job.study, table=job.table, new_attributes=list(job.new_attributes)
            )
            job.summary = summary
            job.status = ImportJob.Status.DONE
            job.progress = 100
            job.error = ""
            job.finished_at = timezone.now()
            job.save(update_fields=["summary", "status", "progress", "error", "finished_at"])
    except MetadataError as error:
        # Nothing was imported; the message says which rows to fix.
        _fail(job_id, str(error))
    except OperationalError as error:
        # A lost connection or a deadlock: the transaction rolled back, so trying again is safe.
        # Nothing else is retried: another error would fail the same way again.
        if self.request.retries >= self.max_retries:
            _fail(job_id, _("The database could not be reached; nothing was imported. Try again."))
            raise
        logger.warning("Import job %s: database error, retrying: %s", job_id, error)
        raise self.retry(
            exc=error, countdown=RETRY_BASE_SECONDS * 2**self.request.retries
        ) from error
    except Exception:
        _fail(job_id, _("The import stopped on an unexpected error; nothing was imported."))
        raise
