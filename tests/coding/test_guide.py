"""The study page's next-step guide (`coding.guide.round_guide`): each state of a round, read
from the study's real rows, and only the actions the viewer's role may do."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from coding.agreement.assignments import assignment_create
from coding.consensus.services import consensus_accept_agreed
from coding.guide import GuideStep, round_guide
from coding.models import AgreementRun, Codebook, CodebookVersion
from coding.segments import progress_set
from interventions.access import access_for
from tests.conftest import Cast
from tests.factories import CodeFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def guide(cast: Cast, user: Any) -> dict[str, GuideStep]:
    access = access_for(cast.study, user)
    assert access is not None
    return {step.key: step for step in round_guide(access)}


def next_key(steps: dict[str, GuideStep]) -> str | None:
    marked = [key for key, step in steps.items() if step.is_next]
    assert len(marked) <= 1
    return marked[0] if marked else None


def approve(cast: Cast) -> None:
    CodebookVersion.objects.create(
        study=cast.study,
        number=1,
        label="v1",
        snapshot={},
        approved_by=cast.supervisor,
        approved_at=timezone.now(),
    )


def assign_both(cast: Cast) -> None:
    for coder in (cast.coder_a, cast.coder_b):
        assignment_create(
            study=cast.study,
            actor=cast.owner,
            coder=coder,
            interventions=[cast.intervention],
            method="",
        )


def finish_coding(cast: Cast) -> None:
    code = CodeFactory(study=cast.study, name="Sociale hulpbronnen")
    for coder in (cast.coder_a, cast.coder_b):
        SegmentFactory(intervention=cast.intervention, coder=coder, code=code, start=0, end=4)
        progress_set(intervention=cast.intervention, coder=coder, done=True)


def test_a_study_without_texts_starts_with_the_import(cast: Cast) -> None:
    cast.intervention.delete()

    owner = guide(cast, cast.owner)

    assert next_key(owner) == "texts"
    assert not owner["texts"].done
    assert owner["texts"].url == reverse("intervention_upload", args=[cast.study.slug])
    assert guide(cast, cast.coder_a)["texts"].url is None
    assert guide(cast, cast.supervisor)["texts"].url is None


def test_with_texts_the_codebook_approval_is_next_and_only_the_supervisor_approves(
    cast: Cast,
) -> None:
    owner = guide(cast, cast.owner)
    supervisor = guide(cast, cast.supervisor)

    assert owner["texts"].done
    assert next_key(owner) == "codebook"
    assert supervisor["codebook"].url == reverse("codebook_review", args=[cast.study.slug])
    assert owner["codebook"].url == reverse("codebook", args=[cast.study.slug])
    assert guide(cast, cast.coder_a)["codebook"].url is None


def test_an_approved_codebook_leads_to_setting_up_double_coding(cast: Cast) -> None:
    approve(cast)

    owner = guide(cast, cast.owner)

    assert owner["codebook"].done
    assert next_key(owner) == "assignments"
    assert owner["assignments"].url == reverse("agreement_assignments", args=[cast.study.slug])
    assert guide(cast, cast.supervisor)["assignments"].url is None


def test_one_coder_assigned_is_not_double_coding(cast: Cast) -> None:
    approve(cast)
    assignment_create(
        study=cast.study,
        actor=cast.owner,
        coder=cast.coder_a,
        interventions=[cast.intervention],
        method="",
    )

    assert not guide(cast, cast.owner)["assignments"].done


def test_with_assignments_the_coders_are_next_until_every_one_marked_done(cast: Cast) -> None:
    approve(cast)
    assign_both(cast)
    progress_set(intervention=cast.intervention, coder=cast.coder_a, done=True)

    owner = guide(cast, cast.owner)
    carol = guide(cast, cast.coder_a)
    bob = guide(cast, cast.coder_b)

    assert owner["assignments"].done
    assert next_key(owner) == "coding"
    assert owner["coding"].url == reverse("study_progress", args=[cast.study.slug])
    assert bob["coding"].url == reverse("agreement_mine", args=[cast.study.slug])
    assert not bob["coding"].done
    # Blind: carol's step reads her own progress only.
    Codebook.objects.filter(study=cast.study).update(reveal=Codebook.Reveal.AFTER_REVEAL)
    carol = guide(cast, cast.coder_a)
    assert carol["coding"].done
    assert str(carol["coding"].label) == "Finish your assigned interventions"


def test_when_the_coders_are_done_the_agreement_run_is_next_for_those_who_see_it(
    cast: Cast,
) -> None:
    approve(cast)
    assign_both(cast)
    finish_coding(cast)

    owner = guide(cast, cast.owner)

    assert owner["coding"].done
    assert next_key(owner) == "agreement"
    assert owner["agreement"].url == reverse("agreement", args=[cast.study.slug])
    assert "agreement" in guide(cast, cast.supervisor)
    assert "agreement" not in guide(cast, cast.coder_a)


def test_after_a_finished_run_the_disagreements_are_next_until_all_are_decided(
    cast: Cast,
) -> None:
    approve(cast)
    assign_both(cast)
    finish_coding(cast)
    AgreementRun.objects.create(
        study=cast.study, created_by=cast.owner, status=AgreementRun.Status.DONE
    )

    owner = guide(cast, cast.owner)
    assert owner["agreement"].done
    assert next_key(owner) == "consensus"
    assert owner["consensus"].url == reverse("consensus", args=[cast.study.slug])

    consensus_accept_agreed(intervention=cast.intervention, actor=cast.owner)

    owner = guide(cast, cast.owner)
    assert owner["consensus"].done
    assert next_key(owner) is None


def test_a_queued_run_is_not_a_run(cast: Cast) -> None:
    AgreementRun.objects.create(study=cast.study, created_by=cast.owner)

    assert not guide(cast, cast.owner)["agreement"].done


def test_before_the_reveal_a_coder_has_no_way_to_the_consensus(blind_cast: Cast) -> None:
    carol = guide(blind_cast, blind_cast.coder_a)

    assert carol["consensus"].url is None
    assert not carol["consensus"].done


def test_the_study_page_shows_the_guide_with_its_next_step(cast: Cast, client: Any) -> None:
    client.force_login(cast.owner)

    page = client.get(reverse("study_detail", args=[cast.study.slug]), HTTP_ACCEPT_LANGUAGE="nl")

    html = page.content.decode()
    assert "Stappen van de ronde" in html
    assert 'aria-current="step"' in html
    assert "Volgende stap" in html
    assert "Laat het codeboek goedkeuren" in html
