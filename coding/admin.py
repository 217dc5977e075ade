from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from import_export.admin import ImportExportModelAdmin

from coding.models import (
    Code,
    Codebook,
    CodebookVersion,
    CodingEvent,
    Comment,
    CommentThread,
    ConsensusDecision,
    ConsensusSegment,
    ExportJob,
    MailJob,
    Notification,
    Segment,
)


@admin.register(Code)
class CodeAdmin(ImportExportModelAdmin):
    list_display = ["name", "study", "parent", "origin", "position"]
    list_filter = ["study", "origin"]
    search_fields = ["name", "definition"]


@admin.register(Segment)
class SegmentAdmin(ImportExportModelAdmin):
    list_display = ["code", "intervention", "coder", "start", "end", "created_at"]
    list_filter = ["code__study", "coder"]
    search_fields = ["quote", "memo"]
    readonly_fields = ["uuid", "created_at", "updated_at"]


@admin.register(Codebook)
class CodebookAdmin(admin.ModelAdmin):
    list_display = ["study", "coding_started_at", "coding_started_by"]


@admin.register(CodingEvent)
class CodingEventAdmin(admin.ModelAdmin):
    """The audit trail is append-only, in the admin too."""

    list_display = ["created_at", "study", "actor", "action", "code_name"]
    list_filter = ["action", "study"]
    search_fields = ["code_name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CodebookVersion)
class CodebookVersionAdmin(admin.ModelAdmin):
    list_display = ["study", "number", "label", "created_by", "created_at", "approved_by"]
    list_filter = ["study"]
    readonly_fields = ["snapshot"]


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["study", "kind", "format", "status", "created_by", "created_at"]
    list_filter = ["status", "format"]
    exclude = ["content"]


# Reconciliation and comments ----------------------------------------------------------------


class ConsensusSegmentInline(admin.TabularInline):
    model = ConsensusSegment
    extra = 0
    fields = ["code", "start", "end", "quote", "created_by"]
    readonly_fields = ["code", "start", "end", "quote", "created_by"]


@admin.register(ConsensusDecision)
class ConsensusDecisionAdmin(admin.ModelAdmin):
    """Decisions are made in the consensus view, which records them; the admin only reads."""

    list_display = ["intervention", "action", "decided_by", "decided_at"]
    list_filter = ["action", "intervention__study"]
    readonly_fields = ["uuid", "item_key", "source_segments", "decided_at"]
    inlines = [ConsensusSegmentInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class CommentInline(admin.TabularInline):
    model = Comment
    extra = 0
    fields = ["author", "body", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(CommentThread)
class CommentThreadAdmin(admin.ModelAdmin):
    list_display = ["study", "target_kind", "status", "created_by", "created_at"]
    list_filter = ["status", "target_kind", "study"]
    readonly_fields = ["uuid", "target_kind", "target_uuid", "created_at", "resolved_at"]
    inlines = [CommentInline]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "reason", "created_at", "read_at"]
    list_filter = ["reason"]
    readonly_fields = ["uuid", "created_at"]


@admin.register(MailJob)
class MailJobAdmin(admin.ModelAdmin):
    list_display = ["notification", "status", "error", "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = ["notification", "error", "created_at", "updated_at", "finished_at"]
