"""How long `manage.py import_codebook` takes for a JSON codebook of 5,000 codes.

Run from the repository root: ``.venv/bin/python benchmarks/codebook_import_cli.py [--profile]``
(DATABASE_URL set: on PostgreSQL). It writes a 5,000-code JSON file (50 themes x 99 codes,
definitions of about 300 characters), imports it into an empty study of a throwaway database
through the command, then imports it again (every code unchanged), and prints wall and
process CPU time with the load average and the commit. `--profile` prints the slowest
functions of the first import.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.management import call_command  # noqa: E402
from throwaway_db import throwaway_database  # noqa: I001 (configures Django first)

from interventions.models import Role  # noqa: E402
from interventions.services import membership_add, study_create  # noqa: E402

THEMES, CODES = 50, 99
SENTENCE = (
    "De interventie versterkt de hulpbronnen van het gezin, zodat ouders en kinderen "
    "beter met tegenslag kunnen omgaan; denk aan een steunend netwerk en zelfvertrouwen. "
)


def codebook() -> bytes:
    themes = [
        {
            "name": f"Thema {t + 1}",
            "definition": SENTENCE * 2,
            "children": [
                {"name": f"Code {t + 1}.{c + 1}", "definition": (SENTENCE * 2)[:300]}
                for c in range(CODES)
            ],
        }
        for t in range(THEMES)
    ]
    return json.dumps({"codes": themes}, ensure_ascii=False).encode("utf-8")


def timed(label: str, work: object, profile: bool = False) -> None:
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    work()  # type: ignore[operator]
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label}: wall {wall:.2f} s, CPU {cpu:.2f} s")
    if profiler:
        stats = io.StringIO()
        pstats.Stats(profiler, stream=stats).sort_stats("cumulative").print_stats(25)
        print(stats.getvalue())


def main() -> None:
    from django.contrib.auth import get_user_model

    profile = "--profile" in sys.argv
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"commit {commit}, load before {os.getloadavg()}")
    with throwaway_database() as vendor, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "codebook.json"
        path.write_bytes(codebook())
        owner = get_user_model().objects.create_user("eigenaar")
        study = study_create(name="Benchmark", slug="benchmark", owner=owner)
        membership_add(study=study, user=owner, role=Role.OWNER)
        out = io.StringIO()
        print(f"database {vendor}, {THEMES * (CODES + 1)} codes, {path.stat().st_size} bytes")

        def run() -> None:
            call_command("import_codebook", "--study", "benchmark", str(path), stdout=out)

        timed("first import (all added)", run, profile)
        timed("second import (all unchanged)", run)
        print(out.getvalue().splitlines()[0])
    print(f"load after {os.getloadavg()}")


if __name__ == "__main__":
    main()
