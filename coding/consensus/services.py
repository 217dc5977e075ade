"""Reconciliation: the coders' segments side by side, decisions, and the consensus layer.

The items of an intervention
    The segments of every coder who takes part (has segments in the intervention, or has it
    assigned) are grouped into items. Segments that match across coders (same code, overlap of
    at least 90% of the longer one, `agreement.segment_matches`) join one item; an item with
    exactly one segment of every taking-part coder is "agreed". Every other segment is part of
    a "disagreement" item, joined with the segment of each other coder that overlaps it most
    (also not agreed), so "A said X here, B said Y" is one item to decide. A disagreement item
    carries the agreed segments it overlaps as `context`, for reading only. Disagreements come
    first, then agreed items, each in text order.

Decisions
    For an item the team takes one coder's version (all that coder's segments in the item),
    keeps every version, drops it, or writes an edited segment. The result goes to the
    consensus layer (`ConsensusSegment`, owned by its `ConsensusDecision`) with who decided,
    when and an optional note, and a `CodingEvent` records it. An item is named by a hash of
    its segments' UUIDs, so a decision stays with its item as long as the coders' segments of
    it do; when a coder adds or removes one, the item is new and undecided again, and the old
    decision is listed by `orphaned_decisions` to be undone.

Who
    The layers must be open to the viewer (`coding.sight.layers_open`): a coder after the
    reveal, the owner and supervisor when the reveal policy is "always" or after the reveal.
    Those who `can_reconcile` (the owner and the coders) decide; the supervisor reads along but
    never changes coding; a blind coder cannot even read the items. The owner may replace a
    decision or undo anyone's (`can_overrule`), a coder only their own.

Writes lock the intervention's row, so two people reconciling one intervention at once are
serialized: both decisions are kept, and a second decision on one item is refused with the
name of who made the first.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any
from uuid import UUID

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from coding import sight
from coding.agreement import metrics as agreement
from coding.agreement.assignments import assigned_ids
from coding.agreement.reliability import ReliabilityInput, SegInfo, compute
from coding.agreement.runs import code_infos, coders_of, doc_infos
from coding.codebook.services import code_paths
from coding.codebook.tree import path_string
from coding.models import (
    Assignment,
    Code,
    CodingEvent,
    ConsensusDecision,
    ConsensusSegment,
    Segment,
)
from coding.segments import SegmentError, check_span
from interventions.access import StudyAccess, access_for
from interventions.models import Intervention, Membership, Study

MIN_OVERLAP = 0.9
NOTE_MAX_LENGTH = 5_000
# The pseudo-coder whose layer is the consensus, in agreement figures.
CONSENSUS = "consensus"
AGREED = "agreed"
DISAGREEMENT = "disagreement"


class ConsensusError(ValueError):
    """A refused reconciliation step; str(error) is the message for the user."""


# Who ------------------------------------------------------------------------------------


def require_consensus_view(study: Study, viewer: User) -> StudyAccess:
    access = access_for(study, viewer)
    if access is None or not sight.layers_open(access):
        raise ConsensusError(
            _(
                "The consensus view shows every coder's segments, so it opens only when the "
                "coders' layers are revealed to you."
            )
        )
    return access


def _require_reconcile(study: Study, actor: User) -> StudyAccess:
    access = access_for(study, actor)
    if access is None:
        raise ConsensusError(_("Only the study's owner and coders reconcile its coding."))
    if not access.can_reconcile:
        raise ConsensusError(
            _("A supervisor reads along and comments, but does not change the coding.")
        )
    if not sight.layers_open(access):
        raise ConsensusError(
            _("Reconciling needs every coder's segments; it starts once they are revealed.")
        )
    return access


# Items ----------------------------------------------------------------------------------


def item_key(segment_uuids: Iterable[Any]) -> str:
    """The stable name of the item made of these segments, whatever their order."""
    joined = ",".join(sorted(str(u) for u in segment_uuids))
    return hashlib.sha256(joined.encode()).hexdigest()


@dataclass
class Item:
    """One passage to decide: the segments of it, per coder, and the decision if made."""

    key: str
    kind: str  # AGREED or DISAGREEMENT
    segments: list[Segment]
    # (coder, their segments here) for every coder taking part, an empty list when they
    # coded nothing here: the columns of the side-by-side view.
    versions: list[tuple[Any, list[Segment]]] = field(default_factory=list)
    # Agreed segments this disagreement overlaps: shown for reading, decided in their own item.
    context: list[Segment] = field(default_factory=list)
    decision: ConsensusDecision | None = None

    @property
    def start(self) -> int:
        return min(s.start for s in self.segments)

    @property
    def end(self) -> int:
        return max(s.end for s in self.segments)

    @property
    def is_agreed(self) -> bool:
        return self.kind == AGREED

    @property
    def is_decided(self) -> bool:
        return self.decision is not None

    @property
    def outdated(self) -> bool:
        """Decided, but a segment of it changed its code or bounds since."""
        if self.decision is None:
            return False
        return _source_state(self.segments) != _stored_state(self.decision.source_segments)


def _source_state(segments: Iterable[Segment]) -> set[tuple[str, str, int, int]]:
    return {(str(s.uuid), str(s.code.uuid), s.start, s.end) for s in segments}


def _stored_state(rows: list[dict[str, Any]]) -> set[tuple[str, str, int, int]]:
    return {(r["uuid"], r["code_uuid"], r["start"], r["end"]) for r in rows}


def _sources(segments: Iterable[Segment]) -> list[dict[str, Any]]:
    return [
        {
            "uuid": str(s.uuid),
            "coder": s.coder.username,
            "code_uuid": str(s.code.uuid),
            "start": s.start,
            "end": s.end,
        }
        for s in segments
    ]


def _order(segment: Any) -> tuple[int, int, str, int]:
    return (segment.start, segment.end, str(segment.coder_id), segment.pk)


class _Union:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)

    def groups(self, indexes: Iterable[int]) -> list[list[int]]:
        found: dict[int, list[int]] = defaultdict(list)
        for i in indexes:
            found[self.find(i)].append(i)
        return list(found.values())


def group_segments(
    segments: Sequence[Any], participants: Iterable[Any], min_overlap: float = MIN_OVERLAP
) -> list[tuple[str, list[Any], list[Any]]]:
    """(kind, segments, context) per item, disagreements first, then agreed, in text order.

    `segments` are objects with pk, coder_id, code_id, start and end (one intervention's);
    `participants` the coder ids taking part. No database access.
    """
    taking_part = set(participants) | {s.coder_id for s in segments}
    by_coder: dict[Any, list[int]] = defaultdict(list)
    for index, segment in enumerate(segments):
        by_coder[segment.coder_id].append(index)
    matched = _Union(len(segments))
    for a, b in combinations(sorted(by_coder, key=str), 2):
        spans_a = [_span(segments[i], i) for i in by_coder[a]]
        spans_b = [_span(segments[j], j) for j in by_coder[b]]
        for left, right in agreement.segment_matches(spans_a, spans_b, min_overlap).pairs:
            matched.join(int(left.coder), int(right.coder))
    agreed: list[list[int]] = []
    open_ids: set[int] = set()
    for group in matched.groups(range(len(segments))):
        coders = [segments[i].coder_id for i in group]
        if len(taking_part) >= 2 and len(coders) == len(taking_part) == len(set(coders)):
            agreed.append(group)
        else:
            open_ids.update(group)

    # A segment without a match joins, per other coder, the open segment overlapping it most.
    joined = matched
    open_by_coder = {c: [j for j in ids if j in open_ids] for c, ids in by_coder.items()}
    for i in sorted(open_ids):
        for coder, candidates in open_by_coder.items():
            if coder == segments[i].coder_id:
                continue
            nearest = _nearest(segments[i], candidates, segments)
            if nearest is not None:
                joined.join(i, nearest)
    disagreements = joined.groups(sorted(open_ids))

    agreed_segments = [segments[i] for group in agreed for i in group]
    items: list[tuple[str, list[Any], list[Any]]] = []
    for group in sorted(disagreements, key=lambda g: min(_order(segments[i]) for i in g)):
        members = sorted((segments[i] for i in group), key=_order)
        start, end = min(s.start for s in members), max(s.end for s in members)
        context = sorted(
            (s for s in agreed_segments if s.start < end and start < s.end), key=_order
        )
        items.append((DISAGREEMENT, members, context))
    for group in sorted(agreed, key=lambda g: min(_order(segments[i]) for i in g)):
        items.append((AGREED, sorted((segments[i] for i in group), key=_order), []))
    return items


def _span(segment: Any, index: int) -> agreement.Span:
    # The index travels in the coder field, to find the segment again after matching.
    return agreement.Span(str(segment.code_id), segment.start, segment.end, str(index))


def _nearest(segment: Any, candidates: list[int], segments: Sequence[Any]) -> int | None:
    best, best_overlap = None, 0
    for j in candidates:
        other = segments[j]
        overlap = min(segment.end, other.end) - max(segment.start, other.start)
        if overlap > best_overlap:
            best, best_overlap = j, overlap
    return best


def _members(study: Study) -> QuerySet[Membership]:
    return Membership.objects.filter(study=study)


def _load(
    intervention: Intervention, coder_ids: set[int] | None
) -> tuple[list[Segment], list[Any]]:
    """The intervention's segments (of `coder_ids`, or of every member) and the coders
    taking part, by username."""
    members = _members(intervention.study).values("user_id")
    segments = Segment.objects.filter(intervention=intervention, coder_id__in=members)
    assigned = Assignment.objects.filter(intervention=intervention, coder_id__in=members)
    if coder_ids is not None:
        segments = segments.filter(coder_id__in=coder_ids)
        assigned = assigned.filter(coder_id__in=coder_ids)
    rows = list(segments.select_related("code", "coder").order_by("start", "end", "pk"))
    coders = {s.coder_id: s.coder for s in rows}
    for assignment in assigned.select_related("coder"):
        coders.setdefault(assignment.coder_id, assignment.coder)
    return rows, sorted(coders.values(), key=lambda u: u.username)


def _build(intervention: Intervention, coder_ids: set[int] | None) -> list[Item]:
    rows, coders = _load(intervention, coder_ids)
    decisions = {
        d.item_key: d
        for d in ConsensusDecision.objects.filter(intervention=intervention).select_related(
            "decided_by"
        )
    }
    items = []
    for kind, members, context in group_segments(rows, [c.pk for c in coders]):
        key = item_key(s.uuid for s in members)
        versions = [(coder, [s for s in members if s.coder_id == coder.pk]) for coder in coders]
        items.append(Item(key, kind, members, versions, context, decisions.get(key)))
    return items


def reconciliation_items(*, intervention: Intervention, viewer: User) -> list[Item]:
    """The items of one intervention for the consensus view, each with its decision.

    Refused (ConsensusError) to anyone to whom the coders' layers are not open, so a blind
    coder never reaches them. A fixed number of queries, whatever the number of segments.
    """
    access = require_consensus_view(intervention.study, viewer)
    return _build(intervention, sight.visible_ids(access))


def orphaned_decisions(*, intervention: Intervention, items: Sequence[Item]) -> list[Any]:
    """Decisions whose item no longer exists because a coder changed its segments since:
    their consensus segments stay until someone undoes the decision."""
    keys = {item.key for item in items}
    return [
        d
        for d in ConsensusDecision.objects.filter(intervention=intervention)
        .select_related("decided_by")
        .order_by("decided_at", "pk")
        if d.item_key not in keys
    ]


def reconciliation_progress(*, intervention: Intervention) -> tuple[int, int]:
    """(decided items, items) of one intervention."""
    items = _build(intervention, None)
    return sum(item.is_decided for item in items), len(items)


def reconciliation_progress_for_study(study: Study) -> dict[int, tuple[int, int]]:
    """(decided, items) per intervention id that has segments, from four queries."""
    members = _members(study).values("user_id")
    rows = list(
        Segment.objects.filter(intervention__study=study, coder_id__in=members)
        .only("pk", "uuid", "intervention_id", "coder_id", "code_id", "start", "end")
        .order_by("intervention_id", "start", "end", "pk")
    )
    assigned: dict[int, set[int]] = defaultdict(set)
    for intervention_id, coder_id in Assignment.objects.filter(
        intervention__study=study, coder_id__in=members
    ).values_list("intervention_id", "coder_id"):
        assigned[intervention_id].add(coder_id)
    decided: dict[int, set[str]] = defaultdict(set)
    for intervention_id, key in ConsensusDecision.objects.filter(
        intervention__study=study
    ).values_list("intervention_id", "item_key"):
        decided[intervention_id].add(key)
    by_intervention: dict[int, list[Segment]] = defaultdict(list)
    for segment in rows:
        by_intervention[segment.intervention_id].append(segment)
    progress = {}
    for intervention_id, segments in by_intervention.items():
        keys = [
            item_key(s.uuid for s in members)
            for _kind, members, _context in group_segments(
                segments, assigned.get(intervention_id, set())
            )
        ]
        progress[intervention_id] = (sum(k in decided[intervention_id] for k in keys), len(keys))
    return progress


# Decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """An edited segment for the consensus: `code` on text[start:end]. `quote`, when given,
    must equal that text, so a page out of date is refused instead of coding the wrong words."""

    code: Code
    start: int
    end: int
    quote: str | None = None


def _lock(intervention: Intervention) -> Intervention:
    """The intervention's row, locked until the transaction ends (PostgreSQL; SQLite
    serializes writers anyway). Coders' segment writes take the same lock."""
    return (
        Intervention.objects.select_for_update(of=("self",))
        .select_related("study")
        .get(pk=intervention.pk)
    )


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ConsensusError(
            _("A note may be at most %(max)s characters; this one has %(n)s.")
            % {
                "max": number_format(NOTE_MAX_LENGTH, force_grouping=True),
                "n": number_format(len(note), force_grouping=True),
            }
        )
    return note


def _when(moment: Any) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _already(decision: ConsensusDecision) -> ConsensusError:
    who = decision.decided_by.username if decision.decided_by else _("someone")
    return ConsensusError(
        _(
            "%(user)s already decided this passage on %(when)s (%(action)s). Reload to see "
            "the decision; the owner can replace it."
        )
        % {"user": who, "when": _when(decision.decided_at), "action": decision.get_action_display()}
    )


@dataclass(frozen=True)
class _Planned:
    code: Code
    start: int
    end: int
    quote: str


def _plan(
    *,
    intervention: Intervention,
    item: Item,
    action: str,
    take_segment: Any,
    edit: Edit | Sequence[Any] | None,
) -> list[_Planned]:
    """The consensus segments a decision makes, without writing them."""
    if action == ConsensusDecision.Action.DROP:
        return []
    if action == ConsensusDecision.Action.KEEP_BOTH:
        chosen = item.segments
    elif action == ConsensusDecision.Action.TAKE:
        wanted = str(getattr(take_segment, "uuid", take_segment) or "")
        taken = next((s for s in item.segments if str(s.uuid) == wanted), None)
        if taken is None:
            raise ConsensusError(_("Choose one of this passage's segments to take."))
        chosen = [s for s in item.segments if s.coder_id == taken.coder_id]
    elif action == ConsensusDecision.Action.EDIT:
        return [_planned_edit(intervention, edit)]
    else:
        raise ConsensusError(
            _("Choose what to do with this passage: %(choices)s.")
            % {"choices": ", ".join(ConsensusDecision.Action.values)}
        )
    planned: dict[tuple[int, int, int], _Planned] = {}
    for s in chosen:
        planned.setdefault((s.code_id, s.start, s.end), _Planned(s.code, s.start, s.end, s.quote))
    return list(planned.values())


def _planned_edit(intervention: Intervention, edit: Edit | Sequence[Any] | None) -> _Planned:
    if edit is None:
        raise ConsensusError(_("An edit needs a code and the span of text it goes on."))
    if not isinstance(edit, Edit):
        try:
            edit = Edit(*edit)
        except TypeError:
            raise ConsensusError(
                _("An edit needs a code and the span of text it goes on.")
            ) from None
    code, start, end = edit.code, edit.start, edit.end
    if not isinstance(code, Code) or code.study_id != intervention.study_id:
        raise ConsensusError(_("Choose a code of this study for the edited segment."))
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (start, end)):
        raise ConsensusError(_("The start and end of a segment must be whole numbers."))
    quote = intervention.text[start:end] if edit.quote is None else edit.quote
    try:
        check_span(intervention=intervention, start=start, end=end, quote=quote)
    except SegmentError as error:
        raise ConsensusError(str(error)) from error
    return _Planned(code, start, end, quote)


def _check_free(
    intervention: Intervention, planned: list[_Planned], exclude: ConsensusDecision | None
) -> None:
    taken = ConsensusSegment.objects.filter(intervention=intervention)
    if exclude is not None:
        taken = taken.exclude(decision=exclude)
    have = set(taken.values_list("code_id", "start", "end"))
    for p in planned:
        if (p.code.pk, p.start, p.end) in have:
            raise ConsensusError(
                _(
                    "The consensus already has “%(code)s” on exactly this text, from another "
                    "passage's decision."
                )
                % {"code": p.code.name}
            )


def _result(segments: Iterable[ConsensusSegment], paths: dict[int, tuple[str, ...]]) -> list[Any]:
    return [
        {
            "uuid": str(s.uuid),
            "code": path_string(paths.get(s.code_id, (s.code.name,))),
            "code_uuid": str(s.code.uuid),
            "start": s.start,
            "end": s.end,
            "quote": s.quote,
        }
        for s in segments
    ]


def _decision_state(decision: ConsensusDecision, paths: dict[int, tuple[str, ...]]) -> dict:
    return {
        "intervention": str(decision.intervention.uuid),
        "item": decision.item_key,
        "action": decision.action,
        "sources": decision.source_segments,
        "result": _result(decision.segments.select_related("code"), paths),
        "note": decision.note,
        "decided_by": decision.decided_by.username if decision.decided_by else "",
    }


def _event(
    *,
    study: Study,
    actor: User,
    action: str,
    code: Code | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> CodingEvent:
    return CodingEvent(
        study=study,
        actor=actor,
        action=action,
        code=code,
        code_uuid=code.uuid if code is not None else None,
        code_name=code.name if code is not None else "",
        before=before or {},
        after=after or {},
    )


def _write(
    *,
    intervention: Intervention,
    actor: User,
    item: Item,
    action: str,
    planned: list[_Planned],
    note: str,
    existing: ConsensusDecision | None,
    paths: dict[int, tuple[str, ...]],
) -> tuple[ConsensusDecision, CodingEvent]:
    """Store one decision and its consensus segments; the event is returned unsaved."""
    before = None
    now = timezone.now()
    if existing is not None:
        before = _decision_state(existing, paths)
        existing.segments.all().delete()
        decision = existing
        decision.action, decision.note = action, note
        decision.source_segments = _sources(item.segments)
        decision.decided_by, decision.decided_at = actor, now
        decision.save()
    else:
        decision = ConsensusDecision.objects.create(
            intervention=intervention,
            item_key=item.key,
            action=action,
            source_segments=_sources(item.segments),
            decided_by=actor,
            decided_at=now,
            note=note,
        )
    made = [
        ConsensusSegment.objects.create(
            decision=decision,
            intervention=intervention,
            code=p.code,
            start=p.start,
            end=p.end,
            quote=p.quote,
            created_by=actor,
        )
        for p in planned
    ]
    after = {
        "intervention": str(intervention.uuid),
        "intervention_title": intervention.title,
        "item": item.key,
        "kind": item.kind,
        "action": action,
        "sources": decision.source_segments,
        "result": _result(made, paths),
        "note": note,
    }
    event = _event(
        study=intervention.study,
        actor=actor,
        action="consensus_decide",
        code=planned[0].code if planned else None,
        before=before,
        after=after,
    )
    return decision, event


def consensus_decide(
    *,
    intervention: Intervention,
    actor: User,
    item_key: str,
    action: str,
    take_segment: Segment | UUID | str | None = None,
    edit: Edit | Sequence[Any] | None = None,
    note: str = "",
    replace: bool = False,
) -> ConsensusDecision:
    """Decide one item: `take` the version of the coder who made `take_segment` (all their
    segments in the item), `keep_both` (every version), `drop`, or `edit` (one segment, an
    `Edit` or a (code, start, end[, quote]) tuple).

    A decided item is refused with who decided it and when, unless the owner passes
    `replace=True`. Nothing is written when refused.
    """
    note = _clean_note(note)
    access = _require_reconcile(intervention.study, actor)
    if replace and not access.can_overrule:
        raise ConsensusError(_("Only the study's owner can replace a decision."))
    with transaction.atomic():
        locked = _lock(intervention)
        items = {item.key: item for item in _build(locked, sight.visible_ids(access))}
        item = items.get(item_key)
        if item is None:
            raise ConsensusError(
                _(
                    "This passage is not one to reconcile in “%(title)s” (any more): a coder "
                    "may have changed its segments. Reload the page."
                )
                % {"title": locked.title}
            )
        existing = item.decision
        if existing is not None and not replace:
            raise _already(existing)
        planned = _plan(
            intervention=locked, item=item, action=action, take_segment=take_segment, edit=edit
        )
        _check_free(locked, planned, exclude=existing)
        paths = code_paths(locked.study)
        decision, event = _write(
            intervention=locked,
            actor=actor,
            item=item,
            action=action,
            planned=planned,
            note=note,
            existing=existing,
            paths=paths,
        )
        event.save()
    return decision


def consensus_accept_agreed(
    *, intervention: Intervention, actor: User, note: str = ""
) -> list[Any]:
    """Take every undecided agreed item in one go, each as its first version in text order
    (ties by coder). Items whose segment the consensus has already are left undecided."""
    note = _clean_note(note)
    access = _require_reconcile(intervention.study, actor)
    decisions, events = [], []
    with transaction.atomic():
        locked = _lock(intervention)
        visible = sight.visible_ids(access)
        items = [i for i in _build(locked, visible) if i.is_agreed and not i.is_decided]
        if not items:
            return []
        paths = code_paths(locked.study)
        have = set(
            ConsensusSegment.objects.filter(intervention=locked).values_list(
                "code_id", "start", "end"
            )
        )
        for item in items:
            first = min(item.segments, key=lambda s: (s.start, s.end, s.coder.username))
            planned = _plan(
                intervention=locked,
                item=item,
                action=ConsensusDecision.Action.TAKE,
                take_segment=first,
                edit=None,
            )
            spans = {(p.code.pk, p.start, p.end) for p in planned}
            if spans & have:
                continue
            have |= spans
            decision, event = _write(
                intervention=locked,
                actor=actor,
                item=item,
                action=ConsensusDecision.Action.TAKE,
                planned=planned,
                note=note,
                existing=None,
                paths=paths,
            )
            decisions.append(decision)
            events.append(event)
        CodingEvent.objects.bulk_create(events)
    return decisions


def consensus_undecide(*, intervention: Intervention, actor: User, item_key: str) -> None:
    """Undo a decision (also one whose item is gone): its consensus segments go with it.
    The owner may undo any decision; a coder only their own."""
    access = _require_reconcile(intervention.study, actor)
    with transaction.atomic():
        locked = _lock(intervention)
        decision = (
            ConsensusDecision.objects.select_related("decided_by", "intervention")
            .filter(intervention=locked, item_key=item_key)
            .first()
        )
        if decision is None:
            raise ConsensusError(_("Nothing was decided for this passage (any more)."))
        if not access.can_overrule and decision.decided_by_id != actor.pk:
            raise ConsensusError(
                _("Only the owner or the person who decided it can undo this decision.")
            )
        paths = code_paths(locked.study)
        before = _decision_state(decision, paths)
        first = decision.segments.select_related("code").first()
        _event(
            study=locked.study,
            actor=actor,
            action="consensus_undecide",
            code=first.code if first else None,
            before=before,
            after={"intervention": str(locked.uuid), "intervention_title": locked.title},
        ).save()
        decision.delete()


# The consensus layer --------------------------------------------------------------------


def consensus_segments(intervention: Intervention) -> QuerySet[ConsensusSegment]:
    """The consensus layer of one intervention, in text order, codes and deciders loaded."""
    return (
        ConsensusSegment.objects.filter(intervention=intervention)
        .select_related("code", "decision__decided_by")
        .order_by("start", "end", "pk")
    )


def consensus_coded_ids(study: Study) -> set[int]:
    """The interventions with a consensus layer: at least one decision made. Analysis and
    exports use the consensus for these and the coders' layers for the rest, and say so."""
    return set(
        ConsensusDecision.objects.filter(intervention__study=study)
        .values_list("intervention_id", flat=True)
        .distinct()
    )


def consensus_as_coder_layer(study: Study, coders: Sequence[str] = ()) -> ReliabilityInput:
    """The consensus as a pseudo-coder named "consensus", with `coders` beside it, over the
    interventions with a consensus layer, for `coding.agreement.reliability`.

    A coder's data count where the intervention is assigned to them, as in every agreement
    figure; consensus segments carry negative ids so they never clash with a segment's.
    """
    users = {u.username: u for u in coders_of(study)}
    unknown = [name for name in coders if name not in users]
    if unknown:
        raise ConsensusError(_("“%(name)s” is not a coder in this study.") % {"name": unknown[0]})
    if CONSENSUS in coders:
        raise ConsensusError(
            _("A coder named “%(name)s” cannot be compared with the consensus layer.")
            % {"name": CONSENSUS}
        )
    coded = consensus_coded_ids(study)
    assigned_by_id = assigned_ids(study)
    assigned = {name: assigned_by_id.get(users[name].pk, set()) & coded for name in coders}
    assigned[CONSENSUS] = set(coded)
    docs = doc_infos(study, coded)
    codes = code_infos(study)
    names = {users[name].pk: name for name in coders}
    rows = (
        Segment.objects.filter(intervention__in=coded, coder_id__in=list(names), code__study=study)
        .order_by("pk")
        .values_list("pk", "intervention_id", "coder_id", "code_id", "start", "end")
    )
    segments = [SegInfo(pk, doc, names[coder], code, s, e) for pk, doc, coder, code, s, e in rows]
    consensus_rows = (
        ConsensusSegment.objects.filter(intervention__in=coded, code__study=study)
        .order_by("pk")
        .values_list("pk", "intervention_id", "code_id", "start", "end")
    )
    segments += [SegInfo(-pk, doc, CONSENSUS, code, s, e) for pk, doc, code, s, e in consensus_rows]
    return ReliabilityInput(
        coders=[*sorted(coders), CONSENSUS],
        docs=docs,
        codes=codes,
        segments=segments,
        assigned=assigned,
    )


def agreement_against_consensus(
    *,
    study: Study,
    coders: Sequence[str] | None = None,
    unit: str = "intervention",
    overlap: float = MIN_OVERLAP,
) -> dict[str, Any]:
    """Each coder's agreement with the consensus layer, from `coding.agreement.reliability.compute`.

    Only interventions with at least one decision count, and of those only the ones assigned
    to the coder. The result names its layer ("consensus") and how many interventions it
    covers, so a page can say what it compared. Permission is the caller's (the owner and the
    supervisor read agreement figures).
    """
    names = list(coders) if coders is not None else [u.username for u in coders_of(study)]
    data = consensus_as_coder_layer(study, names)
    reports = {}
    for name in sorted(names):
        pair = dataclasses.replace(
            data,
            coders=[name, CONSENSUS],
            segments=[s for s in data.segments if s.coder in (name, CONSENSUS)],
            assigned={name: data.assigned[name], CONSENSUS: data.assigned[CONSENSUS]},
        )
        reports[name] = compute(pair, unit=unit, min_overlap=overlap)
    return {
        "layer": CONSENSUS,
        "unit": unit,
        "n_consensus_interventions": len(data.docs),
        "coders": reports,
    }
