"""Numbers and dates as Dutch and English users write them, without a database."""

from __future__ import annotations

from datetime import datetime

import pytest

from veerkracht.lib.localized import (
    UnreadableValue,
    read_date,
    read_number,
    show_date,
    show_number,
)
from veerkracht.lib.spreadsheets import cell_text


@pytest.mark.parametrize(
    ("text", "locale", "value", "ambiguous"),
    [
        ("1.250", "nl", "1250", True),
        ("1.250", "en", "1.25", True),
        ("1,250", "nl", "1.25", True),
        ("1,250", "en", "1250", True),
        ("1.250,50", "nl", "1250.5", False),
        ("1,250.50", "nl", "1250.5", False),
        ("1.250.000", "nl", "1250000", False),
        ("1 250", "nl", "1250", False),
        ("€ 3.400", "nl", "3400", True),
        ("€ 3.400,-", "nl", "3400", True),
        ("EUR 12,50", "nl", "12.5", False),
        ("12,5 %", "nl", "12.5", False),
        ("12.5%", "en", "12.5", False),
        ("0,250", "nl", "0.25", False),
        ("−3,5", "nl", "-3.5", False),
        ("1.25", "nl", "1.25", False),
        ("", "nl", "", False),
    ],
)
def test_a_number_is_read_as_people_write_it(
    text: str, locale: str, value: str, ambiguous: bool
) -> None:
    reading = read_number(text, locale)

    assert (reading.value, reading.ambiguous) == (value, ambiguous)


@pytest.mark.parametrize("text", ["veel", "1.2.3", "12,", "1,2,3,4", "12 kinderen", "€"])
def test_a_text_that_is_no_number_is_unreadable(text: str) -> None:
    with pytest.raises(UnreadableValue):
        read_number(text, "nl")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("15-09-2023", "2023-09-15"),
        ("15/9/2023", "2023-09-15"),
        ("15.09.2023", "2023-09-15"),
        ("2023-09-15", "2023-09-15"),
        ("15 september 2023", "2023-09-15"),
        ("15-09-23", "2023-09-15"),
        ("03-04-2023", "2023-04-03"),
    ],
)
def test_a_dutch_date_is_read_day_first(text: str, value: str) -> None:
    assert read_date(text, "nl").value == value
    assert not read_date(text, "nl").ambiguous


@pytest.mark.parametrize("text", ["31-02-2023", "15-09", "morgen", "15 brumaire 2023"])
def test_a_text_that_is_no_date_is_unreadable(text: str) -> None:
    with pytest.raises(UnreadableValue):
        read_date(text, "nl")


def test_stored_values_are_shown_so_that_they_read_back_the_same() -> None:
    for value in ("1250.5", "1250", "-0.125", "1000000"):
        for locale in ("nl", "en"):
            assert read_number(show_number(value, locale), locale).value == value
    assert show_number("1250.5", "nl") == "1250,5"
    assert show_date("2023-09-15", "nl") == "15-09-2023"
    assert read_date(show_date("2023-09-05", "en"), "en").value == "2023-09-05"


@pytest.mark.parametrize(
    ("value", "number_format", "locale", "text"),
    [
        (0.125, "0.0%", "nl", "12,5 %"),
        (0.125, "0.0%", "en", "12.5%"),
        (1250.5, "#,##0.00", "nl", "1.250,50"),
        (1250.5, "#,##0.00", "en", "1,250.50"),
        (1250.5, "General", "nl", "1250,5"),
        (12.0, "General", "nl", "12"),
        (3400, '"€" #,##0', "nl", "€ 3.400"),
        (datetime(2023, 9, 15), "dd-mm-yyyy", "nl", "15-09-2023"),  # noqa: DTZ001 (Excel cells have no time zone)
        (datetime(2023, 9, 15, 14, 30), "dd-mm-yyyy hh:mm", "nl", "15-09-2023 14:30"),  # noqa: DTZ001 (Excel cells have no time zone)
    ],
)
def test_a_cell_reads_as_the_sheet_shows_it_in_the_locale(
    value: object, number_format: str, locale: str, text: str
) -> None:
    assert cell_text(value, number_format, locale) == text
    # Every such text reads back as the value the cell holds.
    if isinstance(value, float | int) and "%" not in number_format:
        assert float(read_number(text, locale).value) == value
