"""No English in the Dutch app, and no Dutch in the English one: the main pages of the demo
study, as each of its three members sees them, show none of a list of words of the other
language in their visible text (nor in the placeholders, labels and titles a person reads or
hears)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from coding.models import AgreementRun, CommentThread
from interventions.management.commands.load_demo import DEMO_SLUG
from interventions.models import Study

# English words that have no place on a Dutch page. The demo's own texts are Dutch, so any of
# these is the app's: a string not marked for translation, a stored English value (a unit, an
# interpretation), or Django's own English page.
ENGLISH = [
    "intervention",
    "interventions",
    "not acceptable",
    "not computable",
    "not applicable",
    "tentative",
    "reliable",
    "unit",
    "coder",
    "coders",
    "rater",
    "agreement",
    "segment",
    "segments",
    "the",
    "and",
    "with",
    "Forbidden",
    "Not Found",
    "Server Error",
    "Settings",
    "Download",
    "Comments",
    "Codebook",
    "supervisor",
    "owner",
    "done",
    "open thread",
]
# Dutch words of the app's own interface. The demo's content is Dutch (its texts, code names,
# notes, comments and the codebook's definitions), so these are words that content does not
# use ("fragment" is in the definitions).
DUTCH = [
    "Opslaan",
    "Annuleren",
    "Klaar",
    "Meldingen",
    "Uitloggen",
    "Overeenstemming",
    "Afstemmen",
    "eenheid",
    "codeur",
    "codeurs",
    "Bekijken",
    "toegewezen",
    "niet te berekenen",
    "voorlopig",
    "betrouwbaar",
    "eigenaar",
    "Instellingen",
    "Leden",
    "Codeboek",
    "Discussie",
    "Opmerkingen",
    "Eigenschappen van",
]


def _words(words: list[str]) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.I)


ENGLISH_WORDS = _words(ENGLISH)
DUTCH_WORDS = _words(DUTCH)
# Attributes whose text a person reads (or a screen reader speaks).
READ_ATTRIBUTES = {"placeholder", "aria-label", "title", "alt"}
HIDDEN_ELEMENTS = {"script", "style", "template", "noscript"}
# Words that are English and Dutch alike, or names: taken out before matching.
ALLOWED = [
    "Cohens κ",  # a name with the Dutch genitive
    "Krippendorffs α",
]


class VisibleText(HTMLParser):
    """The text of a page a person sees or hears: no scripts, no JSON data blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN_ELEMENTS:
            self.hidden += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.parts.append(value)
            if name == "value" and value and dict(attrs).get("type") in {"submit", "button"}:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_ELEMENTS and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def english_in(html: str, words: re.Pattern[str] = ENGLISH_WORDS) -> list[str]:
    """Each of `words` found, with a little of the text around it."""
    parser = VisibleText()
    parser.feed(html)
    found = []
    for part in parser.parts:
        for allowed in ALLOWED:
            part = part.replace(allowed, "")
        for match in words.finditer(part):
            start, end = max(0, match.start() - 30), match.end() + 30
            found.append(f"{match.group(0)!r} in “…{part[start:end]}…”")
    return found


def test_english_in_finds_english_text_and_ignores_scripts() -> None:
    html = (
        '<p>Eenheid: intervention</p><input placeholder="Search the codes">'
        "<script>const interventions = []</script><p>Interventies</p>"
    )
    found = english_in(html)
    assert len(found) == 2
    assert "'intervention'" in found[0]
    assert "'the'" in found[1]


def _pages(study: Study) -> list[tuple[str, str]]:
    """(who, url) for the study's main pages."""
    slug = study.slug
    first = study.interventions.order_by("title").first()
    assert first is not None
    thread = CommentThread.objects.get(study=study)
    run = AgreementRun.objects.get(study=study)
    everyone = [
        reverse("home"),
        reverse("study_detail", args=[slug]),
        reverse("intervention_list", args=[slug]),
        reverse("intervention_detail", args=[slug, first.uuid]),
        reverse("workspace", args=[slug, first.uuid]),
        reverse("codebook", args=[slug]),
        reverse("codebook_review", args=[slug]),
        reverse("study_progress", args=[slug]),
        reverse("comment_threads", args=[slug]),
        reverse("comment_thread", args=[slug, thread.uuid]),
        reverse("notifications"),
        reverse("consensus", args=[slug]),
        reverse("consensus_intervention", args=[slug, first.uuid]),
        reverse("code_report", args=[slug]),
        reverse("analysis_tables", args=[slug]),
        reverse("agreement_mine", args=[slug]),
    ]
    owner_only = [
        reverse("agreement", args=[slug]),
        reverse("agreement_report", args=[slug, run.uuid]),
        reverse("agreement_assignments", args=[slug]),
        reverse("attributes", args=[slug]),
        reverse("members", args=[slug]),
        reverse("codebook_history", args=[slug]),
        reverse("codebook_versions", args=[slug]),
        reverse("project_page", args=[slug]),
        reverse("metadata_import", args=[slug]),
        reverse("study_edit", args=[slug]),
    ]
    pages = [("student", url) for url in everyone + owner_only]
    pages += [("begeleider", url) for url in everyone]
    pages += [("beoordelaar", url) for url in everyone]
    return pages


@pytest.fixture
def demo(db: Any) -> Study:
    call_command("load_demo", "--quiet-logins")
    return Study.objects.get(slug=DEMO_SLUG)


def _other_language(study: Study, language: str, words: re.Pattern[str]) -> list[str]:
    clients: dict[str, Client] = {}
    leaks = []
    for who, url in _pages(study):
        if who not in clients:
            clients[who] = Client()
            clients[who].cookies["django_language"] = language
            clients[who].force_login(User.objects.get(username=who))
        response = clients[who].get(url, HTTP_ACCEPT_LANGUAGE=language)
        if response.status_code == 403:
            continue  # a page this member may not see
        assert response.status_code == 200, (who, url, response.status_code)
        found = english_in(response.content.decode(), words)
        leaks += [f"{who} {url}: {one}" for one in dict.fromkeys(found)]
    return leaks


def test_the_main_pages_of_the_demo_show_no_english_in_dutch(demo: Study) -> None:
    leaks = _other_language(demo, "nl", ENGLISH_WORDS)
    assert not leaks, f"{len(leaks)} English words on Dutch pages:\n" + "\n".join(leaks)


def test_the_main_pages_of_the_demo_show_no_dutch_in_english(demo: Study) -> None:
    leaks = _other_language(demo, "en", DUTCH_WORDS)
    assert not leaks, f"{len(leaks)} Dutch words on English pages:\n" + "\n".join(leaks)


def test_counts_take_the_plural_form_of_their_number_in_dutch(cast: Any) -> None:
    """ "1 van 1 interventie", not "1 van 1 interventies": the noun follows the total."""
    client = Client()
    client.cookies["django_language"] = "nl"
    client.force_login(cast.owner)
    body = client.get(reverse("intervention_list", args=[cast.study.slug])).content.decode()
    assert "1 van 1 interventie" in body
    assert "1 van 1 interventies" not in body
