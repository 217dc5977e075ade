"""The study dashboard and codebook approval's pending changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from coding import segments as seg
from coding.agreement.assignments import assignment_create
from coding.codebook import services
from coding.consensus import services as cons
from coding.models import AgreementRun, Code, InterventionProgress, Segment
from coding.review import comments as com
from coding.review import dashboard as dash
from interventions.models import Intervention
from tests.conftest import Cast

TEXT = "Doel\nHet gezin versterken met coördinatie.\n\nAanpak\nWekelijkse huisbezoeken thuis."


@pytest.fixture
def codes(cast: Cast) -> dict[str, Code]:
    theme = services.code_create(study=cast.study, actor=cast.owner, name="Sociaal")
    return {
        "theme": theme,
        "doelen": services.code_create(
            study=cast.study, actor=cast.owner, name="Doelen", parent=theme
        ),
    }


@pytest.fixture
def texts(cast: Cast) -> list[Intervention]:
    Intervention.objects.filter(pk=cast.intervention.pk).update(text=TEXT)
    items = [Intervention.objects.get(pk=cast.intervention.pk)]
    items += [
        Intervention.objects.create(study=cast.study, title=f"Tekst {n}", text=TEXT)
        for n in range(3)
    ]
    assignment_create(
        study=cast.study, actor=cast.owner, coder=cast.coder_a, interventions=items, method=""
    )
    assignment_create(
        study=cast.study, actor=cast.owner, coder=cast.coder_b, interventions=items[:2], method=""
    )
    for item in items[:3]:
        InterventionProgress.objects.create(intervention=item, coder=cast.coder_a)
    # Done but never assigned: not counted as done of the assigned.
    InterventionProgress.objects.create(intervention=items[3], coder=cast.coder_b)
    return items


def code(doc: Intervention, coder: Any, c: Code, words: str) -> Segment:
    start = TEXT.index(words)
    return seg.segment_create(
        intervention=doc, coder=coder, code=c, start=start, end=start + len(words), quote=words
    )


def run(cast: Cast, days_ago: int, alpha: Any, *, unit: str = "intervention", **codes: Any) -> Any:
    made = AgreementRun.objects.create(
        study=cast.study,
        created_by=cast.owner,
        params={"coders": ["bob", "carol"], "unit": unit},
        status=AgreementRun.Status.DONE,
        result={
            "overall": {"krippendorff_alpha": alpha, "interpretation": "tentative"},
            "codes": {path: {"krippendorff_alpha": value} for path, value in codes.items()},
        },
        finished_at=timezone.now() - dt.timedelta(days=days_ago),
    )
    AgreementRun.objects.filter(pk=made.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    return made


# Progress -----------------------------------------------------------------------------------


def test_the_owner_sees_every_coders_assigned_and_done(cast: Cast, texts: list[Any]) -> None:
    rows = dash.dashboard(cast.study, cast.owner)["coders"]
    assert [(r.user.username, r.assigned, r.done, r.percent) for r in rows] == [
        ("alice", 0, 0, 0),
        ("bob", 2, 0, 0),
        ("carol", 4, 3, 75),
    ]
    supervisor = dash.dashboard(cast.study, cast.supervisor)["coders"]
    assert [r.user.username for r in supervisor] == ["alice", "bob", "carol"]


def test_a_coder_before_the_reveal_sees_only_their_own_progress_and_no_agreement(
    cast: Cast, texts: list[Any]
) -> None:
    run(cast, 1, 0.7)
    view = dash.dashboard(cast.study, cast.coder_b)
    assert [(r.user, r.assigned, r.done) for r in view["coders"]] == [(cast.coder_b, 2, 0)]
    assert view["agreement"] is None
    assert view["reconciliation"] is None
    assert view["can_approve"] is False
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    view = dash.dashboard(cast.study, cast.coder_b)
    assert [r.user.username for r in view["coders"]] == ["alice", "bob", "carol"]
    # Agreement figures stay with the owner and supervisor, as on the agreement pages.
    assert view["agreement"] is None
    assert view["reconciliation"] == {
        "decided": 0,
        "items": 0,
        "interventions_done": 0,
        "interventions": 0,
    }


def test_an_outsider_gets_no_dashboard(cast: Cast) -> None:
    with pytest.raises(Http404):
        dash.dashboard(cast.study, cast.outsider)


# Agreement ----------------------------------------------------------------------------------


def test_agreement_shows_the_latest_run_its_trend_and_the_lowest_codes(cast: Cast) -> None:
    run(cast, 30, 0.5)
    run(cast, 20, None)  # not computable: left out of the trend
    run(cast, 15, 0.9, unit="word")  # another unit: another series
    run(cast, 10, 0.6)
    AgreementRun.objects.create(study=cast.study, params={"unit": "intervention"})  # queued
    latest = run(
        cast,
        1,
        0.72,
        **{"A": 0.9, "B": 0.1, "C": None, "D": -0.2, "E": 0.5, "F": 0.3, "G": 0.95, "H": 0.3},
    )
    summary = dash.dashboard(cast.study, cast.supervisor)["agreement"]
    assert summary["run_uuid"] == latest.uuid
    assert (summary["unit"], summary["measure"]) == ("intervention", "krippendorff_alpha")
    assert summary["value"] == pytest.approx(0.72)
    assert summary["interpretation"] == "tentative"
    assert summary["coders"] == ["bob", "carol"]
    assert [value for _date, value in summary["trend"]] == [0.5, 0.6, 0.72]
    assert summary["trend"][-1][0] == timezone.localdate(timezone.now() - dt.timedelta(days=1))
    assert summary["lowest_codes"] == [("D", -0.2), ("B", 0.1), ("F", 0.3), ("H", 0.3), ("E", 0.5)]


def test_without_a_finished_run_there_is_no_agreement_summary(cast: Cast) -> None:
    AgreementRun.objects.create(study=cast.study, params={"unit": "intervention"})
    assert dash.dashboard(cast.study, cast.owner)["agreement"] is None


# Activity -----------------------------------------------------------------------------------


def test_a_blind_coder_sees_no_other_coders_segment_events_nor_reconciliation(
    cast: Cast, texts: list[Any], codes: dict[str, Code]
) -> None:
    doc = texts[0]
    code(doc, cast.coder_a, codes["doelen"], "Het gezin")
    code(doc, cast.coder_b, codes["doelen"], "Het gezin")
    cons.consensus_accept_agreed(intervention=doc, actor=cast.owner)

    def actions(viewer: Any) -> list[tuple[str, str]]:
        rows = dash.dashboard(cast.study, viewer)["activity"]
        return [(r.action, r.actor.username) for r in rows]

    assert actions(cast.coder_b) == [
        ("segment_create", "bob"),
        ("code_create", "alice"),
        ("code_create", "alice"),
        ("assign", "alice"),
        ("assign", "alice"),
    ]
    assert actions(cast.owner)[:3] == [
        ("consensus_decide", "alice"),
        ("segment_create", "bob"),
        ("segment_create", "carol"),
    ]
    row = dash.dashboard(cast.study, cast.supervisor)["activity"][0]
    assert (row.action, row.intervention_title) == ("consensus_decide", "Gezin Centraal")
    assert not hasattr(row, "before")


def test_activity_shows_the_latest_fifteen(
    cast: Cast, texts: list[Any], codes: dict[str, Code]
) -> None:
    for n in range(20):
        services.code_create(study=cast.study, actor=cast.owner, name=f"Code {n:02}")
    rows = dash.dashboard(cast.study, cast.coder_a)["activity"]
    assert len(rows) == 15
    assert rows[0].code_name == "Code 19"
    assert rows[-1].code_name == "Code 05"


# Comments and the codebook ------------------------------------------------------------------


def test_open_threads_count_only_what_the_viewer_may_see(
    cast: Cast, texts: list[Any], codes: dict[str, Code]
) -> None:
    mine = code(texts[0], cast.coder_a, codes["doelen"], "Het gezin")
    com.thread_start(
        study=cast.study,
        actor=cast.coder_a,
        target_kind="segment",
        target_uuid=mine.uuid,
        body="Twijfel",
    )
    done = com.thread_start(
        study=cast.study,
        actor=cast.supervisor,
        target_kind="code",
        target_uuid=codes["doelen"].uuid,
        body="Definitie?",
    )
    com.thread_start(
        study=cast.study,
        actor=cast.supervisor,
        target_kind="intervention",
        target_uuid=texts[1].uuid,
        body="Compleet?",
    )
    com.thread_resolve(thread=done, actor=cast.supervisor)
    assert dash.dashboard(cast.study, cast.supervisor)["open_threads"] == 2
    assert dash.dashboard(cast.study, cast.coder_a)["open_threads"] == 2
    assert dash.dashboard(cast.study, cast.coder_b)["open_threads"] == 1


def test_pending_changes_are_none_until_a_version_is_approved_then_diff_against_it(
    cast: Cast, codes: dict[str, Code]
) -> None:
    assert dash.pending_codebook_changes(cast.study) is None
    first = services.version_create(study=cast.study, actor=cast.owner, label="v1")
    assert dash.pending_codebook_changes(cast.study) is None
    services.version_approve(version=first, actor=cast.supervisor)
    pending = dash.pending_codebook_changes(cast.study)
    assert pending is not None
    assert pending.version == first
    assert pending.is_empty
    assert pending.count == 0
    services.code_create(study=cast.study, actor=cast.owner, name="Materieel")
    services.code_update(
        code=codes["doelen"], actor=cast.owner, revision=None, definition="Waar het op mikt."
    )
    # A newer version that nobody approved does not hide the changes.
    services.version_create(study=cast.study, actor=cast.owner, label="v2")
    pending = dash.pending_codebook_changes(cast.study)
    assert pending is not None
    assert pending.version == first
    assert pending.diff.added == [("Materieel",)]
    assert [c.path for c in pending.diff.changed] == [("Sociaal", "Doelen")]
    assert pending.count == 2
    assert dash.dashboard(cast.study, cast.owner)["codebook"].count == 2


def test_only_the_supervisor_approves_not_the_owner_who_wrote_the_codebook(cast: Cast) -> None:
    assert dash.dashboard(cast.study, cast.supervisor)["can_approve"] is True
    for member in (cast.owner, cast.coder_a):
        assert dash.dashboard(cast.study, member)["can_approve"] is False
    version = services.version_create(study=cast.study, actor=cast.owner, label="v1")
    for actor in (cast.owner, cast.coder_a, cast.outsider):
        with pytest.raises(services.CodebookError, match="supervisor approves"):
            services.version_approve(version=version, actor=actor)
        with pytest.raises(services.CodebookError, match="supervisor approves"):
            services.codebook_approve(study=cast.study, actor=actor)
    services.version_approve(version=version, actor=cast.supervisor)
    with pytest.raises(services.CodebookError, match="approved already"):
        services.version_approve(version=version, actor=cast.supervisor)


# Queries ------------------------------------------------------------------------------------


def test_the_dashboard_takes_a_bounded_number_of_queries(
    cast: Cast, texts: list[Any], codes: dict[str, Code]
) -> None:
    services.version_approve(
        version=services.version_create(study=cast.study, actor=cast.owner, label="v1"),
        actor=cast.supervisor,
    )
    run(cast, 2, 0.6, A=0.5)
    code(texts[0], cast.coder_a, codes["doelen"], "Het gezin")
    com.thread_start(
        study=cast.study,
        actor=cast.owner,
        target_kind="code",
        target_uuid=codes["doelen"].uuid,
        body="Een",
    )
    com.thread_start(
        study=cast.study,
        actor=cast.owner,
        target_kind="intervention",
        target_uuid=texts[0].uuid,
        body="Twee",
    )

    def count(viewer: Any) -> int:
        with CaptureQueriesContext(connection) as queries:
            view = dash.dashboard(cast.study, viewer)
            _ = [(r.user.username, r.assigned) for r in view["coders"]]
            _ = [(r.actor.username if r.actor else "", r.action) for r in view["activity"]]
        return len(queries)

    small = count(cast.owner)
    for n, text in enumerate(texts):
        code(text, cast.coder_b, codes["doelen"], "Wekelijkse")
        code(text, cast.coder_a, codes["theme"], "coördinatie")
        run(cast, 1, 0.7, A=0.6)
        com.thread_start(
            study=cast.study,
            actor=cast.coder_a,
            target_kind="intervention",
            target_uuid=text.uuid,
            body=f"Vraag {n}",
        )
    assert count(cast.owner) == small <= 25
    assert count(cast.coder_a) <= 31


def test_the_dashboard_tells_the_reveal_policy_and_who_revealed_when(
    blind_cast: Cast, client: Any
) -> None:
    cast = blind_cast
    state = dash.dashboard(cast.study, cast.owner)["blind"]
    assert (state.policy, state.revealed_at, state.open_to_viewer) == ("after_reveal", None, False)
    client.force_login(cast.coder_a)
    page = client.get(f"/s/{cast.study.slug}/").content.decode()
    assert "Not revealed yet." in page
    assert "hidden from everyone else until the owner reveals them" in page
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    state = dash.dashboard(cast.study, cast.coder_a)["blind"]
    assert state.revealed_by == cast.owner
    assert state.open_to_viewer
    page = client.get(f"/s/{cast.study.slug}/").content.decode()
    assert "by alice: everyone sees every coder" in page
