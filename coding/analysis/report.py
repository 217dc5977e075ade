"""Analysis on the consensus layer where it exists.

Once the team has reconciled an intervention (made at least one consensus decision in it,
`consensus.consensus_coded_ids`), its consensus segments stand for the coding of it; elsewhere
the coders' own segments still do. `consensus_report` is the code report built that way, and
`consensus_table` is the consensus layer as rows for `export_segments`. Every row says where it
came from: `source` is "consensus" or the coder's username.

Who: the consensus layer is read by those to whom `coding.sight.layers_open` opens it; a
blind coder gets the coders' source only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User

from coding.codebook.services import code_paths, codes_by_parent, paths_from, subtree_code_ids
from coding.codebook.tree import path_string
from coding.consensus import services as consensus
from coding.consensus.services import CONSENSUS, consensus_coded_ids
from coding.models import Code, ConsensusSegment
from coding.segment_table import EXPORT_HEADERS
from coding.segments import (
    REPORT_HEADERS,
    ReportRow,
    check_code,
    code_report,
    in_interventions,
    report_row,
    table_export,
)
from interventions.models import Intervention, Study

CODERS = "coders"
SOURCES = (CODERS, CONSENSUS)


@dataclass(frozen=True)
class SourcedRow(ReportRow):
    """A code report row that says where it came from: "consensus" or the coder's username."""

    source: str


def with_source(rows: Iterable[ReportRow]) -> list[SourcedRow]:
    """The coders' rows of `segments.code_report`, each marked with its coder as source."""
    # The fields as they are: `dataclasses.asdict` deep-copies every value, which made the
    # report and its export twice as slow (benchmarks/RESULTS.md, issue 14).
    return [SourcedRow(**vars(row), source=row.coder) for row in rows]


def consensus_report(
    *,
    study: Study,
    viewer: User,
    code: Code,
    include_subcodes: bool = True,
    coder_id: int | None = None,
    intervention_id: int | None = None,
    attributes: dict[int, str] | None = None,
    context: int = 60,
) -> list[SourcedRow]:
    """The code report with the consensus layer for the reconciled interventions.

    Rows of reconciled interventions are their consensus segments (coder and source
    "consensus"); the other interventions keep the coders' segments the viewer may see, as in
    `segments.code_report`. The code (with or without subcodes), intervention and attribute
    filters apply to both; `coder_id` narrows only the coders' rows, since the consensus is no
    one coder's. Ordered by intervention title, then text position. Raises
    `consensus.ConsensusError` when the consensus layer is not open to the viewer.
    """
    check_code(code, study)
    consensus.require_consensus_view(study, viewer)
    coded = consensus_coded_ids(study)
    coder_rows = code_report(
        study=study,
        viewer=viewer,
        code=code,
        include_subcodes=include_subcodes,
        coder_id=coder_id,
        intervention_id=intervention_id,
        attributes=attributes,
        context=context,
    )
    order = {
        uuid: (title, position)
        for position, (uuid, title, pk) in enumerate(
            Intervention.objects.filter(study=study)
            .order_by("title", "pk")
            .values_list("uuid", "title", "pk")
        )
    }
    coded_uuids = set(Intervention.objects.filter(pk__in=coded).values_list("uuid", flat=True))
    rows: list[SourcedRow] = with_source(
        row for row in coder_rows if row.intervention_uuid not in coded_uuids
    )
    code_ids = subtree_code_ids(code, codes_by_parent(study)) if include_subcodes else {code.pk}
    layer = in_interventions(
        ConsensusSegment.objects.filter(
            intervention__study=study, intervention_id__in=coded, code_id__in=code_ids
        ),
        intervention_id=intervention_id,
        attributes=attributes,
    )
    found = list(
        layer.order_by("start", "end", "pk").values_list(
            "uuid", "intervention_id", "code_id", "start", "end", "quote", "memo"
        )
    )
    interventions = {
        i.pk: i
        for i in Intervention.objects.filter(pk__in={row[1] for row in found}).only(
            "pk", "uuid", "title", "text"
        )
    }
    paths = paths_from(codes_by_parent(study)) if found else {}
    for uuid, intervention_pk, code_pk, start, end, quote, memo in found:
        row = report_row(
            intervention=interventions[intervention_pk],
            uuid=uuid,
            coder=CONSENSUS,
            code_path=path_string(paths.get(code_pk, ())),
            start=start,
            end=end,
            quote=quote,
            memo=memo,
            context=context,
        )
        rows.append(SourcedRow(**vars(row), source=CONSENSUS))
    # Each intervention's rows come from one source, already in text order; a stable sort
    # by intervention puts them together in title order.
    rows.sort(key=lambda row: order[row.intervention_uuid])
    return rows


def report_export(rows: Iterable[SourcedRow], fmt: str) -> bytes:
    """The report as "csv" or "xlsx": the columns of `segments.code_report_export`, then
    `source`."""
    cells = [
        [
            row.intervention_title,
            row.code_path,
            row.coder,
            row.start,
            row.end,
            row.before,
            row.quote,
            row.after,
            row.memo,
            str(row.segment_uuid),
            row.source,
        ]
        for row in rows
    ]
    return table_export([*REPORT_HEADERS, "source"], cells, fmt, title="Segments")


def consensus_table(study: Study) -> tuple[list[str], list[list[Any]]]:
    """The study's consensus layer in the columns of `coding.segment_table.segments_table`, with
    "consensus" as the coder. Like that table, the command line's full export, not a page."""
    paths = code_paths(study)
    rows = (
        ConsensusSegment.objects.filter(intervention__study=study)
        .order_by("intervention__title", "intervention_id", "start", "end", "code_id")
        .values_list("intervention__title", "code_id", "start", "end", "memo", "quote")
    )
    return list(EXPORT_HEADERS), [
        [title, path_string(paths.get(code_pk, ())), start, end, memo, CONSENSUS, quote]
        for title, code_pk, start, end, memo, quote in rows
    ]
