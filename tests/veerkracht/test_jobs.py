"""The job base: a job's steps, a finished job left alone, stale jobs failed, one import graph."""

from __future__ import annotations

import ast
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import kombu.exceptions
import pytest
from django.core.management import call_command
from django.utils import timezone

from coding.models import AgreementRun, Comment, CommentThread, ExportJob, MailJob, Notification
from interventions.models import ImportJob
from tests.conftest import Cast, aged
from veerkracht import jobs

STOPPED = "The worker stopped before the work was finished; nothing was saved. Start it again."


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


def test_a_running_job_is_taken_again_by_a_redelivered_task(cast: Cast) -> None:
    job = export_job(cast, "running")
    aged(job, 600)

    again = jobs.job_begin(ExportJob.objects.all(), job.pk)

    assert again is not None
    assert again.status == "running"
    assert again.updated_at > job.updated_at


def test_a_job_that_is_gone_is_not_begun(db: Any) -> None:
    assert jobs.job_begin(ExportJob.objects.all(), 404) is None
    assert not jobs.job_fail(ExportJob, 404, "gone")


def test_a_failed_job_keeps_a_message_no_longer_than_the_limit(cast: Cast) -> None:
    job = export_job(cast, "running")

    assert jobs.job_fail(ExportJob, job.pk, "x" * 5000)

    job.refresh_from_db()
    assert job.status == "failed"
    assert len(job.error) == jobs.ERROR_MAX_LENGTH


# Stale jobs -----------------------------------------------------------------------------------


def test_a_recent_job_is_not_stale_and_costs_no_query(
    cast: Cast, stale_after: int, django_assert_num_queries: Any
) -> None:
    running = export_job(cast, "running")
    aged(running, stale_after - 5)
    done = export_job(cast, "done")
    aged(done, stale_after * 10)

    with django_assert_num_queries(0):
        assert not jobs.fail_if_stale(running)
        assert not jobs.fail_if_stale(done)

    assert running.status == "running"
    assert done.status == "done"


@pytest.mark.parametrize("status", ["queued", "running"])
def test_a_job_left_past_the_visibility_timeout_and_margin_is_failed_with_a_message(
    cast: Cast, stale_after: int, status: str
) -> None:
    job = export_job(cast, status)
    aged(job, stale_after + 1)

    assert jobs.fail_if_stale(job)

    assert (job.status, job.error) == ("failed", STOPPED)
    assert job.finished_at is not None
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", STOPPED)


def test_a_job_begun_again_meanwhile_is_not_failed(cast: Cast, stale_after: int) -> None:
    job = export_job(cast, "running")
    aged(job, stale_after + 1)
    # The instance is old, but a redelivered task has just begun the job in the database.
    ExportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now())

    assert not jobs.fail_if_stale(job)

    job.refresh_from_db()
    assert job.status == "running"


def test_the_command_fails_the_stale_jobs_of_every_kind(cast: Cast, stale_after: int) -> None:
    comment = Comment.objects.create(
        thread=CommentThread.objects.create(
            study=cast.study, target_kind="intervention", target_uuid=cast.intervention.uuid
        ),
        author=cast.owner,
        body="@bob kijk",
    )
    stale = [
        export_job(cast, "running"),
        AgreementRun.objects.create(study=cast.study, created_by=cast.owner, status="queued"),
        ImportJob.objects.create(
            study=cast.study, created_by=cast.owner, filename="x.csv", status="running"
        ),
        MailJob.objects.create(
            notification=Notification.objects.create(
                user=cast.coder_b, comment=comment, reason="mention"
            )
        ),
    ]
    for job in stale:
        aged(job, stale_after + 1)
    recent = export_job(cast, "running")
    previewed = ImportJob.objects.create(
        study=cast.study, created_by=cast.owner, filename="y.csv", status="preview"
    )
    aged(previewed, stale_after * 10)
    out = StringIO()

    call_command("fail_stale_jobs", stdout=out)

    for job in stale:
        job.refresh_from_db()
        assert (job.status, job.error) == ("failed", STOPPED), type(job).__name__
    recent.refresh_from_db()
    previewed.refresh_from_db()
    assert (recent.status, previewed.status) == ("running", "preview")
    assert out.getvalue().splitlines()[-1] == "4 stale jobs failed."


# Sending ------------------------------------------------------------------------------------


def test_a_job_whose_task_cannot_be_queued_fails_with_a_message(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    job = export_job(cast)
    refused = kombu.exceptions.OperationalError("Connection refused")

    with (
        mock.patch.object(jobs.celery_app, "signature") as signature,
        django_capture_on_commit_callbacks(execute=True),
    ):
        signature.return_value.delay.side_effect = refused
        jobs.job_enqueue("coding.run_export", job)

    signature.assert_called_once_with("coding.run_export", args=(job.pk,))
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == "The task queue could not be reached, so nothing was started. Try again."


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
