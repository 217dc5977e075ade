"""The codebook and coded segments.

Only what the corpus needs now: a code tree per study and segments that point into an
intervention's text. The codebook editor, workspace and agreement build on these.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from interventions.models import Intervention, Study


class Code(models.Model):
    class Origin(models.TextChoices):
        DEDUCTIVE = "deductive", _("deductive")
        INDUCTIVE = "inductive", _("inductive")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="codes")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(_("name"), max_length=200)
    definition = models.TextField(_("definition"), blank=True)
    inclusion = models.TextField(_("inclusion criteria"), blank=True)
    exclusion = models.TextField(_("exclusion criteria"), blank=True)
    example = models.TextField(_("example"), blank=True)
    color = models.CharField(_("colour"), max_length=7, default="#4c78a8")
    origin = models.CharField(
        _("origin"), max_length=20, choices=Origin.choices, default=Origin.DEDUCTIVE
    )
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study", "parent_id", "position", "name"]
        verbose_name = _("code")
        verbose_name_plural = _("codes")

    def __str__(self) -> str:
        return self.name


class Segment(models.Model):
    """A coded span: intervention.text[start:end] == quote, in Unicode code points (REFI-QDA)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    intervention = models.ForeignKey(
        Intervention, on_delete=models.PROTECT, related_name="segments"
    )
    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="segments")
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="segments"
    )
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    quote = models.TextField()
    memo = models.TextField(_("memo"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["intervention", "start", "end"]
        constraints = [
            models.CheckConstraint(condition=Q(start__gte=0), name="segment_start_nonnegative"),
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="segment_nonempty"),
        ]
        indexes = [
            # The workspace: one coder's segments of one intervention, in text order.
            models.Index(fields=["intervention", "coder", "start"], name="segment_by_coder"),
        ]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return f"{self.code}: {self.quote[:40]}"
