"""Figures drawn with matplotlib on the server: the palette and the files.

Why matplotlib: it draws with no browser, no JavaScript and no network, writes SVG and PNG from
one figure, and is the plotting library a thesis supervisor will know; Vega-Lite would add a
bundled JavaScript runtime (vl-convert) for the same pictures. The palette is Okabe and Ito's,
made to stay distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display here; before any figure is made
# Text in an SVG stays text (a thesis editor can change a label); matplotlib escapes it.
matplotlib.rcParams["svg.fonttype"] = "none"

from matplotlib.figure import Figure  # noqa: E402

OKABE_ITO = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
PNG_DPI = 300


def save(figure: Figure, fmt: str) -> bytes:
    """`figure` as "svg" (its text kept as text, no date, so the same figure gives the same
    file) or "png" at 300 dpi."""
    buffer = io.BytesIO()
    if fmt == "svg":
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    else:
        figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buffer.getvalue()
