"""Configuration problems, reported as Django system checks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured


def refuse_to_serve_insecurely() -> None:
    """Stop the web server from starting with DEBUG off and the development key.

    Called by veerkracht/wsgi.py and asgi.py, so gunicorn (and runserver) refuse to serve,
    not only `manage.py check`: anyone could sign sessions with a key that is in the source.
    """
    if not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_DEFAULT_SECRET_KEY:
        raise ImproperlyConfigured(
            "Veerkracht does not serve with DEBUG off and the built-in development SECRET_KEY: "
            "set SECRET_KEY in the environment to a long random string (or DEBUG=1 on your "
            "own computer)."
        )


@register("veerkracht")
def check_configuration(app_configs: Any, **kwargs: Any) -> list[Warning | Error]:
    problems: list[Warning | Error] = []
    if not settings.DEBUG and settings.SECRET_KEY == settings.INSECURE_DEFAULT_SECRET_KEY:
        problems.append(
            Error(
                "SECRET_KEY is the built-in development key while DEBUG is off.",
                hint="Set SECRET_KEY in the environment to a long random string.",
                id="veerkracht.E001",
            )
        )
    if settings.REDIS_URL and not settings.REDIS_URL.startswith(("redis://", "rediss://")):
        problems.append(
            Error(
                "REDIS_URL must start with redis:// or rediss://.",
                id="veerkracht.E002",
            )
        )
    db_engine = settings.DATABASES["default"]["ENGINE"]
    if settings.DATABASE_URL and "postgresql" not in db_engine:
        problems.append(
            Warning(
                f"DATABASE_URL selects {db_engine}; Veerkracht is tested on PostgreSQL and SQLite.",
                id="veerkracht.W001",
            )
        )
    return problems
