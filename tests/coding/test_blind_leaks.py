"""Small leaks of blind coding before the reveal, closed through `coding.sight`: the versions
page, the codebook history after a merge, and notifications after a change of policy."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from coding import segments as seg
from coding.codebook import services
from coding.models import Code, Segment
from coding.review import comments
from interventions.models import Intervention
from tests.conftest import Cast

TEXT = "Ouders oefenen thuis met nieuwe vaardigheden. Het netwerk van buren steunt het gezin."
WORDS = ["Ouders", "oefenen", "thuis", "nieuwe", "vaardigheden"]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def coded(intervention: Intervention, coder: Any, code: Code, word: str) -> Segment:
    start = TEXT.index(word)
    return seg.segment_create(
        intervention=intervention,
        coder=coder,
        code=code,
        start=start,
        end=start + len(word),
        quote=word,
    )


@pytest.fixture
def doc(blind_cast: Cast) -> Intervention:
    Intervention.objects.filter(pk=blind_cast.intervention.pk).update(text=TEXT)
    blind_cast.intervention.refresh_from_db()
    return blind_cast.intervention


def test_the_versions_page_tells_a_blind_coder_nothing_about_the_other_coders(
    blind_cast: Cast, doc: Intervention
) -> None:
    cast = blind_cast
    code = services.code_create(study=cast.study, actor=cast.owner, name="Sociaal")
    coded(doc, cast.coder_b, code, "netwerk")
    url = f"/s/{cast.study.slug}/codebook/versions/"
    page = client_for(cast.coder_a).get(url).content.decode()
    assert "<strong>carol</strong>" in page
    assert "<strong>bob</strong>" not in page
    assert "(last coded" not in page
    # The owner and the supervisor follow everyone's progress, as on the progress page.
    page = client_for(cast.supervisor).get(url).content.decode()
    assert "<strong>bob</strong>" in page
    assert "no version saved before their last segment" in page


def test_the_history_counts_only_the_merged_segments_the_reader_may_see(
    blind_cast: Cast, doc: Intervention
) -> None:
    cast = blind_cast
    source = services.code_create(study=cast.study, actor=cast.owner, name="Alleen van bob")
    target = services.code_create(study=cast.study, actor=cast.owner, name="Doel")
    for word in WORDS:
        coded(doc, cast.coder_b, source, word)
    services.code_merge(source=source, target=target, actor=cast.owner)
    url = f"/s/{cast.study.slug}/codebook/history/"

    def moved(user: Any) -> str:
        """The count the history's merge row shows to `user`."""
        page = client_for(user).get(url).content.decode()
        row = page.split('<span class="change-label">segments moved:</span>', 1)[1]
        return row.split("<ins>", 1)[1].split("</ins>", 1)[0]

    for reader in (cast.coder_a, cast.owner, cast.supervisor):
        assert moved(reader) == "0", reader.username
    assert moved(cast.coder_b) == "5"
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    assert moved(cast.coder_a) == "5"


def test_a_notification_quotes_no_thread_on_a_segment_the_reader_can_no_longer_open(
    cast: Cast,
) -> None:
    # The cast's study starts on "always": the supervisor reads bob's segment and is mentioned.
    Intervention.objects.filter(pk=cast.intervention.pk).update(text=TEXT)
    cast.intervention.refresh_from_db()
    code = services.code_create(study=cast.study, actor=cast.owner, name="Sociaal")
    segment = coded(cast.intervention, cast.coder_b, code, "netwerk")
    comments.thread_start(
        study=cast.study,
        actor=cast.owner,
        target_kind="segment",
        target_uuid=segment.uuid,
        body="@sam kijk eens naar dit geheime fragment",
    )
    page = client_for(cast.supervisor).get("/notifications/").content.decode()
    assert "geheime fragment" in page
    services.codebook_reveal_policy_set(study=cast.study, actor=cast.owner, policy="after_reveal")
    page = client_for(cast.supervisor).get("/notifications/").content.decode()
    assert "geheime fragment" not in page
    assert "on a segment you cannot see now" in page
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    page = client_for(cast.supervisor).get("/notifications/").content.decode()
    assert "geheime fragment" in page
