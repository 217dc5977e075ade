"""static/js/offsets.js in chromium: its offsets equal Python's code-point slicing.

The page is a bare copy of the coding workspace's text: chunks carrying `data-offset`, split
by highlight <mark>s and a code badge marked `data-offset-ignore`, with template whitespace
between the chunks that is no part of the text.
"""

from __future__ import annotations

import html
from typing import Any

import pytest
from playwright.sync_api import Page

from coding.offsets import codepoint_to_utf16

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧
FLAG = "\U0001f1f3\U0001f1f1"  # 🇳🇱

# The text nodes of the page, in order; the badge "Doelen" is shown but not counted.
C1_A = f"Het gezin {FAMILY} en {FLAG} vlag.\nDe "
C1_MARK = "coördinator e\u0301n"
C1_B = " café helpen.\n"
C2_A = "Ouders "
C2_MARK_A = "oefenen"
C2_MARK_B = " thuis"
C2_B = " met nieuwe vaardigheden."
TEXT = C1_A + C1_MARK + C1_B + C2_A + C2_MARK_A + C2_MARK_B + C2_B
SECOND_CHUNK = len(C1_A + C1_MARK + C1_B)

e = html.escape
PAGE = f"""<!doctype html>
<html><body>
<p id="before">Buiten de tekst.</p>
<div id="text" style="white-space: pre-wrap">
  <p id="c1" data-offset="0">{e(C1_A)}<mark id="m1">{e(C1_MARK)}</mark>{e(C1_B)}</p>
  <p id="c2" data-offset="{SECOND_CHUNK}">{e(C2_A)}<mark id="m2">{e(C2_MARK_A)}<span
    data-offset-ignore class="badge">Doelen</span>{e(C2_MARK_B)}</mark>{e(C2_B)}</p>
</div>
</body></html>"""

# Which Python string each (element, child index) text node holds.
NODES = {
    ("#c1", 0): C1_A,
    ("#m1", 0): C1_MARK,
    ("#c1", 2): C1_B,
    ("#c2", 0): C2_A,
    ("#m2", 0): C2_MARK_A,
    ("#m2", 2): C2_MARK_B,
    ("#c2", 2): C2_B,
}

SELECT = """([anchor, focus]) => {
  const node = (p) => {
    const element = document.querySelector(p.sel);
    return p.child === null ? element : element.childNodes[p.child];
  };
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.setBaseAndExtent(node(anchor), anchor.offset, node(focus), focus.offset);
  return window.offsets.selectionToCodePoints(document.getElementById("text"));
}"""


@pytest.fixture
def offsets_page(page: Page, live_server: Any) -> Page:
    # The module is loaded as the site serves it, from the live server's own origin.
    page.goto(f"{live_server.url}/static/js/offsets.js")
    page.set_content(PAGE)
    page.evaluate("async () => { window.offsets = await import('/static/js/offsets.js'); }")
    return page


def in_text(selector: str, child: int, before: str) -> dict[str, Any]:
    """The point in a text node just before the substring `before` of its text."""
    node_text = NODES[(selector, child)]
    return {
        "sel": selector,
        "child": child,
        "offset": codepoint_to_utf16(node_text, node_text.index(before)),
    }


def after_text(selector: str, child: int, word: str) -> dict[str, Any]:
    node_text = NODES[(selector, child)]
    return {
        "sel": selector,
        "child": child,
        "offset": codepoint_to_utf16(node_text, node_text.index(word) + len(word)),
    }


def element(selector: str, offset: int) -> dict[str, Any]:
    return {"sel": selector, "child": None, "offset": offset}


def expected(start: int, end: int) -> dict[str, Any]:
    return {"start": start, "end": end, "quote": TEXT[start:end]}


def select(page: Page, anchor: dict[str, Any], focus: dict[str, Any]) -> Any:
    return page.evaluate(SELECT, [anchor, focus])


TEXTS = [
    "Coördinatie van één gezin, ruïne, café, geëmancipeerd",
    "cafe\u0301 en e\u0301e\u0301n",
    f"{FAMILY} gezin {FLAG} vlag",
    f"a{FLAG}{FAMILY}",
    "",
]


def test_the_conversions_agree_with_python_for_every_offset(offsets_page: Page) -> None:
    for text in TEXTS:
        got = offsets_page.evaluate(
            """(text) => {
              const {codePointToUtf16, utf16ToCodePoint} = window.offsets;
              const cps = Array.from(text).length;
              const units = [];
              const back = [];
              for (let cp = 0; cp <= cps; cp++) {
                units.push(codePointToUtf16(text, cp));
                back.push(utf16ToCodePoint(text, codePointToUtf16(text, cp)));
              }
              return {units, back, length: text.length};
            }""",
            text,
        )
        assert got["units"] == [codepoint_to_utf16(text, cp) for cp in range(len(text) + 1)]
        assert got["back"] == list(range(len(text) + 1))


def test_offsets_outside_the_text_or_inside_a_surrogate_pair_throw(offsets_page: Page) -> None:
    errors = offsets_page.evaluate(
        """(text) => {
          const {codePointToUtf16, utf16ToCodePoint} = window.offsets;
          const attempt = (f) => { try { f(); return null; } catch (e) { return e.message; } };
          return [
            attempt(() => utf16ToCodePoint(text, 2)),
            attempt(() => utf16ToCodePoint(text, text.length + 1)),
            attempt(() => utf16ToCodePoint(text, -1)),
            attempt(() => codePointToUtf16(text, 4)),
            attempt(() => utf16ToCodePoint(text, 1.5)),
          ];
        }""",
        f"a{FLAG}",
    )
    assert "surrogate pair" in errors[0]
    assert all("outside the text" in message for message in errors[1:4])
    assert "whole number" in errors[4]


def test_a_selection_after_an_emoji_family_and_a_flag_counts_code_points(
    offsets_page: Page,
) -> None:
    result = select(offsets_page, in_text("#c1", 0, "vlag"), after_text("#c1", 0, "vlag."))
    start = TEXT.index("vlag")
    assert result == expected(start, start + 5)
    assert result["quote"] == "vlag."


def test_a_selection_across_a_mark_with_diacritics_and_a_combining_mark(
    offsets_page: Page,
) -> None:
    result = select(offsets_page, in_text("#c1", 0, "De "), after_text("#c1", 2, "café"))
    start = TEXT.index("De coördinator")
    end = TEXT.index(" helpen")
    assert result == expected(start, end)
    assert result["quote"] == "De coördinator e\u0301n café"


def test_a_selection_starting_inside_a_mark_and_ending_after_it(offsets_page: Page) -> None:
    result = select(offsets_page, in_text("#m1", 0, "dinator"), after_text("#c1", 2, "café"))
    assert result == expected(TEXT.index("dinator"), TEXT.index(" helpen"))


def test_a_backwards_selection_gives_the_same_span(offsets_page: Page) -> None:
    forwards = select(offsets_page, in_text("#c1", 0, "De "), after_text("#c1", 2, "café"))
    backwards = select(offsets_page, after_text("#c1", 2, "café"), in_text("#c1", 0, "De "))
    assert backwards == forwards


def test_a_selection_across_two_chunks_skips_the_badge_and_template_whitespace(
    offsets_page: Page,
) -> None:
    result = select(offsets_page, in_text("#c1", 2, "helpen"), after_text("#m2", 2, "thuis"))
    start = TEXT.index("helpen")
    end = TEXT.index(" met nieuwe")
    assert result == expected(start, end)
    assert result["quote"] == "helpen.\nOuders oefenen thuis"


def test_a_selection_ending_in_the_ignored_badge_stops_before_it(offsets_page: Page) -> None:
    result = select(offsets_page, in_text("#c2", 0, "Ouders"), element(".badge", 1))
    assert result == expected(SECOND_CHUNK, TEXT.index(" thuis"))


def test_a_selection_between_element_boundaries_snaps_to_the_text(offsets_page: Page) -> None:
    whole = select(offsets_page, element("#text", 0), element("#text", 5))
    assert whole == expected(0, len(TEXT))
    # From the start of the second chunk to just after the mark's first text node.
    result = select(offsets_page, element("#c2", 0), element("#m2", 1))
    assert result == expected(SECOND_CHUNK, TEXT.index(" thuis"))
    # From just after the first mark to the end of the first chunk.
    result = select(offsets_page, element("#c1", 2), element("#c1", 3))
    assert result == expected(TEXT.index(" café"), SECOND_CHUNK)


def test_a_selection_reaching_outside_the_text_is_cut_to_it(offsets_page: Page) -> None:
    result = select(offsets_page, element("#before", 0), in_text("#c1", 0, " en"))
    assert result == expected(0, TEXT.index(" en"))


def test_no_selection_or_one_outside_the_text_gives_null(offsets_page: Page) -> None:
    point = in_text("#c1", 0, "vlag")
    assert select(offsets_page, point, point) is None
    assert select(offsets_page, element("#before", 0), element("#before", 1)) is None


def test_every_code_point_goes_to_a_dom_point_and_back(offsets_page: Page) -> None:
    got = offsets_page.evaluate(
        """([first, second, length]) => {
          const {codePointToPoint, pointToCodePoint} = window.offsets;
          const root = document.getElementById("text");
          const back = [];
          for (let cp = 0; cp <= length; cp++) {
            const chunk = document.getElementById(cp < second ? "c1" : "c2");
            const [node, offset] = codePointToPoint(chunk, cp);
            back.push(pointToCodePoint(root, node, offset));
          }
          const [node, offset] = codePointToPoint(document.getElementById("c1"), first);
          return {back, vlag: [node === document.getElementById("c1").childNodes[0], offset]};
        }""",
        [TEXT.index("vlag"), SECOND_CHUNK, len(TEXT)],
    )
    assert got["back"] == list(range(len(TEXT) + 1))
    assert got["vlag"] == [True, codepoint_to_utf16(C1_A, C1_A.index("vlag"))]


def test_a_caret_outside_the_chunks_has_no_code_point_and_one_mid_pair_rounds_as_asked(
    offsets_page: Page,
) -> None:
    inside_family = codepoint_to_utf16(C1_A, C1_A.index(FAMILY)) + 1
    got = offsets_page.evaluate(
        """(inside) => {
          const {pointToCodePoint} = window.offsets;
          const root = document.getElementById("text");
          const node = document.getElementById("c1").childNodes[0];
          return [
            pointToCodePoint(root, document.getElementById("before").childNodes[0], 3),
            pointToCodePoint(root, node, inside),
            pointToCodePoint(root, node, inside, true),
          ];
        }""",
        inside_family,
    )
    before_family = TEXT.index(FAMILY)
    assert got == [None, before_family, before_family + 1]


def test_the_text_of_a_chunk_and_between_offsets_skips_the_badge(offsets_page: Page) -> None:
    got = offsets_page.evaluate(
        """([start, end]) => {
          const {chunkText, textBetween} = window.offsets;
          return [
            chunkText(document.getElementById("c2")),
            textBetween(document.getElementById("text"), start, end),
          ];
        }""",
        [TEXT.index("vlag"), TEXT.index(" thuis")],
    )
    assert got == [TEXT[SECOND_CHUNK:], TEXT[TEXT.index("vlag") : TEXT.index(" thuis")]]
