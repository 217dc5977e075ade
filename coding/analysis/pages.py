"""What the analysis pages share: the study's filter choices, the form read into a table, and
the table arranged for a page. Kept apart from the views so the snapshot, export and figure
views build exactly the table the page shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coding import sight
from coding.analysis.forms import TablesForm
from coding.analysis.report import CODERS
from coding.analysis.tables import NO_VALUE, AnalysisError, Corpus, Table, build, load_corpus
from coding.codebook.outline import display_path, display_path_string
from coding.consensus.services import CONSENSUS
from coding.models import Code, CodebookVersion
from interventions.access import StudyAccess
from interventions.models import AttributeDefinition, AttributeValue, Intervention


def attribute_choices(access: StudyAccess) -> list[tuple[AttributeDefinition, list[str]]]:
    """The study's properties that have values, each with its values in order."""
    definitions = list(AttributeDefinition.objects.filter(study=access.study))
    values: dict[int, list[str]] = {d.pk: [] for d in definitions}
    for definition_id, value in (
        AttributeValue.objects.filter(definition__study=access.study)
        .values_list("definition_id", "value")
        .distinct()
        .order_by("value")
    ):
        values[definition_id].append(value)
    return [(d, values[d.pk]) for d in definitions if values[d.pk]]


def layer_choices(access: StudyAccess) -> list[tuple[str, str]]:
    """The layers this member may count: the consensus (once the layers are open to them),
    then each coder they may see, themself first."""
    choices = []
    if sight.layers_open(access):
        choices.append((CONSENSUS, _("consensus where reconciled, coders elsewhere")))
    for user in sight.visible_coders(access):
        if user.pk == access.user.pk and not access.can_code:
            continue
        choices.append((user.username, user.username))
    return choices


@dataclass
class Filtered:
    """A valid form read into a table, with what the page and its files say about it."""

    table: Table
    corpus: Corpus
    params: dict[str, Any]
    filter_text: str
    query: str
    attribute: AttributeDefinition | None = None


def tables_form(access: StudyAccess, data: Any) -> TablesForm:
    interventions = Intervention.objects.filter(study=access.study).order_by("title")
    versions = CodebookVersion.objects.filter(study=access.study).order_by("-number")
    return TablesForm(
        data,
        layers=layer_choices(access),
        attributes=attribute_choices(access),
        interventions=[(str(u), t) for u, t in interventions.values_list("uuid", "title")],
        versions=[(v.number, str(v)) for v in versions],
    )


def read_table(access: StudyAccess, form: TablesForm) -> Filtered:
    """The table `form` asks for, as `access.user` may see it. Raises `AnalysisError`."""
    study = access.study
    data = form.cleaned_data
    definitions = form.definitions
    attributes = {pk: data[f"a{pk}"] for pk in definitions if data.get(f"a{pk}")}
    attribute = definitions.get(data["attribute"]) if data.get("attribute") else None
    if data["table"] == "crosstab" and attribute is None:
        raise AnalysisError(_("Choose the property whose values make the columns."))
    chosen = None
    if data.get("interventions"):
        chosen = list(
            Intervention.objects.filter(study=study, uuid__in=data["interventions"]).values_list(
                "pk", flat=True
            )
        )
    version = None
    if data.get("version") is not None:
        version = CodebookVersion.objects.filter(study=study, number=data["version"]).first()
    corpus = load_corpus(
        study=study,
        viewer=access.user,
        layer=data["layer"],
        attributes=attributes,
        intervention_ids=chosen,
        column_attribute=attribute if data["table"] == "crosstab" else None,
        version=version,
    )
    table = build(corpus, data["table"], data["count"])
    parts = [f"{definitions[pk].name}: {value}" for pk, value in attributes.items()]
    if chosen is not None:
        parts.append(
            ngettext("%(n)s chosen intervention", "%(n)s chosen interventions", len(chosen))
            % {"n": len(chosen)}
        )
    if corpus.left_out:
        parts.append(
            ngettext(
                "%(n)s segment of a code not in this version left out",
                "%(n)s segments of codes not in this version left out",
                corpus.left_out,
            )
            % {"n": corpus.left_out}
        )
    params = {
        key: value
        for key, value in data.items()
        if value not in (None, "", []) and key in form.base_fields
    }
    params.update({f"a{pk}": value for pk, value in attributes.items()})
    query = urlencode(
        [
            (key, v)
            for key, value in params.items()
            for v in (value if isinstance(value, list) else [value])
        ]
    )
    return Filtered(
        table=table,
        corpus=corpus,
        params=params,
        filter_text="; ".join(parts) or _("all interventions"),
        query=query,
        attribute=attribute,
    )


# Arranged for a page ----------------------------------------------------------------------


@dataclass
class Cell:
    value: int
    text: str
    href: str = ""


@dataclass
class Row:
    label: str
    depth: int
    cells: list[Cell]
    total: int
    sentence: str = ""
    key: str = ""
    parent: str = ""
    children: bool = False


@dataclass
class Arranged:
    columns: list[str]
    rows: list[Row]
    column_totals: list[str] = field(default_factory=list)
    corner: str = ""


def _percent(n: int, total: int) -> str:
    return f"{round(100 * n / total)} %" if total else "–"


def _report_href(
    slug: str, code_uuid: str, layer: str, intervention: str = "", coder_pk: int | None = None
) -> str:
    params: dict[str, Any] = {"code": code_uuid, "subcodes": "on"}
    if intervention:
        params["intervention"] = intervention
    if layer == CONSENSUS:
        params["source"] = CONSENSUS
    else:
        params["source"] = CODERS
        if coder_pk is not None:
            params["coder"] = coder_pk
    return reverse("code_report", args=[slug]) + "?" + urlencode(params)


def arrange(
    access: StudyAccess, filtered: Filtered, order: str = "tree", rows_are: str = "codes"
) -> Arranged:
    """The table as the page draws it: code paths with their depth and a link to their
    segments where a cell has some."""
    table, corpus = filtered.table, filtered.corpus
    slug = access.study.slug
    uuids = dict(Code.objects.filter(study=access.study).values_list("pk", "uuid"))
    coder_pk = None
    if table.layer != CONSENSUS:
        coder_pk = next(
            (u.pk for u in sight.visible_coders(access) if u.username == table.layer), None
        )
    intervention_uuids = dict(
        Intervention.objects.filter(pk__in=[pk for pk, _t in corpus.interventions]).values_list(
            "pk", "uuid"
        )
    )
    rows: list[Row] = []
    n = table.n_interventions
    for index, code in enumerate(corpus.codes):
        code_uuid = str(uuids[code.pk])
        cells_in = table.cells[index]
        label = display_path(code.path)
        row = Row(
            label=code.path[-1],
            depth=len(code.path) - 1,
            cells=[],
            total=table.row_totals[index],
            key=code_uuid,
            parent=str(uuids[code.ancestors[1]]) if len(code.ancestors) > 1 else "",
        )
        if table.table == "frequencies":
            row.cells = [
                Cell(
                    cells_in[0],
                    str(cells_in[0]),
                    _report_href(slug, code_uuid, table.layer, coder_pk=coder_pk),
                ),
                Cell(cells_in[0], _percent(cells_in[0], n)),
                Cell(cells_in[1], str(cells_in[1])),
            ]
            row.sentence = _(
                "In %(n)s of the %(total)s interventions the code “%(code)s” occurs."
            ) % {"n": cells_in[0], "total": n, "code": label}
        elif table.table == "matrix":
            row.cells = [
                Cell(
                    value,
                    ("✓" if value else "") if table.count == "interventions" else str(value or ""),
                    _report_href(
                        slug, code_uuid, table.layer, str(intervention_uuids[pk]), coder_pk
                    )
                    if value
                    else "",
                )
                for value, (pk, _title) in zip(cells_in, corpus.interventions, strict=True)
            ]
        elif table.table == "crosstab":
            row.cells = [
                Cell(
                    value,
                    f"{value} ({_percent(value, base)})"
                    if table.count == "interventions"
                    else str(value),
                )
                for value, base in zip(cells_in, table.column_totals, strict=True)
            ]
        else:
            row.cells = [
                Cell(
                    value,
                    str(value),
                    reverse("analysis_pairs", args=[slug])
                    + "?"
                    + filtered.query
                    + "&"
                    + urlencode({"row": code_uuid, "column": str(uuids[corpus.codes[j].pk])})
                    if value and j != index
                    else "",
                )
                for j, value in enumerate(cells_in)
            ]
        rows.append(row)
    keys = {row.key for row in rows}
    parents = {row.parent for row in rows if row.parent}
    for row in rows:
        row.children = row.key in parents and row.key in keys
    if order == "count" and table.table == "frequencies":
        # Out of the tree, a code is named by its whole path.
        full = {str(uuids[c.pk]): display_path(c.path) for c in corpus.codes}
        rows.sort(key=lambda r: (-r.cells[0].value, -r.cells[2].value))
        for row in rows:
            row.label, row.depth, row.parent, row.children = full[row.key], 0, "", False
    if table.table == "frequencies":
        columns = [_("Interventions"), _("Share"), _("Segments")]
        totals = [
            str(table.column_totals[0]),
            _percent(table.column_totals[0], n),
            str(table.column_totals[1]),
        ]
    elif table.table == "crosstab":
        columns = [_("(no value)") if c == NO_VALUE else c for c in table.columns]
        totals = [str(t) for t in table.column_totals]
    elif table.table == "cooccurrence":
        columns = [display_path_string(c) for c in table.columns]
        totals = [str(t) for t in table.column_totals]
    else:
        columns = list(table.columns)
        totals = [str(t) for t in table.column_totals]
    if rows_are == "interventions" and table.table == "matrix":
        return _turned(rows, columns, table, corpus)
    return Arranged(columns=columns, rows=rows, column_totals=totals)


def _turned(rows: list[Row], columns: list[str], table: Table, corpus: Corpus) -> Arranged:
    """The matrix the other way round: interventions as rows, codes (by their paths) as
    columns. A row's total adds up the themes, a column's is the code's total."""
    themes = {i for i, code in enumerate(corpus.codes) if len(code.path) == 1}
    turned = [
        Row(
            label=title,
            depth=0,
            cells=[row.cells[j] for row in rows],
            total=sum(row.cells[j].value for i, row in enumerate(rows) if i in themes),
        )
        for j, title in enumerate(columns)
    ]
    return Arranged(
        columns=[display_path(code.path) for code in corpus.codes],
        rows=turned,
        column_totals=[str(row.total) for row in rows],
    )
