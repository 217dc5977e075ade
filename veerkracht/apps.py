from __future__ import annotations

from django.apps import AppConfig


class VeerkrachtConfig(AppConfig):
    name = "veerkracht"

    def ready(self) -> None:
        from veerkracht import checks  # noqa: F401  (registers the system checks)
        from veerkracht.celery import app

        # Register every app's tasks in this process too, not only in the worker: services
        # send tasks by name, and without a broker (development, tests) they run here.
        app.autodiscover_tasks(force=True)
