"""Test settings: fast hashing, Celery tasks in-process.

Integration tests (tests/integration) switch eager mode off for themselves and start a real
worker on Redis; every other test runs its tasks in-process, also when REDIS_URL is set.
"""

from __future__ import annotations

from veerkracht.lib.env import env_bool
from veerkracht.settings import *  # noqa: F403
from veerkracht.settings import DATABASE_URL, SQLITE_OPTIONS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not DATABASE_URL:
    # In memory, with the embedded default's transaction mode (WAL does not apply to memory);
    # tests/veerkracht/test_concurrent_writers.py runs the real settings on a file.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:",
            "OPTIONS": {**SQLITE_OPTIONS, "init_command": ""},
        }
    }
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Agreement runs in one go unless a test (or an integration test's worker) asks for blocks.
AGREEMENT_SPLIT = env_bool("AGREEMENT_SPLIT", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
