"""Issue 13's names and small defects, seen through the pages: a code shown without its tree
takes its shortest unambiguous path; a supervisor has no layer; opening a thread reads its
notifications; a template codebook is one line of activity and deductive; the agreement report
folds what it cannot compute; the Dutch pages use the right words and plurals."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coding import segments as seg
from coding.agreement.report import Notes, measure_rows, split_computable
from coding.codebook import services
from coding.models import AgreementRun, Code, CommentThread, Segment
from coding.review import comments as com
from coding.review import dashboard as dash
from interventions.models import Intervention, Study
from tests.conftest import Cast

TEXT = "Doel\nHet gezin versterken met coördinatie.\n\nAanpak\nWekelijkse huisbezoeken thuis."
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def client_for(user: Any, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def tree(cast: Cast) -> dict[str, Code]:
    """Two themes with a "Doelen" and an "Inhoud" each, as the template has five."""
    made: dict[str, Code] = {}
    for theme in ("Sociale hulpbronnen", "Materiële hulpbronnen"):
        parent = services.code_create(study=cast.study, actor=cast.owner, name=theme)
        for name in ("Doelen", "Inhoud"):
            made[f"{theme}/{name}"] = services.code_create(
                study=cast.study, actor=cast.owner, name=name, parent=parent
            )
    made["Setting"] = services.code_create(study=cast.study, actor=cast.owner, name="Setting")
    Intervention.objects.filter(pk=cast.intervention.pk).update(text=TEXT)
    cast.intervention.refresh_from_db()
    return made


def span(words: str) -> dict[str, Any]:
    start = TEXT.index(words)
    return {"start": start, "end": start + len(words), "quote": words}


def coded(cast: Cast, coder: Any, code: Code, words: str) -> Segment:
    return seg.segment_create(intervention=cast.intervention, coder=coder, code=code, **span(words))


def json_block(content: str, element_id: str) -> Any:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', content)
    assert found, element_id
    return json.loads(found.group(1))


# Names with their place ---------------------------------------------------------------------


def test_the_comment_subject_dropdown_names_codes_by_their_short_path(
    cast: Cast, tree: dict[str, Code]
) -> None:
    page = client_for(cast.supervisor).get(reverse("comment_threads", args=[cast.study.slug]))
    content = page.content.decode()
    inhoud = tree["Sociale hulpbronnen/Inhoud"]
    options = dict(re.findall(r'<option value="code:([^"]+)"\s*>([^<]*)</option>', content))
    assert options[str(inhoud.uuid)] == "Sociale hulpbronnen › Inhoud"
    assert options[str(tree["Setting"].uuid)] == "Setting"
    assert (
        options[str(tree["Materiële hulpbronnen/Doelen"].uuid)] == "Materiële hulpbronnen › Doelen"
    )


def test_margin_labels_and_the_toast_name_the_code_by_its_short_path(
    cast: Cast, tree: dict[str, Code]
) -> None:
    inhoud = tree["Materiële hulpbronnen/Inhoud"]
    data = {**span("coördinatie"), "codes": [str(inhoud.uuid)], "memo": ""}
    url = reverse("segments_apply", args=[cast.study.slug, cast.intervention.uuid])
    response = client_for(cast.coder_a).post(url, data, **HTMX)
    content = response.content.decode()
    assert "Coded: Materiële hulpbronnen › Inhoud" in content
    update = json_block(content, "ws-update-data")
    assert update["codes"][str(inhoud.pk)][0] == "Materiële hulpbronnen › Inhoud"
    page = client_for(cast.coder_a).get(
        reverse("workspace", args=[cast.study.slug, cast.intervention.uuid])
    )
    codes = json_block(page.content.decode(), "ws-data")["codes"]
    assert codes[str(tree["Setting"].pk)][0] == "Setting"
    assert codes[str(inhoud.pk)][:2] == [
        "Materiële hulpbronnen › Inhoud",
        "Materiële hulpbronnen › Inhoud",
    ]


def test_the_activity_feed_and_a_threads_subject_use_the_short_path(
    cast: Cast, tree: dict[str, Code]
) -> None:
    doelen = tree["Sociale hulpbronnen/Doelen"]
    coded(cast, cast.owner, doelen, "Het gezin")
    rows = dash.dashboard(cast.study, cast.owner)["activity"]
    assert rows[0].action == "segment_create"
    assert rows[0].code_name == "Sociale hulpbronnen › Doelen"
    thread = com.thread_start(
        study=cast.study,
        actor=cast.supervisor,
        target_kind="code",
        target_uuid=doelen.uuid,
        body="Helder?",
    )
    (row,) = com.open_threads(cast.study, cast.supervisor)
    assert row.target_label == "Sociale hulpbronnen › Doelen"
    page = client_for(cast.supervisor).get(
        reverse("comment_thread", args=[cast.study.slug, thread.uuid])
    )
    assert "Sociale hulpbronnen › Doelen" in page.content.decode()


def test_the_code_report_title_names_the_code_by_its_short_path(
    cast: Cast, tree: dict[str, Code]
) -> None:
    coded(cast, cast.owner, tree["Sociale hulpbronnen/Inhoud"], "Wekelijkse huisbezoeken")
    url = reverse("code_report", args=[cast.study.slug])
    query = {"code": str(tree["Sociale hulpbronnen/Inhoud"].uuid)}
    content = client_for(cast.owner).get(url, query).content.decode()
    assert "1 segment coded “Sociale hulpbronnen › Inhoud”" in content
    dutch = client_for(cast.owner, "nl").get(url, query).content.decode()
    assert "1 fragment gecodeerd met “Sociale hulpbronnen › Inhoud”" in dutch
    assert "segmenten" not in dutch


# Layers: only members who code -------------------------------------------------------------


def test_the_supervisor_has_no_layer_of_their_own(cast: Cast, tree: dict[str, Code]) -> None:
    coded(cast, cast.coder_a, tree["Setting"], "Het gezin")
    codebook = services.Codebook.for_study(cast.study)
    codebook.revealed_at = timezone.now()
    codebook.save()
    page = client_for(cast.supervisor).get(
        reverse("workspace", args=[cast.study.slug, cast.intervention.uuid])
    )
    coders = json_block(page.content.decode(), "ws-data")["coders"]
    assert str(cast.supervisor.pk) not in coders
    assert str(cast.coder_a.pk) in coders
    assert f'name="layers" value="{cast.supervisor.pk}"' not in page.content.decode()
    assert f'name="layers" value="{cast.coder_a.pk}" checked' in page.content.decode()


# Notifications ----------------------------------------------------------------------------


def test_opening_a_thread_and_replying_leaves_no_unread_notification(
    cast: Cast, tree: dict[str, Code]
) -> None:
    thread = com.thread_start(
        study=cast.study,
        actor=cast.supervisor,
        target_kind="code",
        target_uuid=tree["Setting"].uuid,
        body="@alice kijk je even?",
    )
    other = com.thread_start(
        study=cast.study,
        actor=cast.supervisor,
        target_kind="code",
        target_uuid=tree["Setting"].uuid,
        body="@alice en hier?",
    )
    assert com.unread_count(cast.owner) == 2
    owner = client_for(cast.owner)
    owner.get(reverse("comment_thread", args=[cast.study.slug, thread.uuid]))
    assert [n.comment.thread for n in com.notifications_for(cast.owner)] == [other]
    response = owner.post(
        reverse("comment_reply", args=[cast.study.slug, thread.uuid]), {"body": "Ja."}
    )
    owner.get(response["Location"])
    assert com.unread_count(cast.owner) == 1
    # Opening a thread reads only the opener's notifications.
    com.comment_add(thread=other, actor=cast.owner, body="@sam zie boven")
    owner.get(reverse("comment_thread", args=[cast.study.slug, other.uuid]))
    assert com.unread_count(cast.owner) == 0
    # Sam's news (alice's reply, her mention) waits until sam opens the threads.
    assert com.unread_count(cast.supervisor) == 2
    assert CommentThread.objects.count() == 2


# A fresh study from the template ----------------------------------------------------------


def test_a_template_codebook_is_one_line_of_activity_and_wholly_deductive(cast: Cast) -> None:
    services.codebook_apply_template(study=cast.study, actor=cast.owner, template="veerkracht")
    codes = Code.objects.filter(study=cast.study)
    assert codes.count() == 27
    assert set(codes.values_list("origin", flat=True)) == {Code.Origin.DEDUCTIVE}
    rows = dash.dashboard(cast.study, cast.owner)["activity"]
    assert [(r.action, r.n_added, r.template) for r in rows] == [
        ("codebook_import", 27, "veerkracht")
    ]
    page = client_for(cast.owner, "nl").get(reverse("study_detail", args=[cast.study.slug]))
    content = page.content.decode()
    assert (
        "maakte het codeboek aan uit het sjabloon “Veerkracht en hulpbronnen” (27 codes)" in content
    )
    assert "voegde een code toe" not in content
    assert content.count("code toegevoegd") == 0


def test_a_code_added_by_hand_still_shows_in_the_activity(cast: Cast) -> None:
    services.codebook_apply_template(study=cast.study, actor=cast.owner, template="veerkracht")
    services.code_create(study=cast.study, actor=cast.owner, name="Nieuw thema")
    rows = dash.dashboard(cast.study, cast.owner)["activity"]
    assert [r.action for r in rows] == ["code_create", "codebook_import"]
    assert rows[0].code_name == "Nieuw thema"


def test_codes_imported_after_coding_started_are_still_inductive(cast: Cast) -> None:
    services.coding_started_set(study=cast.study, actor=cast.owner, started=True)
    services.codebook_apply_template(study=cast.study, actor=cast.owner, template="veerkracht")
    assert set(Code.objects.filter(study=cast.study).values_list("origin", flat=True)) == {
        Code.Origin.INDUCTIVE
    }


def test_a_new_study_from_the_template_has_no_inductive_codes(cast: Cast) -> None:
    client = client_for(cast.owner)
    response = client.post(
        reverse("study_create"),
        {
            "name": "Nieuwe studie",
            "slug": "nieuwe-studie",
            "language": "nl",
            "template": "veerkracht",
        },
    )
    assert response.status_code == 302
    study = Study.objects.get(slug="nieuwe-studie")
    assert Code.objects.filter(study=study).count() == 27
    assert not Code.objects.filter(study=study, origin=Code.Origin.INDUCTIVE).exists()


# The agreement report ---------------------------------------------------------------------


def test_rows_without_a_coefficient_are_split_off_even_with_full_percent_agreement() -> None:
    notes = Notes()
    used = {"n_units": 6, "percent_agreement": 0.8, "krippendorff_alpha": 0.7}
    # A code nobody used: both coders agree on its absence, no coefficient can be computed.
    unused = {"n_units": 6, "percent_agreement": 1.0, "krippendorff_alpha": None}
    rows = measure_rows({"A > B": used, "A > C": unused}, "intervention", notes)
    assert [(r.label, r.computable) for r in rows] == [("A › B", True), ("A › C", False)]
    assert split_computable(rows) == ([rows[0]], [rows[1]])
    segment = measure_rows(
        {"A": {"n_units": 3, "percent_agreement": 0.5, "brennan_prediger_kappa": 0.1}},
        "segment",
        notes,
    )
    assert segment[0].computable


def test_the_agreement_report_leads_with_its_summary_and_folds_what_it_cannot_compute(
    cast: Cast,
) -> None:
    computable = {"n_units": 6, "percent_agreement": 0.9, "krippendorff_alpha": 0.7}
    nothing = {"n_units": 6, "percent_agreement": 1.0, "krippendorff_alpha": None}
    codes = {"Sociaal > Doelen": computable}
    codes |= {f"Thema {n} > Inhoud": nothing for n in range(12)}
    run = AgreementRun.objects.create(
        study=cast.study,
        created_by=cast.owner,
        params={"coders": ["bob", "carol"], "unit": "intervention"},
        status=AgreementRun.Status.DONE,
        result={
            "unit": "intervention",
            "coders": ["bob", "carol"],
            "overall": {**computable, "interpretation": "not acceptable"},
            "codes": codes,
            "n_interventions": 1,
            "n_interventions_total": 1,
        },
        finished_at=timezone.now(),
    )
    url = reverse("agreement_report", args=[cast.study.slug, run.uuid])
    content = client_for(cast.owner, "nl").get(url).content.decode()
    assert content.index('id="overall-heading"') < content.index('class="card run-summary"')
    folded = content[content.index('id="codes-folded"') :]
    folded = folded[: folded.index("</details>")]
    assert "12 codes niet te berekenen" in folded
    assert folded.count("<tr>") == 13  # the heading row and the twelve codes
    table = content[content.index('id="codes-table"') :]
    table = table[: table.index("</table>")]
    assert "Sociaal › Doelen" in table
    assert "Thema 0" not in table
    assert "1 van 1 interventie (100%)" in content


# Dutch wording ---------------------------------------------------------------------------


def test_the_dutch_dashboard_translates_the_unit_and_the_verdict(cast: Cast) -> None:
    AgreementRun.objects.create(
        study=cast.study,
        created_by=cast.owner,
        params={"coders": ["bob", "carol"], "unit": "intervention"},
        status=AgreementRun.Status.DONE,
        result={
            "overall": {"krippendorff_alpha": 0.4, "interpretation": "not acceptable"},
            "codes": {"Sociaal > Doelen": {"krippendorff_alpha": 0.3}},
        },
        finished_at=timezone.now(),
    )
    content = (
        client_for(cast.owner, "nl")
        .get(reverse("study_detail", args=[cast.study.slug]))
        .content.decode()
    )
    assert "eenheid: interventie" in content
    assert "niet aanvaardbaar" in content
    assert "intervention ·" not in content
    assert "not acceptable" not in content
    assert "<span>Sociaal › Doelen</span>" in content


def test_the_dutch_intervention_list_counts_one_intervention_in_the_singular(
    cast: Cast,
) -> None:
    content = (
        client_for(cast.owner, "nl")
        .get(reverse("intervention_list", args=[cast.study.slug]))
        .content.decode()
    )
    assert "1 van 1 interventie getoond" in content


def test_the_discussion_has_one_name_in_dutch(cast: Cast) -> None:
    content = (
        client_for(cast.owner, "nl")
        .get(reverse("comment_threads", args=[cast.study.slug]))
        .content.decode()
    )
    assert "<h1>Discussie</h1>" in content
    assert ">Opmerkingen<" not in content
