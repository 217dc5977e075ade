"""Big text uploads turned into interventions by a background job, so no request waits on them.

An upload of more than `JOB_THRESHOLD_BYTES` in all (a long PDF takes seconds per hundred
pages to read) is kept as a zip on a `TextImportJob` row; the task `interventions.import_texts`
(interventions/tasks.py) reads every file with `textimport.extract_document` and stores them with
`metadata.interventions_from_texts`, as the request does for a small upload: all or nothing, in
one transaction, with the job marked done in the same transaction.
"""

from __future__ import annotations

import io
import zipfile

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from interventions import metadata
from interventions.access import allows
from interventions.models import Study, TextImportJob
from interventions.services import ServiceError
from interventions.textimport import extract_document
from veerkracht.jobs import job_begin, job_enqueue

# About 150 PDF pages: read in the request within a few seconds even on a busy machine.
JOB_THRESHOLD_BYTES = 128 * 1024


def runs_as_job(files: list[tuple[str, bytes]]) -> bool:
    """Whether an upload of these files is imported in the background."""
    threshold: int = getattr(settings, "TEXT_IMPORT_JOB_BYTES", JOB_THRESHOLD_BYTES)
    return sum(len(data) for _name, data in files) > threshold


def text_import_start(
    *, study: Study, actor: User, files: list[tuple[str, bytes]], source: str
) -> TextImportJob:
    """Queue the import of uploaded text files: the owner only."""
    if not allows(study, actor, "can_manage"):
        raise ServiceError(_("Only the study's owner adds interventions."))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number, (_name, data) in enumerate(files):
            # Numbered, so two files of the same name both arrive; the name is kept apart.
            archive.writestr(f"{number:05d}", data)
    with transaction.atomic():
        job = TextImportJob.objects.create(
            study=study,
            created_by=actor,
            source=source,
            filenames=[name for name, _data in files],
            archive=buffer.getvalue(),
        )
        job_enqueue("interventions.import_texts", job)
    return job


def text_import_run(job_id: int) -> None:
    """The task's work; a second delivery finds the job done and changes nothing."""
    if job_begin(TextImportJob.objects.all(), job_id, progress=5) is None:
        return
    job = TextImportJob.objects.get(pk=job_id)
    texts = []
    headings: dict[str, tuple[str, ...]] = {}
    with zipfile.ZipFile(io.BytesIO(bytes(job.archive or b""))) as archive:
        for number, name in enumerate(job.filenames):
            document = extract_document(name, archive.read(f"{number:05d}"))
            texts.append((name, document.text))
            headings[name] = document.headings
            progress = 5 + 80 * (number + 1) // len(job.filenames)
            TextImportJob.objects.filter(pk=job_id).update(
                progress=progress, updated_at=timezone.now()
            )
    with transaction.atomic():
        job = TextImportJob.objects.select_for_update().select_related("study").get(pk=job_id)
        if job.is_finished:
            return
        report = metadata.interventions_from_texts(
            study=job.study, texts=texts, source=job.source, headings=headings
        )
        job.summary = {"added": report.added, "updated": report.updated}
        job.status = TextImportJob.Status.DONE
        job.progress = 100
        job.archive = None
        job.error = ""
        job.finished_at = job.updated_at = timezone.now()
        job.save(
            update_fields=[
                "summary",
                "status",
                "progress",
                "archive",
                "error",
                "finished_at",
                "updated_at",
            ]
        )
