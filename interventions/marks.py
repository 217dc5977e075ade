"""How pages tell a study's members apart: initials and a colour each, both distinct in the
study ("BE" would name both "begeleider" and "beoordelaar": they become "BEG" and "BEO")."""

from __future__ import annotations

import colorsys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from interventions.models import Membership, Study

# Told apart by people with the common colour-vision deficiencies (Okabe and Ito), darkened
# where needed so that white text on them keeps WCAG AA contrast; members past these take
# hues a golden angle apart.
MEMBER_COLOURS = (
    "#0063a0",
    "#b34700",
    "#007a5a",
    "#a8457f",
    "#6b5b00",
    "#1f6e93",
    "#5b4a9e",
    "#4d4d4d",
)
_LONGEST = 8


@dataclass(frozen=True)
class MemberMark:
    initials: str
    colour: str


def _letters(user: Any, n: int) -> str:
    """`n` letters for a user: first name's first letters and the last name's initial for a
    full name ("CS", then "CAS"), else the first letters of the name or username."""
    first, last = (user.first_name or "").strip(), (user.last_name or "").strip()
    if first and last:
        return (first[: n - 1] + last[0]).upper()
    word = "".join((first or last or user.username).split())
    return word[:n].upper()


def _colour(index: int) -> str:
    if index < len(MEMBER_COLOURS):
        return MEMBER_COLOURS[index]
    hue = (index * 0.381966) % 1.0
    red, green, blue = colorsys.hls_to_rgb(hue, 0.35, 0.65)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def member_marks(users: Sequence[Any]) -> dict[int, MemberMark]:
    """Initials and a colour for each of `users` (a study's members, in the order they
    joined), by user id: two letters where they tell the member apart, more where two
    members would share them, a number where even the whole name does not. Colours go by
    that order, so a member keeps theirs when others join."""
    initials: dict[int, str] = {}
    pending = list(users)
    n = 2
    while pending and n <= _LONGEST:
        tried = {user.pk: _letters(user, n) for user in pending}
        clashes = Counter(tried.values())
        taken = set(initials.values())
        left = []
        for user in pending:
            letters = tried[user.pk]
            if letters and clashes[letters] == 1 and letters not in taken:
                initials[user.pk] = letters
            else:
                left.append(user)
        pending, n = left, n + 1
    for user in pending:
        base, number = _letters(user, 2) or "?", 1
        while f"{base}{number}" in initials.values():
            number += 1
        initials[user.pk] = f"{base}{number}"
    return {
        user.pk: MemberMark(initials[user.pk], _colour(index)) for index, user in enumerate(users)
    }


def study_marks(study: Study) -> dict[int, MemberMark]:
    """`member_marks` of every member of `study`, from one query."""
    members = Membership.objects.filter(study=study).select_related("user").order_by("pk")
    return member_marks([membership.user for membership in members])
