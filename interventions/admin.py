from __future__ import annotations

from django.contrib import admin
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin

from interventions.models import (
    AttributeDefinition,
    AttributeValue,
    ImportJob,
    Intervention,
    Invitation,
    Membership,
    Section,
    Study,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class AttributeDefinitionInline(admin.TabularInline):
    model = AttributeDefinition
    extra = 0


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "template", "language", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline, AttributeDefinitionInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "study", "role", "created_at"]
    list_filter = ["role", "study"]
    search_fields = ["user__username", "study__name"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["study", "role", "created_by", "created_at", "revoked", "accepted_by"]
    list_filter = ["role", "revoked"]


class InterventionAdminResource(resources.ModelResource):
    """Admin import/export across studies, keyed by study slug and title.

    The owner's own import (with header matching and attribute columns) lives in
    interventions/metadata.py; this one is for the site administrator.
    """

    study = fields.Field(
        attribute="study",
        column_name="study",
        widget=widgets.ForeignKeyWidget(Study, field="slug"),
    )

    class Meta:
        model = Intervention
        fields = ("study", "title", "source", "url", "text")
        import_id_fields = ("study", "title")
        skip_unchanged = True
        report_skipped = True


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0


class AttributeValueInline(admin.TabularInline):
    model = AttributeValue
    extra = 0


@admin.register(Intervention)
class InterventionAdmin(ImportExportModelAdmin):
    list_display = ["title", "study", "source", "updated_at"]
    list_filter = ["study", "source"]
    search_fields = ["title", "source", "text"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    inlines = [SectionInline, AttributeValueInline]

    resource_classes = [InterventionAdminResource]


@admin.register(AttributeDefinition)
class AttributeDefinitionAdmin(admin.ModelAdmin):
    list_display = ["name", "study", "kind", "position"]
    list_filter = ["study", "kind"]


@admin.register(AttributeValue)
class AttributeValueAdmin(ImportExportModelAdmin):
    list_display = ["intervention", "definition", "value"]
    list_filter = ["definition__study", "definition"]
    search_fields = ["value", "intervention__title"]


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["heading", "intervention", "start", "end", "excluded"]
    list_filter = ["excluded"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["filename", "study", "status", "created_by", "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = ["uuid", "table", "summary", "error"]
