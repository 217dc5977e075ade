"""Settings, all from the environment.

No configuration runs on SQLite with Celery tasks executed in-process. DATABASE_URL switches to
PostgreSQL (psycopg 3); REDIS_URL switches Celery to a real Redis broker and worker.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from veerkracht.lib.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Off unless asked for: `make run` sets DEBUG=1. With DEBUG off the app refuses to serve with the
# development key below (veerkracht/wsgi.py, asgi.py; system check veerkracht.E001).
DEBUG = env_bool("DEBUG", default=False)
INSECURE_DEFAULT_SECRET_KEY = "insecure-veerkracht-development-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", INSECURE_DEFAULT_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "import_export",
    "axes",
    "veerkracht",
    "interventions",
    "coding",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "veerkracht.middleware.SecurityHeadersMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "veerkracht.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "veerkracht.wsgi.application"

DATABASE_URL = env_str("DATABASE_URL")
# The embedded default serves several people coding at once, so SQLite is set up for
# concurrent writers: WAL lets readers go on while one writes; every transaction takes the write
# lock when it begins (IMMEDIATE), so a transaction that read first never fails to upgrade with
# "database is locked" (SQLite cannot wait for that case); a writer waits up to
# SQLITE_BUSY_TIMEOUT seconds for the lock, and `veerkracht.db.retrying` runs a refused write
# once more. synchronous=NORMAL is safe in WAL mode: a power cut can lose the last commits, never
# the database.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
}
# The hottest queries are prepared once per connection on PostgreSQL (`veerkracht.lib.rows`);
# 0 behind a pooler in transaction mode, which cannot keep prepared statements.
DATABASE_PREPARED = env_bool("DATABASE_PREPARED", default=True)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": SQLITE_OPTIONS,
            # A connection kept for a minute, as PostgreSQL's: opening one (Django's functions,
            # the pragmas) cost more CPU than some requests' queries (benchmarks/RESULTS.md).
            "CONN_MAX_AGE": env_int("SQLITE_CONN_MAX_AGE", 60),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a login from a locked-out account or address before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Dutch first: the study this app grew from is Dutch.
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "Europe/Amsterdam")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = BASE_DIR / "media"

# Uploads: a text or a metadata sheet. The view refuses anything over UPLOAD_MAX_BYTES with a
# message; Django's own limit sits a little higher so the view can still say why.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 100
FILE_UPLOAD_HANDLERS = [
    "veerkracht.lib.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# The texts a process keeps for applying codes, in characters (`interventions.textcache`).
TEXT_CACHE_CHARACTERS = env_int("TEXT_CACHE_CHARACTERS", 8_000_000)

REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "veerkracht")
# With acks_late, Redis hands a task whose worker died to another worker after this many
# seconds. A delivery of a job whose worker still runs it does nothing, so this may be shorter
# than the longest task; the sweep below usually restarts such a job first.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 300)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # A broker that is down answers quickly with an error instead of holding the request.
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# The worker keeps trying to reach a broker that is away, also at start.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A running job's worker touches it this often; untouched for JOB_HEARTBEAT_TIMEOUT seconds, the
# job lost its worker and the sweep queues it again (see veerkracht/jobs.py).
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 10)
JOB_HEARTBEAT_TIMEOUT = env_int("JOB_HEARTBEAT_TIMEOUT", 60)
# A queued job no worker took this many seconds after it was sent is sent again (a broker
# restarted without its data lost the message); a second delivery does nothing.
JOB_RESEND_AFTER = env_int("JOB_RESEND_AFTER", 300)
# Celery beat runs the sweep this often: `celery -A veerkracht beat`, or a worker with -B.
JOB_SWEEP_INTERVAL = env_int("JOB_SWEEP_INTERVAL", 30)
CELERY_BEAT_SCHEDULE = {
    "sweep-jobs": {
        "task": "veerkracht.sweep_jobs",
        "schedule": float(JOB_SWEEP_INTERVAL),
        # A sweep no worker took before the next one is due is dropped, not piled up.
        "options": {"expires": float(JOB_SWEEP_INTERVAL)},
    }
}
# Seconds a job waits after it is marked running: only for the integration tests that kill a
# worker mid-job. Zero in any real deployment.
JOB_TEST_PAUSE = env_int("VEERKRACHT_JOB_TEST_PAUSE", 0)
# An agreement run over many texts is split into blocks of this many texts, each a task of its
# own, so that several workers share it; their sums add up to exactly the single run's. Only
# with a real broker: in-process (no REDIS_URL) a run is computed in one go.
AGREEMENT_BLOCK_TEXTS = env_int("AGREEMENT_BLOCK_TEXTS", 16)
AGREEMENT_SPLIT = env_bool("AGREEMENT_SPLIT", default=not CELERY_TASK_ALWAYS_EAGER)

# Email is optional: comment notifications are sent by mail only when EMAIL_BACKEND is set
# (for example django.core.mail.backends.smtp.EmailBackend); in-app notifications always work.
if env_str("EMAIL_BACKEND"):
    EMAIL_BACKEND = env_str("EMAIL_BACKEND")
    EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
    DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "veerkracht@localhost")

# Django's database sessions, read by one hand-written query (`veerkracht.sessions`).
SESSION_ENGINE = "veerkracht.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Production behind HTTPS (README, "In production"): redirect http to https, HSTS, and, behind
# a proxy that ends TLS, the header that tells Django the request came in over https.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
# "HTTP_X_FORWARDED_PROTO,https": the header (as Django names it) and the value meaning https.
_PROXY_SSL_HEADER = env_list("SECURE_PROXY_SSL_HEADER", [])
SECURE_PROXY_SSL_HEADER = (
    (_PROXY_SSL_HEADER[0], _PROXY_SSL_HEADER[1]) if len(_PROXY_SSL_HEADER) == 2 else None
)
# How many proxies in front of the app append to X-Forwarded-For: the client's address for
# login throttling is the one the outermost of them saw. 0: REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Scripts and styles only from our own files: no inline script, no eval (htmx is told so in
# base.html), no plugin, no framing. Inline style attributes stay allowed for the colours of
# codes; style elements do not.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# No page of ours uses any of these browser features.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope",
        "magnetometer", "microphone", "midi", "payment", "usb",
    )
)  # fmt: skip

# Failed logins (django-axes): after LOGIN_FAILURE_LIMIT failures for one user name, or from
# one address, logins from it are refused for LOGIN_COOLOFF_MINUTES, before any password is
# checked. A success resets the count.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "veerkracht.accounts.locked_out"
AXES_CLIENT_IP_CALLABLE = "veerkracht.accounts.client_address"
AXES_VERBOSE = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A refused request (403) is one line, not a traceback: refusals are normal.
    "filters": {"forbidden_one_line": {"()": "veerkracht.logfilters.ForbiddenOnOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"filters": ["forbidden_one_line"]},
        # Failed logins and lockouts are warnings; axes' bookkeeping per attempt is not news.
        "axes": {"level": "WARNING"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
