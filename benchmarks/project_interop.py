"""How long a large REFI-QDA project takes to import and to export.

Run from the repository root: ``.venv/bin/python benchmarks/project_interop.py [runs]``
(``DATABASE_URL=postgres://...`` for PostgreSQL; SQLite by default, in a throwaway database).
The project: 40 texts of 30,000 characters, 60 codes in three levels, 5,000 codings by two
users, a memo on every tenth. Targets: import under 10 s, export under 5 s.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.throwaway_db import throwaway_database  # noqa: E402, I001

from coding.codebook.tree import CodeNode  # noqa: E402
from coding.models import Segment  # noqa: E402
from coding.projects.services import project_export, project_import  # noqa: E402
from coding.projects.writing import (  # noqa: E402
    ExportProject,
    ExportSegment,
    ExportSource,
    ExportUser,
    build_qdpx,
)
from interventions.models import Membership, Role, Study  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402

SOURCES, LENGTH, CODINGS = 40, 30_000, 5_000
WORDS = [
    "gezin",
    "ouders",
    "kinderen",
    "netwerk",
    "veerkracht",
    "hulpbronnen",
    "coördinator",
    "één",
    "buurt",
    "school",
    "zelfvertrouwen",
    "bestaanszekerheid",
    "identiteit",
    "geloof",
    "opvoeding",
    "structuur",
    "steun",
]


def guid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "bench/" + "/".join(map(str, parts))))


def build_project() -> bytes:
    rng = random.Random(7)
    codes = [
        CodeNode(
            name=f"Thema {t}",
            guid=guid("code", t),
            color="#336699",
            children=[
                CodeNode(
                    name=f"Code {t}.{c}",
                    guid=guid("code", t, c),
                    definition="Passages over hulpbronnen van het gezin.",
                    children=[
                        CodeNode(name=f"Sub {t}.{c}.{s}", guid=guid("code", t, c, s))
                        for s in range(3)
                    ],
                )
                for c in range(4)
            ],
        )
        for t in range(3)
    ]
    leaves = [s.guid for theme in codes for code in theme.children for s in code.children]
    users = [ExportUser(guid("user", n), name) for n, name in enumerate(("anouk", "bram"))]
    sources = []
    for number in range(SOURCES):
        words: list[str] = []
        while sum(len(w) + 1 for w in words) < LENGTH:
            words.append(rng.choice(WORDS))
            if rng.random() < 0.05:
                words.append("\n")
        text = " ".join(words)[:LENGTH]
        sources.append(ExportSource(guid("source", number), f"Interventie {number + 1}", text))
    for number in range(CODINGS):
        source = sources[number % SOURCES]
        start = rng.randrange(0, LENGTH - 400)
        end = start + rng.randrange(20, 400)
        source.segments.append(
            ExportSegment(
                guid=guid("selection", number),
                code_guid=rng.choice(leaves),
                user_guid=users[number % 2].guid,
                start=start,
                end=end,
                quote=source.text[start:end],
                memo="Memo bij dit fragment." if number % 10 == 0 else "",
            )
        )
    return build_qdpx(ExportProject("Benchmark", users, codes, [], sources))


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def timed(work: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main(runs: int) -> None:
    print(f"commit {commit()}, load before {os.getloadavg()}")
    data = build_project()
    size = f"{len(data):,} bytes"
    print(f"project: {SOURCES} texts x {LENGTH:,} characters, {CODINGS:,} codings, {size}")
    with throwaway_database() as vendor:
        imports, exports = [], []
        for run in range(runs):
            study = Study.objects.create(name=f"Bench {run}", slug=f"bench-{run}")
            owner = User.objects.create_user(username=f"owner{run}")
            Membership.objects.create(study=study, user=owner, role=Role.OWNER)
            wall, cpu, report = timed(
                lambda study=study, owner=owner: project_import(
                    study=study, actor=owner, data=data, filename="bench.qdpx"
                )
            )
            assert report.imported == CODINGS, report.imported
            imports.append((wall, cpu))
            print(f"  {vendor} import run {run + 1}: wall {wall:.2f} s, CPU {cpu:.2f} s")
            wall, cpu, content = timed(lambda study=study: project_export(study=study, actor=None))
            exports.append((wall, cpu))
            print(
                f"  {vendor} export run {run + 1}: wall {wall:.2f} s, CPU {cpu:.2f} s, "
                f"{len(content):,} bytes"
            )  # type: ignore[arg-type]
            assert Segment.objects.filter(intervention__study=study).count() == CODINGS
        for label, figures in (("import", imports), ("export", exports)):
            walls = [w for w, _c in figures]
            cpus = [c for _w, c in figures]
            print(
                f"{vendor} {label}: median wall {statistics.median(walls):.2f} s "
                f"(max {max(walls):.2f}), median CPU {statistics.median(cpus):.2f} s"
            )
    print(f"load after {os.getloadavg()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
