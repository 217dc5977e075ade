from __future__ import annotations

from django.urls import path

from interventions import views

urlpatterns = [
    path("", views.home, name="home"),
    path("studies/new/", views.study_create, name="study_create"),
    path("invite/<uuid:token>/", views.invitation_accept, name="invitation_accept"),
    path("s/<slug:slug>/", views.study_detail, name="study_detail"),
    path("s/<slug:slug>/edit/", views.study_edit, name="study_edit"),
    path("s/<slug:slug>/members/", views.members, name="members"),
    path(
        "s/<slug:slug>/members/<int:membership_id>/role/",
        views.member_set_role,
        name="member_set_role",
    ),
    path(
        "s/<slug:slug>/members/<int:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path("s/<slug:slug>/invitations/", views.invitation_create, name="invitation_create"),
    path(
        "s/<slug:slug>/invitations/<uuid:token>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("s/<slug:slug>/interventions/", views.intervention_list, name="intervention_list"),
    path("s/<slug:slug>/interventions/new/", views.intervention_create, name="intervention_create"),
    path(
        "s/<slug:slug>/interventions/upload/", views.intervention_upload, name="intervention_upload"
    ),
    path(
        "s/<slug:slug>/interventions/upload/<uuid:job>/",
        views.intervention_upload_status,
        name="intervention_upload_status",
    ),
    path("s/<slug:slug>/i/<uuid:uuid>/", views.intervention_detail, name="intervention_detail"),
    path("s/<slug:slug>/i/<uuid:uuid>/edit/", views.intervention_edit, name="intervention_edit"),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/new-version/",
        views.intervention_new_version,
        name="intervention_new_version",
    ),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/delete/",
        views.intervention_delete,
        name="intervention_delete",
    ),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/attributes/",
        views.intervention_attributes,
        name="intervention_attributes",
    ),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/sections/detect/",
        views.sections_detect,
        name="sections_detect",
    ),
    path("s/<slug:slug>/i/<uuid:uuid>/sections/add/", views.section_add, name="section_add"),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/sections/<int:section_id>/toggle/",
        views.section_toggle,
        name="section_toggle",
    ),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/sections/<int:section_id>/delete/",
        views.section_delete,
        name="section_delete",
    ),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/sections/<int:section_id>/merge/",
        views.section_merge,
        name="section_merge",
    ),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/sections/<int:section_id>/split/",
        views.section_split,
        name="section_split",
    ),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/sections/<int:section_id>/rename/",
        views.section_rename,
        name="section_rename",
    ),
    path("s/<slug:slug>/attributes/", views.attributes, name="attributes"),
    path(
        "s/<slug:slug>/attributes/<int:definition_id>/delete/",
        views.attribute_delete,
        name="attribute_delete",
    ),
    path("s/<slug:slug>/import/", views.metadata_import, name="metadata_import"),
    path("s/<slug:slug>/import/<uuid:job>/", views.metadata_preview, name="metadata_preview"),
    path(
        "s/<slug:slug>/import/<uuid:job>/confirm/",
        views.metadata_confirm,
        name="metadata_confirm",
    ),
    path(
        "s/<slug:slug>/import/<uuid:job>/status/",
        views.metadata_status,
        name="metadata_status",
    ),
    path("s/<slug:slug>/export.<str:fmt>", views.metadata_export, name="metadata_export"),
]
