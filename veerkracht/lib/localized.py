"""Numbers and dates as people write them in a locale, and back.

A Dutch sheet writes 1250,5 as "1.250,5", € 3.400 as "€ 3.400", 12,5 % as "12,5 %" and a date
as "15-09-2023"; an English one writes "1,250.5" and "12.5%". `read_number` and `read_date`
turn such text into one stored form (a plain decimal with a point, an ISO date) and say whether
the text could have meant something else: "1.250" is 1250 to a Dutch reader and 1,25 to an
English one. The study's locale decides such a value, and the import preview shows it.
`show_number` and `show_date` write the stored form back as that locale writes it, so an export
reads back unchanged.

Framework-free: no Django, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

# Per locale: (decimal separator, thousands separator).
SEPARATORS = {"nl": (",", "."), "en": (".", ",")}
DEFAULT_LOCALE = "nl"

_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2007": " "})
_MINUS = "-\u2212\u2013"
_CURRENCY = re.compile(r"^(?:€|\$|£|eur(?:o)?|usd|gbp)\s*|\s*(?:€|\$|£|eur(?:o)?|usd|gbp)$", re.I)
_NUMBER_BODY = re.compile(r"^\d[\d.,' ]*$")
_GROUPED = re.compile(r"^\d{1,3}(?:[.,' ]\d{3})+$")

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("januari", "january", "jan"),
            ("februari", "february", "feb"),
            ("maart", "march", "mrt", "mar"),
            ("april", "apr"),
            ("mei", "may"),
            ("juni", "june", "jun"),
            ("juli", "july", "jul"),
            ("augustus", "august", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "october", "okt", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_NUMERIC_DATE = re.compile(r"^(\d{1,4})([-/.])(\d{1,2})\2(\d{1,4})$")
_WORD_DATE = re.compile(r"^(\d{1,2})\.?\s+([a-z]+)\.?\s+(\d{4})$", re.I)


class UnreadableValue(ValueError):
    """Text that is no number (or date) in any way people write one."""


@dataclass(frozen=True)
class Reading:
    """How a cell is read: `value` is the stored form ("" for an empty cell); `ambiguous` says
    that another locale would read the same text as another value, `alternative`."""

    text: str
    value: str
    ambiguous: bool = False
    alternative: str = ""
    percent: bool = False


def locale_of(language: str) -> str:
    return language if language in SEPARATORS else DEFAULT_LOCALE


def _canonical(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return "0" if text in {"-0", "+0"} else text


def _ungroup(body: str, group: str) -> str:
    if not _GROUPED.match(body) or any(mark not in (group, " ", "'") for mark in _marks(body)):
        raise UnreadableValue(body)
    return re.sub(r"[.,' ]", "", body)


def _marks(body: str) -> list[str]:
    return [character for character in body if not character.isdigit()]


def read_number(text: str, locale: str = DEFAULT_LOCALE) -> Reading:
    """The number in `text`, as `locale` reads it; UnreadableValue if it holds none.

    Accepted: thousands separators (".", ",", a space or an apostrophe in groups of three), a
    decimal comma or point, a leading minus, a currency sign or code (€, EUR, $) and a trailing
    percent sign (12,5 % is stored as 12.5). With both separators the last one is the decimal
    one; with one separator followed by exactly three digits ("1.250") the locale decides, and
    the reading is marked ambiguous.
    """
    decimal_mark, _group_mark = SEPARATORS[locale_of(locale)]
    original = text
    body = " ".join(text.translate(_SPACES).split())
    if not body:
        return Reading(original, "")
    negative = False
    percent = False
    if body.endswith("%"):
        percent = True
        body = body[:-1].rstrip()
    body = _CURRENCY.sub("", body).strip()
    # "€ 3.400,-": whole euros, as Dutch prices are written.
    body = re.sub(r"[.,][-–]{1,2}$", "", body)
    if body[:1] and (body[:1] in _MINUS or body[:1] == "+"):
        negative = body[0] != "+"
        body = body[1:].lstrip()
    body = _CURRENCY.sub("", body).strip()
    if body.endswith(("%",)) and not percent:
        percent = True
        body = body[:-1].rstrip()
    if not body or not _NUMBER_BODY.match(body) or body[-1] in ".,' ":
        raise UnreadableValue(original)
    ambiguous = False
    alternative = ""
    marks = {mark for mark in _marks(body) if mark in ".,"}
    try:
        if marks == {".", ","}:
            last = max(body.rfind("."), body.rfind(","))
            whole, fraction = body[:last], body[last + 1 :]
            other = "," if body[last] == "." else "."
            digits = _ungroup(whole, other) if any(m in whole for m in ".,' ") else whole
            plain = f"{digits}.{fraction}"
            if not fraction.isdigit():
                raise UnreadableValue(original)
        elif len(marks) == 1:
            mark = marks.pop()
            count = body.count(mark)
            if count > 1:
                plain = _ungroup(body, mark)
            else:
                whole, fraction = body.split(mark)
                whole_digits = re.sub(r"[' ]", "", whole) if _GROUPED.match(whole) else whole
                if not whole_digits.isdigit() or not fraction.isdigit():
                    raise UnreadableValue(original)
                as_decimal = f"{whole_digits}.{fraction}"
                as_grouped = f"{whole_digits}{fraction}"
                could_group = len(fraction) == 3 and 1 <= len(whole) <= 3 and whole[0] != "0"
                if could_group:
                    ambiguous = True
                    if mark == decimal_mark:
                        plain, other_plain = as_decimal, as_grouped
                    else:
                        plain, other_plain = as_grouped, as_decimal
                    alternative = _canonical(Decimal(other_plain))
                else:
                    plain = as_decimal
        else:
            plain = _ungroup(body, " ") if " " in body or "'" in body else body
        number = Decimal(plain)
    except (InvalidOperation, UnreadableValue):
        raise UnreadableValue(original) from None
    if negative:
        number = -number
        if alternative:
            alternative = _canonical(-Decimal(alternative))
    return Reading(original, _canonical(number), ambiguous, alternative, percent)


def show_number(value: str, locale: str = DEFAULT_LOCALE) -> str:
    """A stored number as `locale` writes it, without thousands separators (so it reads back
    the same in every locale's reading of one separator): 1250.5 -> "1250,5" in Dutch."""
    if not value:
        return ""
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    text = _canonical(number)
    decimal_mark, _group = SEPARATORS[locale_of(locale)]
    return text.replace(".", decimal_mark)


def read_date(text: str, locale: str = DEFAULT_LOCALE) -> Reading:
    """The date in `text` as an ISO date; UnreadableValue if it holds none.

    Accepted: 15-09-2023, 15/9/2023, 15.09.2023, 2023-09-15, 15 september 2023 (Dutch or English
    month names). A day-month order is read day first (as Dutch and British Excel write it); in
    English, where the other order is usual too, a text that reads as a date both ways
    ("03-04-2023") is marked ambiguous.
    """
    original = text
    body = " ".join(text.translate(_SPACES).split())
    if not body:
        return Reading(original, "")
    body = body.split(" ")[0] if re.match(r"^\S+ 0?0:00(?::00)?$", body) else body
    words = _WORD_DATE.match(body)
    try:
        if words:
            month = MONTHS.get(words.group(2).lower())
            if month is None:
                raise UnreadableValue(original)
            return Reading(
                original, date(int(words.group(3)), month, int(words.group(1))).isoformat()
            )
        numeric = _NUMERIC_DATE.match(body)
        if not numeric:
            raise UnreadableValue(original)
        first, _sep, middle, last = numeric.groups()
        if len(first) == 4:
            return Reading(original, date(int(first), int(middle), int(last)).isoformat())
        if len(last) not in (2, 4):
            raise UnreadableValue(original)
        year = int(last) + (2000 if len(last) == 2 and int(last) < 70 else 0)
        year += 1900 if len(last) == 2 and int(last) >= 70 else 0
        day_first = _date_or_none(year, int(middle), int(first))
        month_first = _date_or_none(year, int(first), int(middle))
        if day_first is None and month_first is None:
            raise UnreadableValue(original)
        if day_first is None:
            assert month_first is not None
            return Reading(original, month_first.isoformat())
        # Dutch writes the day first, always; English may write either, so English marks it.
        ambiguous = (
            locale_of(locale) != "nl" and month_first is not None and month_first != day_first
        )
        return Reading(
            original,
            day_first.isoformat(),
            ambiguous,
            month_first.isoformat() if ambiguous and month_first else "",
        )
    except ValueError as error:
        if isinstance(error, UnreadableValue):
            raise
        raise UnreadableValue(original) from None


def _date_or_none(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def show_date(value: str, locale: str = DEFAULT_LOCALE) -> str:
    """A stored ISO date as `locale` writes it: dd-mm-jjjj in Dutch, ISO otherwise."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value
    if locale_of(locale) == "nl":
        return day.strftime("%d-%m-%Y")
    return day.isoformat()
