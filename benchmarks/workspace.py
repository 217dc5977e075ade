"""How fast the coding workspace answers on a long text with many segments.

Run from the repository root: ``.venv/bin/python benchmarks/workspace.py [page_runs]``, with
DATABASE_URL set to run it on PostgreSQL. It creates a throwaway test database (see
`benchmarks/throwaway_db.py`), never touching real data, and builds:

- an intervention of 20,000 Dutch-looking words in 12 sections (one not coded), paragraphs of
  40 to 120 words;
- a codebook of 7 themes with 6 codes each;
- 1,000 segments of 2 to 30 words by 3 coders (about a third each, overlapping freely), and
  later more of the same kind up to 4,000 in all.

It times with django.test.Client, so a figure is the server's time for the whole request
(middleware, access checks, queries, templates), without the network, wall-clock and process
CPU time per request, and prints the size of the page as sent (uncompressed, KB = 1,024 bytes):

- the workspace page as the owner with all three layers on (1,000 highlights, later 4,000), and
  as one coder (own layer, about a third of them);
- applying a code (an htmx POST answered with the stored segment as data, the counts and the
  status);
- the code report of one theme with its subcodes over 2,000 segments in 20 interventions.

Around its table `benchmarks.harness` prints the commit, the machine, the load average before and
after, and the wall and process CPU time of the whole run; `--against REV` measures REV beside it.
To see where an apply's time goes: PROFILE_APPLY=N profiles N more applies with cProfile
(PROFILE_SORT=tottime or cumulative), PROFILE_QUERIES=N prints each of their queries with its
median time.

Targets (issue 14): the page with 1,000 highlights at most 300 KB; with 4,000 highlights p95
< 250 ms. Earlier (issue "coding workspace"): page p50 < 100 ms and p95 < 250 ms; apply p50 <
20 ms and p95 < 60 ms; report < 300 ms.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Timings as in production: no query log kept per request.
os.environ.setdefault("DEBUG", "false")

from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from benchmarks.harness import run  # noqa: E402
from benchmarks.throwaway_db import throwaway_database  # noqa: E402

# Words of Dutch intervention descriptions, diacritics included.
WORDS = (  # noqa: SIM905
    "het gezin de ouders kinderen hulpverlener coach netwerk school buurt veerkracht "
    "hulpbronnen steun opvoeding vaardigheden vertrouwen samen thuis wekelijks gesprek "
    "doelen aanpak begeleiding zorg jeugdhulp problemen stress armoede schulden "
    "huisvesting werk inkomen identiteit cultuur geloof betekenis erbij horen "
    "gehechtheid structuur regels betrokkenheid zelfvertrouwen doorzettingsvermogen "
    "empathie verantwoordelijkheid emotieregulatie probleemoplossend optimisme eigen "
    "kracht participatie sociale psychologische materiële culturele versterken "
    "verminderen ondersteunen leren oefenen bespreken plannen evalueren samenwerken "
    "coördinator gezinscoach café oefening één en of met voor van in op aan bij naar "
    "door om te zodat omdat wanneer terwijl"
).split()
HEADINGS = [
    "Samenvatting",
    "Doel",
    "Doelgroep",
    "Aanpak",
    "Materialen",
    "Uitvoering",
    "Onderbouwing",
    "Werkzame elementen",
    "Randvoorwaarden",
    "Kwaliteit",
    "Effecten",
    "Literatuur",
]
N_WORDS = 20_000
N_SEGMENTS = 1_000
N_MANY = 4_000
N_REPORT = 2_000


def build_text(rng: random.Random) -> tuple[str, list[tuple[int, int, str, bool]]]:
    """The text and its sections (start, end, heading, excluded)."""
    parts: list[str] = []
    sections = []
    length = 0
    per_section = N_WORDS // len(HEADINGS)
    for number, heading in enumerate(HEADINGS):
        start = length
        body = [heading, "\n"]
        words = 0
        while words < per_section:
            n = rng.randint(40, 120)
            sentence = []
            for i in range(n):
                word = rng.choice(WORDS)
                sentence.append(word.capitalize() if i == 0 else word)
            body.append(" ".join(sentence) + ".\n")
            words += n
        body.append("\n")
        chunk = "".join(body)
        parts.append(chunk)
        length += len(chunk)
        sections.append((start, length, heading, number == 0))
    return "".join(parts), sections


def word_spans(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    spans = []
    position = lo
    while position < hi:
        while position < hi and not text[position].isalpha():
            position += 1
        end = position
        while end < hi and text[end].isalpha():
            end += 1
        if end > position:
            spans.append((position, end))
        position = end
    return spans


def distinct(rows: list[Any]) -> list[Any]:
    """The segments without a second one of a coder, code and span (the database refuses it);
    the random draws stay the same, so every commit measured gets the same data."""
    seen, kept = set(), []
    for row in rows:
        key = (row.intervention_id, row.coder_id, row.code_id, row.start, row.end)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


class Timings(list[float]):
    """Wall-clock milliseconds of each run, with the process CPU milliseconds of each in `cpu`
    (less disturbed than wall time when other work shares the machine)."""

    cpu: list[float]


def timed(call: Callable[[], int], runs: int, warmup: int = 3) -> Timings:
    for _ in range(warmup):
        call()
    timings = Timings()
    timings.cpu = []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        status = call()
        timings.append((time.perf_counter() - started) * 1000)
        timings.cpu.append((time.process_time() - cpu_started) * 1000)
        assert status == 200, status
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# Extra applies, profiled: PROFILE_APPLY=N under cProfile (PROFILE_SORT=tottime or
# cumulative), PROFILE_QUERIES=N with each query's median time.
PROFILES = ("PROFILE_APPLY", "PROFILE_QUERIES")


def measure(args: list[str]) -> dict[str, float]:
    """Build the data, time the requests, print the table; the figures by name."""
    page_runs = int(args[0]) if args else 40
    apply_runs = max(60, page_runs)
    with throwaway_database() as vendor:
        from django.contrib.auth.models import User

        from coding.codebook import services
        from coding.models import Code, Segment
        from interventions.models import Intervention, Membership, Role, Section, Study

        rng = random.Random(20261123)
        study = Study.objects.create(name="Benchmark", slug="benchmark")
        owner = User.objects.create_user(username="alice")
        coders = [User.objects.create_user(username=name) for name in ("carol", "bob", "dave")]
        Membership.objects.create(study=study, user=owner, role=Role.OWNER)
        for coder in coders:
            Membership.objects.create(study=study, user=coder, role=Role.CODER)
        codes: list[Code] = []
        themes = []
        for t in range(7):
            theme = services.code_create(study=study, actor=owner, name=f"Thema {t + 1}")
            themes.append(theme)
            for c in range(6):
                codes.append(
                    services.code_create(
                        study=study, actor=owner, name=f"Code {t + 1}.{c + 1}", parent=theme
                    )
                )
        text, sections = build_text(rng)
        intervention = Intervention.objects.create(study=study, title="Lang verhaal", text=text)
        Section.objects.bulk_create(
            Section(intervention=intervention, start=s, end=e, heading=h, excluded=x)
            for s, e, h, x in sections
        )
        coded = [(s, e) for s, e, _h, excluded in sections if not excluded]
        words = [w for lo, hi in coded for w in word_spans(text, lo, hi)]
        excluded = [(s, e) for s, e, _h, x in sections if x]

        def make_segments(n: int, offset: int) -> list[Segment]:
            made: list[Segment] = []
            i = offset
            while len(made) < n:
                i += 1
                first = rng.randrange(len(words) - 40)
                last = first + rng.randint(1, 29)
                start, end = words[first][0], words[last][1]
                if any(s < end and start < e for s, e in excluded):
                    continue
                made.append(
                    Segment(
                        intervention=intervention,
                        code=rng.choice(codes),
                        coder=coders[i % 3],
                        start=start,
                        end=end,
                        quote=text[start:end],
                        memo="Een notitie." if i % 7 == 0 else "",
                    )
                )
            return made

        rows = distinct(make_segments(N_SEGMENTS, 0))
        Segment.objects.bulk_create(rows)

        owner_client, coder_client = Client(), Client()
        owner_client.force_login(owner)
        coder_client.force_login(coders[0])
        page = reverse("workspace", args=[study.slug, intervention.uuid])
        layers = ",".join(str(c.pk) for c in coders)
        owner_page = timed(
            lambda: owner_client.get(page, {"layers": layers}).status_code, page_runs
        )
        coder_page = timed(lambda: coder_client.get(page).status_code, page_runs)
        size = len(owner_client.get(page, {"layers": layers}).content)
        coder_size = len(coder_client.get(page).content)

        apply_url = reverse("segments_apply", args=[study.slug, intervention.uuid])
        profiled = sum(int(os.environ.get(name) or 0) for name in PROFILES)
        free = rng.sample(words[: len(words) - 10], apply_runs + 30 + profiled)
        spans = iter(free)

        def apply() -> int:
            start, _ = next(spans)
            end = start + len(text[start:].split(" ", 1)[0].rstrip(".\n"))
            response = coder_client.post(
                apply_url,
                {
                    "start": start,
                    "end": end,
                    "quote": text[start:end],
                    "codes": [str(rng.choice(codes).uuid)],
                },
                HTTP_HX_REQUEST="true",
            )
            return response.status_code

        applied = timed(apply, apply_runs, warmup=3)

        if os.environ.get("PROFILE_QUERIES"):
            # Each query of an apply with its wall time, as the database driver saw it.
            from django.db import connection

            seen: dict[str, list[float]] = {}

            def clock(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
                began = time.perf_counter()
                try:
                    return execute(sql, params, many, context)
                finally:
                    seen.setdefault(sql[:90], []).append(time.perf_counter() - began)

            with connection.execute_wrapper(clock):
                for _ in range(int(os.environ["PROFILE_QUERIES"])):
                    apply()
            for sql, times in seen.items():
                print(f"{len(times):5d} {statistics.median(times) * 1000:7.3f} ms  {sql}")

        if os.environ.get("PROFILE_APPLY"):
            import cProfile
            import pstats

            cProfile.runctx(
                'for _ in range(int(os.environ.get("PROFILE_APPLY") or 8)): apply()',
                globals(),
                locals(),
                "/tmp/apply.prof",
            )
            pstats.Stats("/tmp/apply.prof").sort_stats(
                os.environ.get("PROFILE_SORT", "tottime")
            ).print_stats(40)

        # The report: 2,000 segments of theme 1's codes in 20 other interventions.
        report_codes = [c for c in codes if c.parent_id == themes[0].pk]
        others = []
        for n in range(20):
            body, _sections = build_text(random.Random(n))
            others.append(
                Intervention.objects.create(study=study, title=f"Tekst {n:02d}", text=body[:8000])
            )
        extra = []
        for i in range(N_REPORT):
            other = others[i % 20]
            start = rng.randrange(0, 7900)
            extra.append(
                Segment(
                    intervention=other,
                    code=rng.choice(report_codes),
                    coder=coders[i % 3],
                    start=start,
                    end=start + 60,
                    quote=other.text[start : start + 60],
                )
            )
        Segment.objects.bulk_create(distinct(extra))
        report_url = reverse("code_report", args=[study.slug])
        query = {"code": str(themes[0].uuid), "subcodes": "on"}
        n_rows = owner_client.get(report_url, query).content.count(b"<tr>") - 1
        report = timed(lambda: owner_client.get(report_url, query).status_code, 15, warmup=2)
        export_url = reverse("code_report_export", args=[study.slug, "csv"])
        export = timed(lambda: owner_client.get(export_url, query).status_code, 15, warmup=2)

        # 4,000 highlights: more of the same kind (the applied ones stay too),
        # after the report, so that its figures stay comparable with earlier runs.
        n_now = Segment.objects.filter(intervention=intervention).count()
        Segment.objects.bulk_create(distinct(make_segments(N_MANY - n_now, N_SEGMENTS * 10)))
        n_4000 = Segment.objects.filter(intervention=intervention).count()
        owner_page_4000 = timed(
            lambda: owner_client.get(page, {"layers": layers}).status_code, page_runs
        )
        coder_page_4000 = timed(lambda: coder_client.get(page).status_code, page_runs)
        size_4000 = len(owner_client.get(page, {"layers": layers}).content)
        coder_size_4000 = len(coder_client.get(page).content)
        if os.environ.get("PROFILE_PAGE"):
            import cProfile
            import pstats

            def owner_get() -> None:
                owner_client.get(page, {"layers": layers})

            cProfile.runctx("for _ in range(8): owner_get()", globals(), locals(), "/tmp/page.prof")
            pstats.Stats("/tmp/page.prof").sort_stats("cumtime").print_stats(40)
            with open("/tmp/page.html", "wb") as out:
                out.write(owner_client.get(page, {"layers": layers}).content)

    print(
        f"{vendor}: {len(text):,} characters ({N_WORDS:,} words), "
        f"{len(rows):,} then {n_4000:,} segments by 3 coders; report {n_rows:,} rows"
    )
    print(
        f"{'request':<40}{'runs':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        f"{'CPU p50':>9}{'CPU p95':>9}{'KB':>7}  target"
    )
    few, many = f"{len(rows):,}", f"{n_4000:,}"
    figures: dict[str, float] = {}
    for label, timings, kb, target in (
        (f"page, owner, 3 layers, {few} marks", owner_page, size, "<= 300 KB"),
        (f"page, one coder, a third of {few}", coder_page, coder_size, "p50 < 100, p95 < 250"),
        (f"page, owner, 3 layers, {many} marks", owner_page_4000, size_4000, "p95 < 250"),
        (f"page, one coder, a third of {many}", coder_page_4000, coder_size_4000, "p95 < 250"),
        ("apply a code (htmx)", applied, None, "p50 < 20, p95 < 60"),
        ("code report, 2,000 segments", report, None, "< 300"),
        ("code report CSV export", export, None, "-"),
    ):
        print(
            f"{label:<40}{len(timings):>6}{statistics.median(timings):>9.1f}"
            f"{percentile(timings, 0.95):>9.1f}{max(timings):>9.1f}"
            f"{statistics.median(timings.cpu):>9.1f}{percentile(timings.cpu, 0.95):>9.1f}"
            f"{'' if kb is None else f'{kb / 1024:.0f}':>7}  {target}"
        )
        figures[f"{label} p50 ms"] = statistics.median(timings)
        figures[f"{label} p95 ms"] = percentile(timings, 0.95)
        figures[f"{label} CPU p50 ms"] = statistics.median(timings.cpu)
        if kb is not None:
            figures[f"{label} KB"] = kb / 1024
    return figures


def main() -> None:
    run(measure)


if __name__ == "__main__":
    main()
