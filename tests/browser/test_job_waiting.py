"""A job started while the task queue is down: the page says it waits for a worker, and the
run completes by itself, without a reload, once the queue is back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from coding.agreement.assignments import assignment_create
from coding.codebook import services
from coding.models import AgreementRun, Segment
from tests.browser.conftest import login, screenshot
from tests.conftest import Cast, _reconnect
from veerkracht.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def coded(cast: Cast) -> None:
    theme = services.code_create(study=cast.study, actor=cast.owner, name="Sociaal")
    doelen = services.code_create(study=cast.study, actor=cast.owner, name="Doelen", parent=theme)
    text = cast.intervention
    for coder in (cast.coder_a, cast.coder_b):
        assignment_create(
            study=cast.study, actor=cast.owner, coder=coder, interventions=[text], method="all"
        )
        Segment.objects.create(
            intervention=text, coder=coder, code=doelen, start=0, end=5, quote=text.text[:5]
        )


@pytest.mark.usefixtures("coded", "dead_broker")
def test_a_run_started_while_the_queue_is_down_waits_and_then_completes(
    page: Page, live_server: Any, cast: Cast
) -> None:
    login(page, live_server, "alice", "wachtwoord-123")
    page.goto(f"{live_server.url}{reverse('agreement', args=[cast.study.slug])}")
    page.get_by_label("bob", exact=True).check()
    page.get_by_label("carol", exact=True).check()

    with page.expect_navigation():
        page.get_by_role("button", name="Start the run").click()

    run = AgreementRun.objects.get(study=cast.study)
    status = page.locator(f"#run-status-{run.uuid}")
    expect(status).to_contain_text("Waiting for a worker…")
    expect(status).to_contain_text("The task queue cannot be reached right now")
    screenshot(page, "job-waiting-for-worker")
    assert (run.status, run.sent_at) == ("queued", None)

    # The queue is back (here: tasks run in-process again); the page, still polling, sends the
    # run once the pause between two attempts has passed.
    celery_app.conf.task_always_eager, celery_app.conf.broker_url = True, "memory://"
    _reconnect()
    AgreementRun.objects.filter(pk=run.pk).update(updated_at=timezone.now() - timedelta(seconds=20))

    expect(status.get_by_role("link", name="Open the report")).to_be_visible(timeout=15_000)
    expect(status).not_to_contain_text("Waiting for a worker")
    screenshot(page, "job-done-after-the-queue-came-back")
    run.refresh_from_db()
    assert run.status == "done"
    assert run.result["coders"] == ["bob", "carol"]
