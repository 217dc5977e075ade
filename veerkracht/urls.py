from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from veerkracht import accounts

urlpatterns = [
    path("admin/", admin.site.urls),
    # Before Django's own: these answer "ask the owner" where the server sends no mail.
    path("accounts/password_reset/", accounts.password_reset, name="password_reset"),
    path("accounts/password_reset/done/", accounts.password_reset_done, name="password_reset_done"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("coding.urls")),
    path("", include("interventions.urls")),
]
