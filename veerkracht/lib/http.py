"""Request types for typed views."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request behind @login_required, with django-htmx's details."""

    htmx: HtmxDetails
    user: User
