"""The fixed cast: alice owns the study, sam supervises, carol and bob code, oscar is outside."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone, translation

from coding.models import Codebook
from interventions import textcache
from interventions.models import Intervention, Role, Study
from tests.factories import InterventionFactory, MembershipFactory, StudyFactory, UserFactory
from veerkracht.celery import app as celery_app
from veerkracht.models import BackgroundJob


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


@pytest.fixture(autouse=True)
def _no_text_kept() -> None:
    """Rolled-back tests reuse ids on SQLite, and a frozen clock repeats `updated_at`: no test
    may find another test's text in the process's text cache."""
    textcache.texts.clear()


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
    # The cast's study reads along: the owner and supervisor see the layers before the reveal
    # (policy "always", chosen explicitly as an owner may). Most tests look at the layers from
    # the owner's seat; the blind default of a new study is tested in tests/coding/test_sight.py
    # and wherever `blind_cast` is used.
    Codebook.objects.create(study=study, reveal=Codebook.Reveal.ALWAYS)
    return Cast(study, intervention, owner, supervisor, coder_a, coder_b, outsider)


@pytest.fixture
def blind_cast(cast: Cast) -> Cast:
    """The cast in a study on the default policy of a new study: blind for everyone."""
    Codebook.objects.filter(study=cast.study).delete()
    return cast


# Background jobs ----------------------------------------------------------------------------


@pytest.fixture
def eager_retries() -> Iterator[None]:
    """Celery runs an eager task's retries only when errors do not propagate to the caller."""
    conf = celery_app.conf
    propagates = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = propagates


@pytest.fixture
def stale_after(settings: Any) -> int:
    """Seconds after which a running job whose heartbeat stopped has lost its worker, in the
    test: 60."""
    settings.JOB_HEARTBEAT_TIMEOUT = 60
    return 60


@pytest.fixture
def not_eager() -> Iterator[None]:
    """Tasks are sent to a broker rather than run in-process (tests patch the sending)."""
    conf = celery_app.conf
    before = conf.task_always_eager
    conf.task_always_eager = False
    yield
    conf.task_always_eager = before


@pytest.fixture
def dead_broker() -> Iterator[None]:
    """Tasks go to a Redis broker on a port where nothing listens, as when Redis is down."""
    conf = celery_app.conf
    before = (conf.task_always_eager, conf.broker_url)
    conf.task_always_eager, conf.broker_url = False, "redis://127.0.0.1:1/0"
    _reconnect()
    try:
        yield
    finally:
        conf.task_always_eager, conf.broker_url = before
        _reconnect()


def _reconnect() -> None:
    # The app keeps its connection pool and AMQP helper from the first use: drop both.
    celery_app.__dict__.pop("amqp", None)
    celery_app._pool = None


def aged(job: BackgroundJob, seconds: float) -> None:
    """Make the job's last sign of life `seconds` old, as if its worker stopped then."""
    type(job)._default_manager.filter(pk=job.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )
    job.refresh_from_db()
