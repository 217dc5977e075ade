"""The code tree: walking, paths and the limits every codebook import must respect.

``sample_tree`` is shared with the format tests: the default "Veerkracht en hulpbronnen"
codebook of domain.md, plus subcodes with a ZWJ emoji, Dutch diacritics and "<&>".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import translation

from coding.codebook.tree import (
    MAX_CODES,
    CodebookFormatError,
    CodeNode,
    count,
    normalize_color,
    normalize_origin,
    path_string,
    split_path,
    subtree_ids,
    validate_tree,
    walk,
)

EMOJI_NAME = "Gezin als geheel 👨‍👩‍👧"
DIACRITICS_NAME = "Zelfvertrouwen van ouders: ‘één’ stap, naïef of geïnspireerd"
SPECIAL_NAME = "Ouders <&> kinderen"


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    # Assertions look at the English source messages, whatever language the settings choose.
    if settings.configured:
        with translation.override("en"):
            yield
    else:
        yield


def _guid(name: str) -> str:
    # Fixed guids, so a round trip can be compared with ==.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"veerkracht-test/{name}"))


def _code(
    name: str,
    definition: str = "",
    *,
    inductive: bool = False,
    children: list[CodeNode] | None = None,
    **texts: str,
) -> CodeNode:
    return CodeNode(
        name=name,
        definition=definition,
        origin="inductive" if inductive else "deductive",
        guid=_guid(name + definition),
        children=children or [],
        **texts,
    )


def _goals_and_content(resource: str, *, inductive: bool = False) -> list[CodeNode]:
    return [
        _code(
            "Doelen",
            f"Wat de interventie wil bereiken aan {resource} van het gezin.",
            inductive=inductive,
        ),
        _code(
            "Inhoud",
            f"Hoe de interventie aan {resource} werkt: activiteiten, methodiek, opdrachten.",
            inductive=inductive,
        ),
    ]


def sample_tree() -> list[CodeNode]:
    """A fresh copy of the default codebook (30 codes, three levels), safe to mutate."""
    social = _goals_and_content("sociale hulpbronnen")
    social[1].children = [
        _code(EMOJI_NAME, "Het hele gezin samen als doel van de hulp.", inductive=True),
        _code(
            SPECIAL_NAME,
            "Interactie tussen ouders en kinderen.",
            example="“Ouders en kinderen oefenen samen thuis.”",
        ),
    ]
    psychological = _goals_and_content("psychologische hulpbronnen", inductive=True)
    psychological[1].children = [_code(DIACRITICS_NAME, "Geloof in eigen kunnen.")]
    return [
        _code(
            "Eigenschappen interventies",
            "Beschrijvende kenmerken van de interventie zelf.",
            color="#4c78a8",
            children=[
                _code("Primaire doelgroep", "Voor wie de interventie in de eerste plaats is."),
                _code("Leeftijd primaire doelgroep", "De leeftijd van die doelgroep."),
                _code("Intermediaire doelgroep", "Via wie de interventie de doelgroep bereikt."),
                _code("Hoofddoel van de interventie", "Het doel dat de beschrijving voorop zet."),
                _code("Subdoelen van de interventie", "Doelen die het hoofddoel dienen."),
                _code("Setting", "Waar de hulp plaatsvindt.", inductive=True),
                _code("Type organisatie", "Welke soort organisatie de hulp biedt.", inductive=True),
                _code("Uitvoerder", "Wie de hulp in de praktijk geeft.", inductive=True),
            ],
        ),
        _code(
            "Veerkracht",
            "Passages over veerkracht als vermogen van een gezin om hulpbronnen te vinden "
            "en te gebruiken bij tegenslag.\n\nTwee kanten: beschrijven en versterken.",
            color="#f58518",
            children=[
                _code(
                    "Veerkracht beschrijven",
                    "De tekst noemt veerkracht en zegt wat het is of waarom het ertoe doet.",
                    inclusion="Uitleg of belang van veerkracht.",
                    exclusion="Hoe eraan gewerkt wordt: dat is ‘Veerkracht versterken’.",
                    example="“Veerkrachtige gezinnen vinden zelf hun weg.”",
                ),
                _code(
                    "Veerkracht versterken",
                    "Hoe de interventie zegt veerkracht te versterken.",
                    inclusion="Werkwijzen gericht op veerkracht.\nOok indirecte.",
                ),
            ],
        ),
        _code(
            "Andere elementen die aan veerkracht werken",
            "Buiten de vier hulpbronnen: empowerment, doorverwijzing, beschermende factoren.",
            color="#54a24b",
            children=_goals_and_content("andere elementen", inductive=True),
        ),
        _code(
            "Sociale hulpbronnen",
            "Banden thuis en daarbuiten, hechting, positief opvoeden, netwerk.",
            color="#e45756",
            children=social,
        ),
        _code(
            "Psychologische hulpbronnen",
            "Kennis, bewustzijn, keuzevrijheid en eigenschappen als doorzettingsvermogen.",
            color="#72b7b2",
            inductive=True,
            children=psychological,
        ),
        _code(
            "Materiële hulpbronnen",
            "Bestaanszekerheid: inkomen, werk, huisvesting, meedoen in de samenleving.",
            color="#eeca3b",
            children=_goals_and_content("materiële hulpbronnen"),
        ),
        _code(
            "Culturele hulpbronnen",
            "Waarden en identiteit, zingeving, erbij horen.",
            color="#b279a2",
            children=_goals_and_content("culturele hulpbronnen"),
        ),
    ]


def _chain(depth: int) -> list[CodeNode]:
    root = CodeNode(name="Niveau 1")
    current = root
    for level in range(2, depth + 1):
        child = CodeNode(name=f"Niveau {level}")
        current.children.append(child)
        current = child
    return [root]


def test_the_sample_is_valid_and_has_30_codes() -> None:
    tree = sample_tree()
    validate_tree(tree)
    assert count(tree) == 30


def test_walk_goes_depth_first_with_siblings_in_order() -> None:
    tree = [
        CodeNode("A", children=[CodeNode("A1", children=[CodeNode("A1a")]), CodeNode("A2")]),
        CodeNode("B"),
    ]
    assert [path for path, _node in walk(tree)] == [
        ("A",),
        ("A", "A1"),
        ("A", "A1", "A1a"),
        ("A", "A2"),
        ("B",),
    ]


def test_path_string_and_split_path_are_inverse() -> None:
    path = ("Sociale hulpbronnen", "Inhoud", SPECIAL_NAME)
    assert path_string(path) == "Sociale hulpbronnen > Inhoud > Ouders <&> kinderen"
    assert split_path(path_string(path)) == path


def test_split_path_strips_the_parts() -> None:
    assert split_path("  Veerkracht  >   Veerkracht versterken ") == (
        "Veerkracht",
        "Veerkracht versterken",
    )


def test_split_path_only_splits_at_a_spaced_separator() -> None:
    assert split_path("Leeftijd 0>12 jaar") == ("Leeftijd 0>12 jaar",)


@pytest.mark.parametrize("text", ["", "   ", "A >  > B", "A >", "> A"])
def test_split_path_refuses_an_empty_level(text: str) -> None:
    with pytest.raises(CodebookFormatError):
        split_path(text)


def test_it_refuses_a_code_without_a_name() -> None:
    tree = [CodeNode("Veerkracht", children=[CodeNode("  ")])]
    with pytest.raises(CodebookFormatError, match="A code under ‘Veerkracht’ has no name"):
        validate_tree(tree)


def test_it_refuses_a_name_over_200_characters() -> None:
    with pytest.raises(CodebookFormatError, match="201 characters; at most 200"):
        validate_tree([CodeNode("x" * 201)])


def test_it_accepts_a_name_of_200_characters() -> None:
    validate_tree([CodeNode("x" * 200)])


def test_it_refuses_two_siblings_of_one_name_and_names_both_and_the_parent() -> None:
    tree = [
        CodeNode("Sociale hulpbronnen", children=[CodeNode("Doelen"), CodeNode(" doelen ")]),
    ]
    with pytest.raises(CodebookFormatError) as caught:
        validate_tree(tree)
    message = str(caught.value)
    assert "Sociale hulpbronnen" in message
    assert "‘Doelen’" in message
    assert "‘ doelen ’" in message


def test_it_folds_whitespace_and_case_when_comparing_siblings() -> None:
    tree = [CodeNode("Type  organisatie"), CodeNode("type organisatie")]
    with pytest.raises(CodebookFormatError, match="Two top-level codes have the same name"):
        validate_tree(tree)


def test_one_name_under_different_parents_is_fine() -> None:
    validate_tree(
        [
            CodeNode("Sociale hulpbronnen", children=[CodeNode("Doelen")]),
            CodeNode("Materiële hulpbronnen", children=[CodeNode("Doelen")]),
        ]
    )


def test_it_refuses_more_than_5000_codes() -> None:
    tree = [CodeNode(f"Thema {index}") for index in range(MAX_CODES + 1)]
    with pytest.raises(CodebookFormatError, match="5,001 codes; at most 5,000"):
        validate_tree(tree)


def test_it_accepts_12_levels_and_refuses_13() -> None:
    validate_tree(_chain(12))
    with pytest.raises(CodebookFormatError, match="13 levels deep; at most 12"):
        validate_tree(_chain(13))


@pytest.mark.parametrize("color", ["red", "#12345", "#1234567", "4c78a8", "#gggggg"])
def test_it_refuses_a_colour_not_of_the_form_rrggbb(color: str) -> None:
    with pytest.raises(CodebookFormatError, match="#rrggbb"):
        validate_tree([CodeNode("Veerkracht", color=color)])


def test_it_refuses_an_unknown_origin() -> None:
    with pytest.raises(CodebookFormatError, match="deductive or inductive"):
        validate_tree([CodeNode("Veerkracht", origin="abductive")])


def test_it_refuses_a_guid_that_is_not_a_uuid_and_a_guid_used_twice() -> None:
    with pytest.raises(CodebookFormatError, match="not a UUID"):
        validate_tree([CodeNode("Veerkracht", guid="42")])
    guid = str(uuid.uuid4())
    with pytest.raises(CodebookFormatError, match="same guid"):
        validate_tree([CodeNode("A", guid=guid), CodeNode("B", guid=guid)])
    with pytest.raises(CodebookFormatError, match="same guid"):
        validate_tree([CodeNode("A", guid=guid), CodeNode("B", guid="{" + guid.upper() + "}")])


def test_the_error_message_is_one_line() -> None:
    tree = [CodeNode("Regel\néén"), CodeNode("regel één")]
    with pytest.raises(CodebookFormatError) as caught:
        validate_tree(tree)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("#4C78A8", "#4c78a8"),
        ("#abc", "#aabbcc"),
        ("#FF4C78A8", "#4c78a8"),
        ("rgb(76, 120, 168)", "#4c78a8"),
        ("", ""),
        ("rgb(300, 0, 0)", None),
        ("blue", None),
    ],
)
def test_normalize_color(value: str, expected: str | None) -> None:
    assert normalize_color(value) == expected


def test_normalize_origin_knows_dutch_and_english() -> None:
    assert normalize_origin("Inductief") == "inductive"
    assert normalize_origin("deductive") == "deductive"
    assert normalize_origin("") == "deductive"
    assert normalize_origin("I") == "inductive"
    assert normalize_origin("soms") is None


def test_a_subtree_is_the_code_and_every_code_below_it_however_deep() -> None:
    children = {1: [2, 3], 2: [4], 4: [5], 6: [7]}

    def below(pk: int) -> list[int]:
        return children.get(pk, [])

    assert subtree_ids(1, below) == {1, 2, 3, 4, 5}
    assert subtree_ids(4, below) == {4, 5}
    assert subtree_ids(3, below) == {3}


def test_a_subtree_thousands_of_levels_deep_does_not_exhaust_the_stack() -> None:
    assert len(subtree_ids(0, lambda pk: [pk + 1] if pk < 5_000 else [])) == 5_001
