"""The study bar by step of the round (`coding.navigation`, rendered by base.html): which steps
each role sees, and which one is current on which page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def bar(client: Any, user: Any, name: str, *args: Any) -> str:
    client.force_login(user)
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    html = response.content.decode()
    match = re.search(r'<nav class="studybar".*?</nav>', html, re.S)
    assert match, "no study bar"
    return match.group(0)


def steps(html: str) -> list[str]:
    return re.findall(r'class="step-link"[^>]*>([^<]+)</a>', html)


def current(html: str) -> list[str]:
    return re.findall(r'class="step-link" aria-current="[a-z]+">([^<]+)</a>', html)


def test_the_owner_sees_every_step_in_the_order_of_the_round(client: Any, cast: Cast) -> None:
    html = bar(client, cast.owner, "study_detail", cast.study.slug)

    assert steps(html) == [
        "Overview",
        "Corpus",
        "Codebook",
        "Coding",
        "Agreement",
        "Consensus",
        "Reporting",
        "Members",
        "Settings",
    ]
    assert current(html) == ["Overview"]
    assert 'aria-current="page">Overview' in html


def test_the_supervisor_sees_agreement_but_not_the_settings(client: Any, cast: Cast) -> None:
    names = steps(bar(client, cast.supervisor, "study_detail", cast.study.slug))

    assert "Agreement" in names
    assert "Consensus" in names
    assert "Settings" not in names


def test_a_coder_sees_neither_agreement_nor_consensus_nor_settings(client: Any, cast: Cast) -> None:
    names = steps(bar(client, cast.coder_a, "study_detail", cast.study.slug))

    assert names == ["Overview", "Corpus", "Codebook", "Coding", "Reporting", "Members"]


@pytest.mark.parametrize(
    ("name", "step"),
    [
        ("intervention_list", "Corpus"),
        ("attributes", "Corpus"),
        ("metadata_import", "Corpus"),
        ("codebook", "Codebook"),
        ("codebook_versions", "Codebook"),
        ("study_progress", "Coding"),
        ("agreement", "Agreement"),
        ("agreement_assignments", "Agreement"),
        ("consensus", "Consensus"),
        ("analysis_tables", "Reporting"),
        ("comment_threads", "Reporting"),
        ("members", "Members"),
        ("study_edit", "Settings"),
    ],
)
def test_the_step_of_the_page_is_current(client: Any, cast: Cast, name: str, step: str) -> None:
    assert current(bar(client, cast.owner, name, cast.study.slug)) == [step]


def test_an_intervention_belongs_to_the_corpus_step(client: Any, cast: Cast) -> None:
    html = bar(client, cast.owner, "intervention_detail", cast.study.slug, cast.intervention.uuid)

    assert current(html) == ["Corpus"]


def test_the_pages_of_the_current_step_form_a_row_with_the_page_marked(
    client: Any, cast: Cast
) -> None:
    client.force_login(cast.owner)
    html = client.get(reverse("attributes", args=[cast.study.slug])).content.decode()

    row = re.search(r'<nav class="substeps" aria-label="Corpus">(.*?)</nav>', html, re.S)
    assert row
    links = re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', row.group(1))
    assert [(label, bool(mark)) for _href, mark, label in links] == [
        ("Interventions", False),
        ("Properties", True),
        ("Import", False),
        ("REFI-QDA", False),
    ]


def test_a_coder_has_no_import_in_the_corpus_row(client: Any, cast: Cast) -> None:
    client.force_login(cast.coder_a)
    html = client.get(reverse("intervention_list", args=[cast.study.slug])).content.decode()

    assert reverse("metadata_import", args=[cast.study.slug]) not in html
    assert 'aria-current="page">Interventions' in html


def test_the_bar_is_in_dutch_for_a_dutch_reader(client: Any, cast: Cast) -> None:
    client.force_login(cast.owner)
    html = client.get(
        reverse("study_detail", args=[cast.study.slug]), HTTP_ACCEPT_LANGUAGE="nl"
    ).content.decode()

    for label in ("Overzicht", "Corpus", "Codeboek", "Coderen", "Overeenstemming", "Rapportage"):
        assert f">{label}</a>" in html


def test_the_header_menu_button_controls_the_menu(client: Any, cast: Cast) -> None:
    client.force_login(cast.owner)
    html = client.get(reverse("home")).content.decode()

    assert re.search(
        r'<button type="button" class="menu-toggle" aria-expanded="false" '
        r'aria-controls="site-menu" data-menu-toggle>',
        html,
    )
    assert 'id="site-menu"' in html
