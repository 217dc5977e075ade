from __future__ import annotations

from django.urls import path

from coding.codebook import views

urlpatterns = [
    path("s/<slug:slug>/codebook/", views.codebook, name="codebook"),
    path("s/<slug:slug>/codebook/codes/add/", views.code_add, name="code_add"),
    path("s/<slug:slug>/codebook/codes/<uuid:uuid>/", views.code_detail, name="code_detail"),
    path("s/<slug:slug>/codebook/codes/<uuid:uuid>/edit/", views.code_edit, name="code_edit"),
    path(
        "s/<slug:slug>/codebook/codes/<uuid:uuid>/move-step/",
        views.code_move_step,
        name="code_move_step",
    ),
    path("s/<slug:slug>/codebook/codes/<uuid:uuid>/move/", views.code_move, name="code_move"),
    path("s/<slug:slug>/codebook/codes/<uuid:uuid>/merge/", views.code_merge, name="code_merge"),
    path("s/<slug:slug>/codebook/codes/<uuid:uuid>/delete/", views.code_delete, name="code_delete"),
    path("s/<slug:slug>/codebook/undo/", views.codebook_undo, name="codebook_undo"),
    path("s/<slug:slug>/codebook/coding-started/", views.coding_started, name="coding_started"),
    path("s/<slug:slug>/codebook/import/", views.codebook_import, name="codebook_import"),
    path(
        "s/<slug:slug>/codebook/import/<uuid:uuid>/",
        views.codebook_import_status,
        name="codebook_import_status",
    ),
    path("s/<slug:slug>/codebook/copy/", views.codebook_copy, name="codebook_copy"),
    path("s/<slug:slug>/codebook/template/", views.codebook_template, name="codebook_template"),
    path("s/<slug:slug>/codebook/history/", views.codebook_history, name="codebook_history"),
    path("s/<slug:slug>/codebook/versions/", views.versions, name="codebook_versions"),
    path("s/<slug:slug>/codebook/versions/new/", views.version_create, name="version_create"),
    path("s/<slug:slug>/codebook/versions/diff/", views.version_diff, name="version_diff"),
    path("s/<slug:slug>/codebook/exports/", views.export_start, name="export_start"),
    path("s/<slug:slug>/codebook/exports/<uuid:uuid>/", views.export_status, name="export_status"),
    path(
        "s/<slug:slug>/codebook/exports/<uuid:uuid>/download/",
        views.export_download,
        name="export_download",
    ),
]
