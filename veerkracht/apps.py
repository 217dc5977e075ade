from __future__ import annotations

from django.apps import AppConfig


class VeerkrachtConfig(AppConfig):
    name = "veerkracht"

    def ready(self) -> None:
        from veerkracht import checks  # noqa: F401  (registers the system checks)
