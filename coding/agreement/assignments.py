"""Which interventions each coder is to code: all, a hand-picked list, or a seeded sample."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from coding.models import Assignment, CodingEvent
from interventions.access import access_for, allows
from interventions.models import AttributeDefinition, AttributeValue, Intervention, Study


class AssignmentError(ValueError):
    """A refused assignment; str(error) is the message for the user."""


def sample_interventions(
    interventions: Sequence[Intervention],
    *,
    percent: float,
    seed: int,
    strata: dict[int, str] | None = None,
) -> list[Intervention]:
    """A reproducible random `percent` of the interventions, per stratum when `strata` is given.

    Each stratum (an attribute value; interventions without one form their own stratum)
    contributes round(percent × size), at least one when the percentage is above zero, so a small
    stratum is not left out. The same seed and corpus give the same sample.
    """
    if not 0 < percent <= 100:
        raise AssignmentError(_("The sample is a percentage above 0 and at most 100."))
    groups: dict[str, list[Intervention]] = defaultdict(list)
    for intervention in sorted(interventions, key=lambda i: (i.title, i.pk)):
        key = (strata or {}).get(intervention.pk, "") if strata is not None else ""
        groups[key].append(intervention)
    rng = random.Random(seed)
    chosen: list[Intervention] = []
    for key in sorted(groups):
        group = groups[key]
        size = max(1, int(len(group) * percent / 100 + 0.5))
        chosen.extend(rng.sample(group, min(size, len(group))))
    return sorted(chosen, key=lambda i: (i.title, i.pk))


def strata_for(definition: AttributeDefinition) -> dict[int, str]:
    return dict(
        AttributeValue.objects.filter(definition=definition).values_list("intervention_id", "value")
    )


def assignment_create(
    *,
    study: Study,
    actor: User | None,
    coder: User,
    interventions: Iterable[Intervention],
    method: str,
    percent: float | None = None,
    seed: int | None = None,
    stratify_by: str = "",
) -> list[Assignment]:
    """Give `coder` these interventions (added to what they have); records how they were chosen."""
    chosen = list(interventions)
    if not allows(study, actor, "can_run_agreement"):
        raise AssignmentError(_("Only the study's owner assigns interventions."))
    coder_access = access_for(study, coder)
    if coder_access is None or not coder_access.can_code:
        raise AssignmentError(
            _("%(user)s is not a coder or owner in this study.") % {"user": coder.username}
        )
    if not chosen:
        raise AssignmentError(_("No interventions to assign."))
    if any(i.study_id != study.pk for i in chosen):
        raise AssignmentError(_("That intervention belongs to another study."))
    with transaction.atomic():
        have = set(
            Assignment.objects.filter(coder=coder, intervention__study=study).values_list(
                "intervention_id", flat=True
            )
        )
        new = [
            Assignment(intervention=i, coder=coder, created_by=actor)
            for i in chosen
            if i.pk not in have
        ]
        Assignment.objects.bulk_create(new)
        CodingEvent.objects.create(
            study=study,
            actor=actor,
            action="assign",
            after={
                "coder": coder.username,
                "method": method,
                "percent": percent,
                "seed": seed,
                "stratify_by": stratify_by,
                "interventions": [i.title for i in chosen],
                "added": len(new),
            },
        )
    return new


def assignment_delete(
    *, study: Study, actor: User, coder: User, intervention: Intervention
) -> None:
    if not allows(study, actor, "can_run_agreement"):
        raise AssignmentError(_("Only the study's owner assigns interventions."))
    with transaction.atomic():
        deleted, _rows = Assignment.objects.filter(
            coder=coder, intervention=intervention, intervention__study=study
        ).delete()
        if deleted:
            CodingEvent.objects.create(
                study=study,
                actor=actor,
                action="unassign",
                after={"coder": coder.username, "intervention": intervention.title},
            )


def assigned_ids(study: Study) -> dict[int, set[int]]:
    """For each coder, the ids of the interventions assigned to them."""
    result: dict[int, set[int]] = defaultdict(set)
    for coder_id, intervention_id in Assignment.objects.filter(
        intervention__study=study
    ).values_list("coder_id", "intervention_id"):
        result[coder_id].add(intervention_id)
    return dict(result)
