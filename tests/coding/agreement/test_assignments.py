"""Assigning interventions to coders: by hand, all, or a seeded (stratified) sample."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from coding.agreement.assignments import AssignmentError, assignment_create, sample_interventions
from coding.models import Assignment, CodingEvent
from interventions.models import AttributeDefinition, AttributeValue, Intervention
from tests.conftest import Cast


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def corpus(cast: Cast) -> list[Intervention]:
    setting = AttributeDefinition.objects.create(study=cast.study, name="Setting")
    items = [cast.intervention]
    for n in range(19):
        item = Intervention.objects.create(study=cast.study, title=f"Interventie {n:02}", text="x")
        AttributeValue.objects.create(
            intervention=item, definition=setting, value="Thuis" if n % 4 else "Zorginstelling"
        )
        items.append(item)
    return items


def test_a_sample_is_the_same_for_the_same_seed_and_differs_for_another(
    corpus: list[Intervention],
) -> None:
    first = sample_interventions(corpus, percent=25, seed=7)
    again = sample_interventions(list(reversed(corpus)), percent=25, seed=7)
    other = sample_interventions(corpus, percent=25, seed=8)
    assert len(first) == 5
    assert first == again
    assert first != other


def test_a_stratified_sample_takes_each_stratum_in_proportion(
    cast: Cast, corpus: list[Intervention]
) -> None:
    from coding.agreement.assignments import strata_for

    strata = strata_for(AttributeDefinition.objects.get(name="Setting"))
    chosen = sample_interventions(corpus, percent=20, seed=1, strata=strata)
    values = [strata.get(i.pk, "") for i in chosen]
    # 14 Thuis -> 3, 5 Zorginstelling -> 1, 1 without a value -> at least 1.
    assert values.count("Thuis") == 3
    assert values.count("Zorginstelling") == 1
    assert values.count("") == 1


def test_a_supervisor_cannot_be_assigned_and_nothing_is_stored(
    cast: Cast, corpus: list[Intervention]
) -> None:
    with pytest.raises(AssignmentError, match="not a coder"):
        assignment_create(
            study=cast.study,
            actor=cast.owner,
            coder=cast.supervisor,
            interventions=corpus,
            method="all",
        )
    assert not Assignment.objects.exists()


def test_the_assign_command_records_the_seed_and_adds_only_new_ones(
    cast: Cast, corpus: list[Intervention]
) -> None:
    out = run("assign", "--study", "gezin", "--coder", "bob", "--sample", "25", "--seed", "42")
    lines = out.splitlines()
    assert lines[0] == "Assigned 5 interventions of gezin to bob (25% sample, seed 42; 5 new)"
    assert len(lines) == 6
    event = CodingEvent.objects.get(action="assign")
    assert event.after["seed"] == 42
    assert event.after["percent"] == 25
    out = run("assign", "--study", "gezin", "--coder", "bob", "--all")
    assert out.splitlines()[0] == "Assigned 20 interventions of gezin to bob (all; 15 new)"
    assert Assignment.objects.filter(coder=cast.coder_b).count() == 20


def test_the_assign_command_takes_repeated_titles(cast: Cast, corpus: list[Intervention]) -> None:
    out = run(
        "assign",
        "--study",
        "gezin",
        "--coder",
        "carol",
        "--intervention",
        "Gezin Centraal",
        "--intervention",
        "Interventie 03",
    )
    assert out.splitlines() == [
        "Assigned 2 interventions of gezin to carol (by title; 2 new)",
        "  Gezin Centraal",
        "  Interventie 03",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--coder", "bob", "--sample", "25"], "needs --seed"),
        (["--coder", "bob", "--sample", "0", "--seed", "1"], "percentage"),
        (["--coder", "bob", "--intervention", "Bestaat niet"], "No intervention titled"),
        (["--coder", "niemand", "--all"], "No user"),
        (["--coder", "sam", "--all"], "not a coder"),
        (
            ["--coder", "bob", "--sample", "50", "--seed", "1", "--stratify", "Kleur"],
            "No attribute",
        ),
    ],
)
def test_the_assign_command_refuses_bad_input_and_changes_nothing(
    cast: Cast, corpus: list[Intervention], args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        run("assign", "--study", "gezin", *args)
    assert not Assignment.objects.exists()


def test_assign_needs_exactly_one_way_of_choosing(db: Any) -> None:
    with pytest.raises(CommandError):
        run("assign", "--study", "gezin", "--coder", "bob")
