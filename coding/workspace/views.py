"""The coding workspace: coding a text by selection, a segment's actions, coding progress,
the blind-coding reveal.

Shaped like `coding.codebook.views`: fetch through an access helper (404 outsiders, 403 missing
right), validate with a form, call one service of `coding.segments`, render. Every member opens
the workspace; those who `can_code` (the owner and coders) code, the supervisor reads. What a
viewer sees of other coders' layers is decided by `coding.sight` alone (`visible_coders`,
`visible_segments`, `segment_for_user`, `blind_note`); the counts here only ever cover coders
`visible_coders` returned.

The page sends the text once, in chunks, and the visible segments as data that the browser
paints (`workspace/render.py`). A change answers an htmx request with the segments it stored
or removed as data (out-of-band, `#ws-update`), the counts of the codes it changed and a line
for the live region; the server is the source of truth and the page paints what it stored. A
refusal answers 400 with the message where the user acted (the code picker or the segment
panel) and stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from coding import segments, sight
from coding.codebook import services as codebook_services
from coding.codebook.outline import Outline, OutlineNode, display_path
from coding.codebook.services import codes_by_parent, paths_from
from coding.codebook.tree import safe_color
from coding.models import (
    Code,
    CodingEvent,
    CommentThread,
    InterventionProgress,
    Segment,
)
from coding.review import comments
from coding.workspace.forms import (
    ApplyForm,
    ChangeCodeForm,
    DoneForm,
    MemoForm,
    NewCodeForm,
    RevealPolicyForm,
    SpanForm,
)
from coding.workspace.render import (
    code_tree,
    data_script,
    layer_segments,
    page_data,
    sections_of,
    text_rows,
    update_data,
)
from coding.workspace.viewing import (
    Viewing,
    chosen_codes,
    own_segment,
    requested_layers,
    viewing_for,
)
from coding.workspace.walk import walk_for
from interventions.access import (
    StudyAccess,
    get_intervention_for_request,
    get_intervention_for_user,
    get_study_for_user,
)
from interventions.models import Intervention
from interventions.places import place_of
from veerkracht.lib.forms import form_error
from veerkracht.lib.http import HtmxHttpRequest

TEMPLATE = "coding/workspace/workspace.html"
EVENT_LABELS = {
    "segment_create": gettext_lazy("coded"),
    "segment_update_bounds": gettext_lazy("changed the boundaries"),
    "segment_set_memo": gettext_lazy("wrote the memo"),
    "segment_change_code": gettext_lazy("changed the code"),
    "segment_delete": gettext_lazy("removed the segment"),
}


# Rendering ---------------------------------------------------------------------------------


def _base_context(viewing: Viewing, tree: Outline) -> dict[str, Any]:
    return {
        "access": viewing.access,
        "study": viewing.study,
        "intervention": viewing.intervention,
        "viewing": viewing,
        "tree": tree,
    }


def _page_context(viewing: Viewing, **extra: Any) -> dict[str, Any]:
    intervention = viewing.intervention
    found = layer_segments(viewing)
    tree = code_tree(viewing)
    context = _base_context(viewing, tree)
    walk = walk_for(intervention=intervention, coder=viewing.viewer)
    context.update(
        rows=text_rows(intervention.text, sections_of(intervention)),
        ws_data=data_script(page_data(viewing, found, tree), "ws-data"),
        n_segments=len(found),
        walk=walk,
        previous=walk.previous,
        following=walk.following,
        done=viewing.coding
        and InterventionProgress.objects.filter(
            intervention=intervention, coder=viewing.viewer
        ).exists(),
        # A supervisor has no layer of their own: even one coder's layer is theirs to switch.
        layer_choice=len(viewing.layers) > 1 or (not viewing.coding and bool(viewing.layers)),
        blind=sight.blind_note(viewing.access, n_layers=len(viewing.layers)),
    )
    context.update(extra)
    return context


def _update(
    request: HtmxHttpRequest,
    viewing: Viewing,
    *,
    add: list[Segment] | None = None,
    remove: list[Segment] | None = None,
    counted: set[int],
    status_text: str = "",
    template: str = "data-update",
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """The segments a change stored (`add`) or removed (`remove`) as data for the page to
    paint, the counts of the `counted` codes and a live-region line, all out-of-band: only
    what the change touched, so a change on a long text answers as fast as on a short one."""
    tree = code_tree(viewing, counted)
    context = _base_context(viewing, tree)
    context.update(
        ws_update=data_script(update_data(tree, add=add, remove=remove), "ws-update-data"),
        count_nodes=[tree.nodes[pk] for pk in sorted(counted) if pk in tree.nodes],
        status_text=status_text,
        **extra,
    )
    return render(request, f"{TEMPLATE}#{template}", context, status=status)


def _workspace_url(intervention: Intervention, anchor: Segment | None = None, **query: Any) -> str:
    """The workspace, with `query` parameters, scrolled to the `anchor` segment."""
    url = reverse("workspace", args=[intervention.study.slug, intervention.uuid])
    params = urlencode({key: value for key, value in query.items() if value})
    if params:
        url += "?" + params
    if anchor is not None:
        url += f"#seg-{anchor.uuid}"
    return url


def _codes_in_study(access: StudyAccess, uuids: list[UUID]) -> list[Code]:
    found = {c.uuid: c for c in Code.objects.filter(study=access.study, uuid__in=set(uuids))}
    if len(found) != len(set(uuids)):
        raise segments.SegmentError(
            _("One of the chosen codes is not in this study's codebook; reload the page.")
        )
    return [found[uuid] for uuid in uuids]


# The workspace -----------------------------------------------------------------------------


@login_required
@require_GET
def workspace(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid)
    viewing = viewing_for(request, access, intervention)
    extra: dict[str, Any] = {}
    opened = request.GET.get("segment", "")
    if opened:
        segment = sight.segment_for_user(viewer=request.user, uuid=opened, access=access)
        extra.update(_panel_context(access, segment, viewing, viewer=request.user))
    if request.htmx and request.htmx.target == "ws-data":
        # The layers changed: the same text, other segments, other counts.
        tree = code_tree(viewing)
        context = _base_context(viewing, tree)
        context["ws_data"] = data_script(
            page_data(viewing, layer_segments(viewing), tree), "ws-data"
        )
        return render(request, TEMPLATE + "#data-swap", context)
    return render(request, TEMPLATE, _page_context(viewing, **extra))


def _picker_refusal(
    request: HtmxHttpRequest, access: StudyAccess, intervention: Intervention, error: str
) -> HttpResponse:
    if request.htmx:
        context = {"picker_error": error, "oob": True}
        return render(request, TEMPLATE + "#picker-error", context, status=400)
    viewing = viewing_for(request, access, intervention)
    return render(request, TEMPLATE, _page_context(viewing, picker_error=error), status=400)


@require_POST
def segments_apply(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    """Code the selection; the answer sends the stored segments as data with the counts of
    their codes. The most frequent request of all, so it reads only what it needs: the user
    with the access, the chosen codes' paths, and under the write's lock the span's characters
    (never the whole text) and the counts."""
    # Not @login_required: the signed-in user is read with the access, a query less; nobody
    # signed in is sent to the login page all the same.
    found = get_intervention_for_request(request, slug, uuid, need="can_code", text=False)
    if found is None:
        return redirect_to_login(request.get_full_path())
    access, intervention = found
    intervention.study = access.study  # loaded already; saves the service a query
    form = ApplyForm(request.POST)
    if not form.is_valid():
        return _picker_refusal(request, access, intervention, form_error(form))
    data = form.cleaned_data
    try:
        codes, paths, short = chosen_codes(access.study, data["codes"])
        applied = segments.segments_apply_counted(
            intervention=intervention,
            coder=request.user,
            codes=codes,
            start=data["start"],
            end=data["end"],
            quote=data["quote"],
            memo=data["memo"],
            access=access,
            paths=paths,
            counted=sight.counted_coders(access, requested_layers(request.POST) or []),
        )
    except segments.SegmentError as error:
        return _picker_refusal(request, access, intervention, str(error))
    created = applied.segments
    names = ", ".join(short[segment.code_id] for segment in created)
    status_text = _("Coded: %(codes)s") % {"codes": names}
    if not request.htmx:
        messages.success(request, status_text)
        return redirect(_workspace_url(intervention, created[0]))
    # The applied codes as the code tree shows them, with their counts: the rest of the tree
    # did not change.
    nodes = []
    for pk, segment in sorted({s.code_id: s for s in created}.items()):
        here, total = applied.counts[pk]
        nodes.append(OutlineNode(segment.code, len(paths[pk]), paths[pk], total=total, here=here))
    context = {
        "ws_update": data_script(
            update_data(Outline([], nodes, given_short_labels=short), add=created),
            "ws-update-data",
        ),
        "count_nodes": nodes,
        "status_text": status_text,
    }
    response = render(request, f"{TEMPLATE}#data-update", context)
    trigger_client_event(
        response,
        "codeApplied",
        {"codes": [str(segment.code.uuid) for segment in created]},
        after="swap",
    )
    return response


@login_required
@require_POST
def workspace_code_create(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    """A new code made in the picker: inductive, then ticked there for the selection."""
    access, intervention = get_intervention_for_user(request.user, slug, uuid, need="can_code")
    viewing = viewing_for(request, access, intervention)
    form = NewCodeForm(request.POST)
    error = ""
    code = None
    if form.is_valid():
        try:
            parent = None
            if form.cleaned_data["parent"]:
                (parent,) = _codes_in_study(access, [form.cleaned_data["parent"]])
            code = segments.code_create_from_picker(
                study=access.study,
                actor=request.user,
                name=form.cleaned_data["name"],
                parent=parent,
            )
        except segments.SegmentError as refusal:
            error = str(refusal)
    else:
        error = form_error(form)
    if code is None:
        if not request.htmx:
            messages.error(request, error)
            return redirect(_workspace_url(intervention))
        context = {"picker_new_error": error, "oob": True}
        return render(request, TEMPLATE + "#picker-new-error", context, status=400)
    if not request.htmx:
        messages.success(request, _("“%(name)s” added.") % {"name": code.name})
        return redirect(_workspace_url(intervention))
    tree = code_tree(viewing)
    context = _base_context(viewing, tree)
    context["status_text"] = _("“%(name)s” added to the codebook.") % {"name": code.name}
    response = render(request, TEMPLATE + "#codes-update", context)
    return trigger_client_event(response, "codeCreated", {"uuid": str(code.uuid)}, after="swap")


@login_required
@require_POST
def workspace_progress(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid, need="can_code")
    form = DoneForm(request.POST)
    form.is_valid()
    done = bool(form.cleaned_data.get("done"))
    segments.progress_set(intervention=intervention, coder=request.user, done=done)
    if not request.htmx:
        return redirect(_workspace_url(intervention))
    context = {
        "study": access.study,
        "intervention": intervention,
        "done": done,
        "oob": False,
        "status_text": _("Marked as done.") if done else _("Marked as not done."),
    }
    return render(request, TEMPLATE + "#progress-update", context)


# A segment's actions -----------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    event: CodingEvent
    label: str
    changes: list[tuple[str, str, str]]


def _history(segment: Segment) -> list[HistoryRow]:
    rows = []
    events = CodingEvent.objects.filter(segment_uuid=segment.uuid).select_related("actor")
    for event in events.order_by("created_at", "pk"):
        before, after = event.before or {}, event.after or {}
        changes: list[tuple[str, str, str]] = []
        if event.action == "segment_create":
            changes = [(_("code"), "", str(after.get("code", "")))]
            if after.get("memo"):
                changes.append((_("memo"), "", str(after["memo"])))
        elif event.action == "segment_update_bounds":
            changes = [(_("text"), str(before.get("quote", "")), str(after.get("quote", "")))]
        elif event.action == "segment_set_memo":
            changes = [(_("memo"), str(before.get("memo", "")), str(after.get("memo", "")))]
        elif event.action == "segment_change_code":
            changes = [(_("code"), str(before.get("code", "")), str(after.get("code", "")))]
        rows.append(HistoryRow(event, str(EVENT_LABELS.get(event.action, event.action)), changes))
    return rows


def _panel_context(
    access: StudyAccess,
    segment: Segment,
    viewing: Viewing | None = None,
    *,
    viewer: User | None = None,
    **extra: Any,
) -> dict[str, Any]:
    children = codes_by_parent(access.study)
    paths = paths_from(children)
    editable = segment.coder_id == access.user.pk and access.can_code
    options = []
    if editable:
        stack = [(code, 1) for code in reversed(children.get(None, []))]
        while stack:
            code, level = stack.pop()
            options.append((code, display_path(paths.get(code.pk, (code.name,)))))
            stack.extend((child, level + 1) for child in reversed(children.get(code.pk, [])))
    viewer_id = access.membership.user_id
    layers = segment.coder_id if segment.coder_id != viewer_id else ""
    discussion = {
        "threads": comments.threads_on(
            study=access.study,
            viewer=viewer if viewer is not None else access.membership.user,
            target_kind=CommentThread.Target.SEGMENT,
            target_uuid=segment.uuid,
        ),
        "target": f"{CommentThread.Target.SEGMENT}:{segment.uuid}",
        "next": _workspace_url(segment.intervention, segment, segment=segment.uuid, layers=layers),
    }
    return {
        "panel": segment,
        "panel_place": place_of(
            segment.intervention.text, sections_of(segment.intervention), segment.start
        ),
        "panel_discussion": discussion,
        "panel_path": display_path(paths.get(segment.code_id, (segment.code.name,))),
        "panel_editable": editable,
        "panel_options": options,
        "panel_history": _history(segment),
        "panel_color": safe_color(segment.code.color),
        **extra,
    }


@login_required
@require_GET
def segment_detail(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    segment = sight.segment_for_user(viewer=request.user, uuid=uuid, access=access)
    if not request.htmx:
        layers = segment.coder_id if segment.coder_id != request.user.pk else ""
        return redirect(
            _workspace_url(segment.intervention, segment, segment=segment.uuid, layers=layers)
        )
    context = {
        "study": access.study,
        "access": access,
        **_panel_context(access, segment, viewer=request.user),
    }
    return render(request, TEMPLATE + "#segment-panel", context)


def _segment_change(
    request: HtmxHttpRequest,
    access: StudyAccess,
    segment: Segment,
    *,
    notice: str = "",
    error: str = "",
    deleted: bool = False,
    counted: set[int] | None = None,
) -> HttpResponse:
    """The answer to a segment action: its panel (or the refusal in it), the segment as it is
    now (or its removal) for the page to paint, and the counts of the `counted` codes."""
    intervention = segment.intervention
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        return redirect(_workspace_url(intervention, None if deleted else segment))
    if error:
        context = {
            "study": access.study,
            "access": access,
            **_panel_context(access, segment, viewer=request.user, panel_error=error),
        }
        return render(request, TEMPLATE + "#segment-panel", context, status=400)
    changes: dict[str, Any]
    if deleted:
        extra: dict[str, Any] = {"panel": None, "panel_notice": notice}
        changes = {"remove": [segment]}
    else:
        segment.refresh_from_db()
        extra = _panel_context(access, segment, viewer=request.user, panel_notice=notice)
        changes = {"add": [segment]}
    viewing = viewing_for(request, access, intervention, own=True)
    return _update(
        request,
        viewing,
        **changes,
        counted=counted or set(),
        status_text=notice,
        template="panel-update",
        **extra,
    )


@login_required
@require_POST
def segment_bounds(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    segment = own_segment(access, uuid)
    form = SpanForm(request.POST)
    if not form.is_valid():
        return _segment_change(request, access, segment, error=form_error(form))
    data = form.cleaned_data
    try:
        segments.segment_update_bounds(
            segment=segment,
            actor=request.user,
            start=data["start"],
            end=data["end"],
            quote=data["quote"],
        )
    except segments.SegmentError as error:
        return _segment_change(request, access, segment, error=str(error))
    return _segment_change(request, access, segment, notice=_("Boundaries changed."))


@login_required
@require_POST
def segment_code(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    segment = own_segment(access, uuid)
    form = ChangeCodeForm(request.POST)
    old_code = segment.code_id
    if not form.is_valid():
        return _segment_change(request, access, segment, error=form_error(form))
    try:
        (code,) = _codes_in_study(access, [form.cleaned_data["code"]])
        segments.segment_change_code(segment=segment, actor=request.user, code=code)
    except segments.SegmentError as error:
        return _segment_change(request, access, segment, error=str(error))
    name = codebook_services.short_code_paths(access.study).get(code.pk, code.name)
    notice = _("Code changed to “%(name)s”.") % {"name": name}
    counted = {old_code, code.pk}
    return _segment_change(request, access, segment, notice=notice, counted=counted)


@login_required
@require_POST
def segment_memo(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    segment = own_segment(access, uuid)
    form = MemoForm(request.POST)
    form.is_valid()
    try:
        segments.segment_set_memo(
            segment=segment, actor=request.user, memo=form.cleaned_data.get("memo", "")
        )
    except segments.SegmentError as error:
        return _segment_change(request, access, segment, error=str(error))
    # The label shows whether there is a memo: the segment is sent again.
    return _segment_change(request, access, segment, notice=_("Memo saved."))


@login_required
@require_POST
def segment_delete(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    segment = own_segment(access, uuid)
    try:
        segments.segment_delete(segment=segment, actor=request.user)
    except segments.SegmentError as error:
        return _segment_change(request, access, segment, error=str(error))
    name = codebook_services.short_code_paths(access.study).get(segment.code_id, segment.code.name)
    notice = _("Segment “%(code)s” removed.") % {"code": name}
    return _segment_change(
        request, access, segment, notice=notice, deleted=True, counted={segment.code_id}
    )


# Progress and the reveal -------------------------------------------------------------------


@dataclass(frozen=True)
class CoderProgress:
    user: User
    done: int
    total: int
    segments: int | None  # None: hidden from this viewer until the reveal
    marks: list[bool]

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@login_required
@require_GET
def study_progress(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    study = access.study
    table = segments.progress_for_study(study)
    codebook = sight.reveal_state(study)
    coder_ids = set(table)
    others = sight.sees_others_progress(access, codebook=codebook)
    if not others:
        coder_ids &= {request.user.pk}
    visible = {u.pk for u in sight.visible_coders(access, codebook=codebook)}
    # `visible_coders` lists only coders with segments; when the layers are open to this
    # viewer, a coder it leaves out has none, and shows 0 rather than "after the reveal".
    layers_open = sight.layers_open(access, codebook=codebook)
    counts = dict(
        Segment.objects.filter(intervention__study=study, coder_id__in=visible & coder_ids)
        .order_by()
        .values("coder_id")
        .annotate(n=Count("pk"))
        .values_list("coder_id", "n")
    )
    interventions = list(
        Intervention.objects.filter(study=study).only("pk", "uuid", "title").order_by("title")
    )
    users = access.study.memberships.filter(user_id__in=coder_ids).select_related("user")
    rows = []
    for membership in sorted(users, key=lambda m: m.user.username):
        marks = [table[membership.user_id].get(i.pk, False) for i in interventions]
        rows.append(
            CoderProgress(
                user=membership.user,
                done=sum(marks),
                total=len(interventions),
                segments=counts.get(membership.user_id, 0)
                if membership.user_id in visible or layers_open
                else None,
                marks=marks,
            )
        )
    matrix = [(i, [row.marks[n] for row in rows]) for n, i in enumerate(interventions)]
    context = {
        "access": access,
        "study": study,
        "rows": rows,
        "matrix": matrix,
        "codebook": codebook,
        "revealed": codebook.is_revealed,
        "own_progress_only": not others,
        "policy_form": RevealPolicyForm(initial={"reveal": codebook.reveal}),
    }
    return render(request, "coding/workspace/progress.html", context)


@login_required
@require_POST
def reveal(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_reveal")
    try:
        codebook_services.codebook_reveal(study=access.study, actor=request.user)
    except codebook_services.CodebookError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Revealed: everyone in the study now sees every coder's segments.")
        )
    return redirect("study_progress", slug=slug)


@login_required
@require_POST
def reveal_policy(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_reveal")
    form = RevealPolicyForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error(form))
        return redirect("study_progress", slug=slug)
    try:
        codebook_services.codebook_reveal_policy_set(
            study=access.study, actor=request.user, policy=form.cleaned_data["reveal"]
        )
    except codebook_services.CodebookError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Saved."))
    return redirect("study_progress", slug=slug)
