"""Who may see and change what in a study.

Outsiders get 404 (a study's existence is not revealed); members without the right get 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from interventions.models import Intervention, Membership, Role, Study


@dataclass(frozen=True)
class StudyAccess:
    study: Study
    membership: Membership

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def can_manage(self) -> bool:
        """Change the corpus, attributes and members: the owner (the student)."""
        return self.role == Role.OWNER

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR


def get_study_for_user(user: Any, slug: str, *, manage: bool = False) -> StudyAccess:
    if not user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.select_related("study").filter(study__slug=slug, user=user).first()
    )
    if membership is None:
        raise Http404
    access = StudyAccess(study=membership.study, membership=membership)
    if manage and not access.can_manage:
        raise PermissionDenied
    return access


def get_intervention_for_user(
    user: Any, slug: str, uuid: Any, *, manage: bool = False
) -> tuple[StudyAccess, Intervention]:
    access = get_study_for_user(user, slug, manage=manage)
    intervention = Intervention.objects.filter(study=access.study, uuid=uuid).first()
    if intervention is None:
        raise Http404
    return access, intervention
