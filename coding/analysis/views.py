"""The code report: every segment of a code, filtered by coder, intervention and property,
from the coders' layers or the consensus layer, on a page and as a file."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from coding import segments, sight
from coding.analysis import figures, pages, search
from coding.analysis import report as analysis
from coding.analysis.forms import AutocodeForm, ReportForm, SearchForm, SnapshotForm
from coding.analysis.quotations import quotation_docx
from coding.analysis.render import report_rows_html
from coding.analysis.tables import AnalysisError, Table, overlapping_pairs, table_cells
from coding.codebook.outline import display_path, display_path_string, short_paths
from coding.codebook.services import codes_by_parent, paths_from, short_code_paths
from coding.consensus import services as consensus
from coding.models import AnalysisSnapshot, Code, CodingEvent
from coding.segments import SegmentError
from interventions.access import get_study_for_user
from interventions.models import AttributeDefinition, AttributeValue, Intervention
from veerkracht.lib.forms import form_error
from veerkracht.lib.http import HtmxHttpRequest


def _report(request: HtmxHttpRequest, slug: str) -> dict[str, Any]:
    access = get_study_for_user(request.user, slug)
    study = access.study
    children = codes_by_parent(study)
    paths = paths_from(children)
    codes = []
    stack = list(reversed(children.get(None, [])))
    by_uuid: dict[str, Code] = {}
    while stack:
        code = stack.pop()
        by_uuid[str(code.uuid)] = code
        codes.append((str(code.uuid), display_path(paths[code.pk])))
        stack.extend(reversed(children.get(code.pk, [])))
    coders = sight.visible_coders(access)
    interventions = list(
        Intervention.objects.filter(study=study).order_by("title").values_list("uuid", "title")
    )
    definitions = list(AttributeDefinition.objects.filter(study=study))
    values: dict[int, list[str]] = {d.pk: [] for d in definitions}
    for definition_id, value in (
        AttributeValue.objects.filter(definition__study=study)
        .values_list("definition_id", "value")
        .distinct()
        .order_by("value")
    ):
        values[definition_id].append(value)
    form = ReportForm(
        request.GET,
        codes=codes,
        coders=coders,
        interventions=[(str(u), t) for u, t in interventions],
        attributes=[(d, values[d.pk]) for d in definitions if values[d.pk]],
        consensus_open=sight.layers_open(access),
    )
    context: dict[str, Any] = {"access": access, "study": study, "form": form, "rows": None}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        attributes = {d.pk: data[f"a{d.pk}"] for d in definitions if data.get(f"a{d.pk}")}
        intervention_id = None
        if data["intervention"]:
            intervention_id = (
                Intervention.objects.filter(study=study, uuid=data["intervention"])
                .values_list("pk", flat=True)
                .first()
            )
        filters: dict[str, Any] = {
            "study": study,
            "viewer": request.user,
            "code": by_uuid[data["code"]],
            "include_subcodes": data["subcodes"],
            "coder_id": data["coder"],
            "intervention_id": intervention_id,
            "attributes": attributes,
        }
        if data.get("source") == analysis.CONSENSUS:
            rows: list[analysis.SourcedRow] = analysis.consensus_report(**filters)
            reconciled = len(consensus.consensus_coded_ids(study))
            source_note = ngettext(
                "Rows from the consensus layer for the %(n)s intervention reconciled; "
                "coders' segments elsewhere.",
                "Rows from the consensus layer for the %(n)s interventions reconciled; "
                "coders' segments elsewhere.",
                reconciled,
            ) % {"n": reconciled}
        else:
            rows = analysis.with_source(segments.code_report(**filters))
            source_note = _("Rows from the coders' segments.")
        ids = {user.username: user.pk for user in coders}
        names = {user.pk: user.username for user in coders}
        parts = [f"{d.name}: {attributes[d.pk]}" for d in definitions if d.pk in attributes]
        if intervention_id is not None:
            parts.append({str(u): t for u, t in interventions}[data["intervention"]])
        if data["coder"] is not None:
            parts.append(_("coder %(name)s") % {"name": names.get(data["coder"], "")})
        context.update(
            filter_text="; ".join(parts),
            rows=rows,
            source_note=source_note,
            code=by_uuid[data["code"]],
            code_label=short_paths(paths)[by_uuid[data["code"]].pk],
            layer_of={name: ("" if pk == request.user.pk else pk) for name, pk in ids.items()},
            query=request.GET.urlencode(),
        )
    elif form.is_bound:
        context["report_error"] = form_error(form)
    return context


@login_required
@require_GET
def code_report(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    context = _report(request, slug)
    rows = context.get("rows")
    if rows is not None:
        html = report_rows_html(slug, rows, context["layer_of"])
        context["rows_html"] = mark_safe(html)  # noqa: S308 - every value is escaped above
    status = 400 if context.get("report_error") else 200
    return render(request, "coding/analysis/code_report.html", context, status=status)


_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _quotation_docx(context: dict[str, Any]) -> bytes:
    form = context["form"]
    chosen = {int(pk) for pk in form.cleaned_data.get("props") or []}
    properties = [
        d for d in AttributeDefinition.objects.filter(study=context["study"]) if d.pk in chosen
    ]
    code = context["code"]
    paths = paths_from(codes_by_parent(context["study"]))
    about = _("Study %(study)s · %(source)s · filter: %(filter)s") % {
        "study": context["study"].name,
        "source": context["source_note"],
        "filter": context.get("filter_text") or _("all interventions"),
    }
    return quotation_docx(
        code=code,
        code_path=" > ".join(paths.get(code.pk, (code.name,))),
        rows=context["rows"],
        properties=properties,
        about=about,
    )


@login_required
@require_GET
def code_report_export(request: HtmxHttpRequest, slug: str, fmt: str) -> HttpResponse:
    if fmt not in _FORMATS and fmt != "docx":
        raise Http404
    context = _report(request, slug)
    if context.get("rows") is None:
        status = 400
        context.setdefault("report_error", _("Choose a code for the report first."))
        return render(request, "coding/analysis/code_report.html", context, status=status)
    name = slugify(context["code"].name) or "code"
    if fmt == "docx":
        return _download(_quotation_docx(context), _DOCX, f"{context['study'].slug}-{name}.docx")
    content = analysis.report_export(context["rows"], fmt)
    filename = f"{context['study'].slug}-{name}.{fmt}"
    response = HttpResponse(content, content_type=_FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


# The analysis tables ----------------------------------------------------------------------


def _tables_context(request: HtmxHttpRequest, slug: str, data: Any = None) -> dict[str, Any]:
    access = get_study_for_user(request.user, slug)
    form = pages.tables_form(access, request.GET if data is None else data)
    context: dict[str, Any] = {"access": access, "study": access.study, "form": form}
    if form.is_bound and form.is_valid():
        try:
            filtered = pages.read_table(access, form)
        except AnalysisError as error:
            context["table_error"] = str(error)
        else:
            context["filtered"] = filtered
    elif form.is_bound:
        context["table_error"] = form_error(form)
    return context


@login_required
@require_GET
def analysis_tables(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    context = _tables_context(request, slug)
    filtered = context.get("filtered")
    if filtered is not None:
        cleaned = context["form"].cleaned_data
        context["arranged"] = pages.arrange(
            context["access"],
            filtered,
            cleaned.get("order") or "tree",
            cleaned.get("rows") or "codes",
        )
        context["snapshot_form"] = SnapshotForm()
        context["table_title"] = dict(context["form"].fields["table"].choices)[filtered.table.table]
    status = 400 if context.get("table_error") else 200
    return render(request, "coding/analysis/tables.html", context, status=status)


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


def _table_file(table: Table, filter_text: str, fmt: str) -> bytes:
    made = timezone.localtime().isoformat(timespec="seconds")
    headers, rows = table_cells(table, filters=filter_text, made=made)
    return segments.table_export(headers, rows, fmt, title=table.table)


@login_required
@require_GET
def analysis_export(request: HtmxHttpRequest, slug: str, fmt: str) -> HttpResponse:
    if fmt not in _FORMATS:
        raise Http404
    context = _tables_context(request, slug)
    filtered = context.get("filtered")
    if filtered is None:
        context.setdefault("table_error", _("Choose a table first."))
        return render(request, "coding/analysis/tables.html", context, status=400)
    content = _table_file(filtered.table, filtered.filter_text, fmt)
    filename = f"{slug}-{filtered.table.table}-{filtered.table.layer}.{fmt}"
    return _download(content, _FORMATS[fmt], filename)


@login_required
@require_GET
def analysis_figure(request: HtmxHttpRequest, slug: str, fmt: str) -> HttpResponse:
    if fmt not in figures.FORMATS:
        raise Http404
    context = _tables_context(request, slug)
    filtered = context.get("filtered")
    if filtered is None:
        return HttpResponse(context.get("table_error", ""), status=400, content_type="text/plain")
    made = timezone.localtime().strftime("%d-%m-%Y %H:%M")
    caption = figures.note(filtered.table, filter_text=filtered.filter_text, made=made)
    content = figures.render(filtered.table, fmt, caption=caption)
    if request.GET.get("download"):
        filename = f"{slug}-{filtered.table.table}-{filtered.table.layer}.{fmt}"
        return _download(content, figures.FORMATS[fmt], filename)
    return HttpResponse(content, content_type=figures.FORMATS[fmt])


@login_required
@require_GET
def analysis_pairs(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Where two codes of the co-occurrence table meet: the interventions with both, or the
    overlapping pairs of their segments."""
    context = _tables_context(request, slug)
    filtered = context.get("filtered")
    if filtered is None:
        return render(request, "coding/analysis/tables.html", context, status=400)
    corpus = filtered.corpus
    by_uuid = {
        str(u): pk
        for u, pk in Code.objects.filter(study=context["study"]).values_list("uuid", "pk")
    }
    index = corpus.code_index()
    try:
        row = index[by_uuid[request.GET.get("row", "")]]
        column = index[by_uuid[request.GET.get("column", "")]]
    except KeyError:
        raise Http404 from None
    titles = dict(corpus.interventions)
    found: list[dict[str, Any]] = []
    if filtered.table.count == "interventions":
        present: dict[int, set[int]] = {}
        for mark in corpus.marks:
            present.setdefault(mark.intervention_id, set()).update(corpus.rolled_up(mark))
        uuids = dict(Intervention.objects.filter(pk__in=list(present)).values_list("pk", "uuid"))
        found = [
            {"title": titles[pk], "uuid": uuids[pk]}
            for pk, rows in present.items()
            if row in rows and column in rows
        ]
        found.sort(key=lambda item: item["title"])
    else:
        pairs = [
            (a, b)
            for a, b in overlapping_pairs(corpus.marks)
            if (row in corpus.rolled_up(a) and column in corpus.rolled_up(b))
            or (row in corpus.rolled_up(b) and column in corpus.rolled_up(a))
        ]
        texts = dict(
            Intervention.objects.filter(pk__in={a.intervention_id for a, _b in pairs}).values_list(
                "pk", "text"
            )
        )
        uuids = dict(Intervention.objects.filter(pk__in=list(texts)).values_list("pk", "uuid"))
        paths = {code.pk: display_path(code.path) for code in corpus.codes}
        found = [
            {
                "title": titles[a.intervention_id],
                "uuid": uuids[a.intervention_id],
                "layer": a.layer,
                "first": (paths[a.code_id], texts[a.intervention_id][a.start : a.end]),
                "second": (paths[b.code_id], texts[b.intervention_id][b.start : b.end]),
            }
            for a, b in pairs
        ]
    context.update(
        pairs=found,
        first=display_path(corpus.codes[row].path),
        second=display_path(corpus.codes[column].path),
        count=filtered.table.count,
        back=reverse("analysis_tables", args=[slug]) + "?" + filtered.query,
    )
    return render(request, "coding/analysis/pairs.html", context)


# Snapshots --------------------------------------------------------------------------------


@login_required
@require_POST
def analysis_snapshot_save(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Store the table the page shows, as it is now, under a name. The table's parameters come
    in the query string, as on the page, or in the form."""
    context = _tables_context(request, slug, request.POST if "table" in request.POST else None)
    filtered = context.get("filtered")
    form = SnapshotForm(request.POST)
    if filtered is None or not form.is_valid():
        context["table_error"] = context.get("table_error") or form_error(form)
        return render(request, "coding/analysis/tables.html", context, status=400)
    snapshot = AnalysisSnapshot.objects.create(
        study=context["study"],
        created_by=request.user,
        title=form.cleaned_data["title"],
        params=filtered.params,
        result={**filtered.table.as_json(), "filter": filtered.filter_text},
        codebook_version=filtered.table.codebook_version,
    )
    messages.success(request, _("Saved as “%(title)s”.") % {"title": snapshot.title})
    return redirect("analysis_snapshot", slug=slug, uuid=snapshot.uuid)


@login_required
@require_GET
def analysis_snapshots(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    snapshots = _snapshots_for(access)
    return render(
        request,
        "coding/analysis/snapshots.html",
        {"access": access, "study": access.study, "snapshots": snapshots},
    )


def _snapshots_for(access: Any) -> list[AnalysisSnapshot]:
    """The snapshots this member may read: a snapshot counts a layer, so one of a layer closed
    to the member (another coder's, or the consensus before the reveal) is not listed."""
    open_layers = {value for value, _label in pages.layer_choices(access)}
    return [
        snapshot
        for snapshot in AnalysisSnapshot.objects.filter(study=access.study).select_related(
            "created_by"
        )
        if snapshot.result.get("layer") in open_layers
    ]


def _snapshot(request: HtmxHttpRequest, slug: str, uuid: Any) -> tuple[Any, AnalysisSnapshot]:
    access = get_study_for_user(request.user, slug)
    for snapshot in _snapshots_for(access):
        if str(snapshot.uuid) == str(uuid):
            return access, snapshot
    raise Http404


def _stored_table(snapshot: AnalysisSnapshot) -> Table:
    data = snapshot.result
    return Table(
        table=data["table"],
        layer=data["layer"],
        count=data["count"],
        rows=data["rows"],
        columns=data["columns"],
        cells=data["cells"],
        row_totals=data["row_totals"],
        column_totals=data["column_totals"],
        n_interventions=data["n_interventions"],
        codebook_version=data.get("codebook_version"),
    )


@login_required
@require_GET
def analysis_snapshot(request: HtmxHttpRequest, slug: str, uuid: Any) -> HttpResponse:
    access, snapshot = _snapshot(request, slug, uuid)
    table = _stored_table(snapshot)
    rows = [
        {
            "label": display_path_string(label),
            "depth": label.count(" > "),
            "cells": cells,
            "total": total,
        }
        for label, cells, total in zip(table.rows, table.cells, table.row_totals, strict=True)
    ]
    return render(
        request,
        "coding/analysis/snapshot.html",
        {
            "access": access,
            "study": access.study,
            "snapshot": snapshot,
            "table": table,
            "rows": rows,
            "columns": [display_path_string(c) for c in table.columns],
        },
    )


@login_required
@require_GET
def analysis_snapshot_file(
    request: HtmxHttpRequest, slug: str, uuid: Any, fmt: str
) -> HttpResponse:
    _access, snapshot = _snapshot(request, slug, uuid)
    table = _stored_table(snapshot)
    name = f"{slug}-{slugify(snapshot.title) or 'analysis'}.{fmt}"
    if fmt in figures.FORMATS:
        made = timezone.localtime(snapshot.created_at).strftime("%d-%m-%Y %H:%M")
        caption = figures.note(table, filter_text=snapshot.result.get("filter", ""), made=made)
        content = figures.render(table, fmt, caption=caption)
        if not request.GET.get("download"):
            return HttpResponse(content, content_type=figures.FORMATS[fmt])
        return _download(content, figures.FORMATS[fmt], name)
    if fmt in _FORMATS:
        return _download(
            _table_file(table, snapshot.result.get("filter", ""), fmt), _FORMATS[fmt], name
        )
    raise Http404


# Text search and auto-coding --------------------------------------------------------------


def _search_context(access: Any, data: Any) -> dict[str, Any]:
    attributes = pages.attribute_choices(access)
    form = SearchForm(data, attributes=attributes)
    context: dict[str, Any] = {"access": access, "study": access.study, "form": form}
    if form.is_bound and form.is_valid():
        cleaned = form.cleaned_data
        chosen = {d.pk: cleaned[f"a{d.pk}"] for d, _v in attributes if cleaned.get(f"a{d.pk}")}
        try:
            result = search.search(
                study=access.study,
                query=cleaned["q"],
                whole_word=cleaned["whole_word"],
                as_regex=cleaned["regex"],
                coded_only=cleaned["coded_only"],
                attributes=chosen,
            )
        except search.SearchError as error:
            context["search_error"] = str(error)
        else:
            context["result"] = result
            context["summary"] = result.as_json()
            context["hit_keys"] = [_hit_key(hit) for hit in result.hits]
            context["hit_rows"] = list(zip(result.hits, context["hit_keys"], strict=True))
            context["search_params"] = [
                (key, value)
                for key, value in data.items()
                if key in form.fields and key not in ("csrfmiddlewaretoken",)
            ]
    elif form.is_bound:
        context["search_error"] = form_error(form)
    if access.can_code:
        context["codes"] = _code_choices(access.study)
    return context


def _hit_key(hit: search.Hit) -> str:
    return f"{hit.intervention_id}:{hit.start}:{hit.end}"


def _code_choices(study: Any) -> list[tuple[str, str]]:
    children = codes_by_parent(study)
    paths = paths_from(children)
    return [
        (str(code.uuid), display_path(paths[code.pk]))
        for code in sorted(
            (code for codes in children.values() for code in codes),
            key=lambda code: paths[code.pk],
        )
    ]


@login_required
@require_GET
def analysis_search(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug)
    context = _search_context(access, request.GET)
    status = 400 if context.get("search_error") else 200
    return render(request, "coding/analysis/search.html", context, status=status)


@login_required
@require_POST
def analysis_autocode(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Code the chosen hits of a search in the member's own layer: first a preview of every
    span to be coded, then, confirmed, all in one action that can be undone."""
    access = get_study_for_user(request.user, slug, need="can_code")
    context = _search_context(access, request.POST)
    result = context.get("result")
    if result is None:
        return render(request, "coding/analysis/search.html", context, status=400)
    form = AutocodeForm(request.POST, codes=context["codes"], hits=context["hit_keys"])
    context["autocode_form"] = form
    if not form.is_valid():
        context["autocode_error"] = form_error(form)
        return render(request, "coding/analysis/search.html", context, status=400)
    code = Code.objects.get(study=access.study, uuid=form.cleaned_data["code"])
    # The messages name the code by its shortest unambiguous path (`short_code_paths`).
    context["code_label"] = short_code_paths(access.study).get(code.pk, code.name)
    by_key = {_hit_key(hit): hit for hit in result.hits}
    texts = dict(
        Intervention.objects.filter(
            pk__in={by_key[key].intervention_id for key in form.cleaned_data["hits"]}
        ).values_list("pk", "text")
    )
    spans = []
    for key in form.cleaned_data["hits"]:
        hit = by_key[key]
        start, end = search.widen(
            texts[hit.intervention_id], hit.start, hit.end, form.cleaned_data["unit"]
        )
        spans.append(
            (hit.intervention_id, start, end, hit.title, texts[hit.intervention_id][start:end])
        )
    if not form.cleaned_data["confirm"]:
        context.update(preview=spans, preview_code=code, chosen=form.cleaned_data["hits"])
        return render(request, "coding/analysis/search.html", context)
    try:
        done = search.segments_autocode(
            study=access.study,
            coder=request.user,
            code=code,
            spans=[(pk, start, end) for pk, start, end, _t, _q in spans],
            query=result.query,
        )
    except SegmentError as error:
        context["autocode_error"] = str(error)
        return render(request, "coding/analysis/search.html", context, status=400)
    context.update(autocoded=done, autocoded_code=code)
    return render(request, "coding/analysis/search.html", context)


@login_required
@require_POST
def analysis_autocode_undo(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = get_study_for_user(request.user, slug, need="can_code")
    event = CodingEvent.objects.filter(
        study=access.study, pk=request.POST.get("event") or 0, action=search.AUTOCODE
    ).first()
    if event is None:
        raise Http404
    try:
        deleted = search.segments_autocode_undo(event=event, actor=request.user)
    except SegmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            ngettext("Undone: %(n)s segment deleted.", "Undone: %(n)s segments deleted.", deleted)
            % {"n": deleted},
        )
    return redirect(reverse("analysis_search", args=[slug]) + "?" + request.POST.get("back", ""))
