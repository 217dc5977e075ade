"""Converting offsets between UTF-16 code units (what JavaScript counts) and code points.

Segments store Unicode code-point offsets into the intervention's text (`Segment`); a browser's
`Selection` counts UTF-16 code units, in which every character outside the Basic Multilingual
Plane (most emoji, flags) takes two units. doccano mixed the two up (its PR #108), so every
conversion goes through here (and through `static/js/offsets.js` on the page).

Both functions are pure and run in C: encoding a 150,000-character text to UTF-16 takes well
under a millisecond, so no index is kept between calls.
"""

from __future__ import annotations

_HIGH_SURROGATES = range(0xD800, 0xDC00)
_LOW_SURROGATES = range(0xDC00, 0xE000)


def _check_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"The {name} must be a whole number, not {value!r}.")
    return value


def _utf16(text: str) -> bytes:
    # "surrogatepass" keeps a stray lone surrogate countable instead of failing the encoding.
    return text.encode("utf-16-le", "surrogatepass")


def utf16_length(text: str) -> int:
    """How many UTF-16 code units `text` takes (JavaScript's `text.length`)."""
    return len(_utf16(text)) // 2


def utf16_to_codepoint(text: str, utf16_offset: int) -> int:
    """The code-point offset in `text` of the UTF-16 offset `utf16_offset`.

    Raises ValueError when the offset lies outside 0..len(text in UTF-16) or between the two
    halves of a surrogate pair (the middle of an emoji).
    """
    offset = _check_int(utf16_offset, "UTF-16 offset")
    encoded = _utf16(text)
    units = len(encoded) // 2
    if not 0 <= offset <= units:
        raise ValueError(f"The UTF-16 offset {offset} lies outside the text (0 to {units}).")
    if 0 < offset < units:
        unit = int.from_bytes(encoded[2 * offset : 2 * offset + 2], "little")
        previous = int.from_bytes(encoded[2 * offset - 2 : 2 * offset], "little")
        if unit in _LOW_SURROGATES and previous in _HIGH_SURROGATES:
            raise ValueError(
                f"The UTF-16 offset {offset} falls inside a surrogate pair (in the middle of "
                "one character, such as an emoji)."
            )
    return len(encoded[: 2 * offset].decode("utf-16-le", "surrogatepass"))


def codepoint_to_utf16(text: str, offset: int) -> int:
    """The UTF-16 offset in `text` of the code-point offset `offset`.

    Raises ValueError when the offset lies outside 0..len(text).
    """
    offset = _check_int(offset, "offset")
    if not 0 <= offset <= len(text):
        raise ValueError(f"The offset {offset} lies outside the text (0 to {len(text)}).")
    return utf16_length(text[:offset])
