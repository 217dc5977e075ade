"""The ASGI entry point; it refuses to start with DEBUG off and the development key."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veerkracht.settings")
application = get_asgi_application()

from veerkracht.checks import refuse_to_serve_insecurely  # noqa: E402  (needs the settings)

refuse_to_serve_insecurely()
