"""The codebook (a tree of codes with history and named versions) and coded segments."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

from interventions.models import Intervention, Study
from veerkracht.models import BackgroundJob, JobStatus


class Codebook(models.Model):
    """Per-study coding state. Created on first use (`Codebook.for_study`)."""

    class Reveal(models.TextChoices):
        # Listed in the order the policy form offers them: blind for everyone first.
        AFTER_REVEAL = "after_reveal", _("Coders' segments are shown only after the reveal")
        SUPERVISOR = "supervisor", _("The supervisor sees every coder's segments before the reveal")
        ALWAYS = "always", _("The owner and supervisor always see every coder's segments")

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="codebook")
    # Once coding has started, every new code is stamped inductive.
    coding_started_at = models.DateTimeField(null=True, blank=True)
    coding_started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Blind coding: before the reveal a coder sees no other coder's layer. The owner and
    # supervisor see the coders' layers according to `reveal`; after the reveal everyone does.
    # New studies are blind for everyone, the owner included: a thesis student usually codes
    # too. Studies made before that default keep the policy they had (migration 0008).
    reveal = models.CharField(
        _("showing coders' segments"),
        max_length=20,
        choices=Reveal.choices,
        default=Reveal.AFTER_REVEAL,
    )
    revealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("codebook")
        verbose_name_plural = _("codebooks")

    def __str__(self) -> str:
        return f"Codebook of {self.study}"

    @classmethod
    def for_study(cls, study: Study) -> Codebook:
        codebook, _created = cls.objects.get_or_create(study=study)
        return codebook

    @property
    def is_revealed(self) -> bool:
        """Whether the owner has revealed the coders' layers to everyone in the study."""
        return self.revealed_at is not None

    @property
    def shows_layers_before_reveal(self) -> bool:
        """Whether the policy lets the owner and supervisor see the layers before the reveal."""
        return self.reveal == self.Reveal.ALWAYS

    @property
    def shows_layers_to_supervisor_before_reveal(self) -> bool:
        """Whether the policy lets the supervisor (not the owner) see the layers before the
        reveal; "always" includes the supervisor too."""
        return self.reveal in (self.Reveal.ALWAYS, self.Reveal.SUPERVISOR)


class CodeQuerySet(models.QuerySet["Code"]):
    def tree_order(self) -> CodeQuerySet:
        return self.order_by("parent_id", "position", "pk")


class Code(models.Model):
    """A node of the code tree; a theme is a top-level code.

    `revision` grows with every change and guards concurrent edits (optimistic locking): a change
    names the revision it saw and is refused when the code moved on meanwhile.
    """

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
    example_segment = models.ForeignKey(
        "Segment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("example segment"),
    )
    color = models.CharField(_("colour"), max_length=7, default="#4c78a8")
    # False for a code that came from another program without a colour: pages still draw
    # `color`, but a REFI-QDA export leaves the colour out instead of inventing one.
    color_chosen = models.BooleanField(default=True)
    # The REFI-QDA GUID exactly as another program wrote it (case and braces kept), so an
    # export gives it back unchanged; "" when the code began here and `uuid` is its GUID.
    # Unique within a study only: the same vendor codebook may be imported into many studies.
    guid = models.CharField(max_length=38, blank=True)
    # REFI-QDA `isCodable`: kept from an imported file and written back on export.
    is_codable = models.BooleanField(default=True)
    origin = models.CharField(
        _("origin"), max_length=20, choices=Origin.choices, default=Origin.DEDUCTIVE
    )
    shortcut = models.CharField(_("shortcut key"), max_length=1, blank=True)
    position = models.PositiveIntegerField(default=0)
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CodeQuerySet.as_manager()

    class Meta:
        ordering = ["study", "parent_id", "position", "name"]
        indexes = [
            # The tree of one study, siblings in order.
            models.Index(fields=["study", "parent", "position"], name="code_tree_order"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "guid"], condition=~Q(guid=""), name="code_guid_unique_in_study"
            ),
        ]
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
    # The REFI-QDA GUID of the coding's selection as an imported project wrote it; "" when
    # the segment was made here and `uuid` is its GUID in an export.
    guid = models.CharField(max_length=38, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["intervention", "start", "end"]
        constraints = [
            models.CheckConstraint(condition=Q(start__gte=0), name="segment_start_nonnegative"),
            models.CheckConstraint(condition=Q(start__lt=models.F("end")), name="segment_nonempty"),
            # A coder gives a code to a span once; the services refuse a second time with a
            # message, and this holds when two requests race (a double click).
            models.UniqueConstraint(
                fields=["intervention", "coder", "code", "start", "end"],
                name="segment_unique_span",
            ),
        ]
        indexes = [
            # The workspace: one coder's segments of one intervention, in text order.
            models.Index(fields=["intervention", "coder", "start"], name="segment_by_coder"),
        ]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return f"{self.code}: {self.quote[:40]}"


class InterventionProgress(models.Model):
    """A coder's mark that an intervention is coded completely."""

    intervention = models.ForeignKey(
        Intervention, on_delete=models.CASCADE, related_name="progress_marks"
    )
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="progress_marks"
    )
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["intervention", "coder"], name="progress_unique"),
        ]
        verbose_name = _("coding progress")
        verbose_name_plural = _("coding progress")

    def __str__(self) -> str:
        return f"{self.coder} finished {self.intervention}"


class Assignment(models.Model):
    """An intervention a coder is to code. Only assigned data counts in agreement; a coder's
    silence on an intervention that was not assigned is missing, not "no code"."""

    intervention = models.ForeignKey(
        Intervention, on_delete=models.CASCADE, related_name="assignments"
    )
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["intervention__title"]
        constraints = [
            models.UniqueConstraint(fields=["intervention", "coder"], name="assignment_unique"),
        ]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")

    def __str__(self) -> str:
        return f"{self.intervention} for {self.coder}"


class AgreementRun(BackgroundJob):
    """One computation of inter-rater agreement, with exactly the segments it used."""

    Status = JobStatus

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="agreement_runs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # What was asked: coders, unit, overlap, bootstrap samples and seed.
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    # The ids of the segments used and a fingerprint of their state, so a run can say whether
    # coding changed since.
    segment_ids = models.JSONField(default=list)
    fingerprint = models.CharField(max_length=64, blank=True)
    codebook_version = models.ForeignKey(
        "CodebookVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    result = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("agreement run")
        verbose_name_plural = _("agreement runs")

    def __str__(self) -> str:
        return f"Agreement run {self.uuid} ({self.status})"


class AgreementRunPart(models.Model):
    """A block of texts of an agreement run split over workers, and its sums once computed.

    The run's task plans the blocks (`coding.agreement.runs.agreement_run_split`); a task per
    block stores its result here; the block that completes the set adds them up and finishes the
    run (`agreement_run_part_done`). Removed when the run is done.
    """

    run = models.ForeignKey(AgreementRun, on_delete=models.CASCADE, related_name="parts")
    index = models.PositiveIntegerField()
    intervention_ids = models.JSONField(default=list)
    # The block's RunSums as JSON, its segment ids and its disagreements; null until computed.
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="agreement_part_unique_index"),
        ]

    def __str__(self) -> str:
        return f"Part {self.index} of {self.run_id}"


class CodingEvent(models.Model):
    """Append-only audit trail of changes to codes, the codebook and segments.

    `before` and `after` hold the changed fields (or a whole subtree for a deletion), so the
    history reads as a diff and the last change can be undone.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="coding_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=40)
    code = models.ForeignKey(
        Code, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    # Kept when the code itself is deleted, so its history stays readable.
    code_uuid = models.UUIDField(null=True, blank=True, db_index=True)
    code_name = models.CharField(max_length=200, blank=True)
    segment_uuid = models.UUIDField(null=True, blank=True, db_index=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    undone_by = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="undoes"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("coding event")
        verbose_name_plural = _("coding events")

    def __str__(self) -> str:
        return f"{self.action} {self.code_name} by {self.actor} at {self.created_at:%Y-%m-%d %H:%M}"


class CodebookVersion(models.Model):
    """A named snapshot of the whole tree (our JSON format, with GUIDs)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="codebook_versions")
    number = models.PositiveIntegerField()
    label = models.CharField(_("label"), max_length=200)
    snapshot = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="codebook_version_number"),
        ]
        verbose_name = _("codebook version")
        verbose_name_plural = _("codebook versions")

    def __str__(self) -> str:
        return f"v{self.number} {self.label}"


class ExportJob(BackgroundJob):
    """A codebook export made by a Celery task; the file is kept in the row for download."""

    Status = JobStatus

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="export_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=40, default="codebook")
    format = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=120, blank=True)
    content = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return f"{self.kind} {self.format} ({self.status})"


class CodebookImportJob(BackgroundJob):
    """A big codebook file imported by a Celery task (`coding.run_codebook_import`), so the
    request that uploaded it answers at once; the file is kept in the row until then."""

    Status = JobStatus

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="codebook_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    filename = models.CharField(max_length=255)
    content = models.BinaryField(null=True, blank=True)
    # {"summary": "5000 added, ...", "dropped": [...]} once done.
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("codebook import")
        verbose_name_plural = _("codebook imports")

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"


# Reconciliation ---------------------------------------------------------------------------


class ConsensusDecision(models.Model):
    """What the team decided for one reconciliation item of an intervention.

    An item is a group of coders' segments (see `coding.consensus.services`); `item_key` names it by
    the sorted UUIDs of those segments, hashed to a fixed length, so it stays the same however
    often the items are recomputed, and changes when a coder adds or removes a segment of it.
    `source_segments` keeps the state of those segments when the decision was made, so a
    later change to them shows as "coding changed since".
    """

    class Action(models.TextChoices):
        TAKE = "take", _("take one coder's version")
        KEEP_BOTH = "keep_both", _("keep every version")
        DROP = "drop", _("drop")
        EDIT = "edit", _("edit")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    intervention = models.ForeignKey(
        Intervention, on_delete=models.PROTECT, related_name="consensus_decisions"
    )
    item_key = models.CharField(max_length=64)
    action = models.CharField(max_length=20, choices=Action.choices)
    # [{"uuid", "coder", "code_uuid", "start", "end"}] of the item's segments.
    source_segments = models.JSONField(default=list)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField()
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["intervention", "decided_at"]
        constraints = [
            # One decision per item: the second person deciding it is told who was first.
            models.UniqueConstraint(
                fields=["intervention", "item_key"], name="consensus_decision_unique_item"
            ),
        ]
        verbose_name = _("consensus decision")
        verbose_name_plural = _("consensus decisions")

    def __str__(self) -> str:
        return f"{self.action} on {self.intervention} by {self.decided_by}"


class ConsensusSegment(models.Model):
    """A segment of the consensus layer: intervention.text[start:end] == quote, in Unicode
    code points like `Segment`. Made only by a `ConsensusDecision`, and gone with it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    decision = models.ForeignKey(
        ConsensusDecision, on_delete=models.CASCADE, related_name="segments"
    )
    intervention = models.ForeignKey(
        Intervention, on_delete=models.PROTECT, related_name="consensus_segments"
    )
    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="consensus_segments")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    quote = models.TextField()
    memo = models.TextField(_("memo"), blank=True)
    # As `Segment.guid`: the GUID an imported project gave it, "" when made here.
    guid = models.CharField(max_length=38, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["intervention", "start", "end"]
        constraints = [
            models.CheckConstraint(condition=Q(start__gte=0), name="consensus_start_nonnegative"),
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")), name="consensus_nonempty"
            ),
            # Its index also serves "the consensus layer of one intervention".
            models.UniqueConstraint(
                fields=["intervention", "code", "start", "end"], name="consensus_segment_unique"
            ),
        ]
        verbose_name = _("consensus segment")
        verbose_name_plural = _("consensus segments")

    def __str__(self) -> str:
        return f"{self.code}: {self.quote[:40]}"


# Comments ---------------------------------------------------------------------------------

COMMENT_MAX_LENGTH = 5_000


class CommentThread(models.Model):
    """A discussion on a segment, a code or an intervention, open until someone resolves it.

    The target is named by kind and UUID, not a foreign key: a thread outlives the segment it
    was about, so the discussion of a deleted segment stays readable.
    """

    class Target(models.TextChoices):
        SEGMENT = "segment", _("segment")
        CODE = "code", _("code")
        INTERVENTION = "intervention", _("intervention")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RESOLVED = "resolved", _("resolved")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="comment_threads")
    target_kind = models.CharField(max_length=20, choices=Target.choices)
    target_uuid = models.UUIDField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", resolved_at__isnull=True)
                | Q(status="resolved", resolved_at__isnull=False),
                name="thread_resolved_has_time",
            ),
        ]
        indexes = [
            # The supervisor's list: the open threads of one study.
            models.Index(fields=["study", "status"], name="thread_by_status"),
            # The threads on one segment, code or intervention.
            models.Index(fields=["target_kind", "target_uuid"], name="thread_by_target"),
        ]
        verbose_name = _("comment thread")
        verbose_name_plural = _("comment threads")

    def __str__(self) -> str:
        return f"Thread on {self.target_kind} {self.target_uuid} ({self.status})"


class Comment(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    thread = models.ForeignKey(CommentThread, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["thread", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.lookups.GreaterThan(Length("body"), 0)
                & models.lookups.LessThanOrEqual(Length("body"), COMMENT_MAX_LENGTH),
                name="comment_body_length",
            ),
        ]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:40]}"


class Notification(models.Model):
    """In-app news for one user about one comment: they were mentioned, or took part."""

    class Reason(models.TextChoices):
        MENTION = "mention", _("mentioned you")
        REPLY = "reply", _("replied in a thread you take part in")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="notifications")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "comment"], name="notification_unique"),
        ]
        indexes = [
            # The bell: one user's unread notifications, newest first.
            models.Index(fields=["user", "read_at"], name="notification_unread"),
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.reason} for {self.user}"


class MailJob(BackgroundJob):
    """The e-mail that goes with one notification, sent by a Celery task; a mail server that
    refuses it fails this job with the server's answer, never the comment."""

    Status = JobStatus

    notification = models.OneToOneField(
        Notification, on_delete=models.CASCADE, related_name="mail_job"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("notification mail")
        verbose_name_plural = _("notification mails")

    def __str__(self) -> str:
        return f"Mail for notification {self.notification_id} ({self.status})"


class AnalysisSnapshot(models.Model):
    """A stored analysis table ("Bewaar deze analyse"): its parameters and its result as they
    were, with the codebook version, so a figure in a thesis can be shown again exactly after
    later coding. Never recomputed."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="analysis_snapshots")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    title = models.CharField(_("title"), max_length=200)
    params = models.JSONField(default=dict)
    # `coding.analysis.tables.Table.as_json()` plus the filter as it read on the page.
    result = models.JSONField(default=dict)
    codebook_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("analysis snapshot")
        verbose_name_plural = _("analysis snapshots")

    def __str__(self) -> str:
        return self.title


class SearchText(models.Model):
    """An intervention's text folded for text search (`veerkracht.lib.textfold.fold`: lower
    case, no diacritics, the same length), made on the first search after the text was saved.
    A cache: `text_updated_at` is the intervention's `updated_at` it was made from."""

    intervention = models.OneToOneField(
        Intervention, on_delete=models.CASCADE, primary_key=True, related_name="search_text"
    )
    folded = models.TextField()
    text_updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Search text of {self.intervention_id}"


# REFI-QDA projects ----------------------------------------------------------------------------


class ProjectImportJob(BackgroundJob):
    """A .qdpx project import: the archive is kept in the row, previewed, then applied by a
    Celery task on confirm (`coding.projects.services`)."""

    class Status(models.TextChoices):
        PREVIEW = "preview", _("previewed")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="project_imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    filename = models.CharField(max_length=255)
    content = models.BinaryField()
    # {REFI user GUID: username}, as the owner chose it on the preview page.
    user_map = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREVIEW)
    # The import's report (`ImportReport.as_dict`) once done.
    report = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("project import")
        verbose_name_plural = _("project imports")

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"
