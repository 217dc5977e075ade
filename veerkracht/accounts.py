"""Logging in: throttled failures (django-axes), and password reset only where mail works.

django-axes counts failed logins per user name and per address (settings.AXES_*); these are
the two hooks it calls, and the password reset views that say so honestly when the server
cannot send mail.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods


def mail_configured() -> bool:
    """Whether the deployment chose a mail backend (EMAIL_BACKEND): never required."""
    # Documented (django.conf.settings.is_overridden) but missing from django-stubs.
    return bool(settings.is_overridden("EMAIL_BACKEND"))  # type: ignore[misc]


def client_address(request: HttpRequest) -> str | None:
    """The address a login comes from, for throttling per address.

    Behind TRUSTED_PROXY_COUNT proxies, the address the outermost one saw: each proxy appends
    the address it was called from to X-Forwarded-For, so the entries a client wrote itself
    stand left of those and are never read. Without proxies, REMOTE_ADDR.
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    address = request.META.get("REMOTE_ADDR")
    return str(address) if address else None


def locked_out(
    request: HttpRequest, response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """The login page with a message, 429: too many failed logins for this name or address.

    It says the same whether the user name exists, and checks no password.
    """
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = ngettext(
        "Too many failed logins for this user name or from this address. Try again in "
        "%(minutes)d minute.",
        "Too many failed logins for this user name or from this address. Try again in "
        "%(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    form = AuthenticationForm(request)
    context = {"form": form, "locked_message": message, "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=429)


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponseBase:
    """Django's reset by mail where the server can send mail; otherwise who to ask."""
    if not mail_configured():
        return render(request, "registration/password_reset_unavailable.html")
    return auth_views.PasswordResetView.as_view()(request)


@require_http_methods(["GET"])
def password_reset_done(request: HttpRequest) -> HttpResponseBase:
    """ "Check your mail", only where a mail can have been sent."""
    if not mail_configured():
        return render(request, "registration/password_reset_unavailable.html")
    return auth_views.PasswordResetDoneView.as_view()(request)
