"""Background work of the coding app: codebook exports, agreement runs, notification mails.

Each task takes a job's id, marks the job running, calls a plain function and stores what it
made; `veerkracht.jobs.job_task` fails the job with a message when the work cannot be done.
The services send these tasks by name (`veerkracht.jobs.job_enqueue`); the names are kept in
queued messages, so they never change.
"""

from __future__ import annotations

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
from coding.codebook.imports import codebook_import_run
from coding.codebook.services import CodebookError
from coding.codebook.tree import CodebookFormatError
from coding.models import (
    AgreementRun,
    AgreementRunPart,
    CodebookImportJob,
    ExportJob,
    MailJob,
    ProjectImportJob,
)
from coding.projects.archive import ProjectFormatError
from coding.projects.services import (
    ProjectError,
    export_filename,
    project_export,
    project_import,
)
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


@job_task(
    name="coding.run_codebook_import",
    model=CodebookImportJob,
    user_errors=(CodebookError, CodebookFormatError),
)
def run_codebook_import(job_id: int) -> None:
    """Import a big codebook file kept on the job (`coding.codebook.imports`)."""
    codebook_import_run(job_id)


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
    fingerprint = coding_fingerprint(run.study, run.params["coders"])
    if settings.AGREEMENT_SPLIT and agreement_run_split(
        run, fingerprint=fingerprint, size=settings.AGREEMENT_BLOCK_TEXTS
    ):
        return
    report, segment_ids = compute_for_study(run.study, run.params)
    job_finish(
        AgreementRun, run_id, result=report, segment_ids=segment_ids, fingerprint=fingerprint
    )


@job_task(
    name="coding.run_agreement_part", model=AgreementRun, user_errors=(AgreementError,), part=True
)
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


@job_task(
    name="coding.run_project_import",
    model=ProjectImportJob,
    user_errors=(ProjectError, ProjectFormatError),
)
def run_project_import(job_id: int) -> None:
    """Import a confirmed .qdpx project: all of it in one transaction, or nothing."""
    job = job_begin(
        ProjectImportJob.objects.select_related("study", "created_by"), job_id, progress=10
    )
    if job is None:
        return

    def progress(percent: int) -> None:
        ProjectImportJob.objects.filter(pk=job_id).update(progress=percent)

    report = project_import(
        study=job.study,
        actor=job.created_by,
        data=bytes(job.content),
        filename=job.filename,
        user_map=job.user_map,
        progress=progress,
    )
    # The archive has served its purpose; the report is what the page shows from now on.
    job_finish(ProjectImportJob, job_id, report=report.as_dict(), content=b"")


@job_task(
    name="coding.run_project_export",
    model=ExportJob,
    user_errors=(ProjectError, ProjectFormatError),
    kind="project",
)
def run_project_export(job_id: int) -> None:
    """Make a .qdpx export with the layers its owner may see, and keep it on the job."""
    job = job_begin(ExportJob.objects.select_related("study", "created_by"), job_id, progress=10)
    if job is None:
        return
    content = project_export(study=job.study, actor=job.created_by)
    job_finish(
        ExportJob,
        job_id,
        filename=export_filename(job.study),
        content_type="application/zip",
        content=content,
    )
