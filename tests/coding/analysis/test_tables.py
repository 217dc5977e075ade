"""The analysis tables against tables computed by hand.

Three interventions, two coders. carol coded all three; bob coded one passage of Alfa, on which
carol agrees, so reconciling Alfa makes a consensus layer of one segment there. Alfa is set
"Thuis", Beta "Thuis; School" (two values), Gamma "School". A segment of carol's lies in a
section of Gamma that was excluded after she coded it.
"""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from coding.analysis import tables
from coding.analysis.tables import AnalysisError, Mark, build, load_corpus, overlapping_pairs
from interventions.models import Intervention
from tests.coding.analysis.conftest import at
from tests.conftest import Cast

ROWS = [
    "Sociaal",
    "Sociaal > Doelen",
    "Sociaal > Inhoud",
    "Psychologisch",
    "Psychologisch > Inhoud",
]


def table(
    cast: Cast, name: str, count: str, layer: str = "carol", viewer: Any = None, **kwargs: Any
) -> tables.Table:
    corpus = load_corpus(study=cast.study, viewer=viewer, layer=layer, **kwargs)
    return build(corpus, name, count)


def test_frequencies_roll_themes_up_and_leave_out_the_excluded_section(
    cast: Cast, three: dict[str, Intervention]
) -> None:
    got = table(cast, "frequencies", "interventions")
    assert got.rows == ROWS
    assert got.columns == ["interventions", "segments"]
    assert got.cells == [[2, 3], [1, 1], [2, 2], [2, 2], [2, 2]]
    assert got.row_totals == [2, 1, 2, 2, 2]
    assert got.column_totals == [3, 5]
    assert got.n_interventions == 3
    assert table(cast, "frequencies", "segments").row_totals == [3, 1, 2, 2, 2]


def test_the_matrix_counts_presence_or_segments_with_totals(
    cast: Cast, three: dict[str, Intervention]
) -> None:
    presence = table(cast, "matrix", "interventions")
    assert presence.columns == ["Alfa", "Beta", "Gamma"]
    assert presence.cells == [[1, 1, 0], [1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1]]
    assert presence.row_totals == [2, 1, 2, 2, 2]
    assert presence.column_totals == [2, 1, 1]  # themes present per intervention
    segments = table(cast, "matrix", "segments")
    assert segments.cells == [[2, 1, 0], [1, 0, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1]]
    assert segments.row_totals == [3, 1, 2, 2, 2]
    assert segments.column_totals == [3, 1, 1]


def test_the_crosstab_counts_an_intervention_in_both_its_values(
    cast: Cast, three: dict[str, Intervention]
) -> None:
    setting = cast.study.attributes.get(name="Setting")
    got = table(cast, "crosstab", "interventions", column_attribute=setting)
    assert got.columns == ["School", "Thuis"]
    assert got.cells == [[1, 2], [0, 1], [1, 2], [1, 1], [1, 1]]
    assert got.column_totals == [2, 2]  # Beta is in both columns
    assert got.row_totals == [2, 1, 2, 2, 2]  # and once in a row's total
    segments = table(cast, "crosstab", "segments", column_attribute=setting)
    assert segments.cells == [[1, 3], [0, 1], [1, 2], [1, 1], [1, 1]]
    assert segments.column_totals == [2, 4]
    assert segments.row_totals == [3, 1, 2, 2, 2]


def test_an_intervention_without_a_value_gets_its_own_column(
    cast: Cast, three: dict[str, Intervention]
) -> None:
    setting = cast.study.attributes.get(name="Setting")
    three["gamma"].attribute_values.all().delete()
    got = table(cast, "crosstab", "interventions", column_attribute=setting)
    assert got.columns == ["School", "Thuis", tables.NO_VALUE]
    assert got.column_totals == [1, 2, 1]
    assert got.cells[3] == [0, 1, 1]  # Psychologisch: Alfa (Thuis), Gamma (no value)


def test_cooccurrence_by_interventions_and_by_overlapping_segments(
    cast: Cast, three: dict[str, Intervention]
) -> None:
    got = table(cast, "cooccurrence", "interventions")
    assert got.columns == ROWS
    assert got.cells == [
        [2, 1, 2, 1, 1],
        [1, 1, 1, 1, 1],
        [2, 1, 2, 1, 1],
        [1, 1, 1, 2, 2],
        [1, 1, 1, 2, 2],
    ]
    assert got.row_totals == [5, 4, 5, 5, 5]
    segments = table(cast, "cooccurrence", "segments")
    # One overlapping pair: Sociaal > Doelen 0-10 and Sociaal > Inhoud 5-15 in Alfa.
    assert segments.cells == [
        [3, 1, 1, 0, 0],
        [1, 1, 1, 0, 0],
        [1, 1, 2, 0, 0],
        [0, 0, 0, 2, 0],
        [0, 0, 0, 0, 2],
    ]
    assert segments.row_totals == [2, 2, 2, 0, 0]


def test_spans_that_only_touch_do_not_overlap_and_layers_do_not_mix() -> None:
    marks = [
        Mark(1, 10, "carol", 0, 5),
        Mark(1, 11, "carol", 5, 10),
        Mark(1, 12, "bob", 0, 10),
        Mark(1, 13, "carol", 2, 3),
    ]
    pairs = {(a.code_id, b.code_id) for a, b in overlapping_pairs(marks)}
    assert pairs == {(10, 13)}


def test_the_consensus_layer_stands_in_where_reconciled(
    cast: Cast, reconciled: dict[str, Intervention]
) -> None:
    got = table(cast, "frequencies", "interventions", layer="consensus", viewer=cast.owner)
    # Alfa: the consensus (Sociaal > Doelen 0-10 only); Beta and Gamma: the coders' segments.
    assert got.layer == "consensus"
    assert got.cells == [[2, 2], [1, 1], [1, 1], [1, 1], [1, 1]]
    assert got.column_totals == [3, 3]


def test_filters_narrow_the_interventions(cast: Cast, three: dict[str, Intervention]) -> None:
    setting = cast.study.attributes.get(name="Setting")
    got = table(cast, "frequencies", "interventions", attributes={setting.pk: "School"})
    assert got.n_interventions == 1  # Gamma; Beta's value is "Thuis; School", not "School"
    assert got.cells[3] == [1, 1]
    chosen = table(cast, "matrix", "segments", intervention_ids=[three["beta"].pk])
    assert chosen.columns == ["Beta"]


def test_a_blind_coder_sees_only_their_own_layer(
    cast: Cast, three: dict[str, Intervention]
) -> None:
    own = table(cast, "frequencies", "segments", layer="bob", viewer=cast.coder_b)
    assert own.column_totals == [1, 1]
    with pytest.raises(AnalysisError):
        table(cast, "frequencies", "segments", layer="carol", viewer=cast.coder_b)
    with pytest.raises(AnalysisError):
        table(cast, "frequencies", "segments", layer="consensus", viewer=cast.coder_b)
    with pytest.raises(AnalysisError):
        table(cast, "frequencies", "segments", layer="carol", viewer=cast.outsider)


def test_an_unknown_layer_is_refused(cast: Cast, three: dict[str, Intervention]) -> None:
    with pytest.raises(AnalysisError, match="nobody"):
        table(cast, "frequencies", "segments", layer="nobody")


# The command ------------------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("analysis", *args, stdout=out)
    return out.getvalue()


def test_the_command_prints_the_table_as_json(cast: Cast, reconciled: Any) -> None:
    data = json.loads(
        run("--study", "gezin", "--table", "matrix", "--layer", "carol", "--count", "segments")
    )
    assert set(data) >= {
        "table",
        "layer",
        "count",
        "rows",
        "columns",
        "cells",
        "row_totals",
        "column_totals",
        "n_interventions",
    }
    assert data["table"] == "matrix"
    assert data["layer"] == "carol"
    assert data["count"] == "segments"
    assert data["n_interventions"] == 3
    assert data["rows"] == ROWS
    assert data["cells"][0] == [2, 1, 0]
    consensus = json.loads(run("--study", "gezin", "--table", "frequencies"))
    assert consensus["layer"] == "consensus"
    assert consensus["columns"] == ["interventions", "segments"]
    assert consensus["cells"][0] == [2, 2]
    cooc = json.loads(run("--study", "gezin", "--table", "cooccurrence", "--layer", "carol"))
    assert cooc["columns"] == cooc["rows"]
    assert [cooc["cells"][i][i] for i in range(5)] == [2, 1, 2, 2, 2]


def test_the_command_writes_csv_and_xlsx_naming_what_it_counts(
    cast: Cast, three: Any, tmp_path: Path
) -> None:
    out = tmp_path / "crosstab.csv"
    printed = run(
        "--study",
        "gezin",
        "--table",
        "crosstab",
        "--attribute",
        "setting",
        "--layer",
        "carol",
        "--format",
        "csv",
        "-o",
        str(out),
    )
    assert "crosstab" in printed
    content = out.read_text(encoding="utf-8-sig")
    lines = list(csv.reader(content.splitlines(), csv.Sniffer().sniff(content.splitlines()[0])))
    assert lines[0] == ["code", "School", "Thuis", "total"]
    assert lines[1] == ["Sociaal", "1", "2", "2"]
    assert ["layer", "carol"] in lines
    xlsx = tmp_path / "matrix.xlsx"
    run(
        "--study",
        "gezin",
        "--table",
        "matrix",
        "--layer",
        "carol",
        "--format",
        "xlsx",
        "-o",
        str(xlsx),
    )
    sheet = openpyxl.load_workbook(xlsx).active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == ["code", "Alfa", "Beta", "Gamma", "total"]
    assert [c.value for c in sheet[2]] == ["Sociaal", 1, 1, 0, 2]


def test_the_command_refuses_what_it_cannot_make(cast: Cast, three: Any) -> None:
    with pytest.raises(CommandError, match="--attribute"):
        run("--study", "gezin", "--table", "crosstab")
    with pytest.raises(CommandError, match="Leeftijd"):
        run("--study", "gezin", "--table", "crosstab", "--attribute", "Leeftijd")
    with pytest.raises(CommandError, match="-o"):
        run("--study", "gezin", "--table", "matrix", "--format", "csv")


def test_a_table_over_a_saved_codebook_version(
    cast: Cast, three: dict[str, Intervention], tree: dict[str, Any]
) -> None:
    from coding.codebook import services

    version = services.version_create(study=cast.study, actor=cast.owner, label="Voor de analyse")
    assert table(cast, "frequencies", "segments").codebook_version == version.number
    # Later: a code renamed, a new code with a segment. Today's codebook is no version.
    services.code_update(
        code=tree["s_inhoud"], actor=cast.owner, name="Aanpak", revision=tree["s_inhoud"].revision
    )
    nieuw = services.code_create(study=cast.study, actor=cast.owner, name="Nieuw")
    at(three["beta"], cast.coder_a, nieuw, 20, 30)
    today = table(cast, "frequencies", "segments")
    assert today.codebook_version is None
    assert "Sociaal > Aanpak" in today.rows
    assert today.rows[-1] == "Nieuw"
    then = table(cast, "frequencies", "segments", version=version)
    assert then.codebook_version == version.number
    assert then.rows == ROWS  # the version's names and tree
    assert then.cells == [[2, 3], [1, 1], [2, 2], [2, 2], [2, 2]]
    corpus = load_corpus(study=cast.study, viewer=None, layer="carol", version=version)
    assert corpus.left_out == 1  # the segment of "Nieuw"
