"""The code tree as the pages draw it: every code in order, with its path, colour and counts.

The codebook editor, the workspace's code tree and picker, the report pages and the review
pages all show a code by its path, joined with `SEPARATOR`. Counts are whatever the caller
counted (for a blind coder, their own layer only); this module only arranges them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from django.utils.translation import gettext as _

from coding.codebook.tree import PATH_SEPARATOR, safe_color, subtree_ids

if TYPE_CHECKING:
    from coding.models import Code

SEPARATOR = " › "

Key = TypeVar("Key", bound=Hashable)


def display_path(path: Iterable[str]) -> str:
    """A code's path as a page shows it: "Sociale hulpbronnen › Doelen"."""
    return SEPARATOR.join(path)


def short_paths(
    paths: Mapping[Key, Sequence[str]], only: Collection[Key] | None = None
) -> dict[Key, str]:
    """Every code's shortest unambiguous name among `paths` (a codebook's paths by key), as a
    page shows a code without its tree around it: the bare name when no other code has it,
    else the shortest end of its path that no other path ends in ("Sociale hulpbronnen ›
    Inhoud"). Names compare without case. Two codes with the same whole path keep it whole.
    With `only`, the names of those codes alone (still among all of `paths`)."""
    keys = {code: tuple(part.casefold() for part in path) for code, path in paths.items()}
    if only is None:
        ends: Counter[tuple[str, ...]] = Counter()
        for key in keys.values():
            ends.update(key[-n:] for n in range(1, len(key) + 1))

        def shared(end: tuple[str, ...]) -> int:
            return ends[end]
    else:

        def shared(end: tuple[str, ...]) -> int:
            return sum(1 for key in keys.values() if key[-len(end) :] == end)

    short = {}
    for code in paths if only is None else only:
        key, path = keys[code], paths[code]
        n = next((n for n in range(1, len(key)) if shared(key[-n:]) == 1), len(key))
        short[code] = display_path(path[-n:])
    return short


def display_path_string(path: str) -> str:
    """A stored path string (`coding.codebook.tree.PATH_SEPARATOR`) as a page shows it."""
    return path.replace(PATH_SEPARATOR, SEPARATOR)


@dataclass
class OutlineNode:
    code: Code
    level: int
    path: tuple[str, ...]
    total: int = 0
    here: int = 0
    children: list[OutlineNode] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.total

    @property
    def swatch(self) -> str:
        return safe_color(self.code.color)

    @property
    def label(self) -> str:
        return display_path(self.path)

    @property
    def search(self) -> str:
        return " ".join(self.path).casefold()

    @property
    def count_title(self) -> str:
        return _("%(here)s in this text, %(total)s in all texts") % {
            "here": self.here,
            "total": self.total,
        }


@dataclass
class Outline:
    roots: list[OutlineNode]
    ordered: list[OutlineNode]
    # The codes' short names when the outline holds only some codes of the codebook (an answer
    # that sends just the codes it touched), where names among the part alone would be too short.
    given_short_labels: dict[int, str] | None = None

    @cached_property
    def nodes(self) -> dict[int, OutlineNode]:
        return {node.code.pk: node for node in self.ordered}

    @cached_property
    def short_labels(self) -> dict[int, str]:
        """Each code's shortest unambiguous path (`short_paths`) by id."""
        if self.given_short_labels is not None:
            return self.given_short_labels
        return short_paths({node.code.pk: node.path for node in self.ordered})

    def node(self, code: Code | None) -> OutlineNode | None:
        return None if code is None else self.nodes.get(code.pk)

    def others(self, code: Code) -> list[OutlineNode]:
        """Every code except `code` and its subcodes: where it can move or merge to."""
        children = {n.code.pk: [child.code.pk for child in n.children] for n in self.ordered}
        own = subtree_ids(code.pk, lambda pk: children.get(pk, []))
        return [n for n in self.ordered if n.code.pk not in own]


def outline(
    children: Mapping[int | None, list[Code]],
    *,
    totals: Mapping[int, int],
    here: Mapping[int, int] | None = None,
) -> Outline:
    """The tree of `children` (codes by parent id, in order) with a count or two per code."""
    here = here or {}
    ordered: list[OutlineNode] = []

    def build(parent_id: int | None, prefix: tuple[str, ...]) -> list[OutlineNode]:
        nodes = []
        for code in children.get(parent_id, []):
            path = (*prefix, code.name)
            node = OutlineNode(
                code, len(prefix) + 1, path, totals.get(code.pk, 0), here.get(code.pk, 0)
            )
            ordered.append(node)
            node.children = build(code.pk, path)
            nodes.append(node)
        return nodes

    return Outline(build(None, ()), ordered)
