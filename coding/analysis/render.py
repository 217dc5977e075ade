"""The code report's rows as HTML."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _

from coding.analysis import report as analysis


def report_rows_html(slug: str, rows: list[analysis.SourcedRow], layer_of: dict[str, Any]) -> str:
    """The report's table rows. Built here, not in the template: a report easily lists two
    thousand segments, and the template loop took most of its time (benchmarks/workspace.py)."""
    memo_label = escape(_("Memo:"))
    consensus_label = escape(_("consensus"))
    bases: dict[UUID, str] = {}
    html = []
    for row in rows:
        base = bases.get(row.intervention_uuid)
        if base is None:
            base = bases[row.intervention_uuid] = reverse(
                "workspace", args=[slug, row.intervention_uuid]
            )
        from_consensus = row.source == analysis.CONSENSUS
        layer = "" if from_consensus else layer_of.get(row.coder, "")
        query = f"?layers={layer}" if layer else ""
        coder = consensus_label if from_consensus else escape(row.coder)
        memo = f'<p class="report-memo">{memo_label} {escape(row.memo)}</p>' if row.memo else ""
        html.append(
            f'<tr><td class="report-quote"><span class="context">{escape(row.before)}</span>'
            f"<mark>{escape(row.quote)}</mark>"
            f'<span class="context">{escape(row.after)}</span>{memo}</td>'
            f"<td>{escape(row.code_path)}</td><td>{coder}</td>"
            f'<td><a href="{base}{query}#seg-{row.segment_uuid}">'
            f"{escape(row.intervention_title)}</a></td></tr>"
        )
    return "".join(html)
