"""The workspace's text as rows of plain text, its segments as compact data for the browser to
paint, and its code tree with counts.

The server sends the text once, escaped, in chunks (`chunks.chunk_bounds`), and the
segments of the layers on as a JSON block (`page_data`): for each segment its UUID, code-point
start and length, code id, coder id and whether it has a memo, column-wise
(`encode_segments`); the codes and coders they refer to once each. `static/js/workspace.js`
paints the highlights and margin labels from that data (`static/js/highlights.js` cuts the
runs). So the page's size and the server's time grow with the text and only some 40 bytes per
segment, where HTML for every highlight and label used to be most of both
(benchmarks/workspace.py).

What goes into the data is what `coding.sight` lets the viewer see: the segments come from
`sight.visible_segments` through `layer_segments`, the coders from the viewing's layers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from itertools import chain
from typing import Any
from uuid import UUID

from django.db.models import (
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import Cast, Replace
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from coding import sight
from coding.codebook.outline import Outline, outline
from coding.models import Segment
from coding.workspace import chunks
from coding.workspace.viewing import Viewing
from interventions.models import Intervention, Section


def escape_text(text: str) -> str:
    """`text` escaped for the content of an element (never for an attribute value)."""
    # Three replaces run in C; str.translate goes through a dict per character once the text
    # holds a single non-ASCII one, ten times slower on a long Dutch text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def data_script(data: Any, element_id: str) -> SafeString:
    """`data` as a JSON block for the page's scripts: `json_script`, without the spaces."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    # As `json_script` escapes: no "</script>" or "<!--" can end the block early.
    text = text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
    return format_html(
        '<script id="{}" type="application/json">{}</script>',
        element_id,
        mark_safe(text),  # noqa: S308 - escaped for a script block just above
    )


# A segment as the page's data holds it: its UUID as 32 hex digits, start and length in code
# points, code id, coder id, 1 if it has a memo else 0.
SegmentRow = tuple[str, int, int, int, int, int]


def segment_row(segment: Segment) -> SegmentRow:
    return (
        segment.uuid.hex,
        segment.start,
        segment.end - segment.start,
        segment.code_id,
        segment.coder_id,
        int(bool(segment.memo)),
    )


def encode_segments(rows: Sequence[SegmentRow]) -> dict[str, Any]:
    """Segments in the page's compact form, column-wise, read by `static/js/workspace.js`:
    `ids`, every UUID's 16 bytes one after another in base64 (22 characters a segment, no
    quotes or commas), and `spans`, five numbers a segment (start, length, code id, coder id,
    memo) in one flat list. About 40 bytes a segment, against some 250 for its HTML."""
    ids = base64.b64encode(bytes.fromhex("".join(row[0] for row in rows))).decode("ascii")
    spans = list(chain.from_iterable(row[1:] for row in rows))
    return {"ids": ids, "spans": spans}


def sections_of(intervention: Intervention) -> list[chunks.SectionSpan]:
    return [
        chunks.SectionSpan(start, end, heading, excluded)
        for start, end, heading, excluded in Section.objects.filter(
            intervention=intervention
        ).values_list("start", "end", "heading", "excluded")
    ]


def text_rows(text: str, sections: list[chunks.SectionSpan]) -> SafeString:
    """The text as rows: each chunk escaped in its own element with its code-point offsets, its
    section's heading (where it opens) in a span, and an empty margin for the labels.

    Built here rather than in the template: a chunk's text nodes must spell exactly its slice
    of the text (the contract of offsets.js), which template whitespace would break, and a
    template loop over the rows of a long text costs more than the rest of the page."""
    not_coded = escape(_("Not coded"))
    hidden_not_coded = f'<span class="visually-hidden">{not_coded}</span>'
    rows = []
    for bounds in chunks.chunk_bounds(text, sections):
        body = text[bounds.start : bounds.end]
        heading = chunks.heading_length(text, bounds)
        html = escape_text(body[heading:])
        if heading:
            html = f'<span class="ws-heading">{escape_text(body[:heading])}</span>{html}'
        index = bounds.index
        offsets = f'data-offset="{bounds.start}" data-end="{bounds.end}"'
        if bounds.excluded:
            note = not_coded if bounds.opens_section else hidden_not_coded
            rows.append(
                f'<div class="ws-row is-excluded"><div id="ws-chunk-{index}" class="ws-chunk" '
                f'{offsets} data-excluded aria-describedby="ws-note-{index}">{html}</div>'
                f'<div class="ws-margin"><p class="ws-excluded-note" id="ws-note-{index}">'
                f"{note}</p></div></div>\n"
            )
        else:
            rows.append(
                f'<div class="ws-row"><div id="ws-chunk-{index}" class="ws-chunk" {offsets} '
                f'tabindex="0" aria-describedby="ws-kbd">{html}</div>'
                '<div class="ws-margin"></div></div>\n'
            )
    return mark_safe("".join(rows))  # noqa: S308 - the text escaped above, the rest ours


def layer_segments(viewing: Viewing) -> list[SegmentRow]:
    """The segments of the layers on, through `sight.visible_segments`, in text order, each a
    `SegmentRow` straight from the database."""
    found = sight.visible_segments(
        access=viewing.access,
        intervention=viewing.intervention,
        layers=viewing.shown,
        visible=[layer.user for layer in viewing.layers],
    )
    # Rows as the page sends them, computed by the database: model instances, or even UUID
    # objects and booleans, for thousands of segments cost more than the rest of the page.
    rows = found.values_list(
        # 32 hex digits: SQLite stores them so, PostgreSQL writes its uuid with dashes.
        Replace(Cast("uuid", output_field=CharField()), Value("-"), Value("")),
        "start",
        ExpressionWrapper(F("end") - F("start"), output_field=IntegerField()),
        "code_id",
        "coder_id",
        Case(When(memo="", then=Value(0)), default=Value(1), output_field=IntegerField()),
    )
    return list(rows)


def _segment_url(viewing: Viewing) -> str:
    """The URL of a segment's panel with a zero UUID for the browser to replace."""
    return reverse("segment_detail", args=[viewing.study.slug, UUID(int=0)])


def code_data(tree: Outline, code_ids: set[int] | None = None) -> dict[str, list[str]]:
    """Label, path and colour of the codes (all of them, or those in `code_ids`) by id. The
    label, which the margin and the highlights' titles show, is the code's shortest
    unambiguous path (`Outline.short_labels`): the template has five codes "Inhoud"."""
    short = tree.short_labels
    return {
        str(pk): [short[pk], node.label, node.swatch]
        for pk, node in tree.nodes.items()
        if code_ids is None or pk in code_ids
    }


def page_data(viewing: Viewing, found: list[SegmentRow], tree: Outline) -> dict[str, Any]:
    """What the browser paints the text with: the segments `found` (`layer_segments`) and,
    once each, the codes and the coders they name; only coders of the viewing's layers
    (`sight.visible_coders`)."""
    return {
        "viewer": viewing.viewer.pk,
        "several": viewing.several,
        "segmentUrl": _segment_url(viewing),
        "codes": code_data(tree),
        "coders": {
            str(layer.user.pk): [layer.user.username, layer.initials, layer.colour]
            for layer in viewing.layers
        },
        "segments": encode_segments(found),
    }


def update_data(
    tree: Outline, *, add: list[Segment] | None = None, remove: list[Segment] | None = None
) -> dict[str, Any]:
    """A change for the painted page: segments to add or replace (by UUID), segments to
    remove (their UUIDs), and the codes the added ones name (a code made in the picker is new
    to the page)."""
    add = add or []
    removed = [segment_row(segment) for segment in remove or []]
    return {
        "add": encode_segments([segment_row(segment) for segment in add]),
        "remove": encode_segments(removed)["ids"],
        "codes": code_data(tree, {segment.code_id for segment in add}),
    }


# The code tree -----------------------------------------------------------------------------


def counts(viewing: Viewing, counted: set[int] | None) -> tuple[dict[int, int], dict[int, int]]:
    """Segments per code of the layers on, in this text and in the whole study, from one
    query; only of the `counted` codes when given."""
    if counted is not None and not counted:
        return {}, {}
    found = Segment.objects.filter(intervention__study=viewing.study, coder_id__in=viewing.shown)
    if counted is not None:
        found = found.filter(code_id__in=counted)
    rows = (
        found.order_by()
        .values("code_id")
        .annotate(here=Count("pk", filter=Q(intervention=viewing.intervention)), total=Count("pk"))
        .values_list("code_id", "here", "total")
    )
    here, totals = {}, {}
    for code_id, n_here, n_total in rows:
        here[code_id], totals[code_id] = n_here, n_total
    return here, totals


def code_tree(viewing: Viewing, counted: set[int] | None = None) -> Outline:
    """The study's codes with two counts: segments in this text and in the whole study, both of
    the layers on (a coder's own only, unless others were revealed and turned on).

    `counted` limits the counts to those codes (the others show 0): what an update that
    changed only them sends."""
    here, totals = counts(viewing, counted)
    return outline(viewing.children, totals=totals, here=here)
