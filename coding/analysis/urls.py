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
]
