"""veerkracht.lib.spreadsheets: CSV as Excel writes it, read back as the text it holds, and cells
no spreadsheet runs as a formula."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import translation

from veerkracht.lib.spreadsheets import (
    FORMULA_TRIGGERS,
    UnreadableText,
    cell_text,
    csv_bytes,
    csv_reader,
    decode_text,
    formula_escape,
    formula_unescape,
    sniff_delimiter,
    split_sep_line,
)

DUTCH = "Coördinatie; één café, privé – “De Zon”"


@pytest.mark.parametrize(
    "data",
    [
        DUTCH.encode("utf-8"),
        codecs.BOM_UTF8 + DUTCH.encode("utf-8"),
        DUTCH.encode("cp1252"),
        DUTCH.encode("utf-16"),
    ],
    ids=["utf-8", "utf-8-with-bom", "cp1252", "utf-16-with-bom"],
)
def test_it_decodes_what_excel_writes_with_the_dutch_diacritics_intact(data: bytes) -> None:
    assert decode_text(data) == DUTCH


def test_a_byte_order_mark_never_ends_up_in_the_text() -> None:
    assert not decode_text(codecs.BOM_UTF8 + b"pad;naam").startswith("\ufeff")


def test_it_refuses_bytes_that_are_neither_utf8_nor_cp1252() -> None:
    # 0x81 is one of the five bytes Windows-1252 leaves undefined.
    with pytest.raises(UnreadableText, match="neither UTF-8 nor Windows-1252"):
        decode_text(b"caf\xe9 \x81")


def test_it_refuses_a_file_whose_bom_says_utf8_where_it_is_not_and_names_the_byte() -> None:
    with pytest.raises(UnreadableText, match=r"says it is UTF-8 but is not \(byte 6\)"):
        decode_text(codecs.BOM_UTF8 + b"caf\xe9")


def test_it_refuses_damaged_utf16() -> None:
    with pytest.raises(UnreadableText, match="damaged UTF-16"):
        decode_text(codecs.BOM_UTF16_LE + b"a\x00\x00\xd8")


def test_leniently_a_byte_that_fits_no_encoding_becomes_a_replacement_character() -> None:
    assert decode_text(b"caf\xe9 \x81 einde", lenient=True) == "café \ufffd einde"
    assert decode_text(codecs.BOM_UTF8 + b"caf\xe9", lenient=True) == "caf\ufffd"


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("Interventie;Doelgroep;Setting", ";"),
        ("Interventie,Doelgroep,Setting", ","),
        ("Interventie\tDoelgroep\tSetting", "\t"),
        ('"Leeftijd; doelgroep",Setting,Hoofddoel', ","),
        ("Interventie;Leeftijd, primaire doelgroep", ";"),
        ("Interventie", ","),
    ],
    ids=[
        "semicolons",
        "commas",
        "tabs",
        "a-quoted-semicolon-does-not-count",
        "a-tie-goes-to-the-semicolon",
        "one-column",
    ],
)
def test_it_sniffs_the_delimiter_from_the_header_line(header: str, delimiter: str) -> None:
    # Blank lines before the header are skipped, the rows below it do not count.
    known = {"Interventie"}.__contains__
    assert sniff_delimiter(f"\n \n{header}\nx;y,z\ta\tb\tc\n", known) == delimiter


def test_a_title_line_above_the_header_does_not_decide_the_delimiter() -> None:
    text = "Overzicht interventies 2023\n\nInterventie;Setting;Leeftijd, van\nA;B;C\n"

    assert sniff_delimiter(text) == ";"


def test_a_sep_line_names_the_delimiter_and_is_taken_off() -> None:
    assert split_sep_line("sep=;\r\nInterventie;Setting\r\n") == (";", "Interventie;Setting\r\n")
    assert split_sep_line("Interventie;Setting\n") == (None, "Interventie;Setting\n")


def test_an_empty_text_is_read_with_commas() -> None:
    assert sniff_delimiter("") == ","


def test_known_headers_outweigh_the_number_of_columns() -> None:
    text = "path,name\tdefinition\texample\tcolor\n"
    assert sniff_delimiter(text) == "\t"
    assert sniff_delimiter(text, known=lambda header: header in ("path", "name")) == ","


def test_the_reader_reads_a_cp1252_file_with_semicolons_and_a_cell_over_two_lines() -> None:
    data = 'Interventie;Omschrijving\r\nCafé;"Regel één\r\nregel twee"\r\n'.encode("cp1252")
    rows = list(csv_reader(decode_text(data)))
    assert rows == [["Interventie", "Omschrijving"], ["Café", "Regel één\r\nregel twee"]]


@pytest.mark.parametrize("trigger", [*FORMULA_TRIGGERS, "'"])
def test_a_cell_starting_with_a_formula_trigger_or_an_apostrophe_round_trips(
    trigger: str,
) -> None:
    value = f"{trigger}SUM(A1:A9)"
    escaped = formula_escape(value)
    assert escaped == "'" + value
    assert formula_unescape(escaped) == value


def test_every_trigger_the_rule_names_is_escaped() -> None:
    assert set(FORMULA_TRIGGERS) == {"=", "+", "-", "@", "\t", "\r"}


@pytest.mark.parametrize("value", ["", "gewone tekst", "'", "it's", "a=b", "'gewoon"])
def test_other_cells_are_left_alone_both_ways(value: str) -> None:
    if value.startswith("'"):
        # An apostrophe is escaped too, so that it can be told from the escape.
        assert formula_unescape(formula_escape(value)) == value
    else:
        assert formula_escape(value) == value
    assert formula_unescape(value) == value


def test_a_written_table_reads_back_as_the_same_text() -> None:
    rows = [
        ["=1+1", "+31 6", "-5", "@SUM", "\tinspringing", "\rregel", "'citaat", "gewoon", 7],
        ["één\r\ntwee", "a,b;c", "", "“De Zon”", "x", "y", "z", "w", None],
    ]
    data = csv_bytes([f"kolom {i}" for i in range(9)], rows)
    assert data.startswith(codecs.BOM_UTF8)
    assert b"\r\n" in data
    read = list(csv.reader(io.StringIO(decode_text(data), newline="")))
    assert read[1][:4] == ["'=1+1", "'+31 6", "'-5", "'@SUM"]
    assert [[formula_unescape(cell) for cell in row] for row in read[1:]] == [
        [str(cell) if cell is not None else "" for cell in row] for row in rows
    ]


def test_the_messages_keep_their_dutch_translations() -> None:
    with translation.override("nl"), pytest.raises(UnreadableText) as refused:
        decode_text(b"caf\xe9 \x81")
    assert str(refused.value).startswith("Het bestand is geen UTF-8- of Windows-1252-tekst")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "TRUE"),
        (12.0, "12"),
        (12.5, "12.5"),
        # openpyxl gives the naive datetimes a sheet holds.
        (datetime(2024, 3, 1), "2024-03-01"),  # noqa: DTZ001
        (datetime(2024, 3, 1, 9, 30), "2024-03-01 09:30:00"),  # noqa: DTZ001
        (date(2024, 3, 1), "2024-03-01"),
        (time(9, 30), "09:30:00"),
        (timedelta(hours=1), "1:00:00"),
        ("één", "één"),
    ],
)
def test_an_xlsx_cell_reads_as_the_text_the_sheet_shows(value: Any, text: str) -> None:
    assert cell_text(value) == text
