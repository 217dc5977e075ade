"""The job base: a job's steps, a finished job left alone, the sweep, one import graph."""

from __future__ import annotations

import ast
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from coding.models import AgreementRun, Comment, CommentThread, ExportJob, MailJob, Notification
from interventions.models import ImportJob
from tests.conftest import Cast, aged
from veerkracht import jobs

STOPPED = (
    "The worker stopped before the work was finished, several times; nothing was saved. Tell "
    "the administrator."
)


def export_job(cast: Cast, status: str = "queued") -> ExportJob:
    return ExportJob.objects.create(
        study=cast.study, created_by=cast.owner, format="json", status=status
    )


def test_a_job_begins_finishes_and_keeps_its_result(cast: Cast) -> None:
    job = export_job(cast)

    begun = jobs.job_begin(ExportJob.objects.select_related("study"), job.pk, progress=10)

    assert begun is not None
    assert (begun.status, begun.progress, begun.study) == ("running", 10, cast.study)
    assert jobs.job_finish(ExportJob, job.pk, filename="gezin.json", content=b"{}")
    job.refresh_from_db()
    assert (job.status, job.progress, job.filename, job.error) == ("done", 100, "gezin.json", "")
    assert job.finished_at is not None


def test_a_finished_job_is_never_changed_again(cast: Cast) -> None:
    for status in ("done", "failed"):
        job = export_job(cast, status)
        before = (job.status, job.error, job.finished_at, job.updated_at)

        assert jobs.job_begin(ExportJob.objects.all(), job.pk) is None
        assert not jobs.job_finish(ExportJob, job.pk, filename="x.json")
        assert not jobs.job_fail(ExportJob, job.pk, "too late")

        job.refresh_from_db()
        assert (job.status, job.error, job.finished_at, job.updated_at) == before
        assert job.filename == ""


def test_a_running_job_whose_worker_stopped_is_taken_over_by_a_redelivered_task(
    cast: Cast, stale_after: int
) -> None:
    job = export_job(cast, "running")
    aged(job, stale_after + 1)

    again = jobs.job_begin(ExportJob.objects.all(), job.pk)

    assert again is not None
    assert (again.status, again.restarts) == ("running", 1)
    assert again.updated_at > job.updated_at


def test_a_second_delivery_leaves_a_job_whose_worker_lives_to_that_worker(
    cast: Cast, stale_after: int
) -> None:
    job = export_job(cast, "running")
    aged(job, stale_after - 5)

    assert jobs.job_begin(ExportJob.objects.all(), job.pk) is None

    job.refresh_from_db()
    assert (job.status, job.restarts) == ("running", 0)


def test_a_job_that_stopped_its_worker_too_often_is_failed_with_a_message(
    cast: Cast, stale_after: int
) -> None:
    job = export_job(cast, "running")
    ExportJob.objects.filter(pk=job.pk).update(restarts=jobs.MAX_RESTARTS)
    aged(job, stale_after + 1)

    assert jobs.job_begin(ExportJob.objects.all(), job.pk) is None

    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", STOPPED)


def test_a_job_that_is_gone_is_not_begun(db: Any) -> None:
    assert jobs.job_begin(ExportJob.objects.all(), 404) is None
    assert not jobs.job_fail(ExportJob, 404, "gone")


def test_a_failed_job_keeps_a_message_no_longer_than_the_limit(cast: Cast) -> None:
    job = export_job(cast, "running")

    assert jobs.job_fail(ExportJob, job.pk, "x" * 5000)

    job.refresh_from_db()
    assert job.status == "failed"
    assert len(job.error) == jobs.ERROR_MAX_LENGTH


# The sweep ----------------------------------------------------------------------------------


def test_a_job_that_is_fine_costs_the_status_page_no_query(
    cast: Cast, stale_after: int, django_assert_num_queries: Any
) -> None:
    running = export_job(cast, "running")
    aged(running, stale_after - 5)
    done = export_job(cast, "done")
    aged(done, stale_after * 10)
    sent = export_job(cast)
    ExportJob.objects.filter(pk=sent.pk).update(sent_at=timezone.now())
    aged(sent, 3600)

    with django_assert_num_queries(0):
        for job in (running, done, sent):
            jobs.job_revive(job)

    assert (running.status, done.status, sent.status) == ("running", "done", "queued")


def test_a_job_whose_worker_stopped_is_queued_again_and_finished_when_its_status_is_shown(
    cast: Cast, stale_after: int
) -> None:
    job = export_job(cast, "running")
    aged(job, stale_after + 1)

    jobs.job_revive(job)  # the task runs in-process here, as without a broker

    assert (job.status, job.restarts, job.error) == ("done", 1, "")
    assert job.filename.endswith(".json")


@pytest.mark.usefixtures("not_eager")
def test_the_command_sends_waiting_jobs_and_restarts_jobs_of_every_kind(
    cast: Cast, stale_after: int
) -> None:
    comment = Comment.objects.create(
        thread=CommentThread.objects.create(
            study=cast.study, target_kind="intervention", target_uuid=cast.intervention.uuid
        ),
        author=cast.owner,
        body="@bob kijk",
    )
    unsent = [
        export_job(cast),
        AgreementRun.objects.create(study=cast.study, created_by=cast.owner, status="queued"),
        MailJob.objects.create(
            notification=Notification.objects.create(
                user=cast.coder_b, comment=comment, reason="mention"
            )
        ),
    ]
    lost = export_job(cast)
    ExportJob.objects.filter(pk=lost.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    stopped = [
        export_job(cast, "running"),
        ImportJob.objects.create(
            study=cast.study, created_by=cast.owner, filename="x.csv", status="running"
        ),
    ]
    given_up = export_job(cast, "running")
    ExportJob.objects.filter(pk=given_up.pk).update(restarts=jobs.MAX_RESTARTS)
    for job in [*unsent, *stopped, given_up]:
        aged(job, stale_after + 1)
    just_sent = export_job(cast)
    ExportJob.objects.filter(pk=just_sent.pk).update(sent_at=timezone.now())
    alive = export_job(cast, "running")
    previewed = ImportJob.objects.create(
        study=cast.study, created_by=cast.owner, filename="y.csv", status="preview"
    )
    aged(previewed, stale_after * 10)
    untouched = [(job, job.status, job.updated_at) for job in (just_sent, alive, previewed)]
    out = StringIO()
    sent: list[tuple[str, int]] = []

    def record(name: str, args: tuple[int]) -> mock.Mock:
        sent.append((name, args[0]))
        return mock.Mock()

    with (
        mock.patch.object(jobs.celery_app, "signature", side_effect=record),
    ):
        call_command("sweep_jobs", stdout=out)

    assert sorted(sent) == sorted(
        [
            ("coding.run_export", unsent[0].pk),
            ("coding.run_agreement", unsent[1].pk),
            ("coding.send_comment_mail", unsent[2].pk),
            ("coding.run_export", lost.pk),
            ("coding.run_export", stopped[0].pk),
            ("interventions.apply_import", stopped[1].pk),
        ]
    )
    assert out.getvalue().splitlines()[-1] == "6 sent, 2 restarted, 1 failed."
    for job in [*unsent, *stopped, lost]:
        job.refresh_from_db()
        assert job.status == "queued", type(job).__name__
        assert job.sent_at is not None
    assert [j.restarts for j in stopped] == [1, 1]
    given_up.refresh_from_db()
    assert (given_up.status, given_up.error) == ("failed", STOPPED)
    for job, status, updated_at in untouched:
        job.refresh_from_db()
        assert (job.status, job.updated_at) == (status, updated_at)


@pytest.mark.usefixtures("not_eager")
def test_a_second_sweep_does_not_send_a_job_the_first_just_sent(
    cast: Cast, stale_after: int
) -> None:
    job = export_job(cast)
    aged(job, stale_after + 1)

    with (
        mock.patch.object(jobs.celery_app, "signature") as signature,
    ):
        first, second = jobs.sweep(), jobs.sweep()

    assert (first.sent, second.sent) == (1, 0)
    signature.assert_called_once_with("coding.run_export", args=(job.pk,))


def test_a_job_the_broker_refused_is_tried_again_only_after_a_pause(
    cast: Cast, dead_broker: None
) -> None:
    job = export_job(cast)
    aged(job, 60)

    first = jobs.sweep()
    second = jobs.sweep()

    assert (first.sent, second.sent) == (0, 0)
    job.refresh_from_db()
    assert (job.status, job.sent_at) == ("queued", None)
    assert job.updated_at > timezone.now() - timedelta(seconds=jobs.SEND_RETRY_SECONDS)


# Sending ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("dead_broker")
def test_a_job_whose_broker_is_down_waits_unsent_and_the_request_goes_on(
    cast: Cast, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    job = export_job(cast)

    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_enqueue("coding.run_export", job)

    job.refresh_from_db()
    assert (job.status, job.sent_at, job.error) == ("queued", None, "")
    assert job.waits_for_broker
    (record,) = [r for r in caplog.records if r.name == "veerkracht.jobs"]
    assert "Could not send coding.run_export" in record.getMessage()
    assert record.exc_info is None


@pytest.mark.usefixtures("not_eager")
def test_a_job_sent_to_the_broker_records_when(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    job = export_job(cast)

    with (
        mock.patch.object(jobs.celery_app, "signature") as signature,
        django_capture_on_commit_callbacks(execute=True),
    ):
        jobs.job_enqueue("coding.run_export", job)

    signature.return_value.delay.assert_called_once_with()
    job.refresh_from_db()
    assert job.sent_at is not None
    assert not job.waits_for_broker


def test_a_task_is_sent_by_name_only_after_the_commit(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    job = export_job(cast)

    with mock.patch.object(jobs.celery_app, "signature") as signature:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            jobs.job_enqueue("coding.run_export", job)
        signature.assert_not_called()
        (send,) = callbacks
        send()

    signature.assert_called_once_with("coding.run_export", args=(job.pk,))
    signature.return_value.delay.assert_called_once_with()


# Imports ------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("veerkracht", "coding", "interventions")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Our modules that module `name` imports anywhere in it, in a function too (its own
    packages aside: they are being imported already when it runs)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
            module = node.module if not node.level else ".".join(filter(None, [base, node.module]))
            if module:
                names.add(module)
                names.update(f"{module}.{alias.name}" for alias in node.names)
    found = set()
    for imported in names:
        while imported and imported not in modules:
            imported = imported.rpartition(".")[0]
        if imported and imported != name and not name.startswith(f"{imported}."):
            found.add(imported)
    return found


def test_no_module_imports_itself_through_other_modules() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    circles = []
    for start in graph:
        # Every module reachable from `start`; a way back to `start` is a circle.
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(graph[name])
        if start in seen:
            circles.append(start)
    assert circles == []


def test_one_model_with_two_tasks_sends_each_job_to_its_own() -> None:
    """Codebook exports and project exports are both ExportJob rows: each kind has its task."""
    from coding.models import ExportJob
    from veerkracht.jobs import JOB_TASKS, _task_of

    assert JOB_TASKS[(ExportJob, None)] == "coding.run_export"
    assert JOB_TASKS[(ExportJob, "project")] == "coding.run_project_export"
    assert _task_of(ExportJob(kind="codebook", format="json")) == "coding.run_export"
    assert _task_of(ExportJob(kind="project", format="qdpx")) == "coding.run_project_export"
