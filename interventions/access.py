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
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

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
    # The study's reveal policy and time as (codebook id, policy, revealed at), all None when it
    # has no codebook yet, when they were read with the access (`coding.sight` uses them then
    # instead of a query of its own); None when they were not.
    reveal: tuple[int | None, str | None, datetime | None] | None = None

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
    user: User, slug: str, uuid: Any, *, need: Right = "can_read", text: bool = True
) -> tuple[StudyAccess, Intervention]:
    """The access and the intervention `uuid` of study `slug`, with the same answers.

    One query: the intervention with its study, the user's membership and the study's reveal
    state beside it. `text=False` leaves the intervention's text unread (it is read when first
    used)."""
    if not user.is_authenticated:
        raise Http404
    access, intervention = _intervention_access(slug, uuid, user.pk, text=text, user=user)
    if not getattr(access, need):
        raise PermissionDenied
    return access, intervention


def get_intervention_for_request(
    request: HttpRequest, slug: str, uuid: Any, *, need: Right = "can_read", text: bool = True
) -> tuple[StudyAccess, Intervention] | None:
    """As `get_intervention_for_user` for the request's signed-in user, or None when nobody is
    signed in (the view sends them to the login page, as `login_required` does).

    When the request has not loaded its user yet, the user's row comes in the same query as
    the access: a query less for views that answer often (applying a code). The user counts
    as signed in only as `django.contrib.auth.get_user` decides it on its usual path (the
    session's backend is `ModelBackend`'s, the user may log in, the session's hash is the
    user's current one); any other case, and an outsider, takes Django's own path.
    """
    user_id = _unloaded_session_user(request)
    if user_id is not None:
        try:
            access, intervention = _intervention_access(slug, uuid, user_id, text=text)
        except Http404:
            pass  # Django's own path below tells an outsider from a stale session
        else:
            if _session_signed_in_as(request, access.user):
                request.user = access.user
                if not getattr(access, need):
                    raise PermissionDenied
                return access, intervention
    if not request.user.is_authenticated:
        return None
    return get_intervention_for_user(request.user, slug, uuid, need=need, text=text)


def _unloaded_session_user(request: HttpRequest) -> Any:
    """The user id the session names while `request.user` is still unloaded, else None."""
    lazy = request.__dict__.get("user")
    if not isinstance(lazy, SimpleLazyObject) or hasattr(request, "_cached_user"):
        return None
    try:
        return get_user_model()._meta.pk.to_python(request.session[SESSION_KEY])
    except (KeyError, ValueError):
        return None


def _session_signed_in_as(request: HttpRequest, user: User) -> bool:
    """Whether the session is signed in as `user`, checked as `django.contrib.auth.get_user`
    checks it, for the usual case only: False sends the request down Django's own path (which
    also knows the fallback secrets and flushes a stale session)."""
    session = request.session
    backend_path = session.get(BACKEND_SESSION_KEY)
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return False
    backend = load_backend(backend_path)
    # ModelBackend.get_user answers a user who may log in (`user_can_authenticate`).
    if type(backend).get_user is not ModelBackend.get_user:
        return False
    if not backend.user_can_authenticate(user):  # type: ignore[attr-defined]
        return False
    session_hash = session.get(HASH_SESSION_KEY)
    if not isinstance(session_hash, str) or not session_hash:
        return False
    return constant_time_compare(session_hash, user.get_session_auth_hash())


def _intervention_access(
    slug: str, uuid: Any, user_id: Any, *, text: bool, user: User | None = None
) -> tuple[StudyAccess, Intervention]:
    """The access of user `user_id` and the intervention, in one query; with the user's row
    too when `user` is not given."""
    try:
        UUID(str(uuid))
    except ValueError:
        raise Http404 from None
    found = Intervention.objects.select_related("study").filter(
        study__slug=slug, uuid=uuid, study__memberships__user_id=user_id
    )
    if not text:
        found = found.defer("text")
    # The membership joined in the same filter call, so the annotations read that one row; the
    # codebook is the study's one (a reverse one-to-one, so a LEFT JOIN of at most one row).
    annotations: dict[str, Any] = {
        "membership_pk": F("study__memberships__pk"),
        "membership_role": F("study__memberships__role"),
        "membership_created": F("study__memberships__created_at"),
        "codebook_pk": F("study__codebook__pk"),
        "codebook_reveal": F("study__codebook__reveal"),
        "codebook_revealed_at": F("study__codebook__revealed_at"),
    }
    user_fields = [] if user is not None else [f.attname for f in User._meta.concrete_fields]
    annotations.update(
        {f"user_{name}": F(f"study__memberships__user__{name}") for name in user_fields}
    )
    intervention = found.annotate(**annotations).first()
    if intervention is None:
        raise Http404
    # Taken off the intervention, which carries them as attributes.
    values = {name: intervention.__dict__.pop(name) for name in annotations}
    if user is None:
        user = User.from_db(
            intervention._state.db, user_fields, [values[f"user_{name}"] for name in user_fields]
        )
    membership = Membership(
        pk=values["membership_pk"],
        study=intervention.study,
        user=user,
        role=values["membership_role"],
        created_at=values["membership_created"],
    )
    reveal = (values["codebook_pk"], values["codebook_reveal"], values["codebook_revealed_at"])
    return StudyAccess(study=intervention.study, membership=membership, reveal=reveal), intervention


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
