"""Every URL of the project, for every role: README's "Roles" table, checked against the pages.

Each row names a URL, its method and who may use it. A member with the right gets the page (or
its redirect), a member without it 403, an outsider 404 (a study's existence is not revealed),
an anonymous visitor the login page. The table must name every URL the resolver knows, so a new
URL without a row fails `test_every_url_of_the_project_has_a_row`.

The study is in its default state: reveal policy "always", nothing revealed yet. What changes
with the reveal (a coder reading the other layers, reconciling) is tested in
`tests/coding/test_sight.py` and the pages' own tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from coding import segments as seg
from coding.agreement.assignments import assignment_create
from coding.agreement.runs import agreement_run_start
from coding.codebook import services
from coding.consensus import services as consensus
from coding.models import (
    AgreementRun,
    Code,
    CodebookImportJob,
    CodebookVersion,
    CommentThread,
    ExportJob,
    ProjectImportJob,
    Segment,
)
from coding.review import comments
from coding.tasks import run_agreement
from interventions.models import (
    AttributeDefinition,
    ImportJob,
    Intervention,
    Invitation,
    Role,
    Section,
    Study,
    TextImportJob,
)
from tests.conftest import Cast
from tests.factories import MembershipFactory, StudyFactory

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed in"  # any signed-in user, member of the study or not
MEMBER = frozenset({"owner", "supervisor", "coder"})
OWNER = frozenset({"owner"})
SUPERVISOR = frozenset({"supervisor"})
CODING = frozenset({"owner", "coder"})
READING_ALONG = frozenset({"owner", "supervisor"})
# carol's own segment: only she changes it, not even the owner.
CAROL = frozenset({"coder"})

QDPX = Path(__file__).resolve().parent / "fixtures" / "qdpx" / "maxqda.qdpx"
ROLES = ("anonymous", "outsider", "coder", "supervisor", "owner")
HTMX = {"HTTP_HX_REQUEST": "true"}
TEXT = (
    "Samenvatting\nKort.\n\nAanpak\n"
    "Ouders oefenen thuis met nieuwe vaardigheden. Het netwerk van buren steunt de kinderen.\n"
)


CAROLS_TABLE = {"table": "frequencies", "count": "interventions", "layer": "carol"}


def _bounds(words: str) -> tuple[int, int]:
    start = TEXT.index(words)
    return start, start + len(words)


def span(words: str) -> dict[str, Any]:
    start = TEXT.index(words)
    return {"start": start, "end": start + len(words), "quote": words}


class World:
    """What the URLs point at, each made on first use so a test builds only what it asks."""

    def __init__(self, cast: Cast) -> None:
        self.cast = cast
        self.study: Study = cast.study
        self.slug = cast.study.slug

    @cached_property
    def doc(self) -> Intervention:
        doc = self.cast.intervention
        doc.text = TEXT
        doc.save()
        aanpak = TEXT.index("Aanpak")
        Section.objects.create(
            intervention=doc, heading="Samenvatting", start=0, end=aanpak, excluded=True
        )
        return doc

    @cached_property
    def codes(self) -> dict[str, Code]:
        make, study, owner = services.code_create, self.study, self.cast.owner
        sociaal = make(study=study, actor=owner, name="Sociale hulpbronnen")
        psych = make(study=study, actor=owner, name="Psychologische hulpbronnen")
        doelen = make(study=study, actor=owner, name="Doelen", parent=sociaal)
        inhoud = make(study=study, actor=owner, name="Inhoud", parent=sociaal)
        return {"sociaal": sociaal, "psych": psych, "doelen": doelen, "inhoud": inhoud}

    def _code(self, coder: Any, code: str, words: str) -> Segment:
        (segment,) = seg.segments_apply(
            intervention=self.doc, coder=coder, codes=[self.codes[code]], **span(words)
        )
        return segment

    @cached_property
    def carols(self) -> Segment:
        return self._code(self.cast.coder_a, "doelen", "Ouders oefenen thuis")

    @cached_property
    def bobs(self) -> Segment:
        return self._code(self.cast.coder_b, "inhoud", "netwerk van buren")

    @cached_property
    def items(self) -> list[str]:
        """The keys of the intervention's two items: carol's passage, then bob's."""
        self.carols, self.bobs  # noqa: B018 - both coders' segments make the items
        found = consensus.reconciliation_items(intervention=self.doc, viewer=self.cast.owner)
        return [item.key for item in found]

    @cached_property
    def decided(self) -> str:
        key = self.items[0]
        consensus.consensus_decide(
            intervention=self.doc, actor=self.cast.owner, item_key=key, action="drop"
        )
        return key

    @cached_property
    def run(self) -> AgreementRun:
        self.carols, self.bobs  # noqa: B018 - the coding the run compares
        for coder in (self.cast.coder_a, self.cast.coder_b):
            assignment_create(
                study=self.study,
                actor=self.cast.owner,
                coder=coder,
                interventions=[self.doc],
                method="all",
            )
        run = agreement_run_start(study=self.study, actor=self.cast.owner, coders=["bob", "carol"])
        run_agreement.apply(args=[run.pk])
        run.refresh_from_db()
        assert run.status == AgreementRun.Status.DONE, run.error
        return run

    @cached_property
    def thread(self) -> CommentThread:
        # Started by carol: the starter, the owner and the supervisor may resolve it.
        return comments.thread_start(
            study=self.study,
            actor=self.cast.coder_a,
            target_kind="code",
            target_uuid=self.codes["doelen"].uuid,
            body="Is dit helder?",
        )

    @cached_property
    def version(self) -> CodebookVersion:
        self.codes  # noqa: B018 - a version of a codebook with codes
        return services.version_create(study=self.study, actor=self.cast.owner, label="v1")

    @cached_property
    def export_job(self) -> ExportJob:
        return ExportJob.objects.create(
            study=self.study,
            created_by=self.cast.coder_a,
            format="json",
            status=ExportJob.Status.DONE,
            filename="gezin-codeboek.json",
            content_type="application/json",
            content=b"{}",
        )

    @cached_property
    def codebook_import_job(self) -> CodebookImportJob:
        return CodebookImportJob.objects.create(
            study=self.study,
            created_by=self.cast.owner,
            filename="groot.json",
            status=CodebookImportJob.Status.DONE,
            summary={"summary": "1 added, 0 changed, 0 unchanged", "dropped": []},
        )

    @cached_property
    def text_import_job(self) -> TextImportJob:
        return TextImportJob.objects.create(
            study=self.study,
            created_by=self.cast.owner,
            filenames=["gezin.pdf"],
            status=TextImportJob.Status.DONE,
            summary={"added": 1, "updated": 0},
        )

    @cached_property
    def import_job(self) -> ImportJob:
        return ImportJob.objects.create(
            study=self.study,
            created_by=self.cast.owner,
            filename="x.csv",
            table={"headers": ["Interventie"], "rows": [["Gezin Centraal"]]},
        )

    @cached_property
    def project_import(self) -> ProjectImportJob:
        return ProjectImportJob.objects.create(
            study=self.study,
            created_by=self.cast.owner,
            filename="x.qdpx",
            content=QDPX.read_bytes(),
        )

    @cached_property
    def project_export(self) -> ExportJob:
        return ExportJob.objects.create(
            study=self.study,
            created_by=self.cast.owner,
            kind="project",
            format="qdpx",
            status=ExportJob.Status.DONE,
            filename="gezin.qdpx",
            content_type="application/zip",
            content=b"PK",
        )

    @cached_property
    def invitation(self) -> Invitation:
        return Invitation.objects.create(
            study=self.study, role=Role.CODER, created_by=self.cast.owner
        )

    @cached_property
    def section(self) -> Section:
        start = TEXT.index("Aanpak")
        return Section.objects.create(
            intervention=self.doc, heading="Aanpak", start=start, end=len(TEXT)
        )

    @cached_property
    def definition(self) -> AttributeDefinition:
        return AttributeDefinition.objects.create(study=self.study, name="Setting")

    @cached_property
    def other_study(self) -> Study:
        """Another study of the owner's, to copy a codebook from."""
        other: Any = StudyFactory(name="Andere studie", slug="andere")
        MembershipFactory(study=other, user=self.cast.owner, role=Role.OWNER)
        services.code_create(study=other, actor=self.cast.owner, name="Materiële hulpbronnen")
        return other

    # URL arguments that recur --------------------------------------------------------------

    def s(self) -> dict[str, Any]:
        return {"slug": self.slug}

    def i(self) -> dict[str, Any]:
        return {"slug": self.slug, "uuid": self.doc.uuid}

    def code(self, name: str) -> dict[str, Any]:
        return {"slug": self.slug, "uuid": self.codes[name].uuid}

    def snapshot(self) -> dict[str, Any]:
        from coding.models import AnalysisSnapshot

        self.carols  # noqa: B018 - the coding the table counts
        snapshot = AnalysisSnapshot.objects.create(
            study=self.study,
            created_by=self.cast.coder_a,
            title="Tabel 1",
            params=CAROLS_TABLE,
            result={
                "table": "frequencies",
                "layer": "carol",
                "count": "interventions",
                "rows": ["Sociale hulpbronnen"],
                "columns": ["interventions", "segments"],
                "cells": [[1, 1]],
                "row_totals": [1],
                "column_totals": [1, 1],
                "n_interventions": 1,
            },
        )
        return {"slug": self.slug, "uuid": snapshot.uuid}

    def autocode_event(self) -> dict[str, Any]:
        from coding.analysis.search import segments_autocode

        self.doc  # noqa: B018 - the text searched
        done = segments_autocode(
            study=self.study,
            coder=self.cast.coder_a,
            code=self.codes["doelen"],
            spans=[(self.doc.pk, *_bounds("buren"))],
        )
        assert done.event is not None
        return {"event": done.event.pk}

    def carols_segment(self) -> dict[str, Any]:
        return {"slug": self.slug, "uuid": self.carols.uuid}

    def run_url(self, **extra: Any) -> dict[str, Any]:
        return {"slug": self.slug, "uuid": self.run.uuid, **extra}

    def thread_url(self) -> dict[str, Any]:
        return {"slug": self.slug, "uuid": self.thread.uuid}

    def member(self, user: Any) -> int:
        return int(self.study.memberships.get(user=user).pk)


def edit_data(code: Code, **changes: Any) -> dict[str, Any]:
    fields = ("name", "definition", "inclusion", "exclusion", "example", "color", "origin")
    return {
        **{name: getattr(code, name) for name in fields},
        "shortcut": code.shortcut,
        "revision": code.revision,
        **changes,
    }


def codebook_file(w: World) -> dict[str, Any]:
    body = json.dumps({"codes": [{"name": "Culturele hulpbronnen"}]}).encode()
    return {"file": SimpleUploadedFile("codeboek.json", body, "application/json")}


def _none(w: World) -> dict[str, Any]:
    return {}


def s_with(*needs: str) -> Callable[[World], dict[str, Any]]:
    """The study's URL arguments, once the World's `needs` exist."""

    def kwargs(w: World) -> dict[str, Any]:
        for need in needs:
            getattr(w, need)
        return w.s()

    return kwargs


def i_with(*needs: str) -> Callable[[World], dict[str, Any]]:
    """The intervention's URL arguments, once the World's `needs` exist."""

    def kwargs(w: World) -> dict[str, Any]:
        for need in needs:
            getattr(w, need)
        return w.i()

    return kwargs


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    who: str | frozenset[str]
    kwargs: Callable[[World], dict[str, Any]] = _none
    data: Callable[[World], dict[str, Any]] = _none
    htmx: bool = False
    ok: frozenset[int] = field(default=frozenset({200, 302}))


ROUTES: list[Route] = [
    # Accounts and languages (Django's own views)
    Route("login", "get", PUBLIC),
    Route("logout", "post", PUBLIC),
    Route("password_change", "get", SIGNED_IN),
    Route("password_change_done", "get", SIGNED_IN),
    Route("password_reset", "get", PUBLIC),
    Route("password_reset_done", "get", PUBLIC),
    Route(
        "password_reset_confirm",
        "get",
        PUBLIC,
        lambda w: {"uidb64": "MQ", "token": "set-password"},
    ),
    Route("password_reset_complete", "get", PUBLIC),
    Route("set_language", "post", PUBLIC, data=lambda w: {"language": "nl", "next": "/"}),
    # Studies, members and invitations
    Route("home", "get", SIGNED_IN),
    Route("study_create", "get", SIGNED_IN),
    Route("notifications", "get", SIGNED_IN),
    Route("notifications_read", "post", SIGNED_IN),
    Route("invitation_accept", "get", SIGNED_IN, lambda w: {"token": w.invitation.token}),
    Route("study_detail", "get", MEMBER, World.s),
    Route("study_edit", "get", OWNER, World.s),
    Route("study_edit", "post", OWNER, World.s, lambda w: {"name": "Nieuw", "language": "nl"}),
    Route("members", "get", MEMBER, World.s),
    Route("members", "post", OWNER, World.s, lambda w: {"username": "oscar", "role": "coder"}),
    Route(
        "member_set_role",
        "post",
        OWNER,
        lambda w: {"slug": w.slug, "membership_id": w.member(w.cast.coder_b)},
        lambda w: {"role": "supervisor"},
    ),
    Route(
        "member_remove",
        "post",
        OWNER,
        lambda w: {"slug": w.slug, "membership_id": w.member(w.cast.coder_b)},
    ),
    Route("invitation_create", "post", OWNER, World.s, lambda w: {"role": "coder"}),
    Route(
        "invitation_revoke",
        "post",
        OWNER,
        lambda w: {"slug": w.slug, "token": w.invitation.token},
    ),
    # The corpus
    Route("intervention_list", "get", MEMBER, World.s),
    Route("intervention_create", "get", OWNER, World.s),
    Route(
        "intervention_create",
        "post",
        OWNER,
        World.s,
        lambda w: {"title": "Nieuw", "text": "Tekst"},
    ),
    Route("intervention_upload", "get", OWNER, World.s),
    Route("intervention_detail", "get", MEMBER, World.i),
    Route("intervention_edit", "get", OWNER, World.i),
    Route(
        "intervention_edit",
        "post",
        OWNER,
        World.i,
        lambda w: {"title": "Gezin Centraal", "text": "Andere tekst"},
    ),
    Route("intervention_new_version", "post", OWNER, World.i),
    Route("intervention_delete", "post", OWNER, World.i),
    Route("intervention_attributes", "post", OWNER, World.i),
    Route("sections_detect", "post", OWNER, World.i),
    Route("section_add", "post", OWNER, World.i, lambda w: {"heading": "Aanpak"}),
    Route(
        "section_toggle",
        "post",
        OWNER,
        lambda w: {**w.i(), "section_id": w.section.pk},
    ),
    Route(
        "section_delete",
        "post",
        OWNER,
        lambda w: {**w.i(), "section_id": w.section.pk},
    ),
    Route(
        "section_split",
        "post",
        OWNER,
        lambda w: {**w.i(), "section_id": w.section.pk},
        lambda w: {"at": TEXT.index("Ouders oefenen")},
    ),
    Route(
        "section_rename",
        "post",
        OWNER,
        lambda w: {**w.i(), "section_id": w.section.pk},
        lambda w: {"heading": "Werkwijze"},
    ),
    Route(
        "section_merge",
        "post",
        OWNER,
        lambda w: {**w.i(), "section_id": w.section.pk},
        # The world's one section is the last, so the owner is told there is nothing after it.
        ok=frozenset({400}),
    ),
    Route("attributes", "get", MEMBER, World.s),
    Route("attributes", "post", OWNER, World.s, lambda w: {"name": "Duur", "kind": "number"}),
    Route(
        "attribute_delete",
        "post",
        OWNER,
        lambda w: {"slug": w.slug, "definition_id": w.definition.pk},
    ),
    Route("metadata_import", "get", OWNER, World.s),
    Route("metadata_preview", "get", OWNER, lambda w: {"slug": w.slug, "job": w.import_job.uuid}),
    Route("metadata_confirm", "post", OWNER, lambda w: {"slug": w.slug, "job": w.import_job.uuid}),
    Route("metadata_status", "get", OWNER, lambda w: {"slug": w.slug, "job": w.import_job.uuid}),
    Route("metadata_export", "get", MEMBER, lambda w: {"slug": w.slug, "fmt": "csv"}),
    Route("project_page", "get", OWNER, World.s),
    Route(
        "project_upload",
        "post",
        OWNER,
        World.s,
        lambda w: {"file": SimpleUploadedFile("m.qdpx", QDPX.read_bytes())},
    ),
    Route(
        "project_preview", "get", OWNER, lambda w: {"slug": w.slug, "job": w.project_import.uuid}
    ),
    Route(
        "project_confirm", "post", OWNER, lambda w: {"slug": w.slug, "job": w.project_import.uuid}
    ),
    Route(
        "project_import_status",
        "get",
        OWNER,
        lambda w: {"slug": w.slug, "job": w.project_import.uuid},
        htmx=True,
        ok=frozenset({200, 286}),
    ),
    Route("project_export", "post", OWNER, World.s),
    Route(
        "project_export_status",
        "get",
        OWNER,
        lambda w: {"slug": w.slug, "uuid": w.project_export.uuid},
    ),
    Route(
        "project_export_download",
        "get",
        OWNER,
        lambda w: {"slug": w.slug, "uuid": w.project_export.uuid},
    ),
    # The codebook
    Route("codebook", "get", MEMBER, World.s),
    Route("code_detail", "get", MEMBER, lambda w: w.code("doelen")),
    Route("codebook_history", "get", MEMBER, World.s),
    Route("codebook_versions", "get", MEMBER, World.s),
    Route("version_diff", "get", MEMBER, World.s),
    Route("code_add", "post", OWNER, World.s, lambda w: {"name": "Nieuw thema"}),
    Route(
        "code_edit",
        "post",
        OWNER,
        lambda w: w.code("doelen"),
        lambda w: edit_data(w.codes["doelen"], definition="Wat het gezin wil bereiken."),
    ),
    Route(
        "code_move_step",
        "post",
        OWNER,
        lambda w: w.code("doelen"),
        lambda w: {"direction": "down"},
    ),
    Route(
        "code_move",
        "post",
        OWNER,
        lambda w: w.code("doelen"),
        lambda w: {"parent": w.codes["psych"].uuid, "position": "1"},
    ),
    Route(
        "code_merge",
        "post",
        OWNER,
        lambda w: w.code("inhoud"),
        lambda w: {"target": w.codes["doelen"].uuid},
    ),
    Route("code_delete", "post", OWNER, lambda w: w.code("inhoud")),
    Route("codebook_undo", "post", OWNER, s_with("codes")),
    Route("coding_started", "post", OWNER, World.s, lambda w: {"started": "on"}),
    Route("codebook_import", "post", OWNER, World.s, codebook_file),
    Route(
        "intervention_upload_status",
        "get",
        OWNER,
        lambda w: {"slug": w.slug, "job": w.text_import_job.uuid},
        ok=frozenset({200, 286}),
    ),
    Route(
        "codebook_import_status",
        "get",
        OWNER,
        lambda w: {"slug": w.slug, "uuid": w.codebook_import_job.uuid},
        ok=frozenset({200, 286}),
    ),
    Route("codebook_copy", "post", OWNER, World.s, lambda w: {"source": w.other_study.slug}),
    Route("codebook_template", "post", OWNER, World.s, lambda w: {"template": "veerkracht"}),
    Route("version_create", "post", OWNER, World.s, lambda w: {"label": "v1"}),
    Route("export_start", "post", MEMBER, World.s, lambda w: {"fmt": "json"}),
    Route(
        "export_status",
        "get",
        MEMBER,
        lambda w: {"slug": w.slug, "uuid": w.export_job.uuid},
        ok=frozenset({200, 286}),
    ),
    Route("export_download", "get", MEMBER, lambda w: {"slug": w.slug, "uuid": w.export_job.uuid}),
    # Review: comments and approval
    Route("comment_threads", "get", MEMBER, World.s),
    Route(
        "comment_thread_start",
        "post",
        MEMBER,
        World.s,
        lambda w: {"target": f"code:{w.codes['doelen'].uuid}", "body": "Vraag"},
    ),
    Route("comment_thread", "get", MEMBER, World.thread_url),
    Route("comment_reply", "post", MEMBER, World.thread_url, lambda w: {"body": "Antwoord"}),
    Route("comment_thread_resolve", "post", MEMBER, World.thread_url),
    Route("comment_thread_reopen", "post", MEMBER, World.thread_url),
    Route("codebook_review", "get", MEMBER, s_with("codes")),
    Route("codebook_review_approve", "post", SUPERVISOR, s_with("codes")),
    # Coding
    Route("workspace", "get", MEMBER, World.i),
    Route(
        "segments_apply",
        "post",
        CODING,
        World.i,
        lambda w: {**span("nieuwe vaardigheden"), "codes": [str(w.codes["doelen"].uuid)]},
        htmx=True,
    ),
    Route(
        "workspace_code_create",
        "post",
        CODING,
        World.i,
        lambda w: {"name": "Empowerment"},
        htmx=True,
    ),
    Route("workspace_progress", "post", CODING, World.i, lambda w: {"done": "on"}),
    Route("segment_detail", "get", MEMBER, World.carols_segment, htmx=True),
    Route(
        "segment_memo",
        "post",
        CAROL,
        World.carols_segment,
        lambda w: {"memo": "Nieuw"},
        htmx=True,
    ),
    Route(
        "segment_code",
        "post",
        CAROL,
        World.carols_segment,
        lambda w: {"code": str(w.codes["inhoud"].uuid)},
        htmx=True,
    ),
    Route(
        "segment_bounds",
        "post",
        CAROL,
        World.carols_segment,
        lambda w: span("Ouders oefenen"),
        htmx=True,
    ),
    Route("segment_delete", "post", CAROL, World.carols_segment, htmx=True),
    Route("study_progress", "get", MEMBER, World.s),
    Route("reveal", "post", OWNER, World.s),
    Route("reveal_policy", "post", OWNER, World.s, lambda w: {"reveal": "after_reveal"}),
    Route("code_report", "get", MEMBER, World.s),
    Route(
        "code_report_export",
        "get",
        MEMBER,
        lambda w: {"slug": w.slug, "fmt": "csv"},
        lambda w: {"code": str(w.carols.code.uuid)},
    ),
    # Analysis
    Route("analysis_tables", "get", MEMBER, World.s, lambda w: {**CAROLS_TABLE, "x": w.carols.pk}),
    Route(
        "analysis_export",
        "get",
        MEMBER,
        lambda w: {"slug": w.slug, "fmt": "csv"},
        lambda w: {**CAROLS_TABLE, "x": w.carols.pk},
    ),
    Route(
        "analysis_figure",
        "get",
        MEMBER,
        lambda w: {"slug": w.slug, "fmt": "svg"},
        lambda w: {**CAROLS_TABLE, "x": w.carols.pk},
    ),
    Route(
        "analysis_pairs",
        "get",
        MEMBER,
        World.s,
        lambda w: {
            **CAROLS_TABLE,
            "table": "cooccurrence",
            "row": str(w.codes["sociaal"].uuid),
            "column": str(w.carols.code.uuid),
        },
    ),
    Route("analysis_snapshots", "get", MEMBER, World.s),
    Route(
        "analysis_snapshot_save",
        "post",
        MEMBER,
        World.s,
        lambda w: {**CAROLS_TABLE, "title": "Tabel 1", "x": w.carols.pk},
    ),
    Route("analysis_snapshot", "get", MEMBER, World.snapshot),
    Route(
        "analysis_snapshot_file",
        "get",
        MEMBER,
        lambda w: {**w.snapshot(), "fmt": "xlsx"},
    ),
    Route("analysis_search", "get", MEMBER, World.s, lambda w: {"q": "buren", "x": w.doc.pk}),
    Route(
        "analysis_autocode",
        "post",
        CODING,
        World.s,
        lambda w: {
            "q": "buren",
            "hits": f"{w.doc.pk}:{_bounds('buren')[0]}:{_bounds('buren')[1]}",
            "code": str(w.codes["doelen"].uuid),
            "unit": "hit",
        },
    ),
    Route("analysis_autocode_undo", "post", CODING, World.s, World.autocode_event),
    # Agreement
    Route("agreement", "get", READING_ALONG, World.s),
    Route("agreement_assignments", "get", READING_ALONG, World.s),
    Route(
        "agreement_assignment_add",
        "post",
        OWNER,
        World.s,
        lambda w: {"coder": "bob", "method": "all"},
    ),
    Route(
        "agreement_assignment_remove",
        "post",
        OWNER,
        s_with("run"),
        lambda w: {"coder": "bob", "intervention": str(w.doc.uuid)},
    ),
    Route("agreement_mine", "get", CODING, World.s),
    Route(
        "agreement_run_start",
        "post",
        OWNER,
        s_with("run"),
        lambda w: {"coders": ["bob", "carol"], "unit": "intervention", "bootstrap": "0"},
    ),
    Route("agreement_run_again", "post", OWNER, World.run_url),
    Route(
        "agreement_chart_file",
        "get",
        READING_ALONG,
        lambda w: {"slug": w.slug, "fmt": "png"},
        lambda w: {"run": w.run.pk},
    ),
    Route("agreement_report", "get", READING_ALONG, World.run_url),
    Route(
        "agreement_run_status",
        "get",
        READING_ALONG,
        World.run_url,
        htmx=True,
        ok=frozenset({286}),
    ),
    Route("agreement_export", "get", READING_ALONG, lambda w: w.run_url(fmt="xlsx")),
    Route("agreement_method", "get", READING_ALONG, World.run_url),
    # Consensus: the layers are open to the owner and supervisor under the policy "always"
    Route("consensus", "get", READING_ALONG, s_with("items")),
    Route("consensus_intervention", "get", READING_ALONG, i_with("items")),
    Route(
        "consensus_decide",
        "post",
        OWNER,
        World.i,
        lambda w: {"item": w.items[1], "action": "drop"},
    ),
    Route("consensus_undo", "post", OWNER, World.i, lambda w: {"item": w.decided}),
    Route("consensus_accept_agreed", "post", OWNER, i_with("items")),
]


# Whose view answers both methods although the table tries one: no 405 to expect there.
BOTH_METHODS = {
    "login",
    "password_change",
    "password_reset",
    "password_reset_confirm",
    "set_language",
    "study_create",
    "invitation_accept",
    "intervention_upload",
    "metadata_import",
}


def _url_names(patterns: list[Any], namespaced: bool = False) -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            # The admin site is Django's, behind its own staff login; it has a namespace.
            if pattern.namespace is None:
                yield from _url_names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


def _client_for(cast: Cast, role: str) -> Client:
    client = Client()
    user = {
        "anonymous": None,
        "outsider": cast.outsider,
        "coder": cast.coder_a,
        "supervisor": cast.supervisor,
        "owner": cast.owner,
    }[role]
    if user is not None:
        client.force_login(user)
    return client


def _expected(who: str | frozenset[str], role: str) -> str:
    if who == PUBLIC:
        return "ok"
    if role == "anonymous":
        return "login"
    if who == SIGNED_IN:
        return "ok"
    if role == "outsider":
        return "404"
    return "ok" if role in who else "403"


def _call(client: Client, route: Route, world: World, method: str) -> Any:
    url = reverse(route.name, kwargs=route.kwargs(world))
    extra = HTMX if route.htmx else {}
    call = client.get if method == "get" else client.post
    return call(url, route.data(world), **extra)


def test_every_url_of_the_project_has_a_row() -> None:
    assert {route.name for route in ROUTES} == set(_url_names(get_resolver().url_patterns))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.name}-{r.method}" for r in ROUTES])
def test_each_url_answers_each_role_as_its_rights_say(cast: Cast, route: Route, role: str) -> None:
    response = _call(_client_for(cast, role), route, World(cast), route.method)
    expected = _expected(route.who, role)
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif expected == "ok":
        assert response.status_code in route.ok, response.content[:500]
        if response.status_code == 302 and route.who != PUBLIC:
            assert not response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == int(expected), response.content[:500]


def _methods(name: str) -> set[str]:
    return {r.method for r in ROUTES if r.name == name}


# URLs that answer one method only: the other one gets 405.
ONE_METHOD = sorted(
    {(r.name, r.method) for r in ROUTES if len(_methods(r.name)) == 1}
    - {(name, method) for name in BOTH_METHODS for method in ("get", "post")}
)


@pytest.mark.parametrize(("name", "method"), ONE_METHOD)
def test_the_other_method_is_refused_with_405(cast: Cast, name: str, method: str) -> None:
    route = next(r for r in ROUTES if r.name == name)
    wrong = "get" if method == "post" else "post"
    response = _call(_client_for(cast, "owner"), route, World(cast), wrong)
    assert response.status_code == 405


def test_the_invitation_page_needs_a_login_and_then_lets_anyone_with_the_link_join(
    cast: Cast,
) -> None:
    invitation = World(cast).invitation
    url = reverse("invitation_accept", kwargs={"token": invitation.token})
    assert Client().get(url).status_code == 302
    client = _client_for(cast, "outsider")
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert cast.study.memberships.filter(user=cast.outsider, role=Role.CODER).exists()


def test_a_post_without_csrf_token_is_refused(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.owner)
    response = client.post(reverse("attributes", kwargs={"slug": cast.study.slug}), {"name": "X"})
    assert response.status_code == 403
    assert not AttributeDefinition.objects.filter(name="X").exists()


def test_a_user_sees_only_the_studies_they_belong_to(cast: Cast) -> None:
    other = StudyFactory(name="Geheime studie")
    MembershipFactory(study=other, role=Role.OWNER)
    page = _client_for(cast, "coder").get(reverse("home")).content.decode()
    assert "Gezinsinterventies" in page
    assert "Geheime studie" not in page
