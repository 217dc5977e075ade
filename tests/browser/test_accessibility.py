"""Accessibility in chromium (WCAG 2.2 AA): axe-core finds no serious or critical violation on
the main pages, at a desktop (1280 × 800) and a phone (390 × 844) size; the text on every
highlight, overlapping ones included, keeps AA contrast; a skip link leads to the content; and
every control reached with Tab shows where the focus is.

axe-core comes with axe-playwright-python (its JavaScript is in the wheel, so nothing is fetched
while the test runs). A failure lists per page each rule, its impact, its help page and the
elements with axe's own explanation, so the fix can start from the message.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from coding.agreement.assignments import assignment_create
from coding.agreement.runs import agreement_run_start
from coding.codebook import services
from coding.codebook.services import PALETTE, codebook_reveal
from coding.consensus.services import consensus_accept_agreed
from coding.models import AgreementRun, Code, InterventionProgress, Segment
from coding.review.comments import thread_start
from interventions.models import Intervention, Section
from tests.browser.conftest import LOGIN_PATH, login, screenshot
from tests.conftest import Cast

PASSWORD = "wachtwoord-123"  # tests.factories.UserFactory's
BLOCKING = ("serious", "critical")
# Rules of a lesser impact that still fail the test on the app's own pages: the page's structure
# (landmarks, a skip link that works, headings in order), which the app's layout gives every
# page. The others are printed.
STRUCTURE = (
    "bypass",
    "heading-order",
    "landmark-one-main",
    "landmark-unique",
    "page-has-heading-one",
    "region",
    "skip-link",
)
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}

DOEL = "Ouders leren hun kind beter begrijpen en het gezin krijgt hulp bij geldzaken."
AANPAK = (
    "Wekelijkse huisbezoeken door een gezinscoach versterken het netwerk van het gezin. "
    "Kinderen oefenen samen met hun ouders om zelfvertrouwen op te bouwen."
)
TEXT = f"Doel\n{DOEL}\n\nAanpak\n{AANPAK}\n"
LIGHT = "#f0e442"  # Okabe-Ito's yellow: 1.3:1 on white
TEMPLATE = (
    Path(__file__).resolve().parents[2] / "coding/codebook/codebook_templates/veerkracht.json"
)


@dataclass
class Study:
    cast: Cast
    texts: list[Intervention]
    run: AgreementRun
    thread_uuid: str


def code(item: Intervention, coder: Any, tag: Code, quote: str) -> Segment:
    start = item.text.index(quote)
    return Segment.objects.create(
        intervention=item, coder=coder, code=tag, start=start, end=start + len(quote), quote=quote
    )


@pytest.fixture
def study(cast: Cast) -> Study:
    """A study in the middle of its round: codes in every palette colour, two raters' coding
    with nested and crossing segments, a finished agreement run, consensus on the agreed
    passages and an open comment thread."""
    make = services.code_create
    owner = cast.owner
    themes = [
        make(study=cast.study, actor=owner, name=name)
        for name in ("Sociale hulpbronnen", "Psychologische hulpbronnen", "Materiële hulpbronnen")
    ]
    doelen = make(study=cast.study, actor=owner, name="Doelen", parent=themes[0])
    inhoud = make(study=cast.study, actor=owner, name="Inhoud", parent=themes[0])
    zelf = make(study=cast.study, actor=owner, name="Zelfvertrouwen", parent=themes[1])
    geld = make(study=cast.study, actor=owner, name="Geldzaken", parent=themes[2])
    tags = [*themes, doelen, inhoud, zelf, geld]
    # The last one a light yellow, as a user may choose: its underline is darkened to show.
    for tag, colour in zip(tags, [*PALETTE[: len(tags) - 1], LIGHT], strict=True):
        services.code_update(code=tag, actor=owner, revision=None, color=colour)
    doelen, inhoud, zelf, geld = (Code.objects.get(pk=c.pk) for c in (doelen, inhoud, zelf, geld))
    sociaal = Code.objects.get(pk=themes[0].pk)

    first = cast.intervention
    first.text = TEXT
    first.save()
    second = Intervention.objects.create(study=cast.study, title="Basta", text=TEXT)
    texts = [first, second]
    for item in texts:
        aanpak = TEXT.index("Aanpak")
        Section.objects.create(intervention=item, heading="Doel", start=0, end=aanpak)
        Section.objects.create(intervention=item, heading="Aanpak", start=aanpak, end=len(TEXT))

    carol, bob = cast.coder_a, cast.coder_b
    for item in texts:
        # carol: an outer segment with one nested in it, and one crossing its end.
        code(item, carol, doelen, DOEL)
        code(item, carol, geld, "hulp bij geldzaken")
        code(item, carol, sociaal, "kind beter begrijpen en het gezin krijgt hulp")
        code(item, carol, inhoud, "Wekelijkse huisbezoeken door een gezinscoach")
        code(item, carol, zelf, "om zelfvertrouwen op te bouwen")
        # bob agrees on two passages and differs on the others.
        code(item, bob, doelen, DOEL)
        code(item, bob, inhoud, "Wekelijkse huisbezoeken door een gezinscoach")
        code(item, bob, geld, "versterken het netwerk van het gezin")
        code(item, bob, zelf, "Kinderen oefenen samen met hun ouders")
    for coder in (carol, bob):
        assignment_create(
            study=cast.study, actor=owner, coder=coder, interventions=texts, method=""
        )
        for item in texts:
            InterventionProgress.objects.create(intervention=item, coder=coder)
    codebook_reveal(study=cast.study, actor=owner)
    # Tasks run in-process in the tests: the run is finished when this returns.
    run = agreement_run_start(study=cast.study, actor=owner, coders=["bob", "carol"])
    run.refresh_from_db()
    assert run.status == AgreementRun.Status.DONE, run.status
    consensus_accept_agreed(intervention=first, actor=owner)
    disputed = Segment.objects.filter(intervention=first, coder=bob, code=geld).get()
    thread = thread_start(
        study=cast.study,
        actor=cast.supervisor,
        target_kind="segment",
        target_uuid=disputed.uuid,
        body="Is dit echt een materiële hulpbron? @alice",
    )
    return Study(cast=cast, texts=texts, run=run, thread_uuid=str(thread.uuid))


def pages(study: Study) -> dict[str, str]:
    """The main pages, by a short name, as the owner opens them."""
    base = f"/s/{study.cast.study.slug}"
    first = study.texts[0].uuid
    # Both raters' layers on: their highlights overlap.
    layers = f"{study.cast.coder_a.pk},{study.cast.coder_b.pk}"
    return {
        "study": f"{base}/",
        "interventions": f"{base}/interventions/",
        "workspace": f"{base}/i/{first}/code/?layers={layers}",
        "codebook": f"{base}/codebook/",
        "agreement": f"{base}/agreement/",
        "agreement-report": f"{base}/agreement/{study.run.uuid}/",
        "consensus": f"{base}/consensus/",
        "consensus-intervention": f"{base}/i/{first}/consensus/",
        "dashboard": f"{base}/progress/",
        "analysis": f"{base}/analysis/",
        "comments": f"{base}/comments/",
        "comment-thread": f"{base}/comments/{study.thread_uuid}/",
        # The rest, cheap to check while here.
        "intervention": f"{base}/i/{first}/",
        "assignments": f"{base}/agreement/assignments/",
        "code-report": f"{base}/report/",
        "search": f"{base}/search/",
        "codebook-review": f"{base}/review/codebook/",
        "members": f"{base}/members/",
        "properties": f"{base}/attributes/",
        "import": f"{base}/import/",
        "project": f"{base}/project/",
        "notifications": "/notifications/",
    }


# axe ---------------------------------------------------------------------------------------

AXE = Axe()
# Every rule axe runs by default (WCAG 2.0-2.2 A and AA and its best practices); the test fails
# on the serious and critical ones and prints the rest, which are worth a look.
# axe leaves off the rule for WCAG 2.2's target size (2.5.8, AA: 24 × 24 px or room around).
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}


def axe_violations(page: Page) -> list[dict[str, Any]]:
    return list(AXE.run(page, options=AXE_OPTIONS).response["violations"])


def describe(where: str, violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{where}] {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:8]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    at {target}")
            lines.append(f"       {' '.join(node['html'].split())[:200]}")
            summary = " ".join(node.get("failureSummary", "").split())
            if summary:
                lines.append(f"       {summary[:400]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


# What the contrast checks below share: a computed colour's channels, its relative luminance
# (WCAG), and the opaque background behind an element.
CONTRAST = """
  const channels = (value) => (value.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => v / 255).map(
      (v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const backdrop = (node) => {
    for (; node; node = node.parentElement) {
      const bg = channels(getComputedStyle(node).backgroundColor);
      if (bg.length === 3 || (bg.length === 4 && bg[3] > 0.5)) return bg.slice(0, 3);
    }
    return [255, 255, 255];
  };
"""

# Text fields and selects whose edge (the only sign of where to type) has less than 3:1 against
# the background around them (WCAG 1.4.11), as the browser computed both.
FAINT_FIELDS = (
    "() => {"
    + CONTRAST
    + """
  const fields = document.querySelectorAll(
    "input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=submit])" +
    ":not([type=button]):not([type=range]), select, textarea");
  const faint = [];
  for (const field of fields) {
    if (!field.checkVisibility()) continue;
    const style = getComputedStyle(field);
    if (parseFloat(style.borderBottomWidth) === 0) continue;
    const edge = lum(channels(style.borderBottomColor));
    const around = lum(backdrop(field.parentElement));
    const ratio = (Math.max(edge, around) + 0.05) / (Math.min(edge, around) + 0.05);
    const html = field.outerHTML.replace(/\\s+/g, " ").slice(0, 120);
    if (ratio < 3) faint.push(`${html} ${ratio.toFixed(2)}:1`);
  }
  return faint;
}"""
)


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def sized_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    width, height = VIEWPORTS[request.param]
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": height})
    page = context.new_page()
    page.viewport_name = request.param  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def settle(page: Page, name: str) -> None:
    """Wait for what the page's scripts draw after loading."""
    page.wait_for_load_state("networkidle")
    if name in ("workspace", "coder-workspace"):
        expect(page.locator("#ws-text mark").first).to_be_attached()


def test_axe_finds_no_serious_or_critical_violation_and_a_sound_structure_on_the_main_pages(
    sized_page: Page, live_server: Any, study: Study
) -> None:
    page = sized_page
    size = page.viewport_name  # type: ignore[attr-defined]
    found: list[str] = []
    minor: list[str] = []

    def check(name: str, structure: bool = True) -> None:
        settle(page, name)
        violations = axe_violations(page)
        blocking = [
            v for v in violations if v["impact"] in BLOCKING or (structure and v["id"] in STRUCTURE)
        ]
        if blocking:
            found.append(describe(f"{size} {name} {page.url}", blocking))
        faint = page.evaluate(FAINT_FIELDS)
        if faint:
            found.append(f"[{size} {name}] field edges below 3:1: " + "\n    ".join(faint))
        rest = [v for v in violations if v not in blocking]
        if rest:
            minor.append(describe(f"{size} {name}", rest))
        screenshot(page, f"a11y-{size}-{name}")

    page.goto(f"{live_server.url}{LOGIN_PATH}")
    check("login")
    login(page, live_server, "alice", PASSWORD)
    for name, path in pages(study).items():
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        assert response.ok, f"{name}: {path} answered {response.status}"
        check(name)
    # The workspace with a segment's panel open, as after clicking a highlight.
    page.goto(f"{live_server.url}{pages(study)['workspace']}")
    settle(page, "workspace")
    page.locator("#ws-text mark").first.click()
    expect(page.locator("#segment-panel-title")).to_be_visible()
    check("workspace-segment")
    # The code picker, open on a selection.
    page.goto(f"{live_server.url}{pages(study)['workspace']}")
    settle(page, "workspace")
    # By keyboard, which works the same at any size: a word, one more, Enter.
    page.locator("#ws-text .ws-chunk[tabindex='0']").first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("Enter")
    expect(page.locator("#picker")).to_be_visible()
    check("workspace-picker")

    # A page that is not there, and a coder's own pages.
    response = page.goto(f"{live_server.url}/s/{study.cast.study.slug}/i/{uuid.uuid4()}/")
    assert response is not None
    assert response.status == 404
    check("not-found")
    page.context.clear_cookies()
    login(page, live_server, "carol", PASSWORD)
    base = f"/s/{study.cast.study.slug}"
    for name, path in {
        "coder-study": f"{base}/",
        "coder-assignments": f"{base}/agreement/mine/",
        "coder-workspace": f"{base}/i/{study.texts[1].uuid}/code/",
    }.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        assert response.ok, f"{name}: {path} answered {response.status}"
        check(name)

    if minor:
        print("axe: moderate and minor findings (not failing the test):")
        print("\n".join(minor))
    assert not found, "axe found serious or critical violations:\n" + "\n".join(found)


# Highlights --------------------------------------------------------------------------------

# The contrast of the text colour on each highlight's tint, as the browser computed both.
MARK_CONTRAST = (
    "() => {"
    + CONTRAST
    + """
  const rgb = (value) => {
    const probe = document.createElement("span");
    probe.style.color = value;
    document.body.append(probe);
    const out = getComputedStyle(probe).color.match(/[\\d.]+/g).slice(0, 3).map(Number);
    probe.remove();
    return out;
  };
  return [...document.querySelectorAll("#ws-text mark")].map((mark) => {
    const style = getComputedStyle(mark);
    const bg = lum(rgb(style.getPropertyValue("--t").trim()));
    const fg = lum(rgb(style.color));
    const ratio = (Math.max(bg, fg) + 0.05) / (Math.min(bg, fg) + 0.05);
    const white = lum([255, 255, 255]);
    const lines = [0, 1, 2, 3].map((i) => style.getPropertyValue(`--l${i}`).trim())
      .filter((c) => c && c !== "transparent")
      .map((c) => [c, (white + 0.05) / (lum(rgb(c)) + 0.05)]);
    return { text: mark.textContent.slice(0, 40), tint: style.getPropertyValue("--t").trim(),
             color: style.color, lanes: Number(style.getPropertyValue("--n")), ratio, lines };
  });
}"""
)


def test_text_on_every_highlight_keeps_aa_contrast_also_where_segments_overlap(
    page: Page, live_server: Any, study: Study
) -> None:
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}{pages(study)['workspace']}")
    expect(page.locator("#ws-text mark").first).to_be_attached()
    marks = page.evaluate(MARK_CONTRAST)
    assert any(m["lanes"] >= 2 for m in marks), "no overlapping highlight on the page"
    weak = [m for m in marks if m["ratio"] < 4.5]
    assert not weak, f"text on highlights below 4.5:1: {weak}"
    # Each underline (one per covering segment) stands out from the page: 3:1 (WCAG 1.4.11),
    # also the one of the code in a light yellow.
    faint = [(m["text"], c, round(r, 2)) for m in marks for c, r in m["lines"] if r < 3]
    assert not faint, f"underlines below 3:1 against white: {faint}"
    assert any(m["lines"] for m in marks if "geldzaken" in m["text"])
    # Any colour a code may take, not only the palette's: the tint of the darkest and the most
    # saturated ones still carries the text, and the underline of the lightest still shows.
    anyone = [*PALETTE, "#000000", "#0000ff", "#ff0000", "#008000", "#ffffff", "#ffff00", LIGHT]
    ratios = page.evaluate(
        """async (colours) => {
          const { tint, lineColor } = await import("/static/js/highlights.js");
          const lum = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
            .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
            .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
          const ink = lum("#1f2328");
          return colours.map((c) => ({
            colour: c,
            text: (lum(tint(c)) + 0.05) / (ink + 0.05),
            line: 1.05 / (lum(lineColor(c)) + 0.05),
            kept: lineColor(c) === c,
          }));
        }""",
        anyone,
    )
    low = [r for r in ratios if r["text"] < 4.5 or r["line"] < 3]
    assert not low, f"tints below 4.5:1 with the text or underlines below 3:1: {low}"
    # The palette for new themes and the template's colours need no darkening: swatches and
    # margin labels show them as they are.
    template = re.findall(r'"color":\s*"(#[0-9a-fA-F]{6})"', TEMPLATE.read_text("utf-8"))
    assert template
    changed = [r["colour"] for r in ratios if r["colour"] in PALETTE and not r["kept"]]
    assert not changed, f"palette colours below 3:1 against white: {changed}"
    kept = page.evaluate(
        """async (colours) => {
          const { lineColor } = await import("/static/js/highlights.js");
          return colours.filter((c) => lineColor(c) !== c.toLowerCase());
        }""",
        template,
    )
    assert not kept, f"template colours below 3:1 against white: {kept}"


# Keyboard ----------------------------------------------------------------------------------

# What marks the focused element: its outline (or, for the text's chunks, a box shadow), and
# the contrast of that mark's colour with the background around the element (WCAG 1.4.11: 3:1).
FOCUS_SHOWN = (
    "() => {"
    + CONTRAST
    + """
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let ring = null;
  if (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2) {
    ring = channels(style.outlineColor).slice(0, 3);
  } else if (style.boxShadow && style.boxShadow !== "none") {
    ring = channels(style.boxShadow).slice(0, 3);
  }
  const around = backdrop(el.parentElement);
  const [a, b] = ring ? [lum(ring), lum(around)] : [0, 0];
  // Not hidden behind a sticky header or a bottom sheet (WCAG 2.2, 2.4.11, AA: not entirely):
  // at some of its middle and its four corners, what lies on top is the element or part of it.
  const box = el.getBoundingClientRect();
  const points = box.width && box.height ? [
    [box.left + box.width / 2, box.top + box.height / 2],
    [box.left + 2, box.top + 2], [box.right - 2, box.top + 2],
    [box.left + 2, box.bottom - 2], [box.right - 2, box.bottom - 2],
  ] : [];
  const hiddenAt = (x, y) => {
    const top = document.elementFromPoint(x, y);
    if (!top) return null;  // outside the viewport: the browser scrolls to it
    const own = el.contains(top) || top.contains(el) ||
      (el.labels && [...el.labels].some((label) => label.contains(top)));
    return own ? null : top;
  };
  const tops = points.map(([x, y]) => hiddenAt(x, y));
  const covered = tops.length > 0 && tops.every(Boolean);
  const top = covered ? tops[0] : null;
  return {
    covered, coveredBy: covered ? top.outerHTML.replace(/\\s+/g, " ").slice(0, 80) : "",
    tag: el.tagName.toLowerCase(),
    text: (el.getAttribute("aria-label") || el.textContent || el.name || "").trim().slice(0, 40),
    id: el.id, cls: String(el.className), ring, around,
    contrast: ring ? (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) : 0,
  };
}"""
)


def test_the_skip_link_leads_to_the_content_and_focus_is_always_visible(
    sized_page: Page, live_server: Any, study: Study
) -> None:
    page = sized_page
    login(page, live_server, "alice", PASSWORD)
    # Where the first Tab and Enter lead: the workspace's skip link goes to the text itself.
    skip_to = {"workspace": "#ws-text"}
    for name in ("study", "workspace", "agreement-report", "consensus-intervention", "codebook"):
        page.goto(f"{live_server.url}{pages(study)[name]}")
        settle(page, name)
        page.keyboard.press("Tab")
        skip = page.locator(".skip-link").first
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        size = page.viewport_name  # type: ignore[attr-defined]
        screenshot(page, f"a11y-{size}-{name}-skip-link")
        weak = []
        for presses in range(30):
            if presses == 8:
                screenshot(page, f"a11y-{size}-{name}-focus")
            state = page.evaluate(FOCUS_SHOWN)
            if state["tag"] == "body":
                break
            if state["contrast"] < 3 or state["covered"]:
                weak.append(state)
            page.keyboard.press("Tab")
        assert not weak, f"{name}: focus not visible (no ring, below 3:1, or covered) on {weak}"

        page.goto(f"{live_server.url}{pages(study)[name]}")
        settle(page, name)
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        target = skip_to.get(name, "#main")
        expect(page.locator(target)).to_be_in_viewport()
        # The focus is in the content now, or the next Tab takes it there (not to the header).
        inside = "(t) => document.querySelector(t).contains(document.activeElement)"
        if not page.evaluate(inside, target):
            page.keyboard.press("Tab")
        assert page.evaluate(inside, target), f"{name}: the skip link did not lead into {target}"


def test_every_page_names_its_language(sized_page: Page, live_server: Any, study: Study) -> None:
    page = sized_page
    page.goto(f"{live_server.url}{LOGIN_PATH}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    login(page, live_server, "alice", PASSWORD)
    # Dutch, as the language switch leaves it (its cookie), wherever the switch is on the page.
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "nl", "url": live_server.url}]
    )
    for name in ("study", "workspace", "agreement-report"):
        page.goto(f"{live_server.url}{pages(study)[name]}")
        expect(page.locator("html")).to_have_attribute("lang", "nl")
    # The text of an intervention in English is marked so in a Dutch page.
    study.cast.study.language = "en"
    study.cast.study.save()
    page.goto(f"{live_server.url}{pages(study)['workspace']}")
    expect(page.locator("#ws-text")).to_have_attribute("lang", "en")
