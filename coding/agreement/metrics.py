"""Inter-rater agreement coefficients, on plain data.

Nothing here touches the database: a task loads segments and assignments, turns them into a
reliability matrix with the helpers at the bottom, and calls the coefficients, which return
:class:`Measure` values (a number, or no number and the reason why).

The reliability matrix
    One row per coder, one column per unit (an intervention, a word token or a character).
    A cell holds the category the coder gave that unit: any hashable label (a code's id, "yes",
    True) in a list of lists, with ``None`` where the coder gave no value (not assigned that
    intervention). A numpy array of non-negative integer codes with -1 for "no value" is taken
    as it is; the text-level helpers build those. Labels are only compared for equality (the
    nominal level), and no label means "missing" except ``None``: a code named "nan" is a code.

Pairable values
    A unit coded by fewer than two coders says nothing about agreement. Such units are left
    out of alpha and of percent agreement; the kappas have their own rules (see each).

Undefined measures
    When a coefficient is 0/0 (nobody used a second category, or no unit was coded by two
    coders) it is reported with ``value=None`` and a reason, never as 0, 1 or NaN.

Reason strings are English message ids marked with ``gettext_noop``: a result can be stored
as it is and translated where it is shown, with ``gettext(measure.reason)``. The module imports
only the standard library and numpy.

Offsets are code points into the intervention's NFC text, as everywhere in Veerkracht.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt


def gettext_noop(message: str) -> str:
    """Marks a message for translation without translating it (as Django's, minus settings).

    ``makemessages`` extracts calls by this name whatever module defines it, so the module
    needs neither Django nor configured settings, and a stored reason is translated on display.
    """
    return message


Codes: TypeAlias = npt.NDArray[np.integer]
ReliabilityData: TypeAlias = (
    Sequence[Sequence[Hashable | None]] | npt.NDArray[np.integer] | npt.NDArray[np.bool_]
)
SpanRange: TypeAlias = tuple[int, int]
Coder = TypeVar("Coder", bound=Hashable)

MISSING = -1

NO_PAIRABLE_VALUES = gettext_noop(
    "fewer than two pairable values: no unit was coded by two or more coders"
)
NO_VARIATION = gettext_noop("no variation: every coder used one category for every unit")
COHEN_NEEDS_TWO_CODERS = gettext_noop(
    "Cohen's kappa compares exactly two coders; use Fleiss' kappa or alpha for more"
)
COHEN_NO_COMMON_UNITS = gettext_noop("no unit was coded by both coders")
FLEISS_NEEDS_COMPLETE_DATA = gettext_noop(
    "Fleiss' kappa needs every unit coded by every coder; use alpha with missing data"
)
NEEDS_TWO_CODERS = gettext_noop("needs at least two coders")
FLEISS_NEEDS_THREE_CODERS = gettext_noop(
    "Fleiss' kappa is for three or more coders; see Cohen's kappa"
)
NOT_FOR_SEGMENTS = gettext_noop(
    "not reported for segment matching; see percent agreement and Brennan and Prediger's kappa"
)
NO_UNITS = gettext_noop("no units to compare")
BP_NEEDS_TWO_CODES = gettext_noop(
    "Brennan and Prediger's kappa needs at least two codes to choose from"
)
NO_SEGMENTS = gettext_noop("neither coder made a segment")

RELIABLE = gettext_noop("reliable")
TENTATIVE = gettext_noop("tentative conclusions only")
NOT_ACCEPTABLE = gettext_noop("not acceptable")
NOT_COMPUTABLE = gettext_noop("not computable")

# Krippendorff's (2004, 2011) minimum levels for alpha.
ALPHA_RELIABLE = 0.800
ALPHA_TENTATIVE = 0.667


@dataclass(frozen=True)
class Measure:
    """One coefficient: its value, or ``None`` and the reason it could not be computed."""

    value: float | None
    reason: str = ""

    @property
    def defined(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class BootstrapResult:
    """The bootstrapped distribution of alpha, summarised.

    ``ci95`` is the 2.5th and 97.5th percentile of the bootstrapped alphas;
    ``p_below_0667`` and ``p_below_0800`` are the shares of bootstrapped alphas below
    Krippendorff's two minimum levels (Hayes and Krippendorff call this q, the probability of
    failing to reach the level). All three are ``None``, with a reason, when alpha itself is
    undefined or no samples were asked for; ``samples`` is then 0.
    """

    ci95: tuple[float, float] | None
    p_below_0667: float | None
    p_below_0800: float | None
    samples: int
    reason: str = ""


# --- The reliability matrix -------------------------------------------------------------------


def encode(data: ReliabilityData) -> tuple[Codes, tuple[Hashable, ...]]:
    """The matrix as integer codes (coders x units, -1 = no value), and the label of each code.

    A numpy array of integers (or booleans) is taken to hold codes already: its labels are
    ``0 .. max``. Anything else is read as labels, ``None`` meaning "no value"; a float NaN is
    refused rather than guessed at, because libraries disagree on what it means.
    """
    if isinstance(data, np.ndarray) and data.dtype.kind in "biu":
        if data.ndim != 2:
            raise ValueError("A reliability matrix has two dimensions: coders x units.")
        # Signed codes are used as they are: a character-level matrix of int8 stays one byte a
        # cell (millions of units x coders), and -1 means "no value" in any width.
        codes: Codes = np.asarray(data, dtype=data.dtype if data.dtype.kind == "i" else np.int64)
        if codes.size and codes.min() < MISSING:
            raise ValueError("Integer codes are non-negative, with -1 for no value.")
        top = int(codes.max()) if codes.size else -1
        return codes, tuple(range(top + 1))
    rows = [list(row) for row in data]
    width = len(rows[0]) if rows else 0
    if any(len(row) != width for row in rows):
        raise ValueError("Every coder's row must have one cell per unit.")
    index: dict[Hashable, int] = {}
    codes = np.full((len(rows), width), MISSING, dtype=np.int64)
    for i, row in enumerate(rows):
        for j, label in enumerate(row):
            if label is None:
                continue
            if isinstance(label, float) and label != label:
                raise ValueError("NaN is not a label; use None for a missing value.")
            codes[i, j] = index.setdefault(label, len(index))
    return codes, tuple(index)


@dataclass(frozen=True)
class _Pairable:
    """What alpha and percent agreement need from the units coded by two or more coders."""

    values: int  # n..: pairable values
    pairs: int  # unordered pairs of values within units
    per_category: npt.NDArray[np.int64]  # n_c: pairable values per category
    agreement: float  # the sum of the coincidence matrix's diagonal, o_cc over all c
    # o_cc per category; only the bootstrap needs it, so it is empty unless asked for.
    agreement_by_category: npt.NDArray[np.float64]


# Up to this many categories, one comparison per category counts faster than bincount, which
# first widens a million-cell int8 matrix to 8-byte integers.
_FEW_CATEGORIES = 16


def _category_counts(codes: Codes, categories: int) -> npt.NDArray[np.int64]:
    """How many cells hold each code 0 .. categories - 1 (-1, no value, is never counted)."""
    if categories <= _FEW_CATEGORIES:
        counts = [np.count_nonzero(codes == c) for c in range(categories)]
        return np.array(counts, dtype=np.int64)
    present = codes[codes != MISSING]
    return np.bincount(present.ravel(), minlength=categories).astype(np.int64)


def _grown(array: npt.NDArray[np.int64], size: int) -> npt.NDArray[np.int64]:
    """`array` with its last axis padded with zeros to `size`."""
    if array.shape[-1] >= size:
        return array
    padding = [(0, 0)] * (array.ndim - 1) + [(0, size - array.shape[-1])]
    return np.pad(array, padding)


def _added(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    size = max(a.shape[-1], b.shape[-1])
    return _grown(a, size) + _grown(b, size)


@dataclass(frozen=True)
class PoolSums:
    """Whole-number sums over the units of a reliability matrix, from which alpha, percent
    agreement, both kappas and the bootstrap follow (`measures_from_sums`).

    Being integers, the sums of matrices placed side by side are exactly the sums of each
    matrix added up, in any order: an agreement run split over workers (a block of texts each)
    adds their sums and gets the very numbers of the run computed in one process.
    """

    coders: int
    units: int  # every column
    pairable_units: int  # columns with two or more values
    values: int  # pairable values
    pairs: int  # unordered pairs of values within pairable units
    per_category: npt.NDArray[np.int64]  # pairable values per category
    # agreeing[k]: pairs of coders who gave the same category within units that k coders coded.
    agreeing: npt.NDArray[np.int64]
    # The same per category, [k, category]; only the bootstrap needs it (empty unless asked).
    agreeing_by_category: npt.NDArray[np.int64]
    # [coder, category]: each coder's pairable values; Cohen's kappa needs them (two coders).
    margins: npt.NDArray[np.int64]
    complete: bool  # no value missing anywhere (Fleiss' kappa)

    @classmethod
    def empty(cls, coders: int) -> PoolSums:
        zeros = np.zeros(0, dtype=np.int64)
        return cls(
            coders=coders,
            units=0,
            pairable_units=0,
            values=0,
            pairs=0,
            per_category=zeros,
            agreeing=np.zeros(coders + 1, dtype=np.int64),
            agreeing_by_category=np.zeros((coders + 1, 0), dtype=np.int64),
            margins=np.zeros((coders, 0), dtype=np.int64),
            complete=True,
        )

    def __add__(self, other: PoolSums) -> PoolSums:
        if self.coders != other.coders:
            raise ValueError("Pooled matrices need the same coders in the same rows.")
        return PoolSums(
            coders=self.coders,
            units=self.units + other.units,
            pairable_units=self.pairable_units + other.pairable_units,
            values=self.values + other.values,
            pairs=self.pairs + other.pairs,
            per_category=_added(self.per_category, other.per_category),
            agreeing=self.agreeing + other.agreeing,
            agreeing_by_category=_added(self.agreeing_by_category, other.agreeing_by_category),
            margins=_added(self.margins, other.margins),
            complete=self.complete and other.complete,
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (lists of whole numbers), for a task to hand its sums on."""
        return {
            "coders": self.coders,
            "units": self.units,
            "pairable_units": self.pairable_units,
            "values": self.values,
            "pairs": self.pairs,
            "per_category": self.per_category.tolist(),
            "agreeing": self.agreeing.tolist(),
            "agreeing_by_category": self.agreeing_by_category.tolist(),
            "margins": self.margins.tolist(),
            "complete": self.complete,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PoolSums:
        coders = int(data["coders"])

        def table(rows: list[list[int]], height: int) -> npt.NDArray[np.int64]:
            array = np.array(rows, dtype=np.int64)
            return array if array.size else np.zeros((height, 0), dtype=np.int64)

        return cls(
            coders=coders,
            units=int(data["units"]),
            pairable_units=int(data["pairable_units"]),
            values=int(data["values"]),
            pairs=int(data["pairs"]),
            per_category=np.array(data["per_category"], dtype=np.int64),
            agreeing=np.array(data["agreeing"], dtype=np.int64),
            agreeing_by_category=table(data["agreeing_by_category"], coders + 1),
            margins=table(data["margins"], coders),
            complete=bool(data["complete"]),
        )


def pool_sums(
    codes: Codes, *, by_category: bool = False, weights: npt.NDArray[np.int64] | None = None
) -> PoolSums:
    """The `PoolSums` of one matrix of integer codes (coders x units, -1 = no value).

    `weights` (one whole number per column) counts a column as that many identical units: a
    run of characters that every coder coded alike is one column of the run's length, with
    exactly the sums of the characters one by one.
    """
    coders, units = codes.shape
    sums = PoolSums.empty(coders)
    if units == 0:
        return sums
    w = None if weights is None else np.asarray(weights, dtype=np.int64)

    def tally(mask: npt.NDArray[np.bool_]) -> int:
        """How many units (by weight) `mask` holds; a 2-D mask counts each coder's cells."""
        if w is None:
            return int(np.count_nonzero(mask))
        if mask.ndim == 2:
            return int(mask.sum(axis=0, dtype=np.int64) @ w)
        return int(w[mask].sum(dtype=np.int64))

    def categories_of(cells: Codes, n: int) -> npt.NDArray[np.int64]:
        if w is None:
            return _category_counts(cells, n)
        return np.array([tally(cells == c) for c in range(n)], dtype=np.int64)

    total_units = units if w is None else int(w.sum(dtype=np.int64))
    complete = not (codes == MISSING).any()
    if coders < 2:
        return replace(sums, units=total_units, complete=complete)
    # Character-level matrices have millions of units: rows are combined one by one in small
    # integer types, and nothing of the size of the matrix is widened to floats.
    present = codes != MISSING
    counter = np.int16 if coders < 256 else np.int32
    per_unit: npt.NDArray[np.integer] | None = None
    if complete:
        values = coders * total_units
        pairs = total_units * coders * (coders - 1) // 2
        pairable_units = total_units
    else:
        per_unit = present[0].astype(counter)
        for row in present[1:]:
            per_unit += row
        keep = per_unit >= 2
        if not keep.all():
            # A unit coded by one coder is unpairable: its value leaves the category counts.
            codes = np.where(keep, codes, MISSING).astype(codes.dtype, copy=False)
            per_unit = np.where(keep, per_unit, 0).astype(counter, copy=False)
        by_k = {k: tally(per_unit == k) for k in range(2, coders + 1)}
        values = sum(k * n for k, n in by_k.items())
        pairable_units = sum(by_k.values())
        pairs = sum(k * (k - 1) // 2 * n for k, n in by_k.items())
    categories = max(int(codes.max()) + 1, 0)
    per_category = categories_of(codes, categories)

    # o_cc = sum over units of n_uc (n_uc - 1) / (m_u - 1): every ordered pair of coders who gave
    # a unit the same category adds 1 / (m_u - 1). The pairs are counted here per m_u, in whole
    # numbers; the weights come in `_stats`. Looping over coder pairs keeps memory at one row of
    # units, whatever the number of categories.
    agreeing_units: npt.NDArray[np.integer] = np.zeros(units, dtype=counter)
    for i in range(coders):
        for j in range(i + 1, coders):
            same = codes[i] == codes[j]
            if per_unit is not None:
                same &= present[i]
                same &= present[j]
            agreeing_units += same
    if w is not None:
        agreeing_units = agreeing_units.astype(np.int64) * w
    agreeing = np.zeros(coders + 1, dtype=np.int64)
    if per_unit is None:
        agreeing[coders] = int(agreeing_units.sum(dtype=np.int64))
    else:
        for k in range(2, coders + 1):
            agreeing[k] = int(np.sum(agreeing_units, where=per_unit == k, dtype=np.int64))

    by_code = np.zeros((coders + 1, 0), dtype=np.int64)
    if by_category:
        by_code = np.zeros((coders + 1, categories), dtype=np.int64)

        def counted(chosen: npt.NDArray[np.bool_], row: Codes) -> npt.NDArray[np.int64]:
            weight = None if w is None else w[chosen]
            found = np.bincount(row[chosen], weights=weight, minlength=categories)
            return np.rint(found).astype(np.int64)

        for i in range(coders):
            for j in range(i + 1, coders):
                same = (codes[i] == codes[j]) & present[i] & present[j]
                if per_unit is None:
                    by_code[coders] += counted(same, codes[i])
                    continue
                for k in range(2, coders + 1):
                    by_code[k] += counted(same & (per_unit == k), codes[i])
    margins = np.zeros((coders, 0), dtype=np.int64)
    if coders == 2:
        margins = np.stack([categories_of(codes[r], categories) for r in range(2)])
    return PoolSums(
        coders=coders,
        units=total_units,
        pairable_units=pairable_units,
        values=values,
        pairs=pairs,
        per_category=per_category,
        agreeing=agreeing,
        agreeing_by_category=by_code,
        margins=margins,
        complete=complete,
    )


def _stats(sums: PoolSums) -> _Pairable:
    """The weighted coincidences alpha and percent agreement take, from whole-number sums."""
    weights = [2.0 / (k - 1) if k >= 2 else 0.0 for k in range(sums.coders + 1)]
    agreement = sum(weights[k] * int(sums.agreeing[k]) for k in range(2, sums.coders + 1))
    by_category = np.zeros(0)
    if sums.agreeing_by_category.size:
        by_category = np.zeros(sums.agreeing_by_category.shape[1], dtype=np.float64)
        for k in range(2, sums.coders + 1):
            by_category += weights[k] * sums.agreeing_by_category[k]
    return _Pairable(sums.values, sums.pairs, sums.per_category, agreement, by_category)


def _pairable(codes: Codes, *, by_category: bool = False) -> _Pairable:
    return _stats(pool_sums(codes, by_category=by_category))


def _expected_disagreement(stats: _Pairable) -> float:
    """D_e for nominal data: the chance that two values drawn from the pool differ."""
    n = float(stats.values)
    same = float((stats.per_category.astype(np.float64) ** 2).sum())
    return (n * n - same) / (n * (n - 1))


# --- Coefficients -----------------------------------------------------------------------------


def percent_agreement(data: ReliabilityData) -> Measure:
    """The share of agreeing pairs of values within units (Krippendorff's 1 - D_o).

    Every unit coded by m >= 2 coders holds m(m-1) ordered pairs of values; each pair is
    weighted 1/(m-1) so that every value counts once, as in Krippendorff's coincidence matrix.
    With two coders and no missing values this is the plain share of units on which they agree.
    Units coded by one coder are left out. Other tools define agreement with missing values
    differently: on Krippendorff's 4 x 12 example this gives 0.800, the mean of each unit's
    share of agreeing pairs gives 0.818, and counting unweighted pairs gives 0.782.
    """
    codes, _ = encode(data)
    return _percent_from(_pairable(codes))


def _percent_from(stats: _Pairable) -> Measure:
    if stats.values == 0:
        return Measure(None, NO_PAIRABLE_VALUES)
    return Measure(stats.agreement / stats.values)


def _alpha_from(stats: _Pairable) -> Measure:
    if stats.values < 2:
        return Measure(None, NO_PAIRABLE_VALUES)
    if np.count_nonzero(stats.per_category) < 2:
        return Measure(None, NO_VARIATION)
    observed = 1.0 - stats.agreement / stats.values
    return Measure(1.0 - observed / _expected_disagreement(stats))


def krippendorff_alpha(data: ReliabilityData) -> Measure:
    """Krippendorff's alpha for nominal data: 1 - observed / expected disagreement.

    Observed disagreement D_o is the share of disagreeing pairs of values within units (see
    :func:`percent_agreement`); expected disagreement D_e is the share of disagreeing pairs
    among all pairable values pooled, whoever coded them. Any number of coders, missing
    values allowed; units coded by one coder are unpairable and left out. Undefined when fewer
    than two values are pairable or all pairable values fall in one category (D_e = 0).
    """
    codes, _ = encode(data)
    stats = _pairable(codes)
    return _alpha_from(stats)


def cohen_kappa(data: ReliabilityData) -> Measure:
    """Cohen's kappa for exactly two coders: (p_o - p_e) / (1 - p_e).

    p_o is the share of units on which both coders agree; p_e the agreement expected if each
    coder kept their own category frequencies but assigned them at random. Only units coded by
    both coders count. Undefined when p_e = 1 (both coders used one and the same category).
    """
    codes, _ = encode(data)
    if codes.shape[0] != 2:
        return Measure(None, COHEN_NEEDS_TWO_CODERS)
    both = (codes[0] != MISSING) & (codes[1] != MISSING)
    a, b = codes[0][both], codes[1][both]
    n = int(a.size)
    if n == 0:
        return Measure(None, COHEN_NO_COMMON_UNITS)
    categories = int(max(a.max(), b.max())) + 1
    # Whole numbers until the last step: p_e = 1 is then an exact test.
    agree = int(np.count_nonzero(a == b))
    chance = int((_category_counts(a, categories) * _category_counts(b, categories)).sum())
    if chance == n * n:
        return Measure(None, NO_VARIATION)
    return Measure((agree * n - chance) / (n * n - chance))


def fleiss_kappa(data: ReliabilityData) -> Measure:
    """Fleiss' kappa for two or more coders who all coded every unit.

    P-bar is the mean, over units, of the share of agreeing pairs of coders; P-bar_e is the sum
    of the squared overall category proportions. kappa = (P-bar - P-bar_e) / (1 - P-bar_e).
    Not applicable when any coder lacks a value for any unit (use alpha); undefined when every
    value falls in one category.
    """
    codes, _ = encode(data)
    coders, units = codes.shape
    if coders < 2:
        return Measure(None, NEEDS_TWO_CODERS)
    if units == 0:
        return Measure(None, NO_UNITS)
    if (codes == MISSING).any():
        return Measure(None, FLEISS_NEEDS_COMPLETE_DATA)
    agreeing_pairs = 0
    for i in range(coders):
        for j in range(i + 1, coders):
            agreeing_pairs += int(np.count_nonzero(codes[i] == codes[j]))
    observed = agreeing_pairs / (units * coders * (coders - 1) / 2)
    totals = _category_counts(codes, int(codes.max()) + 1).astype(np.float64)
    if np.count_nonzero(totals) < 2:
        return Measure(None, NO_VARIATION)
    chance = float(((totals / totals.sum()) ** 2).sum())
    return Measure((observed - chance) / (1.0 - chance))


def brennan_prediger_kappa(observed_agreement: float, n_categories: int) -> Measure:
    """Brennan and Prediger's (1981) kappa: agreement corrected for 1/q chance agreement.

    q is the number of codes a coder could choose from (the codebook's, or the family's), not
    the number that happened to be used, so the coefficient does not depend on how the coders
    spread their codes. kappa = (p_o - 1/q) / (1 - 1/q).
    """
    if not 0.0 <= observed_agreement <= 1.0:
        raise ValueError("Observed agreement is a share between 0 and 1.")
    if n_categories < 2:
        return Measure(None, BP_NEEDS_TWO_CODES)
    chance = 1.0 / n_categories
    return Measure((observed_agreement - chance) / (1.0 - chance))


def interpret_alpha(value: float | None) -> str:
    """Krippendorff's reading of alpha: >= .800 reliable; .667 to .800 tentative; below: not."""
    if value is None:
        return NOT_COMPUTABLE
    if value >= ALPHA_RELIABLE:
        return RELIABLE
    if value >= ALPHA_TENTATIVE:
        return TENTATIVE
    return NOT_ACCEPTABLE


# --- Bootstrap --------------------------------------------------------------------------------


def bootstrap_alpha(
    data: ReliabilityData, samples: int = 1000, seed: int | None = None
) -> BootstrapResult:
    """A bootstrapped distribution of nominal alpha, after Hayes and Krippendorff (2007).

    Their algorithm keeps the expected disagreement D_e of the data and resamples the observed
    disagreement: each sample draws M pairs of values, with replacement, from the observed
    coincidences (a pair of categories c, k drawn with probability o_ck / n..) and computes
    alpha = 1 - (share of disagreeing pairs drawn) / D_e, floored at -1. A sample whose pairs
    all fall in one diagonal cell has no variation and counts as alpha 0, as in their macro.

    For nominal data only "agree in category c" versus "disagree" matters, so one multinomial
    draw per sample over the diagonal cells plus one cell for all disagreements gives exactly
    the distribution of their cell-by-cell draws, at a cost that does not grow with M.

    Two choices differ from Hayes's SPSS macro (KALPHA 3.0), so its intervals are not
    reproduced digit for digit: M is the number of pairable value pairs in the data,
    sum over units of m_u(m_u - 1)/2, without the macro's cap of 25 draws per non-empty
    coincidence cell (a limit on SPSS's running time; it would give a big data set the
    interval of a small one); and no-variation samples are found exactly instead of replacing
    an expected number of alpha = 1 samples. The interval takes the macro's order statistics:
    the (floor(0.025 X))th and (floor(0.975 X) + 1)th of X sorted samples.
    """
    if samples < 1:
        return BootstrapResult(None, None, None, 0, gettext_noop("no bootstrap samples asked"))
    codes, _ = encode(data)
    return _bootstrap_from(_pairable(codes, by_category=True), samples, seed)


def _bootstrap_from(stats: _Pairable, samples: int, seed: int | None) -> BootstrapResult:
    if samples < 1:
        return BootstrapResult(None, None, None, 0, gettext_noop("no bootstrap samples asked"))
    if stats.values < 2:
        return BootstrapResult(None, None, None, 0, NO_PAIRABLE_VALUES)
    if np.count_nonzero(stats.per_category) < 2:
        return BootstrapResult(None, None, None, 0, NO_VARIATION)
    expected = _expected_disagreement(stats)
    diagonal = stats.agreement_by_category / stats.values
    cells = np.append(diagonal, max(0.0, 1.0 - float(diagonal.sum())))
    cells = np.clip(cells, 0.0, None)
    cells /= cells.sum()
    draws = stats.pairs
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(draws, cells, size=samples)
    alphas = 1.0 - counts[:, -1] / (draws * expected)
    alphas = np.maximum(alphas, -1.0)
    alphas[(counts[:, :-1] == draws).any(axis=1)] = 0.0
    alphas.sort()
    low = alphas[max(int(0.025 * samples), 1) - 1]
    high = alphas[min(int(0.975 * samples) + 1, samples) - 1]
    return BootstrapResult(
        ci95=(float(low), float(high)),
        p_below_0667=float(np.count_nonzero(alphas < ALPHA_TENTATIVE)) / samples,
        p_below_0800=float(np.count_nonzero(alphas < ALPHA_RELIABLE)) / samples,
        samples=samples,
    )


# --- Pooling -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PooledResult:
    """The measures of several matrices taken as one (their units side by side)."""

    percent_agreement: Measure
    krippendorff_alpha: Measure
    cohen_kappa: Measure
    fleiss_kappa: Measure
    bootstrap: BootstrapResult
    units: int


def pooled_measures(
    matrices: Sequence[ReliabilityData],
    *,
    bootstrap: int = 0,
    seed: int | None = None,
) -> PooledResult:
    """Every measure of the matrices placed side by side, without building that matrix.

    The results equal those of ``np.concatenate(matrices, axis=1)`` (same coders in the same
    rows, integer codes meaning the same categories in every matrix): alpha, percent
    agreement and the bootstrap need only sums over units, and so do Cohen's and Fleiss'
    kappa. For a character-level "overall" of every code this keeps memory and time linear.
    """
    encoded = [encode(m)[0] for m in matrices]
    if len({c.shape[0] for c in encoded}) > 1:
        raise ValueError("Pooled matrices need the same coders in the same rows.")
    total = PoolSums.empty(encoded[0].shape[0] if encoded else 0)
    for codes in encoded:
        total = total + pool_sums(codes, by_category=bootstrap > 0)
    return measures_from_sums(total, bootstrap=bootstrap, seed=seed)


def measures_from_sums(
    sums: PoolSums, *, bootstrap: int = 0, seed: int | None = None
) -> PooledResult:
    """Every measure from the sums of one or more matrices (see `PoolSums`)."""
    stats = _stats(sums)
    return PooledResult(
        percent_agreement=_percent_from(stats),
        krippendorff_alpha=_alpha_from(stats),
        cohen_kappa=_pooled_cohen(sums)
        if sums.coders == 2
        else Measure(None, COHEN_NEEDS_TWO_CODERS),
        fleiss_kappa=_pooled_fleiss(sums),
        bootstrap=_bootstrap_from(stats, bootstrap, seed)
        if bootstrap > 0
        else BootstrapResult(None, None, None, 0, gettext_noop("no bootstrap samples asked")),
        units=sums.units,
    )


def _pooled_cohen(sums: PoolSums) -> Measure:
    # With two coders the pairable units are those both coded; agreeing[2] counts the agreeing.
    n = sums.pairable_units
    if n == 0:
        return Measure(None, COHEN_NO_COMMON_UNITS)
    agree = int(sums.agreeing[2])
    chance = int((sums.margins[0] * sums.margins[1]).sum(dtype=np.int64))
    if chance == n * n:
        return Measure(None, NO_VARIATION)
    return Measure((agree * n - chance) / (n * n - chance))


def _pooled_fleiss(sums: PoolSums) -> Measure:
    coders, units = sums.coders, sums.units
    if coders < 2:
        return Measure(None, NEEDS_TWO_CODERS)
    if units == 0:
        return Measure(None, NO_UNITS)
    if not sums.complete:
        return Measure(None, FLEISS_NEEDS_COMPLETE_DATA)
    # Complete data: every unit is pairable and every pair of coders is counted at k = coders.
    observed = int(sums.agreeing[coders]) / (units * coders * (coders - 1) / 2)
    summed = sums.per_category.astype(np.float64)
    if np.count_nonzero(summed) < 2:
        return Measure(None, NO_VARIATION)
    chance = float(((summed / summed.sum()) ** 2).sum())
    return Measure((observed - chance) / (1.0 - chance))


# --- Segment matching -------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A coded segment: ``code`` applied by ``coder`` to code points ``start`` to ``end``."""

    code: str
    start: int
    end: int
    coder: str

    def __post_init__(self) -> None:
        if self.start < 0 or self.start >= self.end:
            raise ValueError("A span needs 0 <= start < end.")

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class MatchResult:
    """Which segments of two coders match one to one, and the share that do."""

    pairs: tuple[tuple[Span, Span], ...]
    unmatched_a: tuple[Span, ...]
    unmatched_b: tuple[Span, ...]
    percent_agreement: Measure


def segment_matches(a: Sequence[Span], b: Sequence[Span], min_overlap: float = 0.9) -> MatchResult:
    """Match coder A's segments to coder B's, one to one.

    Two segments match when they carry the same code and their overlap covers at least
    ``min_overlap`` of the LONGER of the two. Measuring against the longer segment makes the
    test symmetric (A against B gives what B against A gives) and keeps a sentence from
    matching the whole paragraph around it: at 90% the two must nearly coincide. Where a
    segment could match several, pairs are taken greedily by largest overlap (ties in the
    order given), so each segment is used at most once.

    ``percent_agreement`` is 2 x matched pairs / (segments of A + segments of B); feed it to
    :func:`brennan_prediger_kappa` with the number of codes for the chance-corrected value.
    Spans are compared by offsets only, so call this per intervention.
    """
    if not 0.0 < min_overlap <= 1.0:
        raise ValueError("The minimum overlap is a share above 0 and at most 1.")
    # Overlap >= p * longer implies the other segment starts no more than (1 - p) / p times
    # this one's length before it; that bounds the candidates found by bisection (with one
    # code point to spare against rounding; every candidate is then tested exactly).
    reach = (1.0 - min_overlap) / min_overlap
    by_code: dict[str, list[int]] = defaultdict(list)
    for j, span in enumerate(b):
        by_code[span.code].append(j)
    starts: dict[str, list[int]] = {}
    for code, indexes in by_code.items():
        indexes.sort(key=lambda j: b[j].start)
        starts[code] = [b[j].start for j in indexes]

    candidates: list[tuple[int, int, int]] = []
    for i, span in enumerate(a):
        same_code = by_code.get(span.code)
        if not same_code:
            continue
        first = bisect.bisect_left(starts[span.code], span.start - reach * span.length - 1)
        last = bisect.bisect_left(starts[span.code], span.end)
        for j in same_code[first:last]:
            other = b[j]
            overlap = min(span.end, other.end) - max(span.start, other.start)
            # A relative tolerance, so 63 of 70 characters counts as 90% despite 0.9 * 70 > 63.
            if overlap > 0 and overlap >= min_overlap * max(span.length, other.length) * (
                1 - 1e-12
            ):
                candidates.append((-overlap, i, j))
    candidates.sort()

    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs: list[tuple[Span, Span]] = []
    for _, i, j in candidates:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pairs.append((a[i], b[j]))
    total = len(a) + len(b)
    agreement = Measure(2 * len(pairs) / total) if total else Measure(None, NO_SEGMENTS)
    return MatchResult(
        pairs=tuple(pairs),
        unmatched_a=tuple(s for i, s in enumerate(a) if i not in used_a),
        unmatched_b=tuple(s for j, s in enumerate(b) if j not in used_b),
        percent_agreement=agreement,
    )


# --- Text-level units -------------------------------------------------------------------------

# A word is a run of word characters; combining marks count as part of the word, so a letter
# with a separate accent (not composed by NFC) does not split it. Emoji and punctuation are no
# words.
_WORD = re.compile(r"[\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def _merged(ranges: Sequence[SpanRange], limit: int | None = None) -> list[SpanRange]:
    merged: list[SpanRange] = []
    for start, end in sorted(ranges):
        if start < 0 or start > end or (limit is not None and end > limit):
            raise ValueError("A coded range needs 0 <= start <= end <= the text's length.")
        if start == end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def token_units(text: str, coded_ranges: Sequence[SpanRange]) -> list[SpanRange]:
    """The word tokens of the coded (not excluded) parts of ``text``, as code-point spans.

    A word is a run of Unicode word characters (letters, digits, underscore) with any
    combining marks. A word cut by the edge of a coded range is cut there too: only the part
    inside counts. Uncoded text gives no units, so long stretches nobody could code do not
    inflate agreement.
    """
    units: list[SpanRange] = []
    for start, end in _merged(coded_ranges, len(text)):
        units.extend(match.span() for match in _WORD.finditer(text, start, end))
    return units


def character_ranges(coded_ranges: Sequence[SpanRange]) -> list[SpanRange]:
    """The coded ranges merged and in order: the ranges whose characters are units."""
    return _merged(coded_ranges)


def character_units(coded_ranges: Sequence[SpanRange]) -> npt.NDArray[np.int64]:
    """Every character of the coded ranges as a unit: an array of (i, i + 1) rows.

    All characters count, spaces and punctuation included, as in other tools' character-level
    figures; text outside the coded ranges does not.
    """
    merged = _merged(coded_ranges)
    if not merged:
        return np.zeros((0, 2), dtype=np.int64)
    positions = np.concatenate([np.arange(s, e, dtype=np.int64) for s, e in merged])
    return np.stack([positions, positions + 1], axis=1)


def presence_matrix(
    units: Sequence[SpanRange] | npt.NDArray[np.integer],
    coder_spans: Mapping[Coder, Sequence[SpanRange]],
    assigned: Mapping[Coder, bool],
) -> npt.NDArray[np.int8]:
    """Whether each coder applied one code to each unit: 1 yes, 0 no, -1 not assigned.

    Rows follow the order of ``assigned`` (every coder in the comparison); columns follow
    ``units`` (tokens or characters, in any order). A coder's value for a unit is 1 when any of
    their spans of the code overlaps it (for a character unit: covers it), 0 otherwise, and -1
    when the coder was not assigned the intervention. For a parent code, pass the spans of the
    parent and all its subcodes together. When calling this once per code, pass ``units`` as a
    numpy array (``np.asarray(token_units(...))``) so the list is not converted on every call.
    """
    bounds = np.asarray(units, dtype=np.int64).reshape(-1, 2)
    unit_starts, unit_ends = bounds[:, 0], bounds[:, 1]
    matrix = np.full((len(assigned), len(bounds)), MISSING, dtype=np.int8)
    for row, (coder, is_assigned) in enumerate(assigned.items()):
        if not is_assigned:
            continue
        spans = np.asarray(coder_spans.get(coder, ()), dtype=np.int64).reshape(-1, 2)
        spans = spans[spans[:, 0] < spans[:, 1]]
        if not len(spans):
            matrix[row] = 0
            continue
        spans = spans[np.argsort(spans[:, 0], kind="stable")]
        # The spans starting before a unit ends are a prefix of the sorted spans; one of them
        # overlaps the unit exactly when the furthest end among them lies past the unit's start.
        furthest_end = np.maximum.accumulate(spans[:, 1])
        last = np.searchsorted(spans[:, 0], unit_ends, side="left") - 1
        hit = (last >= 0) & (furthest_end[np.maximum(last, 0)] > unit_starts)
        matrix[row] = hit.astype(np.int8)
    return matrix
