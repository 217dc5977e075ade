"""Coded segments: every write to them, the blind-coding reads, progress and the code report.

A segment is a span of an intervention's text in Unicode code points, `text[start:end] ==
quote` (see `Segment`; the browser converts its UTF-16 selection with `static/js/offsets.js`).
Each write owns its transaction, checks who may make it, records a `CodingEvent` with the state
before and after, and raises `SegmentError` (a message for the user) when it refuses; nothing
is written then. Writes lock the intervention's row, so two coders coding one text at once
are serialized instead of racing on the duplicate check.

Who may code is `StudyAccess.can_code`; which coders' segments a reader sees is
`coding.sight`, which the code report here asks too.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from coding.codebook.services import (
    CodebookError,
    code_create,
    code_paths,
    codes_by_parent,
    paths_from,
    subtree_code_ids,
)
from coding.codebook.tree import path_string
from coding.models import Assignment, Code, CodingEvent, InterventionProgress, Segment
from coding.sight import visible_ids
from interventions import textcache
from interventions.access import StudyAccess, access_for, members_who_code
from interventions.models import AttributeValue, Intervention, Section, Study
from veerkracht.db import retrying
from veerkracht.lib.rows import Columns, execute, insert_if, insert_together
from veerkracht.lib.spreadsheets import csv_bytes, xlsx_bytes

MEMO_MAX_LENGTH = 10_000


class SegmentError(ValueError):
    """A refused change to segments; str(error) is the message for the user."""


# Who may code ---------------------------------------------------------------------------


def _require_coding(study: Study, user: User, access: StudyAccess | None = None) -> None:
    """Refuse a user who may not code; `access` is theirs if the caller loaded it already."""
    if access is None or access.user.pk != getattr(user, "pk", None):
        access = access_for(study, user)
    if access is None or not access.can_code:
        raise SegmentError(_("You cannot code in this study: only its owner and coders code."))


def _require_own(segment: Segment, actor: User) -> None:
    if actor is None or segment.coder_id != actor.pk:
        raise SegmentError(_("Only the coder who made this segment can change it."))
    _require_coding(segment.intervention.study, actor)


# Span checks ----------------------------------------------------------------------------


def check_span(
    *,
    intervention: Intervention,
    start: Any,
    end: Any,
    quote: str,
    sections: Iterable[Section] | None = None,
) -> None:
    """Refuse a span that is not a non-empty part of the text, does not say `quote`, or
    touches a section that is not coded. `sections` saves the query when the caller has them."""
    _check_bounds(start, end)
    _check_range(start, end, len(intervention.text))
    _check_quote(intervention.text[start:end], quote)
    if sections is None:
        sections = Section.objects.filter(intervention=intervention, excluded=True)
    for section in sections:
        if section.excluded and section.start < end and start < section.end:
            _refuse_excluded(start, end, section.heading)


def _check_bounds(start: Any, end: Any) -> None:
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (start, end)):
        raise SegmentError(_("The start and end of a segment must be whole numbers."))
    if start >= end:
        raise SegmentError(
            _("The span %(start)s–%(end)s is empty: its end must come after its start.")
            % {"start": start, "end": end}
        )


def _check_range(start: int, end: int, length: int) -> None:
    if start < 0 or end > length:
        raise SegmentError(
            _("The span %(start)s–%(end)s lies outside the text, which has %(length)s characters.")
            % {"start": start, "end": end, "length": length}
        )


def _check_quote(said: str, quote: str) -> None:
    if said != quote:
        raise SegmentError(
            _(
                "The text here does not match your selection; the page may be out of date. "
                "Reload and select again."
            )
        )


def _refuse_excluded(start: int, end: int, heading: str) -> None:
    raise SegmentError(
        _("The span %(start)s–%(end)s is in the section ‘%(heading)s’, which is not coded.")
        % {"start": start, "end": end, "heading": heading}
    )


def _check_found_span(start: int, end: int, quote: str, found: dict[str, Any]) -> None:
    """`check_span` on what `_span_under_lock` read instead of the whole text."""
    _check_range(start, end, found["length"])
    _check_quote(found["said"], quote)
    if found["excluded"] is not None:
        _refuse_excluded(start, end, found["excluded"])


def check_code(code: Code, study: Study) -> None:
    """Refuse a code of another study (a stale page, a forged form)."""
    if code.study_id != study.pk:
        raise SegmentError(_("The code “%(name)s” belongs to another study.") % {"name": code.name})


def _check_not_given(
    *, intervention: Intervention, coder: User, code: Code, start: int, end: int, exclude: int = 0
) -> None:
    given = Segment.objects.filter(
        intervention=intervention, coder=coder, code=code, start=start, end=end
    ).exclude(pk=exclude)
    if given.exists():
        raise SegmentError(
            _("You have given “%(code)s” to exactly this text already.") % {"code": code.name}
        )


def _clean_memo(memo: str) -> str:
    memo = memo.strip()
    if len(memo) > MEMO_MAX_LENGTH:
        raise SegmentError(
            _("A memo may be at most %(max)s characters; this one has %(n)s.")
            % {
                "max": number_format(MEMO_MAX_LENGTH, force_grouping=True),
                "n": number_format(len(memo), force_grouping=True),
            }
        )
    return memo


def _lock(intervention: Intervention) -> Intervention:
    """The intervention's row, locked until the transaction ends (PostgreSQL; SQLite
    serializes writers anyway), with its current text.

    The lock reads only the row's change time: when the caller's copy is as new, it holds the
    current text already and a long text is not sent over again.
    """
    locked = (
        Intervention.objects.select_for_update().only("pk", "updated_at").get(pk=intervention.pk)
    )
    if "text" not in intervention.get_deferred_fields() and (
        locked.updated_at == intervention.updated_at
    ):
        return intervention
    return Intervention.objects.select_related("study").get(pk=intervention.pk)


def _path(paths: dict[int, tuple[str, ...]], code: Code) -> str:
    return path_string(paths.get(code.pk, (code.name,)))


def _state(segment: Segment, path: str) -> dict[str, Any]:
    return {
        "intervention": str(segment.intervention.uuid),
        "coder": segment.coder.username if segment.coder else "",
        "code": path,
        "start": segment.start,
        "end": segment.end,
        "quote": segment.quote,
        "memo": segment.memo,
    }


def _event(
    *,
    segment: Segment,
    actor: User,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> CodingEvent:
    """The unsaved event of a change to `segment`."""
    return CodingEvent(
        study_id=segment.code.study_id,
        actor=actor,
        action=action,
        code=segment.code,
        code_uuid=segment.code.uuid,
        code_name=segment.code.name,
        segment_uuid=segment.uuid,
        before=before or {},
        after=after or {},
    )


def _record(
    *,
    segment: Segment,
    actor: User,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> CodingEvent:
    event = _event(segment=segment, actor=actor, action=action, before=before, after=after)
    event.save()
    return event


# Writes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    """The segments `segments_apply_counted` stored, and how many segments each of their codes
    has now, this change included: code id -> (in this text, in the study), of the coders
    counted."""

    segments: list[Segment]
    counts: dict[int, tuple[int, int]]


def segments_apply(
    *,
    intervention: Intervention,
    coder: User,
    codes: Sequence[Code],
    start: int,
    end: int,
    quote: str,
    memo: str = "",
    access: StudyAccess | None = None,
    paths: dict[int, tuple[str, ...]] | None = None,
) -> list[Segment]:
    """Give one span several codes at once; all or nothing. A code listed twice counts once.

    `access` is the coder's and `paths` the codebook's paths (`paths_from`) when the caller
    has loaded them for this request already. The span is checked against the text this
    process keeps (`interventions.textcache`; read with the row lock when it has none). Then
    the write is one statement on PostgreSQL (`_apply_at_once`), else the row lock, which also
    reads any section not coded that the span touches, and the segments with their events. A
    span given the same code by the same coder twice is refused by the database's unique
    constraint, so two clicks at once store one segment.
    """
    return segments_apply_counted(
        intervention=intervention,
        coder=coder,
        codes=codes,
        start=start,
        end=end,
        quote=quote,
        memo=memo,
        access=access,
        paths=paths,
    ).segments


def segments_apply_counted(
    *,
    intervention: Intervention,
    coder: User,
    codes: Sequence[Code],
    start: int,
    end: int,
    quote: str,
    memo: str = "",
    access: StudyAccess | None = None,
    paths: dict[int, tuple[str, ...]] | None = None,
    counted: Collection[int] | QuerySet[Any] = (),
) -> Applied:
    """`segments_apply`, and the counts of its codes for the coder's page: the segments of the
    coder and of the `counted` coders (ids, or a subquery of them: `coding.sight.counted_coders`
    decides who may be counted), read by the row lock's query, so no query of their own."""
    study = intervention.study
    _require_coding(study, coder, access)
    unique: dict[int, Code] = {}
    for code in codes:
        check_code(code, study)
        unique.setdefault(code.pk, code)
    if not unique:
        raise SegmentError(_("Choose at least one code for the selected text."))
    memo = _clean_memo(memo)
    _check_bounds(start, end)
    if paths is None or any(code.pk not in paths for code in unique.values()):
        paths = code_paths(study)

    def made() -> tuple[list[Segment], list[CodingEvent]]:
        created = [
            Segment(
                intervention=intervention,
                code=code,
                coder=coder,
                start=start,
                end=end,
                quote=quote,
                memo=memo,
            )
            for code in unique.values()
        ]
        events = [
            _event(
                segment=segment,
                actor=coder,
                action="segment_create",
                after=_state(segment, _path(paths, segment.code)),
            )
            for segment in created
        ]
        return created, events

    def write() -> Applied:
        if connection.vendor == "postgresql":
            applied = _apply_at_once(
                intervention=intervention,
                coder=coder,
                start=start,
                end=end,
                quote=quote,
                code_ids=unique,
                counted=counted,
                made=made,
            )
            if applied is not None:
                return applied
        with transaction.atomic():
            found = _span_under_lock(
                intervention=intervention,
                coder=coder,
                start=start,
                end=end,
                code_ids=unique,
                counted=counted,
            )
            _check_found_span(start, end, quote, found)
            created, events = made()
            # The segments and their events in one statement on PostgreSQL: a round trip less.
            insert_together(created, events)
        # Counted before the insert, under the lock: the coder's new segment adds one.
        counts = {pk: (found[f"here_{pk}"] + 1, found[f"total_{pk}"] + 1) for pk in unique}
        return Applied(created, counts)

    try:
        return retrying(write)
    except IntegrityError:
        given = Segment.objects.filter(
            intervention=intervention, coder=coder, start=start, end=end, code__in=list(unique)
        ).values_list("code_id", flat=True)
        for code_id in given:
            raise SegmentError(
                _("You have given “%(code)s” to exactly this text already.")
                % {"code": unique[code_id].name}
            ) from None
        raise


def _apply_at_once(
    *,
    intervention: Intervention,
    coder: User,
    start: int,
    end: int,
    quote: str,
    code_ids: Collection[int],
    counted: Collection[int] | QuerySet[Any],
    made: Callable[[], tuple[list[Segment], list[CodingEvent]]],
) -> Applied | None:
    """PostgreSQL, the common case: the write of `segments_apply_counted` as one statement
    (`rows.insert_if`), which outside a transaction is a transaction of its own: one round
    trip instead of BEGIN, the lock's query, the insert and COMMIT.

    It writes only what the general path would: the span was checked against the text this
    process keeps (`textcache`, the version the request read), and the statement locks the
    intervention's row, writes only while that row still has that version, and only when no
    section that is not coded touches the span. Otherwise it writes nothing and answers None:
    the general path then decides, and explains a refusal."""
    version = intervention.__dict__.get("updated_at")
    text = textcache.texts.get(intervention.pk, version) if version is not None else None
    if text is None or start < 0 or end > len(text) or text[start:end] != quote:
        return None
    q = connection.ops.quote_name
    interventions, section = q(Intervention._meta.db_table), q(Section._meta.db_table)
    condition = (
        f"SELECT i.{q('id')} FROM {interventions} i WHERE i.{q('id')} = %s "
        f"AND i.{q('updated_at')} = %s AND NOT EXISTS (SELECT 1 FROM {section} x "
        f"WHERE x.{q('intervention_id')} = i.{q('id')} AND x.{q('excluded')} "
        f"AND x.{q('start')} < %s AND x.{q('end')} > %s) FOR UPDATE"
    )
    stamp = Intervention._meta.get_field("updated_at").get_db_prep_value(version, connection)
    columns, params, names = _count_columns(
        code_ids, coder, counted, "%s", [intervention.pk], "%s", [intervention.study_id]
    )
    created, events = made()
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        keys, counts = insert_if(
            condition,
            [intervention.pk, stamp, end, start],
            created,
            events,
            answer=columns,
            answer_params=params,
        )
    if keys is None:
        return None
    found = dict(zip(names, counts, strict=True))
    # Counted from the statement's snapshot, before its insert: the new segment adds one.
    return Applied(
        created, {pk: (found[f"here_{pk}"] + 1, found[f"total_{pk}"] + 1) for pk in code_ids}
    )


def _count_columns(
    code_ids: Iterable[int],
    coder: User,
    counted: Collection[int] | QuerySet[Any],
    intervention_sql: str,
    intervention_params: list[Any],
    study_sql: str,
    study_params: list[Any],
) -> tuple[list[str], list[Any], list[str]]:
    """For each code, the scalar subqueries counting the segments of the coder and of the
    `counted` coders in the intervention (`here_<id>`) and in the study (`total_<id>`), which
    `intervention_sql` and `study_sql` name (a column, or a placeholder of their params)."""
    q = connection.ops.quote_name
    segment = q(Segment._meta.db_table)
    interventions = q(Intervention._meta.db_table)
    if isinstance(counted, QuerySet):
        counted_sql, counted_params = counted.query.sql_with_params()
    else:
        ids = sorted({int(pk) for pk in counted} | {coder.pk})
        counted_sql, counted_params = ", ".join(["%s"] * len(ids)), tuple(ids)
    coders = f"({q('coder_id')} = %s OR {q('coder_id')} IN ({counted_sql}))"
    columns: list[str] = []
    params: list[Any] = []
    names: list[str] = []
    for pk in code_ids:
        columns.append(
            f"(SELECT COUNT(*) FROM {segment} WHERE {q('intervention_id')} = {intervention_sql} "
            f"AND {q('code_id')} = %s AND {coders})"
        )
        columns.append(
            f"(SELECT COUNT(*) FROM {segment} s JOIN {interventions} j "
            f"ON s.{q('intervention_id')} = j.{q('id')} "
            f"WHERE j.{q('study_id')} = {study_sql} AND s.{q('code_id')} = %s AND {coders})"
        )
        params += [*intervention_params, pk, coder.pk, *counted_params]
        params += [*study_params, pk, coder.pk, *counted_params]
        names += [f"here_{pk}", f"total_{pk}"]
    return columns, params, names


def _span_under_lock(
    *,
    intervention: Intervention,
    coder: User,
    start: int,
    end: int,
    code_ids: Iterable[int],
    counted: Collection[int] | QuerySet[Any],
) -> dict[str, Any]:
    """Lock the intervention's row until the transaction ends (PostgreSQL; SQLite serializes
    writers anyway) and read, under the lock, what the span's check needs: the text's `length`,
    its characters from `start` to `end` (`said`) and the heading of the first section not
    coded that the span touches (`excluded`, None if none); and for each code the segments of
    the coder and the `counted` coders in this text (`here_<id>`) and in the study
    (`total_<id>`).

    The text comes from the process's `textcache` when it holds the version the lock finds
    (`updated_at`), and is read with the lock otherwise: a long text costs the database more
    to read than the rest of the query.

    Written as SQL: built with the ORM, its subqueries cost more CPU to compile than the rest
    of applying a code. Every value is a parameter; both databases take this SQL as it is.
    """
    q = connection.ops.quote_name
    section = q(Section._meta.db_table)
    interventions = q(Intervention._meta.db_table)
    known = textcache.texts.get(intervention.pk, intervention.__dict__.get("updated_at"))
    read = _VERSION if known is not None else _VERSION_AND_TEXT
    counts, count_params, count_names = _count_columns(
        code_ids, coder, counted, f"i.{q('id')}", [], f"i.{q('study_id')}", []
    )
    columns = [
        read.sql(),
        f"(SELECT {q('heading')} FROM {section} WHERE {q('intervention_id')} = i.{q('id')} "
        f"AND {q('excluded')} AND {q('start')} < %s AND {q('end')} > %s "
        f"ORDER BY {q('start')} LIMIT 1)",
        *counts,
    ]
    params: list[Any] = [end, start, *count_params]
    names = ["excluded", *count_names]
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT {', '.join(columns)} FROM {interventions} i WHERE i.{q('id')} = %s{lock}"
    with connection.cursor() as cursor:
        execute(cursor, sql, [*params, intervention.pk])
        row = cursor.fetchone()
    if row is None:
        raise SegmentError(_("This text was deleted meanwhile."))
    found = read.values(row)
    text = found.get("text")
    if text is None and found["updated_at"] != intervention.__dict__.get("updated_at"):
        # Changed since the page's request read it (possible only while nothing was coded).
        text = Intervention.objects.values_list("text", flat=True).get(pk=intervention.pk)
    if text is not None:
        textcache.texts.put(intervention.pk, found["updated_at"], text)
    else:
        text = known
    assert text is not None
    answer = dict(zip(names, row[len(read) :], strict=True))
    answer.update(length=len(text), said=text[max(start, 0) : end])
    return answer


# What `_span_under_lock` reads of the intervention itself.
_VERSION = Columns(Intervention, "i", only=["updated_at"])
_VERSION_AND_TEXT = Columns(Intervention, "i", only=["updated_at", "text"])


def segment_create(
    *,
    intervention: Intervention,
    coder: User,
    code: Code,
    start: int,
    end: int,
    quote: str,
    memo: str = "",
) -> Segment:
    """Code the span `intervention.text[start:end]`, which must equal `quote`."""
    (segment,) = segments_apply(
        intervention=intervention,
        coder=coder,
        codes=[code],
        start=start,
        end=end,
        quote=quote,
        memo=memo,
    )
    return segment


def _fresh(segment: Segment) -> Segment:
    """The segment as stored now, after its intervention was locked."""
    current = (
        Segment.objects.select_related("code", "coder", "intervention__study")
        .filter(pk=segment.pk)
        .first()
    )
    if current is None:
        raise SegmentError(_("This segment was deleted meanwhile."))
    return current


def segment_update_bounds(
    *, segment: Segment, actor: User, start: int, end: int, quote: str
) -> Segment:
    """Move a segment's span; only its own coder may."""
    with transaction.atomic():
        locked = _lock(segment.intervention)
        current = _fresh(segment)
        _require_own(current, actor)
        check_span(intervention=locked, start=start, end=end, quote=quote)
        if (current.start, current.end) == (start, end):
            return current
        _check_not_given(
            intervention=locked,
            coder=actor,
            code=current.code,
            start=start,
            end=end,
            exclude=current.pk,
        )
        before = {"start": current.start, "end": current.end, "quote": current.quote}
        current.start, current.end, current.quote = start, end, quote
        current.save(update_fields=["start", "end", "quote", "updated_at"])
        _record(
            segment=current,
            actor=actor,
            action="segment_update_bounds",
            before=before,
            after={"start": start, "end": end, "quote": quote},
        )
    return current


def segment_set_memo(*, segment: Segment, actor: User, memo: str) -> Segment:
    """Write a segment's memo (at most 10,000 characters); only its own coder may."""
    memo = _clean_memo(memo)
    with transaction.atomic():
        _lock(segment.intervention)
        current = _fresh(segment)
        _require_own(current, actor)
        if current.memo == memo:
            return current
        before = {"memo": current.memo}
        current.memo = memo
        current.save(update_fields=["memo", "updated_at"])
        _record(
            segment=current,
            actor=actor,
            action="segment_set_memo",
            before=before,
            after={"memo": memo},
        )
    return current


def segment_change_code(*, segment: Segment, actor: User, code: Code) -> Segment:
    """Give a segment another code of the same study; only its own coder may."""
    with transaction.atomic():
        locked = _lock(segment.intervention)
        current = _fresh(segment)
        _require_own(current, actor)
        check_code(code, locked.study)
        if current.code_id == code.pk:
            return current
        _check_not_given(
            intervention=locked,
            coder=actor,
            code=code,
            start=current.start,
            end=current.end,
            exclude=current.pk,
        )
        paths = code_paths(locked.study)
        before = {"code": _path(paths, current.code), "code_uuid": str(current.code.uuid)}
        current.code = code
        current.save(update_fields=["code", "updated_at"])
        _record(
            segment=current,
            actor=actor,
            action="segment_change_code",
            before=before,
            after={"code": _path(paths, code), "code_uuid": str(code.uuid)},
        )
    return current


def segment_delete(*, segment: Segment, actor: User) -> None:
    """Remove a segment; only its own coder may. The event keeps everything it held."""
    with transaction.atomic():
        locked = _lock(segment.intervention)
        current = _fresh(segment)
        _require_own(current, actor)
        before = _state(current, _path(code_paths(locked.study), current.code))
        _record(segment=current, actor=actor, action="segment_delete", before=before)
        # Code.example_segment is SET_NULL, so a code that showed this segment loses its example.
        current.delete()


def code_create_from_picker(
    *, study: Study, actor: User, name: str, parent: Code | None = None
) -> Code:
    """A new code made while coding: always inductive."""
    _require_coding(study, actor)
    try:
        return code_create(
            study=study, actor=actor, name=name, parent=parent, origin=Code.Origin.INDUCTIVE
        )
    except CodebookError as error:
        raise SegmentError(str(error)) from error


# Progress -------------------------------------------------------------------------------


def progress_set(*, intervention: Intervention, coder: User, done: bool) -> None:
    """Mark an intervention as completely coded by `coder`, or not any more."""
    _require_coding(intervention.study, coder)
    with transaction.atomic():
        if done:
            InterventionProgress.objects.get_or_create(intervention=intervention, coder=coder)
        else:
            InterventionProgress.objects.filter(intervention=intervention, coder=coder).delete()


def progress_for_study(study: Study) -> dict[int, dict[int, bool]]:
    """For every member who codes (owner and coders): intervention id -> done."""
    coder_ids = list(members_who_code(study).values_list("user_id", flat=True))
    intervention_ids = list(Intervention.objects.filter(study=study).values_list("pk", flat=True))
    done = set(
        InterventionProgress.objects.filter(intervention__study=study).values_list(
            "coder_id", "intervention_id"
        )
    )
    return {
        coder_id: {pk: (coder_id, pk) in done for pk in intervention_ids} for coder_id in coder_ids
    }


def coder_neighbours(
    *, intervention: Intervention, coder: User
) -> tuple[Intervention | None, Intervention | None]:
    """The interventions before and after this one in title order, in the coder's list.

    A coder with assignments in the study walks through their assigned interventions; without
    any (a study that does not assign), through all of them.
    """
    siblings = Intervention.objects.filter(study_id=intervention.study_id).only(
        "pk", "uuid", "title", "study_id"
    )
    assigned = Assignment.objects.filter(
        coder_id=getattr(coder, "pk", None), intervention__study_id=intervention.study_id
    )
    if assigned.exists():
        siblings = siblings.filter(assignments__coder_id=coder.pk)
    previous = siblings.filter(title__lt=intervention.title).order_by("-title").first()
    following = siblings.filter(title__gt=intervention.title).order_by("title").first()
    return previous, following


def context_before(text: str, start: int, context: int) -> str:
    """Up to `context` characters before `start`, not starting mid-word."""
    cut = max(0, start - context)
    snippet = text[cut:start]
    if cut > 0 and snippet and not snippet[0].isspace() and not text[cut - 1].isspace():
        space = next((i for i, ch in enumerate(snippet) if ch.isspace()), None)
        snippet = "" if space is None else snippet[space:]
    return snippet


def context_after(text: str, end: int, context: int) -> str:
    """Up to `context` characters after `end`, not ending mid-word."""
    cut = min(len(text), end + context)
    snippet = text[end:cut]
    if cut < len(text) and snippet and not snippet[-1].isspace() and not text[cut].isspace():
        space = next((i for i in range(len(snippet) - 1, -1, -1) if snippet[i].isspace()), None)
        snippet = "" if space is None else snippet[: space + 1]
    return snippet


# The code report --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    segment_uuid: UUID
    intervention_uuid: UUID
    intervention_title: str
    coder: str
    code_path: str
    start: int
    end: int
    quote: str
    before: str
    after: str
    memo: str


def in_interventions(
    segments: QuerySet[Any],
    *,
    intervention_id: int | None = None,
    attributes: dict[int, str] | None = None,
) -> QuerySet[Any]:
    """Segments (or consensus segments) of one intervention when `intervention_id` is given, and
    of interventions having every value of `attributes` (definition id -> value)."""
    if intervention_id is not None:
        segments = segments.filter(intervention_id=intervention_id)
    for definition_id, value in (attributes or {}).items():
        segments = segments.filter(
            Exists(
                AttributeValue.objects.filter(
                    intervention=OuterRef("intervention"), definition_id=definition_id, value=value
                )
            )
        )
    return segments


def code_report(
    *,
    study: Study,
    viewer: User,
    code: Code,
    include_subcodes: bool = True,
    coder_id: int | None = None,
    intervention_id: int | None = None,
    attributes: dict[int, str] | None = None,
    context: int = 60,
) -> list[ReportRow]:
    """Every visible segment of `code` (and its subcodes) with its surrounding text.

    Ordered by intervention title, then text position. `attributes` (definition id -> value)
    keeps interventions having all those values. A fixed number of queries whatever the size.
    """
    check_code(code, study)
    visible = visible_ids(access_for(study, viewer))
    if coder_id is not None:
        visible &= {coder_id}
    children = codes_by_parent(study)
    paths = paths_from(children)
    code_ids = subtree_code_ids(code, children) if include_subcodes else {code.pk}
    segments = in_interventions(
        Segment.objects.filter(
            intervention__study=study, code_id__in=code_ids, coder_id__in=visible
        ),
        intervention_id=intervention_id,
        attributes=attributes,
    )
    # The texts are loaded once per intervention below, not once per segment.
    rows = list(
        segments.order_by(
            "intervention__title", "start", "end", "coder__username", "pk"
        ).values_list(
            "uuid",
            "intervention_id",
            "coder__username",
            "code_id",
            "start",
            "end",
            "quote",
            "memo",
        )
    )
    interventions = {
        i.pk: i
        for i in Intervention.objects.filter(pk__in={row[1] for row in rows}).only(
            "pk", "uuid", "title", "text"
        )
    }
    return [
        report_row(
            intervention=interventions[intervention_pk],
            uuid=uuid,
            coder=username,
            code_path=path_string(paths.get(code_pk, ())),
            start=start,
            end=end,
            quote=quote,
            memo=memo,
            context=context,
        )
        for uuid, intervention_pk, username, code_pk, start, end, quote, memo in rows
    ]


def report_row(
    *,
    intervention: Intervention,
    uuid: UUID,
    coder: str,
    code_path: str,
    start: int,
    end: int,
    quote: str,
    memo: str,
    context: int,
) -> ReportRow:
    """One row of the code report, with up to `context` characters around the quote."""
    return ReportRow(
        segment_uuid=uuid,
        intervention_uuid=intervention.uuid,
        intervention_title=intervention.title,
        coder=coder,
        code_path=code_path,
        start=start,
        end=end,
        quote=quote,
        before=context_before(intervention.text, start, context),
        after=context_after(intervention.text, end, context),
        memo=memo,
    )


REPORT_HEADERS = [
    "intervention",
    "code",
    "coder",
    "start",
    "end",
    "before",
    "text",
    "after",
    "memo",
    "segment",
]


def code_report_rows_as_table(rows: Iterable[ReportRow]) -> tuple[list[str], list[list[Any]]]:
    """Headers and cells for a spreadsheet of the report."""
    return list(REPORT_HEADERS), [
        [
            row.intervention_title,
            row.code_path,
            row.coder,
            row.start,
            row.end,
            row.before,
            row.quote,
            row.after,
            row.memo,
            str(row.segment_uuid),
        ]
        for row in rows
    ]


def code_report_export(rows: Iterable[ReportRow], fmt: str) -> bytes:
    """The report as "csv" (UTF-8 with BOM) or "xlsx"."""
    headers, cells = code_report_rows_as_table(rows)
    return table_export(headers, cells, fmt, title="Segments")


# Tables in and out ------------------------------------------------------------------------


def table_export(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, *, title: str
) -> bytes:
    """A table as CSV (UTF-8 with a BOM so Excel reads it, CRLF rows) or XLSX."""
    if fmt == "csv":
        return csv_bytes(headers, rows)
    if fmt == "xlsx":
        return xlsx_bytes(headers, rows, title=title)
    raise SegmentError(_("Choose csv or xlsx, not “%(fmt)s”.") % {"fmt": fmt})
