"""coding/highlight.py: chunks and runs of a text under overlapping segments, in code points."""

from __future__ import annotations

import pytest

from coding.workspace.highlight import (
    CHUNK_SIZE,
    MAX_LANES,
    Chunk,
    Mark,
    SectionSpan,
    assign_lanes,
    chunk_bounds,
    chunks_touching,
    highlight,
    safe_color,
    tint,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧
TEXT = "Ouders oefenen thuis met nieuwe vaardigheden en de coach geeft feedback."


def mark(key: str, word: str, text: str = TEXT, color: str = "#0072b2") -> Mark:
    start = text.index(word)
    return Mark(key, start, start + len(word), color, key)


def runs_of(chunks: list[Chunk]) -> list[tuple[str, list[str]]]:
    return [(run.text, [m.key for m in run.marks]) for chunk in chunks for run in chunk.runs]


def assert_slices(text: str, chunks: list[Chunk]) -> None:
    """Every run and chunk is exactly its code-point slice, and together they spell the text."""
    assert "".join(chunk.text for chunk in chunks) == text
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.runs[0].start == chunk.start
        assert chunk.runs[-1].end == chunk.end
        for run in chunk.runs:
            assert run.text == text[run.start : run.end]
            assert run.start < run.end
        for before, after in zip(chunk.runs, chunk.runs[1:], strict=False):
            assert before.end == after.start


def test_a_text_without_segments_is_one_run() -> None:
    chunks = highlight(TEXT, [], [])
    assert runs_of(chunks) == [(TEXT, [])]
    assert_slices(TEXT, chunks)


def test_overlapping_segments_split_into_three_runs() -> None:
    a = mark("a", "oefenen thuis")
    b = mark("b", "thuis met nieuwe")
    chunks = highlight(TEXT, [], [a, b])
    assert runs_of(chunks)[:5] == [
        ("Ouders ", []),
        ("oefenen ", ["a"]),
        ("thuis", ["a", "b"]),  # the shorter one, a (13), is innermost
        (" met nieuwe", ["b"]),
        (" vaardigheden en de coach geeft feedback.", []),
    ]
    assert chunks[0].lanes == {"a": 0, "b": 1}
    assert [m.key for m in chunks[0].starting] == ["a", "b"]
    assert_slices(TEXT, chunks)


def test_a_nested_segment_is_innermost_and_takes_the_next_lane() -> None:
    outer = mark("outer", "oefenen thuis met nieuwe vaardigheden")
    inner = mark("inner", "nieuwe")
    chunks = highlight(TEXT, [], [inner, outer])
    assert ("nieuwe", ["inner", "outer"]) in runs_of(chunks)
    assert (" vaardigheden", ["outer"]) in runs_of(chunks)
    assert chunks[0].lanes == {"outer": 0, "inner": 1}
    assert_slices(TEXT, chunks)


def test_adjacent_segments_share_a_boundary_but_no_run() -> None:
    a = mark("a", "Ouders")
    b = mark("b", " oefenen")
    chunks = highlight(TEXT, [], [a, b])
    assert runs_of(chunks)[:2] == [("Ouders", ["a"]), (" oefenen", ["b"])]
    # Adjacent segments do not overlap, so they share the lane closest to the text.
    assert chunks[0].lanes == {"a": 0, "b": 0}


def test_identical_spans_by_two_coders_cover_the_same_run() -> None:
    a = mark("a", "coach")
    b = mark("b", "coach")
    chunks = highlight(TEXT, [], [b, a])
    assert ("coach", ["a", "b"]) in runs_of(chunks)
    assert set(chunks[0].lanes.values()) == {0, 1}


def test_lanes_never_collide_for_overlapping_marks() -> None:
    marks = [Mark(f"m{i}", i * 3, i * 3 + 10) for i in range(12)]
    lanes = assign_lanes(marks)
    for x in marks:
        for y in marks:
            if x.key != y.key and x.start < y.end and y.start < x.end:
                assert lanes[x.key] != lanes[y.key]
    assert max(lanes.values()) < MAX_LANES


def test_emoji_and_combining_marks_before_a_segment_keep_code_point_slices() -> None:
    text = f"Het gezin {FAMILY} en de coo\u0308rdinator kome\u0301n samen.\n"
    segment = mark("s", "samen", text)
    chunks = highlight(text, [], [segment, mark("e", "kome\u0301n", text)])
    assert ("samen", ["s"]) in runs_of(chunks)
    assert ("kome\u0301n", ["e"]) in runs_of(chunks)
    assert_slices(text, chunks)


def test_an_emoji_segment_is_one_run_of_its_code_points() -> None:
    text = f"Het gezin {FAMILY} leert."
    family = mark("f", FAMILY, text)
    assert family.end - family.start == 5
    chunks = highlight(text, [], [family])
    assert (FAMILY, ["f"]) in runs_of(chunks)
    assert_slices(text, chunks)


def test_sections_cut_chunks_and_the_heading_is_its_own_run() -> None:
    text = "Samenvatting\nKort.\nAanpak\nOuders oefenen thuis.\n"
    aanpak = text.index("Aanpak")
    sections = [
        SectionSpan(0, aanpak, "Samenvatting", excluded=True),
        SectionSpan(aanpak, len(text), "Aanpak"),
    ]
    chunks = highlight(text, sections, [mark("a", "oefenen", text)])
    assert [(c.start, c.end, c.bounds.excluded) for c in chunks] == [
        (0, aanpak, True),
        (aanpak, len(text), False),
    ]
    assert chunks[0].runs[0].text == "Samenvatting"
    assert chunks[0].runs[0].heading
    assert chunks[1].runs[0].text == "Aanpak"
    assert chunks[1].runs[0].heading
    assert not chunks[1].runs[1].heading
    assert_slices(text, chunks)


def test_text_outside_sections_is_a_chunk_too() -> None:
    text = "Inleiding zonder kop.\nDoel\nHet gezin versterken.\n"
    doel = text.index("Doel")
    chunks = highlight(text, [SectionSpan(doel, len(text), "Doel")], [])
    assert [(c.start, c.end, c.bounds.section is None) for c in chunks] == [
        (0, doel, True),
        (doel, len(text), False),
    ]


def test_a_segment_across_a_section_boundary_is_marked_in_both_chunks() -> None:
    text = "Eerste deel eindigt hier.\nTweede deel begint hier.\n"
    cut = text.index("Tweede")
    span = mark("x", "hier.\nTweede", text)
    chunks = highlight(text, [SectionSpan(0, cut), SectionSpan(cut, len(text))], [span])
    assert ("hier.\n", ["x"]) in runs_of(chunks)
    assert ("Tweede", ["x"]) in runs_of(chunks)
    # Its label goes beside the chunk where it starts.
    assert [m.key for m in chunks[0].starting] == ["x"]
    assert chunks[1].starting == []


def test_long_sections_are_cut_after_a_line_break_near_the_chunk_size() -> None:
    line = "Ouders oefenen thuis met nieuwe vaardigheden en de coach geeft feedback.\n"
    text = line * 200
    bounds = chunk_bounds(text, [])
    assert len(bounds) > 5
    for chunk in bounds[:-1]:
        assert text[chunk.end - 1] == "\n"
        assert CHUNK_SIZE // 2 <= chunk.end - chunk.start <= CHUNK_SIZE
    assert bounds[0].start == 0
    assert bounds[-1].end == len(text)
    assert all(a.end == b.start for a, b in zip(bounds, bounds[1:], strict=False))


def test_a_long_line_is_cut_after_a_space_and_never_inside_a_character() -> None:
    text = ("woord " * 1000) + ("e\u0301" * 4000)
    bounds = chunk_bounds(text, [])
    assert "".join(text[b.start : b.end] for b in bounds) == text
    for chunk in bounds[:-1]:
        assert text[chunk.end - 1] == " " or text[chunk.end] != "\u0301"


def test_only_renders_the_chunks_asked_for_with_the_same_indexes() -> None:
    line = "Het gezin oefent elke week met de coach en de buren, thuis en op school.\n"
    text = line * 120
    marks = [Mark("a", 10, 5000), Mark("b", 4000, 4010)]
    everything = highlight(text, [], marks)
    touched = chunks_touching([c.bounds for c in everything], [(4000, 4010)])
    some = highlight(text, [], marks, only=touched)
    assert [c.index for c in some] == sorted(touched)
    for chunk in some:
        full = everything[chunk.index]
        assert runs_of([chunk]) == runs_of([full])
        assert chunk.lanes == full.lanes


def test_marks_outside_the_text_or_empty_are_left_out() -> None:
    chunks = highlight(TEXT, [], [Mark("x", 5, 5), Mark("y", 10, len(TEXT) + 3)])
    assert runs_of(chunks) == [(TEXT, [])]


@pytest.mark.parametrize(
    ("color", "expected"),
    [("#0072B2", "#0072b2"), ("red", "#767676"), ('#000000"><script>', "#767676")],
)
def test_only_a_plain_hex_colour_reaches_a_style(color: str, expected: str) -> None:
    assert safe_color(color) == expected


def test_a_tint_is_light_enough_for_dark_text() -> None:
    for color in ("#000000", "#0072b2", "#d55e00", "#8a7d00"):
        light = tint(color)
        channels = [int(light[i : i + 2], 16) for i in (1, 3, 5)]
        assert min(channels) >= 190
