"""Comment threads on segments, codes and interventions, @mentions and notifications.

Every member of a study may comment (`StudyAccess.can_comment`). Which threads a member sees
is `coding.sight.ThreadSight`: a thread on a segment only for those who may see that segment,
so a blind coder neither reads nor starts a thread on another coder's segment, and is not
notified of one even when mentioned. A thread whose segment was deleted stays readable for the
owner, the supervisor and those who took part.

`@username` in a comment notifies that member; the thread's participants (its starter, those
who wrote in it or were mentioned in it) are notified of every reply. A name that is no
member is left as plain text. Notifications live in the app; an email goes out as well only
when the deployment configures an EMAIL_BACKEND: a mail job per notification, sent by the
worker after the comment is committed. A failing mail server fails that job with its answer
and never breaks the comment.

The owner and the supervisor (`StudyAccess.moderates_comments`), the thread's starter and the
coder of the segment it is about may resolve a thread and reopen it (`may_settle`); a reply to
a resolved thread reopens it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from coding.codebook.outline import short_paths
from coding.codebook.services import codes_by_parent, paths_from
from coding.models import (
    COMMENT_MAX_LENGTH,
    Code,
    Comment,
    CommentThread,
    MailJob,
    Notification,
    Segment,
)
from coding.sight import ThreadSight, segment_for_user
from interventions.access import StudyAccess, access_for
from interventions.models import Intervention, Study
from veerkracht.jobs import job_enqueue

logger = logging.getLogger(__name__)

# Django's usernames: letters, digits and @.+-_; a mention ends before trailing punctuation.
MENTION_RE = re.compile(r"(?<![\w.+-])@([\w.@+-]+)")
EXCERPT_LENGTH = 160


class CommentError(ValueError):
    """A refused comment; str(error) is the message for the user."""


# Who may see what -------------------------------------------------------------------------


def _segment_coders(uuids: Iterable[Any]) -> dict[str, int]:
    wanted = {str(u) for u in uuids}
    if not wanted:
        return {}
    rows = Segment.objects.filter(uuid__in=wanted).values_list("uuid", "coder_id")
    return {str(uuid): coder_id for uuid, coder_id in rows}


def _participants(thread: CommentThread) -> set[int]:
    """Who follows a thread: its starter, everyone who wrote in it or was mentioned in it."""
    ids = set(
        Comment.objects.filter(thread=thread, author__isnull=False).values_list(
            "author_id", flat=True
        )
    )
    ids |= set(
        Notification.objects.filter(
            comment__thread=thread, reason=Notification.Reason.MENTION
        ).values_list("user_id", flat=True)
    )
    if thread.created_by_id:
        ids.add(thread.created_by_id)
    return ids


def can_see_thread(thread: CommentThread, viewer: User) -> bool:
    """Whether `viewer` may read `thread` (`coding.sight.ThreadSight`)."""
    sight = ThreadSight.of(access_for(thread.study, viewer))
    coder = _segment_coders([thread.target_uuid]).get(str(thread.target_uuid))
    return sight.sees(thread, coder, _participants(thread))


def thread_for_user(*, viewer: User, uuid: Any) -> CommentThread:
    """The thread with this UUID if the viewer may see it; Http404 otherwise."""
    try:
        UUID(str(uuid))
    except ValueError:
        raise Http404 from None
    thread = CommentThread.objects.select_related("study").filter(uuid=uuid).first()
    if thread is None or not can_see_thread(thread, viewer):
        raise Http404
    return thread


def may_settle(thread: CommentThread, access: StudyAccess | None) -> bool:
    """Resolve or reopen `thread`: those who `moderates_comments`, its starter, and the coder of
    the segment it is about."""
    if access is None:
        return False
    if access.moderates_comments or thread.created_by_id == access.user.pk:
        return True
    return thread.target_kind == CommentThread.Target.SEGMENT and _segment_coders(
        [thread.target_uuid]
    ).get(str(thread.target_uuid)) == (access.user.pk)


# Writes -----------------------------------------------------------------------------------


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise CommentError(_("Write a comment first."))
    if len(body) > COMMENT_MAX_LENGTH:
        raise CommentError(
            _("A comment may be at most %(max)s characters; this one has %(n)s.")
            % {
                "max": number_format(COMMENT_MAX_LENGTH, force_grouping=True),
                "n": number_format(len(body), force_grouping=True),
            }
        )
    return body


def _check_target(study: Study, actor: User, kind: str, target_uuid: Any) -> UUID:
    try:
        target = UUID(str(target_uuid))
    except ValueError:
        raise CommentError(_("There is nothing to comment on here.")) from None
    if kind == CommentThread.Target.SEGMENT:
        try:
            segment = segment_for_user(viewer=actor, uuid=target)
        except Http404:
            segment = None
        if segment is None or segment.intervention.study_id != study.pk:
            raise CommentError(_("There is no such segment in this study."))
    elif kind == CommentThread.Target.CODE:
        if not Code.objects.filter(study=study, uuid=target).exists():
            raise CommentError(_("There is no such code in this study."))
    elif kind == CommentThread.Target.INTERVENTION:
        if not Intervention.objects.filter(study=study, uuid=target).exists():
            raise CommentError(_("There is no such intervention in this study."))
    else:
        raise CommentError(
            _("Comment on one of: %(kinds)s.") % {"kinds": ", ".join(CommentThread.Target.values)}
        )
    return target


def mentioned_members(study: Study, body: str) -> list[User]:
    """The study's members named as @username in `body`, each once, in order of mention."""
    names = []
    for match in MENTION_RE.finditer(body):
        name = match.group(1).rstrip(".@+-")
        if name and name not in names:
            names.append(name)
    if not names:
        return []
    members = {
        u.username: u
        for u in get_user_model().objects.filter(memberships__study=study, username__in=names)
    }
    return [members[name] for name in names if name in members]


def _notify(thread: CommentThread, comment: Comment, actor: User, earlier: set[int]) -> None:
    """Notify the mentioned and the earlier participants who may see the thread."""
    study = thread.study
    mentioned = {u.pk for u in mentioned_members(study, comment.body)}
    wanted = (mentioned | earlier) - {actor.pk}
    if not wanted:
        return
    coder = _segment_coders([thread.target_uuid]).get(str(thread.target_uuid))
    participants = earlier | {actor.pk}
    users = get_user_model().objects.filter(pk__in=wanted, memberships__study=study)
    notes = []
    for user in users:
        if not ThreadSight.of(access_for(study, user)).sees(thread, coder, participants):
            continue
        reason = Notification.Reason.MENTION if user.pk in mentioned else Notification.Reason.REPLY
        notes.append(Notification(user=user, comment=comment, reason=reason))
    Notification.objects.bulk_create(notes)
    if email_enabled():
        _queue_mails(notes)


def email_enabled() -> bool:
    """Mail only where the deployment chose a backend: never required, off by default."""
    # Documented (django.conf.settings.is_overridden) but missing from django-stubs.
    return bool(settings.is_overridden("EMAIL_BACKEND"))  # type: ignore[misc]


def _queue_mails(notes: list[Notification]) -> None:
    """A mail job for each notified user with an address, sent by the worker after the commit
    (`coding.send_comment_mail`); neither the queue nor the mail server can break the comment."""
    for note in notes:
        if note.user.email:
            job = MailJob.objects.create(notification=note)
            job_enqueue("coding.send_comment_mail", job, robust=True)


class CommentMailError(Exception):
    """A mail that could not be sent; str(error) is the message kept on its job."""


def comment_mail_send(*, notification: Notification) -> None:
    """Mail a notification's user about its comment, or raise CommentMailError."""
    comment, user = notification.comment, notification.user
    if not user.email:
        raise CommentMailError(_("%(user)s has no e-mail address.") % {"user": user.username})
    author = comment.author.username if comment.author else _("Someone")
    subject = _("%(user)s commented in %(study)s") % {
        "user": author,
        "study": comment.thread.study.name,
    }
    try:
        send_mail(subject, comment.body, None, [user.email], fail_silently=False)
    except OSError as error:  # smtplib's errors are OSErrors too
        logger.warning("Could not mail %s about comment %s: %s", user.pk, comment.pk, error)
        raise CommentMailError(
            _("The mail server did not take the mail: %(error)s") % {"error": error}
        ) from error


def _add(thread: CommentThread, actor: User, body: str) -> Comment:
    earlier = _participants(thread)
    comment = Comment.objects.create(thread=thread, author=actor, body=body)
    _notify(thread, comment, actor, earlier)
    return comment


def thread_start(
    *, study: Study, actor: User, target_kind: str, target_uuid: Any, body: str
) -> CommentThread:
    """Open a thread on a segment, code or intervention with its first comment."""
    body = _clean_body(body)
    access = access_for(study, actor)
    if access is None or not access.can_comment:
        raise CommentError(_("Only the study's members can comment."))
    target = _check_target(study, actor, target_kind, target_uuid)
    with transaction.atomic():
        thread = CommentThread.objects.create(
            study=study, target_kind=target_kind, target_uuid=target, created_by=actor
        )
        _add(thread, actor, body)
    return thread


def comment_add(*, thread: CommentThread, actor: User, body: str) -> Comment:
    """Reply in a thread; a reply to a resolved thread reopens it."""
    body = _clean_body(body)
    if not can_see_thread(thread, actor):
        raise CommentError(_("You cannot reply to this thread."))
    with transaction.atomic():
        locked = CommentThread.objects.select_for_update().get(pk=thread.pk)
        if locked.status == CommentThread.Status.RESOLVED:
            _set_status(locked, None, CommentThread.Status.OPEN)
        comment = _add(locked, actor, body)
    thread.status, thread.resolved_by, thread.resolved_at = (
        locked.status,
        locked.resolved_by,
        locked.resolved_at,
    )
    return comment


def _set_status(thread: CommentThread, actor: User | None, status: str) -> None:
    thread.status = status
    resolved = status == CommentThread.Status.RESOLVED
    thread.resolved_by = actor if resolved else None
    thread.resolved_at = timezone.now() if resolved else None
    thread.save(update_fields=["status", "resolved_by", "resolved_at"])


def _settle(thread: CommentThread, actor: User, status: str) -> CommentThread:
    if not can_see_thread(thread, actor) or not may_settle(thread, access_for(thread.study, actor)):
        raise CommentError(
            _(
                "Only the owner, the supervisor, the thread's starter and the coder of the "
                "segment can resolve or reopen this thread."
            )
        )
    with transaction.atomic():
        locked = CommentThread.objects.select_for_update().get(pk=thread.pk)
        if locked.status != status:
            _set_status(locked, actor, status)
    thread.status, thread.resolved_by_id, thread.resolved_at = (
        locked.status,
        locked.resolved_by_id,
        locked.resolved_at,
    )
    return thread


def thread_resolve(*, thread: CommentThread, actor: User) -> CommentThread:
    return _settle(thread, actor, CommentThread.Status.RESOLVED)


def thread_reopen(*, thread: CommentThread, actor: User) -> CommentThread:
    return _settle(thread, actor, CommentThread.Status.OPEN)


# Reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadRow:
    """A thread in a list, with what a page shows of it and where it points."""

    thread: CommentThread
    n_comments: int
    last_at: Any
    excerpt: str
    target_label: str
    # The intervention to open for a segment or intervention thread; None for a code or a
    # deleted segment.
    intervention_uuid: UUID | None


def _threads(study: Study) -> QuerySet[CommentThread]:
    first = Comment.objects.filter(thread=OuterRef("pk")).order_by("created_at", "pk")
    return (
        CommentThread.objects.filter(study=study)
        .select_related("created_by", "resolved_by")
        .annotate(
            n_comments=Count("comments"),
            last_at=Max("comments__created_at"),
            first_body=Subquery(first.values("body")[:1]),
        )
    )


def _rows(study: Study, viewer: User, threads: list[CommentThread]) -> list[ThreadRow]:
    sight = ThreadSight.of(access_for(study, viewer))
    if sight.access is None:
        return []
    kinds: dict[str, set[str]] = {k: set() for k in CommentThread.Target.values}
    for thread in threads:
        kinds[thread.target_kind].add(str(thread.target_uuid))
    segments = {
        str(s.uuid): s
        for s in Segment.objects.filter(uuid__in=kinds[CommentThread.Target.SEGMENT])
        .select_related("code", "intervention")
        .only(
            "uuid",
            "coder",
            "quote",
            "code",
            "code__name",
            "code__uuid",
            "intervention",
            "intervention__uuid",
        )
    }
    # Every code by its shortest unambiguous path (the template has five "Inhoud"), from
    # the one query that loads the codebook.
    children = codes_by_parent(study)
    short = short_paths(paths_from(children))
    codes = {str(code.uuid): short[code.pk] for found in children.values() for code in found}
    interventions = {
        str(uuid): (uuid, title)
        for uuid, title in Intervention.objects.filter(
            study=study, uuid__in=kinds[CommentThread.Target.INTERVENTION]
        ).values_list("uuid", "title")
    }
    # Participants matter only for threads on deleted segments; one query covers them all.
    orphans = [
        t.pk
        for t in threads
        if t.target_kind == CommentThread.Target.SEGMENT and str(t.target_uuid) not in segments
    ]
    took_part: dict[int, set[int]] = {pk: set() for pk in orphans}
    if orphans:
        for thread_id, author_id in Comment.objects.filter(thread_id__in=orphans).values_list(
            "thread_id", "author_id"
        ):
            took_part[thread_id].add(author_id)
    rows = []
    for thread in threads:
        key = str(thread.target_uuid)
        segment = segments.get(key) if thread.target_kind == CommentThread.Target.SEGMENT else None
        participants = took_part.get(thread.pk, set()) | {thread.created_by_id}
        if not sight.sees(thread, segment.coder_id if segment else None, participants):
            continue
        label, where = _target(thread, segment, codes, interventions)
        body = getattr(thread, "first_body", "") or ""
        rows.append(
            ThreadRow(
                thread=thread,
                n_comments=getattr(thread, "n_comments", 0),
                last_at=getattr(thread, "last_at", None) or thread.created_at,
                excerpt=body if len(body) <= EXCERPT_LENGTH else body[: EXCERPT_LENGTH - 1] + "…",
                target_label=label,
                intervention_uuid=where,
            )
        )
    return rows


def _target(
    thread: CommentThread,
    segment: Segment | None,
    codes: dict[str, str],
    interventions: dict[str, tuple[UUID, str]],
) -> tuple[str, UUID | None]:
    key = str(thread.target_uuid)
    if thread.target_kind == CommentThread.Target.SEGMENT:
        if segment is None:
            return _("a deleted segment"), None
        name = codes.get(str(segment.code.uuid), segment.code.name)
        return f"{name}: “{segment.quote[:60]}”", segment.intervention.uuid
    if thread.target_kind == CommentThread.Target.CODE:
        return codes.get(key, _("a deleted code")), None
    uuid, title = interventions.get(key, (None, _("a deleted intervention")))
    return title, uuid


def open_threads(study: Study, viewer: User) -> list[ThreadRow]:
    """The open threads the viewer may see, the most recently active first (the supervisor's
    list). A fixed number of queries, whatever the number of threads."""
    threads = list(
        _threads(study)
        .filter(status=CommentThread.Status.OPEN)
        .order_by("-last_at", "-created_at", "-pk")
    )
    return _rows(study, viewer, threads)


def open_thread_count(study: Study, viewer: User) -> int:
    return len(open_threads(study, viewer))


def threads_on(*, study: Study, viewer: User, target_kind: str, target_uuid: Any) -> list[Any]:
    """The threads on one segment, code or intervention that the viewer may see, oldest first,
    each with its comments and their authors loaded (`thread.comments.all()`)."""
    try:
        target = UUID(str(target_uuid))
    except ValueError:
        return []
    threads = list(
        CommentThread.objects.filter(study=study, target_kind=target_kind, target_uuid=target)
        .select_related("created_by", "resolved_by")
        .prefetch_related("comments__author")
        .order_by("created_at", "pk")
    )
    if not threads:
        return []
    sight = ThreadSight.of(access_for(study, viewer))
    coder = _segment_coders([target]).get(str(target))
    return [
        t
        for t in threads
        if sight.sees(
            t, coder, {c.author_id for c in t.comments.all() if c.author_id} | {t.created_by_id}
        )
    ]


def notifications_for(user: User, unread_only: bool = True) -> QuerySet[Notification]:
    """The user's notifications, newest first, with the comment, its author and thread."""
    notes = Notification.objects.filter(user=user).select_related(
        "comment__author", "comment__thread__study"
    )
    if unread_only:
        notes = notes.filter(read_at__isnull=True)
    return notes.order_by("-created_at", "-pk")


def notifications_seen(
    user: User, notes: Iterable[Notification]
) -> list[tuple[Notification, bool]]:
    """Each notification with whether its thread is open to `user` now (`ThreadSight`): a
    notification outlives a change of the reveal policy, and then must not quote a thread on a
    segment the reader can no longer open. A few queries per study on the page."""
    notes = list(notes)
    threads = {note.comment.thread.pk: note.comment.thread for note in notes}
    on_segments = [t for t in threads.values() if t.target_kind == CommentThread.Target.SEGMENT]
    coders = _segment_coders(t.target_uuid for t in on_segments)
    took_part: dict[int, set[int | None]] = {t.pk: {t.created_by_id} for t in on_segments}
    orphans = [t.pk for t in on_segments if str(t.target_uuid) not in coders]
    for thread_id, author_id in Comment.objects.filter(thread_id__in=orphans).values_list(
        "thread_id", "author_id"
    ):
        took_part[thread_id].add(author_id)
    sights: dict[int, ThreadSight] = {}
    seen = []
    for note in notes:
        thread = note.comment.thread
        if thread.study_id not in sights:
            sights[thread.study_id] = ThreadSight.of(access_for(thread.study, user))
        coder = coders.get(str(thread.target_uuid))
        open_now = sights[thread.study_id].sees(thread, coder, took_part.get(thread.pk, set()))
        seen.append((note, open_now))
    return seen


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_read_for_thread(*, user: User, thread: CommentThread) -> int:
    """Mark the user's notifications about comments of `thread` as read, as opening it does;
    returns how many."""
    return Notification.objects.filter(
        user=user, comment__thread=thread, read_at__isnull=True
    ).update(read_at=timezone.now())


def notification_mark_read(*, user: User, uuid: Any = None) -> int:
    """Mark one notification (by UUID) or all of the user's as read; returns how many.
    Another user's notification is never touched."""
    notes = Notification.objects.filter(user=user, read_at__isnull=True)
    if uuid is not None:
        try:
            notes = notes.filter(uuid=UUID(str(uuid)))
        except ValueError:
            return 0
    return notes.update(read_at=timezone.now())
