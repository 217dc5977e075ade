"""Test settings: fast hashing, Celery tasks in-process.

Integration tests (tests/integration) switch eager mode off for themselves and start a real
worker on Redis; every other test runs its tasks in-process, also when REDIS_URL is set.
"""

from __future__ import annotations

from veerkracht.settings import *  # noqa: F403
from veerkracht.settings import DATABASE_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not DATABASE_URL:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
