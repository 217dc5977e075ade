"""Studies, their members, and the corpus: interventions, sections and attributes.

A study is the unit of access: `interventions.access` turns a member's role into rights.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from veerkracht.models import BackgroundJob


class Role(models.TextChoices):
    OWNER = "owner", _("owner")
    SUPERVISOR = "supervisor", _("supervisor")
    CODER = "coder", _("coder")


class StudyQuerySet(models.QuerySet["Study"]):
    def for_user(self, user: User) -> StudyQuerySet:
        return self.filter(memberships__user=user)


class Study(models.Model):
    class Template(models.TextChoices):
        VEERKRACHT = "veerkracht", _("Veerkracht en hulpbronnen")
        EMPTY = "empty", _("Empty")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    description = models.TextField(_("description"), blank=True)
    language = models.CharField(
        _("language of the texts"), max_length=8, choices=settings.LANGUAGES, default="nl"
    )
    template = models.CharField(
        _("template"), max_length=20, choices=Template.choices, default=Template.EMPTY
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StudyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("study")
        verbose_name_plural = _("studies")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["study", "user"], name="membership_unique_user"),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.study}"


class Invitation(models.Model):
    """A link the owner shows to a colleague; no mail server is needed."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(default=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.role} invitation to {self.study}"

    @property
    def is_open(self) -> bool:
        return not self.revoked and self.accepted_by_id is None


class InterventionQuerySet(models.QuerySet["Intervention"]):
    def with_attributes(self) -> InterventionQuerySet:
        return self.prefetch_related("attribute_values__definition")


class Intervention(models.Model):
    """A document to code.

    `text` is immutable once any segment points into it: segments store Unicode code-point
    offsets into this NFC, `\\n`-separated text. A changed text becomes a new version instead.
    A text imported from a REFI-QDA project is not normalised to NFC (that would move the
    file's offsets); it has `\\n` line ends too.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="interventions")
    title = models.CharField(_("title"), max_length=300)
    source = models.CharField(_("databank or source"), max_length=200, blank=True)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    text = models.TextField(_("text"), blank=True)
    source_filename = models.CharField(max_length=255, blank=True)
    # The REFI-QDA GUID of the source this text came from, as the project file wrote it; ""
    # when the text began here and `uuid` is its GUID in an export.
    guid = models.CharField(max_length=38, blank=True)
    previous_version = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="next_versions",
        verbose_name=_("previous version"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InterventionQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            # Imports match rows to interventions by title, so a title is unique in a study.
            models.UniqueConstraint(fields=["study", "title"], name="intervention_unique_title"),
            models.UniqueConstraint(
                fields=["study", "guid"],
                condition=~Q(guid=""),
                name="intervention_guid_unique_in_study",
            ),
        ]
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")

    def __str__(self) -> str:
        return self.title


class Section(models.Model):
    """A heading and the span of text it covers, in code points: text[start:end]."""

    intervention = models.ForeignKey(
        Intervention, on_delete=models.CASCADE, related_name="sections"
    )
    heading = models.CharField(_("heading"), max_length=300)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    excluded = models.BooleanField(
        _("not coded"),
        default=False,
        help_text=_("Coders skip this section (for example a summary that repeats the text)."),
    )

    class Meta:
        ordering = ["intervention", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__gte=0), name="section_start_nonnegative"),
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="section_nonempty"),
            models.UniqueConstraint(fields=["intervention", "start"], name="section_unique_start"),
        ]
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self) -> str:
        return self.heading


class AttributeDefinition(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("text")
        CATEGORY = "category", _("category")
        NUMBER = "number", _("number")
        DATE = "date", _("date")

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="attributes")
    name = models.CharField(_("name"), max_length=100)
    # `key` is the name folded for matching import headers (case, accents and spaces ignored).
    key = models.CharField(max_length=100, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.TEXT)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["study", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["study", "key"], name="attribute_unique_key"),
        ]
        verbose_name = _("attribute")
        verbose_name_plural = _("attributes")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        from interventions.headers import fold_header

        self.key = fold_header(self.name)
        super().save(*args, **kwargs)


class AttributeValue(models.Model):
    intervention = models.ForeignKey(
        Intervention, on_delete=models.CASCADE, related_name="attribute_values"
    )
    definition = models.ForeignKey(
        AttributeDefinition, on_delete=models.CASCADE, related_name="values"
    )
    value = models.CharField(_("value"), max_length=500)

    class Meta:
        ordering = ["definition__position", "definition__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["intervention", "definition"], name="attribute_value_unique"
            ),
        ]
        indexes = [
            # The filtered intervention list: values of one definition equal to a chosen value.
            models.Index(fields=["definition", "value"], name="attribute_value_lookup"),
        ]
        verbose_name = _("attribute value")
        verbose_name_plural = _("attribute values")

    def __str__(self) -> str:
        return f"{self.definition}: {self.value}"


class ImportJob(BackgroundJob):
    """A metadata import: previewed as a dry run, then applied by a Celery task on confirm."""

    class Status(models.TextChoices):
        PREVIEW = "preview", _("previewed")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    filename = models.CharField(max_length=255)
    # The parsed table (headers and rows as strings), so confirm applies exactly what was previewed.
    table = models.JSONField(default=dict)
    new_attributes = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREVIEW)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"


class TextImportJob(BackgroundJob):
    """Big text files (an upload over `textjobs.JOB_THRESHOLD_BYTES`) turned into interventions
    by a Celery task (`interventions.import_texts`), so the request answers at once. The files
    wait in `archive` (a zip) until the task has read them."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="text_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    source = models.CharField(max_length=200, blank=True)
    filenames = models.JSONField(default=list)
    archive = models.BinaryField(null=True, blank=True)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("text import")
        verbose_name_plural = _("text imports")

    def __str__(self) -> str:
        return f"{len(self.filenames)} files ({self.status})"
