"""What the apps' background jobs share: a row whose status the page polls."""

from __future__ import annotations

from django.db import models


class BackgroundJob(models.Model):
    """A Celery task's record: its progress, its error, when it finished.

    Each job model keeps its own `status` field, since their steps differ (an import is first
    previewed); every job ends "done" or "failed".
    """

    FINISHED = ("done", "failed")

    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    status: str

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED
