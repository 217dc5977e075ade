"""UTF-16 offsets (the browser's) and code points (the server's) convert both ways."""

from __future__ import annotations

import time

import pytest

from coding.offsets import codepoint_to_utf16, utf16_length, utf16_to_codepoint

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧: 5 code points, 8 UTF-16 units
FLAG = "\U0001f1f3\U0001f1f1"  # 🇳🇱: 2 code points, 4 UTF-16 units
TEXTS = [
    "Het gezin versterken.",
    "Coördinatie, één gezin, ruïne, café, naïeve, geëmancipeerd",
    "cafe\u0301 met e\u0301e\u0301n combinerend accent",
    f"Samen {FAMILY} thuis {FLAG} in Nederland",
    f"{FAMILY}{FLAG}",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_every_code_point_offset_survives_the_round_trip_through_utf16(text: str) -> None:
    for offset in range(len(text) + 1):
        units = codepoint_to_utf16(text, offset)
        assert utf16_to_codepoint(text, units) == offset
        # What JavaScript's text.slice(0, units) holds is Python's text[:offset].
        assert text.encode("utf-16-le")[: 2 * units].decode("utf-16-le") == text[:offset]


def test_dutch_diacritics_and_combining_marks_take_one_unit_per_code_point() -> None:
    text = "ge\u0308e\u0301n coördinatie"
    assert utf16_length(text) == len(text)
    assert codepoint_to_utf16(text, 6) == 6
    assert utf16_to_codepoint(text, 6) == 6


def test_an_emoji_family_and_a_flag_shift_the_utf16_offsets_after_them() -> None:
    text = f"{FAMILY} en {FLAG} gezin"
    start = text.index("gezin")
    assert start == 5 + 4 + 2 + 1
    assert codepoint_to_utf16(text, start) == 8 + 4 + 4 + 1
    assert utf16_to_codepoint(text, 17) == start
    assert utf16_length(text) == len(text) + 3 + 2


@pytest.mark.parametrize("offset", [-1, 9])
def test_a_utf16_offset_outside_the_text_is_refused(offset: int) -> None:
    with pytest.raises(ValueError, match="outside the text"):
        utf16_to_codepoint("Gezin 👪", offset)


@pytest.mark.parametrize("offset", [-1, 8])
def test_a_code_point_offset_outside_the_text_is_refused(offset: int) -> None:
    with pytest.raises(ValueError, match="outside the text"):
        codepoint_to_utf16("Gezin 👪", offset)


def test_an_offset_between_the_halves_of_a_surrogate_pair_is_refused() -> None:
    text = f"a{FLAG}b"
    with pytest.raises(ValueError, match="surrogate pair"):
        utf16_to_codepoint(text, 2)
    with pytest.raises(ValueError, match="surrogate pair"):
        utf16_to_codepoint(text, 4)
    assert utf16_to_codepoint(text, 3) == 2


@pytest.mark.parametrize("offset", [1.0, "3", True, None])
def test_an_offset_that_is_not_a_whole_number_is_refused(offset: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        utf16_to_codepoint("tekst", offset)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="whole number"):
        codepoint_to_utf16("tekst", offset)  # type: ignore[arg-type]


def test_converting_in_a_text_of_150000_characters_is_fast() -> None:
    text = (f"Het gezin {FAMILY} coördineert zorg. " * 4_000)[:150_000]
    offsets = range(0, len(text), len(text) // 200)
    began = time.perf_counter()
    for offset in offsets:
        assert utf16_to_codepoint(text, codepoint_to_utf16(text, offset)) == offset
    elapsed = time.perf_counter() - began
    # 400 conversions; a Python loop over the text would take seconds.
    assert elapsed < 1.0
