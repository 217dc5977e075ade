"""The coding workspace's text in chunks: where the page cuts an intervention's text.

Pure: plain data in, plain data out, no ORM and no HTML. Every offset is a Unicode code point
into the intervention's text (see `Segment`).

Chunks: one per section (and per stretch of text outside sections), and pieces of about
`CHUNK_SIZE` code points within long sections, cut after a line break or else after a space
near that size. The page gives each chunk its `data-offset`, so the browser measures only the
chunk holding a selection boundary (`static/js/offsets.js`) and paints highlights chunk by
chunk (`static/js/highlights.js`), never the whole page at once. Chunk bounds depend on the
text and its sections only, never on segments, so coding never changes them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

CHUNK_SIZE = 2_000
_ZWJ = "\u200d"


@dataclass(frozen=True)
class SectionSpan:
    """A section as the workspace needs it: text[start:end], opening with its heading."""

    start: int
    end: int
    heading: str = ""
    excluded: bool = False


@dataclass(frozen=True)
class ChunkBounds:
    index: int
    start: int
    end: int
    section: SectionSpan | None = None
    # The first chunk of its section: where the heading and a "not coded" label go.
    opens_section: bool = False

    @property
    def excluded(self) -> bool:
        return self.section is not None and self.section.excluded


# Chunks -----------------------------------------------------------------------------------


def _pieces(
    text: str, sections: Iterable[SectionSpan]
) -> list[tuple[int, int, SectionSpan | None]]:
    """The text cut at section bounds; stretches outside every section are pieces too."""
    length = len(text)
    pieces: list[tuple[int, int, SectionSpan | None]] = []
    cursor = 0
    for section in sorted(sections, key=lambda s: (s.start, s.end)):
        start, end = max(section.start, cursor), min(section.end, length)
        if start >= end:
            continue  # overlaps an earlier section or lies outside the text
        if start > cursor:
            pieces.append((cursor, start, None))
        pieces.append((start, end, section))
        cursor = end
    if cursor < length:
        pieces.append((cursor, length, None))
    return pieces


def _joins(text: str, index: int) -> bool:
    """Whether a cut before `index` would split a character from its combining marks or a
    ZWJ emoji sequence."""
    if index <= 0 or index >= len(text):
        return False
    here, before = text[index], text[index - 1]
    return bool(unicodedata.combining(here)) or _ZWJ in (here, before)


def _cuts(text: str, start: int, end: int, size: int) -> list[int]:
    """Where to cut text[start:end] into pieces of about `size`: after a line break in the
    second half of a piece, else after a space, else at `size` (never inside a character)."""
    cuts = []
    position = start
    while end - position > size + size // 2:
        low, high = position + size // 2, position + size
        cut = text.rfind("\n", low, high) + 1
        if cut == 0:
            cut = text.rfind(" ", low, high) + 1
        if cut == 0:
            cut = high
            while cut > low and _joins(text, cut):
                cut -= 1
        cuts.append(cut)
        position = cut
    return cuts


def chunk_bounds(
    text: str, sections: Iterable[SectionSpan], size: int = CHUNK_SIZE
) -> list[ChunkBounds]:
    """The chunks of `text`, contiguous and in order, covering all of it."""
    bounds: list[ChunkBounds] = []
    for start, end, section in _pieces(text, sections):
        points = [start, *_cuts(text, start, end, size), end]
        for number, (a, b) in enumerate(pairwise(points)):
            bounds.append(
                ChunkBounds(len(bounds), a, b, section, section is not None and not number)
            )
    return bounds


def heading_length(text: str, bounds: ChunkBounds) -> int:
    """How many code points at the start of the chunk are its section's heading (0 if none)."""
    section = bounds.section
    if not bounds.opens_section or section is None or not section.heading:
        return 0
    if not text.startswith(section.heading, bounds.start):
        return 0
    return min(len(section.heading), bounds.end - bounds.start)
