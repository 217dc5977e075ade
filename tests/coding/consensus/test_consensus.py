"""Reconciliation: items side by side, decisions, the consensus layer and agreement with it."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from coding import segments as seg
from coding import sight
from coding.agreement.assignments import assignment_create
from coding.codebook import services
from coding.consensus import services as cons
from coding.models import Code, CodingEvent, ConsensusDecision, ConsensusSegment, Segment
from interventions.access import access_for
from interventions.models import Intervention, Section
from tests.conftest import Cast
from tests.factories import CodeFactory, InterventionFactory, StudyFactory

TEXT = (
    "Samenvatting\n"
    "Kort: het gezin leert samen.\n"
    "\n"
    "Aanpak\n"
    "De coördinator en het gezin maken een plan voor de week. "
    "Ouders oefenen thuis met nieuwe vaardigheden en de coach geeft feedback op elk gesprek.\n"
)
COACH = "de coach geeft feedback op elk gesprek"


def span(words: str) -> tuple[int, int, str]:
    start = TEXT.index(words)
    return start, start + len(words), words


def code(doc: Intervention, coder: Any, c: Code, words: str) -> Segment:
    start, end, quote = span(words)
    return seg.segment_create(
        intervention=doc, coder=coder, code=c, start=start, end=end, quote=quote
    )


def state() -> tuple[int, int, int, list[Any]]:
    """Everything a refusal must leave as it was."""
    return (
        ConsensusDecision.objects.count(),
        ConsensusSegment.objects.count(),
        CodingEvent.objects.filter(action__startswith="consensus_").count(),
        list(ConsensusDecision.objects.order_by("pk").values_list("action", "decided_by", "note")),
    )


@pytest.fixture
def doc(cast: Cast) -> Intervention:
    intervention = cast.intervention
    intervention.text = TEXT
    intervention.save()
    summary_end = TEXT.index("Aanpak")
    Section.objects.create(
        intervention=intervention, heading="Samenvatting", start=0, end=summary_end, excluded=True
    )
    for coder in (cast.coder_a, cast.coder_b):
        assignment_create(
            study=cast.study, actor=cast.owner, coder=coder, interventions=[intervention], method=""
        )
    return intervention


@pytest.fixture
def codes(cast: Cast) -> dict[str, Code]:
    make = services.code_create
    sociaal = make(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    return {
        "sociaal": sociaal,
        "doelen": make(study=cast.study, actor=cast.owner, name="Doelen", parent=sociaal),
        "inhoud": make(study=cast.study, actor=cast.owner, name="Inhoud", parent=sociaal),
        "psych": make(study=cast.study, actor=cast.owner, name="Psychologische hulpbronnen"),
    }


@pytest.fixture
def coded(cast: Cast, doc: Intervention, codes: dict[str, Code]) -> dict[str, Segment]:
    """Two agreed passages and two disagreements between carol and bob."""
    return {
        # A disagreement on the code: one item with both versions.
        "carol_plan": code(doc, cast.coder_a, codes["doelen"], "maken een plan"),
        "bob_plan": code(doc, cast.coder_b, codes["psych"], "maken een plan voor de week"),
        # Only carol coded this: an item with an empty column for bob.
        "carol_coord": code(doc, cast.coder_a, codes["psych"], "De coördinator"),
        # Agreed: the same code on the same words.
        "carol_ouders": code(doc, cast.coder_a, codes["inhoud"], "Ouders oefenen thuis"),
        "bob_ouders": code(doc, cast.coder_b, codes["inhoud"], "Ouders oefenen thuis"),
        # Agreed: 35 of 38 characters, above 90% of the longer one.
        "carol_coach": code(doc, cast.coder_a, codes["inhoud"], COACH),
        "bob_coach": code(doc, cast.coder_b, codes["inhoud"], COACH[3:]),
    }


def revealed(cast: Cast) -> None:
    services.codebook_reveal(study=cast.study, actor=cast.owner)


def items_for(cast: Cast, doc: Intervention, viewer: Any = None) -> list[cons.Item]:
    return cons.reconciliation_items(intervention=doc, viewer=viewer or cast.owner)


def item_with(items: list[cons.Item], segment: Segment) -> cons.Item:
    return next(i for i in items if segment in i.segments)


# Items --------------------------------------------------------------------------------------


def test_items_put_disagreements_first_then_agreed_passages_each_in_text_order(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    items = items_for(cast, doc)
    assert [(i.kind, [s.uuid for s in i.segments]) for i in items] == [
        ("disagreement", [coded["carol_coord"].uuid]),
        ("disagreement", [coded["carol_plan"].uuid, coded["bob_plan"].uuid]),
        ("agreed", [coded["carol_ouders"].uuid, coded["bob_ouders"].uuid]),
        ("agreed", [coded["carol_coach"].uuid, coded["bob_coach"].uuid]),
    ]
    assert all(i.decision is None and not i.outdated for i in items)


def test_an_item_shows_every_coders_version_with_an_empty_column_for_who_coded_nothing(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    coord = item_with(items_for(cast, doc), coded["carol_coord"])
    assert [(user.username, [s.uuid for s in mine]) for user, mine in coord.versions] == [
        ("bob", []),
        ("carol", [coded["carol_coord"].uuid]),
    ]
    assert (coord.start, coord.end) == span("De coördinator")[:2]


def test_a_disagreement_shows_the_agreed_segments_it_overlaps_as_context(
    cast: Cast, doc: Intervention, codes: dict[str, Code], coded: dict[str, Segment]
) -> None:
    extra = code(doc, cast.coder_b, codes["psych"], "oefenen thuis met")
    item = item_with(items_for(cast, doc), extra)
    assert item.kind == "disagreement"
    assert item.segments == [extra]
    assert item.context == [coded["carol_ouders"], coded["bob_ouders"]]


def test_item_keys_are_stable_and_name_the_segments_whatever_their_order(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    first = [i.key for i in items_for(cast, doc)]
    again = [i.key for i in items_for(cast, doc, viewer=cast.supervisor)]
    assert first == again
    assert len(set(first)) == 4
    a, b = coded["carol_plan"].uuid, coded["bob_plan"].uuid
    assert cons.item_key([a, b]) == cons.item_key([str(b), a]) == first[1]
    assert len(first[0]) == 64


def test_with_three_coders_a_passage_is_agreed_only_when_all_three_match() -> None:
    def s(pk: int, coder: str, code: int, start: int, end: int) -> SimpleNamespace:
        return SimpleNamespace(pk=pk, coder_id=coder, code_id=code, start=start, end=end)

    all_three = [s(1, "a", 7, 0, 10), s(2, "b", 7, 0, 10), s(3, "c", 7, 0, 10)]
    two_of_three = [s(4, "a", 7, 20, 30), s(5, "b", 7, 20, 30), s(6, "c", 8, 21, 30)]
    items = cons.group_segments([*all_three, *two_of_three], ["a", "b", "c"])
    assert [(kind, [x.pk for x in members]) for kind, members, _ in items] == [
        ("disagreement", [4, 5, 6]),
        ("agreed", [1, 2, 3]),
    ]


def test_a_coder_assigned_who_coded_nothing_makes_every_passage_a_disagreement() -> None:
    segments = [SimpleNamespace(pk=1, coder_id="a", code_id=7, start=0, end=10)]
    ((kind, members, context),) = cons.group_segments(segments, ["a", "b"])
    assert (kind, [m.pk for m in members], context) == ("disagreement", [1], [])


# Who reaches the items ----------------------------------------------------------------------


def test_a_blind_coder_cannot_reach_the_consensus_view_until_the_reveal(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    for coder in (cast.coder_a, cast.coder_b):
        assert not sight.layers_open(access_for(cast.study, coder))
        with pytest.raises(cons.ConsensusError, match="revealed"):
            items_for(cast, doc, viewer=coder)
    revealed(cast)
    assert sight.layers_open(access_for(cast.study, cast.coder_b))
    assert len(items_for(cast, doc, viewer=cast.coder_b)) == 4


def test_the_owner_and_supervisor_read_items_when_the_policy_is_always(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    assert len(items_for(cast, doc, viewer=cast.owner)) == 4
    assert len(items_for(cast, doc, viewer=cast.supervisor)) == 4
    assert sight.may_reconcile(access_for(cast.study, cast.owner))
    assert not sight.may_reconcile(access_for(cast.study, cast.supervisor))
    assert not sight.may_reconcile(access_for(cast.study, cast.coder_a))


def test_under_after_reveal_nobody_reads_items_before_the_reveal(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    services.codebook_reveal_policy_set(study=cast.study, actor=cast.owner, policy="after_reveal")
    for viewer in (cast.owner, cast.supervisor, cast.coder_a):
        with pytest.raises(cons.ConsensusError):
            items_for(cast, doc, viewer=viewer)
    revealed(cast)
    for viewer in (cast.owner, cast.supervisor, cast.coder_a):
        assert len(items_for(cast, doc, viewer=viewer)) == 4


def test_an_outsider_reads_no_items_and_decides_nothing(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    revealed(cast)
    key = items_for(cast, doc)[0].key
    with pytest.raises(cons.ConsensusError):
        items_for(cast, doc, viewer=cast.outsider)
    before = state()
    with pytest.raises(cons.ConsensusError, match="owner and coders"):
        cons.consensus_decide(intervention=doc, actor=cast.outsider, item_key=key, action="drop")
    assert state() == before


# Deciding -----------------------------------------------------------------------------------


def test_taking_a_version_copies_that_coders_segments_with_who_when_and_the_note(
    cast: Cast, doc: Intervention, codes: dict[str, Code], coded: dict[str, Segment]
) -> None:
    item = item_with(items_for(cast, doc), coded["bob_plan"])
    decision = cons.consensus_decide(
        intervention=doc,
        actor=cast.owner,
        item_key=item.key,
        action="take",
        take_segment=coded["bob_plan"],
        note="  Het plan gaat over het hele gezin.  ",
    )
    decision.refresh_from_db()
    assert decision.action == "take"
    assert decision.decided_by == cast.owner
    assert decision.decided_at is not None
    assert decision.note == "Het plan gaat over het hele gezin."
    assert {r["uuid"] for r in decision.source_segments} == {
        str(coded["carol_plan"].uuid),
        str(coded["bob_plan"].uuid),
    }
    (made,) = cons.consensus_segments(doc)
    start, end, quote = span("maken een plan voor de week")
    assert (made.code, made.start, made.end, made.quote) == (codes["psych"], start, end, quote)
    assert made.decision == decision
    assert made.created_by == cast.owner
    event = CodingEvent.objects.get(action="consensus_decide")
    assert event.actor == cast.owner
    assert event.code == codes["psych"]
    assert event.after["action"] == "take"
    assert event.after["item"] == item.key
    assert event.after["note"] == "Het plan gaat over het hele gezin."
    assert event.after["result"] == [
        {
            "uuid": str(made.uuid),
            "code": "Psychologische hulpbronnen",
            "code_uuid": str(codes["psych"].uuid),
            "start": start,
            "end": end,
            "quote": quote,
        }
    ]
    assert item_with(items_for(cast, doc), coded["bob_plan"]).decision == decision


def test_taking_needs_a_segment_of_the_item(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    item = item_with(items_for(cast, doc), coded["bob_plan"])
    before = state()
    for other in (None, coded["carol_ouders"], "not-a-uuid"):
        with pytest.raises(cons.ConsensusError, match="Choose one of this passage"):
            cons.consensus_decide(
                intervention=doc,
                actor=cast.owner,
                item_key=item.key,
                action="take",
                take_segment=other,
            )
    assert state() == before


def test_keeping_both_copies_every_version_and_dropping_copies_none(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    items = items_for(cast, doc)
    plan = item_with(items, coded["bob_plan"])
    coord = item_with(items, coded["carol_coord"])
    cons.consensus_decide(intervention=doc, actor=cast.owner, item_key=plan.key, action="keep_both")
    cons.consensus_decide(intervention=doc, actor=cast.owner, item_key=coord.key, action="drop")
    assert sorted((s.code.name, s.quote) for s in cons.consensus_segments(doc)) == [
        ("Doelen", "maken een plan"),
        ("Psychologische hulpbronnen", "maken een plan voor de week"),
    ]
    assert cons.reconciliation_progress(intervention=doc) == (2, 4)


def test_keeping_both_of_an_agreed_passage_with_identical_spans_keeps_one(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    ouders = item_with(items_for(cast, doc), coded["carol_ouders"])
    decision = cons.consensus_decide(
        intervention=doc, actor=cast.owner, item_key=ouders.key, action="keep_both"
    )
    assert [s.quote for s in decision.segments.all()] == ["Ouders oefenen thuis"]


def test_an_edit_writes_the_edited_span_and_refuses_bad_input_without_a_trace(
    cast: Cast, doc: Intervention, codes: dict[str, Code], coded: dict[str, Segment]
) -> None:
    item = item_with(items_for(cast, doc), coded["bob_plan"])
    foreign = CodeFactory(study=StudyFactory())
    start, end, quote = span("een plan voor de week")
    summary = span("het gezin leert")
    before = state()
    refusals = [
        ((codes["doelen"], end, start), "empty"),
        ((codes["doelen"], start, len(TEXT) + 5), "outside the text"),
        ((codes["doelen"], start, end, "iets anders"), "does not match"),
        ((codes["doelen"], *summary[:2]), "not coded"),
        ((foreign, start, end), "code of this study"),
        ((codes["doelen"], "1", end), "whole numbers"),
        ((codes["doelen"],), "needs a code"),
        (None, "needs a code"),
    ]
    for edit, message in refusals:
        with pytest.raises(cons.ConsensusError, match=message):
            cons.consensus_decide(
                intervention=doc, actor=cast.owner, item_key=item.key, action="edit", edit=edit
            )
    assert state() == before
    decision = cons.consensus_decide(
        intervention=doc,
        actor=cast.owner,
        item_key=item.key,
        action="edit",
        edit=cons.Edit(codes["doelen"], start, end, quote),
    )
    (made,) = decision.segments.all()
    assert (made.code, made.start, made.end, made.quote) == (codes["doelen"], start, end, quote)


def test_an_unknown_action_and_a_long_note_are_refused(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    key = items_for(cast, doc)[0].key
    before = state()
    with pytest.raises(cons.ConsensusError, match="Choose what to do"):
        cons.consensus_decide(intervention=doc, actor=cast.owner, item_key=key, action="merge")
    with pytest.raises(cons.ConsensusError, match="at most 5,000"):
        cons.consensus_decide(
            intervention=doc, actor=cast.owner, item_key=key, action="drop", note="x" * 5001
        )
    assert state() == before


def test_a_supervisor_cannot_change_the_coding_and_nothing_changes(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    revealed(cast)
    items = items_for(cast, doc, viewer=cast.supervisor)
    before = state()
    with pytest.raises(cons.ConsensusError, match="supervisor"):
        cons.consensus_decide(
            intervention=doc, actor=cast.supervisor, item_key=items[0].key, action="drop"
        )
    with pytest.raises(cons.ConsensusError, match="supervisor"):
        cons.consensus_accept_agreed(intervention=doc, actor=cast.supervisor)
    cons.consensus_decide(intervention=doc, actor=cast.owner, item_key=items[0].key, action="drop")
    after_owner = state()
    with pytest.raises(cons.ConsensusError, match="supervisor"):
        cons.consensus_undecide(intervention=doc, actor=cast.supervisor, item_key=items[0].key)
    assert before != after_owner == state()


def test_a_coder_reconciles_only_after_the_reveal(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    key = items_for(cast, doc)[0].key
    before = state()
    with pytest.raises(cons.ConsensusError, match="revealed"):
        cons.consensus_decide(intervention=doc, actor=cast.coder_a, item_key=key, action="drop")
    with pytest.raises(cons.ConsensusError, match="revealed"):
        cons.consensus_accept_agreed(intervention=doc, actor=cast.coder_b)
    assert state() == before
    revealed(cast)
    decision = cons.consensus_decide(
        intervention=doc, actor=cast.coder_a, item_key=key, action="drop"
    )
    assert decision.decided_by == cast.coder_a


def test_a_key_that_is_no_item_of_this_intervention_is_refused(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    other = InterventionFactory(study=cast.study, title="Ander", text=TEXT)
    other_segment = code(other, cast.coder_a, coded["carol_plan"].code, "maken een plan")
    foreign_key = cons.item_key([other_segment.uuid])
    before = state()
    for key in (foreign_key, "0" * 64, ""):
        with pytest.raises(cons.ConsensusError, match="not one to reconcile"):
            cons.consensus_decide(intervention=doc, actor=cast.owner, item_key=key, action="drop")
    assert state() == before


def test_a_second_decision_is_refused_naming_who_decided_and_when(
    cast: Cast, doc: Intervention, codes: dict[str, Code], coded: dict[str, Segment]
) -> None:
    revealed(cast)
    item = item_with(items_for(cast, doc), coded["bob_plan"])
    first = cons.consensus_decide(
        intervention=doc,
        actor=cast.coder_a,
        item_key=item.key,
        action="take",
        take_segment=coded["carol_plan"],
    )
    before = state()
    with pytest.raises(cons.ConsensusError, match=r"carol already decided this passage on \S+"):
        cons.consensus_decide(
            intervention=doc, actor=cast.coder_b, item_key=item.key, action="drop"
        )
    with pytest.raises(cons.ConsensusError, match="Only the study's owner can replace"):
        cons.consensus_decide(
            intervention=doc, actor=cast.coder_b, item_key=item.key, action="drop", replace=True
        )
    assert state() == before
    replaced = cons.consensus_decide(
        intervention=doc,
        actor=cast.owner,
        item_key=item.key,
        action="take",
        take_segment=coded["bob_plan"],
        note="Na overleg.",
        replace=True,
    )
    assert replaced.pk == first.pk
    assert (replaced.decided_by, replaced.note) == (cast.owner, "Na overleg.")
    assert [s.code for s in cons.consensus_segments(doc)] == [codes["psych"]]
    event = CodingEvent.objects.filter(action="consensus_decide").order_by("-pk").first()
    assert event is not None
    assert event.before["decided_by"] == "carol"
    assert event.before["result"][0]["code"] == "Sociale hulpbronnen > Doelen"


def test_a_decision_that_would_repeat_a_consensus_segment_is_refused(
    cast: Cast, doc: Intervention, codes: dict[str, Code], coded: dict[str, Segment]
) -> None:
    items = items_for(cast, doc)
    plan = item_with(items, coded["bob_plan"])
    coord = item_with(items, coded["carol_coord"])
    start, end, quote = span("maken een plan")
    cons.consensus_decide(
        intervention=doc,
        actor=cast.owner,
        item_key=plan.key,
        action="take",
        take_segment=coded["carol_plan"],
    )
    before = state()
    with pytest.raises(cons.ConsensusError, match="already has “Doelen” on exactly this text"):
        cons.consensus_decide(
            intervention=doc,
            actor=cast.owner,
            item_key=coord.key,
            action="edit",
            edit=(codes["doelen"], start, end),
        )
    assert state() == before


# Progress, accepting the agreed, undoing ----------------------------------------------------


def test_progress_counts_decided_items_per_intervention_and_for_the_study(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    assert cons.reconciliation_progress(intervention=doc) == (0, 4)
    accepted = cons.consensus_accept_agreed(intervention=doc, actor=cast.owner)
    assert len(accepted) == 2
    assert cons.reconciliation_progress(intervention=doc) == (2, 4)
    other = InterventionFactory(study=cast.study, title="Ander", text=TEXT)
    code(other, cast.coder_b, coded["carol_plan"].code, "maken een plan")
    assert cons.reconciliation_progress_for_study(cast.study) == {doc.pk: (2, 4), other.pk: (0, 1)}


def test_accepting_the_agreed_takes_each_agreed_passage_once_and_records_each(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    decisions = cons.consensus_accept_agreed(intervention=doc, actor=cast.owner, note="Eens.")
    assert [d.action for d in decisions] == ["take", "take"]
    assert [(s.quote, s.decision.note) for s in cons.consensus_segments(doc)] == [
        ("Ouders oefenen thuis", "Eens."),
        # The earlier-starting version of the two.
        (COACH, "Eens."),
    ]
    assert CodingEvent.objects.filter(action="consensus_decide").count() == 2
    assert cons.consensus_accept_agreed(intervention=doc, actor=cast.owner) == []
    assert ConsensusDecision.objects.count() == 2


def test_undoing_a_decision_removes_its_consensus_segments_and_records_it(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    revealed(cast)
    item = item_with(items_for(cast, doc), coded["bob_plan"])
    cons.consensus_decide(intervention=doc, actor=cast.owner, item_key=item.key, action="keep_both")
    before = state()
    with pytest.raises(cons.ConsensusError, match="the person who decided"):
        cons.consensus_undecide(intervention=doc, actor=cast.coder_a, item_key=item.key)
    assert state() == before
    cons.consensus_undecide(intervention=doc, actor=cast.owner, item_key=item.key)
    assert ConsensusDecision.objects.count() == 0
    assert ConsensusSegment.objects.count() == 0
    event = CodingEvent.objects.get(action="consensus_undecide")
    assert event.before["action"] == "keep_both"
    assert len(event.before["result"]) == 2
    with pytest.raises(cons.ConsensusError, match="Nothing was decided"):
        cons.consensus_undecide(intervention=doc, actor=cast.owner, item_key=item.key)
    # A coder undoes their own decision.
    mine = cons.consensus_decide(
        intervention=doc, actor=cast.coder_b, item_key=item.key, action="drop"
    )
    cons.consensus_undecide(intervention=doc, actor=cast.coder_b, item_key=mine.item_key)
    assert ConsensusDecision.objects.count() == 0


def test_a_changed_segment_marks_its_decision_outdated_and_a_new_one_orphans_it(
    cast: Cast, doc: Intervention, codes: dict[str, Code], coded: dict[str, Segment]
) -> None:
    item = item_with(items_for(cast, doc), coded["bob_plan"])
    decision = cons.consensus_decide(
        intervention=doc, actor=cast.owner, item_key=item.key, action="drop"
    )
    start, end, quote = span("maken een plan voor")
    seg.segment_update_bounds(
        segment=coded["carol_plan"], actor=cast.coder_a, start=start, end=end, quote=quote
    )
    items = items_for(cast, doc)
    again = item_with(items, coded["bob_plan"])
    assert again.key == item.key
    assert again.decision == decision
    assert again.outdated
    assert cons.orphaned_decisions(intervention=doc, items=items) == []
    code(doc, cast.coder_b, codes["doelen"], "een plan")
    items = items_for(cast, doc)
    grown = item_with(items, coded["bob_plan"])
    assert grown.key != item.key
    assert grown.decision is None
    assert cons.orphaned_decisions(intervention=doc, items=items) == [decision]
    assert cons.reconciliation_progress(intervention=doc) == (0, 4)


def test_items_are_read_in_a_fixed_number_of_queries(
    cast: Cast, doc: Intervention, codes: dict[str, Code], coded: dict[str, Segment]
) -> None:
    cons.consensus_accept_agreed(intervention=doc, actor=cast.owner)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            items = items_for(cast, doc)
            for item in items:
                _ = [(s.code.name, s.coder.username) for s in item.segments]
                _ = item.decision.decided_by if item.decision else None
                _ = item.outdated
        return len(queries)

    small = count()
    for n, word in enumerate(["plan", "week", "nieuwe", "vaardigheden", "gesprek", "elk"]):
        coder = cast.coder_a if n % 2 else cast.coder_b
        code(doc, coder, codes["psych"], word)
    assert count() == small <= 10


def test_a_consensus_segment_keeps_its_span_rules_in_the_database(
    cast: Cast, doc: Intervention, codes: dict[str, Code], coded: dict[str, Segment]
) -> None:
    item = items_for(cast, doc)[0]
    decision = cons.consensus_decide(
        intervention=doc, actor=cast.owner, item_key=item.key, action="drop"
    )
    for start, end in ((5, 5), (9, 3)):
        with pytest.raises(IntegrityError), transaction.atomic():
            ConsensusSegment.objects.create(
                decision=decision, intervention=doc, code=codes["doelen"], start=start, end=end
            )
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsensusDecision.objects.create(
            intervention=doc, item_key=item.key, action="drop", decided_at=decision.decided_at
        )


# The consensus as a layer in agreement ------------------------------------------------------


def test_the_consensus_is_a_pseudo_coder_over_the_interventions_with_a_decision(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    other = InterventionFactory(study=cast.study, title="Ander", text=TEXT)
    assignment_create(
        study=cast.study, actor=cast.owner, coder=cast.coder_a, interventions=[other], method=""
    )
    empty = cons.consensus_as_coder_layer(cast.study, ["carol"])
    assert empty.coders == ["carol", "consensus"]
    assert empty.docs == []
    cons.consensus_accept_agreed(intervention=doc, actor=cast.owner)
    data = cons.consensus_as_coder_layer(cast.study, ["bob", "carol"])
    assert data.coders == ["bob", "carol", "consensus"]
    assert [d.id for d in data.docs] == [doc.pk]
    assert data.assigned == {"bob": {doc.pk}, "carol": {doc.pk}, "consensus": {doc.pk}}
    mine = [s for s in data.segments if s.coder == "consensus"]
    assert len(mine) == 2
    assert all(s.id < 0 for s in mine)
    with pytest.raises(cons.ConsensusError, match="not a coder"):
        cons.consensus_as_coder_layer(cast.study, ["sam"])


def test_each_coder_is_compared_with_the_consensus_by_the_agreement_machinery(
    cast: Cast, doc: Intervention, coded: dict[str, Segment]
) -> None:
    revealed(cast)
    items = items_for(cast, doc)
    for item in items:
        if item.is_agreed:
            continue
        carol = next((s for s in item.segments if s.coder_id == cast.coder_a.pk), None)
        cons.consensus_decide(
            intervention=doc, actor=cast.owner, item_key=item.key, action="take", take_segment=carol
        )
    cons.consensus_accept_agreed(intervention=doc, actor=cast.owner)
    result = cons.agreement_against_consensus(
        study=cast.study, coders=["bob", "carol"], unit="segment"
    )
    assert result["layer"] == "consensus"
    assert result["n_consensus_interventions"] == 1
    # carol's version was taken everywhere: she matches the consensus segment for segment.
    assert result["coders"]["carol"]["overall"]["percent_agreement"] == pytest.approx(1.0)
    assert result["coders"]["carol"]["coders"] == ["carol", "consensus"]
    # bob matches on the two agreed passages only: 2 x 2 / (3 of his + 4 of the consensus).
    assert result["coders"]["bob"]["overall"]["percent_agreement"] == pytest.approx(4 / 7)
    by_intervention = cons.agreement_against_consensus(study=cast.study, coders=["carol"])
    assert by_intervention["coders"]["carol"]["n_interventions"] == 1


# Two people at once -------------------------------------------------------------------------


def run_together(*calls: Any) -> list[BaseException]:
    """Run the calls in threads that start together (PostgreSQL), or one after another on
    SQLite, whose in-memory database is one connection per thread."""
    errors: list[BaseException] = []
    if connection.vendor == "sqlite":
        for call in calls:
            try:
                call()
            except BaseException as error:  # noqa: BLE001 - returned to the test
                errors.append(error)
        return errors
    barrier = threading.Barrier(len(calls))

    def work(call: Any) -> None:
        try:
            barrier.wait(timeout=10)
            call()
        except BaseException as error:  # noqa: BLE001 - returned to the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _reconciling_setup(cast: Cast) -> tuple[Intervention, list[cons.Item]]:
    text = " ".join(f"woord{n:02d}" for n in range(20))
    Intervention.objects.filter(pk=cast.intervention.pk).update(text=text)
    doc = Intervention.objects.get(pk=cast.intervention.pk)
    one = services.code_create(study=cast.study, actor=cast.owner, name="Een")
    two = services.code_create(study=cast.study, actor=cast.owner, name="Twee")
    for n in range(0, 20, 2):
        start = text.index(f"woord{n:02d}")
        for coder, c in ((cast.coder_a, one), (cast.coder_b, two)):
            seg.segment_create(
                intervention=doc,
                coder=coder,
                code=c,
                start=start,
                end=start + 7,
                quote=text[start : start + 7],
            )
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    items = cons.reconciliation_items(intervention=doc, viewer=cast.owner)
    assert len(items) == 10
    return doc, items


@pytest.mark.django_db(transaction=True)
def test_two_people_reconciling_one_intervention_at_once_lose_neither_decision(
    cast: Cast,
) -> None:
    doc, items = _reconciling_setup(cast)

    def reconcile(actor: Any, mine: list[cons.Item]) -> Any:
        def call() -> None:
            for item in mine:
                cons.consensus_decide(
                    intervention=doc,
                    actor=actor,
                    item_key=item.key,
                    action="take",
                    take_segment=item.segments[0],
                    note=f"door {actor.username}",
                )

        return call

    errors = run_together(reconcile(cast.owner, items[0::2]), reconcile(cast.coder_a, items[1::2]))
    assert errors == []
    assert ConsensusDecision.objects.filter(intervention=doc).count() == 10
    assert ConsensusSegment.objects.filter(intervention=doc).count() == 10
    assert set(ConsensusDecision.objects.values_list("note", flat=True)) == {
        "door alice",
        "door carol",
    }
    assert CodingEvent.objects.filter(action="consensus_decide").count() == 10
    assert cons.reconciliation_progress(intervention=doc) == (10, 10)


@pytest.mark.django_db(transaction=True)
def test_two_people_deciding_one_passage_at_once_keep_the_first_and_tell_the_second(
    cast: Cast,
) -> None:
    doc, items = _reconciling_setup(cast)
    item = items[0]

    def decide(actor: Any, action: str) -> Any:
        return lambda: cons.consensus_decide(
            intervention=doc, actor=actor, item_key=item.key, action=action
        )

    errors = run_together(decide(cast.coder_a, "keep_both"), decide(cast.coder_b, "drop"))
    assert len(errors) == 1
    assert isinstance(errors[0], cons.ConsensusError)
    decision = ConsensusDecision.objects.get(intervention=doc)
    assert f"{decision.decided_by.username} already decided" in str(errors[0])
    assert CodingEvent.objects.filter(action="consensus_decide").count() == 1
