"""The fixed cast: alice owns the study, sam supervises, carol and bob code, oscar is outside."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation

from interventions.models import Intervention, Role, Study
from tests.factories import InterventionFactory, MembershipFactory, StudyFactory, UserFactory


@dataclass
class Cast:
    study: Study
    intervention: Intervention
    owner: Any
    supervisor: Any
    coder_a: Any
    coder_b: Any
    outsider: Any


@pytest.fixture(autouse=True)
def _no_language_left_behind() -> Iterator[None]:
    """A request in Dutch leaves Dutch active in the thread; start every test from the default."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def cast(db: Any) -> Cast:
    study = StudyFactory(name="Gezinsinterventies", slug="gezin")
    owner = UserFactory(username="alice")
    supervisor = UserFactory(username="sam")
    coder_a = UserFactory(username="carol")
    coder_b = UserFactory(username="bob")
    outsider = UserFactory(username="oscar")
    MembershipFactory(study=study, user=owner, role=Role.OWNER)
    MembershipFactory(study=study, user=supervisor, role=Role.SUPERVISOR)
    MembershipFactory(study=study, user=coder_a, role=Role.CODER)
    MembershipFactory(study=study, user=coder_b, role=Role.CODER)
    intervention = InterventionFactory(study=study, title="Gezin Centraal")
    return Cast(study, intervention, owner, supervisor, coder_a, coder_b, outsider)
