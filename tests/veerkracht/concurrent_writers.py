"""16 coders adding highlights at once through the apply view, with the real settings.

Run as ``python -m tests.veerkracht.concurrent_writers WRITERS PER_WRITER`` with SQLITE_PATH (a
file) or DATABASE_URL (an empty database) set; it migrates that database, makes a study with
one text and WRITERS coders, then each coder posts PER_WRITER highlights from its own thread
and its own connection, all starting together, and prints one line of JSON: the status of every
response, how many segments and events were stored, and SQLite's journal mode.

A separate process because pytest runs the suite on `settings_test` (SQLite in memory); this
must run on `veerkracht.settings` exactly as a deployment does.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ["DJANGO_SETTINGS_MODULE"] = "veerkracht.settings"
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "CRITICAL")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

WORD = "woord"


def main(writers: int, per_writer: int) -> dict[str, Any]:
    from django.contrib.auth.models import User

    from coding.codebook.services import code_create
    from coding.models import CodingEvent, Segment
    from interventions.models import Intervention, Membership, Role, Study

    call_command("migrate", verbosity=0)
    owner = User.objects.create_user("eigenaar")
    study = Study.objects.create(name="Gelijktijdig", slug="gelijktijdig")
    Membership.objects.create(study=study, user=owner, role=Role.OWNER)
    code = code_create(study=study, actor=owner, name="Sociale hulpbronnen")
    words = [f"{WORD}{n:04d}" for n in range(writers * per_writer)]
    text = " ".join(words)
    intervention = Intervention.objects.create(study=study, title="Een tekst", text=text)
    coders = []
    for n in range(writers):
        coder = User.objects.create_user(f"codeur{n:02d}")
        Membership.objects.create(study=study, user=coder, role=Role.CODER)
        coders.append(coder)
    url = reverse("segments_apply", args=[study.slug, intervention.uuid])
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(writers)

    def write(index: int, coder: Any) -> None:
        client = Client(raise_request_exception=False)
        client.force_login(coder)
        mine = words[index * per_writer : (index + 1) * per_writer]
        try:
            barrier.wait(timeout=60)
            for word in mine:
                start = text.index(word)
                response = client.post(
                    url,
                    {"start": start, "end": start + len(word), "quote": word, "codes": code.uuid},
                    HTTP_HX_REQUEST="true",
                )
                with lock:
                    statuses[response.status_code] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n, coder)) for n, coder in enumerate(coders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal = ""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
    return {
        "vendor": connection.vendor,
        "journal_mode": journal,
        "transaction_mode": connection.settings_dict["OPTIONS"].get("transaction_mode"),
        "sent": writers * per_writer,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "stored": Segment.objects.filter(intervention=intervention).count(),
        "events": CodingEvent.objects.filter(action="segment_create").count(),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
