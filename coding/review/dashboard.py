"""What the study dashboard shows, read in a bounded number of queries whatever the size.

Each part follows the study's rules of sight: a coder before the reveal sees only their own
progress and their own segment events; agreement figures are for the owner and the
supervisor (a coder must not learn about the others' coding from them); reconciliation counts
appear once the coders' layers are open to the viewer. Also here: the changes made since the
approved codebook version. Who sees what is `interventions.access` and `coding.sight`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from coding import sight
from coding.agreement.report import UNIT_NAMES
from coding.codebook.outline import display_path_string, short_paths
from coding.codebook.services import (
    codebook_tree,
    codes_by_parent,
    latest_approved,
    paths_from,
    tree_snapshot,
)
from coding.codebook.versions import SnapshotDiff, snapshot_diff
from coding.consensus.services import reconciliation_progress_for_study
from coding.models import (
    AgreementRun,
    Assignment,
    CodebookVersion,
    CodingEvent,
    InterventionProgress,
)
from coding.review.comments import open_thread_count
from interventions.access import StudyAccess, access_for, users_who_code
from interventions.models import Study

ACTIVITY_LIMIT = 15
TREND_RUNS = 20
LOWEST_CODES = 5


# Codebook approval ------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingChanges:
    """The codebook's changes since the latest approved version."""

    version: CodebookVersion
    diff: SnapshotDiff

    @property
    def is_empty(self) -> bool:
        return self.diff.is_empty

    @property
    def count(self) -> int:
        d = self.diff
        return len(d.added) + len(d.removed) + len(d.renamed) + len(d.moved) + len(d.changed)


def pending_codebook_changes(study: Study) -> PendingChanges | None:
    """The current tree against the latest approved version; None when none is approved."""
    approved = latest_approved(study)
    if approved is None:
        return None
    current = tree_snapshot(codebook_tree(study))
    return PendingChanges(approved, snapshot_diff(approved.snapshot, current))


# Progress ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoderRow:
    user: User
    assigned: int
    done: int  # of the assigned interventions, how many the coder marked complete

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.assigned) if self.assigned else 0


def coder_rows(access: StudyAccess) -> list[CoderRow]:
    """Assigned and done per coder: every coding member for those who
    `sight.sees_others_progress`, only themself for a coder before the reveal."""
    study = access.study
    if sight.sees_others_progress(access):
        users = list(users_who_code(study).order_by("username"))
    else:
        users = [access.user]
    ids = [u.pk for u in users]
    assigned = Counter(
        Assignment.objects.filter(intervention__study=study, coder_id__in=ids).values_list(
            "coder_id", flat=True
        )
    )
    is_assigned = Assignment.objects.filter(
        intervention=OuterRef("intervention"), coder=OuterRef("coder")
    )
    done = Counter(
        InterventionProgress.objects.filter(intervention__study=study, coder_id__in=ids)
        .filter(Exists(is_assigned))
        .values_list("coder_id", flat=True)
    )
    return [CoderRow(u, assigned.get(u.pk, 0), done.get(u.pk, 0)) for u in users]


# Agreement --------------------------------------------------------------------------------


def _measure(unit: str) -> str:
    # The segment unit has no alpha; its chance-corrected figure is Brennan and Prediger's.
    return "brennan_prediger_kappa" if unit == "segment" else "krippendorff_alpha"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def agreement_summary(study: Study) -> dict[str, Any] | None:
    """The latest finished run's overall figure, its trend over the runs with the same unit,
    and the codes with the lowest figure in it. None before the first finished run."""
    latest = (
        AgreementRun.objects.filter(study=study, status=AgreementRun.Status.DONE)
        .order_by("-created_at", "-pk")
        .values("uuid", "created_at", "finished_at", "params", "result__overall", "result__codes")
        .first()
    )
    if latest is None:
        return None
    unit = (latest["params"] or {}).get("unit", "intervention")
    measure = _measure(unit)
    overall = latest["result__overall"] or {}
    trend_rows = list(
        AgreementRun.objects.filter(study=study, status=AgreementRun.Status.DONE, params__unit=unit)
        .order_by("-created_at", "-pk")
        .values_list("created_at", f"result__overall__{measure}")[:TREND_RUNS]
    )
    trend = [
        (timezone.localdate(created), value)
        for created, raw in reversed(trend_rows)
        if (value := _number(raw)) is not None
    ]
    codes = [
        (display_path_string(path), value)
        for path, figures in (latest["result__codes"] or {}).items()
        if (value := _number((figures or {}).get(measure))) is not None
    ]
    codes.sort(key=lambda row: (row[1], row[0]))
    return {
        "run_uuid": latest["uuid"],
        "at": latest["finished_at"] or latest["created_at"],
        "unit": unit,
        "unit_name": str(UNIT_NAMES.get(unit, unit)),
        "coders": (latest["params"] or {}).get("coders", []),
        "measure": measure,
        "value": _number(overall.get(measure)),
        # Stored in English (the run's result is data); shown in the reader's language.
        "interpretation": _(overall["interpretation"]) if overall.get("interpretation") else "",
        "trend": trend,
        "lowest_codes": codes[:LOWEST_CODES],
    }


# Activity ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityRow:
    """One event as the dashboard may show it: never its before/after, which can quote
    segments the viewer may not see (a merge lists the segments it moved)."""

    at: Any
    actor: User | None
    action: str
    code_name: str
    intervention_title: str
    # A codebook import: how many codes it added, and the template it came from ("" for a
    # file).
    n_added: int = 0
    template: str = ""


def recent_activity(
    access: StudyAccess, *, layers: bool, limit: int = ACTIVITY_LIMIT
) -> list[ActivityRow]:
    """The latest events the viewer may see: segment events only of coders whose layer is
    visible to them, reconciliation only when every layer is (`layers`)."""
    study = access.study
    visible = sight.visible_ids(access)
    segment = Q(action__startswith="segment_")
    consensus = Q(action__startswith="consensus_")
    allowed = (~segment & ~consensus) | (segment & Q(actor_id__in=visible))
    if layers:
        allowed |= consensus
    events = (
        CodingEvent.objects.filter(study=study)
        .filter(allowed)
        # The codes an import made: its own event says it in one line ("27 codes").
        .exclude(action="code_create", before__has_key="import")
        .select_related("actor")
        .only("created_at", "action", "code_uuid", "code_name", "after", "actor")
        .order_by("-created_at", "-pk")[:limit]
    )
    # A code still in the codebook is named by its shortest unambiguous path; a deleted one
    # by the name it had.
    children = codes_by_parent(study)
    short = short_paths(paths_from(children))
    by_uuid = {code.uuid: short[code.pk] for codes in children.values() for code in codes}
    return [
        ActivityRow(
            at=e.created_at,
            actor=e.actor,
            action=e.action,
            code_name=by_uuid.get(e.code_uuid, e.code_name) if e.code_uuid else e.code_name,
            intervention_title=str((e.after or {}).get("intervention_title", "")),
            n_added=_int((e.after or {}).get("added")) if e.action == "codebook_import" else 0,
            template=str((e.after or {}).get("template", "")),
        )
        for e in events
    ]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# Blind coding -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BlindState:
    """The study's reveal as the dashboard tells it: the policy, and when and by whom the
    layers were revealed (from the audit trail's "reveal" event)."""

    policy: str
    policy_label: str
    revealed_at: Any
    revealed_by: User | None
    open_to_viewer: bool


def blind_state(access: StudyAccess) -> BlindState:
    codebook = sight.reveal_state(access.study)
    revealed_by = None
    if codebook.is_revealed:
        event = (
            CodingEvent.objects.filter(study=access.study, action="reveal")
            .select_related("actor")
            .order_by("-created_at", "-pk")
            .first()
        )
        revealed_by = event.actor if event else None
    return BlindState(
        policy=codebook.reveal,
        policy_label=str(codebook.get_reveal_display()),
        revealed_at=codebook.revealed_at,
        revealed_by=revealed_by,
        open_to_viewer=sight.layers_open(access, codebook=codebook),
    )


# The dashboard ----------------------------------------------------------------------------


def dashboard(study: Study, viewer: User) -> dict[str, Any]:
    """Everything the study dashboard shows to `viewer`; Http404 for a non-member.

    Keys: access, coders (CoderRow list), agreement (None for coders, or `agreement_summary`),
    open_threads (count the viewer may see), activity (ActivityRow list), codebook
    (PendingChanges or None: nothing approved yet), can_approve, reconciliation (decided,
    items, interventions fully decided, interventions with items; None while the layers are
    closed to the viewer), blind (BlindState: the policy and the reveal).
    """
    access = access_for(study, viewer)
    if access is None:
        raise Http404
    layers = sight.layers_open(access)
    reconciliation = None
    if layers:
        progress = reconciliation_progress_for_study(study)
        reconciliation = {
            "decided": sum(d for d, _t in progress.values()),
            "items": sum(t for _d, t in progress.values()),
            "interventions_done": sum(1 for d, t in progress.values() if t and d == t),
            "interventions": len(progress),
        }
    return {
        "access": access,
        "coders": coder_rows(access),
        "agreement": agreement_summary(study) if access.sees_agreement else None,
        "open_threads": open_thread_count(study, viewer),
        "activity": recent_activity(access, layers=layers),
        "codebook": pending_codebook_changes(study),
        "can_approve": access.can_approve,
        "reconciliation": reconciliation,
        "blind": blind_state(access),
    }
