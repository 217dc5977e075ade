from __future__ import annotations

from django.contrib import admin
from import_export.admin import ImportExportModelAdmin

from coding.models import Code, Segment


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
