"""Views of studies, members and the corpus.

Each view: fetch through an access helper (404 outsiders, 403 missing right), validate with a
form, call one service, render. A refused request answers 400 with the message and changes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from interventions import metadata, services, textjobs
from interventions.access import StudyAccess, get_intervention_for_user, get_study_for_user
from interventions.forms import (
    AttributeDefinitionForm,
    InterventionForm,
    MemberAddForm,
    MetadataUploadForm,
    RoleForm,
    SectionAddForm,
    SectionRenameForm,
    SectionSplitForm,
    StudyEditForm,
    StudyForm,
    UploadForm,
)
from interventions.models import (
    AttributeDefinition,
    AttributeValue,
    ImportJob,
    Intervention,
    Invitation,
    Membership,
    Role,
    Section,
    TextImportJob,
)
from interventions.textimport import TextImportError, extract_document
from veerkracht.jobs import job_revive
from veerkracht.lib.http import HtmxHttpRequest
from veerkracht.lib.uploads import UploadTooLarge, read_upload, refuse_oversized


def _refused(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, context, status=400)


# Studies -----------------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("study")
        .annotate(n_interventions=Count("study__interventions"))
        .order_by("study__name")
    )
    return render(
        request, "interventions/home.html", {"memberships": memberships, "form": StudyForm()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def study_create(request: HtmxHttpRequest) -> HttpResponse:
    form = StudyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            study = services.study_create(owner=request.user, **form.cleaned_data)
        except services.ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Study “%(name)s” created.") % {"name": study.name})
            return redirect("study_detail", slug=study.slug)
        return _refused(request, "interventions/study_form.html", {"form": form})
    status = 400 if request.method == "POST" else 200
    return render(request, "interventions/study_form.html", {"form": form}, status=status)


@login_required
@require_GET
def study_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    study = access.study
    members = study.memberships.select_related("user")
    context = {
        "access": access,
        "study": study,
        "members": members,
        "n_interventions": study.interventions.count(),
        "attributes": study.attributes.all(),
        "recent": study.interventions.order_by("-updated_at")[:8],
    }
    return render(request, "interventions/study_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def study_edit(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_manage")
    study = access.study
    initial = {"name": study.name, "description": study.description, "language": study.language}
    form = StudyEditForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.study_update(study=study, **form.cleaned_data)
            except services.ServiceError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Study saved."))
                return redirect("study_detail", slug=study.slug)
        return _refused(
            request,
            "interventions/study_edit.html",
            {"form": form, "access": access, "study": study},
        )
    return render(
        request, "interventions/study_edit.html", {"form": form, "access": access, "study": study}
    )


# Members -----------------------------------------------------------------------------------


def _members_context(access: StudyAccess, request: HttpRequest, **extra: Any) -> dict[str, Any]:
    study = access.study
    invitations = [i for i in study.invitations.select_related("created_by") if i.is_open]
    return {
        "access": access,
        "study": study,
        "members": study.memberships.select_related("user"),
        "invitations": invitations,
        "invite_urls": {
            i.token: request.build_absolute_uri(reverse("invitation_accept", args=[i.token]))
            for i in invitations
        },
        "add_form": extra.pop("add_form", MemberAddForm()),
        "roles": Role.choices,
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(
        request.user, slug, need="can_manage" if request.method == "POST" else "can_read"
    )
    template = "interventions/members.html"
    if request.method == "POST":
        form = MemberAddForm(request.POST)
        if form.is_valid():
            try:
                services.membership_add_by_username(study=access.study, **form.cleaned_data)
            except services.ServiceError as error:
                form.add_error("username", str(error))
            else:
                messages.success(request, _("Member added."))
                return redirect("members", slug=slug)
        return _refused(request, template, _members_context(access, request, add_form=form))
    return render(request, template, _members_context(access, request))


def _membership(access: StudyAccess, membership_id: int) -> Membership:
    return get_object_or_404(Membership, study=access.study, pk=membership_id)


@login_required
@require_POST
def member_set_role(request: HtmxHttpRequest, slug: str, membership_id: int) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_manage")
    membership = _membership(access, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return _refused(request, "interventions/members.html", _members_context(access, request))
    try:
        services.membership_set_role(membership=membership, role=form.cleaned_data["role"])
    except services.ServiceError as error:
        messages.error(request, str(error))
        return _refused(request, "interventions/members.html", _members_context(access, request))
    messages.success(request, _("Role changed."))
    return redirect("members", slug=slug)


@login_required
@require_POST
def member_remove(request: HtmxHttpRequest, slug: str, membership_id: int) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_manage")
    membership = _membership(access, membership_id)
    try:
        services.membership_remove(membership=membership)
    except services.ServiceError as error:
        messages.error(request, str(error))
        return _refused(request, "interventions/members.html", _members_context(access, request))
    messages.success(request, _("Member removed."))
    return redirect("members", slug=slug)


@login_required
@require_POST
def invitation_create(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_manage")
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role for the invitation."))
        return _refused(request, "interventions/members.html", _members_context(access, request))
    services.invitation_create(
        study=access.study, role=form.cleaned_data["role"], created_by=request.user
    )
    messages.success(request, _("Invitation link made: copy it and send it yourself."))
    return redirect("members", slug=slug)


@login_required
@require_POST
def invitation_revoke(request: HtmxHttpRequest, slug: str, token: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_manage")
    invitation = get_object_or_404(Invitation, study=access.study, token=token)
    services.invitation_revoke(invitation=invitation)
    messages.success(request, _("Invitation withdrawn."))
    return redirect("members", slug=slug)


@login_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HtmxHttpRequest, token: UUID) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.select_related("study"), token=token)
    if not invitation.is_open:
        return render(
            request,
            "interventions/invitation.html",
            {"invitation": invitation, "closed": True},
            status=410,
        )
    if request.method == "POST":
        try:
            services.invitation_accept(invitation=invitation, user=request.user)
        except services.ServiceError as error:
            messages.error(request, str(error))
            return redirect("home")
        messages.success(request, _("You joined “%(name)s”.") % {"name": invitation.study.name})
        return redirect("study_detail", slug=invitation.study.slug)
    return render(request, "interventions/invitation.html", {"invitation": invitation})


# Interventions -----------------------------------------------------------------------------


def _attribute_filters(
    request: HttpRequest, definitions: list[AttributeDefinition]
) -> dict[int, str]:
    chosen: dict[int, str] = {}
    for definition in definitions:
        value = request.GET.get(f"a{definition.pk}", "").strip()
        if value:
            chosen[definition.pk] = value
    return chosen


@login_required
@require_GET
def intervention_list(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    study = access.study
    definitions = list(study.attributes.all())
    query = request.GET.get("q", "").strip()
    chosen = _attribute_filters(request, definitions)
    interventions = study.interventions.all()
    if query:
        interventions = interventions.filter(
            Q(title__icontains=query) | Q(source__icontains=query) | Q(text__icontains=query)
        )
    for definition_id, value in chosen.items():
        interventions = interventions.filter(
            attribute_values__definition_id=definition_id, attribute_values__value=value
        )
    interventions = interventions.defer("text").prefetch_related(
        Prefetch(
            "attribute_values",
            queryset=AttributeValue.objects.only("intervention_id", "definition_id", "value"),
        )
    )
    options: dict[int, list[str]] = {d.pk: [] for d in definitions}
    for definition_id, value in (
        AttributeValue.objects.filter(definition__study=study)
        .values_list("definition_id", "value")
        .distinct()
        .order_by("value")
    ):
        options[definition_id].append(value)
    filterable = [d for d in definitions if 0 < len(options[d.pk]) <= 40]
    rows = []
    for intervention in interventions:
        by_definition = {v.definition_id: v.value for v in intervention.attribute_values.all()}
        rows.append(
            (
                intervention,
                [
                    services.show_attribute_value(d, by_definition.get(d.pk, ""), study.language)
                    for d in definitions
                ],
            )
        )
    context = {
        "access": access,
        "study": study,
        "definitions": definitions,
        "filterable": [(d, options[d.pk], chosen.get(d.pk, "")) for d in filterable],
        "rows": rows,
        "query": query,
        "n_total": study.interventions.count(),
    }
    template = "interventions/intervention_list.html"
    if request.htmx and request.htmx.target == "intervention-table":
        template += "#intervention-table"
    return render(request, template, context)


def _title_from_filename(filename: str) -> str:
    stem = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return stem.rsplit(".", 1)[0] if "." in stem else stem


@login_required
@require_http_methods(["GET", "POST"])
def intervention_create(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_manage")
    form = InterventionForm(request.POST or None, request.FILES or None)
    context = {"access": access, "study": access.study, "form": form}
    if request.method == "POST":
        if refuse_oversized(request, form, "file"):
            return _refused(request, "interventions/intervention_form.html", context)
        if form.is_valid():
            data = form.cleaned_data
            text, filename, title = data["text"], "", data["title"]
            headings: tuple[str, ...] = ()
            try:
                if data["file"]:
                    filename, raw = read_upload(data["file"])
                    document = extract_document(filename, raw)
                    text, headings = document.text, document.headings
                    title = title or _title_from_filename(filename)
                intervention = services.intervention_create(
                    study=access.study,
                    title=title,
                    text=text,
                    source=data["source"],
                    url=data["url"],
                    source_filename=filename,
                    headings=headings,
                )
            except (TextImportError, UploadTooLarge, services.ServiceError) as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("“%(title)s” added.") % {"title": intervention.title})
                return redirect("intervention_detail", slug=slug, uuid=intervention.uuid)
        return _refused(request, "interventions/intervention_form.html", context)
    return render(request, "interventions/intervention_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def intervention_upload(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Several files at once: all are read first, and nothing is stored unless all are good."""
    access = get_study_for_user(request.user, slug, need="can_manage")
    form = UploadForm(request.POST or None, request.FILES or None)
    context = {"access": access, "study": access.study, "form": form}
    if request.method == "POST":
        if refuse_oversized(request, form, "documents"):
            return _refused(request, "interventions/intervention_upload.html", context)
        if form.is_valid():
            try:
                files = [read_upload(upload) for upload in form.cleaned_data["documents"]]
                if textjobs.runs_as_job(files):
                    job = textjobs.text_import_start(
                        study=access.study,
                        actor=request.user,
                        files=files,
                        source=form.cleaned_data["source"],
                    )
                    return redirect("intervention_upload_status", slug=slug, job=job.uuid)
                texts = []
                headings: dict[str, tuple[str, ...]] = {}
                for filename, raw in files:
                    document = extract_document(filename, raw)
                    texts.append((filename, document.text))
                    headings[filename] = document.headings
                report = metadata.interventions_from_texts(
                    study=access.study,
                    texts=texts,
                    source=form.cleaned_data["source"],
                    headings=headings,
                )
            except (
                TextImportError,
                UploadTooLarge,
                services.ServiceError,
                metadata.MetadataError,
            ) as error:
                form.add_error("documents", str(error))
            else:
                messages.success(
                    request,
                    _("%(added)s added, %(updated)s updated.")
                    % {"added": report.added, "updated": report.updated},
                )
                return redirect("intervention_list", slug=slug)
        return _refused(request, "interventions/intervention_upload.html", context)
    return render(request, "interventions/intervention_upload.html", context)


@login_required
@require_GET
def intervention_upload_status(request: HtmxHttpRequest, slug: str, job: UUID) -> HttpResponseBase:
    """A big upload's progress; the fragment polls until the job is finished."""
    access = get_study_for_user(request.user, slug, need="can_manage")
    text_job = get_object_or_404(TextImportJob, study=access.study, uuid=job)
    job_revive(text_job)
    context = {"access": access, "study": access.study, "job": text_job}
    if not request.htmx:
        return render(request, "interventions/upload_job.html", context)
    response = render(request, "interventions/upload_job.html#upload-status", context)
    if text_job.is_finished:
        return HttpResponseStopPolling(response.content)
    return response


def _detail_context(access: StudyAccess, intervention: Intervention) -> dict[str, Any]:
    sections = list(intervention.sections.all())
    values = {v.definition_id: v.value for v in intervention.attribute_values.all()}
    definitions = list(access.study.attributes.all())
    return {
        "access": access,
        "study": access.study,
        "intervention": intervention,
        "blocks": _text_blocks(intervention.text, sections),
        "sections": sections,
        # Numbers and dates as the study's locale writes them (and reads them back on save).
        "attributes": [
            (d, services.show_attribute_value(d, values.get(d.pk, ""), access.study.language))
            for d in definitions
        ],
        "section_form": SectionAddForm(),
        # Each section with the lines it can be split at, for the owner's fixes.
        "section_rows": [
            (
                section,
                [
                    (offset, line if len(line) <= 60 else line[:59] + "…")
                    for offset, line in services.section_split_points(section, intervention.text)
                ],
                position + 1 < len(sections),
            )
            for position, section in enumerate(sections)
        ],
        "has_segments": services.intervention_has_segments(intervention),
        "versions": intervention.next_versions.all(),
    }


def _text_blocks(text: str, sections: list[Any]) -> list[dict[str, Any]]:
    """The text cut at section starts; each piece carries its code-point offset.

    A section's heading line is its own piece, so it can be styled while the page's text stays
    exactly the stored text.
    """
    blocks: list[dict[str, Any]] = []
    cursor = 0

    def add(start: int, end: int, section: Any) -> None:
        heading_end = start
        if section is not None and text.startswith(section.heading, start):
            heading_end = start + len(section.heading)
        blocks.append(
            {
                "offset": start,
                "section": section,
                "heading": text[start:heading_end],
                "body_offset": heading_end,
                "body": text[heading_end:end],
            }
        )

    for section in sorted(sections, key=lambda s: s.start):
        if section.start > cursor:
            add(cursor, section.start, None)
        add(section.start, section.end, section)
        cursor = max(cursor, section.end)
    if cursor < len(text):
        add(cursor, len(text), None)
    return blocks


@login_required
@require_GET
def intervention_detail(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid)
    return render(
        request, "interventions/intervention_detail.html", _detail_context(access, intervention)
    )


@login_required
@require_http_methods(["GET", "POST"])
def intervention_edit(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid, need="can_manage")
    initial = {
        "title": intervention.title,
        "source": intervention.source,
        "url": intervention.url,
        "text": intervention.text,
    }
    form = InterventionForm(request.POST or None, request.FILES or None, initial=initial)
    has_segments = services.intervention_has_segments(intervention)
    context = {
        "access": access,
        "study": access.study,
        "form": form,
        "intervention": intervention,
        "has_segments": has_segments,
    }
    if request.method == "POST":
        if refuse_oversized(request, form, "file"):
            return _refused(request, "interventions/intervention_edit.html", context)
        if form.is_valid():
            data = form.cleaned_data
            try:
                text: str | None = data["text"]
                filename = None
                headings: tuple[str, ...] = ()
                if data["file"]:
                    filename, raw = read_upload(data["file"])
                    document = extract_document(filename, raw)
                    text, headings = document.text, document.headings
                services.intervention_update(
                    intervention=intervention,
                    title=data["title"] or intervention.title,
                    source=data["source"],
                    url=data["url"],
                    text=text,
                    source_filename=filename,
                    headings=headings,
                )
            except (TextImportError, UploadTooLarge, services.ServiceError) as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Saved."))
                return redirect("intervention_detail", slug=slug, uuid=uuid)
        return _refused(request, "interventions/intervention_edit.html", context)
    return render(request, "interventions/intervention_edit.html", context)


@login_required
@require_POST
def intervention_new_version(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid, need="can_manage")
    try:
        copy = services.intervention_new_version(intervention=intervention)
    except services.ServiceError as error:
        messages.error(request, str(error))
        return redirect("intervention_detail", slug=slug, uuid=uuid)
    messages.success(
        request,
        _("New version “%(title)s” made; its text can be edited.") % {"title": copy.title},
    )
    return redirect("intervention_edit", slug=slug, uuid=copy.uuid)


@login_required
@require_POST
def intervention_delete(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid, need="can_manage")
    try:
        services.intervention_delete(intervention=intervention)
    except services.ServiceError as error:
        messages.error(request, str(error))
        return _refused(
            request,
            "interventions/intervention_detail.html",
            _detail_context(access, intervention),
        )
    messages.success(request, _("“%(title)s” deleted.") % {"title": intervention.title})
    return redirect("intervention_list", slug=slug)


@login_required
@require_POST
def intervention_attributes(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid, need="can_manage")
    definitions = list(access.study.attributes.all())
    values = [
        (d, request.POST.get(f"a{d.pk}", "")) for d in definitions if f"a{d.pk}" in request.POST
    ]
    template = "interventions/intervention_detail.html"
    try:
        services.attribute_values_set(intervention=intervention, values=values)
    except services.ServiceError as error:
        context = _detail_context(access, intervention)
        context["attribute_error"] = str(error)
        context["attributes"] = [
            (d, request.POST.get(f"a{d.pk}", v)) for d, v in context["attributes"]
        ]
        if request.htmx:
            template += "#attributes"
        return _refused(request, template, context)
    if request.htmx:
        context = _detail_context(access, intervention)
        context["attributes_saved"] = True
        return render(request, template + "#attributes", context)
    messages.success(request, _("Properties saved."))
    return redirect("intervention_detail", slug=slug, uuid=uuid)


@login_required
@require_POST
def sections_detect(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid, need="can_manage")
    sections = services.sections_detect(intervention=intervention)
    found = ngettext("%(n)s section found.", "%(n)s sections found.", len(sections))
    messages.success(request, found % {"n": len(sections)})
    return redirect("intervention_detail", slug=slug, uuid=uuid)


@login_required
@require_POST
def section_add(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid, need="can_manage")
    form = SectionAddForm(request.POST)
    if form.is_valid():
        try:
            services.section_add(intervention=intervention, heading=form.cleaned_data["heading"])
        except services.ServiceError as error:
            form.add_error("heading", str(error))
        else:
            messages.success(request, _("Section marked."))
            return redirect("intervention_detail", slug=slug, uuid=uuid)
    context = _detail_context(access, intervention)
    context["section_form"] = form
    return _refused(request, "interventions/intervention_detail.html", context)


@login_required
@require_POST
def section_toggle(
    request: HtmxHttpRequest, slug: str, uuid: UUID, section_id: int
) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid, need="can_manage")
    section = get_object_or_404(intervention.sections, pk=section_id)
    services.section_set_excluded(section=section, excluded=not section.excluded)
    if request.htmx:
        return render(
            request,
            "interventions/intervention_detail.html#sections",
            _detail_context(access, intervention),
        )
    return redirect("intervention_detail", slug=slug, uuid=uuid)


@login_required
@require_POST
def section_delete(
    request: HtmxHttpRequest, slug: str, uuid: UUID, section_id: int
) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid, need="can_manage")
    section = get_object_or_404(intervention.sections, pk=section_id)
    services.section_delete(section=section)
    messages.success(request, _("Section mark removed."))
    return redirect("intervention_detail", slug=slug, uuid=uuid)


def _section_fixed(
    request: HtmxHttpRequest,
    slug: str,
    uuid: UUID,
    section_id: int,
    change: Callable[[Section], object],
    done: str,
) -> HttpResponse:
    """One owner's fix to a section: the change, then the page; a refusal shows on the page."""
    access, intervention = get_intervention_for_user(request.user, slug, uuid, need="can_manage")
    section = get_object_or_404(intervention.sections, pk=section_id)
    try:
        change(section)
    except (services.ServiceError, ValidationError) as error:
        context = _detail_context(access, intervention)
        context["section_error"] = (
            error.messages[0] if isinstance(error, ValidationError) else str(error)
        )
        return _refused(request, "interventions/intervention_detail.html", context)
    messages.success(request, done)
    return redirect("intervention_detail", slug=slug, uuid=uuid)


@login_required
@require_POST
def section_merge(request: HtmxHttpRequest, slug: str, uuid: UUID, section_id: int) -> HttpResponse:
    return _section_fixed(
        request,
        slug,
        uuid,
        section_id,
        lambda section: services.section_merge(section=section),
        _("Sections merged."),
    )


@login_required
@require_POST
def section_split(request: HtmxHttpRequest, slug: str, uuid: UUID, section_id: int) -> HttpResponse:
    form = SectionSplitForm(request.POST)

    def split(section: Section) -> object:
        if not form.is_valid():
            raise ValidationError(_("Choose a line to split the section at."))
        return services.section_split(section=section, at=form.cleaned_data["at"])

    return _section_fixed(request, slug, uuid, section_id, split, _("Section split."))


@login_required
@require_POST
def section_rename(
    request: HtmxHttpRequest, slug: str, uuid: UUID, section_id: int
) -> HttpResponse:
    form = SectionRenameForm(request.POST)

    def rename(section: Section) -> object:
        if not form.is_valid():
            raise ValidationError(_("A section needs a heading."))
        return services.section_rename(section=section, heading=form.cleaned_data["heading"])

    return _section_fixed(request, slug, uuid, section_id, rename, _("Section renamed."))


# Attributes --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def attributes(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(
        request.user, slug, need="can_manage" if request.method == "POST" else "can_read"
    )
    form = AttributeDefinitionForm(request.POST or None)
    definitions = access.study.attributes.annotate(n_values=Count("values"))
    context = {"access": access, "study": access.study, "form": form, "definitions": definitions}
    if request.method == "POST":
        if form.is_valid():
            try:
                services.attribute_define(study=access.study, **form.cleaned_data)
            except services.ServiceError as error:
                form.add_error("name", str(error))
            else:
                messages.success(request, _("Attribute added."))
                return redirect("attributes", slug=slug)
        return _refused(request, "interventions/attributes.html", context)
    return render(request, "interventions/attributes.html", context)


@login_required
@require_POST
def attribute_delete(request: HtmxHttpRequest, slug: str, definition_id: int) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_manage")
    definition = get_object_or_404(AttributeDefinition, study=access.study, pk=definition_id)
    services.attribute_delete(definition=definition)
    messages.success(request, _("Attribute “%(name)s” deleted.") % {"name": definition.name})
    return redirect("attributes", slug=slug)


# Metadata import and export ----------------------------------------------------------------


def _job(access: StudyAccess, job: UUID) -> ImportJob:
    return get_object_or_404(ImportJob, study=access.study, uuid=job)


@login_required
@require_http_methods(["GET", "POST"])
def metadata_import(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_manage")
    form = MetadataUploadForm(request.POST or None, request.FILES or None)
    context = {"access": access, "study": access.study, "form": form}
    if request.method == "POST":
        if refuse_oversized(request, form, "file"):
            return _refused(request, "interventions/metadata_import.html", context)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                filename, raw = read_upload(upload)
                job = metadata.import_job_create(
                    study=access.study,
                    user=request.user,
                    filename=filename,
                    data=raw,
                    sheet=form.cleaned_data["sheet"],
                )
            except (TextImportError, UploadTooLarge, metadata.MetadataError) as error:
                form.add_error("file", str(error))
            else:
                return redirect("metadata_preview", slug=slug, job=job.uuid)
        return _refused(request, "interventions/metadata_import.html", context)
    return render(request, "interventions/metadata_import.html", context)


@login_required
@require_GET
def metadata_preview(request: HtmxHttpRequest, slug: str, job: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_manage")
    import_job = _job(access, job)
    job_revive(import_job)
    # Once confirmed, the page shows the job's outcome; a new dry run would only say "unchanged".
    preview = (
        metadata.preview_import(study=access.study, table=import_job.table)
        if import_job.status == ImportJob.Status.PREVIEW
        else None
    )
    context = {"access": access, "study": access.study, "job": import_job, "preview": preview}
    return render(request, "interventions/metadata_preview.html", context)


@login_required
@require_POST
def metadata_confirm(request: HtmxHttpRequest, slug: str, job: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_manage")
    import_job = _job(access, job)
    try:
        metadata.import_job_confirm(
            job=import_job, new_attributes=request.POST.getlist("new_attribute")
        )
    except metadata.MetadataError as error:
        messages.error(request, str(error))
        preview = metadata.preview_import(study=access.study, table=import_job.table)
        context = {"access": access, "study": access.study, "job": import_job, "preview": preview}
        return _refused(request, "interventions/metadata_preview.html", context)
    return redirect("metadata_preview", slug=slug, job=job)


@login_required
@require_GET
def metadata_status(request: HtmxHttpRequest, slug: str, job: UUID) -> HttpResponseBase:
    access = get_study_for_user(request.user, slug, need="can_manage")
    import_job = _job(access, job)
    job_revive(import_job)
    context = {"access": access, "study": access.study, "job": import_job}
    response = render(request, "interventions/metadata_preview.html#job-status", context)
    if import_job.is_finished:
        stop = HttpResponseStopPolling(response.content)
        return stop
    return response


@login_required
@require_GET
def metadata_export(request: HtmxHttpRequest, slug: str, fmt: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    content = metadata.export_table(study=access.study, fmt=fmt)
    content_type = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }[fmt]
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{access.study.slug}-interventies.{fmt}"'
    )
    return response
