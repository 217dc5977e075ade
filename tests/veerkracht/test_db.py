"""`veerkracht.db.retrying`: a write SQLite refused for a lock runs again, nothing else does."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from veerkracht import db


@pytest.fixture(autouse=True)
def _sqlite_and_no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the retry is for SQLite; PostgreSQL waits on row locks")
    monkeypatch.setattr(db, "FIRST_PAUSE", 0.0)


def flaky(failures: list[str]) -> Any:
    calls: list[int] = []

    def work() -> int:
        calls.append(1)
        if failures:
            raise OperationalError(failures.pop(0))
        return len(calls)

    return work


@pytest.mark.django_db(transaction=True)
def test_a_write_refused_for_a_lock_runs_again() -> None:
    work = flaky(["database is locked", "database is locked"])
    assert db.retrying(work) == 3


@pytest.mark.django_db(transaction=True)
def test_it_gives_up_after_the_last_attempt() -> None:
    work = flaky(["database is locked"] * db.ATTEMPTS)
    with pytest.raises(OperationalError, match="locked"):
        db.retrying(work)


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried() -> None:
    work = flaky(["no such table: coding_segment"])
    with pytest.raises(OperationalError, match="no such table"):
        db.retrying(work)


@pytest.mark.django_db(transaction=True)
def test_inside_someone_elses_transaction_nothing_is_retried() -> None:
    work = flaky(["database is locked"])
    with pytest.raises(OperationalError, match="locked"), transaction.atomic():
        db.retrying(work)
