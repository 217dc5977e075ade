"""Configuration problems, reported as Django system checks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register


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
