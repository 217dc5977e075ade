"""The codebook editor in chromium: typing codes, moving them by keyboard and by drag, merging
codes that carry segments, and exporting the codebook table to Word."""

from __future__ import annotations

import io
from typing import Any

import docx
import pytest
from playwright.sync_api import Page, expect

from coding.codebook import services
from coding.models import Code, Segment
from interventions.models import Membership, Role
from tests.browser.conftest import login, screenshot
from tests.conftest import Cast
from tests.factories import SegmentFactory

PASSWORD = "veerkracht-test-wachtwoord"


@pytest.fixture
def owner_page(page: Page, live_server: Any, cast: Cast) -> Page:
    cast.owner.set_password(PASSWORD)
    cast.owner.save()
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/s/{cast.study.slug}/codebook/")
    return page


def item(page: Page, name: str) -> Any:
    """The tree item whose own row shows `name`."""
    return page.locator("[role=treeitem]").filter(
        has=page.locator(":scope > .tree-row .code-name", has_text=name)
    )


def names_under(cast: Cast, parent: Code | None) -> list[str]:
    return list(
        Code.objects.filter(study=cast.study, parent=parent)
        .order_by("position")
        .values_list("name", flat=True)
    )


@pytest.fixture
def tree(cast: Cast) -> dict[str, Code]:
    make = services.code_create
    sociaal = make(study=cast.study, actor=cast.owner, name="Sociale hulpbronnen")
    psych = make(study=cast.study, actor=cast.owner, name="Psychologische hulpbronnen")
    doelen = make(study=cast.study, actor=cast.owner, name="Doelen", parent=sociaal)
    inhoud = make(study=cast.study, actor=cast.owner, name="Inhoud", parent=sociaal)
    empowerment = make(study=cast.study, actor=cast.owner, name="Empowerment", parent=psych)
    return {
        "sociaal": sociaal,
        "psych": psych,
        "doelen": doelen,
        "inhoud": inhoud,
        "empowerment": empowerment,
    }


def test_the_owner_types_a_theme_a_code_and_a_subcode(owner_page: Page, cast: Cast) -> None:
    page = owner_page
    page.fill("#theme-name", "Sociale hulpbronnen")
    page.click("text=Add theme")
    expect(item(page, "Sociale hulpbronnen")).to_have_attribute("aria-level", "1")
    # The new theme opens in the side panel, where its subcodes are added.
    expect(page.locator("#code-editor h2")).to_have_text("Sociale hulpbronnen")
    page.fill("#sub-name", "Doelen")
    page.click("text=Add subcode")
    expect(item(page, "Doelen")).to_have_attribute("aria-level", "2")
    expect(page.locator("#code-editor h2")).to_have_text("Doelen")
    page.fill("#sub-name", "Gehechtheid")
    page.click("text=Add subcode")
    expect(item(page, "Gehechtheid")).to_have_attribute("aria-level", "3")
    # The theme field was emptied for the next one; the panel edits the newest code.
    expect(page.locator("#theme-name")).to_have_value("")
    page.fill("#code-definition", "Een veilige band tussen ouder en kind.")
    page.fill("#code-example", "“Ouders leren de signalen van hun kind te lezen.”")
    page.click("#code-editor button:has-text('Save')")
    expect(page.locator("#code-editor .saved")).to_contain_text("saved")
    page.fill("#theme-name", "Psychologische hulpbronnen")
    page.press("#theme-name", "Enter")
    expect(item(page, "Psychologische hulpbronnen")).to_have_attribute("aria-level", "1")
    item(page, "Gehechtheid").locator(".code-name").first.click()
    expect(page.locator("#code-definition")).to_have_value("Een veilige band tussen ouder en kind.")
    screenshot(page, "codebook-editor")

    sociaal = Code.objects.get(study=cast.study, name="Sociale hulpbronnen")
    doelen = Code.objects.get(study=cast.study, name="Doelen")
    assert names_under(cast, None) == ["Sociale hulpbronnen", "Psychologische hulpbronnen"]
    assert names_under(cast, sociaal) == ["Doelen"]
    assert names_under(cast, doelen) == ["Gehechtheid"]
    assert Code.objects.get(name="Gehechtheid").definition.startswith("Een veilige band")


def press_and_wait_for_the_tree(page: Page, key: str) -> None:
    """Press `key` and wait until the tree it changes has been put in anew."""
    old = page.locator("#code-tree").element_handle()
    page.keyboard.press(key)
    page.wait_for_function("tree => !tree.isConnected", arg=old)


def test_a_code_moves_with_the_keyboard_through_its_menu(
    owner_page: Page, cast: Cast, tree: dict[str, Code]
) -> None:
    page = owner_page
    page.reload()
    # Arrow keys walk the tree: from the first theme down to "Inhoud".
    item(page, "Sociale hulpbronnen").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(item(page, "Inhoud")).to_be_focused()
    # Tab reaches its menu; Enter opens it; Tab goes to the first entry, "Move up".
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    menu = item(page, "Inhoud").locator(":scope > .tree-row .menu")
    expect(menu).to_be_visible()
    screenshot(page, "codebook-menu")
    page.keyboard.press("Tab")
    expect(menu.locator("button[value=up]")).to_be_focused()
    press_and_wait_for_the_tree(page, "Enter")
    expect(page.locator("#codebook-feedback")).to_contain_text("“Inhoud” moved.")
    assert names_under(cast, tree["sociaal"]) == ["Inhoud", "Doelen"]
    # In the new tree the menu stays open on the moved code, its button focused, so the
    # keyboard user goes on from there.
    expect(item(page, "Inhoud").locator("button[value=up]")).to_be_focused()
    page.keyboard.press("Tab")
    expect(item(page, "Inhoud").locator("button[value=down]")).to_be_focused()
    page.keyboard.press("Tab")
    expect(item(page, "Inhoud").locator("button[value=indent]")).to_be_focused()
    press_and_wait_for_the_tree(page, "Enter")
    # "Inhoud" is first now: there is no code above it to go under. Refused, nothing moves.
    expect(page.locator("#codebook-feedback [role=alert]")).to_contain_text("no code above it")
    expect(item(page, "Inhoud").locator("button[value=indent]")).to_be_focused()
    assert names_under(cast, tree["sociaal"]) == ["Inhoud", "Doelen"]
    # Alt+arrow keys on a tree item are the short way: Alt+Down moves it below "Doelen",
    # Alt+Right then puts it under "Doelen".
    item(page, "Inhoud").focus()
    press_and_wait_for_the_tree(page, "Alt+ArrowDown")
    expect(page.locator("#codebook-feedback")).to_contain_text("“Inhoud” moved.")
    assert names_under(cast, tree["sociaal"]) == ["Doelen", "Inhoud"]
    # The focus stays on the item, so the shortcut can be pressed again.
    expect(item(page, "Inhoud")).to_be_focused()
    expect(item(page, "Inhoud").locator(".menu")).to_be_hidden()
    press_and_wait_for_the_tree(page, "Alt+ArrowRight")
    expect(item(page, "Inhoud")).to_have_attribute("aria-level", "3")
    assert names_under(cast, tree["doelen"]) == ["Inhoud"]


def test_a_code_moves_by_drag_and_drop(owner_page: Page, cast: Cast, tree: dict[str, Code]) -> None:
    page = owner_page
    page.reload()
    item(page, "Empowerment").locator(".code-name").first.click()
    expect(page.locator("#code-editor h2")).to_have_text("Empowerment")
    # Onto the middle of "Doelen": "Empowerment" becomes its subcode.
    source = item(page, "Empowerment").locator(":scope > .tree-row")
    target = item(page, "Doelen").locator(":scope > .tree-row")
    box = target.bounding_box()
    assert box is not None
    source.drag_to(target, target_position={"x": 40, "y": box["height"] / 2})
    expect(item(page, "Empowerment")).to_have_attribute("aria-level", "3")
    assert names_under(cast, tree["doelen"]) == ["Empowerment"]
    assert names_under(cast, tree["psych"]) == []
    # The open side panel learnt the moved code's new revision: saving it is no conflict.
    page.fill("#code-definition", "Het gezin krijgt zelf de regie.")
    with page.expect_response(lambda response: response.url.endswith("/edit/")) as answer:
        page.click("#code-editor button:has-text('Save')")
    assert answer.value.status == 200
    expect(page.locator("#code-editor .saved")).to_be_visible()
    tree["empowerment"].refresh_from_db()
    assert tree["empowerment"].definition == "Het gezin krijgt zelf de regie."
    # Onto the top edge of "Sociale hulpbronnen": "Psychologische hulpbronnen" goes before it.
    # (Saving scrolled the page; a drag that has to scroll on its way does not start.)
    page.evaluate("window.scrollTo(0, 0)")
    source = item(page, "Psychologische hulpbronnen").locator(":scope > .tree-row")
    target = item(page, "Sociale hulpbronnen").locator(":scope > .tree-row")
    source.drag_to(target, target_position={"x": 40, "y": 2})
    expect(page.locator("[role=tree] > [role=treeitem]").first).to_contain_text(
        "Psychologische hulpbronnen"
    )
    assert names_under(cast, None) == ["Psychologische hulpbronnen", "Sociale hulpbronnen"]
    # Onto the bottom edge of "Inhoud": "Empowerment" follows it, one level up again.
    source = item(page, "Empowerment").locator(":scope > .tree-row")
    target = item(page, "Inhoud").locator(":scope > .tree-row")
    box = target.bounding_box()
    assert box is not None
    source.drag_to(target, target_position={"x": 40, "y": box["height"] - 2})
    expect(item(page, "Empowerment")).to_have_attribute("aria-level", "2")
    assert names_under(cast, tree["sociaal"]) == ["Doelen", "Inhoud", "Empowerment"]


def test_merging_two_codes_moves_their_segments(
    owner_page: Page, cast: Cast, tree: dict[str, Code]
) -> None:
    for start, coder in ((0, cast.coder_a), (5, cast.coder_b), (10, cast.coder_a)):
        SegmentFactory(
            intervention=cast.intervention,
            code=tree["inhoud"],
            coder=coder,
            start=start,
            end=start + 4,
        )
    SegmentFactory(intervention=cast.intervention, code=tree["doelen"], coder=cast.coder_b)
    page = owner_page
    page.reload()
    expect(item(page, "Inhoud").locator(":scope > .tree-row .seg-count")).to_contain_text("3")
    # Deleting a code with segments is refused, and the merge is offered right there.
    item(page, "Inhoud").locator(".code-name").first.click()
    expect(page.locator("#code-editor h2")).to_have_text("Inhoud")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#code-editor button:has-text('Delete code')")
    alert = page.locator("#codebook-feedback [role=alert]")
    expect(alert).to_contain_text("is used by 3 segments")
    screenshot(page, "codebook-delete-refused")
    alert.locator("select").select_option(label="Sociale hulpbronnen › Doelen")
    page.once("dialog", lambda dialog: dialog.accept())
    alert.locator("button:has-text('Merge')").click()
    expect(page.locator("#codebook-feedback")).to_contain_text("3 segments moved")
    expect(item(page, "Inhoud")).to_have_count(0)
    expect(item(page, "Doelen").locator(":scope > .tree-row .seg-count")).to_contain_text("4")
    assert Segment.objects.filter(code=tree["doelen"]).count() == 4
    assert not Code.objects.filter(pk=tree["inhoud"].pk).exists()
    # Undo brings the code back with its segments.
    page.click("text=Undo last change")
    expect(page.locator("#codebook-feedback")).to_contain_text("Undone: merged")
    expect(item(page, "Inhoud").locator(":scope > .tree-row .seg-count")).to_contain_text("3")


def test_a_stale_edit_keeps_the_typed_text(
    owner_page: Page, cast: Cast, tree: dict[str, Code]
) -> None:
    page = owner_page
    page.reload()
    item(page, "Doelen").locator(".code-name").first.click()
    page.fill("#code-definition", "Wat de interventie bij het gezin wil bereiken.")
    # Meanwhile someone else saves the same code: sam, a second owner here.
    Membership.objects.filter(study=cast.study, user=cast.supervisor).update(role=Role.OWNER)
    services.code_update(
        code=tree["doelen"], actor=cast.supervisor, revision=None, definition="Doel volgens sam."
    )
    page.click("#code-editor button:has-text('Save')")
    expect(page.locator("#code-editor [role=alert]")).to_contain_text("sam")
    expect(page.locator("#code-definition")).to_have_value(
        "Wat de interventie bij het gezin wil bereiken."
    )
    expect(page.locator("#code-editor .current-value")).to_contain_text("Doel volgens sam.")
    screenshot(page, "codebook-conflict")
    page.click("#code-editor button:has-text('Save my version')")
    expect(page.locator("#code-editor .saved")).to_be_visible()
    tree["doelen"].refresh_from_db()
    assert tree["doelen"].definition == "Wat de interventie bij het gezin wil bereiken."
    # Saving again straight away is no conflict: the panel knows the new revision.
    page.fill("#code-inclusion", "De tekst noemt een doel van de interventie.")
    with page.expect_response(lambda response: response.url.endswith("/edit/")) as answer:
        page.click("#code-editor button:has-text('Save')")
    assert answer.value.status == 200
    expect(page.locator("#code-editor .saved")).to_be_visible()
    expect(page.locator("#code-editor [role=alert]")).to_have_count(0)
    tree["doelen"].refresh_from_db()
    assert tree["doelen"].inclusion == "De tekst noemt een doel van de interventie."


def test_the_codebook_table_exports_to_word(
    owner_page: Page, cast: Cast, tree: dict[str, Code]
) -> None:
    services.code_update(
        code=tree["doelen"],
        actor=cast.owner,
        revision=None,
        definition="Waar de interventie op mikt.",
        example="“Het gezin krijgt weer grip.”",
    )
    page = owner_page
    page.reload()
    page.select_option("#export-format", "docx")
    page.click("#codebook-export button:has-text('Export')")
    link = page.locator("#export-status a:has-text('Download')")
    expect(link).to_be_visible(timeout=15_000)
    screenshot(page, "codebook-export")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "gezin-codeboek.docx"
    document = docx.Document(io.BytesIO(download_info.value.path().read_bytes()))
    table = document.tables[0]
    header = [cell.text for cell in table.rows[0].cells]
    assert header in (["Code", "Definition", "Example"], ["Code", "Definitie", "Voorbeeld"])
    rows = {row.cells[0].text: row.cells for row in table.rows[1:]}
    assert set(rows) == {
        "Sociale hulpbronnen",
        "Psychologische hulpbronnen",
        "Doelen",
        "Inhoud",
        "Empowerment",
    }
    assert rows["Doelen"][1].text == "Waar de interventie op mikt."
    assert rows["Doelen"][2].text == "“Het gezin krijgt weer grip.”"


def test_a_version_is_saved_approved_by_the_supervisor_and_compared(
    owner_page: Page, live_server: Any, cast: Cast, tree: dict[str, Code]
) -> None:
    page = owner_page
    page.click(".page-head >> text=Versions")
    page.fill("input[name=label]", "Voor overleg")
    page.click("text=Save version")
    expect(page.locator(".messages")).to_contain_text("Saved as version 1")
    page.click(".studybar >> text=Codebook")
    item(page, "Doelen").locator(".code-name").first.click()
    page.fill("#code-name", "Sociale doelen")
    page.click("#code-editor button:has-text('Save')")
    expect(item(page, "Sociale doelen")).to_be_visible()
    page.click(".page-head >> text=History")
    expect(page.locator("table.history tbody tr").first).to_contain_text("Sociale doelen")
    screenshot(page, "codebook-history")

    page.click("text=Log out")
    cast.supervisor.set_password(PASSWORD)
    cast.supervisor.save()
    login(page, live_server, "sam", PASSWORD)
    page.goto(f"{live_server.url}/s/{cast.study.slug}/codebook/")
    # The supervisor reads the codebook: no editing controls.
    expect(page.locator("#theme-name")).to_have_count(0)
    item(page, "Sociale doelen").locator(".code-name").first.click()
    expect(page.locator("#code-editor dl")).to_be_visible()
    screenshot(page, "codebook-reader")
    page.click(".page-head >> text=Versions")
    page.click("text=Approve v1")
    expect(page.locator(".messages")).to_contain_text("Version 1 approved")
    screenshot(page, "codebook-versions")
    page.click("text=Compare with now")
    expect(page.locator(".diff")).to_contain_text("Doelen → Sociale doelen")
    screenshot(page, "codebook-diff")
