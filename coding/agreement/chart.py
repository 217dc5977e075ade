"""The chart of Krippendorff's alpha over a study's runs, as numbers an SVG template draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext as _
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from coding.agreement.metrics import ALPHA_RELIABLE, ALPHA_TENTATIVE
from coding.agreement.report import UNIT_NAMES, figure
from coding.models import AgreementRun
from interventions.models import Study
from veerkracht.lib.plotting import OKABE_ITO, save

CHART_RUNS = 30
CHART_WIDTH = 640
CHART_HEIGHT = 232
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 48, 16, 14, 46
UNIT_COLOURS = {
    "intervention": "#1d5e6f",
    "word": "#8a4f9e",
    "character": "#b4541a",
}


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: float
    label: str
    when: Any
    uuid: UUID
    below_axis: bool


@dataclass
class ChartSeries:
    unit: str
    name: str
    colour: str
    points: list[ChartPoint] = field(default_factory=list)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _y(value: float) -> float:
    inner = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    return CHART_TOP + inner * (1 - min(max(value, 0.0), 1.0))


def alpha_chart(study: Study) -> dict[str, Any] | None:
    """Overall alpha of the last finished runs, as coordinates of a small SVG line chart.

    One line per unit, since alphas over interventions and over words are not one series.
    Runs without an overall alpha (segment unit, or not computable) are left out.
    """
    rows = list(
        AgreementRun.objects.filter(study=study, status=AgreementRun.Status.DONE)
        .order_by("-created_at", "-pk")
        .values_list("uuid", "created_at", "params__unit", "result__overall__krippendorff_alpha")[
            :CHART_RUNS
        ]
    )
    rows = [row for row in reversed(rows) if isinstance(row[3], int | float)]
    if not rows:
        return None
    inner = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    step = inner / len(rows)
    series: dict[str, ChartSeries] = {}
    for index, (uuid, created, unit, value) in enumerate(rows):
        line = series.setdefault(
            unit,
            ChartSeries(unit, str(UNIT_NAMES.get(unit, unit)), UNIT_COLOURS.get(unit, "#4a525c")),
        )
        line.points.append(
            ChartPoint(
                x=CHART_LEFT + step * (index + 0.5),
                y=_y(float(value)),
                value=float(value),
                label=figure(float(value)),
                when=created,
                uuid=uuid,
                below_axis=value < 0,
            )
        )
    ticks = [(v, _y(v), figure(v, 1 if v in (0.0, 1.0) else 3)) for v in (0.0, 0.667, 0.8, 1.0)]
    # Runs on one day are told apart by the time.
    same_day = len({timezone.localdate(row[1]) for row in rows}) < len(rows)
    every = max(1, -(-len(rows) // (6 if same_day else 8)))
    # (x, run number, date) under every `every`th point.
    dates = [
        (CHART_LEFT + step * (i + 0.5), i + 1, row[1])
        for i, row in enumerate(rows)
        if i % every == 0
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_WIDTH - CHART_RIGHT,
        "bottom": CHART_HEIGHT - CHART_BOTTOM,
        "top": CHART_TOP,
        "series": list(series.values()),
        "ticks": ticks,
        "plot_width": inner,
        "tentative_y": _y(ALPHA_TENTATIVE),
        "reliable_y": _y(ALPHA_RELIABLE),
        "low_height": _y(0.0) - _y(ALPHA_TENTATIVE),
        "tentative_height": _y(ALPHA_TENTATIVE) - _y(ALPHA_RELIABLE),
        "any_below": any(row[3] < 0 for row in rows),
        "dates": dates,
        "number_y": CHART_HEIGHT - CHART_BOTTOM + 16,
        "date_y": CHART_HEIGHT - CHART_BOTTOM + 30,
        "date_format": "j M H:i" if same_day else "j M",
        "n": len(rows),
        "points": [p for line in series.values() for p in line.points],
    }


def alpha_chart_file(study: Study, fmt: str) -> bytes | None:
    """The chart as a figure file ("svg" or "png" at 300 dpi) for a thesis, drawn by
    matplotlib from the same runs; None when no run has an overall alpha yet."""
    chart = alpha_chart(study)
    if chart is None:
        return None
    numbers = {
        point.uuid: n
        for n, point in enumerate(sorted(chart["points"], key=lambda p: (p.when, p.x)), start=1)
    }
    series = [
        (str(line.name), [(numbers[p.uuid], p.value) for p in line.points])
        for line in chart["series"]
    ]
    return alpha_figure(series, fmt)


def alpha_figure(series: list[tuple[str, list[tuple[int, float]]]], fmt: str) -> bytes:
    """Krippendorff's alpha over the runs, one line per unit: `series` holds a label and
    (run number, alpha) pairs. The bands mark 0.667 (tentative) and 0.8 (reliable)."""
    figure = Figure(figsize=(7, 3.2), layout="constrained")
    axes = figure.add_subplot()
    axes.axhspan(0.667, 0.8, color="#E69F00", alpha=0.12, linewidth=0)
    axes.axhspan(0.8, 1.0, color="#009E73", alpha=0.12, linewidth=0)
    for line_style, (label, points) in zip(("-o", "--s", ":^"), series, strict=False):
        xs = [number for number, _value in points]
        ys = [value for _number, value in points]
        axes.plot(xs, ys, line_style, label=label, color=OKABE_ITO[len(axes.lines)])
    axes.set_ylim(min(0.0, *(v for _l, p in series for _n, v in p)) - 0.02, 1.02)
    axes.set_xlabel(_("run"))
    axes.set_ylabel("α")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(_("Krippendorff's alpha per run"))
    axes.spines[["top", "right"]].set_visible(False)
    if series:
        axes.legend(fontsize=8, frameon=False)
    return save(figure, fmt)
