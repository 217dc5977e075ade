"""A run as the pages show it: its row in the list, the measure table, the disagreements and
the confusion matrices, built from the stored result (`coding.agreement.reliability`'s layout)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coding.agreement import exports as agreement_exports
from coding.agreement import metrics as agreement
from coding.agreement.metrics import ALPHA_RELIABLE, ALPHA_TENTATIVE
from coding.agreement.runs import (
    coding_fingerprint,
)
from coding.codebook.outline import display_path_string
from coding.models import AgreementRun, Segment
from coding.sight import visible_ids
from interventions.access import StudyAccess
from interventions.models import Intervention

UNIT_NAMES = {
    "intervention": gettext_lazy("intervention"),
    "word": gettext_lazy("word"),
    "character": gettext_lazy("character"),
    "segment": gettext_lazy("segment"),
}


@dataclass(frozen=True)
class RunRow:
    run: AgreementRun
    alpha: float | None
    alpha_text: str
    flag: str
    flag_text: str
    outdated: bool

    @property
    def coders(self) -> str:
        return ", ".join(self.run.params.get("coders", []))

    @property
    def unit(self) -> str:
        return str(UNIT_NAMES.get(self.run.params.get("unit", ""), self.run.params.get("unit")))


def alpha_flag(value: float | None) -> tuple[str, str]:
    """Krippendorff's levels as a CSS class and a word; nothing for a reliable value."""
    if value is None:
        return "", ""
    if value < ALPHA_TENTATIVE:
        return "flag-low", _("not acceptable")
    if value < ALPHA_RELIABLE:
        return "flag-tentative", _("tentative")
    return "", ""


def figure(value: float, places: int = 3) -> str:
    # number_format cuts a float's digits off; round first so 0.6666 reads 0.667.
    return number_format(round(value, places), decimal_pos=places)


def run_row(run: AgreementRun, fingerprints: dict[tuple[str, ...], str]) -> RunRow:
    overall = (run.result or {}).get("overall") or {}
    alpha = overall.get("krippendorff_alpha")
    flag, flag_text = alpha_flag(alpha)
    outdated = False
    if run.status == AgreementRun.Status.DONE:
        # `is_outdated` for many runs at once: one fingerprint per set of coders.
        key = tuple(run.params.get("coders", []))
        if key not in fingerprints:
            fingerprints[key] = coding_fingerprint(run.study, list(key))
        outdated = fingerprints[key] != run.fingerprint
    return RunRow(run, alpha, figure(alpha) if alpha is not None else "", flag, flag_text, outdated)


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str = ""
    css: str = ""
    flag: str = ""
    reason: str = ""
    note: int | None = None


@dataclass
class MeasureRow:
    label: str
    cells: list[Cell]
    # Whether a chance-corrected coefficient has a value. A code nobody used agrees 100% on
    # its absence and has no coefficient: the report folds such rows away.
    computable: bool = True


def split_computable(rows: list[MeasureRow]) -> tuple[list[MeasureRow], list[MeasureRow]]:
    """The rows with a coefficient, and those without (`MeasureRow.computable`)."""
    return [r for r in rows if r.computable], [r for r in rows if not r.computable]


# Reasons that say a measure does not apply to this comparison, rather than that it came out
# undefined (0/0) on this data.
NOT_APPLICABLE = {
    agreement.COHEN_NEEDS_TWO_CODERS,
    agreement.FLEISS_NEEDS_COMPLETE_DATA,
    "Fleiss' kappa is for three or more coders; see Cohen's kappa",
    agreement_exports.NOT_FOR_SEGMENTS,
    agreement_exports.NOT_FOR_OTHER_UNITS,
}
# Chance-corrected coefficients take Krippendorff's levels; percent agreement does not.
FLAGGED = {"cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "brennan_prediger_kappa"}


class Notes:
    """Numbered footnotes for the reasons a measure is not computable, each reason once."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def number(self, reason: str) -> int:
        if reason not in self.reasons:
            self.reasons.append(reason)
        return self.reasons.index(reason) + 1


def measure_columns(unit: str) -> list[tuple[str, str]]:
    columns = [
        ("n_units", _("n units")),
        ("percent_agreement", _("Percent agreement")),
    ]
    if unit == "segment":
        columns.append(("brennan_prediger_kappa", _("Brennan–Prediger κ")))
    else:
        columns += [
            ("cohen_kappa", _("Cohen's κ")),
            ("fleiss_kappa", _("Fleiss' κ")),
            ("krippendorff_alpha", _("Krippendorff's α")),
            ("alpha_ci95", _("95% CI of α")),
            ("p_below_0667", _("p(α < .667)")),
            ("p_below_0800", _("p(α < .800)")),
        ]
    return columns


def cell(measure: dict[str, Any], key: str, unit: str, notes: Notes) -> Cell:
    value = measure.get(key)
    if key == "n_units":
        n = int(value or 0)
        return Cell(number_format(n, force_grouping=True), sort=str(n))
    if value is None:
        reason = agreement_exports.reason_for(measure, key, unit)
        if key in {"alpha_ci95", "p_below_0667", "p_below_0800"} and reason in {
            agreement_exports.NO_BOOTSTRAP,
            agreement_exports.ALPHA_UNDEFINED,
        }:
            # Not a measure of its own: the alpha column says why.
            return Cell("—", reason=_(reason))
        text = _(reason) if reason else ""
        label = _("not applicable") if reason in NOT_APPLICABLE else _("not computable")
        # A result stored without its reason gets no empty footnote.
        note = notes.number(text) if text else None
        return Cell(label, css="not-computable", reason=text, note=note)
    if key == "alpha_ci95":
        low, high = value
        return Cell(f"[{figure(low)}, {figure(high)}]", sort=repr(low))
    if key == "percent_agreement":
        return Cell(f"{figure(100 * value, 1)}%", sort=repr(value))
    if key in {"p_below_0667", "p_below_0800"}:
        return Cell(figure(value), sort=repr(value))
    css, flag = alpha_flag(value) if key in FLAGGED else ("", "")
    return Cell(figure(value), sort=repr(value), css=css, flag=flag)


def measure_rows(measures: dict[str, dict[str, Any]], unit: str, notes: Notes) -> list[MeasureRow]:
    columns = measure_columns(unit)
    coefficients = [key for key, _label in columns if key in FLAGGED]
    return [
        MeasureRow(
            display_path_string(path),
            [cell(m, key, unit, notes) for key, _label in columns],
            computable=any(m.get(key) is not None for key in coefficients),
        )
        for path, m in measures.items()
    ]


@dataclass(frozen=True)
class Side:
    coder: str
    code: str
    quote: str | None  # None: the segment is gone since the run
    url: str


@dataclass(frozen=True)
class Disagreement:
    title: str
    mine: Side
    other: Side | None
    other_coder: str


def disagreement_rows(
    access: StudyAccess, viewer: User, result: dict[str, Any]
) -> tuple[list[Disagreement], list[tuple[str, str, int]], bool]:
    """The list with quotes, or only counts per pair of coders when a layer is hidden.

    The segments come in one query, the texts' titles in another, whatever the list's length.
    """
    items = result.get("disagreements") or []
    study = access.study
    names = list(result.get("coders") or [])
    ids = dict(get_user_model().objects.filter(username__in=names).values_list("username", "pk"))
    visible = visible_ids(access)
    hidden = any(ids.get(name) not in visible for name in names)
    pairs = Counter(tuple(sorted((d["coder"], d["other_coder"]))) for d in items)
    counts = [(a, b, n) for (a, b), n in sorted(pairs.items())]
    if hidden:
        return [], counts, True
    segment_ids = {d["segment"] for d in items} | {
        d["other_segment"] for d in items if d["other_segment"]
    }
    found = {
        row[0]: row
        for row in Segment.objects.filter(
            pk__in=segment_ids, intervention__study=study, coder_id__in=visible
        ).values_list("pk", "uuid", "quote", "intervention__uuid")
    }
    titles = dict(
        Intervention.objects.filter(study=study, pk__in={d["doc_id"] for d in items}).values_list(
            "pk", "title"
        )
    )

    def side(segment_id: int | None, coder: str, code: str | None, layers: str) -> Side | None:
        if segment_id is None:
            return None
        row = found.get(segment_id)
        path = display_path_string(code or "")
        if row is None:
            return Side(coder, path, None, "")
        _pk, uuid, quote, intervention_uuid = row
        url = reverse("workspace", args=[study.slug, intervention_uuid])
        return Side(coder, path, quote, f"{url}?layers={layers}&segment={uuid}#seg-{uuid}")

    listed = []
    # A pair of segments that are each other's nearest counterpart is one disagreement seen
    # from both sides: list it once.
    seen: set[frozenset[int]] = set()
    for d in items:
        if d["other_segment"] is not None:
            pair = frozenset((d["segment"], d["other_segment"]))
            if pair in seen:
                continue
            seen.add(pair)
        layers = ",".join(
            str(ids[name]) for name in sorted({d["coder"], d["other_coder"]}) if name in ids
        )
        mine = side(d["segment"], d["coder"], d["code"], layers)
        assert mine is not None
        listed.append(
            Disagreement(
                title=titles.get(d["doc_id"], ""),
                mine=mine,
                other=side(d["other_segment"], d["other_coder"], d["other_code"], layers),
                other_coder=d["other_coder"],
            )
        )
    return listed, counts, False


def confusion_tables(result: dict[str, Any]) -> list[dict[str, Any]]:
    coders = result.get("coders") or []
    matrices = []
    for path, matrix in (result.get("confusion") or {}).items():
        labels, counts = matrix.get("labels", []), matrix.get("counts", [])
        matrices.append(
            {
                "path": display_path_string(path),
                "labels": labels,
                "rows": [
                    (label, [(n, i == j) for j, n in enumerate(counts[i])])
                    for i, label in enumerate(labels)
                ],
                "first": coders[0] if len(coders) == 2 else "",
                "second": coders[1] if len(coders) == 2 else "",
            }
        )
    return matrices
