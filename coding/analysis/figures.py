"""Figures of the analysis tables, drawn with matplotlib, as SVG for the page and PNG at 300 dpi
for the thesis.

Why matplotlib, and the palette: `veerkracht.lib.plotting`. Heatmaps use cividis, which stays
readable with the common colour-vision deficiencies too. Labels come translated from the caller's
language. Every figure draws from a `Table` alone, so a stored snapshot draws the same again.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from coding.analysis.tables import NO_VALUE, Table
from coding.codebook.outline import display_path_string
from veerkracht.lib.plotting import FORMATS, OKABE_ITO, save

__all__ = ["FORMATS", "figure_for", "render"]

MAX_LABEL = 48
ANNOTATE_MAX = 600  # cells; beyond that the numbers would not fit


def _label(path: str) -> str:
    if path == NO_VALUE:
        return _("(no value)")
    label = display_path_string(path)
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _theme_of(path: str) -> str:
    return path.split(" > ", 1)[0]


def _count_label(table: Table) -> str:
    return _("interventions") if table.count == "interventions" else _("segments")


def _colours(themes: Sequence[str]) -> dict[str, str]:
    order = list(dict.fromkeys(themes))
    return {theme: OKABE_ITO[i % len(OKABE_ITO)] for i, theme in enumerate(order)}


def _bars(table: Table) -> Figure:
    column = 0 if table.count == "interventions" else 1
    values = [cells[column] for cells in table.cells]
    themes = [_theme_of(row) for row in table.rows]
    colours = _colours(themes)
    height = max(2.5, 0.28 * len(table.rows) + 1.2)
    figure = Figure(figsize=(8, height), layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(table.rows)))
    axes.barh(positions, values, color=[colours[theme] for theme in themes])
    axes.set_yticks(positions, [_label(row) for row in table.rows], fontsize=8)
    axes.invert_yaxis()
    axes.set_xlabel(_count_label(table))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(_("Code frequencies"))
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def _heatmap(table: Table, title: str) -> Figure:
    rows, columns = len(table.rows), max(1, len(table.columns))
    figure = Figure(
        figsize=(max(5, 0.35 * columns + 4), max(3, 0.28 * rows + 2)), layout="constrained"
    )
    axes = figure.add_subplot()
    data = table.cells if table.cells and table.columns else [[0]]
    image = axes.imshow(data, cmap="cividis", aspect="auto")
    axes.set_yticks(range(rows), [_label(row) for row in table.rows], fontsize=7)
    axes.set_xticks(
        range(len(table.columns)),
        [textwrap.shorten(_label(c), 30, placeholder="…") for c in table.columns],
        fontsize=7,
        rotation=60,
        ha="right",
    )
    colourbar = figure.colorbar(image, ax=axes, label=_count_label(table))
    colourbar.locator = MaxNLocator(integer=True)
    colourbar.update_ticks()
    if rows * len(table.columns) <= ANNOTATE_MAX:
        # The numbers in the cells, so the figure reads without the colour scale too.
        highest = max((max(row) for row in table.cells if row), default=0)
        for i, row in enumerate(table.cells):
            for j, value in enumerate(row):
                axes.text(
                    j,
                    i,
                    str(value),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if highest and value > highest / 2 else "white",
                )
    axes.set_title(title)
    return figure


def _stacked(table: Table) -> Figure:
    """Themes stacked per property value: each segment (or intervention with the theme) counts
    in one theme, so the stack adds up."""
    themes = [i for i, row in enumerate(table.rows) if " > " not in row]
    colours = _colours([table.rows[i] for i in themes])
    figure = Figure(figsize=(max(5, 0.9 * len(table.columns) + 3), 4.5), layout="constrained")
    axes = figure.add_subplot()
    positions = list(range(len(table.columns)))
    bottom = [0] * len(table.columns)
    for i in themes:
        values = table.cells[i]
        axes.bar(
            positions,
            values,
            bottom=bottom,
            color=colours[table.rows[i]],
            label=_label(table.rows[i]),
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xticks(positions, [_label(c) for c in table.columns], rotation=30, ha="right")
    axes.set_ylabel(_count_label(table))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(_("Themes by property value"))
    axes.spines[["top", "right"]].set_visible(False)
    if themes:
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return figure


def figure_for(table: Table) -> Figure:
    if table.table == "frequencies":
        return _bars(table)
    if table.table == "crosstab":
        return _stacked(table)
    if table.table == "matrix":
        return _heatmap(table, _("Codes by intervention"))
    return _heatmap(table, _("Co-occurrence of codes"))


def note(table: Table, *, filter_text: str, made: str) -> str:
    """What a figure counts, printed under it: a figure pasted into a thesis keeps saying
    which layer, codebook version and interventions it shows, and when it was made."""
    layer = (
        _("consensus where reconciled, coders elsewhere")
        if table.layer == "consensus"
        else table.layer
    )
    version = (
        _("codebook version %(v)s") % {"v": table.codebook_version}
        if table.codebook_version
        else _("today's codebook, not saved as a version")
    )
    return " · ".join(
        [
            _("Layer: %(coder)s") % {"coder": layer},
            version,
            filter_text,
            ngettext("%(n)s intervention", "%(n)s interventions", table.n_interventions)
            % {"n": table.n_interventions},
            made,
        ]
    )


def render(table: Table, fmt: str, *, caption: str = "") -> bytes:
    """The table's figure as "svg" or "png" (300 dpi), with `caption` under it."""
    figure = figure_for(table)
    if caption:
        # A figure-wide x label: the constrained layout makes room for it.
        figure.supxlabel(
            textwrap.shorten(caption, 160), x=0.01, ha="left", fontsize=6, color="#4a525c"
        )
    return save(figure, fmt)
