"""The consensus pages: the study overview, one intervention's items and the decision posts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coding.codebook.services import codebook_reveal
from coding.consensus import services as cons
from coding.models import Code, ConsensusDecision, ConsensusSegment, Segment
from interventions.models import Intervention
from tests.conftest import Cast
from tests.factories import CodeFactory, SegmentFactory

TEXT = (
    "Het gezin leert samen plannen maken. "
    "De coach geeft feedback op elk gesprek. "
    "Ouders oefenen thuis met nieuwe vaardigheden."
)
HTMX = {"HTTP_HX_REQUEST": "true"}


def words(text: str) -> tuple[int, int]:
    start = TEXT.index(text)
    return start, start + len(text)


@pytest.fixture
def codes(cast: Cast) -> dict[str, Code]:
    return {
        "steun": CodeFactory(study=cast.study, name="Steun"),
        "doelen": CodeFactory(study=cast.study, name="Doelen"),
    }


@pytest.fixture
def doc(cast: Cast, codes: dict[str, Code]) -> Intervention:
    """carol and bob disagree on the first sentence and agree on the second."""
    intervention = cast.intervention
    intervention.text = TEXT
    intervention.save()
    first = words("Het gezin leert samen plannen maken.")
    second = words("De coach geeft feedback op elk gesprek.")
    SegmentFactory(
        intervention=intervention,
        coder=cast.coder_a,
        code=codes["steun"],
        start=first[0],
        end=first[1],
    )
    SegmentFactory(
        intervention=intervention,
        coder=cast.coder_b,
        code=codes["doelen"],
        start=first[0],
        end=first[1],
    )
    for coder in (cast.coder_a, cast.coder_b):
        SegmentFactory(
            intervention=intervention,
            coder=coder,
            code=codes["steun"],
            start=second[0],
            end=second[1],
        )
    return intervention


@pytest.fixture
def revealed(cast: Cast, doc: Intervention) -> Intervention:
    codebook_reveal(study=cast.study, actor=cast.owner)
    return doc


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def overview_url(cast: Cast) -> str:
    return reverse("consensus", args=[cast.study.slug])


def page_url(cast: Cast, name: str = "consensus_intervention") -> str:
    return reverse(name, args=[cast.study.slug, cast.intervention.uuid])


def items(cast: Cast) -> list[cons.Item]:
    return cons.reconciliation_items(intervention=cast.intervention, viewer=cast.owner)


def disagreement(cast: Cast) -> cons.Item:
    return next(i for i in items(cast) if not i.is_agreed)


def segment_of(item: cons.Item, coder: Any) -> str:
    return str(next(s.uuid for s in item.segments if s.coder_id == coder.pk))


# Who reads -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["consensus", "consensus_intervention"])
def test_it_sends_an_anonymous_visitor_to_log_in(cast: Cast, doc: Intervention, name: str) -> None:
    url = overview_url(cast) if name == "consensus" else page_url(cast)
    response = client_for(None).get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", ["consensus", "consensus_intervention"])
def test_it_hides_the_pages_from_an_outsider(cast: Cast, revealed: Intervention, name: str) -> None:
    url = overview_url(cast) if name == "consensus" else page_url(cast)
    assert client_for(cast.outsider).get(url).status_code == 404


@pytest.mark.parametrize("name", ["consensus", "consensus_intervention"])
def test_it_refuses_a_blind_coder_before_the_reveal(
    cast: Cast, doc: Intervention, name: str
) -> None:
    url = overview_url(cast) if name == "consensus" else page_url(cast)
    assert client_for(cast.coder_a).get(url).status_code == 403


def test_it_refuses_the_owner_while_the_layers_wait_for_the_reveal(
    cast: Cast, doc: Intervention
) -> None:
    from coding.codebook.services import codebook_reveal_policy_set

    codebook_reveal_policy_set(study=cast.study, actor=cast.owner, policy="after_reveal")
    assert client_for(cast.owner).get(page_url(cast)).status_code == 403
    assert client_for(cast.supervisor).get(overview_url(cast)).status_code == 403


@pytest.mark.parametrize("role", ["owner", "supervisor", "coder_a"])
def test_it_shows_the_overview_to_members_once_the_layers_are_open(
    cast: Cast, revealed: Intervention, role: str
) -> None:
    response = client_for(getattr(cast, role)).get(overview_url(cast))
    assert response.status_code == 200
    body = response.content.decode()
    assert page_url(cast) in body
    assert "0 / 2" in body
    # Agreement figures are for the owner and the supervisor, as on the agreement pages.
    shows_figures = role != "coder_a"
    assert ("Agreement of each coder against the consensus" in body) is shows_figures


def test_the_overview_lists_only_interventions_of_two_coders(
    cast: Cast, revealed: Intervention, codes: dict[str, Code]
) -> None:
    from tests.factories import InterventionFactory

    single = InterventionFactory(study=cast.study, title="Alleen carol")
    SegmentFactory(intervention=single, coder=cast.coder_a, code=codes["steun"], start=0, end=4)
    body = client_for(cast.owner).get(overview_url(cast)).content.decode()
    assert "Gezin Centraal" in body
    assert "Alleen carol" not in body


def test_the_overview_compares_each_coder_with_the_consensus(
    cast: Cast, revealed: Intervention
) -> None:
    cons.consensus_accept_agreed(intervention=cast.intervention, actor=cast.owner)
    response = client_for(cast.supervisor).get(overview_url(cast), {"unit": "word"})
    assert response.status_code == 200
    assert response.context["unit"] == "word"
    rows = {row.coder: row for row in response.context["coder_rows"]}
    assert {"carol", "bob"} <= set(rows)


def test_the_overview_refuses_an_unknown_unit(cast: Cast, revealed: Intervention) -> None:
    response = client_for(cast.owner).get(overview_url(cast), {"unit": "paragraph"})
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["owner", "supervisor", "coder_a", "coder_b"])
def test_it_shows_every_coders_version_side_by_side(
    cast: Cast, revealed: Intervention, role: str
) -> None:
    response = client_for(getattr(cast, role)).get(page_url(cast))
    assert response.status_code == 200
    body = response.content.decode()
    item = disagreement(cast)
    for segment in item.segments:
        assert f"segment={segment.uuid}#seg-{segment.uuid}" in body
    assert "Steun" in body
    assert "Doelen" in body
    # Disagreements come first.
    assert body.index("disagreement</span>") < body.index("agreed</span>")
    can_decide = role != "supervisor"
    assert (page_url(cast, "consensus_decide") in body) is can_decide


@pytest.mark.parametrize(
    "name", ["consensus", "consensus_decide", "consensus_accept_agreed", "consensus_undo"]
)
def test_it_answers_405_to_the_wrong_method(cast: Cast, revealed: Intervention, name: str) -> None:
    client = client_for(cast.owner)
    if name == "consensus":
        assert client.post(overview_url(cast)).status_code == 405
    else:
        assert client.get(page_url(cast, name)).status_code == 405


def test_the_intervention_page_answers_405_to_a_post(cast: Cast, revealed: Intervention) -> None:
    assert client_for(cast.owner).post(page_url(cast)).status_code == 405


# Who decides ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["consensus_decide", "consensus_accept_agreed", "consensus_undo"])
def test_the_posts_refuse_everyone_who_does_not_reconcile(
    cast: Cast, revealed: Intervention, name: str
) -> None:
    key = disagreement(cast).key
    data = {"item": key, "action": "drop"}
    url = page_url(cast, name)
    assert client_for(None).post(url, data).status_code == 302
    assert client_for(cast.outsider).post(url, data).status_code == 404
    assert client_for(cast.supervisor).post(url, data).status_code == 403
    assert ConsensusDecision.objects.count() == 0


def test_a_blind_coder_cannot_decide(cast: Cast, doc: Intervention) -> None:
    key = disagreement(cast).key
    response = client_for(cast.coder_a).post(
        page_url(cast, "consensus_decide"), {"item": key, "action": "drop"}
    )
    assert response.status_code == 403
    assert ConsensusDecision.objects.count() == 0


def test_the_owner_takes_one_coders_version(cast: Cast, revealed: Intervention) -> None:
    item = disagreement(cast)
    response = client_for(cast.owner).post(
        page_url(cast, "consensus_decide"),
        {
            "item": item.key,
            "take": segment_of(item, cast.coder_b),
            "note": "bob volgt het codeboek",
        },
        **HTMX,
    )
    assert response.status_code == 200
    decision = ConsensusDecision.objects.get()
    assert decision.action == "take"
    assert decision.decided_by == cast.owner
    assert decision.note == "bob volgt het codeboek"
    assert list(ConsensusSegment.objects.values_list("code__name", flat=True)) == ["Doelen"]
    body = response.content.decode()
    assert f'id="item-{item.key}"' in body
    assert 'id="cons-progress" aria-labelledby="progress-heading" hx-swap-oob="true"' in body
    assert "1 of 2 passages decided" in body
    assert "Decided by <strong>alice</strong>" in body


def test_a_coder_keeps_both_versions_after_the_reveal(cast: Cast, revealed: Intervention) -> None:
    item = disagreement(cast)
    response = client_for(cast.coder_a).post(
        page_url(cast, "consensus_decide"), {"item": item.key, "action": "keep_both"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"{page_url(cast)}#item-{item.key}")
    assert ConsensusSegment.objects.count() == 2


def test_the_owner_writes_an_edited_segment(
    cast: Cast, revealed: Intervention, codes: dict[str, Code]
) -> None:
    item = disagreement(cast)
    start, end = words("plannen maken")
    response = client_for(cast.owner).post(
        page_url(cast, "consensus_decide"),
        {
            "item": item.key,
            "action": "edit",
            "code": str(codes["doelen"].uuid),
            "start": start,
            "end": end,
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert ConsensusSegment.objects.get().quote == "plannen maken"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "edit", "start": 5, "end": 2}, "start"),
        ({"action": "edit", "start": "", "end": ""}, "whole numbers"),
        ({"action": "take", "take": "00000000-0000-0000-0000-000000000000"}, "segments to take"),
        ({"action": "shrug"}, "shrug"),
        ({}, "Choose what to do"),
        ({"action": "drop", "note": "x" * 5001}, "at most"),
    ],
)
def test_it_refuses_a_bad_decision_with_400_and_stores_nothing(
    cast: Cast, revealed: Intervention, codes: dict[str, Code], data: dict[str, Any], message: str
) -> None:
    item = disagreement(cast)
    data = {"item": item.key, "code": str(codes["steun"].uuid), **data}
    response = client_for(cast.owner).post(page_url(cast, "consensus_decide"), data, **HTMX)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ConsensusDecision.objects.count() == 0
    assert ConsensusSegment.objects.count() == 0


def test_it_refuses_a_passage_that_is_not_there(cast: Cast, revealed: Intervention) -> None:
    response = client_for(cast.owner).post(
        page_url(cast, "consensus_decide"), {"item": "f" * 64, "action": "drop"}
    )
    assert response.status_code == 400
    assert "Reload the page" in response.content.decode()
    assert ConsensusDecision.objects.count() == 0


def test_a_second_decision_is_refused_with_who_decided_first(
    cast: Cast, revealed: Intervention
) -> None:
    item = disagreement(cast)
    # carol and bob reconcile at once; bob's page still shows the passage undecided.
    cons.consensus_decide(
        intervention=cast.intervention, actor=cast.coder_a, item_key=item.key, action="drop"
    )
    response = client_for(cast.coder_b).post(
        page_url(cast, "consensus_decide"),
        {"item": item.key, "take": segment_of(item, cast.coder_b)},
        **HTMX,
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "carol already decided this passage" in body
    decision = ConsensusDecision.objects.get()
    assert (decision.action, decision.decided_by) == ("drop", cast.coder_a)


def test_a_refusal_without_htmx_shows_the_whole_page(cast: Cast, revealed: Intervention) -> None:
    item = disagreement(cast)
    cons.consensus_decide(
        intervention=cast.intervention, actor=cast.coder_a, item_key=item.key, action="drop"
    )
    response = client_for(cast.owner).post(
        page_url(cast, "consensus_decide"), {"item": item.key, "action": "keep_both"}
    )
    assert response.status_code == 400
    assert "<html" in response.content.decode()
    assert "carol already decided" in response.content.decode()


def test_accept_agreed_takes_every_agreed_passage(cast: Cast, revealed: Intervention) -> None:
    response = client_for(cast.owner).post(page_url(cast, "consensus_accept_agreed"), **HTMX)
    assert response.status_code == 200
    assert ConsensusDecision.objects.get().action == "take"
    body = response.content.decode()
    assert 'id="consensus-body"' in body
    assert "1 of 2 passages decided" in body


def test_accept_agreed_without_htmx_redirects(cast: Cast, revealed: Intervention) -> None:
    response = client_for(cast.coder_b).post(page_url(cast, "consensus_accept_agreed"))
    assert response.status_code == 302
    assert ConsensusDecision.objects.count() == 1


def test_undo_removes_the_decision(cast: Cast, revealed: Intervention) -> None:
    item = disagreement(cast)
    cons.consensus_decide(
        intervention=cast.intervention, actor=cast.coder_a, item_key=item.key, action="keep_both"
    )
    response = client_for(cast.owner).post(
        page_url(cast, "consensus_undo"), {"item": item.key}, **HTMX
    )
    assert response.status_code == 200
    assert ConsensusDecision.objects.count() == 0
    assert ConsensusSegment.objects.count() == 0
    assert "0 of 2 passages decided" in response.content.decode()


def test_a_coder_cannot_undo_someone_elses_decision(cast: Cast, revealed: Intervention) -> None:
    item = disagreement(cast)
    cons.consensus_decide(
        intervention=cast.intervention, actor=cast.owner, item_key=item.key, action="drop"
    )
    response = client_for(cast.coder_a).post(
        page_url(cast, "consensus_undo"), {"item": item.key}, **HTMX
    )
    assert response.status_code == 400
    assert "Only the owner or the person who decided it" in response.content.decode()
    assert ConsensusDecision.objects.count() == 1


def test_undo_of_nothing_is_refused(cast: Cast, revealed: Intervention) -> None:
    response = client_for(cast.owner).post(page_url(cast, "consensus_undo"), {"item": "a" * 64})
    assert response.status_code == 400
    assert "Nothing was decided" in response.content.decode()


def test_a_decision_whose_passage_changed_can_be_undone(
    cast: Cast, revealed: Intervention, codes: dict[str, Code]
) -> None:
    item = disagreement(cast)
    cons.consensus_decide(
        intervention=cast.intervention, actor=cast.owner, item_key=item.key, action="drop"
    )
    start, end = words("plannen")
    SegmentFactory(
        intervention=cast.intervention,
        coder=cast.coder_a,
        code=codes["doelen"],
        start=start,
        end=end,
    )
    body = client_for(cast.owner).get(page_url(cast)).content.decode()
    assert "Decisions whose passage changed" in body
    response = client_for(cast.owner).post(
        page_url(cast, "consensus_undo"),
        {"item": item.key},
        HTTP_HX_TARGET="consensus-body",
        **HTMX,
    )
    assert response.status_code == 200
    assert ConsensusDecision.objects.count() == 0


# Safety and cost ---------------------------------------------------------------------------


def test_it_escapes_quotes_codes_and_notes(cast: Cast, codes: dict[str, Code]) -> None:
    doc = cast.intervention
    doc.text = "<script>alert(1)</script> en meer tekst hier."
    doc.save()
    evil = CodeFactory(study=cast.study, name="<img src=x onerror=alert(2)>")
    SegmentFactory(intervention=doc, coder=cast.coder_a, code=evil, start=0, end=25)
    SegmentFactory(intervention=doc, coder=cast.coder_b, code=codes["steun"], start=0, end=25)
    key = disagreement(cast).key
    cons.consensus_decide(
        intervention=doc, actor=cast.owner, item_key=key, action="keep_both", note="<b>nee</b>"
    )
    body = client_for(cast.owner).get(page_url(cast)).content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x" not in body
    assert "<b>nee</b>" not in body


def _many_items(cast: Cast, codes: dict[str, Code], n: int) -> None:
    doc = cast.intervention
    doc.text = "".join(f"Zin nummer {i:03d} gaat over het gezin. " for i in range(n))
    doc.save()
    length = len("Zin nummer 000 gaat over het gezin. ")
    for i in range(n):
        start, end = i * length, i * length + length - 1
        SegmentFactory(
            intervention=doc, coder=cast.coder_a, code=codes["steun"], start=start, end=end
        )
        other = codes["doelen"] if i % 2 else codes["steun"]
        SegmentFactory(intervention=doc, coder=cast.coder_b, code=other, start=start, end=end)


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_intervention_page_needs_a_fixed_number_of_queries(
    cast: Cast, codes: dict[str, Code]
) -> None:
    codebook_reveal(study=cast.study, actor=cast.owner)
    client = client_for(cast.owner)
    _many_items(cast, codes, 4)
    cons.consensus_accept_agreed(intervention=cast.intervention, actor=cast.owner)
    few = _queries(client, page_url(cast))

    ConsensusDecision.objects.all().delete()
    Segment.objects.all().delete()
    _many_items(cast, codes, 50)
    assert len(items(cast)) == 50
    cons.consensus_accept_agreed(intervention=cast.intervention, actor=cast.owner)
    for item in [i for i in items(cast) if not i.is_agreed][:10]:
        cons.consensus_decide(
            intervention=cast.intervention, actor=cast.owner, item_key=item.key, action="keep_both"
        )
    many = _queries(client, page_url(cast))
    assert many == few
    assert many <= 22


def test_a_passage_is_placed_by_section_and_paragraph_not_by_characters(
    cast: Cast, revealed: Intervention
) -> None:
    from interventions.models import Section

    # The text as two paragraphs under a heading: the second sentence opens paragraph 2.
    revealed.text = "Aanpak\n" + TEXT.replace("maken. ", "maken.\n")
    revealed.save()
    Segment.objects.filter(intervention=revealed).delete()
    Section.objects.create(intervention=revealed, start=0, end=len(revealed.text), heading="Aanpak")
    start = revealed.text.index("De coach")
    end = revealed.text.index(" Ouders")
    for coder, code in ((cast.coder_a, "Steun"), (cast.coder_b, "Doelen")):
        SegmentFactory(
            intervention=revealed,
            coder=coder,
            code=Code.objects.get(study=cast.study, name=code),
            start=start,
            end=end,
        )
    page = client_for(cast.owner).get(page_url(cast)).content.decode()
    assert "Aanpak, paragraph 2" in page
    assert "characters" not in page
