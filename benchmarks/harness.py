"""What every benchmark prints around its figures, and `--against REV`.

A benchmark's `main` calls `run(measure, argv)`. `measure(args)` prints the benchmark's own
table and returns its key figures ({label: milliseconds or seconds}). Around it `run` prints
the commit, the machine, the load average before and after, wall time and the process's CPU
time (its own and its child processes'), and last a line ``BENCH {json}`` with the figures.

``--against REV`` (with ``--rounds N``, default 3) measures the commit REV beside the working
tree, alternately, round after round, so both see the same machine in the same minutes: REV is
checked out once in a temporary git worktree (``/tmp/veerkracht-bench-<sha>``), this
benchmark's folder is copied into it (the tool is the same; the code measured is REV's), and
each side runs as its own process. It then prints each side's median per figure and the ratio
(working tree / REV: below 1 is faster now).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
Figures = dict[str, float]


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def commit(cwd: Path = ROOT) -> str:
    sha = git("rev-parse", "--short", "HEAD", cwd=cwd)
    dirty = git("status", "--porcelain", "--untracked-files=no", cwd=cwd)
    return sha + (" (with uncommitted changes)" if dirty else "")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_seconds() -> tuple[float, float]:
    """User and system CPU seconds of this process and its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + children.ru_utime, own.ru_stime + children.ru_stime


def machine() -> str:
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def _split(argv: Sequence[str]) -> tuple[list[str], str | None, int]:
    args, against, rounds = [], None, 3
    items = iter(argv)
    for item in items:
        if item == "--against":
            against = next(items)
        elif item.startswith("--against="):
            against = item.split("=", 1)[1]
        elif item == "--rounds":
            rounds = int(next(items))
        elif item.startswith("--rounds="):
            rounds = int(item.split("=", 1)[1])
        else:
            args.append(item)
    return args, against, rounds


def run(measure: Callable[[list[str]], Figures], argv: Sequence[str] | None = None) -> None:
    """Run a benchmark: alone, or against another commit with ``--against REV``."""
    args, against, rounds = _split(sys.argv[1:] if argv is None else argv)
    if against:
        _against(against, args, rounds)
        return
    print(f"commit {commit()}; {machine()}; load average before {load()}", flush=True)
    wall_started = time.perf_counter()
    user0, sys0 = cpu_seconds()
    figures = measure(args)
    wall = time.perf_counter() - wall_started
    user1, sys1 = cpu_seconds()
    print(
        f"wall {wall:.2f} s; CPU {user1 - user0:.2f} s user + {sys1 - sys0:.2f} s system; "
        f"load average after {load()}"
    )
    print("BENCH " + json.dumps(figures))


def _worktree(rev: str) -> Path:
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    path = Path(f"/tmp/veerkracht-bench-{sha[:12]}")
    if not path.exists():
        git("worktree", "add", "--detach", str(path), sha)
    # The measuring tool is this one; the code measured is REV's.
    shutil.copytree(ROOT / "benchmarks", path / "benchmarks", dirs_exist_ok=True)
    return path


def _one(root: Path, script: str, args: list[str]) -> Figures:
    done = subprocess.run(
        [sys.executable, str(root / "benchmarks" / script), *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"{script} failed in {root}")
    line = [x for x in done.stdout.splitlines() if x.startswith("BENCH ")][-1]
    figures: Figures = json.loads(line[len("BENCH ") :])
    return figures


def _against(rev: str, args: list[str], rounds: int) -> None:
    script = Path(sys.argv[0]).name
    other = _worktree(rev)
    print(f"working tree: {commit()}; against {rev}: {commit(other)} in {other}")
    print(f"{machine()}; load average before {load()}; {rounds} rounds, alternating\n")
    mine: list[Figures] = []
    theirs: list[Figures] = []
    started = time.perf_counter()
    for number in range(rounds):
        # Alternate who goes first, so neither always meets a warmer or busier machine.
        order = [(ROOT, mine), (other, theirs)]
        if number % 2:
            order.reverse()
        for root, into in order:
            label = "working tree" if root == ROOT else rev
            print(f"--- round {number + 1}, {label}", flush=True)
            into.append(_one(root, script, args))
    print(f"\nmedians of {rounds} rounds; ratio = working tree / {rev}")
    print(f"{'figure':<44}{'now':>12}{rev[:12]:>14}{'ratio':>8}")
    for key in mine[0]:
        now = statistics.median(f[key] for f in mine)
        then_values = [f[key] for f in theirs if key in f]
        if not then_values:
            print(f"{key:<44}{now:>12.2f}{'-':>14}{'-':>8}")
            continue
        then = statistics.median(then_values)
        ratio = f"{now / then:.2f}" if then else "-"
        print(f"{key:<44}{now:>12.2f}{then:>14.2f}{ratio:>8}")
    print(f"wall {time.perf_counter() - started:.1f} s for both sides; load average after {load()}")
