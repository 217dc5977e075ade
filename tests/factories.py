from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from coding.models import Code, Segment
from interventions.models import (
    AttributeDefinition,
    AttributeValue,
    Intervention,
    Membership,
    Role,
    Study,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("wachtwoord-123")


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study

    name = factory.Sequence(lambda n: f"Studie {n}")
    slug = factory.Sequence(lambda n: f"studie-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    study = factory.SubFactory(StudyFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.CODER


class InterventionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Intervention

    study = factory.SubFactory(StudyFactory)
    title = factory.Sequence(lambda n: f"Interventie {n}")
    text = "Doel\nHet gezin versterken.\n\nAanpak\nWekelijkse huisbezoeken."


class AttributeDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttributeDefinition

    study = factory.SubFactory(StudyFactory)
    name = factory.Sequence(lambda n: f"Kenmerk {n}")


class AttributeValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttributeValue

    intervention = factory.SubFactory(InterventionFactory)
    definition = factory.SubFactory(AttributeDefinitionFactory)
    value = "Thuis"


class CodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Code

    study = factory.SubFactory(StudyFactory)
    name = factory.Sequence(lambda n: f"Code {n}")


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Segment

    intervention = factory.SubFactory(InterventionFactory)
    code = factory.SubFactory(CodeFactory)
    coder = factory.SubFactory(UserFactory)
    start = 0
    end = 4
    quote = factory.LazyAttribute(lambda s: s.intervention.text[s.start : s.end])
