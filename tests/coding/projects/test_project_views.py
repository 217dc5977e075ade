"""The project page: upload, preview, confirm as a job; export as a job and download."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from coding.models import ExportJob, ProjectImportJob, Segment
from tests.conftest import Cast

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "qdpx"
HTMX = {"HTTP_HX_REQUEST": "true"}


def owner_client(cast: Cast) -> Client:
    client = Client()
    client.force_login(cast.owner)
    return client


def test_upload_preview_and_confirm_import_the_project_as_a_job(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    client = owner_client(cast)
    upload = SimpleUploadedFile("nvivo.qdpx", (FIXTURES / "nvivo.qdpx").read_bytes())
    response = client.post(reverse("project_upload", args=[cast.study.slug]), {"file": upload})
    job = ProjectImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("project_preview", args=[cast.study.slug, job.uuid])

    page = client.get(response["Location"]).content.decode()
    assert "Coded selections: 7; 4 become segments, 3 are refused" in page
    assert "an empty or reversed selection (5–5)" in page
    assert "Genogram" in page
    assert not Segment.objects.exists()

    refi_carla = "4b8e9f10-aaaa-4bbb-8ccc-000000000001"
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(
            reverse("project_confirm", args=[cast.study.slug, job.uuid]),
            {f"user-{refi_carla}": "carol"},
        )
    assert confirmed.status_code == 302
    job.refresh_from_db()
    assert job.status == "done", job.error
    assert Segment.objects.filter(coder=cast.coder_a).count() == 2
    status = client.get(reverse("project_import_status", args=[cast.study.slug, job.uuid]), **HTMX)
    assert status.status_code == 286
    assert "4 of 7 coded selections imported as segments, 3 refused" in status.content.decode()


def test_a_broken_upload_is_refused_on_the_page(cast: Cast) -> None:
    client = owner_client(cast)
    upload = SimpleUploadedFile("kapot.qdpx", b"no zip at all")
    response = client.post(reverse("project_upload", args=[cast.study.slug]), {"file": upload})
    assert response.status_code == 400
    assert "cannot be opened as ZIP" in response.content.decode()
    assert not ProjectImportJob.objects.exists()


def test_an_oversized_upload_is_refused(cast: Cast, settings: Any) -> None:
    settings.UPLOAD_MAX_BYTES = 500
    client = owner_client(cast)
    upload = SimpleUploadedFile("groot.qdpx", (FIXTURES / "atlasti.qdpx").read_bytes())
    response = client.post(reverse("project_upload", args=[cast.study.slug]), {"file": upload})
    assert response.status_code == 400
    assert "larger than" in response.content.decode()


def test_the_export_button_makes_a_qdpx_to_download(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    client = owner_client(cast)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("project_export", args=[cast.study.slug]), **HTMX)
    job = ExportJob.objects.get(kind="project")
    assert response.status_code == 200
    status = client.get(reverse("project_export_status", args=[cast.study.slug, job.uuid]), **HTMX)
    assert status.status_code == 286
    download = client.get(reverse("project_export_download", args=[cast.study.slug, job.uuid]))
    assert download["Content-Disposition"] == 'attachment; filename="gezin.qdpx"'
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert "project.qde" in names


def test_another_member_cannot_fetch_a_project_export_through_the_codebook_routes(
    cast: Cast,
) -> None:
    job = ExportJob.objects.create(
        study=cast.study,
        created_by=cast.owner,
        kind="project",
        format="qdpx",
        status=ExportJob.Status.DONE,
        filename="gezin.qdpx",
        content=b"PK",
    )
    client = Client()
    client.force_login(cast.coder_a)
    for name in ("export_status", "export_download"):
        assert client.get(reverse(name, args=[cast.study.slug, job.uuid])).status_code == 404


def test_a_blind_owner_is_told_the_export_leaves_other_layers_out(blind_cast: Cast) -> None:
    page = owner_client(blind_cast).get(reverse("project_page", args=[blind_cast.study.slug]))
    assert page.status_code == 200
    assert b'data-testid="export-blind-note"' in page.content


def test_an_owner_who_sees_every_layer_gets_no_blind_note(cast: Cast) -> None:
    page = owner_client(cast).get(reverse("project_page", args=[cast.study.slug]))
    assert page.status_code == 200
    assert b'data-testid="export-blind-note"' not in page.content
