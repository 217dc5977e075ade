"""The 403, 404 and 500 pages with DEBUG off: in the app's layout, in the reader's language,
with a way back. 500 renders from an empty context, as Django's handler gives it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import server_error

from tests.conftest import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug_off(settings: Any) -> None:
    settings.DEBUG = False


def test_a_missing_page_answers_404_in_dutch_with_the_navigation(client: Any, cast: Cast) -> None:
    client.force_login(cast.owner)

    response = client.get("/s/gezin/bestaat-niet/", HTTP_ACCEPT_LANGUAGE="nl")

    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="nl">' in html
    assert "Deze pagina bestaat niet" in html
    assert 'class="topbar"' in html
    assert "Uitloggen" in html
    assert f'href="{reverse("home")}"' in html


def test_an_outsiders_study_is_a_404_page_too(client: Any, cast: Cast) -> None:
    client.force_login(cast.outsider)

    response = client.get(reverse("study_detail", args=[cast.study.slug]))

    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()


def test_a_refused_right_answers_403_in_dutch_with_the_navigation(client: Any, cast: Cast) -> None:
    client.force_login(cast.coder_a)

    response = client.get(reverse("agreement", args=[cast.study.slug]), HTTP_ACCEPT_LANGUAGE="nl")

    assert response.status_code == 403
    html = response.content.decode()
    assert "Je mag deze pagina niet openen" in html
    assert "Forbidden" not in html
    assert 'class="topbar"' in html
    assert "Naar je studies" in html


def test_a_post_without_its_csrf_token_answers_403_in_the_layout(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.owner)

    response = client.post(
        reverse("study_edit", args=[cast.study.slug]),
        {"name": "x"},
        HTTP_ACCEPT_LANGUAGE="nl",
    )

    assert response.status_code == 403
    html = response.content.decode()
    assert "Dit formulier is verlopen" in html
    assert 'class="topbar"' in html
    assert "CSRF verification failed" not in html


def test_the_500_page_renders_from_nothing_in_dutch() -> None:
    request = RequestFactory().get("/")
    with translation.override("nl"):
        response = server_error(request)

    assert response.status_code == 500
    html = response.content.decode()
    assert '<html lang="nl">' in html
    assert "Er ging iets mis" in html
    assert 'class="brand" href="/"' in html
