"""Where a position is, as a reader says it: section and paragraph (`interventions.places`)."""

from __future__ import annotations

from coding.workspace.chunks import SectionSpan
from interventions.places import Place, place_of

TEXT = (
    "Titel van de interventie\n"
    "\n"
    "Doelen\n"
    "Eerste alinea over doelen.\n"
    "\n"
    "Tweede alinea, na een lege regel.\n"
    "Derde alinea, zonder lege regel ervoor.\n"
    "Aanpak\n"
    "De coach komt thuis.\n"
)
DOELEN = TEXT.index("Doelen")
AANPAK = TEXT.index("Aanpak")
SECTIONS = [
    SectionSpan(AANPAK, len(TEXT), "Aanpak"),
    SectionSpan(DOELEN, AANPAK, "Doelen"),
]


def test_it_counts_paragraphs_within_a_section_without_its_heading_or_blank_lines() -> None:
    assert place_of(TEXT, SECTIONS, TEXT.index("Eerste")) == Place("Doelen", 1)
    assert place_of(TEXT, SECTIONS, TEXT.index("over doelen")) == Place("Doelen", 1)
    assert place_of(TEXT, SECTIONS, TEXT.index("Tweede")) == Place("Doelen", 2)
    assert place_of(TEXT, SECTIONS, TEXT.index("zonder lege")) == Place("Doelen", 3)
    assert place_of(TEXT, SECTIONS, TEXT.index("coach")) == Place("Aanpak", 1)


def test_the_heading_itself_is_in_its_sections_first_paragraph() -> None:
    assert place_of(TEXT, SECTIONS, DOELEN) == Place("Doelen", 1)


def test_text_outside_every_section_has_no_heading() -> None:
    assert place_of(TEXT, SECTIONS, 0) == Place("", 1)
    assert place_of(TEXT, [], TEXT.index("Tweede")) == Place("", 4)
