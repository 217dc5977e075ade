"""The workspace on a phone and on a desktop in chromium: a passage coded by taps in the bottom
sheet (390 x 844, touch), by one click on the code list and by dragging the selection onto a
code (1280 x 800); the picker's search and buttons in view at both sizes; nothing wider than
the phone's screen; one Tab and Enter from loading the page to the first passage.

A phone's long press that selects text cannot be sent through Playwright (it taps, it does not
hold), so the touch test makes the selection as the phone's own selection handles leave it, a
range in the text, and taps from there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from coding.models import Code, Segment
from interventions.models import Intervention
from tests.browser import test_workspace
from tests.browser.conftest import SCREENSHOTS, login
from tests.browser.test_workspace import PASSWORD, TEXT, WORD_POINTS, drag_select
from tests.conftest import Cast

# The text (with a section that is not coded) and the codes of the workspace's other tests.
text = test_workspace.doc
codebook = test_workspace.codes

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

# Select text[start:end] of the page's text as a long press and the selection handles do.
SELECT_WORDS = """([first, last]) => {
  const root = document.getElementById("ws-text");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let start = null;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!start) {
      const index = node.data.indexOf(first);
      if (index < 0) continue;
      start = [node, index];
    }
    const from = node === start[0] ? start[1] : 0;
    const at = node.data.indexOf(last, from);
    if (at < 0) continue;
    node.parentElement.scrollIntoView({ block: "center" });
    const range = document.createRange();
    range.setStart(start[0], start[1]);
    range.setEnd(node, at + last.length);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return true;
  }
  return false;
}"""

# Where the first line holding `word` ends on the screen (0: not on the page).
BOTTOM_OF = """(word) => {
  const root = document.getElementById("ws-text");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(word);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + word.length);
    return range.getBoundingClientRect().bottom;
  }
  return 0;
}"""

# Whatever in the page reaches past the right edge of the viewport.
WIDER_THAN_SCREEN = """() => {
  const out = [];
  for (const element of document.querySelectorAll("main *")) {
    const box = element.getBoundingClientRect();
    if (box.width && box.right > window.innerWidth + 0.5) out.push(element.id || element.className);
  }
  return out;
}"""


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="en-US", viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport=DESKTOP)
    page = context.new_page()
    yield page
    context.close()


def open_workspace(page: Page, live_server: Any, cast: Cast) -> None:
    login(page, live_server, "carol", PASSWORD)
    page.goto(f"{live_server.url}/s/{cast.study.slug}/i/{cast.intervention.uuid}/code/")
    expect(page.locator("#ws-text")).to_be_visible()
    # Nothing of the page, its header included, is wider than the screen.
    viewport = page.viewport_size
    assert viewport is not None
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def in_view(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    viewport = page.viewport_size
    assert box is not None, selector
    assert viewport is not None
    assert box["y"] >= 0, (selector, box)
    assert box["y"] + box["height"] <= viewport["height"], (selector, box)
    assert box["x"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= viewport["width"], (selector, box)


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def stored(cast: Cast, quote: str) -> Segment:
    segment = Segment.objects.get(coder=cast.coder_a, quote=quote)
    start = TEXT.index(quote)
    assert (segment.start, segment.end) == (start, start + len(quote))
    return segment


def test_on_a_phone_a_passage_is_coded_by_taps_in_the_bottom_sheet(
    phone: Page, live_server: Any, cast: Cast, text: Intervention, codebook: dict[str, Code]
) -> None:
    page = phone
    open_workspace(page, live_server, cast)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(WIDER_THAN_SCREEN) == []
    # The text takes the width of the screen, less a small margin.
    width = page.evaluate("document.getElementById('ws-chunk-1').getBoundingClientRect().width")
    assert width >= PHONE["width"] - 40
    # The code list is a sheet, closed to its handle at the bottom of the screen.
    expect(page.locator("#ws-tree")).to_be_hidden()
    in_view(page, "#ws-sheet-toggle")

    assert page.evaluate(SELECT_WORDS, ["Ouders", "thuis"])
    expect(page.locator("#ws-selection-quote")).to_have_text("Ouders oefenen thuis")
    page.tap("#ws-sheet-toggle")
    expect(page.locator("#ws-sheet-toggle")).to_have_attribute("aria-expanded", "true")
    code = page.locator(f'#ws-tree button.ws-tree-code[data-code="{codebook["doelen"].uuid}"]')
    expect(code).to_be_visible()
    shot(page, "workspace-phone-sheet")
    code.tap()

    expect(page.locator("#ws-status")).to_have_text("Coded: Doelen")
    segment = stored(cast, "Ouders oefenen thuis")
    assert segment.code == codebook["doelen"]
    # The sheet closes on the new highlight, whose label sits on a line under its paragraph.
    expect(page.locator("#ws-tree")).to_be_hidden()
    mark = page.locator(f'mark[data-segments~="{segment.uuid}"]')
    expect(mark).to_have_text("Ouders oefenen thuis")
    label = page.locator(f"#seg-{segment.uuid}")
    expect(label).to_contain_text("Doelen")
    label_box, mark_box = label.bounding_box(), mark.bounding_box()
    assert label_box is not None
    assert mark_box is not None
    assert label_box["y"] > mark_box["y"] + mark_box["height"] - 1
    assert label_box["x"] + label_box["width"] <= PHONE["width"]
    expect(page.locator("#ws-selection")).to_be_hidden()
    shot(page, "workspace-phone-coded")

    # Tapping the label opens the segment in the sheet, placed by section and paragraph.
    label.tap()
    expect(page.locator("#segment-panel")).to_be_visible()
    expect(page.locator(".ws-panel-meta")).to_have_text("by carol, Aanpak, paragraph 1")
    assert page.evaluate(WIDER_THAN_SCREEN) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_on_a_phone_the_picker_is_a_sheet_with_its_buttons_in_view(
    phone: Page, live_server: Any, cast: Cast, text: Intervention, codebook: dict[str, Code]
) -> None:
    page = phone
    open_workspace(page, live_server, cast)
    assert page.evaluate(SELECT_WORDS, ["netwerk", "buren"])
    page.tap("#ws-code-selection")
    expect(page.locator("#picker")).to_be_visible()
    for selector in ("#picker-search", "#picker-apply", "[data-picker-close]", "#picker-new"):
        in_view(page, selector)
    # The selection stays in view above the sheet.
    picker_top = page.evaluate("document.getElementById('picker').getBoundingClientRect().top")
    quote_bottom = page.evaluate(BOTTOM_OF, "buren")
    assert 0 < quote_bottom <= picker_top
    shot(page, "workspace-phone-picker")
    page.locator(f'#picker-codes input[value="{codebook["inhoud"].uuid}"]').tap()
    page.tap("#picker-apply")
    expect(page.locator("#picker")).to_be_hidden()
    assert stored(cast, "netwerk van buren").code == codebook["inhoud"]


def test_on_a_desktop_one_click_on_the_code_list_codes_the_selection(
    desktop: Page, live_server: Any, cast: Cast, text: Intervention, codebook: dict[str, Code]
) -> None:
    page = desktop
    open_workspace(page, live_server, cast)
    drag_select(page, "Ouders", "thuis")
    # The picker opens with its search and buttons in view, and leaves the code list free.
    expect(page.locator("#picker")).to_be_visible()
    for selector in ("#picker-search", "#picker-apply", "[data-picker-close]", "#picker-new"):
        in_view(page, selector)
    picker = page.locator("#picker").bounding_box()
    side = page.locator("#ws-side").bounding_box()
    assert picker is not None
    assert side is not None
    assert picker["x"] + picker["width"] <= side["x"]
    shot(page, "workspace-desktop-picker")

    code = page.locator(f'#ws-tree button.ws-tree-code[data-code="{codebook["inhoud"].uuid}"]')
    code.click()
    expect(page.locator("#ws-status")).to_have_text("Coded: Inhoud")
    expect(page.locator("#picker")).to_be_hidden()
    segment = stored(cast, "Ouders oefenen thuis")
    assert segment.code == codebook["inhoud"]
    expect(page.locator(f'mark[data-segments~="{segment.uuid}"]')).to_have_text(
        "Ouders oefenen thuis"
    )
    expect(page.locator(f"#seg-{segment.uuid}")).to_contain_text("Inhoud")
    # The focus stays on the code, ready for the next selection; that one is forgotten.
    expect(code).to_be_focused()
    expect(page.locator("#ws-selection")).to_be_hidden()
    shot(page, "workspace-desktop-coded")

    # Without a selection, a click on a code says what to do and stores nothing.
    code.click()
    expect(page.locator("#ws-status")).to_have_text("Select some text first, then choose a code.")
    assert Segment.objects.filter(coder=cast.coder_a).count() == 1


def test_an_open_picker_is_placed_again_when_the_window_changes_width(
    desktop: Page, live_server: Any, cast: Cast, text: Intervention, codebook: dict[str, Code]
) -> None:
    page = desktop
    open_workspace(page, live_server, cast)
    drag_select(page, "Ouders", "thuis")
    expect(page.locator("#picker")).to_be_visible()
    for size in ({"width": 1100, "height": 640}, {"width": 1600, "height": 900}, DESKTOP):
        page.set_viewport_size(size)
        # Placed again after the resize settles: its search and buttons in view, beside the
        # selection, and not over the code list where there is one beside the text.
        expect(page.locator("#picker")).to_be_visible()
        page.wait_for_function(
            """() => {
              const box = document.getElementById("picker").getBoundingClientRect();
              return box.right <= window.innerWidth && box.bottom <= window.innerHeight
                && box.left >= 0 && box.top >= 0;
            }""",
            timeout=3000,
        )
        for selector in ("#picker-search", "#picker-apply", "[data-picker-close]"):
            in_view(page, selector)
    shot(page, "workspace-desktop-picker-after-resize")
    page.locator(f'#picker-codes input[value="{codebook["inhoud"].uuid}"]').check()
    page.click("#picker-apply")
    expect(page.locator("#picker")).to_be_hidden()
    assert stored(cast, "Ouders oefenen thuis").code == codebook["inhoud"]


def test_a_selection_dragged_onto_a_code_is_coded_with_it(
    desktop: Page, live_server: Any, cast: Cast, text: Intervention, codebook: dict[str, Code]
) -> None:
    page = desktop
    open_workspace(page, live_server, cast)
    drag_select(page, "netwerk", "buren")
    expect(page.locator("#picker")).to_be_visible()
    target = page.locator(f'#ws-tree button.ws-tree-code[data-code="{codebook["doelen"].uuid}"]')
    target.scroll_into_view_if_needed()
    words = page.evaluate(WORD_POINTS, ["netwerk", 0])
    box = target.bounding_box()
    assert box is not None
    page.mouse.move(words["x1"] + 8, words["y1"])
    page.mouse.down()
    page.mouse.move(words["x1"] + 40, words["y1"] + 10, steps=4)
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*middle, steps=12)
    # A hand comes to rest on the code with a last small move, as the browser's drag needs.
    page.mouse.move(middle[0] + 3, middle[1], steps=2)
    expect(target.locator("xpath=..")).to_have_class("tree-row is-drop")
    page.mouse.up()
    expect(page.locator("#ws-status")).to_have_text("Coded: Doelen")
    assert stored(cast, "netwerk van buren").code == codebook["doelen"]
    expect(page.locator("#picker")).to_be_hidden()


def test_one_tab_and_enter_lead_from_loading_the_page_to_the_first_passage(
    desktop: Page, live_server: Any, cast: Cast, text: Intervention, codebook: dict[str, Code]
) -> None:
    page = desktop
    open_workspace(page, live_server, cast)
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Skip to the text")
    page.keyboard.press("Enter")
    # The first passage that is coded (the summary is not): its first word is selected.
    expect(page.locator("#ws-chunk-1")).to_be_focused()
    assert page.evaluate("window.getSelection().toString()") == "Aanpak"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.locator("#picker")).to_be_visible()
    expect(page.locator("#picker-quote")).to_have_text("“Het”")
