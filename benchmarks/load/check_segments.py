"""After a load test: every code the server confirmed is one segment, and nothing else.

    DATABASE_URL=... .venv/bin/python benchmarks/load/check_segments.py APPLIED.json

Prints the confirmed applies, the segments in the database, the lost ones (confirmed, not
stored), the duplicates (the same coder, text, code and span twice), those sent but cut off by
the end of the test before their answer was read (stored or not: both are right), and the
unexpected ones (stored, never sent); exits 1 unless lost, duplicated and unexpected are 0.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veerkracht.settings")

import django  # noqa: E402

django.setup()

from coding.models import Segment  # noqa: E402


def main(applied_path: str) -> int:
    recorded = json.loads(Path(applied_path).read_text(encoding="utf-8"))
    confirmed = Counter(
        (coder, text, code, start, end)
        for coder, rows in recorded["applied"].items()
        for text, code, start, end in rows
    )
    cut_off = Counter(
        (coder, text, code, start, end)
        for coder, rows in recorded["pending"].items()
        for text, code, start, end in rows
    )
    stored = Counter(
        (coder, str(text), str(code), start, end)
        for coder, text, code, start, end in Segment.objects.values_list(
            "coder__username", "intervention__uuid", "code__uuid", "start", "end"
        )
    )
    lost = sum((confirmed - stored).values())
    unexpected = sum((stored - confirmed - cut_off).values())
    duplicated = sum(n - 1 for n in stored.values() if n > 1)
    print(
        f"confirmed {sum(confirmed.values())}, stored {sum(stored.values())}, "
        f"lost {lost}, duplicated {duplicated}, cut off by the stop {sum(cut_off.values())} "
        f"(stored {sum((stored & cut_off).values())}), unexpected {unexpected}"
    )
    return 0 if lost == unexpected == duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/veerkracht-load-applied.json"))
