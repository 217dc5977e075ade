"""Test settings: fast hashing, in-process Celery unless an integration run sets REDIS_URL."""

from __future__ import annotations

from veerkracht.settings import *  # noqa: F403
from veerkracht.settings import DATABASE_URL, REDIS_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not DATABASE_URL:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
# Unit tests run tasks eagerly; integration tests (REDIS_URL set) go through a real worker.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
