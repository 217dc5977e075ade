"""What the coding workspace renders: an intervention's text in chunks, each cut into runs.

Pure: plain data in, plain data out, no ORM and no HTML. Every offset is a Unicode code point
into the intervention's text (see `Segment`), so `text[run.start:run.end] == run.text` holds for
every run, and the runs of a chunk spell `text[chunk.start:chunk.end]` exactly.

Chunks: one per section (and per stretch of text outside sections), and pieces of about
`CHUNK_SIZE` code points within long sections, cut after a line break or else after a space
near that size. The page gives each chunk its `data-offset`, so the browser measures only the
chunk holding a selection boundary (`static/js/offsets.js`), never the whole page. Chunk bounds
depend on the text and its sections only, never on segments: a chunk keeps its index while
coding changes, which lets the server re-render just the chunks a change touches.

Runs: a chunk is cut at every segment boundary inside it and at the end of its section's
heading. Each run knows the segments covering it, innermost (shortest) first. Overlapping
segments are drawn as stacked underlines, one lane each; a segment keeps its lane throughout a
chunk, so its underline does not jump up and down between runs.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from coding.codebook.tree import DEFAULT_COLOR, safe_color

CHUNK_SIZE = 2_000
# Underlines drawn under one run; a run under more segments still lists them all.
MAX_LANES = 4
_ZWJ = "\u200d"


@dataclass(frozen=True)
class SectionSpan:
    """A section as the workspace needs it: text[start:end], opening with its heading."""

    start: int
    end: int
    heading: str = ""
    excluded: bool = False


@dataclass(frozen=True)
class Mark:
    """A segment as the workspace draws it; `key` identifies it (its UUID as text)."""

    key: str
    start: int
    end: int
    color: str = DEFAULT_COLOR
    label: str = ""

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Run:
    start: int
    end: int
    text: str
    # The segments covering the whole run, innermost (shortest) first.
    marks: tuple[Mark, ...] = ()
    # Part of its section's heading line.
    heading: bool = False


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


@dataclass
class Chunk:
    bounds: ChunkBounds
    runs: list[Run] = field(default_factory=list)
    # Segments starting in this chunk, in text order: their labels go in its margin.
    starting: list[Mark] = field(default_factory=list)
    # The underline lane of every segment overlapping this chunk.
    lanes: dict[str, int] = field(default_factory=dict)

    @property
    def index(self) -> int:
        return self.bounds.index

    @property
    def start(self) -> int:
        return self.bounds.start

    @property
    def end(self) -> int:
        return self.bounds.end

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


# Colours ----------------------------------------------------------------------------------


def tint(color: str, strength: float = 0.22) -> str:
    """A light background of `color`: that much of it over white, so dark text stays legible."""
    color = safe_color(color)
    channels = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    mixed = (round(255 - (255 - c) * strength) for c in channels)
    return "#" + "".join(f"{c:02x}" for c in mixed)


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


def chunks_touching(bounds: Sequence[ChunkBounds], spans: Iterable[tuple[int, int]]) -> set[int]:
    """The indexes of the chunks that overlap any of `spans` (code-point start, end)."""
    touched = set()
    for start, end in spans:
        for chunk in bounds:
            if chunk.start < max(end, start + 1) and start < chunk.end:
                touched.add(chunk.index)
    return touched


# Runs -------------------------------------------------------------------------------------


def assign_lanes(marks: Iterable[Mark]) -> dict[str, int]:
    """An underline lane per mark such that overlapping marks never share one: the lowest lane
    free at its start, taking earlier and then longer marks first (so an outer segment sits
    closest to the text and the ones nested in it below)."""
    lanes: dict[str, int] = {}
    lane_ends: list[int] = []
    for mark in sorted(marks, key=lambda m: (m.start, -m.end, m.key)):
        for lane, lane_end in enumerate(lane_ends):
            if lane_end <= mark.start:
                lane_ends[lane] = mark.end
                lanes[mark.key] = lane
                break
        else:
            lanes[mark.key] = len(lane_ends)
            lane_ends.append(mark.end)
    return lanes


def _innermost_first(mark: Mark) -> tuple[int, int, str]:
    return (mark.length, -mark.start, mark.key)


def _runs(text: str, bounds: ChunkBounds, marks: list[Mark]) -> list[Run]:
    start, end = bounds.start, bounds.end
    heading_end = start
    section = bounds.section
    if (
        bounds.opens_section
        and section is not None
        and section.heading
        and text.startswith(section.heading, start)
    ):
        heading_end = min(start + len(section.heading), end)
    cuts = {start, end, heading_end}
    for mark in marks:
        cuts.update(p for p in (mark.start, mark.end) if start < p < end)
    runs = []
    for a, b in pairwise(sorted(cuts)):
        covering = sorted((m for m in marks if m.start <= a and b <= m.end), key=_innermost_first)
        runs.append(Run(a, b, text[a:b], tuple(covering), heading=a < heading_end))
    return runs


def highlight(
    text: str,
    sections: Iterable[SectionSpan],
    marks: Iterable[Mark],
    *,
    size: int = CHUNK_SIZE,
    only: set[int] | None = None,
) -> list[Chunk]:
    """The chunks of `text` with their runs, margin marks and lanes.

    `only` limits the result to those chunk indexes (a partial re-render); the indexes are
    the same as in the full list. Marks outside the text or empty are left out.
    """
    length = len(text)
    ordered = sorted(
        (m for m in marks if 0 <= m.start < m.end <= length), key=lambda m: (m.start, m.end, m.key)
    )
    chunks = []
    active: list[Mark] = []
    pointer = 0
    for bounds in chunk_bounds(text, sections, size):
        # A sweep over the marks in start order: those begun before the chunk's end, less
        # those ended before its start.
        while pointer < len(ordered) and ordered[pointer].start < bounds.end:
            active.append(ordered[pointer])
            pointer += 1
        active = [m for m in active if m.end > bounds.start]
        if only is not None and bounds.index not in only:
            continue
        here = list(active)
        chunks.append(
            Chunk(
                bounds=bounds,
                runs=_runs(text, bounds, here),
                starting=[m for m in here if m.start >= bounds.start],
                lanes=assign_lanes(here),
            )
        )
    return chunks
