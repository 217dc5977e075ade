"""Fail closed: DEBUG off by default, no serving with the development key, a documented
production configuration that `check --deploy` passes, the headers every page carries, and a
403 logged as one line."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import Cast

ROOT = Path(__file__).resolve().parents[2]
REFUSAL = "Veerkracht does not serve with DEBUG off and the built-in development SECRET_KEY"
A_KEY = "k3y-0f-7h1s-t3st-" + "x9Q2vL7pR4mZ8cW1nB6tY3hJ5kD0fG" * 2
# README, "In production": what a deployment behind an HTTPS proxy sets.
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": A_KEY,
    "ALLOWED_HOSTS": "veerkracht.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://veerkracht.example.org",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "TRUSTED_PROXY_COUNT": "1",
}


def run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run with the project's settings (not the test settings) and only the variables given."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
    for name in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"):
        clean.pop(name, None)
    clean |= {"DJANGO_SETTINGS_MODULE": "veerkracht.settings", **env}
    return subprocess.run(
        args, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=timeout, check=False
    )


def python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-c", code], env)


def test_debug_is_off_unless_asked_for() -> None:
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"

    assert python(code, {}).stdout.strip() == "False"
    assert python(code, {"DEBUG": "1"}).stdout.strip() == "True"


@pytest.mark.parametrize("entry", ["veerkracht.wsgi", "veerkracht.asgi"])
def test_the_app_refuses_to_start_with_debug_off_and_the_development_key(entry: str) -> None:
    refused = python(f"import {entry}", {"DEBUG": "0"})
    with_key = python(f"import {entry}", {"DEBUG": "0", "SECRET_KEY": A_KEY})
    debugging = python(f"import {entry}", {"DEBUG": "1"})

    assert refused.returncode != 0
    assert REFUSAL in refused.stderr
    assert (with_key.returncode, debugging.returncode) == (0, 0), with_key.stderr + debugging.stderr


def test_gunicorn_does_not_serve_with_the_development_key() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))

    started = run(
        [gunicorn, "veerkracht.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        {"DEBUG": "0"},
    )

    assert started.returncode != 0
    assert REFUSAL in started.stderr


def test_check_deploy_passes_with_the_documented_production_settings() -> None:
    checked = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues" in checked.stdout


def test_check_deploy_warns_without_https_settings() -> None:
    bare = {"DEBUG": "0", "SECRET_KEY": A_KEY}

    checked = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], bare
    )

    assert checked.returncode != 0
    output = checked.stdout + checked.stderr
    assert "security.W004" in output  # HSTS
    assert "security.W008" in output  # SSL redirect


def test_the_documented_proxy_header_reaches_django() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.SECURE_PROXY_SSL_HEADER, settings.SESSION_COOKIE_SECURE, "
        "settings.CSRF_COOKIE_SECURE, settings.TRUSTED_PROXY_COUNT)"
    )

    shown = python(code, PRODUCTION).stdout.strip()

    assert shown == "('HTTP_X_FORWARDED_PROTO', 'https') True True 1"


# Headers ---------------------------------------------------------------------------------------


def test_every_page_carries_a_csp_without_inline_script_and_a_permissions_policy(
    cast: Cast,
) -> None:
    client = Client()
    login = client.get(reverse("login"))
    client.force_login(cast.owner)
    study = client.get(reverse("study_detail", args=[cast.study.slug]))

    for response in (login, study):
        csp = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["default-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in directives["script-src"] + directives["style-src"]
        assert "camera=()" in response["Permissions-Policy"]
        assert "geolocation=()" in response["Permissions-Policy"]


TEMPLATES = ROOT / "templates"


def test_no_template_outside_the_workspace_has_inline_script_or_handlers() -> None:
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        if "workspace" in path.parts:
            continue  # being rewritten without inline code elsewhere
        html = path.read_text(encoding="utf-8")
        for marker in ("<script>", " onclick=", " onchange=", " onsubmit=", " onfocus=",
                       " oninput=", " onload=", "hx-on", "javascript:"):  # fmt: skip
            if marker in html:
                offenders.append(f"{path.relative_to(ROOT)}: {marker.strip()}")
        if "<script" in html and "<script src=" not in html.replace('type="module" ', ""):
            offenders.append(f"{path.relative_to(ROOT)}: <script> without src")
    assert offenders == []


# The log -----------------------------------------------------------------------------------------


def test_a_refused_request_is_logged_on_one_line(
    cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    client.force_login(cast.coder_a)

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("agreement", args=[cast.study.slug]))

    assert response.status_code == 403
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == f"Forbidden (Permission denied): /s/{cast.study.slug}/agreement/"
    assert record.exc_info is None
    formatted = logging.Formatter().format(record)
    assert "Traceback" not in formatted
    assert len(formatted.splitlines()) == 1


def test_a_server_error_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    from veerkracht.logfilters import ForbiddenOnOneLine

    try:
        raise ZeroDivisionError
    except ZeroDivisionError:
        record = logging.getLogger("django.request").makeRecord(
            "django.request", logging.ERROR, __file__, 1, "boom", (), sys.exc_info(),
            extra={"status_code": 500},
        )  # fmt: skip

    assert ForbiddenOnOneLine().filter(record)
    assert record.exc_info is not None
