"""Test settings: fast hashing, Celery tasks in-process.

Integration tests (tests/integration) switch eager mode off for themselves and start a real
worker on Redis; every other test runs its tasks in-process, also when REDIS_URL is set.
"""

from __future__ import annotations

from veerkracht.lib.env import env_bool
from veerkracht.settings import *  # noqa: F403
from veerkracht.settings import DATABASE_URL

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if not DATABASE_URL:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
# A worker that the integration tests start sends the tasks it sends itself (the job sweep's)
# through the broker, as a real worker does.
CELERY_TASK_ALWAYS_EAGER = not env_bool("VEERKRACHT_INTEGRATION_WORKER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LANGUAGE_CODE = "en"
# The tests serve plain http (the test client, the browser tests' live server), as a developer's
# computer does; production cookies are Secure (settings: SECURE_COOKIES, on with DEBUG off).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
