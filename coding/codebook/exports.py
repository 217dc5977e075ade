"""Codebook exports: one function makes the file, the task `coding.run_export` runs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from coding.codebook import files as codebook_files
from coding.codebook import qdc
from coding.codebook.services import CodebookError, codebook_tree
from coding.codebook.tree import CodeNode
from coding.models import ExportJob
from interventions.access import allows
from interventions.models import Study
from veerkracht.jobs import job_enqueue

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ExportFormat:
    extension: str
    content_type: str
    write: Callable[[list[CodeNode], str], bytes]


FORMATS: dict[str, ExportFormat] = {
    "md": ExportFormat("md", "text/markdown; charset=utf-8", codebook_files.to_markdown),
    "json": ExportFormat("json", "application/json", lambda n, t: codebook_files.to_json(n)),
    "csv": ExportFormat("csv", "text/csv; charset=utf-8", lambda n, t: codebook_files.to_csv(n)),
    "xlsx": ExportFormat("xlsx", XLSX, lambda n, t: codebook_files.to_xlsx(n)),
    "docx": ExportFormat("docx", DOCX, codebook_files.to_docx_table),
    "docx-tree": ExportFormat("docx", DOCX, codebook_files.to_docx_tree),
    "svg": ExportFormat("svg", "image/svg+xml", codebook_files.to_svg),
    "qdc": ExportFormat("qdc", "application/xml", lambda n, t: qdc.to_qdc(n)),
}


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def export_codebook(*, study: Study, fmt: str) -> ExportFile:
    """The codebook as a file. GUIDs are the ones a code came with, else its own UUID: stable."""
    if fmt not in FORMATS:
        raise CodebookError(_("Unknown export format “%(fmt)s”.") % {"fmt": fmt})
    spec = FORMATS[fmt]
    title = _("Codebook: %(study)s") % {"study": study.name}
    # A REFI-QDA file gives a code no colour where none was chosen; the drawn formats show the
    # colour the pages use.
    content = spec.write(codebook_tree(study, drawn_colors=fmt != "qdc"), title)
    suffix = "-tree" if fmt == "docx-tree" else ""
    return ExportFile(f"{study.slug}-codeboek{suffix}.{spec.extension}", spec.content_type, content)


def export_start(*, study: Study, actor: User, fmt: str) -> ExportJob:
    """Queue an export of the codebook: any member may."""
    if not allows(study, actor, "can_read"):
        raise CodebookError(_("Only the study's members export its codebook."))
    if fmt not in FORMATS:
        raise CodebookError(_("Unknown export format “%(fmt)s”.") % {"fmt": fmt})
    with transaction.atomic():
        job = ExportJob.objects.create(study=study, created_by=actor, kind="codebook", format=fmt)
        job_enqueue("coding.run_export", job)
    return job
