"""A code shown without its tree: its shortest unambiguous path (`outline.short_paths`)."""

from __future__ import annotations

from typing import Any

from coding.codebook import services
from coding.codebook.outline import short_paths
from tests.conftest import Cast


def test_a_name_no_other_code_has_stays_bare() -> None:
    paths = {1: ("Veerkracht",), 2: ("Veerkracht", "Veerkracht beschrijven")}
    assert short_paths(paths) == {1: "Veerkracht", 2: "Veerkracht beschrijven"}


def test_a_shared_name_takes_its_parent() -> None:
    paths = {
        1: ("Sociale hulpbronnen", "Inhoud"),
        2: ("Materiële hulpbronnen", "Inhoud"),
        3: ("Sociale hulpbronnen", "Doelen"),
    }
    assert short_paths(paths) == {
        1: "Sociale hulpbronnen › Inhoud",
        2: "Materiële hulpbronnen › Inhoud",
        3: "Doelen",
    }


def test_it_goes_up_only_as_far_as_it_must() -> None:
    paths = {
        1: ("Gezin", "Ouders", "Doelen"),
        2: ("School", "Ouders", "Doelen"),
        3: ("Gezin", "Kind", "Doelen"),
    }
    assert short_paths(paths) == {
        1: "Gezin › Ouders › Doelen",
        2: "School › Ouders › Doelen",
        3: "Kind › Doelen",
    }


def test_names_compare_without_case_and_a_theme_keeps_its_own_name() -> None:
    paths = {1: ("Inhoud",), 2: ("Sociaal", "inhoud")}
    assert short_paths(paths) == {1: "Inhoud", 2: "Sociaal › inhoud"}


def test_two_codes_with_one_whole_path_keep_it_whole() -> None:
    paths = {1: ("A", "B"), 2: ("A", "B")}
    assert short_paths(paths) == {1: "A › B", 2: "A › B"}


def test_the_template_names_every_doelen_and_inhoud_by_its_theme(cast: Cast) -> None:
    services.codebook_apply_template(study=cast.study, actor=cast.owner, template="veerkracht")
    short: dict[Any, str] = {
        path: services.short_code_paths(cast.study)[pk]
        for pk, path in services.code_paths(cast.study).items()
    }
    assert short[("Sociale hulpbronnen", "Inhoud")] == "Sociale hulpbronnen › Inhoud"
    assert short[("Veerkracht", "Veerkracht versterken")] == "Veerkracht versterken"
    assert short[("Eigenschappen interventies", "Setting")] == "Setting"
    assert len(set(short.values())) == len(short)


def test_the_names_of_some_codes_are_those_they_have_among_all() -> None:
    paths = {
        1: ("Gezin", "Ouders", "Doelen"),
        2: ("School", "Ouders", "Doelen"),
        3: ("Gezin", "Kind", "Doelen"),
        4: ("Inhoud",),
        5: ("Sociaal", "inhoud"),
        6: ("A", "B"),
        7: ("A", "B"),
        8: ("Veerkracht",),
    }
    every = short_paths(paths)
    for only in ([1], [3, 5], [6], [8, 2, 4], list(paths)):
        assert short_paths(paths, only=only) == {code: every[code] for code in only}
