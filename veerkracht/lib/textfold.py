"""Text folded for searching: lower case, diacritics off, one character for one character.

`fold("Financiële STEUN")` is "financiele steun". Every character folds to exactly one
character, so an offset into the folded text is the same offset into the original: a search can
run on the folded text and report code-point offsets into the real one.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@cache
def _table() -> dict[int, str]:
    """For the Latin ranges: each letter's base letter in lower case (when that is one
    character), else its lower case (when one character)."""
    table: dict[int, str] = {}
    for code_point in range(0x0250):
        char = chr(code_point)
        decomposed = unicodedata.normalize("NFD", char)
        base = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        if len(base) == 1 and base != char:
            table[code_point] = base
        elif len(char.lower()) == 1 and char.lower() != char:
            table[code_point] = char.lower()
    return table


def fold(text: str) -> str:
    # Letters with diacritics lose them one by one (there are few in a Dutch text), then
    # lower() in one go: it keeps the length for every character but "İ", folded already.
    table = _table()
    folded = _NON_ASCII.sub(lambda m: table.get(ord(m.group()), m.group()), text)
    return folded.lower()
