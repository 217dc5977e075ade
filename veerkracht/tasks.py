"""Background work of the project itself: the sweep that keeps jobs from hanging."""

from __future__ import annotations

import logging

from celery import shared_task

from veerkracht.jobs import sweep

logger = logging.getLogger(__name__)


@shared_task(name="veerkracht.sweep_jobs", ignore_result=True)
def sweep_jobs() -> None:
    """Send the jobs that wait for the broker, restart the jobs whose worker stopped.

    Celery beat sends this every JOB_SWEEP_INTERVAL seconds (settings.CELERY_BEAT_SCHEDULE).
    """
    done = sweep()
    if done.sent or done.restarted or done.failed:
        logger.info(
            "Swept jobs: %d sent, %d restarted, %d failed", done.sent, done.restarted, done.failed
        )
