"""After a load test: every code the server confirmed is one segment, and nothing else.

    DATABASE_URL=... .venv/bin/python benchmarks/load/check_segments.py APPLIED.json

Prints the confirmed applies, the segments in the database, the lost ones (confirmed, not
stored), the unexpected ones (stored, never confirmed) and the duplicates (the same coder,
text, code and span twice); exits 1 unless the last three are all 0.
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
    applied = json.loads(Path(applied_path).read_text(encoding="utf-8"))
    confirmed = Counter(
        (coder, text, code, start, end)
        for coder, rows in applied.items()
        for text, code, start, end in rows
    )
    stored = Counter(
        (coder, str(text), str(code), start, end)
        for coder, text, code, start, end in Segment.objects.values_list(
            "coder__username", "intervention__uuid", "code__uuid", "start", "end"
        )
    )
    lost = sum((confirmed - stored).values())
    unexpected = sum((stored - confirmed).values())
    duplicated = sum(n - 1 for n in stored.values() if n > 1)
    print(
        f"confirmed {sum(confirmed.values())}, stored {sum(stored.values())}, "
        f"lost {lost}, unexpected {unexpected}, duplicated {duplicated}"
    )
    return 0 if lost == unexpected == duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/veerkracht-load-applied.json"))
