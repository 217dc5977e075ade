"""Coded segments: creating, changing and deleting them, blind coding, progress, the report."""

from __future__ import annotations

import csv
import io
import threading
import time
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.db import IntegrityError, connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from coding import segments as seg
from coding import sight
from coding.codebook import services
from coding.models import Code, Codebook, CodingEvent, InterventionProgress, Segment
from interventions import textcache
from interventions.access import access_for
from interventions.models import Intervention, Section
from interventions.services import intervention_update
from tests.conftest import Cast
from tests.factories import (
    AttributeDefinitionFactory,
    AttributeValueFactory,
    CodeFactory,
    InterventionFactory,
    StudyFactory,
)
from veerkracht.lib.rows import prepared_from

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧
FLAG = "\U0001f1f3\U0001f1f1"  # 🇳🇱
TEXT = (
    "Samenvatting\n"
    f"Kort: het gezin {FAMILY} leert samen.\n"
    "\n"
    "Aanpak\n"
    f"De coördinator en het gezin {FLAG} maken een plan voor de x\u0301 week. "
    "Ouders oefenen thuis met nieuwe vaardigheden en de coach geeft feedback.\n"
)


def span(word: str) -> tuple[int, int, str]:
    start = TEXT.index(word)
    return start, start + len(word), word


def counts() -> tuple[int, int]:
    return Segment.objects.count(), CodingEvent.objects.count()


@pytest.fixture
def doc(cast: Cast) -> Intervention:
    intervention = cast.intervention
    intervention.text = TEXT
    intervention.save()
    assert unicodedata.normalize("NFC", TEXT) == TEXT
    summary_end = TEXT.index("Aanpak")
    Section.objects.create(
        intervention=intervention, heading="Samenvatting", start=0, end=summary_end, excluded=True
    )
    Section.objects.create(
        intervention=intervention, heading="Aanpak", start=summary_end, end=len(TEXT)
    )
    return intervention


@pytest.fixture
def codes(cast: Cast) -> dict[str, Code]:
    make = services.code_create
    sociaal = make(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    psych = make(study=cast.study, actor=cast.owner, name="Psychologische hulpbronnen")
    return {
        "sociaal": sociaal,
        "doelen": make(study=cast.study, actor=cast.owner, name="Doelen", parent=sociaal),
        "inhoud": make(study=cast.study, actor=cast.owner, name="Inhoud", parent=sociaal),
        "psych": psych,
    }


def code(cast: Cast, doc: Intervention, coder: Any, c: Code, word: str, memo: str = "") -> Segment:
    start, end, quote = span(word)
    return seg.segment_create(
        intervention=doc, coder=coder, code=c, start=start, end=end, quote=quote, memo=memo
    )


# Creating -----------------------------------------------------------------------------------


def test_a_coder_codes_a_span_after_a_flag_in_code_points_and_the_event_records_it(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    start, end, quote = span("maken een plan voor de x\u0301 week")
    segment = seg.segment_create(
        intervention=doc,
        coder=cast.coder_a,
        code=codes["doelen"],
        start=start,
        end=end,
        quote=quote,
        memo="  Plan samen met het gezin.  ",
    )
    segment.refresh_from_db()
    assert doc.text[segment.start : segment.end] == segment.quote == quote
    assert segment.memo == "Plan samen met het gezin."
    event = CodingEvent.objects.get(action="segment_create")
    assert event.segment_uuid == segment.uuid
    assert event.code == codes["doelen"]
    assert event.actor == cast.coder_a
    assert event.after == {
        "intervention": str(doc.uuid),
        "coder": "carol",
        "code": "Sociale hulpbronnen > Doelen",
        "start": start,
        "end": end,
        "quote": quote,
        "memo": "Plan samen met het gezin.",
    }


def test_the_owner_codes_too(cast: Cast, doc: Intervention, codes: dict[str, Code]) -> None:
    segment = code(cast, doc, cast.owner, codes["psych"], "Ouders oefenen thuis")
    assert segment.coder == cast.owner


def test_several_codes_go_on_one_span_at_once(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    start, end, quote = span("De coördinator")
    made = seg.segments_apply(
        intervention=doc,
        coder=cast.coder_a,
        codes=[codes["doelen"], codes["inhoud"], codes["doelen"]],
        start=start,
        end=end,
        quote=quote,
    )
    assert [s.code for s in made] == [codes["doelen"], codes["inhoud"]]
    assert counts() == (2, CodingEvent.objects.filter(action="code_create").count() + 2)


def test_two_coders_may_give_one_code_to_the_same_span(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    code(cast, doc, cast.coder_a, codes["doelen"], "De coördinator")
    code(cast, doc, cast.coder_b, codes["doelen"], "De coördinator")
    assert Segment.objects.count() == 2


# Refusals leave nothing behind -------------------------------------------------------------

END = len(TEXT)
AANPAK = TEXT.index("De coördinator")
KORT = TEXT.index("Kort")


@pytest.mark.parametrize(
    ("who", "which", "start", "end", "quote", "message"),
    [
        ("supervisor", "doelen", AANPAK, AANPAK + 2, "De", "cannot code"),
        ("outsider", "doelen", AANPAK, AANPAK + 2, "De", "cannot code"),
        ("coder_a", "foreign", AANPAK, AANPAK + 2, "De", "another study"),
        ("coder_a", "doelen", str(AANPAK), AANPAK + 2, "De", "whole numbers"),
        ("coder_a", "doelen", AANPAK, float(AANPAK + 2), "De", "whole numbers"),
        ("coder_a", "doelen", -1, 3, "", "outside the text"),
        ("coder_a", "doelen", END - 2, END + 1, TEXT[END - 2 :], "outside the text"),
        ("coder_a", "doelen", AANPAK + 2, AANPAK + 2, "", "empty"),
        ("coder_a", "doelen", AANPAK + 2, AANPAK, "", "empty"),
        ("coder_a", "doelen", AANPAK, AANPAK + 2, "Da", "does not match your selection"),
        ("coder_a", "doelen", AANPAK + 1, AANPAK + 3, "De", "does not match your selection"),
        ("coder_a", "doelen", KORT, KORT + 4, "Kort", "section ‘Samenvatting’, which is not coded"),
        ("coder_a", "doelen", 0, END, TEXT, "section ‘Samenvatting’"),
    ],
)
def test_a_refused_span_stores_no_segment_and_no_event(
    cast: Cast,
    doc: Intervention,
    codes: dict[str, Code],
    who: str,
    which: str,
    start: Any,
    end: Any,
    quote: str,
    message: str,
) -> None:
    chosen = CodeFactory(study=StudyFactory()) if which == "foreign" else codes[which]
    before = counts()
    with pytest.raises(seg.SegmentError, match=message):
        seg.segment_create(
            intervention=doc,
            coder=getattr(cast, who),
            code=chosen,
            start=start,
            end=end,
            quote=quote,
        )
    assert counts() == before


@pytest.mark.parametrize(
    ("start", "end", "quote", "message"),
    [
        (END - 2, END + 1, TEXT[END - 2 :], "outside the text"),
        (AANPAK, AANPAK + 2, "Da", "does not match your selection"),
        (KORT, KORT + 4, "Kort", "section ‘Samenvatting’, which is not coded"),
        (0, END, TEXT, "section ‘Samenvatting’"),
    ],
)
def test_a_refused_span_is_refused_as_well_when_the_process_keeps_the_text(
    cast: Cast,
    doc: Intervention,
    codes: dict[str, Code],
    start: int,
    end: int,
    quote: str,
    message: str,
) -> None:
    """With the text kept (`textcache`), PostgreSQL writes in one statement
    (`segments._apply_at_once`); what that statement may not write falls to the general
    path, which refuses with the same message."""
    intervention = Intervention.objects.select_related("study").get(pk=doc.pk)
    textcache.texts.put(intervention.pk, intervention.updated_at, intervention.text)
    before = counts()
    with pytest.raises(seg.SegmentError, match=message):
        seg.segments_apply(
            intervention=intervention, coder=cast.coder_a, codes=[codes["doelen"]],
            start=start, end=end, quote=quote,
        )  # fmt: skip
    assert counts() == before
    with CaptureQueriesContext(connection) as queries:
        made = seg.segments_apply(
            intervention=intervention, coder=cast.coder_a, codes=[codes["doelen"], codes["psych"]],
            start=AANPAK, end=AANPAK + 2, quote="De",
        )  # fmt: skip
    statements = [prepared_from(q["sql"]) for q in queries.captured_queries]
    written = [sql for sql in statements if "INSERT" in sql]
    if connection.vendor == "postgresql":  # in one statement, with its check
        assert len(written) == 1
        assert "WITH checked AS" in written[0]
    assert [s.pk is not None for s in made] == [True, True]
    assert counts() == (before[0] + 2, before[1] + 2)
    with pytest.raises(seg.SegmentError, match="given “Doelen” to exactly this text already"):
        seg.segments_apply(
            intervention=intervention, coder=cast.coder_a, codes=[codes["doelen"]],
            start=AANPAK, end=AANPAK + 2, quote="De",
        )  # fmt: skip
    assert counts() == (before[0] + 2, before[1] + 2)


def test_the_same_code_on_exactly_the_same_span_by_the_same_coder_is_refused(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    code(cast, doc, cast.coder_a, codes["doelen"], "De coördinator")
    before = counts()
    with pytest.raises(seg.SegmentError, match="given “Doelen” to exactly this text already"):
        code(cast, doc, cast.coder_a, codes["doelen"], "De coördinator")
    assert counts() == before


def test_applying_several_codes_is_all_or_nothing(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    code(cast, doc, cast.coder_a, codes["inhoud"], "De coördinator")
    start, end, quote = span("De coördinator")
    before = counts()
    with pytest.raises(seg.SegmentError, match="“Inhoud”"):
        seg.segments_apply(
            intervention=doc,
            coder=cast.coder_a,
            codes=[codes["doelen"], codes["inhoud"]],
            start=start,
            end=end,
            quote=quote,
        )
    assert counts() == before


def test_applying_no_code_is_refused(cast: Cast, doc: Intervention) -> None:
    start, end, quote = span("De coördinator")
    with pytest.raises(seg.SegmentError, match="at least one code"):
        seg.segments_apply(
            intervention=doc, coder=cast.coder_a, codes=[], start=start, end=end, quote=quote
        )
    assert counts() == (0, 0)


def test_a_memo_over_10000_characters_is_refused(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    before = counts()
    with pytest.raises(seg.SegmentError, match="at most 10,000 characters"):
        code(cast, doc, cast.coder_a, codes["doelen"], "De coördinator", memo="m" * 10_001)
    assert counts() == before


# Changing a segment ------------------------------------------------------------------------


def test_a_coder_moves_the_bounds_of_a_segment_and_the_event_keeps_both(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    segment = code(cast, doc, cast.coder_a, codes["doelen"], "coördinator")
    start, end, quote = span(f"het gezin {FLAG} maken")
    moved = seg.segment_update_bounds(
        segment=segment, actor=cast.coder_a, start=start, end=end, quote=quote
    )
    assert (moved.start, moved.end, moved.quote) == (start, end, quote)
    event = CodingEvent.objects.get(action="segment_update_bounds")
    assert event.segment_uuid == segment.uuid
    assert event.before == {"start": segment.start, "end": segment.end, "quote": "coördinator"}
    assert event.after == {"start": start, "end": end, "quote": quote}


@pytest.mark.parametrize(
    ("who", "start", "end", "quote", "message"),
    [
        ("coder_b", AANPAK, AANPAK + 2, "De", "Only the coder who made"),
        ("owner", AANPAK, AANPAK + 2, "De", "Only the coder who made"),
        ("coder_a", KORT, KORT + 4, "Kort", "which is not coded"),
        ("coder_a", AANPAK, AANPAK + 2, "Xx", "does not match"),
        ("coder_a", AANPAK, END + 5, "De", "outside the text"),
    ],
)
def test_moving_bounds_is_refused_for_others_and_bad_spans(
    cast: Cast,
    doc: Intervention,
    codes: dict[str, Code],
    who: str,
    start: int,
    end: int,
    quote: str,
    message: str,
) -> None:
    segment = code(cast, doc, cast.coder_a, codes["doelen"], "coördinator")
    before = counts()
    with pytest.raises(seg.SegmentError, match=message):
        seg.segment_update_bounds(
            segment=segment, actor=getattr(cast, who), start=start, end=end, quote=quote
        )
    assert counts() == before
    segment.refresh_from_db()
    assert segment.quote == "coördinator"


def test_moving_onto_a_span_the_coder_gave_the_same_code_is_refused(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    code(cast, doc, cast.coder_a, codes["doelen"], "De coördinator")
    segment = code(cast, doc, cast.coder_a, codes["doelen"], "coördinator")
    start, end, quote = span("De coördinator")
    before = counts()
    with pytest.raises(seg.SegmentError, match="already"):
        seg.segment_update_bounds(
            segment=segment, actor=cast.coder_a, start=start, end=end, quote=quote
        )
    assert counts() == before


def test_a_coder_writes_a_memo_and_only_their_own(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    segment = code(cast, doc, cast.coder_a, codes["doelen"], "coördinator", memo="eerst")
    seg.segment_set_memo(segment=segment, actor=cast.coder_a, memo="Bespreken met bob")
    segment.refresh_from_db()
    assert segment.memo == "Bespreken met bob"
    event = CodingEvent.objects.get(action="segment_set_memo")
    assert (event.before, event.after) == ({"memo": "eerst"}, {"memo": "Bespreken met bob"})
    before = counts()
    with pytest.raises(seg.SegmentError, match="Only the coder who made"):
        seg.segment_set_memo(segment=segment, actor=cast.coder_b, memo="van bob")
    with pytest.raises(seg.SegmentError, match="at most 10,000"):
        seg.segment_set_memo(segment=segment, actor=cast.coder_a, memo="x" * 10_001)
    assert counts() == before
    segment.refresh_from_db()
    assert segment.memo == "Bespreken met bob"


def test_a_coder_changes_the_code_of_a_segment_within_the_study(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    segment = code(cast, doc, cast.coder_a, codes["doelen"], "coördinator")
    seg.segment_change_code(segment=segment, actor=cast.coder_a, code=codes["psych"])
    segment.refresh_from_db()
    assert segment.code == codes["psych"]
    event = CodingEvent.objects.get(action="segment_change_code")
    assert event.before["code"] == "Sociale hulpbronnen > Doelen"
    assert event.after["code"] == "Psychologische hulpbronnen"
    before = counts()
    with pytest.raises(seg.SegmentError, match="another study"):
        seg.segment_change_code(
            segment=segment, actor=cast.coder_a, code=CodeFactory(study=StudyFactory())
        )
    with pytest.raises(seg.SegmentError, match="Only the coder who made"):
        seg.segment_change_code(segment=segment, actor=cast.coder_b, code=codes["inhoud"])
    assert counts() == before


def test_a_coder_deletes_their_segment_and_the_event_keeps_what_it_held(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    segment = code(cast, doc, cast.coder_a, codes["doelen"], "coördinator", memo="m")
    before = counts()
    with pytest.raises(seg.SegmentError, match="Only the coder who made"):
        seg.segment_delete(segment=segment, actor=cast.supervisor)
    assert counts() == before
    seg.segment_delete(segment=segment, actor=cast.coder_a)
    assert not Segment.objects.exists()
    event = CodingEvent.objects.get(action="segment_delete")
    assert event.segment_uuid == segment.uuid
    assert event.before["quote"] == "coördinator"
    assert event.before["memo"] == "m"
    assert event.before["code"] == "Sociale hulpbronnen > Doelen"


def test_a_code_made_from_the_picker_is_inductive(cast: Cast, codes: dict[str, Code]) -> None:
    made = seg.code_create_from_picker(
        study=cast.study, actor=cast.coder_b, name="Empowerment", parent=codes["psych"]
    )
    assert made.origin == Code.Origin.INDUCTIVE
    assert made.parent == codes["psych"]
    assert CodingEvent.objects.filter(action="code_create", code=made).exists()


def test_the_picker_refuses_a_supervisor_and_a_name_taken_by_a_sibling(
    cast: Cast, codes: dict[str, Code]
) -> None:
    with pytest.raises(seg.SegmentError, match="cannot code"):
        seg.code_create_from_picker(study=cast.study, actor=cast.supervisor, name="Nieuw")
    with pytest.raises(seg.SegmentError, match="already"):
        seg.code_create_from_picker(
            study=cast.study, actor=cast.coder_a, name="doelen", parent=codes["sociaal"]
        )
    assert not Code.objects.filter(name="Nieuw").exists()


# Two coders at once --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_coders_coding_one_intervention_at_once_lose_nothing(cast: Cast) -> None:
    text = " ".join(f"woord{n:02d}" for n in range(40))
    Intervention.objects.filter(pk=cast.intervention.pk).update(text=text)
    doc = Intervention.objects.get(pk=cast.intervention.pk)
    theme = services.code_create(study=cast.study, actor=cast.owner, name="Veerkracht")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(coder: Any, words: range, wait: bool) -> None:
        try:
            if wait:
                barrier.wait(timeout=10)
            for n in words:
                start = text.index(f"woord{n:02d}")
                seg.segment_create(
                    intervention=doc,
                    coder=coder,
                    code=theme,
                    start=start,
                    end=start + 7,
                    quote=f"woord{n:02d}",
                )
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            if wait:
                connection.close()

    if connection.vendor == "sqlite":
        # SQLite in memory is one connection per thread; run the same calls one after another.
        work(cast.coder_a, range(20), wait=False)
        work(cast.coder_b, range(20, 40), wait=False)
    else:
        threads = [
            threading.Thread(target=work, args=(cast.coder_a, range(20), True)),
            threading.Thread(target=work, args=(cast.coder_b, range(20, 40), True)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert Segment.objects.filter(intervention=doc).count() == 40
    assert Segment.objects.filter(coder=cast.coder_a).count() == 20
    assert Segment.objects.filter(coder=cast.coder_b).count() == 20
    assert CodingEvent.objects.filter(action="segment_create").count() == 40


# Blind coding --------------------------------------------------------------------------------


@pytest.fixture
def layers(cast: Cast, doc: Intervention, codes: dict[str, Code]) -> dict[str, Segment]:
    return {
        "carol": code(cast, doc, cast.coder_a, codes["doelen"], "De coördinator"),
        "bob": code(cast, doc, cast.coder_b, codes["inhoud"], "Ouders oefenen thuis"),
        "alice": code(cast, doc, cast.owner, codes["doelen"], "nieuwe vaardigheden"),
    }


def policy(cast: Cast, value: str, revealed: bool = False) -> None:
    services.codebook_reveal_policy_set(study=cast.study, actor=cast.owner, policy=value)
    if revealed:
        services.codebook_reveal(study=cast.study, actor=cast.owner)


def test_a_coder_never_sees_another_coders_segments_in_the_workspace(
    cast: Cast, doc: Intervention, layers: dict[str, Segment]
) -> None:
    assert sight.visible_coders(access_for(cast.study, cast.coder_b)) == [cast.coder_b]
    own = sight.visible_segments(access=access_for(cast.study, cast.coder_b), intervention=doc)
    assert list(own) == [layers["bob"]]
    asked = sight.visible_segments(
        access=access_for(cast.study, cast.coder_b),
        intervention=doc,
        layers=[cast.coder_a.pk, cast.owner.pk],
    )
    assert list(asked) == []
    both = sight.visible_segments(
        access=access_for(cast.study, cast.coder_b),
        intervention=doc,
        layers=[cast.coder_a.pk, cast.coder_b.pk],
    )
    assert list(both) == [layers["bob"]]


def test_a_coder_asking_for_another_coders_segment_by_uuid_gets_404(
    cast: Cast, layers: dict[str, Segment]
) -> None:
    assert sight.segment_for_user(viewer=cast.coder_b, uuid=layers["bob"].uuid) == layers["bob"]
    with pytest.raises(Http404):
        sight.segment_for_user(viewer=cast.coder_b, uuid=layers["carol"].uuid)
    with pytest.raises(Http404):
        sight.segment_for_user(viewer=cast.outsider, uuid=layers["bob"].uuid)
    with pytest.raises(Http404):
        sight.segment_for_user(viewer=cast.coder_b, uuid="geen-uuid")


def test_a_coder_never_finds_another_coders_segments_in_the_code_report(
    cast: Cast, codes: dict[str, Code], layers: dict[str, Segment]
) -> None:
    rows = seg.code_report(study=cast.study, viewer=cast.coder_b, code=codes["sociaal"])
    assert [r.segment_uuid for r in rows] == [layers["bob"].uuid]
    rows = seg.code_report(
        study=cast.study, viewer=cast.coder_b, code=codes["doelen"], coder_id=cast.coder_a.pk
    )
    assert rows == []


def test_the_owner_and_supervisor_see_every_coder_when_the_policy_is_always(
    cast: Cast, doc: Intervention, layers: dict[str, Segment]
) -> None:
    policy(cast, "always")
    for viewer in (cast.owner, cast.supervisor):
        seen = sight.visible_coders(access_for(cast.study, viewer))
        # The supervisor codes nothing, so has no layer of their own among them.
        assert seen == [cast.owner, cast.coder_b, cast.coder_a]
        every = [cast.owner.pk, cast.coder_a.pk, cast.coder_b.pk]
        shown = sight.visible_segments(
            access=access_for(cast.study, viewer), intervention=doc, layers=every
        )
        assert set(shown) == set(layers.values())
        assert sight.segment_for_user(viewer=viewer, uuid=layers["carol"].uuid) == layers["carol"]


def test_the_owner_sees_only_their_own_layer_until_the_reveal(
    cast: Cast, doc: Intervention, codes: dict[str, Code], layers: dict[str, Segment]
) -> None:
    policy(cast, "after_reveal")
    every = [cast.owner.pk, cast.coder_a.pk, cast.coder_b.pk]
    assert sight.visible_coders(access_for(cast.study, cast.owner)) == [cast.owner]
    shown = sight.visible_segments(
        access=access_for(cast.study, cast.owner), intervention=doc, layers=every
    )
    assert list(shown) == [layers["alice"]]
    # The supervisor codes nothing: no layer of their own, and none of the others before the reveal.
    assert sight.visible_coders(access_for(cast.study, cast.supervisor)) == []
    assert (
        list(
            sight.visible_segments(
                access=access_for(cast.study, cast.supervisor), intervention=doc, layers=every
            )
        )
        == []
    )
    with pytest.raises(Http404):
        sight.segment_for_user(viewer=cast.supervisor, uuid=layers["carol"].uuid)
    report = seg.code_report(study=cast.study, viewer=cast.owner, code=codes["sociaal"])
    assert [r.coder for r in report] == ["alice"]

    services.codebook_reveal(study=cast.study, actor=cast.owner)
    assert Codebook.objects.get(study=cast.study).revealed_at is not None
    shown = sight.visible_segments(
        access=access_for(cast.study, cast.owner), intervention=doc, layers=every
    )
    assert set(shown) == set(layers.values())
    report = seg.code_report(study=cast.study, viewer=cast.supervisor, code=codes["sociaal"])
    assert sorted(r.coder for r in report) == ["alice", "bob", "carol"]
    # After the reveal coders see each other's layers too, to discuss disagreements.
    assert sight.visible_coders(access_for(cast.study, cast.coder_a)) == [
        cast.coder_a,
        cast.owner,
        cast.coder_b,
    ]


def test_an_outsider_sees_no_layer_at_all(
    cast: Cast, doc: Intervention, layers: dict[str, Segment]
) -> None:
    assert sight.visible_coders(access_for(cast.study, cast.outsider)) == []
    assert (
        list(sight.visible_segments(access=access_for(cast.study, cast.outsider), intervention=doc))
        == []
    )


def test_only_the_owner_reveals_or_sets_the_policy(cast: Cast) -> None:
    for actor in (cast.supervisor, cast.coder_a, cast.outsider):
        with pytest.raises(services.CodebookError, match="Only the study's owner"):
            services.codebook_reveal(study=cast.study, actor=actor)
        with pytest.raises(services.CodebookError, match="Only the study's owner"):
            services.codebook_reveal_policy_set(
                study=cast.study, actor=actor, policy="after_reveal"
            )
    with pytest.raises(services.CodebookError, match="after_reveal, supervisor, always"):
        services.codebook_reveal_policy_set(study=cast.study, actor=cast.owner, policy="nooit")
    assert not CodingEvent.objects.exists()
    services.codebook_reveal_policy_set(study=cast.study, actor=cast.owner, policy="after_reveal")
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    actions = list(CodingEvent.objects.order_by("pk").values_list("action", flat=True))
    assert actions == ["reveal_policy", "reveal"]


def test_layers_come_in_text_order_with_code_and_coder_loaded(
    cast: Cast,
    doc: Intervention,
    codes: dict[str, Code],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    code(cast, doc, cast.coder_a, codes["inhoud"], "vaardigheden")
    code(cast, doc, cast.coder_a, codes["doelen"], "De coördinator")
    code(cast, doc, cast.coder_a, codes["psych"], "De")
    policy(cast, "always")
    queryset = sight.visible_segments(
        access=access_for(cast.study, cast.owner), intervention=doc, layers=[cast.coder_a.pk]
    )
    with django_assert_num_queries(1):
        found = [(s.quote, s.code.name, s.coder.username) for s in queryset]
    assert found == [
        ("De", "Psychologische hulpbronnen", "carol"),
        ("De coördinator", "Doelen", "carol"),
        ("vaardigheden", "Inhoud", "carol"),
    ]


# Progress and neighbours ---------------------------------------------------------------------


def test_progress_is_kept_per_coder_and_intervention(cast: Cast, doc: Intervention) -> None:
    other = InterventionFactory(study=cast.study, title="Ouders Voorop")
    seg.progress_set(intervention=doc, coder=cast.coder_a, done=True)
    seg.progress_set(intervention=doc, coder=cast.coder_a, done=True)
    seg.progress_set(intervention=other, coder=cast.coder_b, done=True)
    seg.progress_set(intervention=other, coder=cast.coder_b, done=False)
    assert seg.progress_for_study(cast.study) == {
        cast.owner.pk: {doc.pk: False, other.pk: False},
        cast.coder_a.pk: {doc.pk: True, other.pk: False},
        cast.coder_b.pk: {doc.pk: False, other.pk: False},
    }
    with pytest.raises(seg.SegmentError, match="cannot code"):
        seg.progress_set(intervention=doc, coder=cast.supervisor, done=True)
    assert InterventionProgress.objects.count() == 1


def test_neighbours_follow_the_title_order(cast: Cast) -> None:
    first = InterventionFactory(study=cast.study, title="Alleen Samen")
    last = InterventionFactory(study=cast.study, title="Zorg Thuis")
    InterventionFactory(title="Anders")  # another study
    middle = cast.intervention  # "Gezin Centraal"
    assert seg.coder_neighbours(intervention=middle, coder=cast.coder_a) == (first, last)
    assert seg.coder_neighbours(intervention=first, coder=cast.coder_a) == (None, middle)
    assert seg.coder_neighbours(intervention=last, coder=cast.coder_a) == (middle, None)


# The code report -----------------------------------------------------------------------------


def test_the_report_shows_each_segment_with_context_cut_at_word_boundaries(
    cast: Cast, doc: Intervention, codes: dict[str, Code], layers: dict[str, Segment]
) -> None:
    rows = seg.code_report(study=cast.study, viewer=cast.owner, code=codes["doelen"], context=20)
    assert [(r.coder, r.quote) for r in rows] == [
        ("carol", "De coördinator"),
        ("alice", "nieuwe vaardigheden"),
    ]
    row = rows[1]
    assert row.code_path == "Sociale hulpbronnen > Doelen"
    assert row.intervention_title == "Gezin Centraal"
    assert row.intervention_uuid == doc.uuid
    assert row.before == " oefenen thuis met "
    assert row.after == " en de coach geeft "
    for row in rows:
        assert len(row.before) <= 20
        assert len(row.after) <= 20
        whole = doc.text[row.start - len(row.before) : row.end + len(row.after)]
        assert whole == row.before + row.quote + row.after


def test_context_is_cut_at_word_boundaries_and_kept_whole_at_the_edges() -> None:
    text = "Gezinnen met meervoudige problemen"
    end_of_meervoudige = text.index(" problemen")
    assert seg.context_before(text, end_of_meervoudige + 1, 60) == "Gezinnen met meervoudige "
    # 14 characters back starts in "met": the broken word is left out.
    assert seg.context_before(text, end_of_meervoudige + 1, 14) == " meervoudige "
    assert seg.context_before(text, end_of_meervoudige + 1, 13) == " meervoudige "
    assert seg.context_before(text, 16, 3) == "mee"
    assert seg.context_before(text, 18, 3) == ""
    assert seg.context_after(text, 8, 6) == " met "
    assert seg.context_after(text, 8, 5) == " met "
    assert seg.context_after(text, end_of_meervoudige, 60) == " problemen"
    assert seg.context_after(text, 2, 2) == ""


def test_the_report_includes_subcodes_unless_asked_not_to(
    cast: Cast, codes: dict[str, Code], layers: dict[str, Segment]
) -> None:
    everything = seg.code_report(study=cast.study, viewer=cast.owner, code=codes["sociaal"])
    assert {r.code_path for r in everything} == {
        "Sociale hulpbronnen > Doelen",
        "Sociale hulpbronnen > Inhoud",
    }
    only_theme = seg.code_report(
        study=cast.study, viewer=cast.owner, code=codes["sociaal"], include_subcodes=False
    )
    assert only_theme == []


def test_the_report_filters_by_coder_intervention_and_attributes(
    cast: Cast, doc: Intervention, codes: dict[str, Code], layers: dict[str, Segment]
) -> None:
    other = InterventionFactory(
        study=cast.study, title="Ouders Voorop", text="Ouders oefenen thuis."
    )
    seg.segment_create(
        intervention=other,
        coder=cast.coder_a,
        code=codes["doelen"],
        start=0,
        end=6,
        quote="Ouders",
    )
    setting = AttributeDefinitionFactory(study=cast.study, name="Setting")
    AttributeValueFactory(intervention=doc, definition=setting, value="Thuis")
    AttributeValueFactory(intervention=other, definition=setting, value="Zorginstelling")

    def report(**filters: Any) -> list[tuple[str, str]]:
        rows = seg.code_report(study=cast.study, viewer=cast.owner, code=codes["doelen"], **filters)
        return [(r.intervention_title, r.coder) for r in rows]

    assert report() == [
        ("Gezin Centraal", "carol"),
        ("Gezin Centraal", "alice"),
        ("Ouders Voorop", "carol"),
    ]
    assert report(coder_id=cast.coder_a.pk) == [
        ("Gezin Centraal", "carol"),
        ("Ouders Voorop", "carol"),
    ]
    assert report(intervention_id=other.pk) == [("Ouders Voorop", "carol")]
    assert report(attributes={setting.pk: "Zorginstelling"}) == [("Ouders Voorop", "carol")]
    assert report(attributes={setting.pk: "Thuis"}, coder_id=cast.owner.pk) == [
        ("Gezin Centraal", "alice")
    ]


def test_the_report_refuses_a_code_of_another_study(cast: Cast) -> None:
    with pytest.raises(seg.SegmentError, match="another study"):
        seg.code_report(study=cast.study, viewer=cast.owner, code=CodeFactory(study=StudyFactory()))


def many_segments(cast: Cast, codes: dict[str, Code], n: int) -> None:
    """`n` segments over five long interventions and two coders, without going through the
    service (its checks are tested above; here the reads are measured)."""
    words = [f"Gezin{k} coördineert {FAMILY} zorg thuis" for k in range(n)]
    texts = [" ".join(words[i::5]) for i in range(5)]
    docs = [
        InterventionFactory(study=cast.study, title=f"Lang {i}", text=text)
        for i, text in enumerate(texts)
    ]
    rows = []
    for i, word in enumerate(words):
        doc = docs[i % 5]
        start = doc.text.index(word)
        rows.append(
            Segment(
                intervention=doc,
                coder=cast.coder_a if i % 2 else cast.coder_b,
                code=codes["doelen"] if i % 3 else codes["inhoud"],
                start=start,
                end=start + len(word),
                quote=word,
            )
        )
    Segment.objects.bulk_create(rows)


def test_the_report_runs_in_a_fixed_number_of_queries(
    cast: Cast,
    codes: dict[str, Code],
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    many_segments(cast, codes, 200)
    with django_assert_max_num_queries(8):
        rows = seg.code_report(study=cast.study, viewer=cast.owner, code=codes["sociaal"])
        headers, table = seg.code_report_rows_as_table(rows)
    assert len(rows) == 200
    assert len(table) == 200
    assert headers[0] == "intervention"


def test_the_report_of_2000_segments_is_fast(cast: Cast, codes: dict[str, Code]) -> None:
    many_segments(cast, codes, 2_000)
    began = time.perf_counter()
    rows = seg.code_report(study=cast.study, viewer=cast.owner, code=codes["sociaal"])
    content = seg.code_report_export(rows, "xlsx")
    elapsed = time.perf_counter() - began
    assert len(rows) == 2_000
    assert content.startswith(b"PK")
    assert elapsed < 5.0


def test_the_report_exports_to_csv_and_xlsx_with_formulas_kept_as_text(
    cast: Cast, doc: Intervention, codes: dict[str, Code], layers: dict[str, Segment]
) -> None:
    seg.segment_set_memo(segment=layers["carol"], actor=cast.coder_a, memo="=SUM(A1:A2)")
    rows = seg.code_report(study=cast.study, viewer=cast.owner, code=codes["doelen"])
    table = list(csv.reader(io.StringIO(seg.code_report_export(rows, "csv").decode("utf-8-sig"))))
    assert table[0] == seg.REPORT_HEADERS
    assert table[1][:3] == ["Gezin Centraal", "Sociale hulpbronnen > Doelen", "carol"]
    assert table[1][6] == "De coördinator"
    assert table[1][8] == "'=SUM(A1:A2)"
    sheet = openpyxl.load_workbook(io.BytesIO(seg.code_report_export(rows, "xlsx"))).active
    assert sheet is not None
    assert sheet.cell(row=2, column=9).value == "'=SUM(A1:A2)"  # the one rule, as in CSV
    assert sheet.cell(row=2, column=9).data_type == "s"
    assert sheet.cell(row=2, column=4).value == layers["carol"].start
    with pytest.raises(seg.SegmentError, match="csv or xlsx"):
        seg.code_report_export(rows, "pdf")


# The write's cost ---------------------------------------------------------------------------


def test_applying_codes_is_a_fixed_few_queries_without_reading_the_text_again(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    intervention = Intervention.objects.select_related("study").get(pk=doc.pk)
    access = access_for(cast.study, cast.coder_a)
    paths = services.code_paths(cast.study)

    def apply(word: str, chosen: list[Code]) -> tuple[list[str], list[Segment]]:
        start, end, quote = span(word)
        with CaptureQueriesContext(connection) as queries:
            created = seg.segments_apply(
                intervention=intervention,
                coder=cast.coder_a,
                codes=chosen,
                start=start,
                end=end,
                quote=quote,
                access=access,
                paths=paths,
            )
        return [prepared_from(q["sql"]) for q in queries.captured_queries], created

    # The process reads the text once, with the lock of its first apply ...
    statements, _created = apply("coach", [codes["doelen"]])
    assert sum('"text"' in sql for sql in statements) == 1, statements
    # ... and then never again: the lock (which reads the sections the span touches), the
    # segments, their events, and the savepoint around them (a transaction outside tests),
    # however many codes.
    statements, created = apply(
        "Ouders oefenen", [codes["doelen"], codes["psych"], codes["inhoud"]]
    )
    assert len(statements) <= 5, statements
    assert not any('"text"' in sql for sql in statements), statements
    start, end, _quote = span("Ouders oefenen")
    assert len(created) == 3
    assert Segment.objects.filter(start=start, end=end, coder=cast.coder_a).count() == 3
    assert (
        CodingEvent.objects.filter(
            action="segment_create", segment_uuid__in=[s.uuid for s in created]
        ).count()
        == 3
    )


def test_a_text_changed_before_it_was_coded_is_read_afresh_not_taken_from_the_cache(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    """The process keeps the texts it applied codes in; a text that changes (allowed while
    nothing points into it) is checked against its new characters, even by a request that
    read the intervention before the change."""
    start, end, quote = span("coach")
    first = seg.segments_apply(
        intervention=doc, coder=cast.coder_a, codes=[codes["doelen"]],
        start=start, end=end, quote=quote,
    )  # fmt: skip
    seg.segment_delete(segment=first[0], actor=cast.coder_a)
    stale = Intervention.objects.get(pk=doc.pk)  # read before the change, as a request may
    changed = TEXT.replace("coach", "mentor")
    intervention_update(
        intervention=doc, title=doc.title, source=doc.source, url=doc.url, text=changed
    )
    with pytest.raises(seg.SegmentError, match="does not match"):
        seg.segments_apply(
            intervention=stale, coder=cast.coder_a, codes=[codes["doelen"]],
            start=start, end=end, quote=quote,
        )  # fmt: skip
    start = changed.index("mentor")
    made = seg.segments_apply(
        intervention=stale, coder=cast.coder_a, codes=[codes["doelen"]],
        start=start, end=start + 6, quote="mentor",
    )  # fmt: skip
    assert made[0].quote == "mentor"
    fresh = Intervention.objects.get(pk=doc.pk)
    assert fresh.text[made[0].start : made[0].end] == "mentor"
    with pytest.raises(seg.SegmentError, match="outside the text"):
        seg.segments_apply(
            intervention=fresh, coder=cast.coder_a, codes=[codes["doelen"]],
            start=len(changed) - 2, end=len(changed) + 3, quote="x\nabc",
        )  # fmt: skip


def test_a_text_changed_since_the_page_was_read_is_checked_as_it_is_now(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    stale = Intervention.objects.select_related("study").get(pk=doc.pk)
    changed = TEXT.replace("Ouders oefenen", "Ouders trainen")
    Intervention.objects.filter(pk=doc.pk).update(
        text=changed, updated_at=stale.updated_at + timedelta(seconds=1)
    )
    start, end, quote = span("Ouders oefenen")
    before = counts()
    with pytest.raises(seg.SegmentError, match="does not match your selection"):
        seg.segments_apply(
            intervention=stale,
            coder=cast.coder_a,
            codes=[codes["doelen"]],
            start=start,
            end=end,
            quote=quote,
        )
    assert counts() == before


def test_the_database_refuses_a_second_identical_segment_with_the_message(
    cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    start, end, quote = span("coach")
    apply = {"intervention": doc, "coder": cast.coder_a, "start": start, "end": end}
    seg.segments_apply(codes=[codes["doelen"]], quote=quote, **apply)
    before = counts()
    with pytest.raises(seg.SegmentError, match="given “Doelen” to exactly this text already"):
        # Together with a new code: all or nothing, so the new one is not stored either.
        seg.segments_apply(codes=[codes["psych"], codes["doelen"]], quote=quote, **apply)
    assert counts() == before
    with pytest.raises(IntegrityError):
        Segment.objects.create(
            intervention=doc, coder=cast.coder_a, code=codes["doelen"], start=start, end=end
        )
