"""The tables of the results chapter: code frequencies, code × intervention matrix, cross-tab by
property, co-occurrence.

Two halves. `load_corpus` reads what one table counts (the interventions in the filter, the code
tree, the coded spans of one layer, a property's values) with a fixed number of queries and
applies the rules of sight; the table functions below it are plain functions of that `Corpus`,
so tests can check them against tables computed by hand.

Rules every table keeps:
- A code counts its descendants: a segment of "Sociale hulpbronnen > Doelen" counts for the theme
  "Sociale hulpbronnen" too. Rows are every code in tree order, as paths joined with " > ".
- A layer is one coder's segments, or "consensus": the consensus segments of the interventions
  the team reconciled and every visible coder's segments elsewhere (as the code report does).
- Segments that touch a section marked not-to-code do not count (they were coded before the
  section was excluded).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from coding.codebook.services import (
    code_guids,
    codebook_tree,
    codes_by_parent,
    paths_from,
    tree_snapshot,
)
from coding.codebook.tree import path_string
from coding.consensus import services as consensus
from coding.consensus.services import CONSENSUS, consensus_coded_ids
from coding.models import CodebookVersion, ConsensusSegment, Segment
from coding.sight import visible_ids
from interventions.access import access_for
from interventions.models import (
    AttributeDefinition,
    AttributeValue,
    Intervention,
    Membership,
    Section,
    Study,
)

TABLES = ("frequencies", "matrix", "crosstab", "cooccurrence")
COUNTS = ("interventions", "segments")
FREQUENCY_COLUMNS = ["interventions", "segments"]
NO_VALUE = "(no value)"
# A property value that lists several ("Thuis; Zorginstelling") counts in each of them.
VALUE_SEPARATOR = ";"


class AnalysisError(ValueError):
    """A table that cannot be made as asked; str(error) is the message for the user."""


@dataclass(frozen=True)
class Mark:
    """One coded span of a layer: a coder's segment or a consensus segment."""

    intervention_id: int
    code_id: int
    layer: str
    start: int
    end: int


@dataclass(frozen=True)
class CodeRow:
    pk: int
    path: tuple[str, ...]
    ancestors: tuple[int, ...]  # the code itself first, then its parent, up to the theme


@dataclass
class Corpus:
    """What a table counts: interventions in title order, codes in tree order, marks."""

    interventions: list[tuple[int, str]]
    codes: list[CodeRow]
    marks: list[Mark]
    values: dict[int, list[str]] = field(default_factory=dict)
    layer: str = CONSENSUS
    codebook_version: int | None = None
    # Codes whose segments this table leaves out: not in the chosen codebook version.
    left_out: int = 0

    def code_index(self) -> dict[int, int]:
        return {code.pk: i for i, code in enumerate(self.codes)}

    def rolled_up(self, mark: Mark) -> tuple[int, ...]:
        """The row indexes `mark` counts in: its code's and every ancestor's."""
        return self._rollup()[mark.code_id]

    def _rollup(self) -> dict[int, tuple[int, ...]]:
        cached: dict[int, tuple[int, ...]] | None = getattr(self, "_rollup_cache", None)
        if cached is None:
            index = self.code_index()
            cached = {
                code.pk: tuple(index[pk] for pk in code.ancestors if pk in index)
                for code in self.codes
            }
            self._rollup_cache = cached
        return cached


@dataclass
class Table:
    table: str
    layer: str
    count: str
    rows: list[str]
    columns: list[str]
    cells: list[list[int]]
    row_totals: list[int]
    column_totals: list[int]
    n_interventions: int
    codebook_version: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "layer": self.layer,
            "count": self.count,
            "rows": self.rows,
            "columns": self.columns,
            "cells": self.cells,
            "row_totals": self.row_totals,
            "column_totals": self.column_totals,
            "n_interventions": self.n_interventions,
            "codebook_version": self.codebook_version,
        }


def _rows(corpus: Corpus) -> list[str]:
    return [path_string(code.path) for code in corpus.codes]


def _zeros(n_rows: int, n_columns: int) -> list[list[int]]:
    return [[0] * n_columns for _ in range(n_rows)]


def _check_count(count: str) -> None:
    if count not in COUNTS:
        raise AnalysisError(
            _("Count “%(count)s” is unknown: choose interventions or segments.") % {"count": count}
        )


def _themes(corpus: Corpus) -> list[int]:
    """Row indexes of the top-level codes: every segment counts in exactly one of them."""
    return [i for i, code in enumerate(corpus.codes) if len(code.path) == 1]


def _table(corpus: Corpus, name: str, count: str, **parts: Any) -> Table:
    return Table(
        table=name,
        layer=corpus.layer,
        count=count,
        n_interventions=len(corpus.interventions),
        codebook_version=corpus.codebook_version,
        **parts,
    )


# The tables -------------------------------------------------------------------------------


def frequencies(corpus: Corpus, count: str = "interventions") -> Table:
    """Per code: interventions with at least one segment, and segments.

    Columns are ["interventions", "segments"]; a row's total is its figure in `count`; the
    column totals are the interventions with any segment and all segments, each once.
    """
    _check_count(count)
    n = len(corpus.codes)
    segments = [0] * n
    where: list[set[int]] = [set() for _ in range(n)]
    for mark in corpus.marks:
        for row in corpus.rolled_up(mark):
            segments[row] += 1
            where[row].add(mark.intervention_id)
    cells = [[len(where[i]), segments[i]] for i in range(n)]
    column = 0 if count == "interventions" else 1
    return _table(
        corpus,
        "frequencies",
        count,
        rows=_rows(corpus),
        columns=list(FREQUENCY_COLUMNS),
        cells=cells,
        row_totals=[cell[column] for cell in cells],
        column_totals=[
            len({mark.intervention_id for mark in corpus.marks}),
            len(corpus.marks),
        ],
    )


def matrix(corpus: Corpus, count: str = "interventions") -> Table:
    """Codes × interventions: presence (1/0) when counting interventions, else segments.

    A row's total is the sum of its cells; a column's total adds up the themes' rows, so each
    segment (or, for presence, each theme present) counts once.
    """
    _check_count(count)
    column_of = {pk: j for j, (pk, _title) in enumerate(corpus.interventions)}
    cells = _zeros(len(corpus.codes), len(column_of))
    for mark in corpus.marks:
        j = column_of.get(mark.intervention_id)
        if j is None:
            continue
        for row in corpus.rolled_up(mark):
            if count == "segments":
                cells[row][j] += 1
            else:
                cells[row][j] = 1
    themes = _themes(corpus)
    return _table(
        corpus,
        "matrix",
        count,
        rows=_rows(corpus),
        columns=[title for _pk, title in corpus.interventions],
        cells=cells,
        row_totals=[sum(row) for row in cells],
        column_totals=[sum(cells[i][j] for i in themes) for j in range(len(column_of))],
    )


def crosstab(corpus: Corpus, count: str = "interventions") -> Table:
    """Codes × the values of one property (`corpus.values`).

    Counting interventions, a cell is the interventions with that value and the code, a column's
    total the interventions with that value (the base of a column percentage) and a row's total
    the interventions with the code. Counting segments, the same with segments. An intervention
    whose value lists several counts in each column, and once in the totals of its row.
    """
    _check_count(count)
    labels = sorted(
        {value for values in corpus.values.values() for value in values}, key=_natural_key
    )
    if any(not corpus.values.get(pk) for pk, _title in corpus.interventions):
        labels.append(NO_VALUE)
    column_of = {label: j for j, label in enumerate(labels)}
    columns_of = {
        pk: [column_of[value] for value in corpus.values.get(pk) or [NO_VALUE]]
        for pk, _title in corpus.interventions
    }
    n = len(corpus.codes)
    cells = _zeros(n, len(labels))
    column_totals = [0] * len(labels)
    row_totals = [0] * n
    if count == "interventions":
        where: list[set[int]] = [set() for _ in range(n)]
        for mark in corpus.marks:
            for row in corpus.rolled_up(mark):
                where[row].add(mark.intervention_id)
        for i in range(n):
            for pk in where[i]:
                for j in columns_of.get(pk, ()):
                    cells[i][j] += 1
            row_totals[i] = len(where[i] & columns_of.keys())
        for columns in columns_of.values():
            for j in columns:
                column_totals[j] += 1
    else:
        for mark in corpus.marks:
            columns = columns_of.get(mark.intervention_id, [])
            for j in columns:
                column_totals[j] += 1
            for row in corpus.rolled_up(mark):
                row_totals[row] += 1
                for j in columns:
                    cells[row][j] += 1
    return _table(
        corpus,
        "crosstab",
        count,
        rows=_rows(corpus),
        columns=labels,
        cells=cells,
        row_totals=row_totals,
        column_totals=column_totals,
    )


def cooccurrence(corpus: Corpus, count: str = "interventions") -> Table:
    """Codes × codes.

    Counting interventions, a cell is the interventions where both codes occur and the diagonal
    the code's own interventions. Counting segments, a cell is the pairs of two different
    segments, one of each code, that overlap in the same intervention and the same layer, and
    the diagonal the code's own segments. A row's (and column's) total adds up its cells off
    the diagonal.
    """
    _check_count(count)
    n = len(corpus.codes)
    cells = _zeros(n, n)
    if count == "interventions":
        present: dict[int, set[int]] = defaultdict(set)
        for mark in corpus.marks:
            present[mark.intervention_id].update(corpus.rolled_up(mark))
        for rows in present.values():
            for i in rows:
                for j in rows:
                    cells[i][j] += 1
    else:
        for mark in corpus.marks:
            for row in corpus.rolled_up(mark):
                cells[row][row] += 1
        for first, second in overlapping_pairs(corpus.marks):
            a, b = corpus.rolled_up(first), corpus.rolled_up(second)
            pairs = {(i, j) for i in a for j in b if i != j}
            pairs |= {(j, i) for i, j in pairs}
            for i, j in pairs:
                cells[i][j] += 1
    totals = [sum(cells[i][j] for j in range(n) if j != i) for i in range(n)]
    labels = _rows(corpus)
    return _table(
        corpus,
        "cooccurrence",
        count,
        rows=labels,
        columns=list(labels),
        cells=cells,
        row_totals=totals,
        column_totals=list(totals),
    )


def overlapping_pairs(marks: Iterable[Mark]) -> list[tuple[Mark, Mark]]:
    """Every pair of two marks of the same intervention and layer whose spans share a
    character (touching ends do not), each pair once."""
    groups: dict[tuple[int, str], list[Mark]] = defaultdict(list)
    for mark in marks:
        groups[(mark.intervention_id, mark.layer)].append(mark)
    pairs: list[tuple[Mark, Mark]] = []
    for group in groups.values():
        group.sort(key=lambda mark: (mark.start, mark.end))
        open_marks: list[Mark] = []
        for mark in group:
            open_marks = [other for other in open_marks if other.end > mark.start]
            pairs.extend((other, mark) for other in open_marks)
            open_marks.append(mark)
    return pairs


BUILDERS = {
    "frequencies": frequencies,
    "matrix": matrix,
    "crosstab": crosstab,
    "cooccurrence": cooccurrence,
}


def build(corpus: Corpus, table: str, count: str = "interventions") -> Table:
    if table not in BUILDERS:
        raise AnalysisError(_("Table “%(table)s” is unknown.") % {"table": table})
    return BUILDERS[table](corpus, count)


def _natural_key(value: str) -> tuple[Any, ...]:
    """Sort "2" before "10", then by text without case."""
    try:
        return (0, float(value.replace(",", ".")), value)
    except ValueError:
        return (1, value.casefold(), value)


# Loading ----------------------------------------------------------------------------------


def split_values(value: str) -> list[str]:
    return [part.strip() for part in value.split(VALUE_SEPARATOR) if part.strip()]


def load_corpus(
    *,
    study: Study,
    viewer: User | None,
    layer: str = CONSENSUS,
    attributes: dict[int, str] | None = None,
    intervention_ids: Sequence[int] | None = None,
    column_attribute: AttributeDefinition | None = None,
    version: CodebookVersion | None = None,
) -> Corpus:
    """What a table counts, as `viewer` may see it (`None`: a management command, which sees
    every layer).

    `layer` is "consensus" or a coder's username; `attributes` (definition id -> value) and
    `intervention_ids` narrow the interventions; `column_attribute` loads that property's values
    for a cross-tab. Rows are today's code tree, or with `version` the tree of that saved
    version (codes matched by GUID; segments of codes it does not have are left out and
    counted in `left_out`). Raises `AnalysisError` for a layer the viewer may not see.
    """
    access = access_for(study, viewer) if viewer is not None else None
    if viewer is not None and access is None:
        raise AnalysisError(_("You are not a member of this study."))
    interventions = Intervention.objects.filter(study=study)
    if intervention_ids is not None:
        interventions = interventions.filter(pk__in=list(intervention_ids))
    for definition_id, value in (attributes or {}).items():
        interventions = interventions.filter(
            attribute_values__definition_id=definition_id, attribute_values__value=value
        )
    chosen = list(interventions.order_by("title", "pk").values_list("pk", "title"))
    chosen_ids = [pk for pk, _title in chosen]

    coders = Segment.objects.filter(intervention_id__in=chosen_ids)
    if viewer is not None:
        coders = coders.filter(coder_id__in=visible_ids(access))
    marks: list[Mark] = []
    if layer == CONSENSUS:
        if viewer is not None:
            try:
                consensus.require_consensus_view(study, viewer)
            except consensus.ConsensusError as error:
                raise AnalysisError(str(error)) from None
        reconciled = consensus_coded_ids(study) & set(chosen_ids)
        coders = coders.exclude(intervention_id__in=reconciled)
        marks.extend(
            Mark(intervention_id, code_id, CONSENSUS, start, end)
            for intervention_id, code_id, start, end in ConsensusSegment.objects.filter(
                intervention_id__in=reconciled
            ).values_list("intervention_id", "code_id", "start", "end")
        )
    else:
        coder = Membership.objects.filter(study=study, user__username=layer).first()
        if coder is None:
            raise AnalysisError(_("No member “%(coder)s” codes in this study.") % {"coder": layer})
        if viewer is not None and coder.user_id not in visible_ids(access):
            raise AnalysisError(
                _("The layer of “%(coder)s” is not open to you.") % {"coder": layer}
            )
        coders = coders.filter(coder_id=coder.user_id)
    marks.extend(
        Mark(intervention_id, code_id, username, start, end)
        for intervention_id, code_id, username, start, end in coders.values_list(
            "intervention_id", "code_id", "coder__username", "start", "end"
        )
    )
    marks = _outside_excluded(marks, chosen_ids)

    values: dict[int, list[str]] = {}
    if column_attribute is not None:
        for intervention_id, value in AttributeValue.objects.filter(
            definition=column_attribute, intervention_id__in=chosen_ids
        ).values_list("intervention_id", "value"):
            values[intervention_id] = split_values(value)
    if version is not None:
        if version.study_id != study.pk:
            raise AnalysisError(_("That codebook version belongs to another study."))
        codes = _version_rows(study, version.snapshot)
        number: int | None = version.number
    else:
        codes = _code_rows(study)
        number = current_version_number(study)
    known = {code.pk for code in codes}
    kept = [mark for mark in marks if mark.code_id in known]
    return Corpus(
        interventions=chosen,
        codes=codes,
        marks=kept,
        values=values,
        layer=layer,
        codebook_version=number,
        left_out=len(marks) - len(kept),
    )


def current_version_number(study: Study) -> int | None:
    """The number of the latest saved codebook version when today's codebook is still exactly
    that version; None when there is none or the codebook changed since, so a table never
    claims a version it does not count."""
    latest = CodebookVersion.objects.filter(study=study).order_by("-number").first()
    if latest is None:
        return None
    if tree_snapshot(codebook_tree(study)) != latest.snapshot:
        return None
    return latest.number


def _version_rows(study: Study, snapshot: list[dict[str, Any]]) -> list[CodeRow]:
    """The rows of a saved version's tree, each mapped to today's code with the same GUID; a
    code deleted since gets a row of its own that nothing counts in."""
    by_guid = {guid.lower(): pk for pk, guid in code_guids(study).items()}
    rows: list[CodeRow] = []
    missing = -1

    def walk(
        items: list[dict[str, Any]], path: tuple[str, ...], ancestors: tuple[int, ...]
    ) -> None:
        nonlocal missing
        for item in items:
            pk = by_guid.get(str(item.get("guid") or "").lower())
            if pk is None:
                pk, missing = missing, missing - 1
            here = (*path, str(item.get("name", "")))
            rows.append(CodeRow(pk, here, (pk, *ancestors)))
            walk(item.get("children", []), here, (pk, *ancestors))

    walk(snapshot, (), ())
    return rows


def _code_rows(study: Study) -> list[CodeRow]:
    children = codes_by_parent(study)
    paths = paths_from(children)
    rows: list[CodeRow] = []

    def walk(parent_id: int | None, ancestors: tuple[int, ...]) -> None:
        for code in children.get(parent_id, []):
            rows.append(CodeRow(code.pk, paths[code.pk], (code.pk, *ancestors)))
            walk(code.pk, (code.pk, *ancestors))

    walk(None, ())
    return rows


def _outside_excluded(marks: list[Mark], intervention_ids: Sequence[int]) -> list[Mark]:
    excluded: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for intervention_id, start, end in Section.objects.filter(
        intervention_id__in=list(intervention_ids), excluded=True
    ).values_list("intervention_id", "start", "end"):
        excluded[intervention_id].append((start, end))
    if not excluded:
        return marks
    return [
        mark
        for mark in marks
        if not any(
            start < mark.end and mark.start < end
            for start, end in excluded.get(mark.intervention_id, ())
        )
    ]


# Out --------------------------------------------------------------------------------------


def table_cells(
    table: Table, *, filters: str = "", made: str = ""
) -> tuple[list[str], list[list[Any]]]:
    """Headers and rows for a spreadsheet of `table`: a row per code with its total, a row of
    column totals, then, after a blank row, what the table counts (layer, count, codebook
    version, filter, interventions, date), so a figure in a thesis can be traced back."""
    headers = ["code", *table.columns, "total"]
    rows: list[list[Any]] = [
        [label, *cells, total]
        for label, cells, total in zip(table.rows, table.cells, table.row_totals, strict=True)
    ]
    rows.append(["total", *table.column_totals, ""])
    rows.append([])
    rows.extend(
        [
            ["table", table.table],
            ["layer", table.layer],
            ["count", table.count],
            ["codebook version", table.codebook_version or ""],
            ["filter", filters],
            ["interventions", table.n_interventions],
            ["made", made],
        ]
    )
    return headers, rows
