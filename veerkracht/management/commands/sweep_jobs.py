from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from veerkracht.jobs import sweep


class Command(BaseCommand):
    help = (
        "Send every job that waits for the task queue, and queue again every job whose worker "
        "stopped (failing it after several restarts). Celery beat does this every "
        "JOB_SWEEP_INTERVAL seconds; run this where no beat runs."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        done = sweep()
        self.stdout.write(f"{done.sent} sent, {done.restarted} restarted, {done.failed} failed.")
