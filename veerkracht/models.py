"""What the apps' background jobs share: a row whose status the page polls.

How a job runs (queued, running, done or failed, and never left running) is in
`veerkracht/jobs.py`.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    """The steps of a job the worker runs from the start (an import adds a preview first)."""

    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class BackgroundJob(models.Model):
    """A Celery task's record: its progress, its error, when it finished.

    Each job model keeps its own `status` field, since their steps differ (an import is first
    previewed); every job ends "done" or "failed", and `error` is the message the user reads.
    """

    FINISHED = ("done", "failed")
    ACTIVE = ("queued", "running")

    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set with every change of status (not on other saves) and, while the job runs, by its
    # worker's heartbeat: a running job untouched for JOB_HEARTBEAT_TIMEOUT lost its worker.
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the task was last handed to the broker; empty while the broker could not be
    # reached, so the sweep sends it once it can (veerkracht/jobs.py).
    sent_at = models.DateTimeField(null=True, blank=True)
    # How often the job was taken back from a worker that stopped mid-job.
    restarts = models.PositiveSmallIntegerField(default=0)

    status: str

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def waits_for_broker(self) -> bool:
        """Queued, but its task could not be handed to the broker yet."""
        return self.status == JobStatus.QUEUED and self.sent_at is None
