"""The discussion block in the workspace's segment panel and the codebook's code panel: the
threads on the segment or code the viewer may see, a form that starts one and comes back, and
`comment_thread_start`'s `next`, which only ever leads back into the site."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from coding import segments as seg
from coding.codebook import services
from coding.models import Code, CommentThread, Notification, Segment
from coding.review import comments as com
from interventions.models import Intervention
from tests.conftest import Cast

TEXT = "Doel\nHet gezin versterken met coördinatie.\n\nAanpak\nWekelijkse huisbezoeken."
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def code(cast: Cast) -> Code:
    return services.code_create(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")


@pytest.fixture
def carols(cast: Cast, code: Code) -> Segment:
    Intervention.objects.filter(pk=cast.intervention.pk).update(text=TEXT)
    doc = Intervention.objects.get(pk=cast.intervention.pk)
    start = TEXT.index("Het gezin")
    return seg.segment_create(
        intervention=doc,
        coder=cast.coder_a,
        code=code,
        start=start,
        end=start + 9,
        quote="Het gezin",
    )


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def panel(client: Client, cast: Cast, segment: Segment) -> Any:
    url = reverse("segment_detail", args=[cast.study.slug, segment.uuid])
    return client.get(url, **HTMX)


def start_url(cast: Cast) -> str:
    return reverse("comment_thread_start", args=[cast.study.slug])


# The segment panel -------------------------------------------------------------------------


def test_the_segment_panel_offers_a_discussion_form(cast: Cast, carols: Segment) -> None:
    response = panel(client_for(cast.coder_a), cast, carols)
    html = response.content.decode()
    assert response.status_code == 200
    assert "No discussion yet." in html
    assert f'name="target" value="segment:{carols.uuid}"' in html
    assert reverse("comment_thread_start", args=[cast.study.slug]) in html
    assert "Start a discussion" in html


def test_the_segment_panel_lists_its_threads_with_status_and_count(
    cast: Cast, carols: Segment
) -> None:
    thread = com.thread_start(
        study=cast.study,
        actor=cast.coder_a,
        target_kind="segment",
        target_uuid=carols.uuid,
        body="Twijfel over dit fragment.",
    )
    com.comment_add(thread=thread, actor=cast.owner, body="Lijkt me goed.")
    com.thread_resolve(thread=thread, actor=cast.owner)
    html = panel(client_for(cast.supervisor), cast, carols).content.decode()
    assert reverse("comment_thread", args=[cast.study.slug, thread.uuid]) in html
    assert "Twijfel over dit fragment." in html
    assert "carol · 2 comments" in html
    assert "resolved" in html
    assert "No discussion yet." not in html


def test_a_thread_on_another_segment_or_code_is_not_listed(
    cast: Cast, carols: Segment, code: Code
) -> None:
    com.thread_start(
        study=cast.study,
        actor=cast.owner,
        target_kind="code",
        target_uuid=code.uuid,
        body="Over de code.",
    )
    html = panel(client_for(cast.coder_a), cast, carols).content.decode()
    assert "Over de code." not in html
    assert "No discussion yet." in html


def test_the_full_workspace_page_shows_the_block_for_an_opened_segment(
    cast: Cast, carols: Segment
) -> None:
    url = reverse("workspace", args=[cast.study.slug, carols.intervention.uuid])
    html = client_for(cast.coder_a).get(url, {"segment": carols.uuid}).content.decode()
    assert f'name="target" value="segment:{carols.uuid}"' in html


def test_starting_from_the_panel_comes_back_to_the_segment(cast: Cast, carols: Segment) -> None:
    html = panel(client_for(cast.coder_a), cast, carols).content.decode()
    back = reverse("workspace", args=[cast.study.slug, carols.intervention.uuid])
    assert f"{back}?segment={carols.uuid}#seg-{carols.uuid}" in html
    client = client_for(cast.coder_a)
    response = client.post(
        start_url(cast),
        {
            "target": f"segment:{carols.uuid}",
            "body": "@alice klopt deze grens?",
            "next": f"{back}?segment={carols.uuid}#seg-{carols.uuid}",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{back}?segment={carols.uuid}#seg-{carols.uuid}"
    thread = CommentThread.objects.get()
    assert (thread.target_kind, thread.target_uuid) == ("segment", carols.uuid)
    assert Notification.objects.filter(user=cast.owner, reason="mention").count() == 1
    html = panel(client, cast, carols).content.decode()
    assert reverse("comment_thread", args=[cast.study.slug, thread.uuid]) in html


def test_a_blind_coder_neither_sees_nor_starts_a_discussion_on_anothers_segment(
    cast: Cast, carols: Segment
) -> None:
    services.codebook_reveal_policy_set(study=cast.study, actor=cast.owner, policy="after_reveal")
    thread = com.thread_start(
        study=cast.study,
        actor=cast.coder_a,
        target_kind="segment",
        target_uuid=carols.uuid,
        body="Alleen voor mij.",
    )
    bob = client_for(cast.coder_b)
    assert panel(bob, cast, carols).status_code == 404
    assert (
        bob.get(reverse("comment_thread", args=[cast.study.slug, thread.uuid])).status_code == 404
    )
    response = bob.post(
        start_url(cast),
        {"target": f"segment:{carols.uuid}", "body": "Ik zie dit niet", "next": "/"},
    )
    assert response.status_code == 400
    assert CommentThread.objects.count() == 1


# The code panel ----------------------------------------------------------------------------


def test_the_code_panel_lists_threads_and_offers_the_form(cast: Cast, code: Code) -> None:
    url = reverse("code_detail", args=[cast.study.slug, code.uuid])
    client = client_for(cast.coder_b)
    for response in (client.get(url), client.get(url, HTTP_HX_TARGET="code-editor", **HTMX)):
        html = response.content.decode()
        assert response.status_code == 200
        assert "No discussion yet." in html
        assert f'name="target" value="code:{code.uuid}"' in html
        assert f'name="next" value="{url}"' in html
    thread = com.thread_start(
        study=cast.study,
        actor=cast.supervisor,
        target_kind="code",
        target_uuid=code.uuid,
        body="Is de definitie helder?",
    )
    for user in (cast.coder_b, cast.owner):
        html = client_for(user).get(url).content.decode()
        assert reverse("comment_thread", args=[cast.study.slug, thread.uuid]) in html
        assert "sam · 1 comment" in html
        assert "Is de definitie helder?" in html


def test_starting_from_the_code_panel_comes_back_to_the_code(cast: Cast, code: Code) -> None:
    url = reverse("code_detail", args=[cast.study.slug, code.uuid])
    response = client_for(cast.coder_a).post(
        start_url(cast), {"target": f"code:{code.uuid}", "body": "Vraag", "next": url}
    )
    assert response.status_code == 302
    assert response["Location"] == url
    assert CommentThread.objects.get().target_uuid == code.uuid


def test_the_code_panel_shows_the_block_in_dutch(cast: Cast, code: Code) -> None:
    url = reverse("code_detail", args=[cast.study.slug, code.uuid])
    html = client_for(cast.coder_a).get(url, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Nog geen discussie." in html
    assert "Start een discussie" in html


# `next` ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "", "http:///x"],
)
def test_an_unsafe_or_missing_next_leads_to_the_thread(
    cast: Cast, code: Code, next_url: str
) -> None:
    response = client_for(cast.coder_a).post(
        start_url(cast), {"target": f"code:{code.uuid}", "body": "Vraag", "next": next_url}
    )
    thread = CommentThread.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("comment_thread", args=[cast.study.slug, thread.uuid])


def test_a_refused_comment_does_not_follow_next(cast: Cast, code: Code) -> None:
    url = reverse("code_detail", args=[cast.study.slug, code.uuid])
    response = client_for(cast.coder_a).post(
        start_url(cast), {"target": f"code:{code.uuid}", "body": "   ", "next": url}
    )
    assert response.status_code == 400
    assert not CommentThread.objects.exists()
