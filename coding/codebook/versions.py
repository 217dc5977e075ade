"""What changed between two codebook snapshots: plain data in, plain data out, no ORM.

A snapshot is the list `services.tree_snapshot` stores on a `CodebookVersion`: dicts with name,
definition, inclusion, exclusion, example, color, origin, guid and children. Codes are matched
by guid, so a renamed or moved code is one code that changed, not one removed and one added.
A code without a guid (an old or hand-made snapshot) is matched by its path instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# The fields a diff compares besides the name and the place in the tree.
FIELDS = ("definition", "inclusion", "exclusion", "example", "color", "origin")

Path = tuple[str, ...]


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Renamed:
    path: Path
    old_name: str
    new_name: str


@dataclass(frozen=True)
class Moved:
    name: str
    old_path: Path
    new_path: Path


@dataclass(frozen=True)
class Changed:
    path: Path
    fields: tuple[FieldChange, ...]


@dataclass
class SnapshotDiff:
    added: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    renamed: list[Renamed] = field(default_factory=list)
    moved: list[Moved] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.renamed or self.moved or self.changed)


@dataclass(frozen=True)
class _Entry:
    path: Path
    parent_key: str | None
    item: dict[str, Any]


def _walk(snapshot: list[dict[str, Any]]) -> Iterator[tuple[Path, str | None, dict[str, Any]]]:
    """(path, parent key, item) depth-first in tree order; iterative, like `tree.walk`."""
    stack: list[tuple[Path, str | None, dict[str, Any]]] = [
        ((item.get("name", ""),), None, item) for item in reversed(snapshot)
    ]
    while stack:
        path, parent_key, item = stack.pop()
        yield path, parent_key, item
        key = _key(path, item)
        stack.extend(
            ((*path, child.get("name", "")), key, child)
            for child in reversed(item.get("children", []))
        )


def _key(path: Path, item: dict[str, Any]) -> str:
    guid = str(item.get("guid") or "").strip().lower()
    return guid or "path:" + "\x1f".join(part.casefold() for part in path)


def _flatten(snapshot: list[dict[str, Any]]) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for path, parent_key, item in _walk(snapshot):
        entries.setdefault(_key(path, item), _Entry(path, parent_key, item))
    return entries


def snapshot_diff(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> SnapshotDiff:
    """The changes that turn the tree `old` into the tree `new`, in tree order."""
    before, after = _flatten(old), _flatten(new)
    diff = SnapshotDiff()
    for key, entry in after.items():
        previous = before.get(key)
        if previous is None:
            diff.added.append(entry.path)
            continue
        old_name, new_name = previous.item.get("name", ""), entry.item.get("name", "")
        if old_name != new_name:
            diff.renamed.append(Renamed(entry.path, old_name, new_name))
        if previous.parent_key != entry.parent_key:
            diff.moved.append(Moved(new_name, previous.path, entry.path))
        fields = tuple(
            FieldChange(name, str(previous.item.get(name) or ""), str(entry.item.get(name) or ""))
            for name in FIELDS
            if (previous.item.get(name) or "") != (entry.item.get(name) or "")
        )
        if fields:
            diff.changed.append(Changed(entry.path, fields))
    diff.removed = [entry.path for key, entry in before.items() if key not in after]
    return diff
