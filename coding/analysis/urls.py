from __future__ import annotations

from django.urls import path

from coding.analysis import views

urlpatterns = [
    path("s/<slug:slug>/report/", views.code_report, name="code_report"),
    path(
        "s/<slug:slug>/report/export.<str:fmt>",
        views.code_report_export,
        name="code_report_export",
    ),
    path("s/<slug:slug>/analysis/", views.analysis_tables, name="analysis_tables"),
    path("s/<slug:slug>/analysis/export.<str:fmt>", views.analysis_export, name="analysis_export"),
    path("s/<slug:slug>/analysis/figure.<str:fmt>", views.analysis_figure, name="analysis_figure"),
    path("s/<slug:slug>/analysis/pairs/", views.analysis_pairs, name="analysis_pairs"),
    path(
        "s/<slug:slug>/analysis/snapshots/",
        views.analysis_snapshots,
        name="analysis_snapshots",
    ),
    path(
        "s/<slug:slug>/analysis/snapshots/save/",
        views.analysis_snapshot_save,
        name="analysis_snapshot_save",
    ),
    path(
        "s/<slug:slug>/analysis/snapshots/<uuid:uuid>/",
        views.analysis_snapshot,
        name="analysis_snapshot",
    ),
    path(
        "s/<slug:slug>/analysis/snapshots/<uuid:uuid>/file.<str:fmt>",
        views.analysis_snapshot_file,
        name="analysis_snapshot_file",
    ),
    path("s/<slug:slug>/search/", views.analysis_search, name="analysis_search"),
    path("s/<slug:slug>/search/code/", views.analysis_autocode, name="analysis_autocode"),
    path(
        "s/<slug:slug>/search/undo/",
        views.analysis_autocode_undo,
        name="analysis_autocode_undo",
    ),
]
