"""Writes that survive a busy embedded database.

On SQLite (the embedded default) one connection writes at a time. Every transaction begins
IMMEDIATE and waits up to SQLITE_BUSY_TIMEOUT seconds for the lock (see settings), so a refusal
is rare: a burst longer than the timeout, or a checkpoint at an unlucky moment. `retrying` runs
such a write again; its transaction rolled back as a whole, so running it again is safe.
PostgreSQL waits on row locks instead and never needs this.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 4
# Seconds before the second attempt; doubled for each further one, with jitter so that writers
# refused together do not come back together.
FIRST_PAUSE = 0.05


def is_lock_error(error: OperationalError) -> bool:
    """Whether SQLite refused for a lock ("database is locked", "database table is locked")."""
    text = str(error).lower()
    return connection.vendor == "sqlite" and ("locked" in text or "busy" in text)


def retrying(work: Callable[[], T], *, attempts: int = ATTEMPTS) -> T:
    """`work()`, run again when SQLite refuses it for a lock.

    `work` must own its transaction (an `atomic` block inside it); inside someone else's
    transaction nothing can be retried, so the error is raised as it is.
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as error:
            if attempt == attempts or connection.in_atomic_block or not is_lock_error(error):
                raise
            pause = FIRST_PAUSE * 2 ** (attempt - 1) * (1 + random.random())
            logger.warning("Database locked, writing again in %.2f s: %s", pause, error)
            time.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover
