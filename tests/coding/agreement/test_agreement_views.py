"""Agreement pages: who may see what, assignments and runs through the forms, the report."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from coding.agreement.assignments import assignment_create, sample_interventions, strata_for
from coding.agreement.runs import agreement_run_start
from coding.codebook import services
from coding.models import AgreementRun, Assignment, Codebook, CodingEvent, Segment
from interventions.models import AttributeDefinition, AttributeValue, Intervention
from tests.conftest import Cast

HTMX = {"HTTP_HX_REQUEST": "true"}
TEXT = "Doel\nOuders leren hun kind beter begrijpen en samen spelen.\n"
QUOTE_A = "Ouders leren"
QUOTE_B = "samen spelen"


@pytest.fixture(autouse=True)
def _no_language_left_behind() -> Iterator[None]:
    """A request in Dutch leaves Dutch active in this thread; the next test must not see it."""
    yield
    translation.deactivate()


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def segment(item: Intervention, coder: Any, code: Any, quote: str) -> Segment:
    start = item.text.index(quote)
    return Segment.objects.create(
        intervention=item, coder=coder, code=code, start=start, end=start + len(quote), quote=quote
    )


@pytest.fixture
def coded(cast: Cast) -> dict[str, Any]:
    """Three texts for carol and bob: they agree on one, disagree on another, and a code that
    nobody used (its alpha is not computable)."""
    make = services.code_create
    theme = make(study=cast.study, actor=cast.owner, name="Sociaal")
    goals = make(study=cast.study, actor=cast.owner, name="Doelen", parent=theme)
    content = make(study=cast.study, actor=cast.owner, name="Inhoud", parent=theme)
    unused = make(study=cast.study, actor=cast.owner, name="Materieel")
    texts = [
        Intervention.objects.create(study=cast.study, title=f"Tekst {n}", text=TEXT)
        for n in range(3)
    ]
    for coder in (cast.coder_a, cast.coder_b):
        assignment_create(
            study=cast.study, actor=cast.owner, coder=coder, interventions=texts, method="all"
        )
    segment(texts[0], cast.coder_a, goals, QUOTE_A)
    segment(texts[0], cast.coder_b, goals, QUOTE_A)
    disputed_a = segment(texts[1], cast.coder_a, goals, QUOTE_A)
    disputed_b = segment(texts[1], cast.coder_b, content, QUOTE_A)
    return {
        "texts": texts,
        "goals": goals,
        "content": content,
        "unused": unused,
        "disputed": (disputed_a, disputed_b),
    }


def start_run(cast: Cast, capture: Callable[..., Any], **options: Any) -> AgreementRun:
    options.setdefault("coders", ["bob", "carol"])
    with capture(execute=True):
        run = agreement_run_start(study=cast.study, actor=cast.owner, **options)
    run.refresh_from_db()
    assert run.status == AgreementRun.Status.DONE, run.error
    return run


@pytest.fixture
def finished(
    cast: Cast, coded: dict[str, Any], django_capture_on_commit_callbacks: Callable[..., Any]
) -> AgreementRun:
    return start_run(cast, django_capture_on_commit_callbacks, bootstrap=200, seed=3)


# Requests -----------------------------------------------------------------------------------
# Who may use each URL is tests/test_urls_by_role.py.


def test_posts_need_a_csrf_token(cast: Cast, coded: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.owner)
    url = reverse("agreement_assignment_add", args=[cast.study.slug])
    response = client.post(url, {"coder": "bob", "method": "all"})
    assert response.status_code == 403
    assert not Assignment.objects.filter(coder=cast.coder_b, intervention=cast.intervention)


def test_the_study_bar_links_agreement_for_the_owner_and_supervisor_only(
    cast: Cast, coded: dict[str, Any]
) -> None:
    url = reverse("agreement", args=[cast.study.slug])
    for user, shown in ((cast.owner, True), (cast.supervisor, True), (cast.coder_b, False)):
        page = client_for(user).get(reverse("study_detail", args=[cast.study.slug]))
        assert (f'href="{url}"' in page.content.decode()) is shown, user.username


# Assignments -------------------------------------------------------------------------------


@pytest.fixture
def corpus(cast: Cast) -> list[Intervention]:
    setting = AttributeDefinition.objects.create(study=cast.study, name="Setting")
    items = [cast.intervention]
    for n in range(11):
        item = Intervention.objects.create(study=cast.study, title=f"Interventie {n:02}", text="x")
        AttributeValue.objects.create(
            intervention=item, definition=setting, value="Thuis" if n % 3 else "Zorginstelling"
        )
        items.append(item)
    return items


def assign_url(cast: Cast) -> str:
    return reverse("agreement_assignment_add", args=[cast.study.slug])


def bob_has(cast: Cast) -> set[str]:
    return set(
        Assignment.objects.filter(coder=cast.coder_b).values_list("intervention__title", flat=True)
    )


def test_the_owner_assigns_a_hand_picked_list(cast: Cast, corpus: list[Intervention]) -> None:
    picked = [corpus[1], corpus[4]]
    response = client_for(cast.owner).post(
        assign_url(cast),
        {"coder": "bob", "method": "list", "interventions": [str(i.uuid) for i in picked]},
    )
    assert response.status_code == 302
    assert bob_has(cast) == {i.title for i in picked}
    event = CodingEvent.objects.get(action="assign")
    assert event.actor == cast.owner
    assert event.after["method"] == "list"
    assert event.after["coder"] == "bob"


def test_the_owner_assigns_a_seeded_sample_and_the_seed_is_recorded(
    cast: Cast, corpus: list[Intervention]
) -> None:
    client = client_for(cast.owner)
    response = client.post(
        assign_url(cast),
        {"coder": "bob", "method": "sample", "percent": "25", "seed": "7"},
        follow=True,
    )
    expected = sample_interventions(corpus, percent=25, seed=7)
    assert bob_has(cast) == {i.title for i in expected}
    event = CodingEvent.objects.get(action="assign")
    assert event.after["seed"] == 7
    assert event.after["percent"] == 25
    assert "seed 7" in response.content.decode()


def test_a_sample_without_a_seed_draws_one_and_records_it(
    cast: Cast, corpus: list[Intervention]
) -> None:
    response = client_for(cast.owner).post(
        assign_url(cast), {"coder": "bob", "method": "sample", "percent": "50"}, follow=True
    )
    seed = CodingEvent.objects.get(action="assign").after["seed"]
    assert isinstance(seed, int)
    assert bob_has(cast) == {i.title for i in sample_interventions(corpus, percent=50, seed=seed)}
    assert f"seed {seed}" in response.content.decode()


def test_the_form_shows_a_random_seed_to_start_from(cast: Cast, corpus: list[Intervention]) -> None:
    page = client_for(cast.owner).get(reverse("agreement_assignments", args=[cast.study.slug]))
    assert re.search(r'name="seed" value="\d+"', page.content.decode())


def test_the_owner_assigns_a_stratified_sample(cast: Cast, corpus: list[Intervention]) -> None:
    setting = AttributeDefinition.objects.get(name="Setting")
    response = client_for(cast.owner).post(
        assign_url(cast),
        {
            "coder": "bob",
            "method": "sample",
            "percent": "20",
            "seed": "11",
            "stratify": str(setting.pk),
        },
    )
    assert response.status_code == 302
    expected = sample_interventions(corpus, percent=20, seed=11, strata=strata_for(setting))
    assert bob_has(cast) == {i.title for i in expected}
    values = {strata_for(setting).get(i.pk, "") for i in expected}
    assert values == {"Thuis", "Zorginstelling", ""}
    event = CodingEvent.objects.get(action="assign")
    assert event.after["stratify_by"] == "Setting"
    assert event.after["seed"] == 11


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"coder": "bob", "method": "list"}, "Tick at least one intervention."),
        ({"coder": "bob", "method": "sample"}, "Give the percentage to draw"),
        (
            {"coder": "bob", "method": "sample", "percent": "0", "seed": "1"},
            "The sample is a percentage above 0 and at most 100.",
        ),
        (
            {"coder": "bob", "method": "sample", "percent": "150", "seed": "1"},
            "The sample is a percentage above 0 and at most 100.",
        ),
        ({"coder": "sam", "method": "all"}, "not a coder or owner in this study"),
        ({"coder": "nobody", "method": "all"}, "not a coder or owner in this study"),
        ({"coder": "bob", "method": "sideways"}, "Select a valid choice"),
    ],
)
def test_a_bad_assignment_answers_400_with_the_message_and_stores_nothing(
    cast: Cast, corpus: list[Intervention], data: dict[str, str], message: str
) -> None:
    response = client_for(cast.owner).post(assign_url(cast), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Assignment.objects.exists()
    assert not CodingEvent.objects.filter(action="assign").exists()


def test_the_owner_unassigns_an_intervention(cast: Cast, coded: dict[str, Any]) -> None:
    text = coded["texts"][0]
    response = client_for(cast.owner).post(
        reverse("agreement_assignment_remove", args=[cast.study.slug]),
        {"coder": "bob", "intervention": str(text.uuid)},
    )
    assert response.status_code == 302
    assert text.title not in bob_has(cast)
    assert CodingEvent.objects.filter(action="unassign").count() == 1


def test_unassigning_something_unknown_answers_400(cast: Cast, coded: dict[str, Any]) -> None:
    response = client_for(cast.owner).post(
        reverse("agreement_assignment_remove", args=[cast.study.slug]),
        {"coder": "bob", "intervention": "00000000-0000-0000-0000-000000000000"},
    )
    assert response.status_code == 400
    assert "That assignment does not exist" in response.content.decode()


def test_the_setup_lists_each_coders_assignment_and_the_double_coded_share(
    cast: Cast, coded: dict[str, Any]
) -> None:
    page = client_for(cast.supervisor).get(reverse("agreement_assignments", args=[cast.study.slug]))
    body = page.content.decode()
    assert "3 of 4 interventions are assigned to two or more coders (75%)" in body
    assert 'id="coder-bob"' in body
    # The supervisor reads; only the owner has the form and the buttons.
    assert "Unassign" not in body
    assert 'name="method"' not in body


def test_a_coder_sees_only_their_own_assignment(cast: Cast, coded: dict[str, Any]) -> None:
    only_carol = Intervention.objects.create(study=cast.study, title="Alleen voor Carol", text="x")
    assignment_create(
        study=cast.study,
        actor=cast.owner,
        coder=cast.coder_a,
        interventions=[only_carol],
        method="list",
    )
    page = client_for(cast.coder_b).get(reverse("agreement_mine", args=[cast.study.slug]))
    body = page.content.decode()
    assert "Tekst 0" in body
    assert "Alleen voor Carol" not in body
    assert "0 of 3 interventions marked done" in body
    # A link to code each one.
    workspace = reverse("workspace", args=[cast.study.slug, coded["texts"][0].uuid])
    assert workspace in body


def test_the_study_page_shows_a_coder_their_assignment_and_not_the_chart(
    cast: Cast, coded: dict[str, Any], finished: AgreementRun
) -> None:
    page = client_for(cast.coder_b).get(reverse("study_detail", args=[cast.study.slug]))
    body = page.content.decode()
    assert reverse("agreement_mine", args=[cast.study.slug]) in body
    assert "0 of 3 assigned interventions marked done" in body
    assert "<svg" not in body


# Runs --------------------------------------------------------------------------------------


def run_url(cast: Cast) -> str:
    return reverse("agreement_run_start", args=[cast.study.slug])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"unit": "intervention"}, "Choose at least two coders."),
        ({"coders": ["bob"], "unit": "intervention"}, "Choose at least two coders."),
        (
            {"coders": ["bob", "carol"], "unit": "segment", "overlap": "2"},
            "The overlap is a share above 0 and at most 1",
        ),
        (
            {"coders": ["bob", "carol"], "unit": "intervention", "bootstrap": "20000"},
            "Bootstrap samples: 0 to 10000.",
        ),
        ({"coders": ["bob", "mallory"], "unit": "intervention"}, "is not a coder in this study"),
        ({"coders": ["bob", "carol"], "unit": "sentence"}, "Select a valid choice"),
    ],
)
def test_a_bad_run_answers_400_with_the_message_and_stores_nothing(
    cast: Cast, coded: dict[str, Any], data: dict[str, Any], message: str
) -> None:
    response = client_for(cast.owner).post(run_url(cast), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AgreementRun.objects.exists()


def test_a_run_started_through_the_form_shows_per_code_values_on_its_report(
    cast: Cast,
    coded: dict[str, Any],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    client = client_for(cast.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            run_url(cast),
            {"coders": ["bob", "carol"], "unit": "intervention", "bootstrap": "100", "seed": "5"},
        )
    assert response.status_code == 302
    run = AgreementRun.objects.get()
    assert run.status == AgreementRun.Status.DONE
    assert run.params == {
        "coders": ["bob", "carol"],
        "left_out": [{"coder": "alice", "reason": "no_assignment"}],
        "unit": "intervention",
        "overlap": 0.9,
        "bootstrap": 100,
        "seed": 5,
    }
    body = client.get(reverse("agreement_report", args=[cast.study.slug, run.uuid])).content
    html = body.decode()
    assert "Left out" in html
    assert "alice: no intervention assigned (only assigned interventions count)" in html
    row = _row(html, "Sociaal › Doelen")
    # Doelen: agreed on Tekst 0, carol only on Tekst 1, neither on Tekst 2.
    assert "66.7%" in row
    assert 'data-sort="3"' in row  # n units
    assert _row(html, "Sociaal › Inhoud")
    assert "95% CI of α" in html


def _row(html: str, label: str) -> str:
    match = re.search(
        r"<tr>\s*<th scope=\"row\"[^>]*>" + re.escape(label) + r"</th>(.*?)</tr>", html, re.S
    )
    assert match, f"no row for {label}"
    return match.group(1)


def test_an_undefined_value_shows_not_computable_with_its_reason(
    cast: Cast, finished: AgreementRun
) -> None:
    html = (
        client_for(cast.owner)
        .get(reverse("agreement_report", args=[cast.study.slug, finished.uuid]))
        .content.decode()
    )
    row = _row(html, "Materieel")
    assert "not computable" in row
    assert "no variation: every coder used one category for every unit" in row  # the title
    assert "0.000" not in row
    assert "1.000" not in row
    assert 'id="note-1"' in html


def test_low_values_are_flagged_not_acceptable(cast: Cast, finished: AgreementRun) -> None:
    html = (
        client_for(cast.owner)
        .get(reverse("agreement_report", args=[cast.study.slug, finished.uuid]))
        .content.decode()
    )
    row = _row(html, "Sociaal › Doelen")
    assert "flag-low" in row
    assert "not acceptable" in row


def test_the_report_explains_the_measures_and_the_definitions(
    cast: Cast, finished: AgreementRun
) -> None:
    html = (
        client_for(cast.supervisor)
        .get(reverse("agreement_report", args=[cast.study.slug, finished.uuid]))
        .content.decode()
    )
    assert "Krippendorff&#x27;s observed agreement" in html
    assert "pairable values" in html
    assert "α ≥ .800 is reliable, α ≥ .667 allows tentative conclusions" in html
    assert "Text units count only the sections to be coded" in html


def test_the_report_lists_a_disagreement_with_both_segments_linked(
    cast: Cast, coded: dict[str, Any], finished: AgreementRun
) -> None:
    html = (
        client_for(cast.owner)
        .get(reverse("agreement_report", args=[cast.study.slug, finished.uuid]))
        .content.decode()
    )
    mine, other = coded["disputed"]
    workspace = reverse("workspace", args=[cast.study.slug, coded["texts"][1].uuid])
    layers = f"{cast.coder_b.pk},{cast.coder_a.pk}"
    for seg in (mine, other):
        assert f"{workspace}?layers={layers}&amp;segment={seg.uuid}#seg-{seg.uuid}" in html
    assert QUOTE_A in html


def test_blind_coding_hides_the_coders_passages_from_the_owner_before_the_reveal(
    cast: Cast, finished: AgreementRun
) -> None:
    Codebook.objects.update_or_create(
        study=cast.study, defaults={"reveal": Codebook.Reveal.AFTER_REVEAL}
    )
    for user in (cast.owner, cast.supervisor):
        html = (
            client_for(user)
            .get(reverse("agreement_report", args=[cast.study.slug, finished.uuid]))
            .content.decode()
        )
        assert QUOTE_A not in html
        assert "#seg-" not in html
        assert "reveal the coders' layers to see the passages" in html
        assert "bob · carol" in html  # the counts stay
    Codebook.objects.filter(study=cast.study).update(revealed_at="2025-01-01T00:00:00Z")
    html = (
        client_for(cast.owner)
        .get(reverse("agreement_report", args=[cast.study.slug, finished.uuid]))
        .content.decode()
    )
    assert QUOTE_A in html


def test_the_report_escapes_code_names(
    cast: Cast, coded: dict[str, Any], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    evil = services.code_create(study=cast.study, actor=cast.owner, name="<script>x()</script>")
    segment(coded["texts"][2], cast.coder_a, evil, QUOTE_B)
    run = start_run(cast, django_capture_on_commit_callbacks)
    html = (
        client_for(cast.owner)
        .get(reverse("agreement_report", args=[cast.study.slug, run.uuid]))
        .content.decode()
    )
    assert "<script>x()" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html


def test_the_report_loads_200_disagreements_in_a_fixed_number_of_queries(
    cast: Cast,
    django_capture_on_commit_callbacks: Callable[..., Any],
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    goals = services.code_create(study=cast.study, actor=cast.owner, name="Doelen")
    content = services.code_create(study=cast.study, actor=cast.owner, name="Inhoud")
    text = " ".join(f"woord{n:02}" for n in range(10))
    texts = [
        Intervention.objects.create(study=cast.study, title=f"Tekst {n:02}", text=text)
        for n in range(10)
    ]
    for coder in (cast.coder_a, cast.coder_b):
        assignment_create(
            study=cast.study, actor=cast.owner, coder=coder, interventions=texts, method="all"
        )
    rows = []
    for item in texts:
        for n in range(10):
            start = n * 7
            for coder, code in ((cast.coder_a, goals), (cast.coder_b, content)):
                rows.append(
                    Segment(
                        intervention=item,
                        coder=coder,
                        code=code,
                        start=start,
                        end=start + 6,
                        quote=text[start : start + 6],
                    )
                )
    Segment.objects.bulk_create(rows)
    run = start_run(cast, django_capture_on_commit_callbacks)
    assert len(run.result["disagreements"]) == 200
    client = client_for(cast.owner)
    url = reverse("agreement_report", args=[cast.study.slug, run.uuid])
    with django_assert_max_num_queries(13):
        response = client.get(url)
    # Each of carol's segments and bob's at the same place are each other's counterpart.
    assert response.content.decode().count('class="disagreement"') == 100


def test_the_status_fragment_polls_until_the_run_is_done(cast: Cast, coded: dict[str, Any]) -> None:
    # Without the on-commit callbacks the task never runs: the run stays queued.
    run = agreement_run_start(study=cast.study, actor=cast.owner, coders=["bob", "carol"])
    client = client_for(cast.owner)
    url = reverse("agreement_run_status", args=[cast.study.slug, run.uuid])
    polling = client.get(url + "?row=1", **HTMX)
    assert polling.status_code == 200
    html = polling.content.decode()
    assert '<progress max="100" value="0"' in html
    assert 'hx-trigger="every 1s"' in html
    from coding.tasks import run_agreement

    run_agreement.apply(args=[run.pk])
    done = client.get(url + "?row=1", **HTMX)
    assert done.status_code == 286
    html = done.content.decode()
    assert reverse("agreement_report", args=[cast.study.slug, run.uuid]) in html
    assert "hx-trigger" not in html
    assert f'id="run-alpha-{run.uuid}" hx-swap-oob="true"' in html
    # Opened without htmx, the status leads to the report.
    assert client.get(url).status_code == 302


def test_a_failed_run_shows_its_error(cast: Cast, coded: dict[str, Any]) -> None:
    run = agreement_run_start(study=cast.study, actor=cast.owner, coders=["bob", "carol"])
    AgreementRun.objects.filter(pk=run.pk).update(
        status=AgreementRun.Status.FAILED, error="<b>worker lost</b>"
    )
    response = client_for(cast.owner).get(
        reverse("agreement_run_status", args=[cast.study.slug, run.uuid]), **HTMX
    )
    assert response.status_code == 286
    assert "&lt;b&gt;worker lost&lt;/b&gt;" in response.content.decode()


def test_the_runs_page_marks_a_run_whose_coding_changed_and_runs_it_again(
    cast: Cast,
    coded: dict[str, Any],
    finished: AgreementRun,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    client = client_for(cast.owner)
    url = reverse("agreement", args=[cast.study.slug])
    assert "coding changed since" not in client.get(url).content.decode()
    segment(coded["texts"][2], cast.coder_b, coded["goals"], QUOTE_B)
    html = client.get(url).content.decode()
    assert "coding changed since" in html
    assert reverse("agreement_run_again", args=[cast.study.slug, finished.uuid]) in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("agreement_run_again", args=[cast.study.slug, finished.uuid])
        )
    assert response.status_code == 302
    again = AgreementRun.objects.exclude(pk=finished.pk).get()
    assert again.params == finished.params
    assert again.status == AgreementRun.Status.DONE


def test_the_runs_page_lists_runs_with_their_alpha_and_the_chart(
    cast: Cast, finished: AgreementRun
) -> None:
    html = (
        client_for(cast.supervisor)
        .get(reverse("agreement", args=[cast.study.slug]))
        .content.decode()
    )
    alpha = finished.result["overall"]["krippendorff_alpha"]
    assert f"{alpha:.3f}" in html
    assert "bob, carol" in html
    assert "<svg" in html
    assert "<polyline" not in html
    # The supervisor reads but does not start runs.
    assert 'name="coders"' not in html


def test_the_chart_draws_a_line_per_unit_with_the_thresholds(
    cast: Cast,
    coded: dict[str, Any],
    finished: AgreementRun,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    start_run(cast, django_capture_on_commit_callbacks)
    start_run(cast, django_capture_on_commit_callbacks, unit="word")
    html = (
        client_for(cast.owner).get(reverse("study_detail", args=[cast.study.slug])).content.decode()
    )
    assert html.count("<polyline") == 1  # two intervention runs; one word run is a point
    assert html.count('class="chart-point') == 3
    assert "chart-tentative" in html
    assert "chart-reliable" in html
    assert reverse("agreement_report", args=[cast.study.slug, finished.uuid]) in html


def test_the_chart_downloads_as_svg_and_png_for_the_thesis(
    cast: Cast,
    coded: dict[str, Any],
    finished: AgreementRun,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    import io

    from PIL import Image

    from coding.agreement.report import UNIT_NAMES

    start_run(cast, django_capture_on_commit_callbacks, unit="word")
    client = client_for(cast.owner)
    svg = client.get(reverse("agreement_chart_file", args=[cast.study.slug, "svg"]))
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg["Content-Disposition"] == 'attachment; filename="gezin-alpha.svg"'
    assert b"<svg" in svg.content
    assert str(UNIT_NAMES["word"]).encode() in svg.content  # the legend, as text
    png = client.get(reverse("agreement_chart_file", args=[cast.study.slug, "png"]))
    assert round(Image.open(io.BytesIO(png.content)).info["dpi"][0]) == 300
    assert (
        client.get(reverse("agreement_chart_file", args=[cast.study.slug, "gif"])).status_code
        == 404
    )
    assert (
        client_for(cast.coder_b)
        .get(reverse("agreement_chart_file", args=[cast.study.slug, "svg"]))
        .status_code
        == 403
    )


def test_a_segment_run_reports_brennan_and_prediger(
    cast: Cast, coded: dict[str, Any], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    run = start_run(cast, django_capture_on_commit_callbacks, unit="segment", overlap=0.8)
    client = client_for(cast.owner)
    html = client.get(
        reverse("agreement_report", args=[cast.study.slug, run.uuid])
    ).content.decode()
    assert "Brennan–Prediger κ" in html
    assert "minimum overlap 0.8" in html
    row = _row(html, "Sociaal › Doelen")
    assert f"{run.result['codes']['Sociaal > Doelen']['brennan_prediger_kappa']:.3f}" in row
    # The runs list has no alpha for it and says so without "not computable".
    runs = client.get(reverse("agreement", args=[cast.study.slug])).content.decode()
    assert "Alpha is not computed for the segment unit" in runs


def test_the_pages_read_in_dutch_with_decimal_commas_and_a_chart_that_still_draws(
    cast: Cast, finished: AgreementRun
) -> None:
    client = client_for(cast.owner)
    client.cookies["django_language"] = "nl"
    alpha = finished.result["overall"]["krippendorff_alpha"]
    report = client.get(
        reverse("agreement_report", args=[cast.study.slug, finished.uuid]),
        HTTP_ACCEPT_LANGUAGE="nl",
    ).content.decode()
    assert f"{alpha:.3f}".replace(".", ",") in report
    page = client.get(
        reverse("agreement", args=[cast.study.slug]), HTTP_ACCEPT_LANGUAGE="nl"
    ).content.decode()
    coordinates = re.findall(r'<circle class="chart-point[^"]*" cx="([^"]+)" cy="([^"]+)"', page)
    assert coordinates
    for x, y in coordinates:
        float(x), float(y)  # a decimal comma here would break the SVG
