from __future__ import annotations

from django.urls import path

from coding.review import views

urlpatterns = [
    path("s/<slug:slug>/comments/", views.thread_list, name="comment_threads"),
    path("s/<slug:slug>/comments/start/", views.thread_start, name="comment_thread_start"),
    path("s/<slug:slug>/comments/<uuid:uuid>/", views.thread_detail, name="comment_thread"),
    path("s/<slug:slug>/comments/<uuid:uuid>/reply/", views.thread_reply, name="comment_reply"),
    path(
        "s/<slug:slug>/comments/<uuid:uuid>/resolve/",
        views.thread_resolve,
        name="comment_thread_resolve",
    ),
    path(
        "s/<slug:slug>/comments/<uuid:uuid>/reopen/",
        views.thread_reopen,
        name="comment_thread_reopen",
    ),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("s/<slug:slug>/review/codebook/", views.codebook_review, name="codebook_review"),
    path(
        "s/<slug:slug>/review/codebook/approve/",
        views.codebook_approve,
        name="codebook_review_approve",
    ),
]
