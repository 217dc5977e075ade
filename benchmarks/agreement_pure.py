"""How long the agreement coefficients take on a study-sized data set, without the database.

Run from the repository root: ``.venv/bin/python benchmarks/agreement_pure.py [runs]``.

Synthetic study: interventions of 30,000 characters of Dutch-looking words, 20 codes and
3 coders who each make about 38 segments per intervention (about 1,500 at 39 interventions),
copying a shared "true" segment with jittered boundaries most of the time, changing its code
or skipping it sometimes, and adding a few of their own. For 39, 156 and 624 interventions it
times everything an agreement run computes except the bootstrap:

- units: word tokens and characters of the coded text (all of it here);
- text level, per code, tokens and characters: presence matrix of the 3 coders, percent
  agreement, alpha, Cohen's kappa (first two coders) and Fleiss' kappa;
- intervention level, per code: the same four on present/absent per intervention;
- segment matching of each pair of coders, per intervention.

Then, at 39 interventions, 1,000 bootstrap samples of alpha for every code at both text
levels and the intervention level. Targets (issue 5): all but the bootstrap under 5 s at 39
interventions, the bootstrap under 30 s, and growth roughly linear in the number of
interventions.
"""

from __future__ import annotations

import functools
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# A script's own folder is first on sys.path; the project packages live one level up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import run  # noqa: E402
from coding.agreement.metrics import (  # noqa: E402
    Span,
    bootstrap_alpha,
    character_units,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
    presence_matrix,
    segment_matches,
    token_units,
)

CHARACTERS = 30_000
CODES = [f"code-{k:02d}" for k in range(20)]
CODERS = ("carol", "bob", "dana")
TRUE_SEGMENTS = 36  # per intervention; each coder adds a few of their own
SCALES = (39, 156, 624)
SYLLABLES = ("ge", "zin", "ou", "ders", "kin", "de", "ren", "steun", "net", "werk", "zelf", "ver")


@dataclass
class Intervention:
    text: str
    coded: list[tuple[int, int]]
    segments: dict[str, list[Span]]


def _text(rng: np.random.Generator) -> str:
    words: list[str] = []
    length = 0
    while length < CHARACTERS:
        word = "".join(rng.choice(SYLLABLES, size=int(rng.integers(1, 4))))
        words.append(word)
        length += len(word) + 1
    text = " ".join(words)[:CHARACTERS]
    return text.ljust(CHARACTERS, ".")


def _segments(rng: np.random.Generator) -> dict[str, list[Span]]:
    truth = []
    for _ in range(TRUE_SEGMENTS):
        start = int(rng.integers(0, CHARACTERS - 1600))
        truth.append((str(rng.choice(CODES)), start, start + int(rng.integers(40, 1500))))
    segments: dict[str, list[Span]] = {}
    for coder in CODERS:
        own: list[Span] = []
        for code, start, end in truth:
            roll = rng.random()
            if roll < 0.08:
                continue
            if roll < 0.16:
                code = str(rng.choice(CODES))
            jitter = rng.integers(-15, 16, size=2)
            s, e = max(0, start + int(jitter[0])), min(CHARACTERS, end + int(jitter[1]))
            own.append(Span(code, s, e, coder))
        for _ in range(int(rng.integers(1, 5))):
            s = int(rng.integers(0, CHARACTERS - 600))
            own.append(Span(str(rng.choice(CODES)), s, s + int(rng.integers(20, 600)), coder))
        segments[coder] = own
    return segments


def build_study(interventions: int, seed: int = 2007) -> list[Intervention]:
    rng = np.random.default_rng(seed)
    # Texts are expensive to generate and irrelevant to the timing: reuse a few.
    texts = [_text(rng) for _ in range(min(interventions, 8))]
    return [
        Intervention(texts[i % len(texts)], [(0, CHARACTERS)], _segments(rng))
        for i in range(interventions)
    ]


def _measures(matrix: Any) -> list[Any]:
    return [
        percent_agreement(matrix),
        krippendorff_alpha(matrix),
        cohen_kappa(matrix[:2]),
        fleiss_kappa(matrix),
    ]


def _text_matrices(
    study: list[Intervention], units: list[Any], code: str, *, gaps: bool = False
) -> np.ndarray[Any, np.dtype[np.int8]]:
    parts = []
    for index, (intervention, unit_spans) in enumerate(zip(study, units, strict=True)):
        # With gaps, the third coder was not assigned every third intervention.
        assigned = {coder: not (gaps and coder == CODERS[2] and index % 3 == 0) for coder in CODERS}
        spans = {
            coder: [(s.start, s.end) for s in segs if s.code == code]
            for coder, segs in intervention.segments.items()
        }
        parts.append(presence_matrix(unit_spans, spans, assigned))
    return np.concatenate(parts, axis=1)


def _intervention_matrix(study: list[Intervention], code: str) -> list[list[int]]:
    return [
        [int(any(s.code == code for s in i.segments[coder])) for i in study] for coder in CODERS
    ]


def time_measures(study: list[Intervention]) -> dict[str, float]:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    # As arrays once, not per code: presence_matrix would convert a list on every call.
    tokens = [np.asarray(token_units(i.text, i.coded)) for i in study]
    characters = [character_units(i.coded) for i in study]
    timings["units"] = time.perf_counter() - start

    for level, units in (("tokens", tokens), ("characters", characters)):
        start = time.perf_counter()
        for code in CODES:
            _measures(_text_matrices(study, units, code))
        timings[level] = time.perf_counter() - start

    start = time.perf_counter()
    for code in CODES:
        _measures(np.array(_intervention_matrix(study, code), dtype=np.int8))
    timings["interventions"] = time.perf_counter() - start

    start = time.perf_counter()
    for intervention in study:
        for first, second in itertools.combinations(CODERS, 2):
            segment_matches(intervention.segments[first], intervention.segments[second])
    timings["segments"] = time.perf_counter() - start
    timings["total"] = sum(timings.values())

    # Not in the total: the character level again with missing values (alpha's general path;
    # Fleiss' kappa is then not applicable and returns at once).
    start = time.perf_counter()
    for code in CODES:
        _measures(_text_matrices(study, characters, code, gaps=True))
    timings["characters, gaps"] = time.perf_counter() - start
    return timings


def time_bootstrap(study: list[Intervention], samples: int = 1000) -> tuple[float, int]:
    tokens = [np.asarray(token_units(i.text, i.coded)) for i in study]
    characters = [character_units(i.coded) for i in study]
    matrices: list[Any] = []
    for code in CODES:
        matrices.append(_text_matrices(study, tokens, code))
        matrices.append(_text_matrices(study, characters, code))
        matrices.append(np.array(_intervention_matrix(study, code), dtype=np.int8))
    start = time.perf_counter()
    for seed, matrix in enumerate(matrices):
        bootstrap_alpha(matrix, samples=samples, seed=seed)
    return time.perf_counter() - start, len(matrices)


def _repeat(runs: int, work: Callable[[], dict[str, float]]) -> list[dict[str, float]]:
    return [work() for _ in range(runs)]


def measure(args: list[str]) -> dict[str, float]:
    runs = int(args[0]) if args else 3
    figures: dict[str, float] = {}
    columns = (
        "units",
        "tokens",
        "characters",
        "interventions",
        "segments",
        "total",
        "characters, gaps",
    )
    print(f"median of {runs} runs, seconds; 3 coders, 20 codes, {CHARACTERS:,} characters each")
    print(
        "| interventions | token units | character units | segments per coder | "
        + " | ".join(columns)
        + " |"
    )
    print("|---" * (4 + len(columns)) + "|")
    totals: dict[int, float] = {}
    for scale in SCALES:
        study = build_study(scale)
        n_tokens = sum(len(token_units(i.text, i.coded)) for i in study)
        per_coder = sum(len(i.segments[CODERS[0]]) for i in study)
        results = _repeat(
            runs if scale < SCALES[-1] else 1, functools.partial(time_measures, study)
        )
        medians = {c: statistics.median(r[c] for r in results) for c in columns}
        totals[scale] = medians["total"]
        figures[f"{scale} texts, total s"] = medians["total"]
        cells = " | ".join(f"{medians[c]:.3f}" for c in columns)
        print(f"| {scale} | {n_tokens:,} | {scale * CHARACTERS:,} | {per_coder:,} | {cells} |")
    base = SCALES[0]
    growth = ", ".join(
        f"x{scale // base} data: x{totals[scale] / totals[base]:.1f} time" for scale in SCALES[1:]
    )
    print(f"\ngrowth against {base} interventions: {growth}")

    study = build_study(base)
    seconds, calls = time_bootstrap(study)
    print(
        f"\nbootstrap at {base} interventions: 1,000 samples for each of {calls} alphas "
        f"(20 codes x tokens, characters, interventions): {seconds:.3f} s in all, "
        f"{seconds / calls:.3f} s each"
    )
    figures[f"{base} texts, bootstrap of {calls} alphas s"] = seconds
    return figures


if __name__ == "__main__":
    run(measure)
