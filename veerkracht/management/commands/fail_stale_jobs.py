from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand

from veerkracht.jobs import fail_stale
from veerkracht.models import BackgroundJob


class Command(BaseCommand):
    help = (
        "Fail every job still queued or running long after its worker should have finished it "
        "(CELERY_VISIBILITY_TIMEOUT plus JOB_STALE_MARGIN), with a message saying to start it "
        "again. Pages do this for the jobs they show; run this from cron for the others."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            if issubclass(model, BackgroundJob):
                failed = fail_stale(model._default_manager.all())
                if failed:
                    self.stdout.write(f"{model._meta.label}: {failed} failed")
                total += failed
        self.stdout.write(f"{total} stale job{'' if total == 1 else 's'} failed.")
