"""Background work of the coding app: codebook exports, agreement runs, notification mails.

Each task takes a job's id, marks the job running, calls a plain function and stores what it
made; `veerkracht.jobs.job_task` fails the job with a message when the work cannot be done.
The services send these tasks by name (`veerkracht.jobs.job_enqueue`); the names are kept in
queued messages, so they never change.
"""

from __future__ import annotations

import time

from django.conf import settings

from coding.agreement.runs import (
    AgreementError,
    agreement_run_part_done,
    agreement_run_split,
    coding_fingerprint,
    compute_block,
    compute_for_study,
)
from coding.codebook.exports import export_codebook
from coding.codebook.services import CodebookError
from coding.models import AgreementRun, AgreementRunPart, ExportJob, MailJob
from coding.review.comments import CommentMailError, comment_mail_send
from veerkracht.jobs import job_begin, job_finish, job_task


@job_task(name="coding.run_export", model=ExportJob, user_errors=(CodebookError,))
def run_export(job_id: int) -> None:
    """Make a codebook export and keep the file on the job."""
    job = job_begin(ExportJob.objects.select_related("study"), job_id, progress=10)
    if job is None:
        return  # gone, or finished by an earlier delivery of this task
    made = export_codebook(study=job.study, fmt=job.format)
    job_finish(
        ExportJob,
        job_id,
        filename=made.filename,
        content_type=made.content_type,
        content=made.content,
    )


@job_task(name="coding.run_agreement", model=AgreementRun, user_errors=(AgreementError,))
def run_agreement(run_id: int) -> None:
    """Compute an agreement run and store exactly what it used. An interrupted run (a worker
    killed mid-run) is computed again from the same inputs, seed included.

    With workers on a broker (AGREEMENT_SPLIT) a run over more than one block of texts is split:
    a `coding.run_agreement_part` task per block, and the last block to finish stores the run.
    """
    run = job_begin(AgreementRun.objects.select_related("study"), run_id, progress=10)
    if run is None:
        return
    if settings.AGREEMENT_TEST_PAUSE:
        time.sleep(settings.AGREEMENT_TEST_PAUSE)
    fingerprint = coding_fingerprint(run.study, run.params["coders"])
    if settings.AGREEMENT_SPLIT and agreement_run_split(
        run, fingerprint=fingerprint, size=settings.AGREEMENT_BLOCK_TEXTS
    ):
        return
    report, segment_ids = compute_for_study(run.study, run.params)
    job_finish(
        AgreementRun, run_id, result=report, segment_ids=segment_ids, fingerprint=fingerprint
    )


@job_task(name="coding.run_agreement_part", model=AgreementRun, user_errors=(AgreementError,))
def run_agreement_part(run_id: int, index: int) -> None:
    """Compute one block of a split agreement run; the last block finishes the run."""
    part = (
        AgreementRunPart.objects.select_related("run__study")
        .filter(run_id=run_id, index=index, run__status__in=AgreementRun.ACTIVE)
        .first()
    )
    if part is None:
        return  # the run failed or finished meanwhile
    if part.result is None:
        result = compute_block(part.run.study, part.run.params, part.intervention_ids)
        AgreementRunPart.objects.filter(pk=part.pk, result__isnull=True).update(result=result)
    agreement_run_part_done(run_id)


@job_task(name="coding.send_comment_mail", model=MailJob, user_errors=(CommentMailError,))
def send_comment_mail(job_id: int) -> None:
    """Mail one notification to its user; a mail server's refusal fails only this job."""
    job = job_begin(
        MailJob.objects.select_related(
            "notification__user",
            "notification__comment__author",
            "notification__comment__thread__study",
        ),
        job_id,
    )
    if job is None:
        return
    comment_mail_send(notification=job.notification)
    job_finish(MailJob, job_id)
