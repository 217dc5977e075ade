"""Reconciliation pages: the study's progress towards a consensus, and one intervention's items.

Shaped like `coding.agreement.views`: fetch through an access helper (404 outsiders), check the
right in `coding.sight` (`layers_open` to read, `may_reconcile` to decide; 403 when missing),
validate with a form, call one service (`decide`, `accept_agreed`, `undecide`), render. A
refused step (`ConsensusError`) answers 400 with its message and stores nothing. An htmx request
gets the changed item back, with the progress swapped out of band; a plain form post is
redirected to the item."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from coding import sight
from coding.agreement.metrics import ALPHA_RELIABLE, ALPHA_TENTATIVE
from coding.agreement.reliability import UNITS
from coding.codebook.outline import display_path
from coding.codebook.services import code_paths
from coding.consensus.forms import UNIT_LABELS, DecideForm, ItemForm, NoteForm, UnitForm
from coding.consensus.services import (
    ConsensusError,
    Edit,
    Item,
    agreement_against_consensus,
    consensus_accept_agreed,
    consensus_decide,
    consensus_segments,
    consensus_undecide,
    orphaned_decisions,
    reconciliation_items,
    reconciliation_progress_for_study,
)
from coding.models import Code, ConsensusDecision, ConsensusSegment, Segment
from interventions.access import StudyAccess, get_intervention_for_user, get_study_for_user
from interventions.models import Intervention, Membership, Section
from interventions.places import Place, place_of
from veerkracht.lib.forms import form_error
from veerkracht.lib.http import HtmxHttpRequest

TEMPLATE = "coding/consensus/intervention.html"
OVERVIEW_TEMPLATE = "coding/consensus/overview.html"


def _reader(user: User, slug: str) -> StudyAccess:
    access = get_study_for_user(user, slug)
    if not sight.layers_open(access):
        raise PermissionDenied
    return access


def _intervention(user: User, slug: str, uuid: UUID) -> tuple[StudyAccess, Intervention]:
    access, intervention = get_intervention_for_user(user, slug, uuid)
    intervention.study = access.study
    if not sight.layers_open(access):
        raise PermissionDenied
    return access, intervention


def _reconciler(user: User, slug: str, uuid: UUID) -> tuple[StudyAccess, Intervention]:
    access, intervention = get_intervention_for_user(user, slug, uuid, need="can_reconcile")
    intervention.study = access.study
    if not sight.may_reconcile(access):
        raise PermissionDenied
    return access, intervention


# The overview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressRow:
    intervention: Intervention
    decided: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.decided / self.total) if self.total else 0

    @property
    def done(self) -> bool:
        return self.total > 0 and self.decided == self.total


@dataclass(frozen=True)
class CoderRow:
    coder: str
    n_units: int
    percent: str
    alpha: str
    alpha_css: str
    alpha_reason: str


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}".replace("0.", ".", 1)


def _alpha_css(value: float | None) -> str:
    if value is None:
        return "not-computable"
    if value >= ALPHA_RELIABLE:
        return "alpha-reliable"
    return "alpha-tentative" if value >= ALPHA_TENTATIVE else "alpha-low"


def _coder_rows(result: dict[str, Any]) -> list[CoderRow]:
    rows = []
    key = "brennan_prediger_kappa" if result["unit"] == "segment" else "krippendorff_alpha"
    for coder, report in result["coders"].items():
        overall = report.get("overall") or {}
        percent = overall.get("percent_agreement")
        alpha = overall.get(key)
        reason = (overall.get("reasons") or {}).get(key) or ""
        rows.append(
            CoderRow(
                coder=coder,
                n_units=int(overall.get("n_units") or 0),
                percent="—" if percent is None else f"{100 * percent:.1f}%",
                alpha=_figure(alpha),
                alpha_css=_alpha_css(alpha),
                alpha_reason=_(reason) if reason else "",
            )
        )
    return rows


@login_required
@require_GET
def overview(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = _reader(request.user, slug)
    study = access.study
    form = UnitForm(request.GET)
    status = 200
    unit = "intervention"
    if form.is_valid():
        unit = form.cleaned_data["unit"] or unit
    else:
        status = 400
    members = Membership.objects.filter(study=study).values("user_id")
    double_coded = set(
        Segment.objects.filter(intervention__study=study, coder_id__in=members)
        .values("intervention_id")
        .annotate(n=Count("coder_id", distinct=True))
        .filter(n__gte=2)
        .values_list("intervention_id", flat=True)
    )
    progress = reconciliation_progress_for_study(study)
    interventions = Intervention.objects.filter(study=study, pk__in=double_coded).order_by("title")
    rows = [ProgressRow(i, *progress.get(i.pk, (0, 0))) for i in interventions]
    context: dict[str, Any] = {
        "study": study,
        "access": access,
        "rows": rows,
        "decided": sum(r.decided for r in rows),
        "total": sum(r.total for r in rows),
        "form": form,
        "unit": unit,
        "unit_label": UNIT_LABELS[unit],
        "units": [(u, UNIT_LABELS[u]) for u in UNITS],
        # Agreement figures are the owner's and the supervisor's, as on the agreement pages.
        "show_agreement": access.sees_agreement,
        "can_reconcile": sight.may_reconcile(access),
    }
    if context["show_agreement"] and status == 200:
        result = agreement_against_consensus(study=study, unit=unit)
        context["n_consensus"] = result["n_consensus_interventions"]
        context["coder_rows"] = _coder_rows(result)
        context["alpha_label"] = (
            _("Brennan–Prediger κ") if unit == "segment" else _("Krippendorff's α")
        )
    return render(request, OVERVIEW_TEMPLATE, context, status=status)


# One intervention ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    uuid: str
    coder: str
    code: str
    quote: str
    url: str


@dataclass
class Column:
    coder: User
    versions: list[Version]


@dataclass
class ItemView:
    item: Item
    number: int
    columns: list[Column]
    context: list[Version]
    result: list[Version] = field(default_factory=list)
    edit_code: str = ""
    # Where the passage starts, as a reader finds it: section and paragraph.
    place: Place | None = None

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def takes(self) -> list[Column]:
        """The coders whose version can be taken: those with a segment here."""
        return [c for c in self.columns if c.versions]


@dataclass
class Page:
    access: StudyAccess
    intervention: Intervention
    items: list[ItemView]
    orphans: list[tuple[ConsensusDecision, list[Version]]]
    codes: list[tuple[str, str]]
    can_reconcile: bool
    can_replace: bool

    @property
    def decided(self) -> int:
        return sum(v.item.is_decided for v in self.items)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def percent(self) -> int:
        return round(100 * self.decided / self.total) if self.total else 0

    @property
    def n_disagreements(self) -> int:
        return sum(not v.item.is_agreed for v in self.items)

    @property
    def n_agreed_open(self) -> int:
        return sum(v.item.is_agreed and not v.item.is_decided for v in self.items)

    def item(self, key: str) -> ItemView | None:
        return next((v for v in self.items if v.key == key), None)


def _path(paths: dict[int, tuple[str, ...]], code: Code) -> str:
    return display_path(paths.get(code.pk, (code.name,)))


def _page(access: StudyAccess, intervention: Intervention, viewer: User) -> Page:
    """Everything the consensus view of one intervention shows, from a fixed number of
    queries whatever the number of items."""
    items = reconciliation_items(intervention=intervention, viewer=viewer)
    study = access.study
    paths = code_paths(study)
    # Every item has a column per coder taking part: the layers to turn on in the workspace.
    layers = ",".join(str(coder.pk) for coder, _segments in items[0].versions) if items else ""
    base = reverse("workspace", args=[study.slug, intervention.uuid])

    def version(segment: Segment) -> Version:
        query = urlencode({"layers": layers, "segment": segment.uuid})
        return Version(
            uuid=str(segment.uuid),
            coder=segment.coder.username,
            code=_path(paths, segment.code),
            quote=segment.quote,
            url=f"{base}?{query}#seg-{segment.uuid}",
        )

    sections = list(
        Section.objects.filter(intervention=intervention).only("start", "end", "heading")
    )
    results: dict[int, list[Version]] = defaultdict(list)
    for s in consensus_segments(intervention):
        results[s.decision_id].append(_result(paths, s))
    views = []
    for number, item in enumerate(items, start=1):
        first = item.segments[0] if item.segments else None
        views.append(
            ItemView(
                item=item,
                number=number,
                columns=[
                    Column(coder, [version(s) for s in segments])
                    for coder, segments in item.versions
                ],
                context=[version(s) for s in item.context],
                result=results.get(item.decision.pk, []) if item.decision else [],
                edit_code=str(first.code.uuid) if first else "",
                place=place_of(intervention.text, sections, item.start),
            )
        )
    orphans = [
        (d, results.get(d.pk, []))
        for d in orphaned_decisions(intervention=intervention, items=items)
    ]
    uuids = dict(Code.objects.filter(study=study).values_list("pk", "uuid"))
    codes = sorted(
        ((str(uuids[pk]), display_path(path)) for pk, path in paths.items() if pk in uuids),
        key=lambda c: c[1].lower(),
    )
    reconciler = sight.may_reconcile(access)
    return Page(
        access=access,
        intervention=intervention,
        items=views,
        orphans=orphans,
        codes=codes,
        can_reconcile=reconciler,
        can_replace=reconciler and access.can_overrule,
    )


def _result(paths: dict[int, tuple[str, ...]], s: ConsensusSegment) -> Version:
    return Version(str(s.uuid), "", _path(paths, s.code), s.quote, "")


def _context(page: Page, **extra: Any) -> dict[str, Any]:
    return {
        "study": page.access.study,
        "access": page.access,
        "intervention": page.intervention,
        "page": page,
        "actions": ConsensusDecision.Action,
        **extra,
    }


@login_required
@require_GET
def intervention_consensus(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = _intervention(request.user, slug, uuid)
    page = _page(access, intervention, request.user)
    return render(request, TEMPLATE, _context(page))


def _answer(
    request: HtmxHttpRequest,
    access: StudyAccess,
    intervention: Intervention,
    *,
    key: str = "",
    error: str = "",
) -> HttpResponse:
    """After a step (or its refusal): the item for htmx, the whole list when the item is gone
    or the request asked for it, a redirect for a plain form post."""
    status = 400 if error else 200
    url = reverse("consensus_intervention", args=[access.study.slug, intervention.uuid])
    if not request.htmx and not error:
        return redirect(f"{url}#item-{key}" if key else url)
    page = _page(access, intervention, request.user)
    view = page.item(key) if key else None
    # The message goes to its item when the item is on the page, else to the top.
    error_item = view.key if view is not None else ""
    if not request.htmx:
        context = _context(page, error=error, error_item=error_item)
        return render(request, TEMPLATE, context, status=status)
    if view is None or request.htmx.target == "consensus-body":
        context = _context(page, error=error, error_item=error_item)
        return render(request, TEMPLATE + "#consensus-body", context, status=status)
    context = _context(page, view=view, error=error, error_item=error_item, oob=True)
    return render(request, TEMPLATE + "#item-with-progress", context, status=status)


@login_required
@require_POST
def decide_item(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = _reconciler(request.user, slug, uuid)
    form = DecideForm(request.POST)
    if not form.is_valid():
        key = request.POST.get("item", "")[:64]
        return _answer(request, access, intervention, key=key, error=form_error(form))
    data = form.cleaned_data
    edit = None
    if data["action"] == ConsensusDecision.Action.EDIT:
        code = Code.objects.filter(study=access.study, uuid=data["code"]).first()
        edit = Edit(code, data["start"], data["end"])  # type: ignore[arg-type]
    try:
        consensus_decide(
            intervention=intervention,
            actor=request.user,
            item_key=data["item"],
            action=data["action"],
            take_segment=data["take"],
            edit=edit,
            note=data["note"],
            replace=data["replace"],
        )
    except ConsensusError as error:
        return _answer(request, access, intervention, key=data["item"], error=str(error))
    return _answer(request, access, intervention, key=data["item"])


@login_required
@require_POST
def undo_item(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = _reconciler(request.user, slug, uuid)
    form = ItemForm(request.POST)
    if not form.is_valid():
        return _answer(request, access, intervention, error=form_error(form))
    key = form.cleaned_data["item"]
    try:
        consensus_undecide(intervention=intervention, actor=request.user, item_key=key)
    except ConsensusError as error:
        return _answer(request, access, intervention, key=key, error=str(error))
    return _answer(request, access, intervention, key=key)


@login_required
@require_POST
def accept_agreed(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, intervention = _reconciler(request.user, slug, uuid)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _answer(request, access, intervention, error=form_error(form))
    try:
        consensus_accept_agreed(
            intervention=intervention, actor=request.user, note=form.cleaned_data["note"]
        )
    except ConsensusError as error:
        return _answer(request, access, intervention, error=str(error))
    return _answer(request, access, intervention)
