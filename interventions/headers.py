"""Matching column headers of metadata sheets, in Dutch and English.

Headers are compared folded: case, accents, spaces, dashes and underscores ignored, so
"Leeftijd primaire doelgroep", "leeftijd_primaire_doelgroep" and "LEEFTIJD PRIMAIRE DOELGROEP"
are one column.
"""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold_header(header: str) -> str:
    decomposed = unicodedata.normalize("NFKD", header.strip().lower())
    no_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub("", no_accents)


# Columns that fill an intervention's own fields rather than an attribute.
TITLE_HEADERS = ("Interventie", "Intervention", "Titel", "Title", "Naam", "Name")
SOURCE_HEADERS = ("Databank", "Bron", "Source", "Database")
URL_HEADERS = ("URL", "Link", "Webadres", "Website")
TEXT_HEADERS = ("Tekst", "Text", "Beschrijving tekst", "Full text")

# The eight properties of the study (domain.md) plus recognition status, Dutch name first.
# A header matches a property by its Dutch name or any English equivalent.
TEMPLATE_ATTRIBUTES: list[tuple[str, str, tuple[str, ...]]] = [
    ("Primaire doelgroep", "text", ("Primary target group", "Target group")),
    ("Leeftijd primaire doelgroep", "text", ("Age of primary target group", "Age")),
    ("Intermediaire doelgroep", "text", ("Intermediate target group",)),
    ("Hoofddoel", "category", ("Main goal", "Main aim", "Hoofddoel van de interventie")),
    ("Setting", "category", ("Setting",)),
    ("Type organisatie", "category", ("Type of organisation", "Organisation type")),
    ("Uitvoerder", "text", ("Provider", "Practitioner", "Delivered by")),
    ("Erkenning", "category", ("Recognition", "Recognition status", "Erkenningsstatus")),
]

MAIN_GOAL_CATEGORIES = (
    "Afname problemen",
    "Afname problemen m.b.v. hulpbronnen versterken",
    "Versterken van hulpbronnen",
    "Afname problemen én hulpbronnen versterken",
)

_ALIASES: dict[str, str] = {
    fold_header(alias): name for name, _kind, aliases in TEMPLATE_ATTRIBUTES for alias in aliases
}


def canonical_attribute_name(header: str) -> str:
    """The Dutch property name an English header stands for, or the header itself."""
    return _ALIASES.get(fold_header(header), header.strip())


def matches_any(header: str, candidates: tuple[str, ...]) -> bool:
    folded = fold_header(header)
    return any(folded == fold_header(candidate) for candidate in candidates)
