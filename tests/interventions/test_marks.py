"""Members told apart: initials and colours distinct in a study (`interventions.marks`)."""

from __future__ import annotations

from dataclasses import dataclass

from interventions.marks import MEMBER_COLOURS, member_marks, study_marks
from interventions.models import Role
from tests.conftest import Cast
from tests.factories import MembershipFactory, UserFactory


@dataclass
class Person:
    pk: int
    username: str
    first_name: str = ""
    last_name: str = ""


def initials(*people: Person) -> list[str]:
    marks = member_marks(people)
    return [marks[p.pk].initials for p in people]


def test_two_letters_where_they_tell_members_apart() -> None:
    assert initials(Person(1, "carol"), Person(2, "bob")) == ["CA", "BO"]


def test_a_full_name_gives_first_and_last_initial() -> None:
    assert initials(Person(1, "x1", "Anna", "de Vries"), Person(2, "bob")) == ["AD", "BO"]


def test_begeleider_and_beoordelaar_take_more_letters() -> None:
    assert initials(Person(1, "begeleider"), Person(2, "beoordelaar"), Person(3, "student")) == [
        "BEG",
        "BEO",
        "ST",
    ]


def test_a_short_name_inside_a_longer_one_stays_distinct() -> None:
    assert initials(Person(1, "ab"), Person(2, "abc")) == ["AB", "ABC"]


def test_two_members_with_one_full_name_are_numbered() -> None:
    marks = initials(Person(1, "jan1", "Jan", "Smit"), Person(2, "jan2", "Jan", "Smit"))
    assert marks == ["JS1", "JS2"]
    assert len(set(marks)) == 2


def test_every_member_of_a_big_study_has_their_own_colour_and_initials() -> None:
    people = [Person(n, f"coder{n}") for n in range(1, 31)]
    marks = member_marks(people)
    assert len({m.colour for m in marks.values()}) == 30
    assert len({m.initials for m in marks.values()}) == 30
    assert [marks[p.pk].colour for p in people[:8]] == list(MEMBER_COLOURS)
    assert all(len(m.colour) == 7 and m.colour.startswith("#") for m in marks.values())


def test_a_member_keeps_their_colour_when_another_joins(cast: Cast) -> None:
    before = study_marks(cast.study)
    MembershipFactory(study=cast.study, user=UserFactory(username="zoe"), role=Role.CODER)
    after = study_marks(cast.study)
    assert all(after[pk] == before[pk] for pk in before)
    assert len({m.colour for m in after.values()}) == len(after)
