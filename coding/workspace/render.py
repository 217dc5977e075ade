"""The workspace's text as HTML rows with their margin labels, and its code tree with counts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from uuid import UUID

from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from coding import sight
from coding.codebook.outline import Outline, outline
from coding.models import (
    Segment,
)
from coding.workspace import highlight
from coding.workspace.viewing import Viewing
from interventions.models import Intervention, Section


@dataclass(frozen=True)
class Coded:
    """A segment as the page draws it: its span, code and coder, whether it has a memo."""

    uuid: str
    start: int
    end: int
    code_id: int
    coder_id: int
    memo: bool


@dataclass
class Row:
    """A chunk of text and its margin. Both are HTML built here rather than in the template:
    the text nodes of a chunk must spell exactly its slice of the text (the contract of
    offsets.js), which template whitespace would break, and a template loop over a thousand
    margin labels cost more than half the page's time (benchmarks/workspace.py)."""

    chunk: highlight.Chunk
    html: SafeString
    margin: SafeString

    @property
    def index(self) -> int:
        return self.chunk.index

    @property
    def start(self) -> int:
        return self.chunk.start

    @property
    def end(self) -> int:
        return self.chunk.end

    @property
    def excluded(self) -> bool:
        return self.chunk.bounds.excluded

    @property
    def opens_section(self) -> bool:
        return self.chunk.bounds.opens_section


@lru_cache(maxsize=256)
def _tint(color: str) -> str:
    return highlight.tint(color)


def _run_html(run: highlight.Run, lanes: dict[str, int]) -> str:
    body: str = escape(run.text)
    if run.heading:
        body = f'<span class="ws-heading">{body}</span>'
    if not run.marks:
        return body
    colors: dict[int, str] = {}
    for mark in run.marks:
        lane = lanes.get(mark.key, 0)
        if lane < highlight.MAX_LANES:
            colors.setdefault(lane, mark.color)
    depth = max(colors, default=0) + 1
    style = [f"--t:{_tint(run.marks[0].color)}", f"--n:{depth}"]
    style += [f"--l{lane}:{color}" for lane, color in sorted(colors.items())]
    keys = " ".join(mark.key for mark in run.marks)
    title = escape(", ".join(dict.fromkeys(mark.label for mark in run.marks)))
    return f'<mark data-segments="{keys}" style="{";".join(style)}" title="{title}">{body}</mark>'


def sections_of(intervention: Intervention) -> list[highlight.SectionSpan]:
    return [
        highlight.SectionSpan(start, end, heading, excluded)
        for start, end, heading, excluded in Section.objects.filter(
            intervention=intervention
        ).values_list("start", "end", "heading", "excluded")
    ]


def layer_segments(viewing: Viewing, lo: int | None = None, hi: int | None = None) -> list[Coded]:
    """The segments of the layers on (through `visible_segments`), `lo`..`hi` only if given."""
    found = sight.visible_segments(
        access=viewing.access,
        intervention=viewing.intervention,
        layers=viewing.shown,
        visible=[layer.user for layer in viewing.layers],
    )
    if lo is not None and hi is not None:
        found = found.filter(start__lt=hi, end__gt=lo)
    # Plain values: model instances for a thousand segments cost more than the rest together.
    rows = found.annotate(
        has_memo=ExpressionWrapper(~Q(memo=""), output_field=BooleanField())
    ).values_list("uuid", "start", "end", "code_id", "coder_id", "has_memo")
    return [Coded(str(u), s, e, code, coder, bool(memo)) for u, s, e, code, coder, memo in rows]


def _label_url(viewing: Viewing) -> tuple[str, str]:
    """The segment URL around its UUID, reversed once instead of once per label."""
    zero = str(UUID(int=0))
    url = reverse("segment_detail", args=[viewing.study.slug, zero])
    before, _zero, after = url.partition(zero)
    return before, after


def text_rows(
    viewing: Viewing,
    sections: list[highlight.SectionSpan],
    found: list[Coded],
    tree: Outline,
    only: set[int] | None = None,
) -> list[Row]:
    text = viewing.intervention.text
    by_key = {item.uuid: item for item in found}
    unknown = highlight.DEFAULT_COLOR
    marks = []
    for item in found:
        node = tree.nodes.get(item.code_id)
        color, name = (node.swatch, node.code.name) if node else (unknown, "?")
        marks.append(highlight.Mark(item.uuid, item.start, item.end, color, name))
    coders = {
        layer.user.pk: (escape(layer.user.username), escape(layer.initials))
        for layer in viewing.layers
    }
    before, after = _label_url(viewing)
    memo_title = escape(_("has a memo"))
    memo_mark = (
        f' <span class="ws-memo-mark" title="{memo_title}" aria-label="{memo_title}">✎</span>'
    )
    viewer, several = viewing.viewer.pk, viewing.several
    rows = []
    for chunk in highlight.highlight(text, sections, marks, only=only):
        labels = []
        for mark in chunk.starting:
            item = by_key[mark.key]
            node = tree.nodes.get(item.code_id)
            path = escape(node.label if node else mark.label)
            coder, short = coders.get(item.coder_id, ("", ""))
            own = " is-own" if item.coder_id == viewer else ""
            who = (
                f' <span class="ws-initials" aria-label="{coder}">{short}</span>' if several else ""
            )
            labels.append(
                f'<a class="ws-label{own}" id="seg-{mark.key}" data-segment="{mark.key}" '
                f'style="--c:{mark.color}" href="{before}{mark.key}{after}" '
                f'title="{path} · {coder}"><span class="ws-label-name">{escape(mark.label)}</span>'
                f"{who}{memo_mark if item.memo else ''}</a>"
            )
        html = "".join(_run_html(run, chunk.lanes) for run in chunk.runs)
        rows.append(Row(chunk, mark_safe(html), mark_safe("".join(labels))))  # noqa: S308
    return rows


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
