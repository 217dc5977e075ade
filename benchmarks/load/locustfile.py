"""Fifty coders at work on gunicorn + PostgreSQL: the load test of issue 15.

Run through `benchmarks/load/run.sh` (which builds the study, starts gunicorn and checks the
segments afterwards), or by hand:

    locust -f benchmarks/load/locustfile.py --headless -u 50 -r 5 -t 10m \\
        --host http://127.0.0.1:8010 --csv /tmp/load

Each simulated coder logs in through the login form, then, with a pause of 1 to 3 seconds
between steps, mostly codes: it opens a text's workspace and applies one code to a word no
other step of its own coded before (an htmx POST, as the browser sends it); now and then it
opens the study page or the progress page. Every code it was told it applied is recorded, and
at the end written to LOAD_APPLIED (JSON), with those sent but unanswered when the test
stopped, so `check_segments.py` can compare them with the database: no segment lost, none
duplicated, none stored that was not asked for.
"""

from __future__ import annotations

import json
import os
import random
import threading
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ.get("LOAD_PLAN", "benchmarks/load/plan.json")).read_text())
APPLIED_PATH = Path(os.environ.get("LOAD_APPLIED", "/tmp/veerkracht-load-applied.json"))

_lock = threading.Lock()
_next_coder = iter(PLAN["coders"])
# coder -> [[text uuid, code uuid, start, end], ...] as the server confirmed them, and those
# sent but not answered yet (cut off if the test stops before the answer is read)
APPLIED: dict[str, list[list[Any]]] = {}
PENDING: dict[str, list[list[Any]]] = {}


class Coder(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        with _lock:
            self.username = next(_next_coder)
        APPLIED.setdefault(self.username, [])
        PENDING.setdefault(self.username, [])
        self.rng = random.Random(self.username)
        # Each coder codes the words of every text in its own random order, each word once.
        self.todo = [(text["uuid"], *span) for text in PLAN["texts"] for span in text["spans"]]
        self.rng.shuffle(self.todo)
        self.slug = PLAN["study"]
        self.client.get("/accounts/login/", name="login page")
        response = self.client.post(
            "/accounts/login/",
            {"username": self.username, "password": PLAN["password"]},
            headers={"X-CSRFToken": self.client.cookies.get("csrftoken", "")},
            name="log in",
        )
        if "/accounts/login/" in response.url:
            raise RuntimeError(f"{self.username} could not log in")

    def _headers(self) -> dict[str, str]:
        return {"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "HX-Request": "true"}

    @task(6)
    def apply_a_code(self) -> None:
        text, start, end, quote = self.todo.pop()
        code = self.rng.choice(PLAN["codes"])
        self.client.get(f"/s/{self.slug}/i/{text}/code/", name="workspace page")
        sent = [text, code, start, end]
        PENDING[self.username].append(sent)
        with self.client.post(
            f"/s/{self.slug}/i/{text}/segments/",
            {"start": start, "end": end, "quote": quote, "codes": [code]},
            headers=self._headers(),
            name="apply a code",
            catch_response=True,
        ) as response:
            PENDING[self.username].remove(sent)
            # The workspace's own signal that the code is stored (the htmx event it listens to).
            applied = "codeApplied" in response.headers.get("HX-Trigger-After-Swap", "")
            if response.status_code == 200 and applied:
                APPLIED[self.username].append(sent)
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(1)
    def study_page(self) -> None:
        self.client.get(f"/s/{self.slug}/", name="study page")

    @task(1)
    def progress_page(self) -> None:
        self.client.get(f"/s/{self.slug}/progress/", name="progress page")


@events.test_stop.add_listener
def write_applied(**_kwargs: Any) -> None:
    APPLIED_PATH.write_text(json.dumps({"applied": APPLIED, "pending": PENDING}), encoding="utf-8")
