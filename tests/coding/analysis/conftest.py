"""Fixtures of the analysis tests: three interventions coded by carol and bob (see
test_tables.py for the tables computed by hand from them)."""

from __future__ import annotations

from typing import Any

import pytest

from coding import segments as seg
from coding.codebook import services
from coding.consensus import services as cons
from coding.models import Code, Segment
from interventions.models import Intervention, Section
from tests.conftest import Cast
from tests.factories import AttributeDefinitionFactory, AttributeValueFactory, InterventionFactory

TEXT = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ!?"


def at(doc: Intervention, coder: Any, code: Code, start: int, end: int) -> Segment:
    return seg.segment_create(
        intervention=doc, coder=coder, code=code, start=start, end=end, quote=doc.text[start:end]
    )


@pytest.fixture
def tree(cast: Cast) -> dict[str, Code]:
    make = services.code_create
    sociaal = make(study=cast.study, actor=cast.owner, name="Sociaal")
    psych = make(study=cast.study, actor=cast.owner, name="Psychologisch")
    return {
        "sociaal": sociaal,
        "s_doelen": make(study=cast.study, actor=cast.owner, name="Doelen", parent=sociaal),
        "s_inhoud": make(study=cast.study, actor=cast.owner, name="Inhoud", parent=sociaal),
        "psych": psych,
        "p_inhoud": make(study=cast.study, actor=cast.owner, name="Inhoud", parent=psych),
    }


@pytest.fixture
def three(cast: Cast, tree: dict[str, Code]) -> dict[str, Intervention]:
    alfa = cast.intervention
    alfa.title, alfa.text = "Alfa", TEXT
    alfa.save()
    beta = InterventionFactory(study=cast.study, title="Beta", text=TEXT)
    gamma = InterventionFactory(study=cast.study, title="Gamma", text=TEXT)
    carol, bob = cast.coder_a, cast.coder_b
    at(alfa, carol, tree["s_doelen"], 0, 10)
    at(alfa, carol, tree["s_inhoud"], 5, 15)  # overlaps the one before
    at(alfa, carol, tree["p_inhoud"], 20, 30)
    at(beta, carol, tree["s_inhoud"], 0, 10)
    at(gamma, carol, tree["p_inhoud"], 0, 5)
    at(gamma, carol, tree["s_doelen"], 40, 50)
    Section.objects.create(
        intervention=gamma, heading="Samenvatting", start=36, end=60, excluded=True
    )
    at(alfa, bob, tree["s_doelen"], 0, 10)
    setting: Any = AttributeDefinitionFactory(study=cast.study, name="Setting")
    AttributeValueFactory(intervention=alfa, definition=setting, value="Thuis")
    AttributeValueFactory(intervention=beta, definition=setting, value="Thuis; School")
    AttributeValueFactory(intervention=gamma, definition=setting, value="School")
    return {"alfa": alfa, "beta": beta, "gamma": gamma}


@pytest.fixture
def reconciled(cast: Cast, three: dict[str, Intervention]) -> dict[str, Intervention]:
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    cons.consensus_accept_agreed(intervention=three["alfa"], actor=cast.owner)
    return three
