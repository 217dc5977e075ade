"""Text search across a study's corpus, and auto-coding of what it finds.

A query is one or more terms separated by spaces, any of which may match; a term in double quotes
is a phrase ("sociale steun"), a term ending in `*` a prefix (`veerkracht*`). By default the search
ignores case and diacritics ("financiele" finds "financiële") and matches inside words; `whole_word`
keeps whole words only. With `regex` the query is a regular expression (case-insensitive), run
with a time limit.

Case and diacritics are ignored by searching a folded copy of each text in which every character
stands for one character of the original (`veerkracht.lib.textfold`), so a hit's start and end
are code-point offsets into the stored text, as segments count them. The folded copies are kept
in `SearchText` and made again when a text changed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import regex
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from coding.codebook.services import code_paths
from coding.codebook.tree import path_string
from coding.models import Code, CodingEvent, SearchText, Segment
from coding.segments import SegmentError, check_code, check_span
from interventions.access import access_for
from interventions.models import Intervention, Section, Study
from veerkracht.lib.textfold import fold

QUERY_MAX_LENGTH = 200
REGEX_TIMEOUT_SECONDS = 2.0
CONTEXT = 60
GRANULARITIES = ("hit", "sentence", "paragraph")
AUTOCODE = "segments_autocode"
AUTOCODE_UNDO = "segments_autocode_undo"


class SearchError(ValueError):
    """A query that cannot run; str(error) is the message for the user."""


@dataclass(frozen=True)
class Hit:
    """One match: code-point offsets into its intervention's `text` (shared, not copied)."""

    intervention_id: int
    title: str
    start: int
    end: int
    text: str = field(repr=False)

    @property
    def match(self) -> str:
        return self.text[self.start : self.end]

    @property
    def before(self) -> str:
        return self.text[max(0, self.start - CONTEXT) : self.start]

    @property
    def after(self) -> str:
        return self.text[self.end : self.end + CONTEXT]


@dataclass
class SearchResult:
    query: str
    hits: list[Hit]
    n_interventions: int  # interventions searched

    @property
    def per_intervention(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for hit in self.hits:
            counts[hit.title] += 1
        return dict(counts)

    def as_json(self) -> dict[str, object]:
        per = self.per_intervention
        return {
            "query": self.query,
            "interventions": len(per),
            "hits": len(self.hits),
            "per_intervention": per,
        }


# Compiling a query ------------------------------------------------------------------------


def _terms(query: str) -> list[str]:
    terms: list[str] = []
    for quoted, plain in re.findall(r'"([^"]*)"|(\S+)', query):
        term = (quoted or plain).strip()
        if term:
            terms.append(term)
    return terms


def _term_pattern(term: str, whole_word: bool) -> str:
    """A term as a pattern over folded text. Word boundaries are checked after the first word
    (a fixed-width look-behind), so the pattern still starts with plain letters, which the
    regular expression engine finds fast."""
    prefix = term.endswith("*")
    term = term.rstrip("*")
    if not term:
        raise SearchError(_("A search term needs at least one letter before the *."))
    words = [re.escape(fold(word)) for word in term.split()]
    pattern = words[0]
    if whole_word or prefix:
        pattern += rf"(?<!\w{words[0]})"
    for word in words[1:]:
        pattern += r"\s+" + word
    if prefix:
        pattern += r"\w*"
    if whole_word:
        pattern += r"(?!\w)"
    return pattern


@dataclass(frozen=True)
class Query:
    """A compiled search: `pattern` runs on folded text (`folded`) or, for a regular
    expression, on the text itself with a time limit."""

    pattern: re.Pattern[str] | regex.Pattern[str]
    folded: bool


def compile_query(query: str, *, whole_word: bool = False, as_regex: bool = False) -> Query:
    query = query.strip()
    if not query:
        raise SearchError(_("Type a word or phrase to search for."))
    if len(query) > QUERY_MAX_LENGTH:
        raise SearchError(
            _("A search may be at most %(max)s characters long.") % {"max": QUERY_MAX_LENGTH}
        )
    if as_regex:
        try:
            return Query(regex.compile(query, regex.IGNORECASE | regex.VERSION0), folded=False)
        except regex.error as error:
            raise SearchError(
                _("This is not a regular expression: %(error)s.") % {"error": error}
            ) from None
    terms = _terms(query)
    if not terms:
        raise SearchError(_("Type a word or phrase to search for."))
    alternatives = "|".join(f"(?:{_term_pattern(term, whole_word)})" for term in terms)
    return Query(re.compile(alternatives), folded=True)


# Searching --------------------------------------------------------------------------------


def find(
    query: Query,
    text: str,
    *,
    excluded: Sequence[tuple[int, int]] = (),
) -> list[tuple[int, int]]:
    """Spans of non-empty matches in `text` (folded already when `query.folded`), leaving out
    those touching an `excluded` span."""
    spans: list[tuple[int, int]] = []
    try:
        if query.folded:
            matches: Iterable[Any] = query.pattern.finditer(text)
        else:
            assert isinstance(query.pattern, regex.Pattern)
            matches = query.pattern.finditer(text, timeout=REGEX_TIMEOUT_SECONDS)
        for match in matches:
            start, end = match.span()
            if start == end:
                continue
            if excluded and any(a < end and start < b for a, b in excluded):
                continue
            spans.append((start, end))
    except TimeoutError:
        raise SearchError(
            _("The regular expression took too long; make it simpler or more specific.")
        ) from None
    return spans


def folded_texts(interventions: QuerySet[Intervention]) -> dict[int, str]:
    """The folded text of each of `interventions`, made once per text and kept in
    `SearchText`; a text whose intervention changed since is folded again."""
    stale = list(
        interventions.exclude(search_text__text_updated_at=F("updated_at")).values_list(
            "pk", "text", "updated_at"
        )
    )
    if stale:
        with transaction.atomic():
            SearchText.objects.filter(intervention_id__in=[pk for pk, _t, _u in stale]).delete()
            SearchText.objects.bulk_create(
                [
                    SearchText(intervention_id=pk, folded=fold(text), text_updated_at=updated)
                    for pk, text, updated in stale
                ],
                batch_size=200,
            )
    return dict(
        SearchText.objects.filter(intervention__in=interventions).values_list(
            "intervention_id", "folded"
        )
    )


def search(
    *,
    study: Study,
    query: str,
    whole_word: bool = False,
    as_regex: bool = False,
    coded_only: bool = False,
    attributes: dict[int, str] | None = None,
) -> SearchResult:
    """Every hit of `query` in the study's texts (in the sections that are coded when
    `coded_only`), in intervention title order, then text order. The corpus is open to every
    member, so the search needs no sight rules; coding what it finds does."""
    compiled = compile_query(query, whole_word=whole_word, as_regex=as_regex)
    interventions = Intervention.objects.filter(study=study)
    for definition_id, value in (attributes or {}).items():
        interventions = interventions.filter(
            attribute_values__definition_id=definition_id, attribute_values__value=value
        )
    titles = list(interventions.order_by("title", "pk").values_list("pk", "title"))
    excluded: dict[int, list[tuple[int, int]]] = defaultdict(list)
    if coded_only:
        for intervention_id, start, end in Section.objects.filter(
            intervention__study=study, excluded=True
        ).values_list("intervention_id", "start", "end"):
            excluded[intervention_id].append((start, end))
    if compiled.folded:
        texts = folded_texts(interventions)
    else:
        texts = dict(interventions.values_list("pk", "text"))
    found = {
        pk: spans
        for pk, _title in titles
        if (spans := find(compiled, texts.get(pk, ""), excluded=excluded.get(pk, ())))
    }
    originals = (
        texts
        if not compiled.folded
        else dict(Intervention.objects.filter(pk__in=list(found)).values_list("pk", "text"))
    )
    hits = [
        Hit(intervention_id=pk, title=title, start=start, end=end, text=originals[pk])
        for pk, title in titles
        for start, end in found.get(pk, ())
    ]
    return SearchResult(query=query, hits=hits, n_interventions=len(titles))


# Auto-coding ------------------------------------------------------------------------------


_SENTENCE_END = re.compile(r"[.!?…](?=\s)|\n")
_PARAGRAPH_END = re.compile(r"\n\s*\n")


def widen(text: str, start: int, end: int, granularity: str) -> tuple[int, int]:
    """The hit itself, or the sentence or paragraph around it, without surrounding blanks."""
    if granularity == "hit":
        return start, end
    if granularity not in GRANULARITIES:
        raise SearchError(_("Code the hit, its sentence or its paragraph."))
    boundary = _SENTENCE_END if granularity == "sentence" else _PARAGRAPH_END
    left = 0
    for match in boundary.finditer(text, 0, start):
        left = match.end()
    following = boundary.search(text, end)
    right = len(text) if following is None else following.start()
    if granularity == "sentence" and following is not None and following.group() != "\n":
        right = following.end()  # keep the full stop
    while left < start and text[left].isspace():
        left += 1
    while right > end and text[right - 1].isspace():
        right -= 1
    return left, right


@dataclass
class AutocodeResult:
    created: list[Segment]
    skipped: int  # spans the coder had given this code already
    event: CodingEvent | None


def segments_autocode(
    *,
    study: Study,
    coder: User,
    code: Code,
    spans: Sequence[tuple[int, int, int]],
    query: str = "",
) -> AutocodeResult:
    """Give `code` to every (intervention id, start, end) in `spans`, in the coder's own layer,
    as one action: all or nothing, one audit event that `segments_autocode_undo` takes back.

    A span the coder has given this code already is skipped, so running the same search twice
    codes nothing new.
    """
    access = access_for(study, coder)
    if access is None or not access.can_code:
        raise SegmentError(_("You cannot code in this study: only its owner and coders code."))
    check_code(code, study)
    wanted = sorted(set(spans))
    if not wanted:
        raise SegmentError(_("Choose at least one hit to code."))
    with transaction.atomic():
        ids = {intervention_id for intervention_id, _start, _end in wanted}
        interventions = {
            i.pk: i
            for i in Intervention.objects.select_for_update()
            .filter(study=study, pk__in=ids)
            .only("pk", "text", "study_id", "updated_at")
        }
        if len(interventions) != len(ids):
            raise SegmentError(_("A hit lies in an intervention of another study."))
        excluded: dict[int, list[Section]] = defaultdict(list)
        for section in Section.objects.filter(intervention_id__in=ids, excluded=True):
            excluded[section.intervention_id].append(section)
        given = set(
            Segment.objects.filter(intervention_id__in=ids, coder=coder, code=code).values_list(
                "intervention_id", "start", "end"
            )
        )
        new: list[Segment] = []
        skipped = 0
        for intervention_id, start, end in wanted:
            if (intervention_id, start, end) in given:
                skipped += 1
                continue
            intervention = interventions[intervention_id]
            quote = intervention.text[start:end] if 0 <= start < end else ""
            check_span(
                intervention=intervention,
                start=start,
                end=end,
                quote=quote,
                sections=excluded[intervention_id],
            )
            new.append(
                Segment(
                    intervention=intervention,
                    code=code,
                    coder=coder,
                    start=start,
                    end=end,
                    quote=quote,
                )
            )
        created = Segment.objects.bulk_create(new)
        event = None
        if created:
            event = CodingEvent.objects.create(
                study=study,
                actor=coder,
                action=AUTOCODE,
                code=code,
                code_uuid=code.uuid,
                code_name=code.name,
                after={
                    "query": query,
                    "code": path_string(code_paths(study).get(code.pk, (code.name,))),
                    "segments": [str(segment.uuid) for segment in created],
                },
            )
    return AutocodeResult(created=created, skipped=skipped, event=event)


def segments_autocode_undo(*, event: CodingEvent, actor: User) -> int:
    """Take back an auto-coding: delete its segments that are still as it made them. Only the
    coder who auto-coded undoes it, once. Returns how many segments were deleted."""
    if event.action != AUTOCODE or event.actor_id != actor.pk:
        raise SegmentError(_("Only the coder who auto-coded can undo it."))
    with transaction.atomic():
        locked = CodingEvent.objects.select_for_update().get(pk=event.pk)
        if CodingEvent.objects.filter(
            study_id=locked.study_id, action=AUTOCODE_UNDO, before__event=locked.pk
        ).exists():
            raise SegmentError(_("This auto-coding was undone already."))
        uuids = locked.after.get("segments", [])
        if locked.code_uuid is None:
            raise SegmentError(_("This auto-coding cannot be undone: its code is gone."))
        segments = Segment.objects.filter(uuid__in=uuids, coder=actor, code__uuid=locked.code_uuid)
        deleted = segments.count()
        segments.delete()
        CodingEvent.objects.create(
            study_id=locked.study_id,
            actor=actor,
            action=AUTOCODE_UNDO,
            code_id=locked.code_id,
            code_uuid=locked.code_uuid,
            code_name=locked.code_name,
            before={"event": locked.pk, "segments": uuids},
            after={"deleted": deleted},
        )
    return deleted
