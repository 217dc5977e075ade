"""Names of uploaded files, which come from the client and are never trusted."""

from __future__ import annotations

import re
import unicodedata


def display_name(filename: str) -> str:
    """The file name fit for a message: its last path part only, on one line, at most 80."""
    base = re.split(r"[/\\]", filename)[-1]
    base = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in base).strip()
    base = base or "?"
    return base if len(base) <= 80 else base[:79] + "…"


def extension(filename: str) -> str:
    """The lower-case extension with its dot ('.pdf'), or '' when there is none."""
    base = re.split(r"[/\\]", filename)[-1].strip().lower()
    _stem, dot, suffix = base.rpartition(".")
    return "." + suffix if dot else ""
