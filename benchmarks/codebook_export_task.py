"""Task time of the codebook exports: the Celery task end to end on a 505-code study.

Run from the repository root: ``.venv/bin/python benchmarks/codebook_export_task.py [runs]``
(SQLite; with DATABASE_URL set, PostgreSQL). Unlike benchmarks/codebook_export.py, which times
the format functions alone, this reads the tree from the database and stores the file on the
job row, as the worker does. Target: each export under 2 s.
"""

from __future__ import annotations

import statistics
import time

from throwaway_db import throwaway_database

from benchmarks.codebook_export import build_tree
from benchmarks.harness import run


def measure(args: list[str]) -> dict[str, float]:
    runs = int(args[0]) if args else 5
    figures: dict[str, float] = {}
    from django.contrib.auth import get_user_model

    from coding.codebook import services
    from coding.models import Code, ExportJob
    from coding.tasks import run_export
    from interventions.services import study_create

    with throwaway_database() as vendor:
        owner = get_user_model().objects.create_user("eigenaar")
        study = study_create(name="Benchmark", owner=owner)
        services.codebook_import(study=study, actor=owner, nodes=build_tree())
        n_codes = Code.objects.filter(study=study).count()
        print(f"database: {vendor}; codes: {n_codes}; runs: {runs}")
        print(f"{'format':<8} {'median s':>9} {'max s':>7} {'size KB':>8}")
        for fmt in ("docx", "qdc"):
            times, size = [], 0
            for _ in range(runs):
                job = ExportJob.objects.create(study=study, created_by=owner, format=fmt)
                started = time.perf_counter()
                run_export.apply(args=[job.pk])
                times.append(time.perf_counter() - started)
                job.refresh_from_db()
                assert job.status == ExportJob.Status.DONE, job.error
                size = len(bytes(job.content or b""))
            print(
                f"{fmt:<8} {statistics.median(times):>9.3f} {max(times):>7.3f} {size / 1024:>8.0f}"
            )
            figures[f"{fmt} median s"] = statistics.median(times)
    return figures


if __name__ == "__main__":
    run(measure)
