"""What the study page shows about agreement."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from coding.agreement.chart import alpha_chart
from coding.models import AgreementRun, Assignment, InterventionProgress
from interventions.access import StudyAccess


def study_summary(access: StudyAccess, viewer: User) -> dict[str, Any]:
    """What the study page shows about agreement: the chart for the owner and supervisor,
    the viewer's own assignment for those who code."""
    study = access.study
    summary: dict[str, Any] = {"study": study, "chart": None, "mine": None, "readers": False}
    if access.sees_agreement:
        summary["readers"] = True
        summary["chart"] = alpha_chart(study)
        summary["n_runs"] = AgreementRun.objects.filter(study=study).count()
    if access.can_code:
        ids = list(
            Assignment.objects.filter(coder=viewer, intervention__study=study).values_list(
                "intervention_id", flat=True
            )
        )
        done = InterventionProgress.objects.filter(coder=viewer, intervention_id__in=ids).count()
        summary["mine"] = {"n": len(ids), "done": done}
    return summary
