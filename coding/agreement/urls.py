from __future__ import annotations

from django.urls import path

from coding.agreement import views

urlpatterns = [
    path("s/<slug:slug>/agreement/", views.runs, name="agreement"),
    path("s/<slug:slug>/agreement/runs/", views.run_start, name="agreement_run_start"),
    path("s/<slug:slug>/agreement/chart.<str:fmt>", views.chart_file, name="agreement_chart_file"),
    path(
        "s/<slug:slug>/agreement/assignments/",
        views.assignments,
        name="agreement_assignments",
    ),
    path(
        "s/<slug:slug>/agreement/assignments/add/",
        views.assignment_add,
        name="agreement_assignment_add",
    ),
    path(
        "s/<slug:slug>/agreement/assignments/remove/",
        views.assignment_remove,
        name="agreement_assignment_remove",
    ),
    path("s/<slug:slug>/agreement/mine/", views.my_assignments, name="agreement_mine"),
    path("s/<slug:slug>/agreement/<uuid:uuid>/", views.report, name="agreement_report"),
    path(
        "s/<slug:slug>/agreement/<uuid:uuid>/status/",
        views.run_status,
        name="agreement_run_status",
    ),
    path(
        "s/<slug:slug>/agreement/<uuid:uuid>/again/",
        views.run_again,
        name="agreement_run_again",
    ),
    path(
        "s/<slug:slug>/agreement/<uuid:uuid>/export.<str:fmt>",
        views.export,
        name="agreement_export",
    ),
    path(
        "s/<slug:slug>/agreement/<uuid:uuid>/method.docx",
        views.method_docx,
        name="agreement_method",
    ),
]
