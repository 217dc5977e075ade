"""Agreement at scale: every unit and measure, as a run computes them.

Run from the repository root: ``.venv/bin/python benchmarks/agreement.py [sizes...]``
(default 39 156 624; ``--against REV`` runs commit REV alternately beside it, see
benchmarks/harness.py). Synthetic data as the agreement issue states it: interventions of 30,000
characters, a codebook of 20 codes (4 themes x 4 codes, plus the themes), 3 coders with about
1,500 segments each per 39 interventions (scaled with the corpus), every intervention assigned
to every coder. Times `coding.agreement.reliability.compute` (no database) for each unit without
bootstrap, and the word unit with 1,000 bootstrap samples per measure at the smallest size.
Targets: all measures but bootstrap under 5 s at 39 interventions; 1,000 bootstrap samples
under 30 s; growth no faster than linear.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import run  # noqa: E402

try:
    from coding.agreement.reliability import (
        CodeInfo,
        DocInfo,
        ReliabilityInput,
        SegInfo,
        compute,
    )
except ImportError:  # commits before the renovation (issue 9), for --against
    from coding.reliability import (  # type: ignore[no-redef]
        CodeInfo,
        DocInfo,
        ReliabilityInput,
        SegInfo,
        compute,
    )

WORDS = [
    *("het gezin ouders kind netwerk hulpverlener versterken veerkracht steun school",),
    *("buurt opvoeding vaardigheden schulden woning cultuur identiteit doel aanpak",),
]
WORDS = " ".join(WORDS).split(" ")
CODERS = ["ann", "bas", "cor"]
LENGTH = 30_000


def codebook() -> list[CodeInfo]:
    codes, next_id = [], 1
    for theme in range(4):
        theme_id = next_id
        codes.append(CodeInfo(theme_id, (f"Thema {theme}",), None))
        next_id += 1
        for code in range(4):
            codes.append(CodeInfo(next_id, (f"Thema {theme}", f"Code {code}"), theme_id))
            next_id += 1
    return codes  # 20 codes


def text(rng: random.Random) -> str:
    words, size = [], 0
    while size <= LENGTH + 1:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:LENGTH]


def build(n_docs: int, seed: int = 1) -> ReliabilityInput:
    rng = random.Random(seed)
    codes = codebook()
    leaves = [c.id for c in codes if c.parent_id is not None]
    docs = [
        DocInfo(i, f"Interventie {i}", text(rng), ((0, 2_000), (4_000, LENGTH)))
        for i in range(n_docs)
    ]
    per_coder = round(1_500 * n_docs / 39)
    segments, next_id = [], 1
    # A shared "true" coding that each coder follows most of the time.
    truth = []
    for _ in range(per_coder):
        doc = rng.randrange(n_docs)
        start = rng.randrange(0, LENGTH - 400)
        truth.append((doc, rng.choice(leaves), start, start + rng.randrange(40, 400)))
    for coder in CODERS:
        for doc, code, start, end in truth:
            if rng.random() < 0.2:
                code = rng.choice(leaves)
            if rng.random() < 0.3:
                start = max(0, start + rng.randrange(-30, 30))
            segments.append(SegInfo(next_id, doc, coder, code, start, max(start + 1, end)))
            next_id += 1
    assigned = {coder: set(range(n_docs)) for coder in CODERS}
    return ReliabilityInput(CODERS, docs, codes, segments, assigned)


def timed(data: ReliabilityInput, **options: object) -> float:
    started = time.perf_counter()
    compute(data, **options)  # type: ignore[arg-type]
    return time.perf_counter() - started


def measure(args: list[str]) -> dict[str, float]:
    sizes = [int(a) for a in args] or [39, 156, 624]
    figures: dict[str, float] = {}
    print(
        f"{'interventions':>13} {'segments':>9} {'intervention':>12} {'word':>7} "
        f"{'character':>9} {'segment':>8} {'all':>7}"
    )
    totals = {}
    for n in sizes:
        data = build(n)
        times = [timed(data, unit=u) for u in ("intervention", "word", "character", "segment")]
        totals[n] = sum(times)
        for unit, seconds in zip(
            ("intervention", "word", "character", "segment"), times, strict=True
        ):
            figures[f"{n} texts, {unit} s"] = seconds
        figures[f"{n} texts, all four units s"] = totals[n]
        print(
            f"{n:>13} {len(data.segments):>9} "
            + " ".join(f"{t:>{w}.2f}" for t, w in zip(times, (12, 7, 9, 8), strict=True))
            + f" {totals[n]:>7.2f}"
        )
    smallest = sizes[0]
    boot = timed(build(smallest), unit="word", bootstrap=1_000, seed=1)
    print(f"word unit with 1,000 bootstrap samples per measure at {smallest}: {boot:.2f} s")
    figures[f"{smallest} texts, word unit with 1,000 bootstrap samples s"] = boot
    base = totals[smallest]
    for n in sizes[1:]:
        print(f"growth {smallest} -> {n}: x{n / smallest:.0f} data, x{totals[n] / base:.1f} time")

    return figures


if __name__ == "__main__":
    run(measure)
