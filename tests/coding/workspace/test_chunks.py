"""coding/workspace/chunks.py and the rows of render.py: the text cut into chunks that spell it
exactly, in code points, escaped once. (Runs and lanes of highlights are painted in the
browser: tests/browser/test_highlights_js.py.)"""

from __future__ import annotations

import html
import re

from coding.workspace.chunks import CHUNK_SIZE, SectionSpan, chunk_bounds, heading_length
from coding.workspace.render import escape_text, text_rows

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧


def test_sections_cut_chunks_and_know_their_heading() -> None:
    text = "Samenvatting\nKort.\nAanpak\nOuders oefenen thuis.\n"
    aanpak = text.index("Aanpak")
    sections = [
        SectionSpan(0, aanpak, "Samenvatting", excluded=True),
        SectionSpan(aanpak, len(text), "Aanpak"),
    ]
    bounds = chunk_bounds(text, sections)
    assert [(c.start, c.end, c.excluded, c.opens_section) for c in bounds] == [
        (0, aanpak, True, True),
        (aanpak, len(text), False, True),
    ]
    assert [heading_length(text, c) for c in bounds] == [len("Samenvatting"), len("Aanpak")]


def test_a_heading_the_text_does_not_start_with_is_not_marked() -> None:
    text = "Inleiding\nHet gezin.\n"
    (bounds,) = chunk_bounds(text, [SectionSpan(0, len(text), "Doel")])
    assert heading_length(text, bounds) == 0


def test_text_outside_sections_is_a_chunk_too() -> None:
    text = "Inleiding zonder kop.\nDoel\nHet gezin versterken.\n"
    doel = text.index("Doel")
    bounds = chunk_bounds(text, [SectionSpan(doel, len(text), "Doel")])
    assert [(c.start, c.end, c.section is None) for c in bounds] == [
        (0, doel, True),
        (doel, len(text), False),
    ]
    assert heading_length(text, bounds[0]) == 0


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
    # Only the first piece of a section opens it.
    assert [c.opens_section for c in chunk_bounds(text, [SectionSpan(0, len(text))])][:2] == [
        True,
        False,
    ]


def test_a_long_line_is_cut_after_a_space_and_never_inside_a_character() -> None:
    text = ("woord " * 1000) + ("e\u0301" * 4000) + (FAMILY * 800)
    bounds = chunk_bounds(text, [])
    assert "".join(text[b.start : b.end] for b in bounds) == text
    for chunk in bounds[:-1]:
        assert text[chunk.end] not in ("\u0301", "\u200d")
        assert text[chunk.end - 1] != "\u200d"


def test_rows_spell_the_text_escaped_with_the_heading_in_a_span() -> None:
    text = 'Aanpak <b>\nDe ‘coach’ & het "gezin" <script>alert(1)</script> ' + FAMILY + "\n"
    rows = text_rows(text, [SectionSpan(0, len(text), "Aanpak <b>")])
    assert rows.startswith(
        '<div class="ws-row"><div id="ws-chunk-0" class="ws-chunk" data-offset="0" '
        f'data-end="{len(text)}" tabindex="0" aria-describedby="ws-kbd">'
        '<span class="ws-heading">Aanpak &lt;b&gt;</span>\nDe ‘coach’ &amp; het "gezin" &lt;script'
    )
    assert "<script>" not in rows
    body = re.search(r'<div id="ws-chunk-0"[^>]*>(.*?)</div>', rows, flags=re.S)
    assert body is not None
    assert html.unescape(re.sub(r"<[^>]+>", "", body.group(1))) == text


def test_a_section_that_is_not_coded_is_marked_and_says_so_once() -> None:
    text = "Samenvatting\n" + "Kort en goed.\n" * 300
    rows = text_rows(text, [SectionSpan(0, len(text), "Samenvatting", excluded=True)])
    assert rows.count("data-excluded") > 1
    assert "tabindex" not in rows
    assert rows.count('<p class="ws-excluded-note" id="ws-note-0">Not coded</p>') == 1
    assert rows.count('<span class="visually-hidden">Not coded</span>') == rows.count("ws-row") - 1


def test_text_escaping_leaves_quotes_and_escapes_markup() -> None:
    assert escape_text("a < b & c > d \"e\" 'f'") == "a &lt; b &amp; c &gt; d \"e\" 'f'"
