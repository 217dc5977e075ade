"""Logging in: failed logins throttled per account and per address, one message for unknown
users and wrong passwords, password reset only where the server sends mail."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse

from tests.conftest import Cast
from veerkracht.accounts import client_address

PASSWORD = "wachtwoord-123"
WRONG = "Please enter a correct username and password."
LOCKED = "Too many failed logins for this user name or from this address."


def log_in(username: str, password: str, address: str = "203.0.113.7") -> Any:
    return Client(REMOTE_ADDR=address).post(
        reverse("login"), {"username": username, "password": password}
    )


def error_of(response: Any) -> str:
    html = response.content.decode()
    start = html.index('class="form-errors"')
    return html[start : html.index("</div>", start)]


def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(cast: Cast) -> None:
    unknown = log_in("nobody", PASSWORD)
    wrong = log_in("alice", "not-the-password")

    assert unknown.status_code == wrong.status_code == 200
    assert WRONG in error_of(unknown)
    assert error_of(unknown) == error_of(wrong)


def test_an_account_is_locked_after_ten_failures_from_any_address(cast: Cast) -> None:
    statuses = [log_in("alice", f"guess-{n}", f"198.51.100.{n}").status_code for n in range(10)]

    assert statuses == [200] * 9 + [429]  # the tenth failure locks
    right = log_in("alice", PASSWORD, address="192.0.2.50")

    assert right.status_code == 429
    assert LOCKED in right.content.decode()
    assert "_auth_user_id" not in right.client.session
    # Another account from the same addresses is not locked.
    assert log_in("bob", PASSWORD, address="198.51.100.1").status_code == 302


def test_an_address_is_locked_after_ten_failures_for_any_user_names(cast: Cast) -> None:
    for n in range(10):
        log_in(f"guess{n}", PASSWORD, address="203.0.113.99")

    from_there = log_in("bob", PASSWORD, address="203.0.113.99")
    elsewhere = log_in("bob", PASSWORD, address="203.0.113.100")

    assert from_there.status_code == 429
    assert LOCKED in from_there.content.decode()
    assert elsewhere.status_code == 302


def test_a_locked_out_unknown_user_name_gets_the_same_answer_as_a_real_one(cast: Cast) -> None:
    for n in range(10):
        log_in("alice", f"guess-{n}", address=f"198.51.100.{n}")
        log_in("ghost", f"guess-{n}", address=f"198.51.100.{n + 100}")

    real, unknown = log_in("alice", "x", "192.0.2.1"), log_in("ghost", "x", "192.0.2.2")

    assert real.status_code == unknown.status_code == 429
    assert error_of(real) == error_of(unknown)


def test_a_success_resets_the_count_of_failures(cast: Cast) -> None:
    for n in range(9):
        log_in("alice", f"guess-{n}", address="198.51.100.20")
    assert log_in("alice", PASSWORD, address="198.51.100.20").status_code == 302

    for n in range(9):
        log_in("alice", f"again-{n}", address="198.51.100.20")

    assert log_in("alice", PASSWORD, address="198.51.100.20").status_code == 302


def test_behind_proxies_the_address_is_the_one_the_outermost_proxy_saw(settings: Any) -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.8, 10.0.0.1"
    )

    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 2
    # The client wrote 6.6.6.6 itself; the outer proxy appended the address it saw.
    assert client_address(request) == "198.51.100.8"


# Password reset ------------------------------------------------------------------------------


def test_without_mail_password_reset_says_whom_to_ask_and_sends_nothing(cast: Cast) -> None:
    cast.owner.email = "alice@example.org"
    cast.owner.save()
    client = Client()

    page = client.get(reverse("password_reset"))
    posted = client.post(reverse("password_reset"), {"email": "alice@example.org"})
    done = client.get(reverse("password_reset_done"))

    for response in (page, posted, done):
        assert response.status_code == 200
        html = response.content.decode()
        assert "This server sends no e-mail" in html
        assert "Ask the owner of your study" in html
    assert mail.outbox == []


def test_with_mail_password_reset_mails_a_link(cast: Cast, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    cast.owner.email = "alice@example.org"
    cast.owner.save()
    client = Client()

    response = client.post(reverse("password_reset"), {"email": "alice@example.org"})

    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    (sent,) = mail.outbox
    assert sent.to == ["alice@example.org"]
    assert "/accounts/reset/" in sent.body
    done = client.get(response["Location"])
    assert "Check your e-mail" in done.content.decode()


def test_the_login_page_links_to_password_reset(db: Any) -> None:
    html = Client().get(reverse("login")).content.decode()

    assert f'href="{reverse("password_reset")}"' in html


@pytest.mark.parametrize("method", ["put", "delete"])
def test_password_reset_refuses_other_methods(db: Any, method: str) -> None:
    assert getattr(Client(), method)(reverse("password_reset")).status_code == 405
