"""The session store: Django's database store, with its read written as SQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from veerkracht.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_session_saved_by_django_reads_back_the_same() -> None:
    saved = DjangoStore()
    saved["_auth_user_id"] = "7"
    saved["taal"] = "nl"
    saved.save()
    ours = SessionStore(saved.session_key)
    assert dict(ours.items()) == {"_auth_user_id": "7", "taal": "nl"}
    assert ours.session_key == saved.session_key
    row = ours._get_session_from_db()
    expected = Session.objects.get(session_key=saved.session_key)
    assert (row.session_key, row.session_data, row.expire_date) == (
        expected.session_key,
        expected.session_data,
        expected.expire_date,
    )


def test_an_expired_or_unknown_session_is_empty_and_loses_its_key() -> None:
    expired = SessionStore()
    expired["_auth_user_id"] = "7"
    expired.save()
    key = expired.session_key
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(1))
    stale = SessionStore(key)
    assert dict(stale.items()) == {}
    assert stale.session_key is None
    unknown = SessionStore("x" * 32)
    assert dict(unknown.items()) == {}
    assert unknown.session_key is None


def test_the_settings_use_this_store() -> None:
    from django.conf import settings

    assert settings.SESSION_ENGINE == "veerkracht.sessions"
