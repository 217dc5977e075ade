"""Text folded for search keeps every offset."""

from __future__ import annotations

import sys

import pytest

from veerkracht.lib.textfold import fold


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Financiële STEUN", "financiele steun"),
        ("Coördinator, ÉÉN café", "coordinator, een cafe"),
        ("İstanbul", "istanbul"),  # lower() alone would make this one character longer
        ("Ærø ß ĳ – “x” €", "ærø ß ĳ – “x” €"),
    ],
)
def test_fold_drops_case_and_diacritics(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_keeps_the_length_of_every_character() -> None:
    for code_point in range(sys.maxunicode + 1):
        if 0xD800 <= code_point <= 0xDFFF:
            continue
        char = chr(code_point)
        assert len(fold(char)) == 1, hex(code_point)
