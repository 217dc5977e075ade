"""How long the slowest codebook exports take for a large codebook.

Run from the repository root: ``.venv/bin/python benchmarks/codebook_export.py [runs]``.
It builds a 505-code tree (5 themes x 10 codes x 9 subcodes, definitions of about 300
characters) and times the Word table and the REFI-QDA codebook, the two exports that build the
most XML. No database is needed: the functions take plain trees.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

# A script's own folder is first on sys.path; the project packages live one level up.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veerkracht.settings_test")

import django  # noqa: E402

# Messages go through gettext, which needs configured settings (not a database).
django.setup()

from benchmarks.harness import run  # noqa: E402
from coding.codebook.files import to_docx_table  # noqa: E402
from coding.codebook.qdc import to_qdc, validate_qdc  # noqa: E402
from coding.codebook.tree import CodeNode, count, validate_tree  # noqa: E402

THEMES, CODES, SUBCODES = 5, 10, 9
COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2")
SENTENCE = (
    "De interventie versterkt de hulpbronnen van het gezin, zodat ouders en kinderen "
    "beter met tegenslag kunnen omgaan; denk aan een steunend netwerk, zelfvertrouwen, "
    "bestaanszekerheid en een gedeelde identiteit. "
)


def _definition(label: str) -> str:
    text = f"{label}: {SENTENCE}{SENTENCE}"
    return text[:300]


def _node(name: str, index: int, children: list[CodeNode] | None = None) -> CodeNode:
    return CodeNode(
        name=name,
        definition=_definition(name),
        inclusion="Passages die dit expliciet noemen." if index % 2 else "",
        exclusion="Algemene doelen zonder verwijzing naar het gezin." if index % 3 == 0 else "",
        example="“Ouders oefenen thuis met hun kinderen.”" if index % 4 == 0 else "",
        origin="inductive" if index % 3 == 1 else "deductive",
        guid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"benchmark/{name}")),
        children=children or [],
    )


def build_tree() -> list[CodeNode]:
    themes = []
    for t in range(THEMES):
        codes = []
        for c in range(CODES):
            subcodes = [_node(f"Subcode {t + 1}.{c + 1}.{s + 1} – ‘ë’", s) for s in range(SUBCODES)]
            codes.append(_node(f"Code {t + 1}.{c + 1}", c, subcodes))
        theme = _node(f"Thema {t + 1}: hulpbronnen", t, codes)
        theme.color = COLORS[t]
        themes.append(theme)
    return themes


def _validated(data: bytes) -> bytes:
    validate_qdc(data)
    return data


def timed(function: Callable[[], bytes], runs: int) -> tuple[float, float, int]:
    timings = []
    size = 0
    for _run in range(runs):
        started = time.perf_counter()
        size = len(function())
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), max(timings), size


def measure(args: list[str]) -> dict[str, float]:
    runs = int(args[0]) if args else 5
    figures: dict[str, float] = {}
    tree = build_tree()
    validate_tree(tree)
    qdc_bytes = to_qdc(tree, validate=False)

    cases: list[tuple[str, Callable[[], bytes]]] = [
        ("docx table", lambda: to_docx_table(tree, "Codeboek")),
        ("qdc + validate", lambda: to_qdc(tree)),
        ("  qdc write only", lambda: to_qdc(tree, validate=False)),
        ("  qdc validate only", lambda: _validated(qdc_bytes)),
    ]
    print(f"{count(tree)} codes, {runs} runs each (first run includes one-off loading)")
    print(f"{'format':<22}{'median s':>10}{'max s':>10}{'size KB':>10}")
    for label, function in cases:
        median, worst, size = timed(function, runs)
        print(f"{label:<22}{median:>10.3f}{worst:>10.3f}{size / 1024:>10.0f}")
        figures[f"{label.strip()} median s"] = median
    return figures


if __name__ == "__main__":
    run(measure)
