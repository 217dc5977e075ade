"""The study page's "next step" guide: where the round stands, read from the study's state.

A round goes: texts imported, codebook approved, double coding set up, coders done, agreement
run, disagreements decided. Each step says whether it is done and, when the viewer's role may
do (or watch) it, where. The first step not done is the next one.

What a step reads follows the rules of sight, as the dashboard does (`coding.review.dashboard`):
a coder before the reveal learns only about their own coding; the agreement step is shown to
those who `sees_agreement`; the decisions are counted once the layers are open to the viewer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db.models import Count
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from coding import sight
from coding.codebook.services import latest_approved
from coding.consensus.services import reconciliation_progress_for_study
from coding.models import AgreementRun, Assignment
from coding.review.dashboard import coder_rows
from interventions.access import StudyAccess


@dataclass(frozen=True)
class GuideStep:
    key: str
    label: str | Promise
    done: bool
    url: str | None = None  # where to do it; None when the viewer's role may not
    action: str | Promise = ""
    is_next: bool = False


def _double_coding_set_up(access: StudyAccess) -> bool:
    """Some intervention is assigned to two coders or more."""
    return (
        Assignment.objects.filter(intervention__study=access.study)
        .values("intervention_id")
        .annotate(n=Count("coder_id"))
        .filter(n__gte=2)
        .exists()
    )


def _coders_done(access: StudyAccess) -> bool:
    """Every assignment the viewer may see the progress of is marked done (a coder before
    the reveal sees only their own)."""
    rows = [row for row in coder_rows(access) if row.assigned]
    return bool(rows) and all(row.done >= row.assigned for row in rows)


def _decisions_done(access: StudyAccess) -> bool:
    progress = reconciliation_progress_for_study(access.study).values()
    items = sum(total for _decided, total in progress)
    return items > 0 and all(decided >= total for decided, total in progress)


def round_guide(access: StudyAccess) -> list[GuideStep]:
    """The steps of the round for the viewer of `access`, the first one not done marked."""
    study = access.study
    slug = study.slug

    def url(name: str) -> str:
        return reverse(name, args=[slug])

    steps = [
        GuideStep(
            "texts",
            _("Import the intervention texts"),
            study.interventions.exists(),
            url("intervention_upload") if access.can_manage else None,
            _("Upload texts"),
        )
    ]
    codebook_url: str | None
    codebook_action: str | Promise
    if access.can_approve:
        codebook_url, codebook_action = url("codebook_review"), _("Review and approve")
    elif access.can_edit_codebook:
        codebook_url, codebook_action = url("codebook"), _("Build the codebook")
    else:
        codebook_url, codebook_action = None, ""
    steps.append(
        GuideStep(
            "codebook",
            _("Have the codebook approved"),
            latest_approved(study) is not None,
            codebook_url,
            codebook_action,
        )
    )
    steps.append(
        GuideStep(
            "assignments",
            _("Set up double coding"),
            _double_coding_set_up(access),
            url("agreement_assignments") if access.can_run_agreement else None,
            _("Assign interventions to coders"),
        )
    )
    others = sight.sees_others_progress(access)
    coding_url: str | None
    coding_action: str | Promise
    if (
        access.can_code
        and Assignment.objects.filter(intervention__study=study, coder=access.user).exists()
    ):
        coding_url, coding_action = url("agreement_mine"), _("Your assigned interventions")
    elif access.sees_all_progress:
        coding_url, coding_action = url("study_progress"), _("See the progress")
    else:
        coding_url, coding_action = None, ""
    steps.append(
        GuideStep(
            "coding",
            _("The coders finish their interventions")
            if others
            else _("Finish your assigned interventions"),
            _coders_done(access),
            coding_url,
            coding_action,
        )
    )
    if access.sees_agreement:
        steps.append(
            GuideStep(
                "agreement",
                _("Run the agreement"),
                AgreementRun.objects.filter(study=study, status=AgreementRun.Status.DONE).exists(),
                url("agreement"),
                _("Start a run") if access.can_run_agreement else _("Runs and reports"),
            )
        )
    layers = sight.layers_open(access)
    steps.append(
        GuideStep(
            "consensus",
            _("Decide the disagreements"),
            layers and _decisions_done(access),
            url("consensus") if layers else None,
            _("Reach consensus") if access.can_reconcile else _("See the consensus"),
        )
    )
    first = next((i for i, step in enumerate(steps) if not step.done), None)
    if first is not None:
        steps[first] = replace(steps[first], is_next=True)
    return steps
