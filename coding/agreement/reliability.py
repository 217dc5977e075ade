"""From coded segments to agreement figures: the units, the matrices, the measures.

Plain data in (coders, texts, codes, segments, assignments), a JSON-ready report out; no ORM,
so it is tested without a database and a run stores exactly what this returns. The
coefficients themselves live in `coding/agreement.py`.

Definitions, also stated on the report page:
- A coder's data for an intervention count only when it was assigned to them; otherwise the
  coder's value is missing, not "no code".
- Only interventions assigned to at least two of the compared coders are units of comparison.
- A code's figures count its subcodes' segments as its own (a parent aggregates its subcodes).
- A code family is a code with two or more subcodes; per unit a coder's category is the subcode
  they used there, "none", or the combination when they used several.
- Text units (word tokens or characters) come from the coded sections only: text in sections
  marked "not coded" is no unit, so it cannot inflate agreement.
- "Overall" pools every leaf code's units: one unit per (unit, code) pair, present or absent.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import numpy.typing as npt

from coding.agreement import metrics as agreement
from coding.agreement.metrics import MISSING, Measure, Span
from coding.codebook.tree import subtree_ids

UNITS = ("intervention", "word", "character", "segment")
DISAGREEMENT_LIMIT = 500


@dataclass(frozen=True)
class CodeInfo:
    id: int
    path: tuple[str, ...]
    parent_id: int | None


@dataclass(frozen=True)
class DocInfo:
    id: int
    title: str
    text: str
    # Code-point ranges that may be coded: everything but sections marked "not coded".
    coded_ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class SegInfo:
    id: int
    doc_id: int
    coder: str
    code_id: int
    start: int
    end: int


@dataclass
class ReliabilityInput:
    coders: list[str]
    docs: list[DocInfo]
    codes: list[CodeInfo]
    segments: list[SegInfo]
    assigned: dict[str, set[int]] = field(default_factory=dict)


def path_string(path: Sequence[str]) -> str:
    return " > ".join(path)


class _Tree:
    def __init__(self, codes: Sequence[CodeInfo]) -> None:
        self.codes = {c.id: c for c in codes}
        self.children: dict[int | None, list[int]] = defaultdict(list)
        for code in sorted(codes, key=lambda c: c.path):
            self.children[code.parent_id].append(code.id)
        self.subtree = {
            code.id: subtree_ids(code.id, lambda pk: self.children.get(pk, [])) for code in codes
        }
        self.leaves = [c.id for c in sorted(codes, key=lambda c: c.path) if not self.children[c.id]]
        self.families = [
            c.id for c in sorted(codes, key=lambda c: c.path) if len(self.children[c.id]) >= 2
        ]

    def path(self, code_id: int) -> str:
        return path_string(self.codes[code_id].path)


def _row(sums: agreement.PoolSums, *, bootstrap: int, seed: int | None) -> dict[str, Any]:
    """A report row: the measures of the sums of one code's (or family's) blocks."""
    coders = sums.coders
    pooled = agreement.measures_from_sums(sums, bootstrap=bootstrap, seed=seed)
    measures: dict[str, Measure] = {
        "percent_agreement": pooled.percent_agreement,
        "cohen_kappa": pooled.cohen_kappa
        if coders == 2
        else Measure(None, agreement.COHEN_NEEDS_TWO_CODERS),
        "fleiss_kappa": pooled.fleiss_kappa
        if coders >= 3
        else Measure(None, agreement.FLEISS_NEEDS_THREE_CODERS),
        "krippendorff_alpha": pooled.krippendorff_alpha,
    }
    result: dict[str, Any] = {"n_units": sums.pairable_units}
    result.update({name: m.value for name, m in measures.items()})
    result["reasons"] = {name: m.reason for name, m in measures.items() if m.value is None}
    result["alpha_ci95"] = None
    boot = pooled.bootstrap
    if bootstrap > 0 and measures["krippendorff_alpha"].value is not None and boot.ci95:
        result["alpha_ci95"] = [boot.ci95[0], boot.ci95[1]]
        result["p_below_0667"] = boot.p_below_0667
        result["p_below_0800"] = boot.p_below_0800
    result["interpretation"] = agreement.interpret_alpha(result["krippendorff_alpha"])
    return result


Weights = list[npt.NDArray[np.int64] | None]


def _sums(blocks: Blocks, coders: int, by_category: bool, weights: Weights) -> agreement.PoolSums:
    total = agreement.PoolSums.empty(coders)
    for block, weight in zip(blocks, weights, strict=True):
        total = total + agreement.pool_sums(block, by_category=by_category, weights=weight)
    return total


class _Data:
    """Segments indexed for the matrix builders."""

    def __init__(self, data: ReliabilityInput, min_overlap: float) -> None:
        self.min_overlap = min_overlap
        self.coders = list(data.coders)
        self.tree = _Tree(data.codes)
        self.docs = [
            d
            for d in data.docs
            if sum(d.id in data.assigned.get(c, set()) for c in self.coders) >= 2
        ]
        self.assigned = data.assigned
        self.spans: dict[tuple[int, str, int], list[tuple[int, int]]] = defaultdict(list)
        self.segments = [
            s for s in data.segments if s.coder in self.coders and s.code_id in self.tree.codes
        ]
        self.by_doc_coder: dict[tuple[int, str], list[SegInfo]] = defaultdict(list)
        for seg in self.segments:
            self.spans[(seg.doc_id, seg.coder, seg.code_id)].append((seg.start, seg.end))
            self.by_doc_coder[(seg.doc_id, seg.coder)].append(seg)

    def is_assigned(self, doc_id: int, coder: str) -> bool:
        return doc_id in self.assigned.get(coder, set())

    def spans_of(self, doc_id: int, coder: str, code_ids: Iterable[int]) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        for code_id in code_ids:
            found.extend(self.spans.get((doc_id, coder, code_id), ()))
        return found


def _character_runs(data: _Data, doc: DocInfo) -> tuple[Any, npt.NDArray[np.int64]]:
    """The coded characters of a text as runs no segment starts or ends inside: each run's
    first character stands for the run, weighted by its length. Every coder's value is the
    same for every character of a run, so the sums are those of the characters one by one, at
    the cost of the segments rather than of the characters."""
    cuts = {
        edge
        for coder in data.coders
        for seg in data.by_doc_coder.get((doc.id, coder), ())
        for edge in (seg.start, seg.end)
    }
    firsts: list[int] = []
    lengths: list[int] = []
    for start, end in agreement.character_ranges(doc.coded_ranges):
        points = sorted({start, end, *(c for c in cuts if start < c < end)})
        firsts.extend(points[:-1])
        lengths.extend(b - a for a, b in itertools.pairwise(points))
    units = np.array(firsts, dtype=np.int64)
    return np.stack([units, units + 1], axis=1), np.array(lengths, dtype=np.int64)


def _units(data: _Data, doc: DocInfo, unit: str) -> npt.NDArray[np.int64]:
    if unit == "word":
        return np.asarray(agreement.token_units(doc.text, doc.coded_ranges), dtype=np.int64)
    return agreement.character_units(doc.coded_ranges)


Blocks = list[npt.NDArray[np.integer]]
# A family's categories are bit masks of its subcodes; beyond this many subcodes the masks
# would no longer be a sensible set of categories to compare.
MAX_FAMILY_SIZE = 16


def _presence(data: _Data, unit: str, code_ids: set[int], units_by_doc: dict[int, Any]) -> Blocks:
    """Coders x units, 1/0/-1, for one code (with its subcodes), one block per compared text.

    The blocks are never put side by side: the measures pool their sums, so a character-level
    corpus is handled a text at a time and time grows linearly with the corpus.
    """
    blocks: Blocks = []
    for doc in data.docs:
        if unit == "intervention":
            column = np.full((len(data.coders), 1), MISSING, dtype=np.int8)
            for row, coder in enumerate(data.coders):
                if data.is_assigned(doc.id, coder):
                    column[row, 0] = 1 if data.spans_of(doc.id, coder, code_ids) else 0
            blocks.append(column)
            continue
        blocks.append(
            agreement.presence_matrix(
                units_by_doc[doc.id].reshape(-1, 2),
                {c: data.spans_of(doc.id, c, code_ids) for c in data.coders},
                {c: data.is_assigned(doc.id, c) for c in data.coders},
            )
        )
    if unit == "intervention" and blocks:
        return [np.concatenate(blocks, axis=1)]
    return blocks or [np.zeros((len(data.coders), 0), dtype=np.int8)]


def _family_blocks(data: _Data, family_id: int, per_code: dict[int, Blocks]) -> Blocks:
    """Per unit, which subcodes of the family a coder used, as a bit mask (0 = none)."""
    children = data.tree.children[family_id]
    blocks: Blocks = []
    for index, first in enumerate(per_code[children[0]]):
        masks = np.zeros(first.shape, dtype=np.int32)
        for bit, child in enumerate(children):
            masks |= (per_code[child][index] == 1).astype(np.int32) << bit
        masks[first == MISSING] = MISSING
        blocks.append(masks)
    return blocks


def _family_label(tree: _Tree, family_id: int, mask: int) -> str:
    children = tree.children[family_id]
    names = [tree.codes[c].path[-1] for bit, c in enumerate(children) if mask >> bit & 1]
    return " + ".join(names) or "—"


def _confusion_counts(blocks: Blocks, weights: Weights) -> dict[tuple[int, int], int]:
    """How often each pair of categories (bit masks) was given to one unit by two coders."""
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for block, weight in zip(blocks, weights, strict=True):
        width = int(block.max()) + 1 if block.size else 1
        for i, j in combinations(range(block.shape[0]), 2):
            both = (block[i] != MISSING) & (block[j] != MISSING)
            pairs = block[i][both].astype(np.int64) * width + block[j][both]
            if weight is None:
                values, numbers = np.unique(pairs, return_counts=True)
            else:
                values, inverse = np.unique(pairs, return_inverse=True)
                found = np.bincount(inverse, weights=weight[both], minlength=len(values))
                numbers = np.rint(found).astype(np.int64)
            for value, number in zip(values.tolist(), numbers.tolist(), strict=True):
                counts[divmod(value, width)] += number
    return counts


def _confusion(tree: _Tree, family_id: int, counts: dict[tuple[int, int], int]) -> dict[str, Any]:
    """Category pairs over every pair of coders who both coded a unit."""
    used = sorted({k for pair in counts for k in pair})
    return {
        "labels": [_family_label(tree, family_id, k) for k in used],
        "counts": [[counts.get((a, b), 0) for b in used] for a in used],
    }


def _segment_counts(data: _Data, code_filter: set[int] | None) -> tuple[int, int]:
    """Matched segments and all segments, across every pair of coders and compared text."""
    matched = total = 0
    for doc in data.docs:
        for a, b in combinations(data.coders, 2):
            if not (data.is_assigned(doc.id, a) and data.is_assigned(doc.id, b)):
                continue
            spans_a = _spans(data, doc.id, a, code_filter)
            spans_b = _spans(data, doc.id, b, code_filter)
            result = agreement.segment_matches(spans_a, spans_b, data.min_overlap)
            matched += 2 * len(result.pairs)
            total += len(spans_a) + len(spans_b)
    return matched, total


def _segment_row(counts: Sequence[int], n_codes: int) -> dict[str, Any]:
    """Segment matching's row: the share of segments matched, and Brennan and Prediger's kappa."""
    matched, total = counts
    percent = Measure(matched / total) if total else Measure(None, agreement.NO_SEGMENTS)
    bp = (
        agreement.brennan_prediger_kappa(percent.value, n_codes)
        if percent.value is not None
        else Measure(None, percent.reason)
    )
    reasons = {
        k: m.reason
        for k, m in (("percent_agreement", percent), ("brennan_prediger_kappa", bp))
        if m.reason
    }
    for name in ("cohen_kappa", "fleiss_kappa", "krippendorff_alpha"):
        reasons[name] = agreement.NOT_FOR_SEGMENTS
    return {
        "n_units": total,
        "percent_agreement": percent.value,
        "cohen_kappa": None,
        "fleiss_kappa": None,
        "krippendorff_alpha": None,
        "alpha_ci95": None,
        "brennan_prediger_kappa": bp.value,
        "reasons": reasons,
        "interpretation": "",
    }


def _spans(data: _Data, doc_id: int, coder: str, code_filter: set[int] | None) -> list[Span]:
    """A coder's segments in one text; with a filter, every code in it counts as the filter's."""
    spans = []
    for seg in data.by_doc_coder.get((doc_id, coder), ()):
        if code_filter is None:
            spans.append(Span(str(seg.code_id), seg.start, seg.end, coder))
        elif seg.code_id in code_filter:
            spans.append(Span("code", seg.start, seg.end, coder))
    return spans


def disagreements(data: ReliabilityInput, *, min_overlap: float = 0.9) -> list[dict[str, Any]]:
    """Segments without a match in another coder's layer, each with its nearest counterpart."""
    prepared = _Data(data, min_overlap)
    found: list[dict[str, Any]] = []
    by_id = {s.id: s for s in prepared.segments}
    for doc in prepared.docs:
        for a, b in combinations(prepared.coders, 2):
            if not (prepared.is_assigned(doc.id, a) and prepared.is_assigned(doc.id, b)):
                continue
            own = prepared.by_doc_coder.get((doc.id, a), []) + prepared.by_doc_coder.get(
                (doc.id, b), []
            )
            spans = {
                coder: [
                    Span(str(s.code_id), s.start, s.end, str(s.id)) for s in own if s.coder == coder
                ]
                for coder in (a, b)
            }
            result = agreement.segment_matches(spans[a], spans[b], min_overlap)
            for side, other in ((result.unmatched_a, b), (result.unmatched_b, a)):
                for span in side:
                    segment = by_id[int(span.coder)]
                    counterpart = _nearest(segment, [s for s in own if s.coder == other])
                    found.append(
                        {
                            "doc_id": doc.id,
                            "segment": segment.id,
                            "coder": segment.coder,
                            "code": prepared.tree.path(segment.code_id),
                            "other_coder": other,
                            "other_segment": counterpart.id if counterpart else None,
                            "other_code": prepared.tree.path(counterpart.code_id)
                            if counterpart
                            else None,
                        }
                    )
                    if len(found) >= DISAGREEMENT_LIMIT:
                        return found
    return found


def _nearest(segment: SegInfo, others: Sequence[SegInfo]) -> SegInfo | None:
    best, best_overlap = None, 0
    for other in others:
        overlap = min(segment.end, other.end) - max(segment.start, other.start)
        if overlap > best_overlap:
            best, best_overlap = other, overlap
    return best


@dataclass
class RunSums:
    """What one unit's report is made of, as sums that add up exactly across blocks of texts.

    Text-level units keep a `PoolSums` per code and per family and the family's confusion
    counts; segment matching keeps (matched, total) per row. A run split over workers computes
    this for each block of texts (`compute_sums`), adds the blocks (`+`) and reports once
    (`report_from_sums`): the same numbers as `compute` on all texts at once.
    """

    unit: str
    n_interventions: int = 0
    # Segment matching's overall row (matched, total); text units pool the leaf codes instead.
    segments_overall: tuple[int, int] = (0, 0)
    codes: dict[int, Any] = field(default_factory=dict)
    families: dict[int, Any] = field(default_factory=dict)
    confusion: dict[int, dict[tuple[int, int], int]] = field(default_factory=dict)

    def __add__(self, other: RunSums) -> RunSums:
        def add(a: Any, b: Any) -> Any:
            if isinstance(a, agreement.PoolSums):
                return a + b
            return (a[0] + b[0], a[1] + b[1])

        def merged(a: dict[int, Any], b: dict[int, Any]) -> dict[int, Any]:
            return {k: add(a[k], b[k]) if k in a and k in b else a.get(k, b.get(k)) for k in a | b}

        confusion: dict[int, dict[tuple[int, int], int]] = {}
        for family in self.confusion.keys() | other.confusion.keys():
            counts: dict[tuple[int, int], int] = defaultdict(int)
            for part in (self.confusion.get(family, {}), other.confusion.get(family, {})):
                for pair, n in part.items():
                    counts[pair] += n
            confusion[family] = dict(counts)
        return RunSums(
            unit=self.unit,
            n_interventions=self.n_interventions + other.n_interventions,
            segments_overall=(
                self.segments_overall[0] + other.segments_overall[0],
                self.segments_overall[1] + other.segments_overall[1],
            ),
            codes=merged(self.codes, other.codes),
            families=merged(self.families, other.families),
            confusion=confusion,
        )

    def to_json(self) -> dict[str, Any]:
        def value(v: Any) -> Any:
            return v.to_json() if isinstance(v, agreement.PoolSums) else list(v)

        return {
            "unit": self.unit,
            "n_interventions": self.n_interventions,
            "segments_overall": list(self.segments_overall),
            "codes": [[k, value(v)] for k, v in self.codes.items()],
            "families": [[k, value(v)] for k, v in self.families.items()],
            "confusion": [
                [k, [[a, b, n] for (a, b), n in counts.items()]]
                for k, counts in self.confusion.items()
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunSums:
        def value(v: Any) -> Any:
            return agreement.PoolSums.from_json(v) if isinstance(v, dict) else tuple(v)

        return cls(
            unit=data["unit"],
            n_interventions=data["n_interventions"],
            segments_overall=tuple(data["segments_overall"]),
            codes={k: value(v) for k, v in data["codes"]},
            families={k: value(v) for k, v in data["families"]},
            confusion={k: {(a, b): n for a, b, n in rows} for k, rows in data["confusion"]},
        )


def _check(data: ReliabilityInput, unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unit is one of {', '.join(UNITS)}")
    if len(data.coders) < 2:
        raise ValueError("Agreement needs at least two coders.")


def compute_sums(
    data: ReliabilityInput,
    *,
    unit: str = "intervention",
    min_overlap: float = 0.9,
    bootstrap: int = 0,
) -> RunSums:
    """The sums of one unit's report over the texts in `data` (all of a run, or a block)."""
    _check(data, unit)
    prepared = _Data(data, min_overlap)
    tree = prepared.tree
    sums = RunSums(unit=unit, n_interventions=len(prepared.docs))
    if unit == "segment":
        for code_id in tree.codes:
            sums.codes[code_id] = _segment_counts(prepared, tree.subtree[code_id])
        sums.segments_overall = _segment_counts(prepared, None)
        for family_id in tree.families:
            sums.families[family_id] = _segment_counts(
                prepared, tree.subtree[family_id] - {family_id}
            )
        return sums

    coders, by_category = len(data.coders), bootstrap > 0
    units_by_doc: dict[int, Any] = {}
    weights: Weights = [None]  # the intervention unit: one block, unweighted
    if unit == "character":
        runs = {d.id: _character_runs(prepared, d) for d in prepared.docs}
        units_by_doc = {doc_id: found[0] for doc_id, found in runs.items()}
        weights = [runs[d.id][1] for d in prepared.docs] or [None]
    elif unit == "word":
        units_by_doc = {d.id: _units(prepared, d, unit) for d in prepared.docs}
        weights = [None] * len(prepared.docs) or [None]
    per_code: dict[int, Blocks] = {}
    for code_id in tree.codes:
        blocks = _presence(prepared, unit, tree.subtree[code_id], units_by_doc)
        per_code[code_id] = blocks
        sums.codes[code_id] = _sums(blocks, coders, by_category, weights)
    for family_id in tree.families:
        if len(tree.children[family_id]) > MAX_FAMILY_SIZE:
            continue
        family = _family_blocks(prepared, family_id, per_code)
        sums.families[family_id] = _sums(family, coders, by_category, weights)
        sums.confusion[family_id] = _confusion_counts(family, weights)
    return sums


def report_from_sums(
    data: ReliabilityInput, sums: RunSums, *, bootstrap: int = 0, seed: int | None = None
) -> dict[str, Any]:
    """The report of one unit from its sums; `data` gives the coders and the codebook (its
    texts and segments are not read)."""
    _check(data, sums.unit)
    tree = _Tree(data.codes)
    coders = len(data.coders)
    report: dict[str, Any] = {
        "unit": sums.unit,
        "coders": list(data.coders),
        "n_interventions": sums.n_interventions,
        "overall": None,
        "codes": {},
        "families": {},
        "confusion": {},
    }
    ordered = sorted(tree.codes, key=lambda c: tree.codes[c].path)
    if sums.unit == "segment":
        n_codes = len(tree.codes)
        none = (0, 0)
        report["overall"] = _segment_row(sums.segments_overall, n_codes)
        for code_id in ordered:
            report["codes"][tree.path(code_id)] = _segment_row(
                sums.codes.get(code_id, none), n_codes
            )
        for family_id in tree.families:
            report["families"][tree.path(family_id)] = _segment_row(
                sums.families.get(family_id, none), len(tree.children[family_id])
            )
        return report

    empty = agreement.PoolSums.empty(coders)
    for code_id in ordered:
        report["codes"][tree.path(code_id)] = _row(
            sums.codes.get(code_id, empty), bootstrap=bootstrap, seed=seed
        )
    # Every leaf code's units side by side: one unit per (unit, code) pair.
    overall = empty
    for code_id in tree.leaves:
        overall = overall + sums.codes.get(code_id, empty)
    report["overall"] = _row(overall, bootstrap=bootstrap, seed=seed)
    for family_id in tree.families:
        if len(tree.children[family_id]) > MAX_FAMILY_SIZE:
            continue
        path = tree.path(family_id)
        report["families"][path] = _row(
            sums.families.get(family_id, empty), bootstrap=bootstrap, seed=seed
        )
        report["confusion"][path] = _confusion(tree, family_id, sums.confusion.get(family_id, {}))
    return report


def compute(
    data: ReliabilityInput,
    *,
    unit: str = "intervention",
    min_overlap: float = 0.9,
    bootstrap: int = 0,
    seed: int | None = None,
) -> dict[str, Any]:
    """Every measure for one unit: overall, per code and per code family (JSON-ready)."""
    sums = compute_sums(data, unit=unit, min_overlap=min_overlap, bootstrap=bootstrap)
    return report_from_sums(data, sums, bootstrap=bootstrap, seed=seed)


# The measures a row holds, in the report's and the files' order.
MEASURE_KEYS = (
    "n_units",
    "percent_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "alpha_ci95",
    "p_below_0667",
    "p_below_0800",
    "brennan_prediger_kappa",
)
# What the `agreement` command prints of each row: the first six.
COMMAND_KEYS = MEASURE_KEYS[:6]


def command_view(report: dict[str, Any]) -> dict[str, Any]:
    """The report in the `agreement` command's documented JSON shape."""

    def measure(m: dict[str, Any] | None) -> dict[str, Any] | None:
        if m is None:
            return None
        shaped = {key: m.get(key) for key in COMMAND_KEYS}
        if report["unit"] == "segment":
            shaped["brennan_prediger_kappa"] = m.get("brennan_prediger_kappa")
        return shaped

    return {
        "unit": report["unit"],
        "coders": report["coders"],
        "left_out": report.get("left_out", []),
        "overall": measure(report["overall"]),
        "codes": {path: measure(m) for path, m in report["codes"].items()},
        "families": {path: measure(m) for path, m in report["families"].items()},
    }
