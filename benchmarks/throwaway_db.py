"""A throwaway test database for benchmarks that need the ORM.

Import this first in a benchmark script: it configures Django with the test settings and
`throwaway_database()` creates (and afterwards destroys) a `test_` database, on SQLite by
default or on PostgreSQL when DATABASE_URL is set, so a benchmark never touches real data.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veerkracht.settings_test")

import django  # noqa: E402

django.setup()
# Eager tasks log every success at INFO; the figures are what a benchmark prints.
logging.getLogger("celery").setLevel(logging.WARNING)

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Yield the database vendor ("sqlite" or "postgresql") of a fresh, migrated database."""
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield connection.vendor
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
