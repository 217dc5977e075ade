from __future__ import annotations

from django.urls import path

from coding.consensus import views

urlpatterns = [
    path("s/<slug:slug>/consensus/", views.overview, name="consensus"),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/consensus/",
        views.intervention_consensus,
        name="consensus_intervention",
    ),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/consensus/decide/",
        views.decide_item,
        name="consensus_decide",
    ),
    path(
        "s/<slug:slug>/i/<uuid:uuid>/consensus/accept-agreed/",
        views.accept_agreed,
        name="consensus_accept_agreed",
    ),
    path("s/<slug:slug>/i/<uuid:uuid>/consensus/undo/", views.undo_item, name="consensus_undo"),
]
