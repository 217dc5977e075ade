"""A big codebook file is imported as a background job: the request answers at once, the page
polls the job, and the import is all or nothing like a small one."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from coding.codebook.imports import runs_as_job
from coding.models import Code, CodebookImportJob, CodingEvent
from tests.conftest import Cast


def big_codebook(codes: int = 5_000, *, clash: bool = False) -> bytes:
    themes = [
        {
            "name": f"Thema {t}",
            "children": [
                {"name": f"Code {t}.{c}", "definition": "Wat de interventie beoogt. " * 4}
                for c in range(codes // 50 - 1)
            ]
            + ([{"name": f"code {t}.0"}] if clash and t == 49 else []),
        }
        for t in range(50)
    ]
    return json.dumps({"codes": themes}).encode()


def post(cast: Cast, data: bytes, name: str = "groot.json") -> Any:
    client = Client()
    client.force_login(cast.owner)
    upload = SimpleUploadedFile(name, data, content_type="application/json")
    return client, client.post(f"/s/{cast.study.slug}/codebook/import/", {"file": upload})


def test_a_5000_code_file_is_imported_by_a_job_the_page_follows(
    cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    data = big_codebook()
    assert runs_as_job(data)
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client, response = post(cast, data)
    assert time.perf_counter() - started < 5
    job = CodebookImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/s/{cast.study.slug}/codebook/import/{job.uuid}/"
    assert not Code.objects.filter(study=cast.study).exists()
    page = client.get(response["Location"]).content.decode()
    assert "Importing groot.json in the background" in page
    assert 'hx-trigger="every 2s"' in page
    for callback in queued:
        callback()  # the worker's turn (tasks run eagerly in tests)
    job.refresh_from_db()
    assert job.status == CodebookImportJob.Status.DONE
    assert job.content is None
    assert Code.objects.filter(study=cast.study).count() == 5_000
    assert CodingEvent.objects.filter(action="codebook_import").count() == 1
    status = client.get(response["Location"], headers={"HX-Request": "true"})
    assert status.status_code == 286  # polling stops
    assert "groot.json is imported: 5000 added, 0 changed, 0 unchanged." in status.content.decode()


def test_a_refused_big_file_fails_its_job_with_the_reason_and_changes_nothing(
    cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client, response = post(cast, big_codebook(4_000, clash=True))
    job = CodebookImportJob.objects.get()
    assert job.status == CodebookImportJob.Status.FAILED
    assert "Two codes under ‘Thema 49’ have the same name" in job.error
    assert not Code.objects.filter(study=cast.study).exists()
    assert not CodingEvent.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "groot.json was not imported; nothing changed:" in page


def test_a_small_file_is_still_imported_in_the_request(cast: Cast) -> None:
    data = json.dumps({"codes": [{"name": "Sociaal"}]}).encode()
    assert not runs_as_job(data)
    _client, response = post(cast, data, "klein.json")
    assert response.status_code == 302
    assert response["Location"] == f"/s/{cast.study.slug}/codebook/"
    assert not CodebookImportJob.objects.exists()
    assert Code.objects.filter(study=cast.study, name="Sociaal").exists()
