"""An agreement run over many texts on real Celery workers: one worker, then two.

Run from the repository root with PostgreSQL and Redis (not part of the test suite):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/veerkracht_bench \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python benchmarks/agreement_workers.py \\
        [texts=624] [--workers 1,2] [--units character,word,intervention,segment] [--block 16]

It makes a throwaway test database (benchmarks/throwaway_db.py) holding the data of
benchmarks/agreement.py (texts of 30,000 characters with a section not coded, 20 codes, 3
coders who each code about 1,500 segments per 39 texts, every text assigned to every coder),
then for each number of workers starts that many worker processes (`--pool=solo`, one task at a
time each, on a queue of their own, with the real settings and AGREEMENT_SPLIT on) and times an
agreement run per unit from `agreement_run_start` until the run is done: the wall time a user
waits, and the workers' CPU time. It also computes each run in this process, in one go, as
the in-process path does, and checks the workers stored exactly that result.
Target (issue 14): 624 texts under 10 s with two workers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import run  # noqa: E402
from benchmarks.throwaway_db import throwaway_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
UNITS = ("character", "word", "intervention", "segment")


def options(args: list[str]) -> tuple[int, list[int], list[str], int]:
    texts, workers, units, block = 624, [1, 2], list(UNITS), 16
    items = iter(args)
    for item in items:
        if item == "--workers":
            workers = [int(n) for n in next(items).split(",")]
        elif item == "--units":
            units = next(items).split(",")
        elif item == "--block":
            block = int(next(items))
        else:
            texts = int(item)
    return texts, workers, units, block


def load_data(texts: int) -> tuple[Any, Any, list[str]]:
    """The study of benchmarks/agreement.py in the database: (study, owner, coder names)."""
    from django.contrib.auth.models import User

    from benchmarks.agreement import LENGTH, build
    from coding.codebook.services import code_create
    from coding.models import Assignment, Segment
    from interventions.models import Intervention, Membership, Role, Section, Study

    data = build(texts)
    study = Study.objects.create(name="Agreement benchmark", slug="agreement-benchmark")
    owner = User.objects.create_user("eigenaar")
    Membership.objects.create(study=study, user=owner, role=Role.OWNER)
    users = {}
    for name in data.coders:
        users[name] = User.objects.create_user(name)
        Membership.objects.create(study=study, user=users[name], role=Role.CODER)
    code_pk: dict[int, int] = {}
    for info in sorted(data.codes, key=lambda c: len(c.path)):
        parent = code_pk.get(info.parent_id) if info.parent_id else None
        from coding.models import Code

        made = code_create(
            study=study,
            actor=owner,
            name=info.path[-1],
            parent=Code.objects.get(pk=parent) if parent else None,
        )
        code_pk[info.id] = made.pk
    made_docs = Intervention.objects.bulk_create(
        Intervention(study=study, title=doc.title, text=doc.text) for doc in data.docs
    )
    doc_pk = {doc.id: made.pk for doc, made in zip(data.docs, made_docs, strict=True)}
    Section.objects.bulk_create(
        Section(intervention_id=pk, start=s, end=e, heading=h, excluded=x)
        for pk in doc_pk.values()
        for s, e, h, x in ((0, 2000, "Doel", False), (2000, 4000, "Samenvatting", True))
        + ((4000, LENGTH, "Aanpak", False),)
    )
    texts_by_id = {doc.id: doc.text for doc in data.docs}
    seen, rows = set(), []
    for seg in data.segments:
        key = (seg.doc_id, seg.coder, seg.code_id, seg.start, seg.end)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            Segment(
                intervention_id=doc_pk[seg.doc_id],
                coder=users[seg.coder],
                code_id=code_pk[seg.code_id],
                start=seg.start,
                end=seg.end,
                quote=texts_by_id[seg.doc_id][seg.start : seg.end],
            )
        )
    Segment.objects.bulk_create(rows, batch_size=5000)
    Assignment.objects.bulk_create(
        Assignment(intervention_id=pk, coder=users[name], created_by=owner)
        for name in data.coders
        for pk in doc_pk.values()
    )
    return study, owner, list(data.coders)


def worker_cpu(process: subprocess.Popen[bytes]) -> float:
    """User + system CPU seconds of a worker process so far."""
    fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_workers(n: int, queue: str, database: str, block: int) -> list[Any]:
    from veerkracht.celery import app as celery_app

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "veerkracht.settings",
        "DEBUG": "false",
        "DATABASE_URL": database,
        "CELERY_QUEUE": queue,
        "AGREEMENT_SPLIT": "1",
        "AGREEMENT_BLOCK_TEXTS": str(block),
    }
    workers = []
    for number in range(n):
        name = f"{queue}-{number}@{socket.gethostname()}"
        command = [
            sys.executable, "-m", "celery", "-A", "veerkracht", "worker", "--pool=solo",
            "--concurrency=1", "-Q", queue, "-n", name, "--loglevel=INFO",
            "--without-mingle", "--without-gossip",
        ]  # fmt: skip
        log = Path(f"/tmp/{queue}-{number}.log")
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        workers.append((process, name))
    deadline = time.monotonic() + 60
    for process, name in workers:
        while not any(name in reply for reply in celery_app.control.ping([name], timeout=1.0)):
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"worker {name} did not start")
    return [process for process, _name in workers]


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for process in workers:
        process.terminate()
    for process in workers:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def measure(args: list[str]) -> dict[str, float]:
    texts, worker_counts, units, block = options(args)
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        raise SystemExit("needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)")
    from django.db import connection

    from coding.agreement.runs import agreement_run_start, clean_params, compute_for_study
    from coding.models import AgreementRun, Segment
    from veerkracht.celery import app as celery_app

    figures: dict[str, float] = {}
    with throwaway_database():
        started = time.perf_counter()
        study, owner, coders = load_data(texts)
        n_segments = Segment.objects.count()
        print(
            f"{texts} texts x 30,000 characters, 20 codes, {len(coders)} coders, "
            f"{n_segments:,} segments; loaded in {time.perf_counter() - started:.1f} s; "
            f"blocks of {block} texts"
        )
        name = connection.settings_dict["NAME"]
        database = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}"))
        queue = f"veerkracht-bench-{uuid.uuid4().hex[:8]}"
        celery_app.conf.task_always_eager = False
        celery_app.conf.task_default_queue = queue
        celery_app.__dict__.pop("amqp", None)

        expected: dict[str, Any] = {}
        print(f"\n{'unit':<14}{'where':<22}{'wall s':>9}{'CPU s':>9}")
        for unit in units:
            params = clean_params(study=study, coders=coders, unit=unit)
            wall0, cpu0 = time.perf_counter(), time.process_time()
            expected[unit] = compute_for_study(study, params)[0]
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            print(f"{unit:<14}{'in-process, one go':<22}{wall:>9.2f}{cpu:>9.2f}")
            figures[f"{unit}, in-process wall s"] = wall
        for count in worker_counts:
            workers = start_workers(count, queue, database, block)
            try:
                for unit in units:
                    cpu_before = sum(worker_cpu(w) for w in workers)
                    wall0 = time.perf_counter()
                    job = agreement_run_start(study=study, actor=owner, coders=coders, unit=unit)
                    while True:
                        job.refresh_from_db(fields=["status", "error"])
                        if job.status in (AgreementRun.Status.DONE, AgreementRun.Status.FAILED):
                            break
                        time.sleep(0.05)
                    wall = time.perf_counter() - wall0
                    cpu = sum(worker_cpu(w) for w in workers) - cpu_before
                    assert job.status == AgreementRun.Status.DONE, job.error
                    job.refresh_from_db()
                    assert job.result == expected[unit], f"{unit}: not the in-process result"
                    where = f"{count} worker{'s' if count > 1 else ''}"
                    print(f"{unit:<14}{where:<22}{wall:>9.2f}{cpu:>9.2f}")
                    figures[f"{unit}, {where} wall s"] = wall
                    figures[f"{unit}, {where} worker CPU s"] = cpu
            finally:
                stop_workers(workers)
        for count in worker_counts:
            where = f"{count} worker{'s' if count > 1 else ''}"
            total = sum(figures[f"{unit}, {where} wall s"] for unit in units)
            figures[f"all units, {where} wall s"] = total
            print(f"{'all units':<14}{where:<22}{total:>9.2f}")
        print("every run stored exactly the in-process result")
    return figures


if __name__ == "__main__":
    run(measure)
