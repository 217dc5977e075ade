from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from coding.models import ExportJob


@shared_task(name="coding.run_export", bind=True, acks_late=True, max_retries=3)
def run_export(self, job_id: int) -> None:  # type: ignore[no-untyped-def]
    """Make a codebook export; re-running a finished job does nothing."""
    from coding.codebook.exports import export_codebook

    job = ExportJob.objects.select_related("study").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, progress=10)
    try:
        made = export_codebook(study=job.study, fmt=job.format)
    except OperationalError as error:
        raise self.retry(exc=error, countdown=2 ** (self.request.retries + 1)) from error
    except Exception as error:  # noqa: BLE001 - any failure is shown to the user on the job
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        return
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE,
        progress=100,
        filename=made.filename,
        content_type=made.content_type,
        content=made.content,
        finished_at=timezone.now(),
    )


@shared_task(name="coding.run_agreement", bind=True, acks_late=True, max_retries=3)
def run_agreement(self, run_id: int) -> None:  # type: ignore[no-untyped-def]
    """Compute an agreement run. Safe to re-run: a finished run is left alone, and an
    interrupted one (a worker killed mid-run) is computed again from the same inputs."""
    from coding.agreement.runs import agreement_run_execute, agreement_run_fail

    try:
        agreement_run_execute(run_id)
    except OperationalError as error:
        raise self.retry(exc=error, countdown=2 ** (self.request.retries + 1)) from error
    except Exception as error:  # noqa: BLE001 - shown to the user on the run
        agreement_run_fail(run_id, str(error))
