"""Where a position in an intervention's text is, in words a reader uses: the section and the
paragraph within it ("Doelen, paragraph 3"), instead of a character offset.

Pure: plain data in, plain data out. Offsets are code points into the text (see `Segment`);
sections are anything with `start`, `end` and `heading` (a `Section`, or the workspace's
`SectionSpan`). A paragraph is a line that is not blank: databank texts hold one paragraph a
line, with or without blank lines between them, and a section opens with its heading's line,
which is not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class SectionLike(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def heading(self) -> str: ...


@dataclass(frozen=True)
class Place:
    heading: str  # the section's heading; "" outside every section
    paragraph: int  # 1 for the first paragraph of the section (or of the text outside one)


def place_of(text: str, sections: Iterable[SectionLike], offset: int) -> Place:
    """The section holding `offset` and the number of its paragraph there."""
    ordered = sorted(sections, key=lambda s: s.start)
    section = next((s for s in ordered if s.start <= offset < s.end), None)
    if section is not None:
        base, heading = section.start, section.heading
        if heading and text.startswith(heading, base):
            base += len(heading)
    else:
        # Text outside sections counts from the end of the section before it.
        base = max((s.end for s in ordered if s.end <= offset), default=0)
        heading = ""
    lines = text[base:offset].split("\n")
    # Every line before the one holding the offset that is not blank is a paragraph before it.
    paragraph = sum(1 for line in lines[:-1] if line.strip()) + 1
    return Place(heading=heading, paragraph=paragraph)
