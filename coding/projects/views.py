"""The REFI-QDA project page: upload a .qdpx, preview it, confirm; export the study as one.

Both directions are the owner's (`StudyAccess.can_exchange_projects`). An export job holds the
layers its owner may see, so only the owner who started it reads its status or downloads it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from coding.models import ExportJob, ProjectImportJob
from coding.projects import services
from coding.projects.archive import ProjectFormatError
from coding.projects.forms import ProjectUploadForm
from coding.sight import layers_open
from interventions.access import StudyAccess, get_study_for_user
from interventions.models import Membership, Role
from veerkracht.jobs import job_revive
from veerkracht.lib.http import HtmxHttpRequest
from veerkracht.lib.uploads import UploadTooLarge, read_upload, refuse_oversized

PAGE = "coding/projects/project.html"
PREVIEW = "coding/projects/preview.html"


def _owner(request: HtmxHttpRequest, slug: str) -> StudyAccess:
    return get_study_for_user(request.user, slug, need="can_exchange_projects")


def _page_context(access: StudyAccess, request: HtmxHttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "access": access,
        "study": access.study,
        "imports": ProjectImportJob.objects.filter(study=access.study).order_by("-created_at")[:5],
        "exports": ExportJob.objects.filter(
            study=access.study, kind="project", created_by=request.user
        ).order_by("-created_at")[:5],
        # Before the reveal a blind owner exports only the layers they may see: the page says so.
        "layers_open": layers_open(access),
        **extra,
    }


@login_required
@require_GET
def project_page(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = _owner(request, slug)
    context = _page_context(access, request, form=ProjectUploadForm())
    return render(request, PAGE, context)


@login_required
@require_POST
def project_upload(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = _owner(request, slug)
    form = ProjectUploadForm(request.POST, request.FILES)
    context = _page_context(access, request, form=form)
    if refuse_oversized(request, form, "file"):
        return render(request, PAGE, context, status=400)
    if form.is_valid():
        try:
            filename, data = read_upload(form.cleaned_data["file"])
            job = services.import_job_create(
                study=access.study, actor=request.user, filename=filename, data=data
            )
        except (UploadTooLarge, ProjectFormatError, services.ProjectError) as error:
            form.add_error("file", str(error))
        else:
            return redirect("project_preview", slug=slug, job=job.uuid)
    return render(request, PAGE, context, status=400)


def _job(access: StudyAccess, job: UUID) -> ProjectImportJob:
    return get_object_or_404(ProjectImportJob, study=access.study, uuid=job)


def _coders(access: StudyAccess) -> list[str]:
    """The usernames a REFI user may be mapped to on the page: members who code."""
    return list(
        Membership.objects.filter(study=access.study, role__in=(Role.OWNER, Role.CODER))
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )


def _preview_context(
    access: StudyAccess, job: ProjectImportJob, user_map: dict[str, str] | None = None
) -> dict[str, Any]:
    context: dict[str, Any] = {"access": access, "study": access.study, "job": job}
    if job.status == ProjectImportJob.Status.PREVIEW:
        try:
            preview = services.project_preview(
                study=access.study, data=bytes(job.content), user_map=user_map or {}
            )
        except (ProjectFormatError, services.ProjectError) as error:
            context["preview_error"] = str(error)
        else:
            context["preview"] = preview
            context["coders"] = _coders(access)
    else:
        context["report"] = job.report
    return context


@login_required
@require_GET
def project_preview(request: HtmxHttpRequest, slug: str, job: UUID) -> HttpResponse:
    access = _owner(request, slug)
    import_job = _job(access, job)
    job_revive(import_job)
    return render(request, PREVIEW, _preview_context(access, import_job))


@login_required
@require_POST
def project_confirm(request: HtmxHttpRequest, slug: str, job: UUID) -> HttpResponse:
    access = _owner(request, slug)
    import_job = _job(access, job)
    prefix = "user-"
    user_map = {
        key.removeprefix(prefix): value
        for key in request.POST
        if key.startswith(prefix) and (value := request.POST.get(key, ""))
    }
    try:
        services.import_job_confirm(job=import_job, actor=request.user, user_map=user_map)
    except (ProjectFormatError, services.ProjectError) as error:
        messages.error(request, str(error))
        return render(request, PREVIEW, _preview_context(access, import_job), status=400)
    return redirect("project_preview", slug=slug, job=job)


@login_required
@require_GET
def project_import_status(request: HtmxHttpRequest, slug: str, job: UUID) -> HttpResponseBase:
    access = _owner(request, slug)
    import_job = _job(access, job)
    job_revive(import_job)
    context = _preview_context(access, import_job)
    response = render(request, f"{PREVIEW}#import-status", context)
    if import_job.is_finished:
        return HttpResponseStopPolling(response.content)
    return response


# Export ------------------------------------------------------------------------------------


def _export_job(request: HtmxHttpRequest, access: StudyAccess, uuid: UUID) -> ExportJob:
    return get_object_or_404(
        ExportJob, study=access.study, uuid=uuid, kind="project", created_by=request.user
    )


@login_required
@require_POST
def project_export_start(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = _owner(request, slug)
    try:
        job = services.export_job_start(study=access.study, actor=request.user)
    except services.ProjectError as error:
        context = _page_context(access, request, form=ProjectUploadForm(), export_error=str(error))
        return render(request, PAGE, context, status=400)
    if request.htmx:
        context = {"access": access, "study": access.study, "job": job}
        return render(request, f"{PAGE}#project-export-status", context)
    return redirect("project_export_status", slug=slug, uuid=job.uuid)


@login_required
@require_http_methods(["GET"])
def project_export_status(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponseBase:
    access = _owner(request, slug)
    job = _export_job(request, access, uuid)
    job_revive(job)
    if not request.htmx:
        context = _page_context(access, request, form=ProjectUploadForm(), job=job)
        return render(request, PAGE, context)
    context = {"access": access, "study": access.study, "job": job}
    response = render(request, f"{PAGE}#project-export-status", context)
    if job.is_finished:
        return HttpResponseStopPolling(response.content)
    return response


@login_required
@require_GET
def project_export_download(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = _owner(request, slug)
    job = _export_job(request, access, uuid)
    if job.status != ExportJob.Status.DONE:
        return HttpResponse(status=404)
    response = HttpResponse(bytes(job.content or b""), content_type=job.content_type)
    response["Content-Disposition"] = content_disposition_header(True, job.filename) or ""
    return response
