"""An agreement run's stored result as files: a table (XLSX, CSV) and a method paragraph (DOCX).

Pure functions of the stored result (`coding.agreement.reliability`'s layout) and a `RunInfo`
the view builds from the run: no ORM here, so the files say exactly what the report page shows.
An undefined measure is an empty cell with its reason in the `not_computable` column, never 0 or
1. The method paragraph comes in Dutch and English, written out here rather than through the
translation catalogue, because a Dutch thesis needs the Dutch text whatever language the user
reads the app in."""

from __future__ import annotations

import datetime
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import openpyxl
from django.utils.translation import gettext_noop
from docx import Document
from docx.shared import Pt
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from coding.agreement.metrics import ALPHA_RELIABLE, ALPHA_TENTATIVE
from coding.agreement.reliability import MEASURE_KEYS
from coding.codebook.files import xml_text
from coding.segments import table_export
from veerkracht.lib.spreadsheets import xlsx_write_cell

LANGUAGES = ("nl", "en")

# `coding.agreement.reliability` files the reason for Brennan and Prediger's kappa under "bp".
REASON_ALIASES = {"bp": "brennan_prediger_kappa"}
# Measures that the segment unit does not compute at all (it matches segments instead).
# English in the exports; marked so that the report can show them translated.
NOT_FOR_SEGMENTS = gettext_noop(
    "not computed for the segment unit, which matches segments instead of coding units"
)
NOT_FOR_OTHER_UNITS = gettext_noop("computed for the segment unit only")
NO_BOOTSTRAP = gettext_noop("no bootstrap samples were asked for")
ALPHA_UNDEFINED = gettext_noop("alpha is not computable")

TABLE_HEADERS = [
    "scope",
    "code",
    "n_units",
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "alpha_ci95_low",
    "alpha_ci95_high",
    "p_alpha_below_0667",
    "p_alpha_below_0800",
    "brennan_prediger_kappa",
    "interpretation",
    "not_computable",
]


@dataclass(frozen=True)
class RunInfo:
    """What the files say about the run besides its figures."""

    date: datetime.date
    # (username, role) of each compared coder; usernames serve as pseudonyms.
    coders: Sequence[tuple[str, str]]
    bootstrap: int
    seed: int | None
    overlap: float
    # (number, label) of the codebook version the run used, or None.
    codebook_version: tuple[int, str] | None


def reasons(measure: dict[str, Any]) -> dict[str, str]:
    """The stored reasons keyed by measure name (whatever key the backend used)."""
    return {REASON_ALIASES.get(k, k): v for k, v in (measure.get("reasons") or {}).items()}


def reason_for(measure: dict[str, Any], key: str, unit: str) -> str:
    """Why `measure[key]` has no value: the stored reason, or why it was not computed at all.

    An English message id; the page translates it where it shows it.
    """
    stored = reasons(measure).get(key)
    if stored:
        return stored
    if key == "brennan_prediger_kappa":
        return NOT_FOR_OTHER_UNITS
    # Of MEASURE_KEYS, the segment unit computes only n_units and percent agreement (and BP).
    if unit == "segment" and key in MEASURE_KEYS[2:8]:
        return NOT_FOR_SEGMENTS
    if key in {"alpha_ci95", "p_below_0667", "p_below_0800"}:
        if measure.get("krippendorff_alpha") is None:
            return ALPHA_UNDEFINED
        return NO_BOOTSTRAP
    return ""


def measure_rows(result: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(scope, code path, measures) for the overall figures, every code and every family."""
    rows: list[tuple[str, str, dict[str, Any]]] = []
    if result.get("overall"):
        rows.append(("overall", "", result["overall"]))
    rows.extend(("code", path, m) for path, m in (result.get("codes") or {}).items())
    rows.extend(("family", path, m) for path, m in (result.get("families") or {}).items())
    return rows


def table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows of every measure; an undefined measure is an empty cell."""
    unit = result.get("unit", "intervention")
    rows = []
    for scope, path, m in measure_rows(result):
        ci = m.get("alpha_ci95") or [None, None]
        missing = [
            key
            for key in MEASURE_KEYS
            if key != "n_units"
            and m.get(key) is None
            and not (unit != "segment" and key == "brennan_prediger_kappa")
        ]
        notes = "; ".join(f"{key}: {reason_for(m, key, unit)}" for key in missing)
        rows.append(
            [
                scope,
                path,
                m.get("n_units"),
                m.get("percent_agreement"),
                m.get("cohen_kappa"),
                m.get("fleiss_kappa"),
                m.get("krippendorff_alpha"),
                ci[0],
                ci[1],
                m.get("p_below_0667"),
                m.get("p_below_0800"),
                m.get("brennan_prediger_kappa"),
                m.get("interpretation", ""),
                notes,
            ]
        )
    return list(TABLE_HEADERS), rows


def about_rows(result: dict[str, Any], info: RunInfo) -> list[tuple[str, Any]]:
    """The run's settings and sample, for the XLSX file's second sheet."""
    version = info.codebook_version
    return [
        ("date", info.date.isoformat()),
        ("unit", result.get("unit", "")),
        ("coders", ", ".join(name for name, _role in info.coders)),
        ("interventions compared", result.get("n_interventions", 0)),
        ("interventions in the study", result.get("n_interventions_total", "")),
        ("overlap (segment unit)", info.overlap),
        ("bootstrap samples", info.bootstrap),
        ("seed", info.seed if info.seed is not None else ""),
        ("codebook version", f"v{version[0]} {version[1]}" if version else "no named version"),
        (
            "percent agreement",
            "Krippendorff's observed agreement: the share of agreeing pairs of pairable values",
        ),
        (
            "text units",
            "words and characters of the coded sections only; sections not to code are left out",
        ),
    ]


def export_table(result: dict[str, Any], fmt: str, info: RunInfo | None = None) -> bytes:
    """The measures as "csv" (UTF-8 with BOM) or "xlsx" (with a sheet about the run)."""
    headers, rows = table(result)
    if fmt != "xlsx" or info is None:
        return table_export(headers, rows, fmt, title="Agreement")
    workbook = openpyxl.load_workbook(
        io.BytesIO(table_export(headers, rows, "xlsx", title="Agreement"))
    )
    sheet = workbook.create_sheet("Run")
    bold = Font(bold=True)
    for row_number, (label, value) in enumerate(about_rows(result, info), start=1):
        xlsx_write_cell(sheet, row_number, 1, label).font = bold
        xlsx_write_cell(sheet, row_number, 2, value)
    sheet.column_dimensions[get_column_letter(1)].width = 28
    sheet.column_dimensions[get_column_letter(2)].width = 80
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# The method paragraph -------------------------------------------------------------------

MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
}
NUMBERS = {
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    "nl": ("nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien"),
}
ROLES = {
    "en": {"owner": "researcher", "coder": "rater", "second": "second rater"},
    "nl": {"owner": "onderzoeker", "coder": "beoordelaar", "second": "tweede beoordelaar"},
}
UNIT_PHRASES = {
    "en": {
        "intervention": (
            "per intervention and code: whether each coder gave the intervention that code "
            "(or one of its subcodes)"
        ),
        "word": (
            "per word and code: whether each coder's segments with that code cover the word; "
            "only the sections to be coded count"
        ),
        "character": (
            "per character and code: whether each coder's segments with that code cover the "
            "character; only the sections to be coded count"
        ),
        "segment": (
            "per coded segment: two coders' segments matched when they carried the same code "
            "and overlapped by at least {overlap} of the longer one"
        ),
    },
    "nl": {
        "intervention": (
            "per interventie en code: of elke beoordelaar de interventie die code (of een "
            "subcode ervan) gaf"
        ),
        "word": (
            "per woord en code: of de fragmenten van elke beoordelaar met die code het woord "
            "bevatten; alleen de te coderen secties tellen mee"
        ),
        "character": (
            "per teken en code: of de fragmenten van elke beoordelaar met die code het teken "
            "bevatten; alleen de te coderen secties tellen mee"
        ),
        "segment": (
            "per gecodeerd fragment: fragmenten van twee beoordelaars kwamen overeen als ze "
            "dezelfde code hadden en voor minstens {overlap} van het langste fragment overlapten"
        ),
    },
}
READINGS = {
    "en": {
        "reliable": "indicates reliable coding",
        "tentative": "allows tentative conclusions only",
        "low": "falls below the minimum for acceptable reliability",
    },
    "nl": {
        "reliable": "wijst op betrouwbaar coderen",
        "tentative": "laat alleen voorlopige conclusies toe",
        "low": "ligt onder het minimum voor aanvaardbare betrouwbaarheid",
    },
}
REASONS_NL = {
    "fewer than two pairable values: no unit was coded by two or more coders": (
        "geen eenheid werd door twee of meer beoordelaars gecodeerd"
    ),
    "no variation: every coder used one category for every unit": (
        "er was geen variatie: elke beoordelaar gaf elke eenheid dezelfde categorie"
    ),
    "neither coder made a segment": "geen van de beoordelaars maakte een fragment",
}


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"lang is one of {', '.join(LANGUAGES)}")
    return lang


def _decimal(text: str, lang: str) -> str:
    return text.replace(".", ",") if lang == "nl" else text


def coefficient(value: float, lang: str) -> str:
    """A coefficient APA-style: three decimals without the leading zero (.743, −.120, 1.000)."""
    text = f"{abs(value):.3f}"
    if text.startswith("0."):
        text = text[1:]
    return _decimal(("\u2212" if value < 0 and text.strip(".0") else "") + text, lang)


def percent(value: float, lang: str) -> str:
    return _decimal(f"{100 * value:.1f}", lang) + "%"


def whole(n: int, lang: str) -> str:
    """A count with a thousands separator: 1,000 or 1.000."""
    text = f"{n:,}"
    return text.replace(",", ".") if lang == "nl" else text


def long_date(day: datetime.date, lang: str) -> str:
    return f"{day.day} {MONTHS[lang][day.month - 1]} {day.year}"


def _count_word(n: int, lang: str) -> str:
    return NUMBERS[lang][n] if 0 <= n < len(NUMBERS[lang]) else str(n)


def _join(items: Sequence[str], lang: str) -> str:
    if len(items) < 2:
        return "".join(items)
    head = ", ".join(items[:-1])
    if lang == "nl":
        return f"{head} en {items[-1]}"
    return f"{head}, and {items[-1]}" if len(items) > 2 else f"{head} and {items[-1]}"


def _coders(info: RunInfo, lang: str) -> str:
    roles = ROLES[lang]
    raters = [role for _name, role in info.coders if role != "owner"]
    second = len(raters) == 1 and len(info.coders) == 2
    labels = []
    for name, role in info.coders:
        rater = roles["second"] if second else roles["coder"]
        label = roles["owner"] if role == "owner" else rater
        labels.append(f"{name} ({label})")
    return _join(labels, lang)


def _reason(reason: str, lang: str) -> str:
    return REASONS_NL.get(reason, reason) if lang == "nl" else reason


def _reading(alpha: float) -> str:
    if alpha >= ALPHA_RELIABLE:
        return "reliable"
    if alpha >= ALPHA_TENTATIVE:
        return "tentative"
    return "low"


def method_paragraph(result: dict[str, Any], info: RunInfo, lang: str = "en") -> str:
    """A paragraph for the method section of a thesis, in Dutch ("nl") or English ("en")."""
    lang = _check_lang(lang)
    nl = lang == "nl"
    overall = result.get("overall") or {}
    unit = result.get("unit", "intervention")
    compared = int(result.get("n_interventions", 0))
    total = int(result.get("n_interventions_total") or 0)
    share = f" ({percent(compared / total, lang)})" if total else ""
    n_coders = _count_word(len(info.coders), lang)
    sentences = []
    if nl:
        sentences.append(
            f"Om de interbeoordelaarsbetrouwbaarheid te bepalen, codeerden {n_coders} "
            f"beoordelaars onafhankelijk van elkaar {whole(compared, lang)} van de "
            f"{whole(total, lang)} interventies{share}: {_coders(info, lang)}."
        )
    else:
        sentences.append(
            f"To assess inter-rater reliability, {n_coders} coders independently coded "
            f"{whole(compared, lang)} of the {whole(total, lang)} interventions{share}: "
            f"{_coders(info, lang)}."
        )
    phrase = UNIT_PHRASES[lang][unit].format(overlap=_decimal(f"{100 * info.overlap:g}%", lang))
    version = info.codebook_version
    if nl:
        codebook = (
            f"versie {version[0]} van het codeboek (‘{version[1]}’)"
            if version
            else "het codeboek zoals het op dat moment was (geen benoemde versie)"
        )
        sentences.append(f"De overeenstemming is berekend met {codebook}, {phrase}.")
    else:
        codebook = (
            f"version {version[0]} of the codebook (‘{version[1]}’)"
            if version
            else "the codebook as it stood at the time (no named version)"
        )
        sentences.append(f"Agreement was computed with {codebook}, {phrase}.")

    if unit == "segment":
        sentences.extend(_segment_sentences(overall, lang))
    else:
        sentences.extend(_alpha_sentences(overall, info, lang))
    when = long_date(info.date, lang)
    if nl:
        sentences.append(f"De waarden zijn op {when} berekend met Veerkracht.")
    else:
        sentences.append(f"The figures were computed with Veerkracht on {when}.")
    return " ".join(sentences)


def _alpha_sentences(overall: dict[str, Any], info: RunInfo, lang: str) -> list[str]:
    nl = lang == "nl"
    alpha = overall.get("krippendorff_alpha")
    found: list[str] = []
    if alpha is None:
        reason = _reason(reasons(overall).get("krippendorff_alpha", ""), lang)
        if nl:
            found.append(f"Krippendorffs alfa kon over alle codes niet worden berekend ({reason}).")
        else:
            found.append(f"Krippendorff's alpha could not be computed over all codes ({reason}).")
    else:
        ci = overall.get("alpha_ci95")
        if ci and info.bootstrap:
            low, high = coefficient(ci[0], lang), coefficient(ci[1], lang)
            samples = whole(info.bootstrap, lang)
            interval = (
                f", 95%-BI [{low}; {high}] ({samples} bootstrapsteekproeven)"
                if nl
                else f", 95% CI [{low}, {high}] ({samples} bootstrap samples)"
            )
        else:
            interval = (
                " (zonder bootstrapbetrouwbaarheidsinterval)"
                if nl
                else " (no bootstrap confidence interval was computed)"
            )
        if nl:
            found.append(
                f"Over alle codes samen was Krippendorffs alfa (nominaal) "
                f"α = {coefficient(alpha, lang)}{interval}."
            )
        else:
            found.append(
                f"Over all codes, Krippendorff's alpha (nominal) was "
                f"α = {coefficient(alpha, lang)}{interval}."
            )
    others = []
    agreement = overall.get("percent_agreement")
    if agreement is not None:
        others.append(
            f"de procentuele overeenstemming (Krippendorffs geobserveerde overeenstemming over "
            f"paarbare waarden) {percent(agreement, lang)}"
            if nl
            else f"percent agreement (Krippendorff's observed agreement over pairable values) "
            f"was {percent(agreement, lang)}"
        )
    for key, name_en, name_nl in (
        ("cohen_kappa", "Cohen's kappa", "Cohens kappa"),
        ("fleiss_kappa", "Fleiss' kappa", "Fleiss' kappa"),
    ):
        value = overall.get(key)
        if value is not None:
            coef = coefficient(value, lang)
            others.append(f"{name_nl} κ = {coef}" if nl else f"{name_en} was κ = {coef}")
    if others:
        if nl:
            found.append(f"Daarnaast was {_join(others, lang)}.")
        else:
            text = _join(others, lang)
            found.append(text[0].upper() + text[1:] + ".")
    if alpha is not None:
        reading = READINGS[lang][_reading(alpha)]
        if nl:
            found.append(
                "Volgens Krippendorff (2004) wijst α ≥ ,800 op betrouwbaar coderen en laat "
                f"α ≥ ,667 voorlopige conclusies toe; de gevonden waarde {reading}."
            )
        else:
            found.append(
                "Following Krippendorff (2004), α ≥ .800 indicates reliable coding and "
                f"α ≥ .667 allows tentative conclusions; the value found {reading}."
            )
    return found


def _segment_sentences(overall: dict[str, Any], lang: str) -> list[str]:
    nl = lang == "nl"
    agreement = overall.get("percent_agreement")
    bp = overall.get("brennan_prediger_kappa")
    if agreement is None:
        reason = _reason(reasons(overall).get("percent_agreement", ""), lang)
        if nl:
            return [f"De overeenstemming op fragmenten kon niet worden berekend ({reason})."]
        return [f"Segment agreement could not be computed ({reason})."]
    if nl:
        text = f"Van alle fragmenten kwam {percent(agreement, lang)} overeen"
        if bp is not None:
            text += (
                f"; Brennan en Predigers kappa, met als kanskans één gedeeld door het aantal "
                f"codes in het codeboek, was κ = {coefficient(bp, lang)}"
            )
        return [text + "."]
    text = f"Of all segments, {percent(agreement, lang)} were matched"
    if bp is not None:
        text += (
            f"; Brennan and Prediger's kappa, taking chance agreement as one in the number of "
            f"codes in the codebook, was κ = {coefficient(bp, lang)}"
        )
    return [text + "."]


def method_docx(result: dict[str, Any], info: RunInfo, lang: str = "en") -> bytes:
    """A Word document holding the method paragraph and a table of the per-code figures."""
    lang = _check_lang(lang)
    nl = lang == "nl"
    document = Document()
    style = document.styles["Normal"]
    style.font.size = Pt(11)  # type: ignore[attr-defined]
    document.add_heading(
        "Interbeoordelaarsbetrouwbaarheid" if nl else "Inter-rater reliability", level=2
    )
    document.add_paragraph(xml_text(method_paragraph(result, info, lang)))
    codes = result.get("codes") or {}
    if codes:
        caption = (
            "Overeenstemming per code (Krippendorffs alfa; ‘–’: niet te berekenen)"
            if nl
            else "Agreement per code (Krippendorff's alpha; ‘–’: not computable)"
        )
        if result.get("unit") == "segment":
            caption = (
                "Overeenstemming per code (gematchte fragmenten)"
                if nl
                else "Agreement per code (matched segments)"
            )
        document.add_paragraph(caption).runs[0].italic = True
        headers = (
            ["Code", "n", "% overeenstemming", "α"] if nl else ["Code", "n", "% agreement", "α"]
        )
        grid = document.add_table(rows=1, cols=len(headers))
        for cell, header in zip(grid.rows[0].cells, headers, strict=True):
            cell.text = header
        for path, m in codes.items():
            cells = grid.add_row().cells
            agreement, alpha = m.get("percent_agreement"), m.get("krippendorff_alpha")
            cells[0].text = xml_text(path)
            cells[1].text = whole(int(m.get("n_units") or 0), lang)
            cells[2].text = percent(agreement, lang) if agreement is not None else "–"
            cells[3].text = coefficient(alpha, lang) if alpha is not None else "–"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
