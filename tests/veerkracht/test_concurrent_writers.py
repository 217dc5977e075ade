"""16 coders adding highlights at the same moment lose nothing, on SQLite and on PostgreSQL.

Each case runs `tests/veerkracht/concurrent_writers.py` in its own process on the real settings
(`veerkracht.settings`, not the test settings): SQLite on a file with the embedded default's
options, and PostgreSQL in a throwaway database when DATABASE_URL is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITERS, PER_WRITER = 16, 10


def run_writers(env: dict[str, str]) -> dict[str, Any]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.veerkracht.concurrent_writers",
            str(WRITERS),
            str(PER_WRITER),
        ],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def assert_nothing_lost(result: dict[str, Any]) -> None:
    sent = WRITERS * PER_WRITER
    assert result["sent"] == sent
    assert result["statuses"] == {"200": sent}, result
    assert result["stored"] == sent, result
    assert result["events"] == sent, result


def test_sixteen_writers_on_the_embedded_sqlite_lose_nothing(tmp_path: Path) -> None:
    result = run_writers({"SQLITE_PATH": str(tmp_path / "db.sqlite3")})
    assert result["vendor"] == "sqlite"
    assert result["journal_mode"] == "wal"
    assert result["transaction_mode"] == "IMMEDIATE"
    assert_nothing_lost(result)


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database beside DATABASE_URL's, dropped afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL")
    import psycopg

    name = f"writers_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.integration
def test_sixteen_writers_on_postgresql_lose_nothing(empty_postgres: str) -> None:
    result = run_writers({"DATABASE_URL": empty_postgres})
    assert result["vendor"] == "postgresql"
    assert_nothing_lost(result)
