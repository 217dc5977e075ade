"""The coding workspace in chromium: coding with the mouse and the keyboard through the picker,
overlapping highlights, code points after emoji and combining accents, memos, and blind coding
between two coders."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from coding import segments as seg
from coding.codebook import services
from coding.models import Code, Segment
from interventions.models import Intervention, Section
from tests.browser.conftest import SCREENSHOTS, login, screenshot
from tests.conftest import Cast

PASSWORD = "veerkracht-test-wachtwoord"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧
TEXT = (
    "Samenvatting\n"
    "Het gezin leert samen omgaan met tegenslag. Deze samenvatting wordt niet gecodeerd.\n"
    "\n"
    "Aanpak\n"
    f"Het gezin {FAMILY} en de coördinator kome\u0301n elke week samen. "
    "Ouders oefenen thuis met nieuwe vaardigheden en de coach geeft feedback op hun "
    "opvoeding. Zo groeit het vertrouwen van ouders in hun eigen kunnen.\n"
    "\n"
    "Netwerk\n"
    "Het netwerk van buren, familie en school steunt de kinderen bij hun ontwikkeling. "
    "De gezinscoach zoekt samen met het gezin naar mensen die kunnen helpen.\n"
)

# The page point of a word's first and last character, after scrolling it into view.
WORD_POINTS = """([word, nth]) => {
  const root = document.getElementById("ws-text");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let seen = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let index = node.data.indexOf(word);
    while (index >= 0 && seen < nth) { seen += 1; index = node.data.indexOf(word, index + 1); }
    if (index < 0) continue;
    node.parentElement.scrollIntoView({ block: "center" });
    const range = document.createRange();
    range.setStart(node, index);
    range.setEnd(node, index + 1);
    const first = range.getBoundingClientRect();
    range.setStart(node, index + word.length - 1);
    range.setEnd(node, index + word.length);
    const last = range.getBoundingClientRect();
    return { x1: first.left + 1, y1: first.top + first.height / 2,
             x2: last.right - 1, y2: last.top + last.height / 2 };
  }
  return null;
}"""


def drag_select(page: Page, first_word: str, last_word: str | None = None) -> None:
    """Select from the start of `first_word` to the end of `last_word` with real mouse moves."""
    start = page.evaluate(WORD_POINTS, [first_word, 0])
    assert start, f"{first_word!r} is not on the page"
    end = page.evaluate(WORD_POINTS, [last_word, 0]) if last_word else start
    assert end, f"{last_word!r} is not on the page"
    page.mouse.move(start["x1"], start["y1"])
    page.mouse.down()
    page.mouse.move((start["x1"] + end["x2"]) / 2, (start["y1"] + end["y2"]) / 2, steps=4)
    page.mouse.move(end["x2"], end["y2"], steps=6)
    page.mouse.up()


@pytest.fixture
def doc(cast: Cast) -> Intervention:
    intervention = cast.intervention
    intervention.text = TEXT
    intervention.save()
    aanpak, netwerk = TEXT.index("Aanpak"), TEXT.index("Netwerk")
    Section.objects.create(
        intervention=intervention, heading="Samenvatting", start=0, end=aanpak, excluded=True
    )
    Section.objects.create(intervention=intervention, heading="Aanpak", start=aanpak, end=netwerk)
    Section.objects.create(
        intervention=intervention, heading="Netwerk", start=netwerk, end=len(TEXT)
    )
    for user in (cast.coder_a, cast.coder_b, cast.owner):
        user.set_password(PASSWORD)
        user.save()
    return intervention


@pytest.fixture
def codes(cast: Cast) -> dict[str, Code]:
    make = services.code_create
    sociaal = make(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    psych = make(study=cast.study, actor=cast.owner, name="Psychologische hulpbronnen")
    services.code_update(code=psych, actor=cast.owner, revision=None, color="#d55e00")
    doelen = make(study=cast.study, actor=cast.owner, name="Doelen", parent=sociaal)
    inhoud = make(study=cast.study, actor=cast.owner, name="Inhoud", parent=sociaal)
    services.code_update(code=inhoud, actor=cast.owner, revision=None, color="#009e73")
    zelf = make(study=cast.study, actor=cast.owner, name="Zelfvertrouwen", parent=psych)
    services.code_update(code=zelf, actor=cast.owner, revision=None, color="#cc79a7", shortcut="z")
    return {
        "sociaal": sociaal,
        "psych": psych,
        "doelen": doelen,
        "inhoud": inhoud,
        "zelf": Code.objects.get(pk=zelf.pk),
    }


def open_workspace(page: Page, live_server: Any, cast: Cast, username: str) -> Page:
    login(page, live_server, username, PASSWORD)
    page.goto(f"{live_server.url}/s/{cast.study.slug}/i/{cast.intervention.uuid}/code/")
    expect(page.locator("#ws-text")).to_be_visible()
    return page


def pick_through_search(page: Page, search: str) -> None:
    picker = page.locator("#picker")
    expect(picker).to_be_visible()
    expect(page.locator("#picker-search")).to_be_focused()
    page.keyboard.type(search)
    page.keyboard.press("Enter")
    expect(picker).to_be_hidden()


def test_a_coder_selects_with_the_mouse_and_codes_through_the_picker(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    open_workspace(page, live_server, cast, "carol")
    drag_select(page, "Ouders", "thuis")
    expect(page.locator("#picker-quote")).to_have_text("“Ouders oefenen thuis”")
    screenshot(page, "workspace-picker")
    pick_through_search(page, "doel")
    segment = Segment.objects.get(coder=cast.coder_a)
    assert (segment.code, segment.quote) == (codes["doelen"], "Ouders oefenen thuis")
    assert TEXT[segment.start : segment.end] == "Ouders oefenen thuis"
    expect(page.locator(f'mark[data-segments~="{segment.uuid}"]')).to_have_text(
        "Ouders oefenen thuis"
    )
    expect(page.locator(f"#seg-{segment.uuid}")).to_contain_text("Doelen")
    expect(page.locator("#ws-status")).to_have_text("Coded: Doelen")
    expect(page.locator("#ws-tree")).to_contain_text("1 · 1")


def test_two_overlapping_segments_show_both_marks_and_both_labels(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    open_workspace(page, live_server, cast, "carol")
    drag_select(page, "oefenen", "vaardigheden")
    pick_through_search(page, "inhoud")
    drag_select(page, "nieuwe", "coach")
    # A code's shortcut key applies it at once while the search is empty.
    expect(page.locator("#picker-search")).to_be_focused()
    page.keyboard.press("z")
    expect(page.locator("#picker")).to_be_hidden()
    first = Segment.objects.get(code=codes["inhoud"])
    second = Segment.objects.get(code=codes["zelf"])
    assert first.quote == "oefenen thuis met nieuwe vaardigheden"
    assert second.quote == "nieuwe vaardigheden en de coach"
    both = page.locator(f'mark[data-segments~="{first.uuid}"][data-segments~="{second.uuid}"]')
    expect(both).to_have_text("nieuwe vaardigheden")
    expect(page.locator(f"#seg-{first.uuid}")).to_be_visible()
    expect(page.locator(f"#seg-{second.uuid}")).to_be_visible()
    # A third, nested one: three underlines under "nieuwe".
    drag_select(page, "nieuwe")
    page.locator("#picker-codes label", has_text="Doelen").click()
    page.locator("#picker-apply").click()
    expect(page.locator("#picker")).to_be_hidden()
    expect(page.locator("#ws-text .ws-label")).to_have_count(3)
    page.locator("#ws-chunk-1").scroll_into_view_if_needed()
    screenshot(page, "workspace-overlaps")
    page.locator(".ws-row:has(#ws-chunk-1)").screenshot(
        path=str(SCREENSHOTS / "workspace-overlaps-row.png")
    )


def test_offsets_stay_right_after_an_emoji_family_and_combining_accents(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    assert TEXT.index(FAMILY) < TEXT.index("elke week samen")
    open_workspace(page, live_server, cast, "carol")
    # From inside "elke" to inside "week": snapping to whole words takes both words whole.
    drag_select(page, "lke", "wee")
    expect(page.locator("#picker-quote")).to_have_text("“elke week”")
    pick_through_search(page, "sociale")
    segment = Segment.objects.get(coder=cast.coder_a)
    assert TEXT[segment.start : segment.end] == segment.quote == "elke week"
    # Without snapping, the exact characters dragged over are coded.
    page.locator("#ws-snap").uncheck()
    drag_select(page, "oördinator")
    pick_through_search(page, "inhoud")
    exact = Segment.objects.get(code=codes["inhoud"])
    assert TEXT[exact.start : exact.end] == exact.quote == "oördinator"


def test_a_selection_in_a_section_that_is_not_coded_opens_no_picker(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    open_workspace(page, live_server, cast, "carol")
    page.evaluate(
        """() => {
          const chunk = document.getElementById("ws-chunk-0");
          const node = chunk.lastChild;
          const range = document.createRange();
          range.setStart(node, 1);
          range.setEnd(node, 12);
          getSelection().removeAllRanges();
          getSelection().addRange(range);
        }"""
    )
    page.locator("#ws-code-selection").click()
    expect(page.locator("#picker")).to_be_hidden()
    expect(page.locator("#ws-status")).to_contain_text("not coded")
    assert not Segment.objects.exists()


def test_the_keyboard_alone_selects_and_codes(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    open_workspace(page, live_server, cast, "carol")
    page.locator("#ws-help summary").click()
    page.locator("#ws-chunk-1").focus()
    # The first word of the passage is selected: the heading "Aanpak". Right arrow walks on.
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # Het, gezin, (family), ...
    page.keyboard.press("Control+Shift+ArrowRight")
    screenshot(page, "workspace-keyboard-selection")
    page.keyboard.press("Enter")
    expect(page.locator("#picker")).to_be_visible()
    quote = page.locator("#picker-quote-value").input_value()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(page.locator("#picker")).to_be_hidden()
    segment = Segment.objects.get(coder=cast.coder_a)
    assert segment.quote == quote
    assert TEXT[segment.start : segment.end] == quote
    assert segment.code == codes["sociaal"]
    # Escape closes the picker and gives the focus back to the text.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("c")
    expect(page.locator("#picker")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#picker")).to_be_hidden()
    expect(page.locator("#ws-chunk-1")).to_be_focused()


# A caret in the text just before `word`, in the chunk that holds it, which gets the focus.
CARET_BEFORE = """(word) => {
  const root = document.getElementById("ws-text");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const index = node.data.indexOf(word);
    if (index < 0) continue;
    node.parentElement.closest(".ws-chunk").focus();
    window.getSelection().collapse(node, index);
    return true;
  }
  return false;
}"""


def test_the_keyboard_codes_the_word_after_an_emoji_family_and_a_combining_mark(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    # Before "elke" the caret's UTF-16 offset is 3 more than its code point (the family is 5
    # code points in 8 UTF-16 units), and the accent of "kome\u0301n" is a code point of its own.
    open_workspace(page, live_server, cast, "carol")
    assert page.evaluate(CARET_BEFORE, " elke week")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.locator("#picker-quote-value")).to_have_value("elke")
    pick_through_search(page, "sociale")
    segment = Segment.objects.get(coder=cast.coder_a)
    start = TEXT.index("elke week")
    assert (segment.start, segment.end, segment.quote) == (start, start + 4, "elke")
    # The caret goes after the coded word, so the next arrow press takes the next one.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    expect(page.locator("#picker-quote-value")).to_have_value("week")


def test_a_memo_written_on_a_segment_is_saved(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    segment = seg.segments_apply(
        intervention=doc,
        coder=cast.coder_a,
        codes=[codes["doelen"]],
        start=TEXT.index("coach geeft"),
        end=TEXT.index("coach geeft") + len("coach geeft feedback"),
        quote="coach geeft feedback",
    )[0]
    open_workspace(page, live_server, cast, "carol")
    page.locator(f"#seg-{segment.uuid}").click()
    panel = page.locator("#segment-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_have_text("Doelen")
    page.fill("#panel-memo", "Feedback versterkt het zelfvertrouwen van ouders.")
    panel.get_by_role("button", name="Save memo").click()
    expect(panel.locator(".saved")).to_have_text("Memo saved.")
    segment.refresh_from_db()
    assert segment.memo == "Feedback versterkt het zelfvertrouwen van ouders."
    panel.locator("summary", has_text="History").click()
    expect(panel.locator(".ws-history")).to_contain_text("wrote the memo")
    expect(page.locator(f"#seg-{segment.uuid} .ws-memo-mark")).to_be_visible()
    screenshot(page, "workspace-segment-panel")


def test_a_second_coder_sees_none_of_the_first_coders_marks_and_gets_404(
    browser: Browser, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    segment = seg.segments_apply(
        intervention=doc,
        coder=cast.coder_a,
        codes=[codes["doelen"]],
        memo="Carols notitie",
        start=TEXT.index("Ouders"),
        end=TEXT.index("Ouders") + len("Ouders oefenen"),
        quote="Ouders oefenen",
    )[0]
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        open_workspace(page, live_server, cast, "bob")
        expect(page.locator("#ws-text mark")).to_have_count(0)
        expect(page.locator("#ws-text .ws-label")).to_have_count(0)
        assert str(segment.uuid) not in page.content()
        assert "Carols notitie" not in page.content()
        response = page.goto(f"{live_server.url}/s/{cast.study.slug}/segments/{segment.uuid}/")
        assert response is not None
        assert response.status == 404
        screenshot(page, "workspace-second-coder-404")
    finally:
        context.close()


def test_the_owner_follows_a_report_row_to_the_flashing_segment(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    start = TEXT.index("netwerk van buren")
    segment = seg.segments_apply(
        intervention=doc,
        coder=cast.coder_b,
        codes=[codes["inhoud"]],
        start=start,
        end=start + len("netwerk van buren"),
        quote="netwerk van buren",
    )[0]
    seg.progress_set(intervention=doc, coder=cast.coder_b, done=True)
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/s/{cast.study.slug}/progress/")
    expect(page.locator(".progress-table")).to_contain_text("bob")
    screenshot(page, "workspace-progress")
    page.goto(f"{live_server.url}/s/{cast.study.slug}/report/")
    page.select_option("#id_code", label="Sociale hulpbronnen")
    page.click("text=Show")
    expect(page.locator(".report-table")).to_contain_text("netwerk van buren")
    screenshot(page, "workspace-report")
    page.locator(".report-table a", has_text="Gezin Centraal").click()
    label = page.locator(f"#seg-{segment.uuid}")
    expect(label).to_be_visible()
    expect(label).to_have_class("ws-label ws-flash")
    expect(page.locator(f'mark[data-segments~="{segment.uuid}"]')).to_have_class("ws-flash")


def test_a_refusal_shows_in_the_picker_and_keeps_the_selection(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    open_workspace(page, live_server, cast, "carol")
    drag_select(page, "coach")
    pick_through_search(page, "doelen")
    drag_select(page, "coach")
    # As a person does: type once the picker is open with its search field focused.
    expect(page.locator("#picker")).to_be_visible()
    expect(page.locator("#picker-search")).to_be_focused()
    page.keyboard.type("doelen")
    page.keyboard.press("Enter")
    error = page.locator("#picker-error")
    expect(error).to_contain_text("You have given “Doelen” to exactly this text already.")
    expect(page.locator("#picker")).to_be_visible()
    expect(page.locator("#picker-quote-value")).to_have_value("coach")
    screenshot(page, "workspace-picker-refusal")
    assert Segment.objects.count() == 1
    # Another code for the same selection is fine.
    page.fill("#picker-search", "")
    page.locator("#picker-codes label", has_text="Doelen").click()
    page.locator("#picker-codes label", has_text="Inhoud").click()
    page.locator("#picker-apply").click()
    expect(page.locator("#picker")).to_be_hidden()
    assert Segment.objects.filter(quote="coach", code=codes["inhoud"]).exists()


def test_a_new_code_made_in_the_picker_is_inductive_and_applied(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    open_workspace(page, live_server, cast, "carol")
    drag_select(page, "vertrouwen")
    page.locator("#picker-new summary").click()
    page.fill("#picker-new-name", "Ouderlijk zelfvertrouwen")
    page.select_option("#picker-new-parent", label="Psychologische hulpbronnen")
    page.locator("#picker-new button[type=submit]").click()
    new_box = page.locator("#picker-codes label", has_text="Ouderlijk zelfvertrouwen").locator(
        "input"
    )
    expect(new_box).to_be_checked()
    expect(page.locator("#picker-apply")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#picker")).to_be_hidden()
    code = Code.objects.get(name="Ouderlijk zelfvertrouwen")
    assert code.origin == Code.Origin.INDUCTIVE
    assert code.parent == codes["psych"]
    assert Segment.objects.get(code=code).quote == "vertrouwen"
    expect(page.locator("#ws-tree")).to_contain_text("Ouderlijk zelfvertrouwen")


def test_the_coder_moves_a_segments_boundaries_by_selecting_anew(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    start = TEXT.index("coach geeft")
    segment = seg.segments_apply(
        intervention=doc,
        coder=cast.coder_a,
        codes=[codes["doelen"]],
        start=start,
        end=start + len("coach"),
        quote="coach",
    )[0]
    open_workspace(page, live_server, cast, "carol")
    page.locator(f"#seg-{segment.uuid}").click()
    panel = page.locator("#segment-panel")
    panel.get_by_role("button", name="Change boundaries").click()
    drag_select(page, "coach", "feedback")
    # In this mode a selection fills the panel instead of opening the picker.
    expect(page.locator("#picker")).to_be_hidden()
    expect(panel.locator("[data-bounds-preview]")).to_have_text("“coach geeft feedback”")
    panel.get_by_role("button", name="Use selection as new boundaries").click()
    expect(panel.locator(".saved")).to_have_text("Boundaries changed.")
    segment.refresh_from_db()
    assert segment.quote == "coach geeft feedback"
    assert TEXT[segment.start : segment.end] == "coach geeft feedback"
    expect(page.locator(f'mark[data-segments~="{segment.uuid}"]')).to_have_text(
        "coach geeft feedback"
    )


def test_the_owner_turns_a_coders_layer_on(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    for coder, words in ((cast.coder_a, "Ouders oefenen"), (cast.coder_b, "oefenen thuis")):
        start = TEXT.index(words)
        seg.segments_apply(
            intervention=doc,
            coder=coder,
            codes=[codes["doelen"]],
            start=start,
            end=start + len(words),
            quote=words,
        )
    open_workspace(page, live_server, cast, "alice")
    expect(page.locator("#ws-text mark")).to_have_count(0)
    page.locator("#ws-layers label", has_text="carol").click()
    expect(page.locator("#ws-text .ws-label")).to_have_count(1)
    page.locator("#ws-layers label", has_text="bob").click()
    expect(page.locator("#ws-text .ws-label")).to_have_count(2)
    expect(page.locator("#ws-text .ws-label .ws-initials")).to_have_text(["CA", "BO"])
    expect(page.locator("#ws-tree")).to_contain_text("2 · 2")
    screenshot(page, "workspace-owner-layers")


def test_a_coded_selection_is_painted_with_its_label_and_disappears_when_removed(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    open_workspace(page, live_server, cast, "carol")
    expect(page.locator("#ws-text[data-painted]")).to_have_count(1)
    drag_select(page, "nieuwe", "vaardigheden")
    pick_through_search(page, "inhoud")
    segment = Segment.objects.get(coder=cast.coder_a)
    assert segment.quote == "nieuwe vaardigheden"
    # The answer carried the stored segment; the page painted it from there.
    mark = page.locator(f'mark[data-segments="{segment.uuid}"]')
    expect(mark).to_have_text("nieuwe vaardigheden")
    expect(mark).to_have_attribute("title", "Inhoud")
    label = page.locator(f"#seg-{segment.uuid}")
    expect(label).to_have_text("Inhoud")
    expect(label).to_have_attribute("title", "Sociale hulpbronnen › Inhoud · carol")
    placed = page.evaluate(
        """(uuid) => {
          const mark = document.querySelector(`mark[data-segments="${uuid}"]`);
          const label = document.getElementById(`seg-${uuid}`);
          return {
            underline: getComputedStyle(mark).getPropertyValue("--l0").trim(),
            tint: getComputedStyle(mark).getPropertyValue("--t").trim(),
            sameRow: mark.closest(".ws-row") === label.closest(".ws-row"),
            markTop: mark.getClientRects()[0].top,
            labelTop: label.getBoundingClientRect().top,
          };
        }""",
        str(segment.uuid),
    )
    assert placed["underline"] == "#009e73"  # Inhoud's colour
    assert placed["tint"] == "#c7eae0"  # 22 % of it over white, behind the text
    assert placed["sameRow"]
    # The label sits beside the line where its segment starts.
    assert abs(placed["labelTop"] - placed["markTop"]) < 12
    screenshot(page, "workspace-painted-segment")
    label.click()
    panel = page.locator("#segment-panel")
    expect(panel.locator("h2")).to_have_text("Inhoud")
    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Remove segment").click()
    expect(panel.locator(".saved")).to_have_text("Segment “Inhoud” removed.")
    expect(page.locator("#ws-text mark")).to_have_count(0)
    expect(page.locator("#ws-text .ws-label")).to_have_count(0)
    expect(page.locator("#ws-chunk-1")).to_contain_text("met nieuwe vaardigheden en")
    assert not Segment.objects.exists()
    expect(page.locator("#ws-tree")).to_contain_text("0 · 0")


def test_code_names_and_usernames_are_painted_as_text_never_as_markup(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    payload = '<img src=x onerror="window.hacked=1">'
    code = services.code_create(study=cast.study, actor=cast.owner, name=f"Code {payload}")
    cast.coder_a.first_name, cast.coder_a.last_name = "<b>Ca", "Rol</b>"
    cast.coder_a.save()
    start = TEXT.index("coach geeft")
    segment = seg.segments_apply(
        intervention=doc,
        coder=cast.coder_a,
        codes=[code],
        start=start,
        end=start + len("coach"),
        quote="coach",
    )[0]
    seg.segments_apply(
        intervention=doc,
        coder=cast.coder_b,
        codes=[codes["doelen"]],
        start=start,
        end=start + len("coach geeft"),
        quote="coach geeft",
    )
    services.codebook_reveal(study=cast.study, actor=cast.owner)
    open_workspace(page, live_server, cast, "alice")
    page.locator("#ws-layers label", has_text="carol").click()
    page.locator("#ws-layers label", has_text="bob").click()
    label = page.locator(f"#seg-{segment.uuid}")
    expect(label.locator(".ws-label-name")).to_have_text(f"Code {payload}")
    expect(label.locator(".ws-initials")).to_have_text("<R")
    expect(page.locator(f'mark[data-segments~="{segment.uuid}"]').first).to_have_attribute(
        "title", f"Code {payload}, Doelen"
    )
    assert page.locator("#ws-text img").count() == 0
    assert page.locator("#ws-text b").count() == 0
    assert page.evaluate("() => window.hacked") is None


def test_a_segment_across_two_sections_is_painted_in_both_and_removed_from_both(
    page: Page, live_server: Any, cast: Cast, doc: Intervention, codes: dict[str, Code]
) -> None:
    open_workspace(page, live_server, cast, "carol")
    drag_select(page, "eigen", "buren")
    expect(page.locator("#picker-quote-value")).to_have_value(
        "eigen kunnen.\n\nNetwerk\nHet netwerk van buren"
    )
    pick_through_search(page, "doelen")
    segment = Segment.objects.get(coder=cast.coder_a)
    marks = page.locator(f'mark[data-segments="{segment.uuid}"]')
    # In the chunk of "Aanpak" and in the chunk of "Netwerk"; one label, where it starts.
    expect(page.locator("#ws-chunk-1 mark")).to_have_text(["eigen kunnen.\n\n"])
    expect(page.locator("#ws-chunk-2 mark")).to_have_count(2)  # the heading, then the text
    expect(marks).to_have_count(3)
    expect(page.locator(f"#seg-{segment.uuid}")).to_have_count(1)
    assert page.locator(".ws-row:has(#ws-chunk-1) .ws-label").count() == 1
    page.locator(f"#seg-{segment.uuid}").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#segment-panel").get_by_role("button", name="Remove segment").click()
    expect(marks).to_have_count(0)
    expect(page.locator("#ws-text .ws-label")).to_have_count(0)
    # The heading is drawn as a heading again.
    expect(page.locator("#ws-chunk-2 .ws-heading")).to_have_text("Netwerk")
    assert not Segment.objects.exists()
