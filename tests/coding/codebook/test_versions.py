"""Comparing codebook snapshots, without the database."""

from __future__ import annotations

from typing import Any

from coding.codebook.versions import FieldChange, Moved, Renamed, snapshot_diff


def code(name: str, guid: str = "", children: list[Any] | None = None, **fields: str) -> dict:
    return {
        "name": name,
        "definition": "",
        "inclusion": "",
        "exclusion": "",
        "example": "",
        "color": "#0072b2",
        "origin": "deductive",
        "guid": guid,
        "children": children or [],
        **fields,
    }


def base() -> list[dict[str, Any]]:
    return [
        code("Sociale hulpbronnen", "a", [code("Doelen", "a1"), code("Inhoud", "a2")]),
        code("Psychologische hulpbronnen", "b", [code("Doelen", "b1")]),
    ]


def test_two_equal_snapshots_have_no_differences() -> None:
    diff = snapshot_diff(base(), base())
    assert diff.is_empty


def test_a_renamed_code_is_one_rename_not_a_removal_and_an_addition() -> None:
    new = base()
    new[0]["children"][0]["name"] = "Sociale doelen"
    diff = snapshot_diff(base(), new)
    assert diff.renamed == [
        Renamed(("Sociale hulpbronnen", "Sociale doelen"), "Doelen", "Sociale doelen")
    ]
    assert diff.added == []
    assert diff.removed == []
    assert diff.moved == []


def test_a_code_under_a_new_parent_is_moved() -> None:
    new = base()
    inhoud = new[0]["children"].pop()
    new[1]["children"].append(inhoud)
    diff = snapshot_diff(base(), new)
    assert diff.moved == [
        Moved(
            "Inhoud",
            ("Sociale hulpbronnen", "Inhoud"),
            ("Psychologische hulpbronnen", "Inhoud"),
        )
    ]
    assert diff.renamed == []


def test_renaming_a_theme_does_not_move_its_codes() -> None:
    new = base()
    new[0]["name"] = "Sociaal"
    diff = snapshot_diff(base(), new)
    assert [r.new_name for r in diff.renamed] == ["Sociaal"]
    assert diff.moved == []


def test_added_and_removed_codes_are_listed_by_path_in_tree_order() -> None:
    new = base()
    new[1]["children"] = []
    new.append(code("Culturele hulpbronnen", "c", [code("Doelen", "c1")]))
    diff = snapshot_diff(base(), new)
    assert diff.added == [("Culturele hulpbronnen",), ("Culturele hulpbronnen", "Doelen")]
    assert diff.removed == [("Psychologische hulpbronnen", "Doelen")]


def test_changed_fields_show_old_and_new() -> None:
    new = base()
    new[0]["children"][1].update(definition="Hoe het werkt.", color="#d55e00", origin="inductive")
    diff = snapshot_diff(base(), new)
    assert len(diff.changed) == 1
    assert diff.changed[0].path == ("Sociale hulpbronnen", "Inhoud")
    assert diff.changed[0].fields == (
        FieldChange("definition", "", "Hoe het werkt."),
        FieldChange("color", "#0072b2", "#d55e00"),
        FieldChange("origin", "deductive", "inductive"),
    )


def test_codes_without_guids_are_matched_by_path() -> None:
    old = [code("Veerkracht", children=[code("Beschrijven")])]
    new = [code("veerkracht", children=[code("Beschrijven", definition="Noemt het woord.")])]
    diff = snapshot_diff(old, new)
    assert diff.added == []
    assert diff.removed == []
    assert diff.changed[0].fields == (FieldChange("definition", "", "Noemt het woord."),)


def test_a_deep_tree_is_compared_without_recursion() -> None:
    deep: dict[str, Any] = code("niveau 0", "g0")
    current = deep
    for level in range(1, 3000):
        child = code(f"niveau {level}", f"g{level}")
        current["children"] = [child]
        current = child
    assert snapshot_diff([deep], [deep]).is_empty
