"""Agreement from the database: the command's JSON, runs as tasks, and what they used."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from coding.agreement.assignments import assignment_create
from coding.agreement.runs import AgreementError, agreement_run_start, is_outdated
from coding.codebook import services
from coding.models import AgreementRun, Code, Segment
from interventions.models import Intervention, Section
from tests.conftest import Cast
from veerkracht.celery import app as celery_app

TEXT = "Samenvatting\nKort.\n\nDoel\nOuders leren hun kind beter begrijpen.\n"


@pytest.fixture
def coded(cast: Cast) -> dict[str, Any]:
    theme = services.code_create(study=cast.study, actor=cast.owner, name="Sociaal")
    goals = services.code_create(study=cast.study, actor=cast.owner, name="Doelen", parent=theme)
    content = services.code_create(study=cast.study, actor=cast.owner, name="Inhoud", parent=theme)
    texts = []
    for n in range(3):
        item = Intervention.objects.create(study=cast.study, title=f"Tekst {n}", text=TEXT)
        Section.objects.create(
            intervention=item, heading="Samenvatting", start=0, end=20, excluded=True
        )
        texts.append(item)
    for coder in (cast.coder_a, cast.coder_b):
        assignment_create(
            study=cast.study, actor=cast.owner, coder=coder, interventions=texts, method="all"
        )
    start = TEXT.index("Ouders")

    def code(item: Intervention, coder: Any, code: Code, length: int = 6) -> Segment:
        return Segment.objects.create(
            intervention=item,
            coder=coder,
            code=code,
            start=start,
            end=start + length,
            quote=TEXT[start : start + length],
        )

    code(texts[0], cast.coder_a, goals)
    code(texts[0], cast.coder_b, goals)
    code(texts[1], cast.coder_a, goals)
    code(texts[1], cast.coder_b, content)
    return {"texts": texts, "goals": goals, "content": content, "code": code}


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_agreement_command_prints_the_documented_json(cast: Cast, coded: Any) -> None:
    result = json.loads(run("agreement", "--study", "gezin", "--coders", "bob,carol"))
    assert set(result) == {"unit", "coders", "left_out", "overall", "codes", "families"}
    assert result["unit"] == "intervention"
    assert result["coders"] == ["bob", "carol"]
    assert set(result["codes"]) == {"Sociaal", "Sociaal > Doelen", "Sociaal > Inhoud"}
    assert set(result["families"]) == {"Sociaal"}
    doelen = result["codes"]["Sociaal > Doelen"]
    assert doelen["n_units"] == 3
    assert doelen["percent_agreement"] == pytest.approx(2 / 3)
    assert doelen["fleiss_kappa"] is None
    assert result["codes"]["Sociaal"]["percent_agreement"] == pytest.approx(1.0)
    assert result["codes"]["Sociaal"]["krippendorff_alpha"] is not None


def test_by_default_the_command_compares_the_assigned_raters_and_names_who_is_left_out(
    cast: Cast, coded: Any
) -> None:
    # Two raters double-coded every text; the owner codes too (a role that may) but has no
    # assignment and no segment; the supervisor does not code at all.
    result = json.loads(run("agreement", "--study", "gezin"))
    assert result["coders"] == ["bob", "carol"]
    assert result["left_out"] == [{"coder": "alice", "reason": "no_assignment"}]
    doelen = result["codes"]["Sociaal > Doelen"]
    # Cohen's kappa of the two raters on "Doelen" over three texts: carol [1, 1, 0] and
    # bob [1, 0, 0]; p_o = 2/3, p_e = (2/3)(1/3) + (1/3)(2/3) = 4/9, kappa = (2/9)/(5/9).
    assert doelen["cohen_kappa"] == pytest.approx(0.4)
    assert result["overall"]["cohen_kappa"] is not None


def test_without_any_assignment_the_coders_with_segments_compare_on_what_they_coded(
    cast: Cast, coded: Any
) -> None:
    from coding.models import Assignment

    Assignment.objects.all().delete()
    result = json.loads(run("agreement", "--study", "gezin"))
    assert result["coders"] == ["bob", "carol"]
    assert result["left_out"] == [{"coder": "alice", "reason": "no_segments"}]
    # Each coder's texts are those they coded: texts 0 and 1, both double-coded.
    assert result["codes"]["Sociaal > Doelen"]["n_units"] == 2
    chosen = json.loads(run("agreement", "--study", "gezin", "--coders", "carol,alice"))
    assert chosen["left_out"] == [{"coder": "bob", "reason": "not_chosen"}]


def test_the_agreement_command_takes_every_unit_and_a_bootstrap(cast: Cast, coded: Any) -> None:
    for unit in ("word", "character", "segment"):
        result = json.loads(
            run(
                "agreement",
                "--study",
                "gezin",
                "--coders",
                "bob,carol",
                "--unit",
                unit,
                "--bootstrap",
                "200",
                "--seed",
                "1",
            )
        )
        assert result["unit"] == unit
    words = json.loads(
        run(
            "agreement",
            "--study",
            "gezin",
            "--coders",
            "bob,carol",
            "--unit",
            "word",
            "--bootstrap",
            "200",
            "--seed",
            "1",
        )
    )
    # The not-coded summary adds no units: "Doel" and six words per text, 3 texts.
    assert words["codes"]["Sociaal"]["n_units"] == 3 * 7
    low, high = words["overall"]["alpha_ci95"]
    assert low <= words["overall"]["krippendorff_alpha"] <= high


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--study", "nope"], "No study"),
        (["--study", "gezin", "--coders", "bob,niemand"], "not a coder"),
        (["--study", "gezin", "--coders", "bob"], "at least two coders"),
        (["--study", "gezin", "--coders", "bob,sam"], "not a coder"),
        (["--study", "gezin", "--overlap", "1.5"], "overlap"),
        (["--study", "gezin", "--bootstrap", "-1"], "Bootstrap"),
    ],
)
def test_the_agreement_command_refuses_bad_input(
    cast: Cast, coded: Any, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run("agreement", *args)


def test_a_run_stores_its_result_and_exactly_the_segments_it_used(
    cast: Cast, coded: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        run_ = agreement_run_start(study=cast.study, actor=cast.owner, coders=["bob", "carol"])
    run_.refresh_from_db()
    assert run_.status == AgreementRun.Status.DONE
    assert sorted(run_.segment_ids) == sorted(Segment.objects.values_list("pk", flat=True))
    assert run_.result["codes"]["Sociaal > Doelen"]["percent_agreement"] == pytest.approx(2 / 3)
    assert not is_outdated(run_)
    coded["code"](coded["texts"][2], cast.coder_a, coded["goals"])
    assert is_outdated(run_)


def test_a_run_with_a_bootstrap_records_its_seed(
    cast: Cast, coded: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        run_ = agreement_run_start(
            study=cast.study,
            actor=cast.owner,
            coders=["bob", "carol"],
            unit="word",
            bootstrap=100,
        )
    run_.refresh_from_db()
    assert isinstance(run_.params["seed"], int)
    assert run_.result["overall"]["alpha_ci95"] is not None


def test_rerunning_a_finished_run_changes_nothing(
    cast: Cast, coded: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from coding.tasks import run_agreement

    with django_capture_on_commit_callbacks(execute=True):
        run_ = agreement_run_start(study=cast.study, actor=cast.owner, coders=["bob", "carol"])
    run_.refresh_from_db()
    finished = (run_.finished_at, run_.result)
    run_agreement.apply(args=[run_.pk])
    run_.refresh_from_db()
    assert (run_.finished_at, run_.result) == finished


def test_a_bad_start_stores_no_run(cast: Cast, coded: Any) -> None:
    with pytest.raises(AgreementError):
        agreement_run_start(study=cast.study, actor=cast.owner, coders=["bob", "oscar"])
    assert not AgreementRun.objects.exists()


@pytest.mark.parametrize("unit", ["intervention", "word", "character", "segment"])
def test_a_run_split_into_blocks_of_texts_stores_exactly_the_single_runs_result(
    cast: Cast, coded: Any, django_capture_on_commit_callbacks: Any, settings: Any, unit: str
) -> None:
    from coding.tasks import run_agreement_part

    coded["code"](coded["texts"][2], cast.coder_a, coded["goals"], length=12)
    coded["code"](coded["texts"][2], cast.coder_b, coded["content"], length=9)
    options = {"coders": ["bob", "carol"], "unit": unit, "bootstrap": 50, "seed": 3}
    with django_capture_on_commit_callbacks(execute=True):
        single = agreement_run_start(study=cast.study, actor=cast.owner, **options)
    settings.AGREEMENT_SPLIT, settings.AGREEMENT_BLOCK_TEXTS = True, 1
    with (
        mock.patch.object(celery_app, "signature", wraps=celery_app.signature) as signature,
        django_capture_on_commit_callbacks(execute=True),
    ):
        split = agreement_run_start(study=cast.study, actor=cast.owner, **options)
    single.refresh_from_db()
    split.refresh_from_db()
    parts = [c.kwargs["args"] for c in signature.call_args_list if "part" in c.args[0]]
    assert parts == [(split.pk, 0), (split.pk, 1), (split.pk, 2)]  # a task per text
    assert split.status == AgreementRun.Status.DONE
    assert split.result == single.result
    assert split.segment_ids == single.segment_ids
    assert split.fingerprint == single.fingerprint
    assert not split.parts.exists()
    # A block delivered again after the run finished changes nothing.
    finished = (split.finished_at, split.result)
    run_agreement_part.apply(args=[split.pk, 0])
    split.refresh_from_db()
    assert (split.finished_at, split.result) == finished


def test_a_split_run_waits_for_its_last_block(
    cast: Cast, coded: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from coding.tasks import run_agreement_part

    settings.AGREEMENT_SPLIT, settings.AGREEMENT_BLOCK_TEXTS = True, 2
    with mock.patch("veerkracht.jobs.celery_app.signature") as signature:
        with django_capture_on_commit_callbacks(execute=True):
            run_ = agreement_run_start(study=cast.study, actor=cast.owner, coders=["bob", "carol"])
        # The run's own task went through the mock: run it, then its blocks one by one.
        from coding.tasks import run_agreement

        with django_capture_on_commit_callbacks(execute=True):
            run_agreement.apply(args=[run_.pk])
    sent = [c.kwargs["args"] for c in signature.call_args_list]
    assert sent == [(run_.pk,), (run_.pk, 0), (run_.pk, 1)]
    run_agreement_part.apply(args=[run_.pk, 1])
    run_.refresh_from_db()
    assert run_.status == AgreementRun.Status.RUNNING
    assert run_.progress == 10 + 85 // 2
    run_agreement_part.apply(args=[run_.pk, 0])
    run_.refresh_from_db()
    assert run_.status == AgreementRun.Status.DONE
    assert run_.result["codes"]["Sociaal > Doelen"]["percent_agreement"] == pytest.approx(2 / 3)
