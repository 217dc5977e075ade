"""The codebook editor, its history and named versions, imports and exports.

Shaped like `interventions.views`: fetch through an access helper (404 outsiders, 403 missing
right), validate with a form, call one service, render. Everyone in the study reads the codebook,
only the owner changes it, and the supervisor approves versions.

A tree action answers an htmx request with the `code-tree` partial plus out-of-band feedback (and
the editor where it changed), and answers a plain request with a redirect. A refusal answers 400
with the message beside the tree and changes nothing; an edit of a code that changed meanwhile
answers 409 with the user's own text kept next to the current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, Max, OuterRef
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from coding import sight
from coding.codebook import exports, imports, services
from coding.codebook.forms import (
    CodeAddForm,
    CodeForm,
    CodingStartedForm,
    CopyForm,
    ExportForm,
    ImportForm,
    MergeForm,
    MoveForm,
    MoveStepForm,
    TemplateForm,
    VersionForm,
)
from coding.codebook.outline import SEPARATOR, Outline, outline, short_paths
from coding.codebook.reading import read_codebook_file
from coding.codebook.tree import CodebookFormatError
from coding.codebook.versions import snapshot_diff
from coding.models import (
    Code,
    Codebook,
    CodebookImportJob,
    CodebookVersion,
    CodingEvent,
    CommentThread,
    ExportJob,
    Segment,
)
from coding.review import comments
from interventions.access import StudyAccess, get_study_for_user, members_who_code
from interventions.models import Membership
from veerkracht.jobs import job_revive
from veerkracht.lib.forms import form_error
from veerkracht.lib.http import HtmxHttpRequest
from veerkracht.lib.uploads import UploadTooLarge, read_upload, refuse_oversized

TEMPLATE = "coding/codebook/codebook.html"
ACTION_LABELS = {
    "code_create": gettext_lazy("added"),
    "code_update": gettext_lazy("edited"),
    "code_move": gettext_lazy("moved"),
    "code_delete": gettext_lazy("deleted"),
    "code_merge": gettext_lazy("merged"),
    "undo": gettext_lazy("undid"),
    "coding_started": gettext_lazy("started coding"),
    "coding_paused": gettext_lazy("set coding back to not started"),
    "version_create": gettext_lazy("saved a version"),
    "version_approve": gettext_lazy("approved a version"),
    "codebook_import": gettext_lazy("imported codes"),
}
# Segment events belong to one coder's blind coding; the codebook history leaves them out.
CODEBOOK_ACTIONS = tuple(ACTION_LABELS)
FIELD_LABELS = {
    name: getattr(Code._meta.get_field(name), "verbose_name", name) for name in services.CODE_FIELDS
}


# The tree ----------------------------------------------------------------------------------


def _tree(access: StudyAccess) -> Outline:
    # A blind coder must not learn how often others used a code: count visible layers only.
    counts = services.segment_counts(access.study, coder_ids=sight.visible_ids(access))
    return outline(services.codes_by_parent(access.study), totals=counts)


def _code(access: StudyAccess, uuid: UUID) -> Code:
    code = get_object_or_404(Code.objects.select_related("parent"), study=access.study, uuid=uuid)
    code.study = access.study  # loaded already; saves the services a query
    return code


def _code_or_none(access: StudyAccess, uuid: UUID | None) -> Code | None:
    """A code named in a form: None for "none chosen", CodebookError when it is gone."""
    if uuid is None:
        return None
    code = Code.objects.filter(study=access.study, uuid=uuid).first()
    if code is None:
        raise services.CodebookError(_("That code does not exist any more; reload the page."))
    return code


def _last_undoable(access: StudyAccess) -> CodingEvent | None:
    return (
        CodingEvent.objects.filter(
            study=access.study, action__in=services.UNDOABLE, undone_by__isnull=True
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def _describe(event: CodingEvent) -> str:
    """'edited “Doelen”' for the undo button and its message."""
    action = ACTION_LABELS.get(event.action, event.action)
    if event.code_name:
        return _("%(action)s “%(name)s”") % {"action": action, "name": event.code_name}
    return str(action)


def _editor_context(
    access: StudyAccess,
    tree: Outline,
    code: Code | None,
    *,
    code_form: CodeForm | None = None,
    conflict: Code | None = None,
) -> dict[str, Any]:
    if code is None:
        return {"selected": None}
    form = code_form or CodeForm.for_code(code)
    # Beside each field the user typed differently, the value saved meanwhile (on a conflict).
    fields = []
    for bound in form.visible_fields():
        current = None
        if conflict is not None:
            saved = getattr(conflict, bound.name)
            if str(bound.value() or "").strip() != str(saved).strip():
                current = saved
        fields.append((bound, current))
    others = tree.others(code) if access.can_edit_codebook else []
    return {
        "selected": code,
        "selected_node": tree.node(code),
        "code_form": form,
        "editor_fields": fields,
        "conflict": conflict,
        "move_options": others,
        "merge_options": others,
    }


def _context(
    request: HtmxHttpRequest,
    access: StudyAccess,
    *,
    selected: Code | None = None,
    code_form: CodeForm | None = None,
    conflict: Code | None = None,
    **extra: Any,
) -> dict[str, Any]:
    study = access.study
    tree = _tree(access)
    context: dict[str, Any] = {
        "access": access,
        "study": study,
        "tree": tree,
        "codebook": Codebook.objects.filter(study=study).first(),
        "export_form": ExportForm(),
        **_editor_context(access, tree, selected, code_form=code_form, conflict=conflict),
    }
    if access.can_edit_codebook:
        last = _last_undoable(access)
        context.update(
            last_undoable=_describe(last) if last else "",
            version_form=VersionForm(),
            import_form=ImportForm(),
            copy_sources=Membership.objects.filter(user=request.user)
            .exclude(study=study)
            .select_related("study")
            .order_by("study__name"),
            template_form=TemplateForm(),
        )
    context.update(extra)
    return context


def _tree_response(
    request: HtmxHttpRequest,
    access: StudyAccess,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
    editor: bool = False,
    selected: Code | None = None,
    affected: Code | None = None,
    merge_offer: Code | None = None,
    moved: tuple[Code, str] | None = None,
) -> HttpResponse:
    """The answer to a tree action: the tree and feedback for htmx, else a redirect or a page.

    `editor` re-renders the side panel with `selected`. `affected` is the code the action
    changed: when the side panel is editing it, the panel learns its new revision, so the
    user's own move does not count as someone else's change.
    """
    if not request.htmx and status < 400:
        if notice:
            messages.success(request, notice)
        if selected is not None:
            return redirect("code_detail", slug=access.study.slug, uuid=selected.uuid)
        return redirect("codebook", slug=access.study.slug)
    context = _context(
        request,
        access,
        selected=selected,
        notice=notice,
        error=error,
        merge_offer=merge_offer,
        moved_uuid=moved[0].uuid if moved else None,
        moved_direction=moved[1] if moved else "",
    )
    if merge_offer is not None:
        context["merge_offer_options"] = context["tree"].others(merge_offer)
    if not request.htmx:
        return render(request, TEMPLATE, context, status=status)
    editing = request.POST.get("editing", "")
    if affected is not None and not editor and str(affected.uuid) == editing:
        affected.refresh_from_db(fields=["revision"])
        context["revision_update"] = affected
    context["with_editor"] = editor
    return render(request, TEMPLATE + "#codebook-update", context, status=status)


# The page ----------------------------------------------------------------------------------


@login_required
@require_GET
def codebook(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    context = _context(request, access)
    if request.htmx and request.htmx.target == "code-tree":
        return render(request, TEMPLATE + "#code-tree", context)
    return render(request, TEMPLATE, context)


@login_required
@require_GET
def code_detail(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    # The code and whether anyone discussed it, in one query: most codes have no thread.
    discussed = CommentThread.objects.filter(
        study=access.study, target_kind=CommentThread.Target.CODE, target_uuid=OuterRef("uuid")
    )
    code = get_object_or_404(
        Code.objects.select_related("parent").annotate(discussed=Exists(discussed)),
        study=access.study,
        uuid=uuid,
    )
    threads: list[Any] = []
    if getattr(code, "discussed", False):
        threads = comments.threads_on(
            study=access.study,
            viewer=request.user,
            target_kind=CommentThread.Target.CODE,
            target_uuid=code.uuid,
        )
    discussion = {
        "threads": threads,
        "target": f"{CommentThread.Target.CODE}:{code.uuid}",
        "next": reverse("code_detail", args=[access.study.slug, code.uuid]),
    }
    if request.htmx and request.htmx.target == "code-editor":
        tree = _tree(access)
        context = {
            "access": access,
            "study": access.study,
            "discussion": discussion,
            **_editor_context(access, tree, code),
        }
        return render(request, TEMPLATE + "#code-editor", context)
    return render(
        request, TEMPLATE, _context(request, access, selected=code, discussion=discussion)
    )


# Outline actions ------------------------------------------------------------------------------


@login_required
@require_POST
def code_add(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    form = CodeAddForm(request.POST)
    if not form.is_valid():
        return _tree_response(request, access, error=form_error(form), status=400)
    try:
        parent = _code_or_none(access, form.cleaned_data["parent"])
        code = services.code_create(
            study=access.study, actor=request.user, name=form.cleaned_data["name"], parent=parent
        )
    except services.CodebookError as error:
        return _tree_response(request, access, error=str(error), status=400)
    notice = _("“%(name)s” added.") % {"name": code.name}
    return _tree_response(request, access, notice=notice, editor=True, selected=code)


@login_required
@require_POST
def code_edit(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    code = _code(access, uuid)
    form = CodeForm.for_code(code, request.POST)
    status, notice, conflict = 200, "", None
    if form.is_valid():
        changes = {k: v for k, v in form.cleaned_data.items() if k != "revision"}
        try:
            code = services.code_update(
                code=code, actor=request.user, revision=form.cleaned_data["revision"], **changes
            )
        except services.ConflictError as error:
            # Keep what the user typed; the next save is against the revision now shown.
            code.refresh_from_db()
            data = request.POST.copy()
            data["revision"] = str(code.revision)
            form = CodeForm.for_code(code, data)
            form.is_valid()
            form.add_error(None, str(error))
            status, conflict = 409, code
        except services.CodebookError as error:
            form.add_error(None, str(error))
            status = 400
        else:
            notice = _("“%(name)s” saved.") % {"name": code.name}
            if not request.htmx:
                messages.success(request, notice)
                return redirect("code_detail", slug=slug, uuid=code.uuid)
    else:
        status = 400
    # Once saved, a fresh form from the code carries its new revision to the next save.
    context = _context(
        request,
        access,
        selected=code,
        code_form=form if status != 200 else None,
        conflict=conflict,
        saved=notice,
    )
    if request.htmx:
        context["oob_tree"] = status == 200
        return render(request, TEMPLATE + "#editor-update", context, status=status)
    return render(request, TEMPLATE, context, status=status)


@login_required
@require_POST
def code_move_step(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    code = _code(access, uuid)
    form = MoveStepForm(request.POST)
    if not form.is_valid():
        return _tree_response(request, access, error=form_error(form), status=400)
    direction = form.cleaned_data["direction"]
    try:
        services.code_move_step(
            code=code,
            actor=request.user,
            direction=direction,
            revision=form.cleaned_data["revision"],
        )
    except services.ConflictError as error:
        return _tree_response(request, access, error=str(error), status=409)
    except services.CodebookError as error:
        return _tree_response(
            request, access, error=str(error), status=400, moved=(code, direction)
        )
    return _tree_response(
        request,
        access,
        notice=_("“%(name)s” moved.") % {"name": code.name},
        affected=code,
        moved=(code, direction),
    )


@login_required
@require_POST
def code_move(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    code = _code(access, uuid)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _tree_response(request, access, error=form_error(form), status=400)
    position = form.cleaned_data["position"]
    try:
        parent = _code_or_none(access, form.cleaned_data["parent"])
        services.code_move(
            code=code,
            actor=request.user,
            parent=parent,
            # The form counts from 1; the service from 0 and clamps "last" to the end.
            position=position - 1 if position else 10**6,
            revision=form.cleaned_data["revision"],
        )
    except services.ConflictError as error:
        return _tree_response(request, access, error=str(error), status=409)
    except services.CodebookError as error:
        return _tree_response(request, access, error=str(error), status=400)
    return _tree_response(
        request,
        access,
        notice=_("“%(name)s” moved.") % {"name": code.name},
        affected=code,
        moved=(code, "under"),
    )


@login_required
@require_POST
def code_merge(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    source = _code(access, uuid)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return _tree_response(request, access, error=form_error(form), status=400)
    try:
        target = _code_or_none(access, form.cleaned_data["target"])
        assert target is not None
        n_segments = source.segments.count()
        target = services.code_merge(source=source, target=target, actor=request.user)
    except services.CodebookError as error:
        return _tree_response(request, access, error=str(error), status=400)
    notice = ngettext(
        "“%(source)s” merged into “%(target)s”; %(n)s segment moved with it.",
        "“%(source)s” merged into “%(target)s”; %(n)s segments moved with it.",
        n_segments,
    ) % {"source": source.name, "target": target.name, "n": n_segments}
    return _tree_response(request, access, notice=notice, editor=True, selected=target)


@login_required
@require_POST
def code_delete(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    code = _code(access, uuid)
    try:
        services.code_delete(code=code, actor=request.user)
    except services.CodebookError as error:
        return _tree_response(request, access, error=str(error), status=400, merge_offer=code)
    notice = _("“%(name)s” deleted. “Undo last change” brings it back.") % {"name": code.name}
    return _tree_response(request, access, notice=notice, editor=True, selected=code.parent)


@login_required
@require_POST
def codebook_undo(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    try:
        event = services.codebook_undo(study=access.study, actor=request.user)
    except services.CodebookError as error:
        return _tree_response(request, access, error=str(error), status=400)
    notice = _("Undone: %(change)s.") % {"change": _describe(event)}
    code = (
        Code.objects.filter(study=access.study, uuid=event.code_uuid).first()
        if event.code_uuid
        else None
    )
    return _tree_response(request, access, notice=notice, editor=True, selected=code)


@login_required
@require_POST
def coding_started(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    form = CodingStartedForm(request.POST)
    form.is_valid()
    started = bool(form.cleaned_data.get("started"))
    codebook = services.coding_started_set(study=access.study, actor=request.user, started=started)
    if request.htmx:
        context = {"access": access, "study": access.study, "codebook": codebook}
        return render(request, TEMPLATE + "#coding-started", context)
    if started:
        messages.success(request, _("Coding has started: new codes are marked inductive."))
    else:
        messages.success(request, _("Coding is marked as not started."))
    return redirect("codebook", slug=slug)


# Import, copy, template --------------------------------------------------------------------


def _import_response(
    request: HtmxHttpRequest,
    access: StudyAccess,
    *,
    report: services.ImportReport | None = None,
    dropped: list[str] | None = None,
    error: str = "",
) -> HttpResponse:
    if not request.htmx and not error:
        assert report is not None
        messages.success(request, report.summary())
        if dropped:
            messages.warning(request, _("Not imported: %(items)s") % {"items": "; ".join(dropped)})
        return redirect("codebook", slug=access.study.slug)
    context = _context(
        request, access, import_report=report, import_dropped=dropped or [], import_error=error
    )
    status = 400 if error else 200
    if not request.htmx:
        return render(request, TEMPLATE, context, status=status)
    response = render(request, TEMPLATE + "#codebook-import", context, status=status)
    if not error:
        trigger_client_event(response, "codebookChanged")
    return response


@login_required
@require_POST
def codebook_import(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    form = ImportForm(request.POST, request.FILES)
    if refuse_oversized(request, form, "file") or not form.is_valid():
        return _import_response(request, access, error=form_error(form))
    try:
        filename, raw = read_upload(form.cleaned_data["file"])
        if imports.runs_as_job(raw):
            job = imports.codebook_import_start(
                study=access.study, actor=request.user, filename=filename, data=raw
            )
            return _redirect_htmx(request, "codebook_import_status", access.study.slug, job.uuid)
        nodes, dropped = read_codebook_file(filename, raw)
        report = services.codebook_import(study=access.study, actor=request.user, nodes=nodes)
    except (UploadTooLarge, CodebookFormatError, services.CodebookError) as error:
        return _import_response(request, access, error=str(error))
    return _import_response(request, access, report=report, dropped=dropped)


def _redirect_htmx(request: HtmxHttpRequest, name: str, *args: Any) -> HttpResponse:
    """A redirect that htmx follows as a whole page (HX-Redirect), a plain one otherwise."""
    url = reverse(name, args=args)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_GET
def codebook_import_status(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponseBase:
    """A big codebook import's progress; the fragment polls until the job is finished."""
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    job = get_object_or_404(CodebookImportJob, study=access.study, uuid=uuid)
    job_revive(job)
    context = {"access": access, "study": access.study, "job": job}
    if not request.htmx:
        return render(request, "coding/codebook/import_job.html", context)
    response = render(request, "coding/codebook/import_job.html#import-status", context)
    if job.is_finished:
        return HttpResponseStopPolling(response.content)
    return response


@login_required
@require_POST
def codebook_copy(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    form = CopyForm(request.POST)
    if not form.is_valid():
        return _import_response(request, access, error=form_error(form))
    source = get_study_for_user(request.user, form.cleaned_data["source"])
    try:
        report = services.codebook_copy(
            source=source.study, target=access.study, actor=request.user
        )
    except (CodebookFormatError, services.CodebookError) as error:
        return _import_response(request, access, error=str(error))
    return _import_response(request, access, report=report)


@login_required
@require_POST
def codebook_template(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    form = TemplateForm(request.POST)
    if not form.is_valid():
        return _import_response(request, access, error=form_error(form))
    try:
        report = services.codebook_apply_template(
            study=access.study, actor=request.user, template=form.cleaned_data["template"]
        )
    except (CodebookFormatError, services.CodebookError) as error:
        return _import_response(request, access, error=str(error))
    return _import_response(request, access, report=report)


# History -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


def _place(names: dict[str, str], parent: str | None, position: Any) -> str:
    where = names.get(parent, _("a deleted code")) if parent else _("top level")
    if isinstance(position, int):
        return _("%(where)s, place %(n)s") % {"where": where, "n": position + 1}
    return where


def _changes(
    event: CodingEvent,
    names: dict[str, str],
    coders: dict[str, int] | None = None,
    visible: set[int] | None = None,
) -> list[Change]:
    """`coders`: the coder of each segment UUID the events name; `visible`: the coders whose
    segments the viewer may see, so a merge counts only the segments the viewer may know of."""
    coders, visible = coders or {}, visible or set()
    before, after = event.before or {}, event.after or {}
    if event.action == "code_update":
        return [
            Change(str(FIELD_LABELS.get(k, k)), str(before.get(k, "")), str(after.get(k, "")))
            for k in after
        ]
    if event.action == "code_move":
        return [
            Change(
                _("place"),
                _place(names, before.get("parent"), before.get("position")),
                _place(names, after.get("parent"), after.get("position")),
            )
        ]
    if event.action == "code_create":
        return [Change(_("under"), "", _place(names, after.get("parent"), None))]
    if event.action == "code_delete":
        deleted = ", ".join(row.get("name", "") for row in before.get("subtree", []))
        return [Change(_("deleted"), deleted, "")]
    if event.action == "code_merge":
        n = sight.count_visible(
            [coders.get(uuid) for uuid in before.get("segments", [])]
            + [row.get("coder") for row in before.get("duplicates", [])],
            visible,
        )
        return [
            Change(_("merged"), str(after.get("source_name", "")), event.code_name),
            Change(_("segments moved"), "", str(n)),
        ]
    if event.action == "undo":
        undone = ACTION_LABELS.get(after.get("undid", ""), after.get("undid", ""))
        return [Change(_("undid"), "", str(undone))]
    if event.action in ("version_create", "version_approve"):
        return [Change(_("version"), "", f"v{after.get('number', '')} {after.get('label', '')}")]
    if event.action == "codebook_import":
        return [
            Change(_("added"), "", str(after.get("added", 0))),
            Change(_("changed"), "", str(after.get("changed", 0))),
        ]
    return []


@login_required
@require_GET
def codebook_history(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    events = CodingEvent.objects.filter(
        study=access.study, action__in=CODEBOOK_ACTIONS
    ).select_related("actor")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    names = {
        str(uuid): name
        for uuid, name in Code.objects.filter(study=access.study).values_list("uuid", "name")
    }
    merged = [
        uuid
        for event in page
        if event.action == "code_merge"
        for uuid in (event.before or {}).get("segments", [])
    ]
    coders = {
        str(uuid): coder
        for uuid, coder in Segment.objects.filter(uuid__in=merged).values_list("uuid", "coder_id")
    }
    visible = sight.visible_ids(access)
    short = _short_by_uuid(access.study)
    rows = [
        (
            event,
            ACTION_LABELS.get(event.action, event.action),
            _changes(event, names, coders, visible),
            _event_code_label(event, short),
        )
        for event in page
    ]
    context = {"access": access, "study": access.study, "page": page, "rows": rows}
    return render(request, "coding/codebook/history.html", context)


def _short_by_uuid(study: Any) -> dict[str, tuple[str, str]]:
    """Each code's name and short path (`outline.short_paths`) by its UUID."""
    paths = services.code_paths(study)
    short = short_paths(paths)
    uuids = Code.objects.filter(study=study).values_list("pk", "uuid")
    return {str(uuid): (paths[pk][-1], short[pk]) for pk, uuid in uuids if pk in paths}


def _event_code_label(event: CodingEvent, short: dict[str, tuple[str, str]]) -> str:
    """The code of a history row as pages name codes, by its shortest unambiguous path
    ("Sociale hulpbronnen › Inhoud"), as long as it still has the name the event recorded; a
    code deleted or renamed since keeps the name it had then."""
    name, label = short.get(str(event.code_uuid), ("", ""))
    return label if name and name == event.code_name else event.code_name


# Versions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodedAgainst:
    member: Membership
    last_segment_at: Any
    version: CodebookVersion | None


def _versions_context(access: StudyAccess, **extra: Any) -> dict[str, Any]:
    study = access.study
    versions = list(study.codebook_versions.select_related("created_by", "approved_by"))
    last_segment = dict(
        Segment.objects.filter(intervention__study=study)
        .values("coder")
        .annotate(last=Max("created_at"))
        .values_list("coder", "last")
    )
    coders = members_who_code(study).select_related("user")
    if not sight.sees_others_progress(access):
        # Whether and when another coder last coded tells a blind coder how far they are.
        coders = coders.filter(user=access.user)
    coded_against = []
    for member in coders.order_by("user__username"):
        last = last_segment.get(member.user_id)
        # Versions come newest first, so the first one made before the segment is the one.
        version = next((v for v in versions if last and v.created_at <= last), None)
        coded_against.append(CodedAgainst(member, last, version))
    return {
        "access": access,
        "study": study,
        "versions": versions,
        "coded_against": coded_against,
        "version_form": VersionForm(),
        **extra,
    }


@login_required
@require_GET
def versions(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    return render(request, "coding/codebook/versions.html", _versions_context(access))


@login_required
@require_POST
def version_create(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_edit_codebook")
    form = VersionForm(request.POST)
    if form.is_valid():
        try:
            version = services.version_create(
                study=access.study, actor=request.user, label=form.cleaned_data["label"]
            )
        except services.CodebookError as error:
            form.add_error("label", str(error))
        else:
            messages.success(
                request,
                _("Saved as version %(n)s, “%(label)s”.")
                % {"n": version.number, "label": version.label},
            )
            return redirect("codebook_versions", slug=slug)
    context = _versions_context(access, version_form=form)
    return render(request, "coding/codebook/versions.html", context, status=400)


def _snapshot(access: StudyAccess, value: str) -> tuple[str, list[dict[str, Any]]]:
    """("v2 label", snapshot) for a version number, or the live tree for "current"."""
    if value == "current":
        return _("the current codebook"), services.tree_snapshot(
            services.codebook_tree(access.study)
        )
    if not value.isdigit():
        raise Http404
    version = get_object_or_404(CodebookVersion, study=access.study, number=int(value))
    return f"v{version.number} {version.label}", version.snapshot


@login_required
@require_GET
def version_diff(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    a, b = request.GET.get("a", ""), request.GET.get("b", "")
    context: dict[str, Any] = {
        "access": access,
        "study": access.study,
        "versions": list(access.study.codebook_versions.all()),
        "a": a,
        "b": b,
    }
    if a and b:
        a_label, a_snapshot = _snapshot(access, a)
        b_label, b_snapshot = _snapshot(access, b)
        diff = snapshot_diff(a_snapshot, b_snapshot)
        context.update(
            a_label=a_label,
            b_label=b_label,
            diff=diff,
            changed=[
                (
                    item.path,
                    [(FIELD_LABELS.get(f.field, f.field), f.old, f.new) for f in item.fields],
                )
                for item in diff.changed
            ],
            separator=SEPARATOR,
        )
    return render(request, "coding/codebook/version_diff.html", context)


# Exports -----------------------------------------------------------------------------------


def _export_job(access: StudyAccess, uuid: UUID) -> ExportJob:
    # A project export holds the layers its owner may see: it has its own, stricter routes.
    return get_object_or_404(ExportJob, study=access.study, uuid=uuid, kind="codebook")


@login_required
@require_POST
def export_start(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    form = ExportForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            job = exports.export_start(
                study=access.study, actor=request.user, fmt=form.cleaned_data["fmt"]
            )
        except services.CodebookError as refusal:
            error = str(refusal)
        else:
            if request.htmx:
                context = {"access": access, "study": access.study, "job": job}
                return render(request, "coding/codebook/export.html#export-status", context)
            return redirect("export_status", slug=slug, uuid=job.uuid)
    else:
        error = form_error(form)
    context = {"access": access, "study": access.study, "job": None, "export_error": error}
    if request.htmx:
        return render(request, "coding/codebook/export.html#export-status", context, status=400)
    return render(request, "coding/codebook/export.html", context, status=400)


@login_required
@require_GET
def export_status(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponseBase:
    access = get_study_for_user(request.user, slug)
    job = _export_job(access, uuid)
    job_revive(job)
    context = {"access": access, "study": access.study, "job": job}
    if not request.htmx:
        return render(request, "coding/codebook/export.html", context)
    response = render(request, "coding/codebook/export.html#export-status", context)
    if job.is_finished:
        return HttpResponseStopPolling(response.content)
    return response


@login_required
@require_GET
def export_download(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    job = _export_job(access, uuid)
    if job.status != ExportJob.Status.DONE:
        raise Http404
    response = HttpResponse(bytes(job.content or b""), content_type=job.content_type)
    response["Content-Disposition"] = content_disposition_header(True, job.filename) or ""
    return response
