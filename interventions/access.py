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
from functools import cache
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
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from interventions import textcache
from interventions.models import Intervention, Membership, Role, Study
from veerkracht.lib.rows import Columns, execute

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


# The columns the access query reads, by what it reads (`_intervention_access`).
_INTERVENTION = Columns(Intervention, "i")
_INTERVENTION_NO_TEXT = Columns(Intervention, "i", skip=["text"])
_STUDY = Columns(Study, "s")
_MEMBERSHIP = Columns(Membership, "m")
_USER = Columns(User, "u")


@cache
def _codebook_columns() -> Columns[Any]:
    """The reveal state's columns of the study's codebook (a model of `coding`, reached by its
    relation so that this module imports nothing of it)."""
    model: Any = Study.codebook.related.related_model
    return Columns(model, "c", only=["id", "reveal", "revealed_at"])


@cache
def _access_sql(vendor: str, *, text: bool, with_user: bool) -> str:
    """The access query of `_intervention_access` (the same for every request of its kind)."""
    q = connection.ops.quote_name
    codebook = _codebook_columns()
    parts: list[Columns[Any]] = [
        _INTERVENTION if text else _INTERVENTION_NO_TEXT,
        _STUDY,
        _MEMBERSHIP,
        codebook,
    ]
    joins = [
        f"FROM {q(Intervention._meta.db_table)} i",
        f"JOIN {q(Study._meta.db_table)} s ON s.{q('id')} = i.{q('study_id')}",
        f"JOIN {q(Membership._meta.db_table)} m "
        f"ON m.{q('study_id')} = s.{q('id')} AND m.{q('user_id')} = %s",
        f"LEFT JOIN {q(codebook.model._meta.db_table)} c ON c.{q('study_id')} = s.{q('id')}",
    ]
    if with_user:
        parts.append(_USER)
        joins.append(f"JOIN {q(User._meta.db_table)} u ON u.{q('id')} = m.{q('user_id')}")
    return (
        f"SELECT {', '.join(part.sql() for part in parts)} {' '.join(joins)} "
        f"WHERE s.{q('slug')} = %s AND i.{q('uuid')} = %s"
    )


def _intervention_access(
    slug: str, uuid: Any, user_id: Any, *, text: bool, user: User | None = None
) -> tuple[StudyAccess, Intervention]:
    """The access of user `user_id` and the intervention, in one query; with the user's row
    too when `user` is not given.

    Written as SQL: the views that answer most often (applying a code) ask this first, and the
    ORM spent more CPU building it than the database spends answering. The rows come back as
    the ORM would give them (`veerkracht.lib.rows`); every value is a parameter."""
    try:
        uuid = UUID(str(uuid))
    except ValueError:
        raise Http404 from None
    sql = _access_sql(connection.vendor, text=text, with_user=user is None)
    uuid_field = Intervention._meta.get_field("uuid")
    with connection.cursor() as cursor:
        execute(cursor, sql, [user_id, slug, uuid_field.get_db_prep_value(uuid, connection)])
        row = cursor.fetchone()
    if row is None:
        raise Http404
    read = _INTERVENTION if text else _INTERVENTION_NO_TEXT
    at = len(read)
    intervention: Intervention = read.instance(row)
    study: Study = _STUDY.instance(row, at)
    at += len(_STUDY)
    membership: Membership = _MEMBERSHIP.instance(row, at)
    at += len(_MEMBERSHIP)
    codebook = _codebook_columns()
    reveal = codebook.values(row, at)
    at += len(codebook)
    intervention.study = membership.study = study
    if text:
        textcache.texts.put(intervention.pk, intervention.updated_at, intervention.text)
    membership.user = user if user is not None else _USER.instance(row, at)
    access = StudyAccess(
        study=study,
        membership=membership,
        reveal=(reveal["id"], reveal["reveal"], reveal["revealed_at"]),
    )
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
