"""The coding workspace, segment actions, progress, the reveal and the code report through their
pages: who may do what, what each action stores and answers, refusals, escaping, blind coding
and the number of queries."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from coding import segments as seg
from coding.codebook import services
from coding.models import (
    Assignment,
    Code,
    Codebook,
    CodingEvent,
    InterventionProgress,
    Segment,
)
from interventions.marks import study_marks
from interventions.models import Role, Section
from tests.conftest import Cast
from tests.factories import (
    AttributeDefinitionFactory,
    AttributeValueFactory,
    InterventionFactory,
    MembershipFactory,
    StudyFactory,
)
from veerkracht.lib.rows import prepared_from

HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧
TEXT = (
    "Samenvatting\n"
    "Kort: het gezin leert samen.\n"
    "\n"
    "Aanpak\n"
    f"De coördinator en het gezin {FAMILY} maken een plan voor de kome\u0301nde week. "
    "Ouders oefenen thuis met nieuwe vaardigheden en de coach geeft feedback.\n"
    "Het netwerk van buren en school steunt de kinderen.\n"
)
XSS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def span(word: str, text: str = TEXT) -> dict[str, Any]:
    start = text.index(word)
    return {"start": start, "end": start + len(word), "quote": word}


def chunk_texts(content: str) -> list[tuple[int, str]]:
    """(data-offset, text) of every chunk on a page, tags stripped and entities decoded."""
    found = re.findall(
        r'<div id="ws-chunk-\d+" class="ws-chunk" data-offset="(\d+)"[^>]*>(.*?)</div>',
        content,
        flags=re.S,
    )
    return [(int(offset), html.unescape(re.sub(r"<[^>]+>", "", body))) for offset, body in found]


def json_block(content: str, element_id: str) -> Any:
    """The data of the page's `json_script` block with this id."""
    found = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', content, flags=re.S
    )
    assert found is not None, f"no #{element_id} on the page"
    return json.loads(found.group(1))


def decoded(encoded: dict[str, Any]) -> list[list[Any]]:
    """Segments from the page's compact form: [UUID, start, end, code id, coder id, memo]."""
    ids = base64.b64decode(encoded["ids"])
    uuids = [UUID(bytes=ids[at : at + 16]) for at in range(0, len(ids), 16)]
    spans = encoded["spans"]
    assert len(spans) == 5 * len(uuids)
    rows = []
    for n, uuid in enumerate(uuids):
        start, length, code, coder, memo = spans[5 * n : 5 * n + 5]
        rows.append([uuid, start, start + length, code, coder, memo])
    return rows


def painted(content: str) -> dict[UUID, list[Any]]:
    """The segments the page gives the browser to paint, by UUID."""
    return {row[0]: row for row in decoded(json_block(content, "ws-data")["segments"])}


@pytest.fixture
def doc(cast: Cast) -> Any:
    intervention = cast.intervention
    intervention.text = TEXT
    intervention.save()
    aanpak = TEXT.index("Aanpak")
    Section.objects.create(
        intervention=intervention, heading="Samenvatting", start=0, end=aanpak, excluded=True
    )
    Section.objects.create(intervention=intervention, heading="Aanpak", start=aanpak, end=len(TEXT))
    return intervention


@pytest.fixture
def codes(cast: Cast) -> dict[str, Code]:
    make = services.code_create
    sociaal = make(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    psych = make(study=cast.study, actor=cast.owner, name="Psychologische hulpbronnen")
    doelen = make(study=cast.study, actor=cast.owner, name="Doelen", parent=sociaal)
    inhoud = make(study=cast.study, actor=cast.owner, name="Inhoud", parent=sociaal)
    return {"sociaal": sociaal, "psych": psych, "doelen": doelen, "inhoud": inhoud}


@dataclass
class World:
    carol_segment: Segment
    bob_segment: Segment
    other_code: Code


@pytest.fixture
def world(cast: Cast, doc: Any, codes: dict[str, Code]) -> World:
    carol = seg.segments_apply(
        intervention=doc,
        coder=cast.coder_a,
        codes=[codes["doelen"]],
        memo="Carols geheime notitie",
        **span("Ouders oefenen thuis"),
    )[0]
    bob = seg.segments_apply(
        intervention=doc,
        coder=cast.coder_b,
        codes=[codes["inhoud"]],
        memo="Bobs geheime notitie",
        **span("netwerk van buren"),
    )[0]
    other: Any = StudyFactory(name="Andere studie", slug="andere")
    MembershipFactory(study=other, user=cast.owner, role=Role.OWNER)
    other_code = services.code_create(study=other, actor=cast.owner, name="Vreemde code")
    return World(carol, bob, other_code)


# Another coder's segment ---------------------------------------------------------------------
# Who may use each URL is tests/test_urls_by_role.py; here, what a blind coder gets.


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    kwargs: Callable[[Cast, World], dict[str, Any]]
    data: Callable[[Cast, World], dict[str, Any]] = lambda cast, world: {}
    htmx: bool = True


def _carols(cast: Cast, world: World) -> dict[str, Any]:
    return {"slug": cast.study.slug, "uuid": world.carol_segment.uuid}


# The URLs of one segment: carol's, which bob must not even learn exists before the reveal.
SEGMENT_ENDPOINTS = [
    Endpoint("segment_detail", "get", _carols),
    Endpoint("segment_memo", "post", _carols, lambda cast, world: {"memo": "Nieuw"}),
    Endpoint(
        "segment_code",
        "post",
        _carols,
        lambda cast, world: {"code": str(world.bob_segment.code.uuid)},
    ),
    Endpoint("segment_bounds", "post", _carols, lambda cast, world: span("Ouders oefenen")),
    Endpoint("segment_delete", "post", _carols),
]


def _call(client: Client, endpoint: Endpoint, cast: Cast, world: World, method: str) -> Any:
    url = reverse(endpoint.name, kwargs=endpoint.kwargs(cast, world))
    extra = HTMX if endpoint.htmx else {}
    call = client.get if method == "get" else client.post
    return call(url, endpoint.data(cast, world), **extra)


@pytest.mark.parametrize("endpoint", SEGMENT_ENDPOINTS, ids=lambda e: e.name)
def test_another_coders_segment_url_is_a_404_before_the_reveal(
    cast: Cast, world: World, endpoint: Endpoint
) -> None:
    before = Segment.objects.count(), CodingEvent.objects.count()
    response = _call(client_for(cast.coder_b), endpoint, cast, world, endpoint.method)
    assert response.status_code == 404
    assert (Segment.objects.count(), CodingEvent.objects.count()) == before
    assert b"Carols geheime notitie" not in response.content


def test_after_the_reveal_a_coder_reads_but_cannot_change_anothers_segment(
    cast: Cast, world: World
) -> None:
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    bob = client_for(cast.coder_b)
    url = reverse("segment_detail", args=[cast.study.slug, world.carol_segment.uuid])
    response = bob.get(url, **HTMX)
    assert response.status_code == 200
    assert "Only carol can change this segment." in response.content.decode()
    memo_url = reverse("segment_memo", args=[cast.study.slug, world.carol_segment.uuid])
    assert bob.post(memo_url, {"memo": "x"}, **HTMX).status_code == 403


def test_without_htmx_a_segment_url_opens_the_workspace_at_it(cast: Cast, world: World) -> None:
    segment = world.carol_segment
    url = reverse("segment_detail", args=[cast.study.slug, segment.uuid])
    response = client_for(cast.supervisor).get(url)
    assert response.status_code == 302
    assert response["Location"] == (
        f"{workspace_url(cast)}?segment={segment.uuid}&layers={cast.coder_a.pk}#seg-{segment.uuid}"
    )
    page = client_for(cast.supervisor).get(response["Location"]).content.decode()
    assert f'data-segment="{segment.uuid}"' in page
    assert "Only carol can change this segment." in page
    own = client_for(cast.coder_a).get(url)
    assert own["Location"].endswith(f"?segment={segment.uuid}#seg-{segment.uuid}")


def test_a_segment_parameter_that_is_no_uuid_is_a_404(cast: Cast, world: World) -> None:
    response = client_for(cast.coder_a).get(workspace_url(cast, segment="nee"))
    assert response.status_code == 404


def test_a_segment_of_another_study_is_a_404(cast: Cast, world: World) -> None:
    other = StudyFactory(slug="derde")
    MembershipFactory(study=other, user=cast.coder_a, role=Role.CODER)
    url = reverse("segment_detail", args=["derde", world.carol_segment.uuid])
    assert client_for(cast.coder_a).get(url, **HTMX).status_code == 404


# The page ----------------------------------------------------------------------------------


def workspace_url(cast: Cast, **query: str) -> str:
    url = reverse("workspace", args=[cast.study.slug, cast.intervention.uuid])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def test_the_chunks_spell_the_text_exactly_at_their_offsets(cast: Cast, world: World) -> None:
    content = client_for(cast.owner).get(workspace_url(cast)).content.decode()
    chunks = chunk_texts(content)
    assert "".join(text for _offset, text in chunks) == TEXT
    for offset, text in chunks:
        assert TEXT[offset : offset + len(text)] == text


def test_a_long_section_is_cut_into_chunks_of_about_two_thousand_characters(
    cast: Cast, codes: dict[str, Code]
) -> None:
    paragraph = "Het gezin oefent elke week met de coach en de buren. " * 12 + "\n"
    text = "Aanpak\n" + paragraph * 20
    cast.intervention.text = text
    cast.intervention.save()
    Section.objects.create(intervention=cast.intervention, heading="Aanpak", start=0, end=len(text))
    content = client_for(cast.coder_a).get(workspace_url(cast)).content.decode()
    chunks = chunk_texts(content)
    assert len(chunks) > 3
    assert "".join(t for _o, t in chunks) == text
    assert all(len(t) <= 3000 for _o, t in chunks)
    # Cut after a line break, so no paragraph is split between two rows.
    assert all(t.endswith("\n") for _o, t in chunks)


def test_a_section_that_is_not_coded_is_marked_and_not_focusable(cast: Cast, world: World) -> None:
    content = client_for(cast.coder_a).get(workspace_url(cast)).content.decode()
    first = re.search(r'<div id="ws-chunk-0"[^>]*>', content)
    assert first is not None
    first_tag = first.group(0)
    assert "data-excluded" in first_tag
    assert "tabindex" not in first_tag
    assert "Not coded" in content
    second = re.search(r'<div id="ws-chunk-1"[^>]*>', content)
    assert second is not None
    assert 'tabindex="0"' in second.group(0)


def test_a_coder_sees_their_own_marks_labels_and_counts(cast: Cast, world: World) -> None:
    content = client_for(cast.coder_a).get(workspace_url(cast)).content.decode()
    segment = world.carol_segment
    data = json_block(content, "ws-data")
    assert decoded(data["segments"]) == [
        [segment.uuid, segment.start, segment.end, segment.code_id, cast.coder_a.pk, 1]
    ]
    assert data["codes"][str(segment.code_id)] == [
        "Doelen",
        "Sociale hulpbronnen › Doelen",
        segment.code.color.lower(),
    ]
    colour = study_marks(cast.study)[cast.coder_a.pk].colour
    assert data["coders"] == {str(cast.coder_a.pk): ["carol", "CA", colour]}
    assert (data["viewer"], data["several"]) == (cast.coder_a.pk, False)
    assert data["segmentUrl"] == reverse(
        "segment_detail", args=[cast.study.slug, "00000000-0000-0000-0000-000000000000"]
    )
    # The text is sent once and plain: the browser paints the highlights and labels.
    assert "<mark" not in content
    assert "ws-label" not in content
    # Counts of the coder's own segments only: 1 in this text, 1 in the study.
    doelen_row = content[content.index('data-search="sociale hulpbronnen doelen"') :]
    assert re.search(r'class="seg-count"[^>]*>1<span class="ws-count-all"> · 1</span>', doelen_row)
    inhoud_row = content[content.index('data-search="sociale hulpbronnen inhoud"') :]
    assert re.search(r'class="seg-count"[^>]*>0<span class="ws-count-all"> · 0</span>', inhoud_row)
    assert "Layers shown" not in content


def test_the_owner_turns_both_coders_layers_on(cast: Cast, world: World) -> None:
    owner = client_for(cast.owner)
    content = owner.get(workspace_url(cast)).content.decode()
    assert "Layers shown" in content
    assert painted(content) == {}  # the owner's own layer is empty
    layers = f"{cast.coder_a.pk},{cast.coder_b.pk}"
    response = owner.get(workspace_url(cast, layers=layers), HTTP_HX_TARGET="ws-data", **HTMX)
    content = response.content.decode()
    # The layers' data and the tree's counts; not the text again.
    assert content.lstrip().startswith('<script id="ws-data" type="application/json">')
    assert set(painted(content)) == {world.carol_segment.uuid, world.bob_segment.uuid}
    data = json_block(content, "ws-data")
    assert data["coders"][str(cast.coder_a.pk)][:2] == ["carol", "CA"]
    assert data["several"] is True
    assert 'id="ws-tree" hx-swap-oob="true"' in content
    assert "ws-chunk" not in content


def test_the_supervisor_sees_nothing_of_the_coders_before_a_reveal_when_the_policy_says_so(
    cast: Cast, world: World
) -> None:
    services.codebook_reveal_policy_set(study=cast.study, actor=cast.owner, policy="after_reveal")
    content = client_for(cast.supervisor).get(workspace_url(cast)).content.decode()
    assert painted(content) == {}
    assert "shown once the owner reveals them" in content
    assert 'id="picker"' not in content
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    content = client_for(cast.supervisor).get(workspace_url(cast)).content.decode()
    assert set(painted(content)) == {world.carol_segment.uuid, world.bob_segment.uuid}


def test_a_report_link_opens_the_workspace_with_the_segments_panel(
    cast: Cast, world: World
) -> None:
    uuid = world.carol_segment.uuid
    response = client_for(cast.coder_a).get(workspace_url(cast, segment=str(uuid)))
    content = response.content.decode()
    assert f'data-segment="{uuid}"' in content
    assert "Carols geheime notitie" in content
    assert "Save memo" in content


def test_the_previous_and_next_links_follow_the_title_order(cast: Cast, world: World) -> None:
    before: Any = InterventionFactory(study=cast.study, title="Aardige aanpak")
    after: Any = InterventionFactory(study=cast.study, title="Zorg dichtbij")
    content = client_for(cast.coder_a).get(workspace_url(cast)).content.decode()
    assert reverse("workspace", args=[cast.study.slug, before.uuid]) in content
    assert reverse("workspace", args=[cast.study.slug, after.uuid]) in content


def test_with_assignments_previous_and_next_follow_them_and_the_page_says_so(
    cast: Cast, world: World
) -> None:
    first: Any = InterventionFactory(study=cast.study, title="Aardige aanpak")
    skipped: Any = InterventionFactory(study=cast.study, title="Bijna alles")
    last: Any = InterventionFactory(study=cast.study, title="Zorg dichtbij")
    for intervention in (first, cast.intervention, last):
        Assignment.objects.create(intervention=intervention, coder=cast.coder_a)
    content = client_for(cast.coder_a).get(workspace_url(cast)).content.decode()
    assert reverse("workspace", args=[cast.study.slug, first.uuid]) in content
    assert reverse("workspace", args=[cast.study.slug, last.uuid]) in content
    assert reverse("workspace", args=[cast.study.slug, skipped.uuid]) not in content
    assert "Assigned to you: 2 of 3." in content
    assert "Previous and Next go through the interventions assigned to you." in content
    assert reverse("agreement_mine", args=[cast.study.slug]) in content
    # An intervention outside the coder's assignments says so, and still leads to them.
    skipped_page = client_for(cast.coder_a).get(
        reverse("workspace", args=[cast.study.slug, skipped.uuid])
    )
    text = skipped_page.content.decode()
    assert "This intervention is not assigned to you." in text
    assert reverse("workspace", args=[cast.study.slug, first.uuid]) in text
    # Without assignments of its own, a coder walks through every intervention, unexplained.
    other = client_for(cast.coder_b).get(workspace_url(cast)).content.decode()
    assert reverse("workspace", args=[cast.study.slug, skipped.uuid]) in other
    assert "assigned to you" not in other


def test_a_segments_panel_names_its_section_and_paragraph_not_character_offsets(
    cast: Cast, world: World
) -> None:
    segment = world.carol_segment
    url = reverse("segment_detail", args=[cast.study.slug, segment.uuid])
    content = client_for(cast.coder_a).get(url, **HTMX).content.decode()
    assert "by carol, Aanpak, paragraph 1" in content
    assert "characters" not in content
    assert f'data-start="{segment.start}" data-end="{segment.end}"' in content
    netwerk = client_for(cast.coder_b).get(
        reverse("segment_detail", args=[cast.study.slug, world.bob_segment.uuid]), **HTMX
    )
    assert "by bob, Aanpak, paragraph 2" in netwerk.content.decode()


# Applying codes ----------------------------------------------------------------------------


def apply_url(cast: Cast) -> str:
    return reverse("segments_apply", args=[cast.study.slug, cast.intervention.uuid])


def test_applying_a_code_stores_it_and_answers_the_rows_it_touched(
    cast: Cast, world: World, codes: dict[str, Code]
) -> None:
    data = {**span("nieuwe vaardigheden"), "codes": [str(codes["psych"].uuid)], "memo": " Let op "}
    response = client_for(cast.coder_a).post(apply_url(cast), data, **HTMX)
    assert response.status_code == 200
    segment = Segment.objects.get(coder=cast.coder_a, code=codes["psych"])
    assert (segment.start, segment.end, segment.quote, segment.memo) == (
        data["start"],
        data["end"],
        "nieuwe vaardigheden",
        "Let op",
    )
    content = response.content.decode()
    assert '<div id="ws-update" hidden hx-swap-oob="true">' in content
    update = json_block(content, "ws-update-data")
    row = [segment.uuid, segment.start, segment.end, codes["psych"].pk, cast.coder_a.pk, 1]
    assert decoded(update["add"]) == [row]
    assert update == {
        "add": update["add"],
        "remove": "",
        "codes": {
            str(codes["psych"].pk): [
                "Psychologische hulpbronnen",
                "Psychologische hulpbronnen",
                codes["psych"].color.lower(),
            ]
        },
    }
    # The count of the code applied, not the whole tree.
    assert re.search(
        rf'<span class="seg-count" id="count-{codes["psych"].uuid}" title="[^"]*" '
        r'hx-swap-oob="true">1<span class="ws-count-all"> · 1</span>',
        content,
    )
    assert 'id="ws-tree"' not in content
    assert "Coded: Psychologische hulpbronnen" in content
    assert "codeApplied" in response["HX-Trigger-After-Swap"]
    # Not the text again, nor carol's other segment.
    assert "ws-row" not in content
    assert decoded(update["add"])[0][0] != world.carol_segment.uuid


def test_several_codes_apply_at_once(cast: Cast, world: World, codes: dict[str, Code]) -> None:
    data = {**span("coach"), "codes": [str(codes["doelen"].uuid), str(codes["inhoud"].uuid)]}
    response = client_for(cast.coder_a).post(apply_url(cast), data, **HTMX)
    assert response.status_code == 200
    assert Segment.objects.filter(coder=cast.coder_a, quote="coach").count() == 2
    assert "Coded: Doelen, Inhoud" in response.content.decode()


def test_the_offsets_count_code_points_after_an_emoji_family_and_a_combining_accent(
    cast: Cast, world: World, codes: dict[str, Code]
) -> None:
    data = {**span("week"), "codes": [str(codes["doelen"].uuid)]}
    assert TEXT.index(FAMILY) < data["start"]
    response = client_for(cast.coder_a).post(apply_url(cast), data, **HTMX)
    assert response.status_code == 200
    segment = Segment.objects.get(quote="week")
    assert TEXT[segment.start : segment.end] == "week"


def test_without_htmx_applying_redirects_to_the_new_segment(
    cast: Cast, world: World, codes: dict[str, Code]
) -> None:
    data = {**span("coach"), "codes": [str(codes["doelen"].uuid)]}
    response = client_for(cast.coder_a).post(apply_url(cast), data)
    segment = Segment.objects.get(quote="coach")
    assert response.status_code == 302
    assert response["Location"].endswith(f"#seg-{segment.uuid}")


def _bad(cast: Cast, world: World, codes: dict[str, Code]) -> dict[str, dict[str, Any]]:
    doelen = str(codes["doelen"].uuid)
    length = len(TEXT)
    return {
        "offsets out of range": {
            "start": length - 3,
            "end": length + 5,
            "quote": TEXT[-3:],
            "codes": [doelen],
        },
        "a negative start": {"start": -1, "end": 3, "quote": "Sam", "codes": [doelen]},
        "start after end": {"start": 30, "end": 20, "quote": "x", "codes": [doelen]},
        "start equal to end": {"start": 30, "end": 30, "quote": "x", "codes": [doelen]},
        "a span in a section that is not coded": {**span("het gezin leert"), "codes": [doelen]},
        "a code of another study": {
            **span("coach"),
            "codes": [str(world.other_code.uuid)],
        },
        "a stale quote": {**span("coach"), "quote": "trainer", "codes": [doelen]},
        "no code": {**span("coach"), "codes": []},
        "a code that is not a uuid": {**span("coach"), "codes": ["doelen"]},
        "offsets that are not numbers": {
            "start": "een",
            "end": "twee",
            "quote": "coach",
            "codes": [doelen],
        },
        "a memo that is too long": {**span("coach"), "codes": [doelen], "memo": "x" * 10_001},
    }


BAD_CASES = [
    ("offsets out of range", "lies outside the text"),
    ("a negative start", "lies outside the text"),
    ("start after end", "is empty"),
    ("start equal to end", "is empty"),
    ("a span in a section that is not coded", "which is not coded"),
    ("a code of another study", "not in this study"),
    ("a stale quote", "does not match your selection"),
    ("no code", "Choose at least one code"),
    ("a code that is not a uuid", "is not a code"),
    ("offsets that are not numbers", "Start"),
    ("a memo that is too long", "at most 10,000 characters"),
]


@pytest.mark.parametrize(("case", "message"), BAD_CASES)
def test_bad_input_is_refused_with_a_message_and_nothing_stored(
    cast: Cast, world: World, codes: dict[str, Code], case: str, message: str
) -> None:
    before = Segment.objects.count(), CodingEvent.objects.count()
    response = client_for(cast.coder_a).post(
        apply_url(cast), _bad(cast, world, codes)[case], **HTMX
    )
    assert response.status_code == 400
    content = html.unescape(response.content.decode())
    assert message in content
    assert 'id="picker-error"' in content
    assert (Segment.objects.count(), CodingEvent.objects.count()) == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("offsets out of range", "lies outside the text"),
        ("a span in a section that is not coded", "which is not coded"),
        ("a stale quote", "does not match your selection"),
        ("the same code on the same span again", "to exactly this text already"),
    ],
)
def test_a_refusal_outside_any_transaction_after_the_page_was_read(
    cast: Cast, world: World, codes: dict[str, Code], case: str, message: str
) -> None:
    """As outside tests: no transaction around the request, and the process keeps the text the
    page read, so PostgreSQL tries its one-statement write first (`segments._apply_at_once`);
    a refused span is refused all the same, with its message, and nothing is stored."""
    carol = client_for(cast.coder_a)
    assert carol.get(workspace_url(cast)).status_code == 200
    doelen = str(codes["doelen"].uuid)
    if case == "the same code on the same span again":
        data = {**span("coach"), "codes": [doelen]}
        assert carol.post(apply_url(cast), data, **HTMX).status_code == 200
    else:
        data = _bad(cast, world, codes)[case]
    before = Segment.objects.count(), CodingEvent.objects.count()
    response = carol.post(apply_url(cast), data, **HTMX)
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert (Segment.objects.count(), CodingEvent.objects.count()) == before
    good = {**span("feedback"), "codes": [doelen]}
    assert carol.post(apply_url(cast), good, **HTMX).status_code == 200  # the connection is fine
    assert Segment.objects.count() == before[0] + 1


def test_without_htmx_a_refusal_shows_the_page_with_the_message(
    cast: Cast, world: World, codes: dict[str, Code]
) -> None:
    data = {**span("coach"), "quote": "trainer", "codes": [str(codes["doelen"].uuid)]}
    response = client_for(cast.coder_a).post(apply_url(cast), data)
    assert response.status_code == 400
    assert "does not match your selection" in html.unescape(response.content.decode())


def test_a_new_code_from_the_picker_is_inductive_and_sent_to_the_picker(
    cast: Cast, world: World, codes: dict[str, Code]
) -> None:
    url = reverse("workspace_code_create", args=[cast.study.slug, cast.intervention.uuid])
    data = {"name": "Empowerment", "parent": str(codes["psych"].uuid)}
    response = client_for(cast.coder_a).post(url, data, **HTMX)
    assert response.status_code == 200
    code = Code.objects.get(name="Empowerment")
    assert (code.origin, code.parent) == ("inductive", codes["psych"])
    content = response.content.decode()
    assert 'id="picker-codes" class="plain ws-picker-codes" hx-swap-oob="true"' in content
    assert str(code.uuid) in response["HX-Trigger-After-Swap"]
    refused = client_for(cast.coder_a).post(url, data, **HTMX)
    assert refused.status_code == 400
    assert "already" in html.unescape(refused.content.decode())


# A segment's actions -----------------------------------------------------------------------


def segment_url(name: str, cast: Cast, segment: Segment) -> str:
    return reverse(name, args=[cast.study.slug, segment.uuid])


def test_the_coder_writes_a_memo_and_sees_it_in_the_panel_and_history(
    cast: Cast, world: World
) -> None:
    carol = client_for(cast.coder_a)
    segment = world.carol_segment
    response = carol.post(segment_url("segment_memo", cast, segment), {"memo": "Sterk"}, **HTMX)
    assert response.status_code == 200
    segment.refresh_from_db()
    assert segment.memo == "Sterk"
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="segment-panel"')
    assert "Memo saved." in content
    assert "wrote the memo" in content
    # The segment again, now with a memo, for its label's memo mark.
    assert decoded(json_block(content, "ws-update-data")["add"]) == [
        [segment.uuid, segment.start, segment.end, segment.code_id, cast.coder_a.pk, 1]
    ]


def test_the_coder_changes_the_code_and_the_boundaries(
    cast: Cast, world: World, codes: dict[str, Code]
) -> None:
    carol = client_for(cast.coder_a)
    segment = world.carol_segment
    response = carol.post(
        segment_url("segment_code", cast, segment), {"code": str(codes["inhoud"].uuid)}, **HTMX
    )
    assert response.status_code == 200
    update = json_block(response.content.decode(), "ws-update-data")
    assert [row[3] for row in decoded(update["add"])] == [codes["inhoud"].pk]
    assert list(update["codes"]) == [str(codes["inhoud"].pk)]
    response = carol.post(
        segment_url("segment_bounds", cast, segment), span("oefenen thuis met"), **HTMX
    )
    assert response.status_code == 200
    moved = span("oefenen thuis met")
    update = json_block(response.content.decode(), "ws-update-data")
    assert [row[:3] for row in decoded(update["add"])] == [
        [segment.uuid, moved["start"], moved["end"]]
    ]
    segment.refresh_from_db()
    assert (segment.code, segment.quote) == (codes["inhoud"], "oefenen thuis met")
    history = carol.get(segment_url("segment_detail", cast, segment), **HTMX).content.decode()
    assert "changed the code" in history
    assert "changed the boundaries" in history
    assert "Ouders oefenen thuis" in history


def test_bounds_in_a_section_that_is_not_coded_are_refused_in_the_panel(
    cast: Cast, world: World
) -> None:
    response = client_for(cast.coder_a).post(
        segment_url("segment_bounds", cast, world.carol_segment), span("het gezin leert"), **HTMX
    )
    assert response.status_code == 400
    assert "which is not coded" in html.unescape(response.content.decode())
    world.carol_segment.refresh_from_db()
    assert world.carol_segment.quote == "Ouders oefenen thuis"


def test_the_coder_removes_a_segment(cast: Cast, world: World) -> None:
    segment = world.carol_segment
    response = client_for(cast.coder_a).post(segment_url("segment_delete", cast, segment), **HTMX)
    assert response.status_code == 200
    assert not Segment.objects.filter(pk=segment.pk).exists()
    content = response.content.decode()
    assert "removed" in content
    update = json_block(content, "ws-update-data")
    assert update["add"] == {"ids": "", "spans": []}
    assert base64.b64decode(update["remove"]) == segment.uuid.bytes
    assert update["codes"] == {}


# Progress and the reveal -------------------------------------------------------------------


def test_a_coder_marks_a_text_done_and_not_done(cast: Cast, world: World) -> None:
    carol = client_for(cast.coder_a)
    url = reverse("workspace_progress", args=[cast.study.slug, cast.intervention.uuid])
    response = carol.post(url, {"done": "on"}, **HTMX)
    assert response.status_code == 200
    assert "Not done" in response.content.decode()
    assert InterventionProgress.objects.filter(coder=cast.coder_a).exists()
    carol.post(url, {"done": ""}, **HTMX)
    assert not InterventionProgress.objects.filter(coder=cast.coder_a).exists()


def test_the_progress_page_shows_a_coder_only_their_own_row_before_the_reveal(
    cast: Cast, world: World
) -> None:
    seg.progress_set(intervention=cast.intervention, coder=cast.coder_b, done=True)
    url = reverse("study_progress", args=[cast.study.slug])
    content = client_for(cast.coder_a).get(url).content.decode()
    assert "carol" in content
    assert "bob" not in content
    owner = client_for(cast.owner).get(url).content.decode()
    assert "bob" in owner
    assert "carol" in owner
    assert "1 of 1" in owner
    assert "Reveal coders' segments" in owner
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    assert "bob" in client_for(cast.coder_a).get(url).content.decode()


def test_the_owner_sets_the_policy_and_reveals(cast: Cast, world: World) -> None:
    owner = client_for(cast.owner)
    owner.post(reverse("reveal_policy", args=[cast.study.slug]), {"reveal": "after_reveal"})
    assert Codebook.objects.get(study=cast.study).reveal == "after_reveal"
    bad = owner.post(reverse("reveal_policy", args=[cast.study.slug]), {"reveal": "nooit"})
    assert bad.status_code == 302
    assert Codebook.objects.get(study=cast.study).reveal == "after_reveal"
    owner.post(reverse("reveal", args=[cast.study.slug]))
    assert Codebook.objects.get(study=cast.study).revealed_at is not None


# The code report ---------------------------------------------------------------------------


def report_url(cast: Cast, fmt: str = "") -> str:
    if fmt:
        return reverse("code_report_export", args=[cast.study.slug, fmt])
    return reverse("code_report", args=[cast.study.slug])


def test_the_report_lists_a_codes_segments_with_subcodes_and_links_to_them(
    cast: Cast, world: World, codes: dict[str, Code]
) -> None:
    owner = client_for(cast.owner)
    response = owner.get(report_url(cast), {"code": str(codes["sociaal"].uuid), "subcodes": "on"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "Ouders oefenen thuis" in content
    assert "netwerk van buren" in content
    assert "Sociale hulpbronnen › Doelen" in content
    assert f"?layers={cast.coder_a.pk}#seg-{world.carol_segment.uuid}" in content
    # Without subcodes the theme itself has no segments.
    response = owner.get(report_url(cast), {"code": str(codes["sociaal"].uuid)})
    assert "0 segments coded" in response.content.decode()
    # Filtered by coder.
    response = owner.get(
        report_url(cast),
        {"code": str(codes["sociaal"].uuid), "subcodes": "on", "coder": cast.coder_b.pk},
    )
    content = response.content.decode()
    assert "netwerk van buren" in content
    assert "Ouders oefenen thuis" not in content


def test_the_report_filters_by_attribute_value(
    cast: Cast, world: World, codes: dict[str, Code]
) -> None:
    setting: Any = AttributeDefinitionFactory(study=cast.study, name="Setting")
    AttributeValueFactory(intervention=cast.intervention, definition=setting, value="Thuis")
    other = InterventionFactory(study=cast.study, title="Ander", text="Een ander plan.")
    AttributeValueFactory(intervention=other, definition=setting, value="Zorginstelling")
    owner = client_for(cast.owner)
    query = {"code": str(codes["doelen"].uuid), f"a{setting.pk}": "Thuis"}
    assert "Ouders oefenen thuis" in owner.get(report_url(cast), query).content.decode()
    query[f"a{setting.pk}"] = "Zorginstelling"
    assert "Ouders oefenen thuis" not in owner.get(report_url(cast), query).content.decode()


def test_the_report_exports_csv_and_xlsx(cast: Cast, world: World, codes: dict[str, Code]) -> None:
    owner = client_for(cast.owner)
    query = {"code": str(codes["doelen"].uuid)}
    response = owner.get(report_url(cast, "csv"), query)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["intervention", "code", "coder"]
    assert rows[1][6] == "Ouders oefenen thuis"
    response = owner.get(report_url(cast, "xlsx"), query)
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["G2"].value == "Ouders oefenen thuis"
    assert owner.get(report_url(cast, "pdf"), query).status_code == 404
    assert owner.get(report_url(cast, "csv")).status_code == 400


# Escaping ----------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", XSS)
def test_payloads_in_text_code_names_and_memos_render_escaped(cast: Cast, payload: str) -> None:
    text = f"Aanpak {payload} en meer tekst.\n"
    cast.intervention.text = text
    cast.intervention.save()
    code = services.code_create(study=cast.study, actor=cast.owner, name=f"Code {payload}")
    segment = seg.segments_apply(
        intervention=cast.intervention,
        coder=cast.coder_a,
        codes=[code],
        memo=f"Memo {payload}",
        start=text.index(payload),
        end=text.index(payload) + len(payload),
        quote=payload,
    )[0]
    carol = client_for(cast.coder_a)
    pages = [
        carol.get(workspace_url(cast, segment=str(segment.uuid))),
        carol.get(segment_url("segment_detail", cast, segment), **HTMX),
        carol.get(report_url(cast), {"code": str(code.uuid)}),
        carol.post(
            apply_url(cast),
            {"start": 0, "end": 6, "quote": "Aanpak", "codes": [str(code.uuid)]},
            **HTMX,
        ),
    ]
    for response in pages:
        content = response.content.decode()
        assert response.status_code == 200
        assert payload not in content
        assert "<script>alert" not in content
        assert "<img src=x" not in content
    assert html.escape(payload) in pages[0].content.decode()


# Blind coding ------------------------------------------------------------------------------


def _secrets(world: World) -> list[str]:
    return [str(world.bob_segment.uuid), world.bob_segment.uuid.hex, "Bobs geheime notitie"]


def data_uuids(content: str) -> set[UUID]:
    """Every segment UUID in the page's data blocks (they hold UUIDs as base64 bytes)."""
    found: set[UUID] = set()
    for element_id in ("ws-data", "ws-update-data"):
        if f'<script id="{element_id}"' in content:
            data = json_block(content, element_id)
            encoded = data["segments"] if element_id == "ws-data" else data["add"]
            found |= {row[0] for row in decoded(encoded)}
    return found


def test_a_coder_never_receives_another_coders_segment(
    cast: Cast, world: World, codes: dict[str, Code]
) -> None:
    carol = client_for(cast.coder_a)
    bob_id = cast.coder_b.pk
    responses = [
        carol.get(workspace_url(cast)),
        carol.get(workspace_url(cast, layers=str(bob_id))),
        carol.get(workspace_url(cast, layers=f"{cast.coder_a.pk},{bob_id}")),
        carol.get(workspace_url(cast, layers=str(bob_id)), HTTP_HX_TARGET="ws-data", **HTMX),
        carol.post(
            apply_url(cast),
            {**span("netwerk van buren"), "codes": [str(codes["psych"].uuid)], "layers": bob_id},
            **HTMX,
        ),
        carol.get(report_url(cast), {"code": str(codes["sociaal"].uuid), "subcodes": "on"}),
        carol.get(report_url(cast, "csv"), {"code": str(codes["sociaal"].uuid), "subcodes": "on"}),
        carol.get(reverse("study_progress", args=[cast.study.slug])),
    ]
    for response in responses:
        content = response.content.decode("utf-8-sig")
        for secret in _secrets(world):
            assert secret not in content
        assert world.bob_segment.uuid not in data_uuids(content)
    assert data_uuids(responses[0].content.decode()) == {world.carol_segment.uuid}
    # The report's quotes: bob's quote is absent; carol coded the same words only in the POST
    # above, so the report before it must not show them.
    assert "netwerk van buren" not in responses[5].content.decode()
    # Asking the report for bob's layer is refused as a choice the form does not offer.
    refused = carol.get(report_url(cast), {"code": str(codes["inhoud"].uuid), "coder": bob_id})
    assert refused.status_code == 400
    assert "netwerk van buren" not in refused.content.decode()
    assert carol.get(workspace_url(cast, segment=str(world.bob_segment.uuid))).status_code == 404


# Queries -----------------------------------------------------------------------------------


def _many_segments(cast: Cast, codes: dict[str, Code], n: int) -> None:
    text = "Aanpak\n" + "".join(f"Zin {i} over het gezin en de buren.\n" for i in range(n))
    cast.intervention.text = text
    cast.intervention.save()
    Section.objects.create(intervention=cast.intervention, heading="Aanpak", start=0, end=len(text))
    rows = []
    position = 7
    code_list = list(codes.values())
    for i in range(n):
        line = f"Zin {i} over het gezin en de buren.\n"
        rows.append(
            Segment(
                intervention=cast.intervention,
                code=code_list[i % len(code_list)],
                coder=cast.coder_a if i % 3 else cast.coder_b,
                start=position,
                end=position + len(line) - 1,
                quote=line[:-1],
                memo="m" if i % 5 == 0 else "",
            )
        )
        position += len(line)
    Segment.objects.bulk_create(rows)


def test_the_workspace_page_runs_a_fixed_number_of_queries(
    cast: Cast, codes: dict[str, Code], django_assert_num_queries: Any
) -> None:
    _many_segments(cast, codes, 3)
    owner = client_for(cast.owner)
    layers = f"{cast.coder_a.pk},{cast.coder_b.pk}"
    with CaptureQueriesContext(connection) as few:
        assert owner.get(workspace_url(cast, layers=layers)).status_code == 200
    Segment.objects.all().delete()
    Section.objects.all().delete()
    _many_segments(cast, codes, 300)
    # Session, user, membership with the intervention and the reveal state (one join), the
    # visible coders, the members' initials and colours, the segments, the counts, the codes,
    # assignments, previous, next, sections, progress, notifications: none per segment, per
    # code or per chunk.
    with django_assert_num_queries(14):
        response = owner.get(workspace_url(cast, layers=layers))
    assert len(painted(response.content.decode())) == 300
    with CaptureQueriesContext(connection) as many:
        owner.get(workspace_url(cast, layers=layers))
    assert len(many) == len(few)


@pytest.mark.django_db(transaction=True)
def test_applying_a_code_runs_at_most_six_queries_and_never_reads_the_text(
    cast: Cast, codes: dict[str, Code]
) -> None:
    _many_segments(cast, codes, 300)
    text = cast.intervention.text
    start = text.index("Zin 150")
    data = {
        "start": start,
        "end": start + 7,
        "quote": "Zin 150",
        "codes": [str(codes["psych"].uuid)],
    }
    carol = client_for(cast.coder_a)
    # The session is read once, as on a real page, and the process keeps the text the page
    # read (`interventions.textcache`).
    carol.get(workspace_url(cast))
    # A real transaction, as outside tests (no savepoints): the session; the user with the
    # intervention, the access to it and the reveal state; the chosen codes' paths; the row
    # lock, which reads the text's version, the sections the span touches and the counts; the
    # segment; its event. Besides: the transaction's BEGIN (IMMEDIATE on SQLite) and COMMIT.
    with CaptureQueriesContext(connection) as queries:
        response = carol.post(apply_url(cast), data, **HTMX)
    captured = [prepared_from(q["sql"]) for q in queries.captured_queries]
    statements = [sql for sql in captured if sql not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT")]
    assert len(statements) <= 6, "\n".join(sql[:70] for sql in captured)
    if connection.vendor == "postgresql":
        # The write is one statement, its own transaction (`segments._apply_at_once`): the
        # session, the access, the codes and that statement, and no BEGIN or COMMIT.
        assert len(captured) == 4, "\n".join(sql[:70] for sql in captured)
        assert "INSERT INTO" in captured[-1]
    assert not any('"text"' in sql for sql in statements), statements
    assert not any("auth_user" in sql and "intervention" not in sql for sql in statements)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Coded: Psychologische hulpbronnen" in content
    expected = Segment.objects.filter(code=codes["psych"], coder=cast.coder_a).count()
    assert f'>{expected}<span class="ws-count-all"> · {expected}</span>' in content
    added = json_block(content, "ws-update-data")["add"]
    assert added["spans"] == [start, 7, codes["psych"].pk, cast.coder_a.pk, 0]


def test_applying_a_code_after_a_password_change_elsewhere_asks_to_log_in_again(
    cast: Cast, doc: Any, codes: dict[str, Code]
) -> None:
    carol = client_for(cast.coder_a)
    cast.coder_a.set_password("een nieuw wachtwoord")
    cast.coder_a.save()
    data = {**span("coach"), "codes": [str(codes["psych"].uuid)]}
    response = carol.post(apply_url(cast), data, **HTMX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Segment.objects.filter(coder=cast.coder_a).exists()
    # Django's own path flushed the stale session: the next request is anonymous too.
    assert carol.get(workspace_url(cast)).status_code == 302


def test_applying_a_code_as_a_deactivated_user_asks_to_log_in(
    cast: Cast, doc: Any, codes: dict[str, Code]
) -> None:
    carol = client_for(cast.coder_a)
    cast.coder_a.is_active = False
    cast.coder_a.save()
    data = {**span("coach"), "codes": [str(codes["psych"].uuid)]}
    response = carol.post(apply_url(cast), data, **HTMX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Segment.objects.filter(coder=cast.coder_a).exists()


def test_applying_a_code_counts_only_the_layers_the_coder_may_see(
    cast: Cast, doc: Any, codes: dict[str, Code]
) -> None:
    # Bob coded the same code already; blind, Carol's answer counts her own segment only, even
    # when she asks for Bob's layer by hand.
    seg.segments_apply(
        intervention=cast.intervention,
        coder=cast.coder_b,
        codes=[codes["psych"]],
        **span("coach"),
    )
    carol = client_for(cast.coder_a)
    data = {**span("buren"), "codes": [str(codes["psych"].uuid)], "layers": str(cast.coder_b.pk)}
    content = carol.post(apply_url(cast), data, **HTMX).content.decode()
    assert '>1<span class="ws-count-all"> · 1</span>' in content
    # Once revealed, the layer she turns on counts.
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    data = {**span("school"), "codes": [str(codes["psych"].uuid)], "layers": str(cast.coder_b.pk)}
    content = carol.post(apply_url(cast), data, **HTMX).content.decode()
    assert '>3<span class="ws-count-all"> · 3</span>' in content
    # Her own layer alone: her three.
    data = {**span("kinderen"), "codes": [str(codes["psych"].uuid)]}
    content = carol.post(apply_url(cast), data, **HTMX).content.decode()
    assert '>3<span class="ws-count-all"> · 3</span>' in content


def test_the_apply_answer_names_each_code_as_short_as_the_whole_codebook_allows(
    cast: Cast, doc: Any, codes: dict[str, Code]
) -> None:
    """Short names among the whole codebook (`chosen_codes`), not among the applied codes."""
    gezin = services.code_create(study=cast.study, actor=cast.owner, name="Gezin")
    school = services.code_create(study=cast.study, actor=cast.owner, name="School")
    gezin_ouders = services.code_create(
        study=cast.study, actor=cast.owner, name="Ouders", parent=gezin
    )
    services.code_create(study=cast.study, actor=cast.owner, name="ouders", parent=school)
    kind = services.code_create(study=cast.study, actor=cast.owner, name="Kind", parent=gezin)
    data = {**span("coach"), "codes": [str(gezin_ouders.uuid), str(kind.uuid)]}
    response = client_for(cast.coder_a).post(apply_url(cast), data, **HTMX)
    assert response.status_code == 200
    assert "Coded: Gezin › Ouders, Kind" in response.content.decode()
