"""Who may do what in a study: the one place that turns a member's role into rights.

Every view, service, command and template asks a `StudyAccess` predicate; nothing else compares
roles. Which coders' segments a member may see also depends on the reveal, which lives in the
codebook: that is `coding.sight`, built on the predicates here.

Views fetch through `get_study_for_user` / `get_intervention_for_user` with the right they need:
outsiders get 404 (a study's existence is not revealed), members without the right get 403.
Services that receive a study and an actor ask `access_for` (None for outsiders) or `allows`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import Http404

from interventions.models import Intervention, Membership, Role, Study

# The only role sets in the project; the predicates below name what each set may do.
_EVERY_MEMBER = frozenset(Role.values)
_OWNER = frozenset({Role.OWNER})
_SUPERVISOR = frozenset({Role.SUPERVISOR})
_CODING = frozenset({Role.OWNER, Role.CODER})
_READING_ALONG = frozenset({Role.OWNER, Role.SUPERVISOR})

Right = Literal[
    "can_read",
    "can_manage",
    "can_edit_codebook",
    "can_code",
    "can_reveal",
    "sees_layers_before_reveal",
    "sees_layers_before_reveal_as_supervisor",
    "sees_all_progress",
    "sees_agreement",
    "can_run_agreement",
    "can_reconcile",
    "can_overrule",
    "can_comment",
    "moderates_comments",
    "can_approve",
    "can_exchange_projects",
]


@dataclass(frozen=True)
class StudyAccess:
    """A member's rights in one study. README's "Roles" table lists the same predicates."""

    study: Study
    membership: Membership

    @property
    def user(self) -> User:
        return self.membership.user

    def _is(self, roles: frozenset[str]) -> bool:
        return self.membership.role in roles

    @property
    def can_read(self) -> bool:
        """Read the corpus, codebook, versions, comments and code report, and export them:
        every member."""
        return self._is(_EVERY_MEMBER)

    @property
    def can_manage(self) -> bool:
        """Change the corpus, its properties, sections and the members: the owner."""
        return self._is(_OWNER)

    @property
    def can_edit_codebook(self) -> bool:
        """Change, import or copy the codebook, save versions, start coding: the owner."""
        return self._is(_OWNER)

    @property
    def can_code(self) -> bool:
        """Code texts in one's own layer and add inductive codes while coding: the owner and
        the coders; a supervisor reads and comments but never codes."""
        return self._is(_CODING)

    @property
    def can_reveal(self) -> bool:
        """Reveal the coders' layers and choose the reveal policy: the owner."""
        return self._is(_OWNER)

    @property
    def sees_layers_before_reveal(self) -> bool:
        """See the coders' layers before the reveal when the policy is "always": the owner and
        the supervisor (`coding.sight.layers_open`)."""
        return self._is(_READING_ALONG)

    @property
    def sees_layers_before_reveal_as_supervisor(self) -> bool:
        """See the coders' layers before the reveal when the policy is "supervisor": the
        supervisor, who reads along and codes nothing, so seeing them biases no coding of
        theirs (`coding.sight.layers_open`)."""
        return self._is(_SUPERVISOR)

    @property
    def sees_all_progress(self) -> bool:
        """See every coder's progress before the reveal: the owner and the supervisor; a
        coder only after it (`coding.sight.sees_others_progress`)."""
        return self._is(_READING_ALONG)

    @property
    def sees_agreement(self) -> bool:
        """Read assignments, agreement runs, reports and figures: the owner and the
        supervisor; a coder must not learn about the others' coding from them."""
        return self._is(_READING_ALONG)

    @property
    def can_run_agreement(self) -> bool:
        """Assign interventions to coders and start agreement runs: the owner."""
        return self._is(_OWNER)

    @property
    def can_reconcile(self) -> bool:
        """Decide consensus items once the layers are open to them: the owner and the coders
        (`coding.sight.may_reconcile`)."""
        return self._is(_CODING)

    @property
    def can_overrule(self) -> bool:
        """Replace a consensus decision, or undo someone else's: the owner."""
        return self._is(_OWNER)

    @property
    def can_comment(self) -> bool:
        """Start and reply to threads on what they can see: every member."""
        return self._is(_EVERY_MEMBER)

    @property
    def moderates_comments(self) -> bool:
        """Resolve or reopen any thread, and read threads on deleted segments: the owner and
        the supervisor."""
        return self._is(_READING_ALONG)

    @property
    def can_exchange_projects(self) -> bool:
        """Import a REFI-QDA project (.qdpx) into the study, or export the study as one: the
        owner. An export holds only the layers `coding.sight` shows them."""
        return self._is(_OWNER)

    @property
    def can_approve(self) -> bool:
        """Approve a codebook version: the supervisor, not the student who wrote it."""
        return self._is(_SUPERVISOR)


def access_for(study: Study, user: User | None) -> StudyAccess | None:
    """The user's access to the study; None for anonymous users and outsiders."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    membership = Membership.objects.filter(study=study, user=user).first()
    if membership is None:
        return None
    membership.study, membership.user = study, user  # loaded already
    return StudyAccess(study=study, membership=membership)


def allows(study: Study, actor: User | None, right: Right) -> bool:
    """Whether `actor` holds `right` in `study`, for services that write.

    `actor=None` is a management command: whoever runs one holds the database already, so it
    needs no membership (the audit trail then names no one)."""
    if actor is None:
        return True
    access = access_for(study, actor)
    return access is not None and getattr(access, right)


def get_study_for_user(user: User, slug: str, *, need: Right = "can_read") -> StudyAccess:
    """The user's access to the study `slug`: 404 for outsiders, 403 without `need`."""
    if not user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.select_related("study").filter(study__slug=slug, user=user).first()
    )
    if membership is None:
        raise Http404
    membership.user = user  # loaded already
    access = StudyAccess(study=membership.study, membership=membership)
    if not getattr(access, need):
        raise PermissionDenied
    return access


def get_intervention_for_user(
    user: User, slug: str, uuid: Any, *, need: Right = "can_read"
) -> tuple[StudyAccess, Intervention]:
    """The access and the intervention `uuid` of study `slug`, with the same answers.

    One query: the intervention with its study and the user's membership beside it."""
    if not user.is_authenticated:
        raise Http404
    try:
        UUID(str(uuid))
    except ValueError:
        raise Http404 from None
    # The membership joined in the same filter call, so the annotations read that one row.
    intervention = (
        Intervention.objects.select_related("study")
        .filter(study__slug=slug, uuid=uuid, study__memberships__user=user)
        .annotate(
            membership_pk=F("study__memberships__pk"),
            membership_role=F("study__memberships__role"),
            membership_created=F("study__memberships__created_at"),
        )
        .first()
    )
    if intervention is None:
        raise Http404
    membership = Membership(
        pk=intervention.membership_pk,  # type: ignore[attr-defined]
        study=intervention.study,
        user=user,
        role=intervention.membership_role,  # type: ignore[attr-defined]
        created_at=intervention.membership_created,  # type: ignore[attr-defined]
    )
    access = StudyAccess(study=intervention.study, membership=membership)
    if not getattr(access, need):
        raise PermissionDenied
    return access, intervention


def members_who_code(study: Study) -> QuerySet[Membership]:
    """The memberships of those who code in the study (`StudyAccess.can_code`)."""
    return Membership.objects.filter(study=study, role__in=_CODING)


def users_who_code(study: Study) -> QuerySet[Any]:
    """The users who code in the study (`StudyAccess.can_code`)."""
    return get_user_model().objects.filter(memberships__study=study, memberships__role__in=_CODING)


def owner_of(study: Study) -> User | None:
    """The study's first owner, by username; None when it has none."""
    membership = (
        Membership.objects.filter(study=study, role__in=_OWNER)
        .select_related("user")
        .order_by("user__username")
        .first()
    )
    return membership.user if membership else None
