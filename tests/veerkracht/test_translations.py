"""Every string the app shows has its Dutch translation, with the same placeholders.

Django's `makemessages` collects the strings of the templates and the Python code into a
fresh catalogue, in a copy of the source (the committed .po is appended to by hand and never
regenerated, see README); the test compares that catalogue with
`locale/nl/LC_MESSAGES/django.po` and lists every string without a Dutch translation, or with
a fuzzy one, by where it occurs. It needs GNU gettext's xgettext (installed by `.ci/run`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DUTCH_PO = ROOT / "locale" / "nl" / "LC_MESSAGES" / "django.po"
# What makemessages reads (its default extensions), in the folders that hold the app.
SOURCE_SUFFIXES = {".py", ".html", ".txt"}
SKIPPED_DIRS = {".venv", "node_modules", "tests", "locale", "docs", "staticfiles", "benchmarks"}
# Dutch has two plural forms (the .po's Plural-Forms: nplurals=2).
DUTCH_PLURALS = 2
# One word per concept (the glossary at the top of the .po): Dutch words the app does not use,
# with the word it uses instead.
REJECTED_DUTCH = {
    "segment": "fragment",
    "segmenten": "fragmenten",
    "kenmerk": "eigenschap",
    "kenmerken": "eigenschappen",
    "codeerder": "codeur",
    "codeerders": "codeurs",
    "supervisor": "begeleider",
    "rater": "beoordelaar",
    "raters": "beoordelaars",
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]|\{(\w*)\}")


@dataclass
class Entry:
    """One message of a .po file; strings kept as written there (escapes and all)."""

    context: str = ""
    msgid: str = ""
    plural: str = ""
    translations: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    locations: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return self.context, self.msgid

    def describe(self) -> str:
        where = ", ".join(self.locations[:3]) or "?"
        context = f" [context {self.context!r}]" if self.context else ""
        return f'  "{self.msgid}"{context}  ({where})'


def read_po(path: Path) -> dict[tuple[str, str], Entry]:
    """The entries of a .po file by (context, msgid), without its header and obsolete ones."""
    entries: dict[tuple[str, str], Entry] = {}
    entry = Entry()
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal entry, target
        if entry.msgid:  # the header has an empty msgid
            entries[entry.key] = entry
        entry, target = Entry(), None

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#~"):
            continue
        # An entry ends at a blank line, or where the next one begins without one.
        starts_next = line.startswith("#") or line.startswith(("msgctxt", "msgid "))
        if not line or (starts_next and entry.translations):
            finish()
        if not line:
            continue
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#:"):
            entry.locations.extend(line[2:].split())
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if target is not None:
                _append(entry, target, line[1:-1])
        else:
            keyword, _space, rest = line.partition(" ")
            if keyword.startswith("msgstr["):
                target = ("msgstr", int(keyword[7:-1]))
            else:
                target = (keyword, 0)
            _append(entry, target, rest[1:-1])
    finish()
    return entries


def _append(entry: Entry, target: tuple[str, int], text: str) -> None:
    keyword, index = target
    if keyword == "msgctxt":
        entry.context += text
    elif keyword == "msgid":
        entry.msgid += text
    elif keyword == "msgid_plural":
        entry.plural += text
    elif keyword == "msgstr":
        entry.translations[index] = entry.translations.get(index, "") + text


def _copy_sources(destination: Path) -> None:
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        here = Path(folder)
        for name in files:
            if Path(name).suffix in SOURCE_SUFFIXES:
                target = destination / (here / name).relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(here / name, target)


@pytest.fixture(scope="module")
def source_strings(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Entry]:
    """Every translatable string of the app, as `makemessages` collects it now."""
    if shutil.which("xgettext") is None:
        pytest.fail("This test needs GNU gettext (xgettext): apt-get install gettext")
    copy = tmp_path_factory.mktemp("messages")
    _copy_sources(copy)
    (copy / "locale").mkdir()
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "veerkracht.settings"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale=nl", "--no-obsolete"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return read_po(copy / "locale" / "nl" / "LC_MESSAGES" / "django.po")


@pytest.fixture(scope="module")
def dutch() -> dict[tuple[str, str], Entry]:
    return read_po(DUTCH_PO)


def _translated(entry: Entry) -> bool:
    forms = DUTCH_PLURALS if entry.plural else 1
    return "fuzzy" not in entry.flags and all(entry.translations.get(i) for i in range(forms))


def test_every_string_of_the_templates_and_code_has_a_dutch_translation(
    source_strings: dict[tuple[str, str], Entry], dutch: dict[tuple[str, str], Entry]
) -> None:
    missing = [
        entry
        for key, entry in source_strings.items()
        if key not in dutch or not _translated(dutch[key])
    ]
    assert not missing, (
        f"{len(missing)} strings have no Dutch translation (or a fuzzy one) in "
        f"locale/nl/LC_MESSAGES/django.po; append them there:\n"
        + "\n".join(entry.describe() for entry in missing)
    )


def test_plural_strings_have_both_dutch_forms(
    source_strings: dict[tuple[str, str], Entry], dutch: dict[tuple[str, str], Entry]
) -> None:
    wrong = [
        entry
        for key, entry in source_strings.items()
        if entry.plural
        and key in dutch
        and (dutch[key].plural != entry.plural or len(dutch[key].translations) != DUTCH_PLURALS)
    ]
    assert not wrong, "Plural strings without msgid_plural and two Dutch forms:\n" + "\n".join(
        entry.describe() for entry in wrong
    )


def test_dutch_translations_keep_the_placeholders_of_the_english(
    dutch: dict[tuple[str, str], Entry],
) -> None:
    """A placeholder the Dutch adds breaks the page (KeyError); one it drops loses a value."""

    def names(text: str) -> set[str]:
        return {a or b for a, b in PLACEHOLDER.findall(text)}

    wrong = []
    for entry in dutch.values():
        english = names(entry.msgid) | names(entry.plural)
        for index, text in entry.translations.items():
            if not text:
                continue
            found = names(text)
            # A singular may leave out the count, which its plural form carries.
            allowed = english if entry.plural else names(entry.msgid)
            if found - allowed or (not entry.plural and allowed - found):
                wrong.append(f"{entry.describe()} msgstr[{index}] has {sorted(found)}")
    assert not wrong, "Dutch translations with other placeholders than the English:\n" + (
        "\n".join(wrong)
    )


def test_the_dutch_uses_one_word_per_concept(dutch: dict[tuple[str, str], Entry]) -> None:
    words = re.compile(r"\b(" + "|".join(REJECTED_DUTCH) + r")\b", re.IGNORECASE)
    wrong = [
        f"{entry.describe()}: “{found}” where the glossary says “{REJECTED_DUTCH[found.lower()]}”"
        for entry in dutch.values()
        for text in entry.translations.values()
        for found in words.findall(PLACEHOLDER.sub("", text))
    ]
    assert not wrong, "Dutch words the glossary (top of the .po) rejects:\n" + "\n".join(wrong)


def test_the_dutch_catalogue_has_each_message_once() -> None:
    """msgfmt refuses a catalogue with a message twice (two helpers appending the same one)."""
    if shutil.which("msgfmt") is None:
        pytest.fail("This test needs GNU gettext (msgfmt): apt-get install gettext")
    done = subprocess.run(
        ["msgfmt", "--check-format", "--check-header", "-o", os.devnull, str(DUTCH_PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_read_po_reads_contexts_plurals_fuzzy_and_continued_lines(tmp_path: Path) -> None:
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: nl\\n"\n\n'
        '#: a.py:1\nmsgctxt "theme"\nmsgid "Code"\nmsgstr "Code"\n\n'
        '#, fuzzy, python-format\nmsgid ""\n"%(n)s long "\n"line"\nmsgstr "%(n)s lange regel"\n'
        'msgid "%(n)s text"\nmsgid_plural "%(n)s texts"\nmsgstr[0] "%(n)s tekst"\n'
        'msgstr[1] ""\n\n#~ msgid "gone"\n#~ msgstr "weg"\n',
        encoding="utf-8",
    )
    entries = read_po(po)
    assert set(entries) == {("theme", "Code"), ("", "%(n)s long line"), ("", "%(n)s text")}
    assert entries[("theme", "Code")].locations == ["a.py:1"]
    assert _translated(entries[("theme", "Code")])
    assert not _translated(entries[("", "%(n)s long line")])  # fuzzy
    assert not _translated(entries[("", "%(n)s text")])  # a plural form is empty
    assert entries[("", "%(n)s text")].plural == "%(n)s texts"
