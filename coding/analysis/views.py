"""The code report: every segment of a code, filtered by coder, intervention and property,
from the coders' layers or the consensus layer, on a page and as a file."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from coding import segments, sight
from coding.analysis import report as analysis
from coding.analysis.forms import ReportForm
from coding.analysis.render import report_rows_html
from coding.codebook.outline import display_path
from coding.codebook.services import codes_by_parent, paths_from
from coding.consensus import services as consensus
from coding.models import (
    Code,
)
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
        context.update(
            rows=rows,
            source_note=source_note,
            code=by_uuid[data["code"]],
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


@login_required
@require_GET
def code_report_export(request: HtmxHttpRequest, slug: str, fmt: str) -> HttpResponse:
    if fmt not in _FORMATS:
        raise Http404
    context = _report(request, slug)
    if context.get("rows") is None:
        status = 400
        context.setdefault("report_error", _("Choose a code for the report first."))
        return render(request, "coding/analysis/code_report.html", context, status=status)
    content = analysis.report_export(context["rows"], fmt)
    name = slugify(context["code"].name) or "code"
    filename = f"{context['study'].slug}-{name}.{fmt}"
    response = HttpResponse(content, content_type=_FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response
