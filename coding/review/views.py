"""Review: comment threads, notifications and the codebook's approval.

The writes live in `coding.review.comments` and `coding.codebook.services`; these views fetch
through the access helpers (404 outsiders, 403 a missing right), call one write and redirect. A
refused comment answers 400 with the message and stores nothing."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from coding.codebook import services
from coding.codebook.outline import SEPARATOR
from coding.models import Code, CodebookVersion, CommentThread, Segment
from coding.review import comments
from coding.review.comments import CommentError
from coding.review.dashboard import pending_codebook_changes
from coding.review.forms import ApproveForm, ReplyForm, ThreadStartForm
from interventions.access import StudyAccess, get_study_for_user
from interventions.models import Intervention, Membership
from veerkracht.lib.forms import form_error
from veerkracht.lib.http import HtmxHttpRequest

NOTIFICATIONS_PER_PAGE = 50


# Threads ----------------------------------------------------------------------------------


def _member_names(access: StudyAccess) -> set[str]:
    return set(
        Membership.objects.filter(study=access.study).values_list("user__username", flat=True)
    )


def _threads_page(
    request: HtmxHttpRequest,
    access: StudyAccess,
    form: ThreadStartForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    study = access.study
    if form is None:
        initial = {"target": request.GET.get("target", "")}
        form = ThreadStartForm(study=study, initial=initial)
    context = {
        "access": access,
        "study": study,
        "rows": comments.open_threads(study, request.user),
        "form": form,
        "selected": form["target"].value() or "",
        "error": error,
        "member_names": _member_names(access),
    }
    return render(request, "coding/review/comments.html", context, status=status)


@login_required
@require_GET
def thread_list(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    return _threads_page(request, access)


@login_required
@require_POST
def thread_start(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    form = ThreadStartForm(request.POST, study=access.study)
    if not form.is_valid():
        return _threads_page(request, access, form, form_error(form), status=400)
    kind, uuid = form.cleaned_data["target"]
    try:
        thread = comments.thread_start(
            study=access.study,
            actor=request.user,
            target_kind=kind,
            target_uuid=uuid,
            body=form.cleaned_data["body"],
        )
    except CommentError as error:
        return _threads_page(request, access, form, str(error), status=400)
    back = _safe_next(request)
    if back:
        messages.success(request, _("Discussion started."))
        return redirect(back)
    return redirect("comment_thread", slug=slug, uuid=thread.uuid)


def _safe_next(request: HtmxHttpRequest) -> str:
    """The posted `next` when it leads back into this site, "" otherwise."""
    back = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return back if back and allowed else ""


def _thread(request: HtmxHttpRequest, slug: str, uuid: UUID) -> tuple[StudyAccess, CommentThread]:
    access = get_study_for_user(request.user, slug)
    thread = comments.thread_for_user(viewer=request.user, uuid=uuid)
    if thread.study_id != access.study.pk:
        raise Http404
    return access, thread


def _target(thread: CommentThread) -> dict[str, Any]:
    """What the thread is about, with a link where there is one to follow."""
    kind, key = thread.target_kind, thread.target_uuid
    if kind == CommentThread.Target.CODE:
        code = Code.objects.filter(study=thread.study, uuid=key).only("name", "uuid").first()
        if code is None:
            return {"label": _("a deleted code"), "code": None}
        return {
            "label": services.short_code_paths(thread.study).get(code.pk, code.name),
            "code": code,
        }
    if kind == CommentThread.Target.INTERVENTION:
        item = Intervention.objects.filter(study=thread.study, uuid=key).only("title").first()
        return {"label": item.title if item else _("a deleted intervention"), "intervention": item}
    # thread_for_user let the viewer see the thread, so they may see its segment.
    segment = Segment.objects.filter(uuid=key).select_related("code", "intervention").first()
    if segment is None:
        return {"label": _("a deleted segment")}
    name = services.short_code_paths(thread.study).get(segment.code_id, segment.code.name)
    return {
        "label": f"{name}: “{segment.quote[:60]}”",
        "intervention": segment.intervention,
    }


def _thread_page(
    request: HtmxHttpRequest,
    access: StudyAccess,
    thread: CommentThread,
    form: ReplyForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "access": access,
        "study": access.study,
        "thread": thread,
        "target": _target(thread),
        "thread_comments": thread.comments.select_related("author").order_by("created_at", "pk"),
        "form": form or ReplyForm(),
        "error": error,
        "may_settle": comments.may_settle(thread, access),
        "member_names": _member_names(access),
    }
    return render(request, "coding/review/thread.html", context, status=status)


@login_required
@require_GET
def thread_detail(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, thread = _thread(request, slug, uuid)
    # Whoever opens a thread has read its news: the bell stops counting it.
    comments.notifications_read_for_thread(user=request.user, thread=thread)
    return _thread_page(request, access, thread)


@login_required
@require_POST
def thread_reply(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access, thread = _thread(request, slug, uuid)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _thread_page(request, access, thread, form, form_error(form), status=400)
    try:
        comments.comment_add(thread=thread, actor=request.user, body=form.cleaned_data["body"])
    except CommentError as error:
        return _thread_page(request, access, thread, form, str(error), status=400)
    return redirect("comment_thread", slug=slug, uuid=thread.uuid)


def _settle(request: HtmxHttpRequest, slug: str, uuid: UUID, *, resolve: bool) -> HttpResponse:
    access, thread = _thread(request, slug, uuid)
    action = comments.thread_resolve if resolve else comments.thread_reopen
    try:
        action(thread=thread, actor=request.user)
    except CommentError as error:
        return _thread_page(request, access, thread, error=str(error), status=400)
    messages.success(request, _("Thread resolved.") if resolve else _("Thread reopened."))
    return redirect("comment_thread", slug=slug, uuid=thread.uuid)


@login_required
@require_POST
def thread_resolve(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    return _settle(request, slug, uuid, resolve=True)


@login_required
@require_POST
def thread_reopen(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    return _settle(request, slug, uuid, resolve=False)


# Notifications ----------------------------------------------------------------------------


@login_required
@require_GET
def notifications(request: HtmxHttpRequest) -> HttpResponse:
    notes = comments.notifications_for(request.user, unread_only=False)
    page = Paginator(notes, NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "notes": comments.notifications_seen(request.user, page.object_list),
        "unread": comments.unread_count(request.user),
    }
    return render(request, "coding/review/notifications.html", context)


@login_required
@require_POST
def notifications_read(request: HtmxHttpRequest) -> HttpResponse:
    """Mark one notification (the `notification` field, a UUID) or all of them as read."""
    comments.notification_mark_read(user=request.user, uuid=request.POST.get("notification"))
    return redirect("notifications")


# Codebook approval ------------------------------------------------------------------------


def _review_context(access: StudyAccess) -> dict[str, Any]:
    return {
        "access": access,
        "study": access.study,
        "pending": pending_codebook_changes(access.study),
        "can_approve": access.can_approve,
        "separator": SEPARATOR,
    }


@login_required
@require_GET
def codebook_review(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    return render(request, "coding/review/codebook.html", _review_context(access))


@login_required
@require_POST
def codebook_approve(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Approve the codebook, the supervisor only: a saved `version` (the versions page), or the
    current codebook saved as a new version and approved, both or neither (this page)."""
    access = get_study_for_user(request.user, slug, need="can_approve")
    form = ApproveForm(request.POST)
    try:
        if not form.is_valid():
            raise services.CodebookError(form_error(form))
        number = form.cleaned_data["version"]
        if number is None:
            version = services.codebook_approve(study=access.study, actor=request.user)
            notice = _("Saved and approved as version %(n)s, “%(label)s”.")
            back = "codebook_review"
        else:
            version = get_object_or_404(CodebookVersion, study=access.study, number=number)
            services.version_approve(version=version, actor=request.user)
            notice = _("Version %(n)s approved.")
            back = "codebook_versions"
    except services.CodebookError as error:
        messages.error(request, str(error))
        context = _review_context(access)
        return render(request, "coding/review/codebook.html", context, status=400)
    messages.success(request, notice % {"n": version.number, "label": version.label})
    return redirect(back, slug=slug)
