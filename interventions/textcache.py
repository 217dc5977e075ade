"""The texts this process read lately, so that applying a code need not read a long text again.

Applying a code checks the selection against the text (`text[start:end] == quote`). Read from
the database on every apply, a text of 600,000 characters costs milliseconds each time
(PostgreSQL decompresses it for every read); the text does not change between two applies, so
each process keeps the texts it read, by intervention and version: those a page read with
its access (`interventions.access`) and those an apply read under its lock.

A version is the intervention's `updated_at`: a text is immutable once coded, and the one
service that may still change an uncoded text (`intervention_update`) saves `updated_at` with
it. The apply reads `updated_at` again under the intervention's row lock and takes the kept
text only when it is the same, so a text changed in between is read afresh.

The texts kept are bounded by their total length (`TEXT_CACHE_CHARACTERS`, default 8 million:
8 to 32 MB per process); the least recently used go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.conf import settings


class TextCache:
    """Texts by intervention id, each with its version, at most `characters` characters in
    all."""

    def __init__(self, characters: int) -> None:
        self.characters = characters
        self._texts: OrderedDict[int, tuple[Any, str]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def get(self, pk: int, version: Any) -> str | None:
        """The text of intervention `pk` at `version`; None when not kept (or another version
        is)."""
        with self._lock:
            kept = self._texts.get(pk)
            if kept is None or kept[0] != version:
                return None
            self._texts.move_to_end(pk)
            return kept[1]

    def put(self, pk: int, version: Any, text: str) -> None:
        """Keep `text` as intervention `pk`'s, instead of any other version; a text longer
        than the whole budget is not kept."""
        if len(text) > self.characters:
            return
        with self._lock:
            kept = self._texts.pop(pk, None)
            if kept is not None:
                self._held -= len(kept[1])
            self._texts[pk] = (version, text)
            self._held += len(text)
            while self._held > self.characters:
                _pk, (_version, dropped) = self._texts.popitem(last=False)
                self._held -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._texts.clear()
            self._held = 0

    def __len__(self) -> int:
        return len(self._texts)


texts = TextCache(settings.TEXT_CACHE_CHARACTERS)
