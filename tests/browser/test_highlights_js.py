"""static/js/highlights.js in chromium: the runs and lanes of a chunk under overlapping
segments, in code points, sliced here with Python's code-point slicing."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧
TEXT = "Ouders oefenen thuis met nieuwe vaardigheden en de coach geeft feedback."

RUNS = """([start, end, headingEnd, marks]) =>
  window.highlights.chunkRuns(start, end, headingEnd, marks).map((run) => ({
    start: run.start, end: run.end, heading: run.heading, keys: run.marks.map((m) => m.key),
  }))"""
LANES = """(marks) => Object.fromEntries(window.highlights.assignLanes(marks))"""


@pytest.fixture
def js(page: Page, live_server: Any) -> Page:
    # The module is loaded as the site serves it, from the live server's own origin.
    page.goto(f"{live_server.url}/static/js/highlights.js")
    page.evaluate("async () => { window.highlights = await import('/static/js/highlights.js'); }")
    return page


def mark(key: str, word: str, text: str = TEXT) -> dict[str, Any]:
    start = text.index(word)
    return {"key": key, "start": start, "end": start + len(word)}


def runs(
    page: Page,
    marks: list[dict[str, Any]],
    text: str = TEXT,
    start: int = 0,
    end: int | None = None,
    heading: int = 0,
) -> list[tuple[str, list[str]]]:
    end = len(text) if end is None else end
    found = page.evaluate(RUNS, [start, end, start + heading, marks])
    # The runs cover the chunk exactly, in order, none empty.
    assert [r["start"] for r in found][0] == start
    assert found[-1]["end"] == end
    assert all(a["end"] == b["start"] for a, b in zip(found, found[1:], strict=False))
    assert all(r["start"] < r["end"] for r in found)
    return [(text[r["start"] : r["end"]], r["keys"]) for r in found]


def test_a_chunk_without_segments_is_one_run(js: Page) -> None:
    assert runs(js, []) == [(TEXT, [])]


def test_overlapping_segments_split_into_three_runs_innermost_first(js: Page) -> None:
    a = mark("a", "oefenen thuis")
    b = mark("b", "thuis met nieuwe")
    assert runs(js, [a, b]) == [
        ("Ouders ", []),
        ("oefenen ", ["a"]),
        ("thuis", ["a", "b"]),  # the shorter one, a (13), is innermost
        (" met nieuwe", ["b"]),
        (" vaardigheden en de coach geeft feedback.", []),
    ]
    assert js.evaluate(LANES, [a, b]) == {"a": 0, "b": 1}


def test_a_nested_segment_is_innermost_and_takes_the_next_lane(js: Page) -> None:
    outer = mark("outer", "oefenen thuis met nieuwe vaardigheden")
    inner = mark("inner", "nieuwe")
    found = runs(js, [inner, outer])
    assert ("nieuwe", ["inner", "outer"]) in found
    assert (" vaardigheden", ["outer"]) in found
    assert js.evaluate(LANES, [inner, outer]) == {"outer": 0, "inner": 1}


def test_adjacent_segments_share_a_boundary_and_a_lane(js: Page) -> None:
    a = mark("a", "Ouders")
    b = mark("b", " oefenen")
    assert runs(js, [a, b])[:2] == [("Ouders", ["a"]), (" oefenen", ["b"])]
    assert js.evaluate(LANES, [a, b]) == {"a": 0, "b": 0}


def test_identical_spans_by_two_coders_cover_the_same_run_in_two_lanes(js: Page) -> None:
    a, b = mark("a", "coach"), mark("b", "coach")
    assert ("coach", ["a", "b"]) in runs(js, [b, a])
    assert sorted(js.evaluate(LANES, [b, a]).values()) == [0, 1]


def test_lanes_never_collide_for_overlapping_marks(js: Page) -> None:
    marks: list[dict[str, Any]] = [
        {"key": f"m{i}", "start": i * 3, "end": i * 3 + 10} for i in range(12)
    ]
    lanes = js.evaluate(LANES, marks)
    for x in marks:
        for y in marks:
            if x["key"] != y["key"] and x["start"] < y["end"] and y["start"] < x["end"]:
                assert lanes[x["key"]] != lanes[y["key"]]
    assert max(lanes.values()) < js.evaluate("() => window.highlights.MAX_LANES")


def test_code_points_after_an_emoji_family_and_combining_marks(js: Page) -> None:
    text = f"Het gezin {FAMILY} en de coo\u0308rdinator kome\u0301n samen.\n"
    found = runs(js, [mark("s", "samen", text), mark("e", "kome\u0301n", text)], text)
    assert ("samen", ["s"]) in found
    assert ("kome\u0301n", ["e"]) in found
    family = mark("f", FAMILY, text)
    assert family["end"] - family["start"] == 5
    assert (FAMILY, ["f"]) in runs(js, [family], text)


def test_the_heading_is_its_own_run_and_a_segment_may_cover_it(js: Page) -> None:
    text = "Kort.\nAanpak\nOuders oefenen thuis.\n"
    start = text.index("Aanpak")
    marks = [mark("h", "Aanpak\nOuders", text)]
    found = js.evaluate(RUNS, [start, len(text), start + len("Aanpak"), marks])
    assert [(text[r["start"] : r["end"]], r["heading"], r["keys"]) for r in found] == [
        ("Aanpak", True, ["h"]),
        ("\nOuders", False, ["h"]),
        (" oefenen thuis.\n", False, []),
    ]


def test_a_segment_reaching_into_the_chunk_from_before_covers_its_start(js: Page) -> None:
    text = "Eerste deel eindigt hier.\nTweede deel begint hier.\n"
    cut = text.index("Tweede")
    found = runs(js, [mark("x", "hier.\nTweede", text)], text, start=cut)
    assert found[0] == ("Tweede", ["x"])


@pytest.mark.parametrize(
    ("color", "expected"),
    [
        ("#0072B2", "#0072b2"),
        ("red", "#767676"),
        ('#000000"><script>', "#767676"),
        (None, "#767676"),
    ],
)
def test_only_a_plain_hex_colour_reaches_a_style(js: Page, color: Any, expected: str) -> None:
    assert js.evaluate("(c) => window.highlights.safeColor(c)", color) == expected


def test_a_tint_is_light_enough_for_dark_text(js: Page) -> None:
    for color in ("#000000", "#0072b2", "#d55e00", "#8a7d00"):
        light = js.evaluate("(c) => window.highlights.tint(c)", color)
        channels = [int(light[i : i + 2], 16) for i in (1, 3, 5)]
        assert min(channels) >= 190
    assert js.evaluate("() => window.highlights.tint('#000000')") == "#c7c7c7"
