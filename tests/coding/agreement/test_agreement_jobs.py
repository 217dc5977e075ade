"""Agreement runs as jobs: failed with a message when the work cannot be done, never left
running when the worker is gone."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from coding.agreement.runs import AgreementError
from coding.models import AgreementRun
from coding.tasks import run_agreement
from tests.conftest import Cast, aged

HTMX = {"HTTP_HX_REQUEST": "true"}
PARAMS = {"coders": ["bob", "carol"], "unit": "intervention", "overlap": 0.9, "bootstrap": 0}


def queued(cast: Cast) -> AgreementRun:
    return AgreementRun.objects.create(
        study=cast.study, created_by=cast.owner, params={**PARAMS, "seed": None}
    )


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.usefixtures("eager_retries")
def test_a_run_whose_database_stays_away_fails_after_three_retries(cast: Cast) -> None:
    run = queued(cast)

    with mock.patch(
        "coding.tasks.compute_for_study", side_effect=OperationalError("gone")
    ) as compute:
        result = run_agreement.delay(run.pk)

    assert result.failed()
    assert compute.call_count == 4
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error == "The database could not be reached; nothing was saved. Try again."
    assert run.result == {}


@pytest.mark.usefixtures("eager_retries")
def test_a_run_retried_after_a_database_error_is_computed(cast: Cast) -> None:
    run = queued(cast)
    errors = [OperationalError("deadlock detected")]

    def flaky(*args: Any) -> Any:
        if errors:
            raise errors.pop()
        return {"overall": {}}, []

    with mock.patch("coding.tasks.compute_for_study", side_effect=flaky) as compute:
        result = run_agreement.delay(run.pk)

    assert result.successful()
    assert compute.call_count == 2
    run.refresh_from_db()
    assert (run.status, run.result, run.error) == ("done", {"overall": {}}, "")


def test_a_run_that_hits_an_unexpected_error_fails_with_a_message(cast: Cast) -> None:
    run = queued(cast)

    with (
        mock.patch("coding.tasks.compute_for_study", side_effect=ZeroDivisionError) as compute,
        pytest.raises(ZeroDivisionError),
    ):
        run_agreement.delay(run.pk)

    assert compute.call_count == 1
    run.refresh_from_db()
    assert run.status == "failed"
    assert run.error.startswith("The work stopped on an unexpected error; nothing was saved.")


def test_a_run_refused_on_the_way_fails_with_its_reason(cast: Cast) -> None:
    run = queued(cast)
    refusal = AgreementError("“dave” is not a coder in this study.")

    with mock.patch("coding.tasks.compute_for_study", side_effect=refusal):
        run_agreement.delay(run.pk)

    run.refresh_from_db()
    assert (run.status, run.error) == ("failed", "“dave” is not a coder in this study.")
    assert run.finished_at is not None


def test_a_run_whose_worker_stopped_is_computed_again_when_its_status_is_polled(
    cast: Cast, stale_after: int
) -> None:
    run = queued(cast)
    AgreementRun.objects.filter(pk=run.pk).update(status="running", progress=10)
    aged(run, stale_after + 1)
    url = reverse("agreement_run_status", args=[cast.study.slug, run.uuid])

    # Without a broker the task runs in-process, so the restarted run is computed at once.
    response = client_for(cast.supervisor).get(url, **HTMX)

    assert response.status_code == 286
    assert "Open the report" in response.content.decode()
    run.refresh_from_db()
    assert (run.status, run.restarts, run.error) == ("done", 1, "")
    assert run.result["coders"] == ["bob", "carol"]


@pytest.mark.usefixtures("dead_broker")
def test_a_run_started_while_the_broker_is_down_waits_for_a_worker(cast: Cast) -> None:
    client = client_for(cast.owner)
    form = {"coders": ["bob", "carol"], "unit": "intervention", "overlap": "0.9"}

    response = client.post(reverse("agreement_run_start", args=[cast.study.slug]), form)

    assert response.status_code == 302, response.content.decode()
    run = AgreementRun.objects.get(study=cast.study)
    assert (run.status, run.sent_at, run.error) == ("queued", None, "")
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Waiting for a worker…" in html
    assert "The task queue cannot be reached right now" in html
    status = client.get(reverse("agreement_run_status", args=[cast.study.slug, run.uuid]), **HTMX)
    assert status.status_code == 200
    assert "Waiting for a worker…" in status.content.decode()
