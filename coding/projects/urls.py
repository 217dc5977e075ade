from __future__ import annotations

from django.urls import path

from coding.projects import views

urlpatterns = [
    path("s/<slug:slug>/project/", views.project_page, name="project_page"),
    path("s/<slug:slug>/project/import/", views.project_upload, name="project_upload"),
    path(
        "s/<slug:slug>/project/import/<uuid:job>/",
        views.project_preview,
        name="project_preview",
    ),
    path(
        "s/<slug:slug>/project/import/<uuid:job>/confirm/",
        views.project_confirm,
        name="project_confirm",
    ),
    path(
        "s/<slug:slug>/project/import/<uuid:job>/status/",
        views.project_import_status,
        name="project_import_status",
    ),
    path("s/<slug:slug>/project/export/", views.project_export_start, name="project_export"),
    path(
        "s/<slug:slug>/project/export/<uuid:uuid>/",
        views.project_export_status,
        name="project_export_status",
    ),
    path(
        "s/<slug:slug>/project/export/<uuid:uuid>/download/",
        views.project_export_download,
        name="project_export_download",
    ),
]
