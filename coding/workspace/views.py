"""The coding workspace: coding a text by selection, a segment's actions, coding progress,
the blind-coding reveal and the code report.

Shaped like `coding.codebook.views`: fetch through an access helper (404 outsiders, 403 missing
right), validate with a form, call one service of `coding.segments`, render. Every member opens
the workspace; the owner and coders code, the supervisor reads. What a viewer sees of other
coders' layers is decided by `coding.segments` alone (`visible_coders`, `visible_segments`,
`segment_for_user`, `code_report`); the counts here only ever cover coders `visible_coders`
returned.

A change answers an htmx request with the chunks of text it touched (out-of-band, each row by
its id), the counts of the codes it changed and a line for the live region; the server is the
source of truth and the page shows what it stored. A refusal answers 400 with the message where
the user acted (the code picker or the segment panel) and stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import content_disposition_header, urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from coding import segments
from coding.analysis import report as analysis
from coding.codebook.services import codes_by_parent, paths_from
from coding.consensus import services as consensus
from coding.models import (
    Code,
    Codebook,
    CodingEvent,
    CommentThread,
    InterventionProgress,
    Segment,
)
from coding.review import comments
from coding.workspace import highlight
from interventions.access import StudyAccess, get_intervention_for_user, get_study_for_user
from interventions.models import AttributeDefinition, AttributeValue, Intervention, Role, Section
from interventions.views import HtmxHttpRequest

TEMPLATE = "coding/workspace/workspace.html"
PATH_SEPARATOR = " › "
EVENT_LABELS = {
    "segment_create": gettext_lazy("coded"),
    "segment_update_bounds": gettext_lazy("changed the boundaries"),
    "segment_set_memo": gettext_lazy("wrote the memo"),
    "segment_change_code": gettext_lazy("changed the code"),
    "segment_delete": gettext_lazy("removed the segment"),
}


# Forms ---------------------------------------------------------------------------------------


class UUIDListField(forms.Field):
    """Several UUIDs under one name (checkboxes); the empty list when none is sent."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": gettext_lazy("“%(value)s” is not a code.")}

    def to_python(self, value: Any) -> list[UUID]:
        uuids = []
        for item in value or []:
            try:
                uuids.append(UUID(str(item)))
            except ValueError:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid", params={"value": item}
                ) from None
        return uuids


class SpanForm(forms.Form):
    # The service checks the range and the quote, with messages that name the text.
    start = forms.IntegerField(label=gettext_lazy("Start"))
    end = forms.IntegerField(label=gettext_lazy("End"))
    quote = forms.CharField(label=gettext_lazy("Selected text"), strip=False)


class ApplyForm(SpanForm):
    codes = UUIDListField(label=gettext_lazy("Codes"), required=False)
    memo = forms.CharField(label=gettext_lazy("Memo"), required=False, strip=False)


class NewCodeForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name of the new code"), max_length=200)
    parent = forms.UUIDField(required=False)


class MemoForm(forms.Form):
    memo = forms.CharField(label=gettext_lazy("Memo"), required=False, strip=False)


class ChangeCodeForm(forms.Form):
    code = forms.UUIDField(label=gettext_lazy("Code"))


class DoneForm(forms.Form):
    done = forms.BooleanField(required=False)


class RevealPolicyForm(forms.Form):
    reveal = forms.ChoiceField(
        label=gettext_lazy("Showing coders' segments"), choices=Codebook.Reveal.choices
    )


def _form_error(form: forms.Form) -> str:
    for name, errors in form.errors.items():
        if name == "__all__" or name not in form.fields:
            return str(errors[0])
        return f"{form.fields[name].label}: {errors[0]}"
    return _("Check the form.")


# Who sees which layers --------------------------------------------------------------------


def initials(user: Any) -> str:
    """Two letters for a coder's margin label: from the full name, else the username."""
    names = [part for part in (user.first_name, user.last_name) if part]
    if len(names) == 2:
        return (names[0][0] + names[1][0]).upper()
    return (names[0] if names else user.username)[:2].upper()


@dataclass(frozen=True)
class Layer:
    user: Any
    shown: bool

    @property
    def initials(self) -> str:
        return initials(self.user)


@dataclass
class Viewing:
    """Who looks at which intervention, what they may do and which layers they have on."""

    access: StudyAccess
    intervention: Intervention
    viewer: Any
    coding: bool
    layers: list[Layer]

    @property
    def study(self) -> Any:
        return self.access.study

    @cached_property
    def children(self) -> dict[int | None, list[Code]]:
        """The codebook, loaded once per request for the tree, the picker and the paths."""
        return codes_by_parent(self.study)

    def codes(self, uuids: list[UUID]) -> list[Code]:
        """The codes of these UUIDs in this study's codebook, in the order asked."""
        found = {c.uuid: c for codes in self.children.values() for c in codes}
        missing = [uuid for uuid in uuids if uuid not in found]
        if missing:
            raise segments.SegmentError(
                _("One of the chosen codes is not in this study's codebook; reload the page.")
            )
        return [found[uuid] for uuid in uuids]

    @property
    def shown(self) -> list[int]:
        return [layer.user.pk for layer in self.layers if layer.shown]

    @property
    def several(self) -> bool:
        """More than one layer on: labels then name their coder."""
        return len(self.shown) > 1 or self.shown != [self.viewer.pk]


def _requested_layers(data: Any) -> list[int] | None:
    """Coder ids from `layers` (repeated or comma-separated); None when not sent at all."""
    if "layers" not in data:
        return None
    ids: list[int] = []
    for value in data.getlist("layers"):
        ids.extend(int(part) for part in value.split(",") if part.strip().isdigit())
    return ids


def _viewing(
    request: HtmxHttpRequest, access: StudyAccess, intervention: Intervention, *, own: bool = False
) -> Viewing:
    viewer = request.user
    intervention.study = access.study  # loaded already; saves the services a query
    # The role is on the membership already loaded; `segments.CODING_ROLES` is the rule.
    coding = access.role in segments.CODING_ROLES
    coders = segments.visible_coders(
        intervention_or_study=intervention, viewer=viewer, role=access.role
    )
    data = request.POST if request.method == "POST" else request.GET
    requested = _requested_layers(data)
    if requested is None:
        # A coder starts on their own layer; the supervisor, who has none, on all of them.
        requested = [viewer.pk] if coding else [user.pk for user in coders]
    if own:
        requested.append(viewer.pk)
    wanted = set(requested)
    layers = [Layer(user, user.pk in wanted) for user in coders]
    return Viewing(access, intervention, viewer, coding, layers)


def _segment(access: StudyAccess, viewer: Any, uuid: UUID | str) -> Segment:
    """The segment if this viewer may see it and it belongs to this study; 404 otherwise."""
    segment = segments.segment_for_user(viewer=viewer, uuid=uuid)
    if segment.intervention.study_id != access.study.pk:
        raise Http404
    return segment


def _own_segment(access: StudyAccess, viewer: Any, uuid: UUID) -> Segment:
    """A segment the viewer may change: 404 when hidden from them, 403 when someone else's."""
    segment = _segment(access, viewer, uuid)
    if segment.coder_id != viewer.pk or not segments.can_code(access.study, viewer):
        raise PermissionDenied
    return segment


# The text ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coded:
    """A segment as the page draws it: its span, code and coder, whether it has a memo."""

    uuid: str
    start: int
    end: int
    code_id: int
    coder_id: int
    memo: bool


@dataclass
class Row:
    """A chunk of text and its margin. Both are HTML built here rather than in the template:
    the text nodes of a chunk must spell exactly its slice of the text (the contract of
    offsets.js), which template whitespace would break, and a template loop over a thousand
    margin labels cost more than half the page's time (benchmarks/workspace.py)."""

    chunk: highlight.Chunk
    html: SafeString
    margin: SafeString

    @property
    def index(self) -> int:
        return self.chunk.index

    @property
    def start(self) -> int:
        return self.chunk.start

    @property
    def end(self) -> int:
        return self.chunk.end

    @property
    def excluded(self) -> bool:
        return self.chunk.bounds.excluded

    @property
    def opens_section(self) -> bool:
        return self.chunk.bounds.opens_section


@lru_cache(maxsize=256)
def _tint(color: str) -> str:
    return highlight.tint(color)


def _run_html(run: highlight.Run, lanes: dict[str, int]) -> str:
    body: str = escape(run.text)
    if run.heading:
        body = f'<span class="ws-heading">{body}</span>'
    if not run.marks:
        return body
    colors: dict[int, str] = {}
    for mark in run.marks:
        lane = lanes.get(mark.key, 0)
        if lane < highlight.MAX_LANES:
            colors.setdefault(lane, mark.color)
    depth = max(colors, default=0) + 1
    style = [f"--t:{_tint(run.marks[0].color)}", f"--n:{depth}"]
    style += [f"--l{lane}:{color}" for lane, color in sorted(colors.items())]
    keys = " ".join(mark.key for mark in run.marks)
    title = escape(", ".join(dict.fromkeys(mark.label for mark in run.marks)))
    return f'<mark data-segments="{keys}" style="{";".join(style)}" title="{title}">{body}</mark>'


def _sections(intervention: Intervention) -> list[highlight.SectionSpan]:
    return [
        highlight.SectionSpan(start, end, heading, excluded)
        for start, end, heading, excluded in Section.objects.filter(
            intervention=intervention
        ).values_list("start", "end", "heading", "excluded")
    ]


def _layer_segments(viewing: Viewing, lo: int | None = None, hi: int | None = None) -> list[Coded]:
    """The segments of the layers on (through `visible_segments`), `lo`..`hi` only if given."""
    found = segments.visible_segments(
        intervention=viewing.intervention,
        viewer=viewing.viewer,
        layers=viewing.shown,
        visible=[layer.user for layer in viewing.layers],
    )
    if lo is not None and hi is not None:
        found = found.filter(start__lt=hi, end__gt=lo)
    # Plain values: model instances for a thousand segments cost more than the rest together.
    rows = found.annotate(
        has_memo=ExpressionWrapper(~Q(memo=""), output_field=BooleanField())
    ).values_list("uuid", "start", "end", "code_id", "coder_id", "has_memo")
    return [Coded(str(u), s, e, code, coder, bool(memo)) for u, s, e, code, coder, memo in rows]


def _label_url(viewing: Viewing) -> tuple[str, str]:
    """The segment URL around its UUID, reversed once instead of once per label."""
    zero = str(UUID(int=0))
    url = reverse("segment_detail", args=[viewing.study.slug, zero])
    before, _zero, after = url.partition(zero)
    return before, after


def _rows(
    viewing: Viewing,
    sections: list[highlight.SectionSpan],
    found: list[Coded],
    tree: Tree,
    only: set[int] | None = None,
) -> list[Row]:
    text = viewing.intervention.text
    by_key = {item.uuid: item for item in found}
    unknown = highlight.DEFAULT_COLOR
    marks = []
    for item in found:
        node = tree.nodes.get(item.code_id)
        color, name = (node.swatch, node.code.name) if node else (unknown, "?")
        marks.append(highlight.Mark(item.uuid, item.start, item.end, color, name))
    coders = {
        layer.user.pk: (escape(layer.user.username), escape(layer.initials))
        for layer in viewing.layers
    }
    before, after = _label_url(viewing)
    memo_title = escape(_("has a memo"))
    memo_mark = (
        f' <span class="ws-memo-mark" title="{memo_title}" aria-label="{memo_title}">✎</span>'
    )
    viewer, several = viewing.viewer.pk, viewing.several
    rows = []
    for chunk in highlight.highlight(text, sections, marks, only=only):
        labels = []
        for mark in chunk.starting:
            item = by_key[mark.key]
            node = tree.nodes.get(item.code_id)
            path = escape(node.label if node else mark.label)
            coder, short = coders.get(item.coder_id, ("", ""))
            own = " is-own" if item.coder_id == viewer else ""
            who = (
                f' <span class="ws-initials" aria-label="{coder}">{short}</span>' if several else ""
            )
            labels.append(
                f'<a class="ws-label{own}" id="seg-{mark.key}" data-segment="{mark.key}" '
                f'style="--c:{mark.color}" href="{before}{mark.key}{after}" '
                f'title="{path} · {coder}"><span class="ws-label-name">{escape(mark.label)}</span>'
                f"{who}{memo_mark if item.memo else ''}</a>"
            )
        html = "".join(_run_html(run, chunk.lanes) for run in chunk.runs)
        rows.append(Row(chunk, mark_safe(html), mark_safe("".join(labels))))  # noqa: S308
    return rows


# The code tree -----------------------------------------------------------------------------


@dataclass
class TreeNode:
    code: Code
    level: int
    path: tuple[str, ...]
    here: int
    total: int
    children: list[TreeNode] = field(default_factory=list)

    @property
    def swatch(self) -> str:
        return highlight.safe_color(self.code.color)

    @property
    def label(self) -> str:
        return PATH_SEPARATOR.join(self.path)

    @property
    def search(self) -> str:
        return " ".join(self.path).casefold()

    @property
    def count_title(self) -> str:
        return _("%(here)s in this text, %(total)s in all texts") % {
            "here": self.here,
            "total": self.total,
        }


@dataclass
class Tree:
    roots: list[TreeNode]
    ordered: list[TreeNode]

    @cached_property
    def nodes(self) -> dict[int, TreeNode]:
        return {node.code.pk: node for node in self.ordered}


def _counts(viewing: Viewing, counted: set[int] | None) -> tuple[dict[int, int], dict[int, int]]:
    """Segments per code of the layers on, in this text and in the whole study, from one
    query; only of the `counted` codes when given."""
    if counted is not None and not counted:
        return {}, {}
    found = Segment.objects.filter(intervention__study=viewing.study, coder_id__in=viewing.shown)
    if counted is not None:
        found = found.filter(code_id__in=counted)
    rows = (
        found.order_by()
        .values("code_id")
        .annotate(here=Count("pk", filter=Q(intervention=viewing.intervention)), total=Count("pk"))
        .values_list("code_id", "here", "total")
    )
    here, totals = {}, {}
    for code_id, n_here, n_total in rows:
        here[code_id], totals[code_id] = n_here, n_total
    return here, totals


def _tree(viewing: Viewing, counted: set[int] | None = None) -> Tree:
    """The study's codes with two counts: segments in this text and in the whole study, both of
    the layers on (a coder's own only, unless others were revealed and turned on).

    `counted` limits the counts to those codes (the others show 0): what an update that
    changed only them sends."""
    children = viewing.children
    here, totals = _counts(viewing, counted)
    ordered: list[TreeNode] = []

    def build(parent_id: int | None, prefix: tuple[str, ...]) -> list[TreeNode]:
        nodes = []
        for code in children.get(parent_id, []):
            path = (*prefix, code.name)
            node = TreeNode(
                code, len(prefix) + 1, path, here.get(code.pk, 0), totals.get(code.pk, 0)
            )
            ordered.append(node)
            node.children = build(code.pk, path)
            nodes.append(node)
        return nodes

    roots = build(None, ())
    return Tree(roots, ordered)


# Rendering ---------------------------------------------------------------------------------


def _base_context(viewing: Viewing, tree: Tree) -> dict[str, Any]:
    return {
        "access": viewing.access,
        "study": viewing.study,
        "intervention": viewing.intervention,
        "viewing": viewing,
        "tree": tree,
    }


def _page_context(viewing: Viewing, **extra: Any) -> dict[str, Any]:
    intervention = viewing.intervention
    sections = _sections(intervention)
    found = _layer_segments(viewing)
    tree = _tree(viewing)
    context = _base_context(viewing, tree)
    previous, following = segments.coder_neighbours(intervention=intervention, coder=viewing.viewer)
    context.update(
        rows=_rows(viewing, sections, found, tree),
        n_segments=len(found),
        previous=previous,
        following=following,
        done=viewing.coding
        and InterventionProgress.objects.filter(
            intervention=intervention, coder=viewing.viewer
        ).exists(),
        layer_choice=len(viewing.layers) > 1,
        blind=_blind_note(viewing),
    )
    context.update(extra)
    return context


def _blind_note(viewing: Viewing) -> str:
    """What the page says about layers it does not show: "coder" while the coders code blind,
    "hidden" while the owner and supervisor wait for the reveal, "" when nothing is hidden."""
    if len(viewing.layers) > 1:
        return ""
    codebook = Codebook.objects.filter(study=viewing.study).only("reveal", "revealed_at").first()
    if codebook is not None and codebook.revealed_at is not None:
        return ""
    if viewing.access.role == Role.CODER:
        return "coder"
    if codebook is not None and codebook.reveal == Codebook.Reveal.AFTER_REVEAL:
        return "hidden"
    return ""


def _update(
    request: HtmxHttpRequest,
    viewing: Viewing,
    spans: list[tuple[int, int]],
    *,
    counted: set[int],
    status_text: str = "",
    template: str = "rows-update",
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """The rows of text `spans` touch, the counts of the `counted` codes and a live-region
    line, all out-of-band: only what the change touched, so a change on a long text answers
    as fast as on a short one."""
    intervention = viewing.intervention
    sections = _sections(intervention)
    bounds = highlight.chunk_bounds(intervention.text, sections)
    only = highlight.chunks_touching(bounds, spans)
    rows: list[Row] = []
    tree = _tree(viewing, counted)
    if only:
        lo = min(bounds[i].start for i in only)
        hi = max(bounds[i].end for i in only)
        rows = _rows(viewing, sections, _layer_segments(viewing, lo, hi), tree, only)
    context = _base_context(viewing, tree)
    context.update(
        rows=rows,
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
    viewing = _viewing(request, access, intervention)
    extra: dict[str, Any] = {}
    opened = request.GET.get("segment", "")
    if opened:
        segment = _segment(access, request.user, opened)
        extra.update(_panel_context(access, segment, viewing, viewer=request.user))
    context = _page_context(viewing, **extra)
    if request.htmx and request.htmx.target == "ws-text":
        return render(request, TEMPLATE + "#text-swap", context)
    return render(request, TEMPLATE, context)


def _picker_refusal(request: HtmxHttpRequest, viewing: Viewing, error: str) -> HttpResponse:
    if request.htmx:
        context = {"picker_error": error, "oob": True}
        return render(request, TEMPLATE + "#picker-error", context, status=400)
    return render(request, TEMPLATE, _page_context(viewing, picker_error=error), status=400)


@login_required
@require_POST
def segments_apply(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid)
    viewing = _viewing(request, access, intervention, own=True)
    if not viewing.coding:
        raise PermissionDenied
    form = ApplyForm(request.POST)
    if not form.is_valid():
        return _picker_refusal(request, viewing, _form_error(form))
    data = form.cleaned_data
    try:
        codes = viewing.codes(data["codes"])
        created = segments.segments_apply(
            intervention=intervention,
            coder=request.user,
            codes=codes,
            start=data["start"],
            end=data["end"],
            quote=data["quote"],
            memo=data["memo"],
            role=access.role,
            paths=paths_from(viewing.children),
        )
    except segments.SegmentError as error:
        return _picker_refusal(request, viewing, str(error))
    names = ", ".join(segment.code.name for segment in created)
    status_text = _("Coded: %(codes)s") % {"codes": names}
    if not request.htmx:
        messages.success(request, status_text)
        return redirect(_workspace_url(intervention, created[0]))
    response = _update(
        request,
        viewing,
        [(data["start"], data["end"])],
        counted={segment.code_id for segment in created},
        status_text=status_text,
    )
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
    access, intervention = get_intervention_for_user(request.user, slug, uuid)
    viewing = _viewing(request, access, intervention)
    if not viewing.coding:
        raise PermissionDenied
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
        error = _form_error(form)
    if code is None:
        if not request.htmx:
            messages.error(request, error)
            return redirect(_workspace_url(intervention))
        context = {"picker_new_error": error, "oob": True}
        return render(request, TEMPLATE + "#picker-new-error", context, status=400)
    if not request.htmx:
        messages.success(request, _("“%(name)s” added.") % {"name": code.name})
        return redirect(_workspace_url(intervention))
    tree = _tree(viewing)
    context = _base_context(viewing, tree)
    context["status_text"] = _("“%(name)s” added to the codebook.") % {"name": code.name}
    response = render(request, TEMPLATE + "#codes-update", context)
    return trigger_client_event(response, "codeCreated", {"uuid": str(code.uuid)}, after="swap")


@login_required
@require_POST
def workspace_progress(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = get_intervention_for_user(request.user, slug, uuid)
    if not segments.can_code(access.study, request.user):
        raise PermissionDenied
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
    viewer: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    children = codes_by_parent(access.study)
    paths = paths_from(children)
    editable = segment.coder_id == access.membership.user_id and access.role in (
        Role.OWNER,
        Role.CODER,
    )
    options = []
    if editable:
        stack = [(code, 1) for code in reversed(children.get(None, []))]
        while stack:
            code, level = stack.pop()
            options.append((code, PATH_SEPARATOR.join(paths.get(code.pk, (code.name,)))))
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
        "panel_discussion": discussion,
        "panel_path": PATH_SEPARATOR.join(paths.get(segment.code_id, (segment.code.name,))),
        "panel_editable": editable,
        "panel_options": options,
        "panel_history": _history(segment),
        "panel_color": highlight.safe_color(segment.code.color),
        **extra,
    }


@login_required
@require_GET
def segment_detail(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    segment = _segment(access, request.user, uuid)
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
    spans: list[tuple[int, int]],
    *,
    notice: str = "",
    error: str = "",
    deleted: bool = False,
    counted: set[int] | None = None,
) -> HttpResponse:
    """The answer to a segment action: its panel (or the refusal in it), the touched rows and
    the counts of the `counted` codes."""
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
    if deleted:
        extra: dict[str, Any] = {"panel": None, "panel_notice": notice}
    else:
        segment.refresh_from_db()
        extra = _panel_context(access, segment, viewer=request.user, panel_notice=notice)
    viewing = _viewing(request, access, intervention, own=True)
    return _update(
        request,
        viewing,
        spans,
        counted=counted or set(),
        status_text=notice,
        template="panel-update",
        **extra,
    )


@login_required
@require_POST
def segment_bounds(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    segment = _own_segment(access, request.user, uuid)
    old = (segment.start, segment.end)
    form = SpanForm(request.POST)
    if not form.is_valid():
        return _segment_change(request, access, segment, [], error=_form_error(form))
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
        return _segment_change(request, access, segment, [], error=str(error))
    return _segment_change(
        request,
        access,
        segment,
        [old, (data["start"], data["end"])],
        notice=_("Boundaries changed."),
    )


@login_required
@require_POST
def segment_code(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    segment = _own_segment(access, request.user, uuid)
    form = ChangeCodeForm(request.POST)
    spans = [(segment.start, segment.end)]
    old_code = segment.code_id
    if not form.is_valid():
        return _segment_change(request, access, segment, [], error=_form_error(form))
    try:
        (code,) = _codes_in_study(access, [form.cleaned_data["code"]])
        segments.segment_change_code(segment=segment, actor=request.user, code=code)
    except segments.SegmentError as error:
        return _segment_change(request, access, segment, [], error=str(error))
    notice = _("Code changed to “%(name)s”.") % {"name": code.name}
    counted = {old_code, code.pk}
    return _segment_change(request, access, segment, spans, notice=notice, counted=counted)


@login_required
@require_POST
def segment_memo(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    segment = _own_segment(access, request.user, uuid)
    form = MemoForm(request.POST)
    form.is_valid()
    try:
        segments.segment_set_memo(
            segment=segment, actor=request.user, memo=form.cleaned_data.get("memo", "")
        )
    except segments.SegmentError as error:
        return _segment_change(request, access, segment, [], error=str(error))
    # The label shows whether there is a memo: its row is re-rendered.
    spans = [(segment.start, segment.start + 1)]
    return _segment_change(request, access, segment, spans, notice=_("Memo saved."))


@login_required
@require_POST
def segment_delete(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    segment = _own_segment(access, request.user, uuid)
    spans = [(segment.start, segment.end)]
    try:
        segments.segment_delete(segment=segment, actor=request.user)
    except segments.SegmentError as error:
        return _segment_change(request, access, segment, [], error=str(error))
    notice = _("Segment “%(code)s” removed.") % {"code": segment.code.name}
    return _segment_change(
        request, access, segment, spans, notice=notice, deleted=True, counted={segment.code_id}
    )


# Progress and the reveal -------------------------------------------------------------------


@dataclass(frozen=True)
class CoderProgress:
    user: Any
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
    codebook = Codebook.objects.filter(study=study).first()
    revealed = codebook is not None and codebook.revealed_at is not None
    coder_ids = set(table)
    if access.role == Role.CODER and not revealed:
        coder_ids &= {request.user.pk}
    visible = {
        u.pk for u in segments.visible_coders(intervention_or_study=study, viewer=request.user)
    }
    # `visible_coders` lists only coders with segments; when the layers are open to this
    # viewer, a coder it leaves out has none, and shows 0 rather than "after the reveal".
    policy_open = codebook is None or codebook.reveal == Codebook.Reveal.ALWAYS
    layers_open = revealed or (access.role != Role.CODER and policy_open)
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
        "revealed": revealed,
        "policy_form": RevealPolicyForm(
            initial={"reveal": codebook.reveal if codebook else Codebook.Reveal.ALWAYS}
        ),
    }
    return render(request, "coding/workspace/progress.html", context)


@login_required
@require_POST
def reveal(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, manage=True)
    try:
        segments.reveal(study=access.study, actor=request.user)
    except segments.SegmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Revealed: everyone in the study now sees every coder's segments.")
        )
    return redirect("study_progress", slug=slug)


@login_required
@require_POST
def reveal_policy(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, manage=True)
    form = RevealPolicyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return redirect("study_progress", slug=slug)
    try:
        segments.reveal_policy_set(
            study=access.study, actor=request.user, policy=form.cleaned_data["reveal"]
        )
    except segments.SegmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Saved."))
    return redirect("study_progress", slug=slug)


# The code report ---------------------------------------------------------------------------


class ReportForm(forms.Form):
    code = forms.ChoiceField(label=gettext_lazy("Code"), required=False)
    subcodes = forms.BooleanField(label=gettext_lazy("With its subcodes"), required=False)
    coder = forms.TypedChoiceField(
        label=gettext_lazy("Coder"), required=False, coerce=int, empty_value=None
    )
    intervention = forms.ChoiceField(label=gettext_lazy("Intervention"), required=False)

    def __init__(
        self,
        data: Any,
        *,
        codes: list[tuple[str, str]],
        coders: list[Any],
        interventions: list[tuple[str, str]],
        attributes: list[tuple[AttributeDefinition, list[str]]],
        consensus_open: bool = False,
    ) -> None:
        # Without a chosen code the form is shown fresh, subcodes included.
        bound = data if data.get("code") else None
        super().__init__(bound, initial={"subcodes": True})
        if consensus_open:
            # Only for those who may read the consensus layer; for others a "source" in the
            # URL is ignored and the rows are the coders' segments.
            self.fields["source"] = forms.ChoiceField(
                label=_("Source"),
                required=False,
                choices=[
                    (analysis.CODERS, _("coders' segments")),
                    (analysis.CONSENSUS, _("consensus where reconciled")),
                ],
            )
        choices = {
            "code": [("", _("— choose a code —")), *codes],
            "coder": [("", _("all coders you can see"))]
            + [(str(user.pk), user.username) for user in coders],
            "intervention": [("", _("all interventions")), *interventions],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options
        self.attribute_fields = []
        for definition, values in attributes:
            name = f"a{definition.pk}"
            self.fields[name] = forms.ChoiceField(
                label=definition.name,
                required=False,
                choices=[("", _("all")), *((v, v) for v in values)],
            )
            self.attribute_fields.append(self[name])


def _report(request: HtmxHttpRequest, slug: str) -> dict[str, Any]:
    access = get_study_for_user(request.user, slug)
    study = access.study
    children = codes_by_parent(study)
    paths = paths_from(children)
    codes = []
    stack = list(reversed(children.get(None, [])))
    by_uuid: dict[str, Code] = {}
    while stack:
        code = stack.pop()
        by_uuid[str(code.uuid)] = code
        codes.append((str(code.uuid), PATH_SEPARATOR.join(paths[code.pk])))
        stack.extend(reversed(children.get(code.pk, [])))
    coders = segments.visible_coders(intervention_or_study=study, viewer=request.user)
    interventions = list(
        Intervention.objects.filter(study=study).order_by("title").values_list("uuid", "title")
    )
    definitions = list(AttributeDefinition.objects.filter(study=study))
    values: dict[int, list[str]] = {d.pk: [] for d in definitions}
    for definition_id, value in (
        AttributeValue.objects.filter(definition__study=study)
        .values_list("definition_id", "value")
        .distinct()
        .order_by("value")
    ):
        values[definition_id].append(value)
    form = ReportForm(
        request.GET,
        codes=codes,
        coders=coders,
        interventions=[(str(u), t) for u, t in interventions],
        attributes=[(d, values[d.pk]) for d in definitions if values[d.pk]],
        consensus_open=consensus.can_view_consensus(study, request.user),
    )
    context: dict[str, Any] = {"access": access, "study": study, "form": form, "rows": None}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        attributes = {d.pk: data[f"a{d.pk}"] for d in definitions if data.get(f"a{d.pk}")}
        intervention_id = None
        if data["intervention"]:
            intervention_id = (
                Intervention.objects.filter(study=study, uuid=data["intervention"])
                .values_list("pk", flat=True)
                .first()
            )
        filters: dict[str, Any] = {
            "study": study,
            "viewer": request.user,
            "code": by_uuid[data["code"]],
            "include_subcodes": data["subcodes"],
            "coder_id": data["coder"],
            "intervention_id": intervention_id,
            "attributes": attributes,
        }
        if data.get("source") == analysis.CONSENSUS:
            rows: list[analysis.SourcedRow] = analysis.consensus_report(**filters)
            reconciled = len(consensus.consensus_coded_ids(study))
            source_note = ngettext(
                "Rows from the consensus layer for the %(n)s intervention reconciled; "
                "coders' segments elsewhere.",
                "Rows from the consensus layer for the %(n)s interventions reconciled; "
                "coders' segments elsewhere.",
                reconciled,
            ) % {"n": reconciled}
        else:
            rows = analysis.with_source(segments.code_report(**filters))
            source_note = _("Rows from the coders' segments.")
        ids = {user.username: user.pk for user in coders}
        context.update(
            rows=rows,
            source_note=source_note,
            code=by_uuid[data["code"]],
            layer_of={name: ("" if pk == request.user.pk else pk) for name, pk in ids.items()},
            query=request.GET.urlencode(),
        )
    elif form.is_bound:
        context["report_error"] = _form_error(form)
    return context


def _report_rows_html(slug: str, rows: list[analysis.SourcedRow], layer_of: dict[str, Any]) -> str:
    """The report's table rows. Built here, not in the template: a report easily lists two
    thousand segments, and the template loop took most of its time (benchmarks/workspace.py)."""
    memo_label = escape(_("Memo:"))
    consensus_label = escape(_("consensus"))
    bases: dict[UUID, str] = {}
    html = []
    for row in rows:
        base = bases.get(row.intervention_uuid)
        if base is None:
            base = bases[row.intervention_uuid] = reverse(
                "workspace", args=[slug, row.intervention_uuid]
            )
        from_consensus = row.source == analysis.CONSENSUS
        layer = "" if from_consensus else layer_of.get(row.coder, "")
        query = f"?layers={layer}" if layer else ""
        coder = consensus_label if from_consensus else escape(row.coder)
        memo = f'<p class="report-memo">{memo_label} {escape(row.memo)}</p>' if row.memo else ""
        html.append(
            f'<tr><td class="report-quote"><span class="context">{escape(row.before)}</span>'
            f"<mark>{escape(row.quote)}</mark>"
            f'<span class="context">{escape(row.after)}</span>{memo}</td>'
            f"<td>{escape(row.code_path)}</td><td>{coder}</td>"
            f'<td><a href="{base}{query}#seg-{row.segment_uuid}">'
            f"{escape(row.intervention_title)}</a></td></tr>"
        )
    return "".join(html)


@login_required
@require_GET
def code_report(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    context = _report(request, slug)
    rows = context.get("rows")
    if rows is not None:
        html = _report_rows_html(slug, rows, context["layer_of"])
        context["rows_html"] = mark_safe(html)  # noqa: S308 - every value is escaped above
    status = 400 if context.get("report_error") else 200
    return render(request, "coding/analysis/code_report.html", context, status=status)


_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@login_required
@require_GET
def code_report_export(request: HtmxHttpRequest, slug: str, fmt: str) -> HttpResponse:
    if fmt not in _FORMATS:
        raise Http404
    context = _report(request, slug)
    if context.get("rows") is None:
        status = 400
        context.setdefault("report_error", _("Choose a code for the report first."))
        return render(request, "coding/analysis/code_report.html", context, status=status)
    content = analysis.report_export(context["rows"], fmt)
    name = slugify(context["code"].name) or "code"
    filename = f"{context['study'].slug}-{name}.{fmt}"
    response = HttpResponse(content, content_type=_FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response
