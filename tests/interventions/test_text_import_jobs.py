"""A big text upload is read by a background job: the request answers at once, the page polls
the job, and the upload is all or nothing like a small one."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from interventions.models import Intervention, TextImportJob
from interventions.textjobs import runs_as_job
from tests.conftest import Cast


def long_pdf(pages: int) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    for page in range(pages):
        for line in range(40):
            pdf.drawString(
                72, 780 - 18 * line, f"Ouders oefenen thuis, pagina {page} regel {line}."
            )
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def upload(cast: Cast, files: dict[str, bytes]) -> tuple[Client, Any]:
    client = Client()
    client.force_login(cast.owner)
    documents = [SimpleUploadedFile(name, data) for name, data in files.items()]
    url = f"/s/{cast.study.slug}/interventions/upload/"
    return client, client.post(url, {"documents": documents, "source": "NJi"})


def test_a_long_pdf_is_read_by_a_job_the_page_follows(
    cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    files = {"Lang programma.pdf": long_pdf(200), "Kort.txt": b"Ouders oefenen thuis."}
    assert runs_as_job(list(files.items()))
    before = Intervention.objects.count()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        client, response = upload(cast, files)
    job = TextImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/s/{cast.study.slug}/interventions/upload/{job.uuid}/"
    assert Intervention.objects.count() == before
    page = client.get(response["Location"]).content.decode()
    assert "Reading the files in the background" in page
    for callback in queued:
        callback()
    job.refresh_from_db()
    assert (job.status, job.archive, job.summary) == ("done", None, {"added": 2, "updated": 0})
    text = Intervention.objects.get(title="Lang programma").text
    assert "pagina 199 regel 30" in text
    done = client.get(response["Location"], headers={"HX-Request": "true"})
    assert done.status_code == 286
    assert "2 added, 0 updated." in done.content.decode()


def test_one_bad_file_in_a_big_upload_fails_the_job_and_adds_nothing(
    cast: Cast, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    before = Intervention.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        client, response = upload(cast, {"Lang.pdf": long_pdf(200), "Kapot.docx": b"PK\x03\x04"})
    job = TextImportJob.objects.get()
    assert job.status == "failed"
    assert "Kapot.docx" in job.error
    assert Intervention.objects.count() == before
    assert "Nothing was added:" in client.get(response["Location"]).content.decode()
