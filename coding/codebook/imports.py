"""Big codebook files imported as background jobs, so no request waits on them.

A file of more than `JOB_THRESHOLD_BYTES` is kept on a `CodebookImportJob` row and imported by
the task `coding.run_codebook_import` (coding/tasks.py) through the same reading and the same
`codebook_import` service as a small file in the request: all or nothing, one transaction,
whose message the page shows when the file is refused. The web page polls the job.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from coding.codebook.reading import read_codebook_file
from coding.codebook.services import CodebookError, codebook_import
from coding.models import CodebookImportJob
from interventions.access import allows
from interventions.models import Study
from veerkracht.jobs import job_begin, job_enqueue

# About 300 codes with definitions; a file this size imports in a second or two in the request.
JOB_THRESHOLD_BYTES = 100 * 1024


def runs_as_job(data: bytes) -> bool:
    """Whether a codebook file of this size is imported in the background."""
    threshold: int = getattr(settings, "CODEBOOK_IMPORT_JOB_BYTES", JOB_THRESHOLD_BYTES)
    return len(data) > threshold


def codebook_import_start(
    *, study: Study, actor: User, filename: str, data: bytes
) -> CodebookImportJob:
    """Queue the import of a codebook file: the owner only. The file is read by the task."""
    if not allows(study, actor, "can_edit_codebook"):
        raise CodebookError(_("Only the study's owner changes the codebook."))
    with transaction.atomic():
        job = CodebookImportJob.objects.create(
            study=study, created_by=actor, filename=filename, content=data
        )
        job_enqueue("coding.run_codebook_import", job)
    return job


def codebook_import_run(job_id: int) -> None:
    """The task's work: read the file, import it and mark the job done, in one transaction,
    so a second delivery of the task finds the job done and imports nothing twice."""
    if job_begin(CodebookImportJob.objects.all(), job_id, progress=10) is None:
        return
    with transaction.atomic():
        job = (
            CodebookImportJob.objects.select_for_update()
            .select_related("study", "created_by")
            .get(pk=job_id)
        )
        if job.is_finished:
            return
        nodes, dropped = read_codebook_file(job.filename, bytes(job.content or b""))
        report = codebook_import(study=job.study, actor=job.created_by, nodes=nodes)
        job.summary = {
            "summary": report.summary(),
            "added": len(report.added),
            "changed": len(report.changed),
            "dropped": dropped,
        }
        job.status = CodebookImportJob.Status.DONE
        job.progress = 100
        job.content = None  # the file is in the codebook now
        job.error = ""
        job.finished_at = job.updated_at = timezone.now()
        job.save(
            update_fields=[
                "summary",
                "status",
                "progress",
                "content",
                "error",
                "finished_at",
                "updated_at",
            ]
        )


__all__ = ["CodebookError", "codebook_import_run", "codebook_import_start", "runs_as_job"]
