"""How long the metadata import's dry run (the preview the upload request shows) takes for the
largest table accepted: 1,000 rows (or as many as the argument says) of the eight Dutch columns.

Run from the repository root: ``.venv/bin/python benchmarks/metadata_preview.py [rows]``
(DATABASE_URL set: on PostgreSQL). Prints wall and CPU time of reading the CSV and of the
dry run, against an empty study and against one that has every row already.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from throwaway_db import throwaway_database  # noqa: I001 (configures Django first)

from interventions import metadata  # noqa: E402
from interventions.services import study_create  # noqa: E402

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000
HEADERS = [
    "Interventie",
    "Primaire doelgroep",
    "Leeftijd primaire doelgroep",
    "Intermediaire doelgroep",
    "Hoofddoel",
    "Setting",
    "Type organisatie",
    "Uitvoerder",
]


def table_bytes() -> bytes:
    lines = [";".join(HEADERS)]
    for n in range(ROWS):
        lines.append(
            f"Interventie {n};Ouders;0-18;Leerkrachten;Afname problemen;Thuis;Wijkteam;Coach {n}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def timed(label: str, work: object) -> object:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()  # type: ignore[operator]
    print(
        f"{label}: wall {time.perf_counter() - wall:.2f} s, CPU {time.process_time() - cpu:.2f} s"
    )
    return result


def main() -> None:
    from django.contrib.auth import get_user_model

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    print(f"commit {commit}, load before {os.getloadavg()}")
    with throwaway_database() as vendor:
        owner = get_user_model().objects.create_user("eigenaar")
        study = study_create(name="Benchmark", slug="benchmark", owner=owner)
        data = table_bytes()
        print(f"database {vendor}, {ROWS} rows, {len(data)} bytes")
        table: Any = timed("read the CSV", lambda: metadata.read_table("tabel.csv", data))
        timed("dry run, empty study", lambda: metadata.preview_import(study=study, table=table))
        new = metadata.unknown_columns(study=study, table=table)
        timed(
            "apply (the job's work)",
            lambda: metadata.import_apply(study=study, table=table, new_attributes=new),
        )
        timed("dry run, every row there", lambda: metadata.preview_import(study=study, table=table))
    print(f"load after {os.getloadavg()}")


if __name__ == "__main__":
    main()
