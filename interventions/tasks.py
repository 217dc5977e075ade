"""Background work of the interventions app: applying a confirmed metadata import.

`import_job_confirm` sends the task by name (`veerkracht.jobs.job_enqueue`); the name is kept in
queued messages, so it never changes.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from interventions.metadata import MetadataError, import_apply
from interventions.models import ImportJob, TextImportJob
from interventions.services import ServiceError
from interventions.textimport import TextImportError
from interventions.textjobs import text_import_run
from veerkracht.jobs import job_begin, job_task


@job_task(
    name="interventions.import_texts",
    model=TextImportJob,
    user_errors=(TextImportError, MetadataError, ServiceError),
)
def import_texts(job_id: int) -> None:
    """Turn a big upload of text files into interventions (`interventions.textjobs`)."""
    text_import_run(job_id)


@job_task(name="interventions.apply_import", model=ImportJob, user_errors=(MetadataError,))
def apply_import(job_id: int) -> None:
    """Apply a confirmed import. Safe to run again: a finished job is left as it is.

    The import and the job's "done" are committed together, so a worker that dies in between
    leaves a job that a redelivery applies (once) rather than one applied twice. A refused
    import changes nothing and its message says which rows to fix.
    """
    # Committed on its own, so the polling page shows "running" during the long transaction.
    # A job only confirm has queued is taken (or one left running by a worker that died).
    if job_begin(ImportJob.objects.all(), job_id) is None:
        return
    with transaction.atomic():
        # The lock makes a second delivery of this task wait, then see the job done.
        job = ImportJob.objects.select_for_update().select_related("study").get(pk=job_id)
        if job.is_finished:
            return
        summary = import_apply(
            study=job.study, table=job.table, new_attributes=list(job.new_attributes)
        )
        job.summary = summary
        job.status = ImportJob.Status.DONE
        job.progress = 100
        job.error = ""
        job.finished_at = job.updated_at = timezone.now()
        job.save(
            update_fields=["summary", "status", "progress", "error", "finished_at", "updated_at"]
        )
