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
# A worker that the integration tests start sends the tasks it sends itself (the job sweep's)
# through the broker, as a real worker does.
CELERY_TASK_ALWAYS_EAGER = not env_bool("VEERKRACHT_INTEGRATION_WORKER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# Agreement runs in one go unless a test (or an integration test's worker) asks for blocks.
AGREEMENT_SPLIT = env_bool("AGREEMENT_SPLIT", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
# The tests serve plain http (the test client, the browser tests' live server), as a developer's
# computer does; production cookies are Secure (settings: SECURE_COOKIES, on with DEBUG off).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
