"""Where a coder goes from the intervention open in the workspace: the one before and after it
in their list, and whether that list is their assignments.

A coder with assignments in the study walks through their assigned interventions in title
order; without any (a study that does not assign, or a supervisor), through all of them. The
page says which, so that a coder who misses an intervention in Previous/Next knows why.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User

from interventions.models import Intervention


@dataclass(frozen=True)
class Walk:
    previous: Intervention | None
    following: Intervention | None
    assigned: int  # interventions assigned to the coder in this study; 0: none, walks all
    position: int  # this one's place among them from 1; 0 when it is not assigned


def walk_for(*, intervention: Intervention, coder: User | AnonymousUser) -> Walk:
    """Previous and next for `coder`, from one query when the coder has assignments and from
    three (the assignments, previous, next) when not."""
    in_study = Intervention.objects.filter(study_id=intervention.study_id).only(
        "pk", "uuid", "title", "study_id"
    )
    assigned = list(in_study.filter(assignments__coder_id=coder.pk).order_by("title", "pk"))
    if not assigned:
        previous = in_study.filter(title__lt=intervention.title).order_by("-title").first()
        following = in_study.filter(title__gt=intervention.title).order_by("title").first()
        return Walk(previous, following, 0, 0)
    ids = [item.pk for item in assigned]
    if intervention.pk in ids:
        index = ids.index(intervention.pk)
        previous = assigned[index - 1] if index > 0 else None
        following = assigned[index + 1] if index + 1 < len(assigned) else None
        return Walk(previous, following, len(assigned), index + 1)
    before = [item for item in assigned if item.title < intervention.title]
    after = [item for item in assigned if item.title > intervention.title]
    return Walk(before[-1] if before else None, after[0] if after else None, len(assigned), 0)
