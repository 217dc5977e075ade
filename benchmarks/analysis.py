"""Analysis tables and text search at the scale of a big study.

Run from the repository root: ``.venv/bin/python benchmarks/analysis.py [--interventions N]
[--against REV]``; with DATABASE_URL set it runs on PostgreSQL (a throwaway test database
either way).
Synthetic data as the analysis issue states it: 624 interventions of 30,000 characters, 20 codes
(4 themes x 4 codes, plus the themes), 3 coders, 20,000 segments, and a property with four
values. Times every table (each count) from the database to the finished table, as the page and
the command build it, and a search for one word over the corpus. Targets: each table under
1 s, the search under 300 ms. Prints wall and process CPU time of each (median of the repeats);
`benchmarks.harness` adds the commit, the machine, the load average and the whole run's times.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.contrib.auth import get_user_model  # noqa: E402

from benchmarks.harness import run  # noqa: E402
from benchmarks.throwaway_db import throwaway_database  # noqa: E402  (sets Django up)
from coding.analysis.search import search  # noqa: E402
from coding.analysis.tables import COUNTS, TABLES, build, load_corpus  # noqa: E402
from coding.codebook.services import codebook_reveal  # noqa: E402
from coding.models import Code, Segment  # noqa: E402
from interventions.models import (  # noqa: E402
    AttributeDefinition,
    AttributeValue,
    Intervention,
    Membership,
    Role,
    Study,
)

WORDS = [
    "het",
    "gezin",
    "ouders",
    "kind",
    "netwerk",
    "hulpverlener",
    "versterken",
    "veerkracht",
    "steun",
    "school",
    "buurt",
    "opvoeding",
    "vaardigheden",
    "schulden",
    "woning",
    "cultuur",
    "identiteit",
    "doel",
    "aanpak",
    "financiële",
]
# Plus 3,000 made-up words, so a real word is as rare as in a real corpus (about one word in
# 3,000: "veerkracht" some 900 times in 624 texts).
_SYLLABLES = [
    "be",
    "ge",
    "ver",
    "ont",
    "aan",
    "op",
    "in",
    "uit",
    "kin",
    "der",
    "ou",
    "ders",
    "hulp",
    "steun",
    "wer",
    "ken",
    "zorg",
    "ing",
    "heid",
    "lijk",
]
_RNG = random.Random(7)
WORDS = WORDS + [
    "".join(_RNG.choice(_SYLLABLES) for _ in range(_RNG.randint(1, 4))) for _ in range(3_000)
]
LENGTH = 30_000
CODERS = ["ann", "bas", "cor"]
SETTINGS = ["Thuis", "School", "Buurt", "Thuis; School"]


def text(rng: random.Random) -> str:
    words, size = [], 0
    while size <= LENGTH + 1:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:LENGTH]


def populate(n_docs: int, n_segments: int, seed: int = 1) -> Study:
    rng = random.Random(seed)
    users = [get_user_model().objects.create_user(name) for name in CODERS]
    study = Study.objects.create(name="Benchmark", slug="benchmark")
    Membership.objects.create(study=study, user=users[0], role=Role.OWNER)
    for user in users[1:]:
        Membership.objects.create(study=study, user=user, role=Role.CODER)
    leaves = []
    for t in range(4):
        theme = Code.objects.create(study=study, name=f"Thema {t}", position=t)
        for c in range(4):
            leaves.append(
                Code.objects.create(study=study, name=f"Code {c}", parent=theme, position=c)
            )
    docs = Intervention.objects.bulk_create(
        Intervention(study=study, title=f"Interventie {i:03d}", text=text(rng))
        for i in range(n_docs)
    )
    setting = AttributeDefinition.objects.create(study=study, name="Setting")
    AttributeValue.objects.bulk_create(
        AttributeValue(intervention=doc, definition=setting, value=rng.choice(SETTINGS))
        for doc in docs
    )
    segments: list[Segment] = []
    seen: set[tuple[int, int, int, int, int]] = set()
    while len(segments) < n_segments:
        doc = rng.choice(docs)
        start = rng.randrange(0, LENGTH - 400)
        end = start + rng.randrange(20, 400)
        code, coder = rng.choice(leaves), rng.choice(users)
        key = (doc.pk, code.pk, coder.pk, start, end)
        if key in seen:
            continue  # the database refuses a coder giving a code to one span twice
        seen.add(key)
        segments.append(
            Segment(
                intervention=doc,
                code=code,
                coder=coder,
                start=start,
                end=end,
                quote=doc.text[start:end],
            )
        )
    Segment.objects.bulk_create(segments, batch_size=2_000)
    return study


def timed(work: Callable[[], Any], repeats: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def measure(argv: list[str]) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--interventions", type=int, default=624)
    parser.add_argument("--segments", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    figures: dict[str, float] = {}
    with throwaway_database() as vendor:
        started = time.perf_counter()
        study = populate(args.interventions, args.segments)
        owner = get_user_model().objects.get(username="ann")
        # The owner reads every coder's layer once revealed (a new study codes blind).
        codebook_reveal(study=study, actor=owner)
        setting = AttributeDefinition.objects.get(study=study)
        print(
            f"{vendor} · {args.interventions} interventions × {LENGTH:,} "
            f"characters, {Code.objects.count()} codes, {len(CODERS)} coders, "
            f"{Segment.objects.count():,} segments (built in {time.perf_counter() - started:.1f} s)"
        )
        print(f"{'what (median of ' + str(args.repeats) + ')':<34}{'wall ms':>10}{'cpu ms':>10}")
        for name in TABLES:
            for count in COUNTS:

                def work(name: str = name, count: str = count) -> None:
                    corpus = load_corpus(
                        study=study,
                        viewer=owner,
                        layer="bas",
                        column_attribute=setting if name == "crosstab" else None,
                    )
                    build(corpus, name, count)

                wall, cpu = timed(work, args.repeats)
                label = f"{name} / {count}"
                print(f"{label:<34}{wall * 1000:>10.0f}{cpu * 1000:>10.0f}")
                figures[f"{label} ms"] = wall * 1000
        searches: list[tuple[str, bool]] = [
            ("veerkracht", False),
            ("veerkracht", True),
            ('"financiele steun"', False),
        ]
        for number, (query, whole) in enumerate(searches):

            def find(query: str = query, whole: bool = whole) -> Any:
                return search(study=study, query=query, whole_word=whole)

            if number == 0:
                wall, cpu = timed(find, 1)
                label = "search, first (folds every text)"
                print(f"{label:<34}{wall * 1000:>10.0f}{cpu * 1000:>10.0f}")
                figures[f"{label} ms"] = wall * 1000
            hits = len(find().hits)
            wall, cpu = timed(find, args.repeats)
            label = f"search {query}{' whole' if whole else ''} ({hits:,})"
            print(f"{label:<34}{wall * 1000:>10.0f}{cpu * 1000:>10.0f}")
            figures[f"{label} ms"] = wall * 1000
    return figures


def main() -> None:
    run(measure)


if __name__ == "__main__":
    main()
