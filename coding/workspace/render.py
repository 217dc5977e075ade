"""The workspace's text as rows of plain text, its segments as compact data for the browser to
paint, and its code tree with counts.

The server sends the text once, escaped, in chunks (`chunks.chunk_bounds`), and the
segments of the layers on as a JSON block (`page_data`): each segment a short list of its
UUID, code-point start and end, code id, coder id and whether it has a memo; the codes and
coders they refer to once each. `static/js/workspace.js` paints the highlights and margin
labels from that data (`static/js/highlights.js` cuts the runs). So the page's size and the
server's time grow with the text and only a few dozen bytes per segment, where HTML for every
highlight and label used to be most of both (benchmarks/workspace.py).

What goes into the data is what `coding.sight` lets the viewer see: the segments come from
`sight.visible_segments` through `layer_segments`, the coders from the viewing's layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from coding import sight
from coding.codebook.outline import Outline, outline
from coding.models import Segment
from coding.workspace import chunks
from coding.workspace.viewing import Viewing
from interventions.models import Intervention, Section

# Text content needs only these three escaped; quotes matter in attribute values only, and
# Dutch texts are full of them (“’s”), so leaving them as they are keeps the page smaller.
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape_text(text: str) -> str:
    """`text` escaped for the content of an element (never for an attribute value)."""
    return text.translate(_TEXT_ESCAPES)


@dataclass(frozen=True)
class Coded:
    """A segment as the page paints it: its span, code and coder, whether it has a memo."""

    uuid: str
    start: int
    end: int
    code_id: int
    coder_id: int
    memo: bool

    @classmethod
    def of(cls, segment: Segment) -> Coded:
        return cls(
            str(segment.uuid),
            segment.start,
            segment.end,
            segment.code_id,
            segment.coder_id,
            bool(segment.memo),
        )

    def data(self) -> list[Any]:
        return [self.uuid, self.start, self.end, self.code_id, self.coder_id, int(self.memo)]


@dataclass(frozen=True)
class Row:
    """A chunk of text, escaped, with its heading; its margin labels are painted in the
    browser. The text is built here rather than in the template because a chunk's text nodes
    must spell exactly its slice of the text (the contract of offsets.js), which template
    whitespace would break."""

    bounds: chunks.ChunkBounds
    html: SafeString

    @property
    def index(self) -> int:
        return self.bounds.index

    @property
    def start(self) -> int:
        return self.bounds.start

    @property
    def end(self) -> int:
        return self.bounds.end

    @property
    def excluded(self) -> bool:
        return self.bounds.excluded

    @property
    def opens_section(self) -> bool:
        return self.bounds.opens_section


def sections_of(intervention: Intervention) -> list[chunks.SectionSpan]:
    return [
        chunks.SectionSpan(start, end, heading, excluded)
        for start, end, heading, excluded in Section.objects.filter(
            intervention=intervention
        ).values_list("start", "end", "heading", "excluded")
    ]


def text_rows(text: str, sections: list[chunks.SectionSpan]) -> list[Row]:
    """The text in chunks, each escaped, its section's heading (where it opens) in a span."""
    rows = []
    for bounds in chunks.chunk_bounds(text, sections):
        body = text[bounds.start : bounds.end]
        heading = chunks.heading_length(text, bounds)
        html = escape_text(body[heading:])
        if heading:
            html = f'<span class="ws-heading">{escape_text(body[:heading])}</span>{html}'
        rows.append(Row(bounds, mark_safe(html)))  # noqa: S308 - escaped just above
    return rows


def layer_segments(viewing: Viewing) -> list[Coded]:
    """The segments of the layers on, through `sight.visible_segments`, in text order."""
    found = sight.visible_segments(
        access=viewing.access,
        intervention=viewing.intervention,
        layers=viewing.shown,
        visible=[layer.user for layer in viewing.layers],
    )
    # Plain values: model instances for thousands of segments cost more than the rest together.
    rows = found.annotate(
        has_memo=ExpressionWrapper(~Q(memo=""), output_field=BooleanField())
    ).values_list("uuid", "start", "end", "code_id", "coder_id", "has_memo")
    return [Coded(str(u), s, e, code, coder, bool(memo)) for u, s, e, code, coder, memo in rows]


def _segment_url(viewing: Viewing) -> str:
    """The URL of a segment's panel with a zero UUID for the browser to replace."""
    return reverse("segment_detail", args=[viewing.study.slug, UUID(int=0)])


def code_data(tree: Outline, code_ids: set[int] | None = None) -> dict[str, list[str]]:
    """Name, path and colour of the codes (all of them, or those in `code_ids`) by id."""
    return {
        str(pk): [node.code.name, node.label, node.swatch]
        for pk, node in tree.nodes.items()
        if code_ids is None or pk in code_ids
    }


def page_data(viewing: Viewing, found: list[Coded], tree: Outline) -> dict[str, Any]:
    """What the browser paints the text with: the segments `found` and, once each, the codes
    and the coders they name. Only coders of the viewing's layers (`sight.visible_coders`)."""
    return {
        "viewer": viewing.viewer.pk,
        "several": viewing.several,
        "segmentUrl": _segment_url(viewing),
        "codes": code_data(tree),
        "coders": {
            str(layer.user.pk): [layer.user.username, layer.initials] for layer in viewing.layers
        },
        "segments": [item.data() for item in found],
    }


def update_data(
    tree: Outline, *, add: list[Coded] | None = None, remove: list[str] | None = None
) -> dict[str, Any]:
    """A change for the painted page: segments to add or replace (by UUID), UUIDs to remove,
    and the codes the added ones name (a code made in the picker is new to the page)."""
    add = add or []
    return {
        "add": [item.data() for item in add],
        "remove": remove or [],
        "codes": code_data(tree, {item.code_id for item in add}),
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
