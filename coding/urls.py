"""Every URL of the coding app, one module per thing a user does."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("coding.codebook.urls")),
    path("", include("coding.workspace.urls")),
    path("", include("coding.review.urls")),
    path("", include("coding.agreement.urls")),
    path("", include("coding.consensus.urls")),
    path("", include("coding.analysis.urls")),
    path("", include("coding.projects.urls")),
]
