from __future__ import annotations

from django.urls import path

from coding.workspace import views as workspace

urlpatterns = [
    path("s/<slug:slug>/i/<uuid:uuid>/code/", workspace.workspace, name="workspace"),
    path("s/<slug:slug>/i/<uuid:uuid>/segments/", workspace.segments_apply, name="segments_apply"),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/codes/",
        workspace.workspace_code_create,
        name="workspace_code_create",
    ),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/progress/",
        workspace.workspace_progress,
        name="workspace_progress",
    ),
    path("s/<slug:slug>/segments/<uuid:uuid>/", workspace.segment_detail, name="segment_detail"),
    path(
        "s/<slug:slug>/segments/<uuid:uuid>/bounds/",
        workspace.segment_bounds,
        name="segment_bounds",
    ),
    path("s/<slug:slug>/segments/<uuid:uuid>/code/", workspace.segment_code, name="segment_code"),
    path("s/<slug:slug>/segments/<uuid:uuid>/memo/", workspace.segment_memo, name="segment_memo"),
    path(
        "s/<slug:slug>/segments/<uuid:uuid>/delete/",
        workspace.segment_delete,
        name="segment_delete",
    ),
    path("s/<slug:slug>/progress/", workspace.study_progress, name="study_progress"),
    path("s/<slug:slug>/reveal/", workspace.reveal, name="reveal"),
    path("s/<slug:slug>/reveal/policy/", workspace.reveal_policy, name="reveal_policy"),
]
