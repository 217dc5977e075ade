"""Inter-rater agreement: double-coding assignments, agreement runs, the report and its files.

Shaped like `coding.codebook.views`: fetch through an access helper (404 outsiders, 403 missing
right), validate with a form, call one service (`coding.agreement.assignments`,
`coding.agreement.runs`), render. The owner assigns and starts runs; the supervisor reads along.
Coders see neither page: the figures and the disagreement list tell about the other coders'
coding, which a blind coder must not learn. A coder sees only their own assignment
(`my_assignments`).

The report shows the stored result of a run (`coding.agreement.reliability`'s layout) and never
recomputes it. Its disagreement list quotes a coder's passage only when `visible_coders`
lets the viewer see that coder's layer; before the reveal it shows counts.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from coding.agreement import exports as agreement_exports
from coding.agreement.assignments import (
    AssignmentError,
    assignment_create,
    assignment_delete,
    sample_interventions,
    strata_for,
)
from coding.agreement.chart import alpha_chart, alpha_chart_file
from coding.agreement.forms import AssignForm, RunForm, UnassignForm
from coding.agreement.reliability import DISAGREEMENT_LIMIT
from coding.agreement.report import (
    UNIT_NAMES,
    Notes,
    confusion_tables,
    disagreement_rows,
    measure_columns,
    measure_rows,
    run_row,
    split_computable,
)
from coding.agreement.runs import (
    AgreementError,
    agreement_run_start,
    coders_of,
    default_coders,
    left_out_text,
)
from coding.models import AgreementRun, Assignment, InterventionProgress
from interventions.access import StudyAccess, get_study_for_user
from interventions.models import AttributeDefinition, Intervention, Study
from veerkracht.jobs import job_revive
from veerkracht.lib.forms import form_error
from veerkracht.lib.http import HtmxHttpRequest

TEMPLATE = "coding/agreement/runs.html"
RUNS_SHOWN = 50


# Two plain sentences per measure: what it measures, and how to read it.
EXPLANATIONS = [
    (
        gettext_lazy("n units"),
        gettext_lazy(
            "The units compared: interventions assigned to at least two of the compared "
            "coders, or the words or characters of their coded sections, or (for segments) "
            "all coders' segments. Text units count only the sections to be coded, so text "
            "marked “not coded” cannot inflate agreement."
        ),
    ),
    (
        gettext_lazy("Percent agreement"),
        gettext_lazy(
            "The share of agreeing pairs of values among the units coded by at least two "
            "coders: Krippendorff's observed agreement (1 − Do) over pairable values. It is "
            "not corrected for chance, so a code that is rarely used shows high agreement even "
            "when the coders never agree on where it applies."
        ),
    ),
    (
        gettext_lazy("Cohen's kappa"),
        gettext_lazy(
            "Agreement between exactly two coders, corrected for the agreement expected if "
            "each kept their own code frequencies but applied them at random. 1 is perfect "
            "agreement, 0 is chance level, and values below 0 are worse than chance."
        ),
    ),
    (
        gettext_lazy("Fleiss' kappa"),
        gettext_lazy(
            "Chance-corrected agreement for three or more coders who all coded every unit; "
            "with missing data it is not applicable. Read it like Cohen's kappa: 1 is perfect, "
            "0 is chance level."
        ),
    ),
    (
        gettext_lazy("Krippendorff's alpha"),
        gettext_lazy(
            "Chance-corrected agreement for any number of coders that allows missing values "
            "(nominal: codes are only compared for being equal). Krippendorff's guidance: "
            "α ≥ .800 is reliable, α ≥ .667 allows tentative conclusions, and below .667 is "
            "not acceptable."
        ),
    ),
    (
        gettext_lazy("95% CI, p(α < .667), p(α < .800)"),
        gettext_lazy(
            "An interval computed this way holds the true alpha in about 95 of 100 studies; it "
            "comes from bootstrap samples of the coded units (Hayes & Krippendorff, 2007). The "
            "p columns give the share of bootstrap samples below .667 and .800: the risk "
            "that the coding falls short of that level."
        ),
    ),
    (
        gettext_lazy("Brennan and Prediger's kappa"),
        gettext_lazy(
            "For segments: the share of matched segments, corrected for chance agreement "
            "taken as one in the number of codes in the codebook. Unlike Cohen's kappa it does "
            "not depend on how often each coder used each code."
        ),
    ),
]


# Access --------------------------------------------------------------------------------------


def _reader(user: User, slug: str) -> StudyAccess:
    """Those who `sees_agreement`: coders must not see the others' figures (403)."""
    return get_study_for_user(user, slug, need="sees_agreement")


def _owner(user: User, slug: str) -> StudyAccess:
    return get_study_for_user(user, slug, need="can_run_agreement")


def _run(access: StudyAccess, uuid: UUID) -> AgreementRun:
    return get_object_or_404(
        AgreementRun.objects.select_related("codebook_version", "created_by"),
        study=access.study,
        uuid=uuid,
    )


# Assignments ---------------------------------------------------------------------------------


@dataclass
class CoderAssignments:
    user: User
    role: str  # its label, for display
    items: list[tuple[Intervention, bool]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(done for _item, done in self.items)


def _assignments_context(access: StudyAccess, form: AssignForm | None = None) -> dict[str, Any]:
    study = access.study
    coders = coders_of(study)
    roles = {m.user_id: m.get_role_display() for m in study.memberships.all()}
    by_coder = {u.pk: CoderAssignments(u, roles.get(u.pk, "")) for u in coders}
    done = set(
        InterventionProgress.objects.filter(intervention__study=study).values_list(
            "coder_id", "intervention_id"
        )
    )
    per_intervention: Counter[int] = Counter()
    for assignment in Assignment.objects.filter(intervention__study=study).select_related(
        "intervention"
    ):
        per_intervention[assignment.intervention_id] += 1
        row = by_coder.get(assignment.coder_id)
        if row is not None:
            item = assignment.intervention
            row.items.append((item, (assignment.coder_id, item.pk) in done))
    total = study.interventions.count()
    double = sum(1 for n in per_intervention.values() if n >= 2)
    return {
        "access": access,
        "study": study,
        "coders": list(by_coder.values()),
        "n_total": total,
        "n_double": double,
        "double_percent": round(100 * double / total) if total else 0,
        "form": form or AssignForm(study=study, coders=coders)
        if access.can_run_agreement
        else None,
        "has_attributes": study.attributes.exists(),
    }


@login_required
@require_GET
def assignments(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = _reader(request.user, slug)
    return render(request, "coding/agreement/assignments.html", _assignments_context(access))


def _assignment_refused(
    request: HtmxHttpRequest, access: StudyAccess, form: AssignForm, error: str = ""
) -> HttpResponse:
    if error:
        form.add_error(None, error)
    context = _assignments_context(access, form)
    context["form_error"] = error or form_error(form)
    return render(request, "coding/agreement/assignments.html", context, status=400)


@login_required
@require_POST
def assignment_add(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = _owner(request.user, slug)
    study = access.study
    coders = {u.username: u for u in coders_of(study)}
    form = AssignForm(request.POST, study=study, coders=list(coders.values()))
    if not form.is_valid():
        return _assignment_refused(request, access, form)
    data = form.cleaned_data
    method = data["method"]
    corpus = list(study.interventions.only("pk", "uuid", "title", "study_id").order_by("title"))
    percent = seed = None
    definition: AttributeDefinition | None = data.get("stratify")
    try:
        if method == "all":
            chosen = corpus
        elif method == "list":
            wanted = set(data["interventions"])
            chosen = [item for item in corpus if str(item.uuid) in wanted]
        else:
            percent = data["percent"]
            # A seed left empty is drawn here and recorded with the assignment.
            seed = data["seed"] if data["seed"] is not None else secrets.randbelow(2**31)
            strata = strata_for(definition) if definition else None
            chosen = sample_interventions(corpus, percent=percent, seed=seed, strata=strata)
        added = assignment_create(
            study=study,
            actor=request.user,
            coder=coders[data["coder"]],
            interventions=chosen,
            method=method,
            percent=percent,
            seed=seed,
            stratify_by=definition.name if definition and method == "sample" else "",
        )
    except AssignmentError as error:
        return _assignment_refused(request, access, form, str(error))
    notice = ngettext(
        "%(n)s intervention assigned to %(coder)s.",
        "%(n)s interventions assigned to %(coder)s.",
        len(added),
    ) % {"n": len(added), "coder": data["coder"]}
    if len(added) < len(chosen):
        notice += " " + _("%(n)s of those were assigned already.") % {"n": len(chosen) - len(added)}
    if seed is not None:
        notice += " " + _("Sample of %(percent)s%% drawn with seed %(seed)s.") % {
            "percent": f"{percent:g}" if percent is not None else "",
            "seed": seed,
        }
    messages.success(request, notice)
    return redirect("agreement_assignments", slug=slug)


@login_required
@require_POST
def assignment_remove(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = _owner(request.user, slug)
    form = UnassignForm(request.POST)
    coder = None
    intervention = None
    if form.is_valid():
        coder = next(
            (u for u in coders_of(access.study) if u.username == form.cleaned_data["coder"]), None
        )
        intervention = access.study.interventions.filter(
            uuid=form.cleaned_data["intervention"]
        ).first()
    if coder is None or intervention is None:
        context = _assignments_context(access)
        context["form_error"] = _("That assignment does not exist; reload the page.")
        return render(request, "coding/agreement/assignments.html", context, status=400)
    assignment_delete(
        study=access.study, actor=request.user, coder=coder, intervention=intervention
    )
    messages.success(
        request,
        _("“%(title)s” is no longer assigned to %(coder)s.")
        % {"title": intervention.title, "coder": coder.username},
    )
    return redirect("agreement_assignments", slug=slug)


@login_required
@require_GET
def my_assignments(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """The interventions assigned to the viewer, and which of them they marked done."""
    access = get_study_for_user(request.user, slug, need="can_code")
    items = list(
        Intervention.objects.filter(study=access.study, assignments__coder=request.user)
        .only("pk", "uuid", "title")
        .order_by("title")
    )
    done = set(
        InterventionProgress.objects.filter(
            coder=request.user, intervention__study=access.study
        ).values_list("intervention_id", flat=True)
    )
    context = {
        "access": access,
        "study": access.study,
        "items": [(item, item.pk in done) for item in items],
        "n_done": sum(item.pk in done for item in items),
    }
    return render(request, "coding/agreement/mine.html", context)


# Runs ----------------------------------------------------------------------------------------


def _runs_context(access: StudyAccess, form: RunForm | None = None) -> dict[str, Any]:
    study = access.study
    coders = coders_of(study)
    runs = list(
        AgreementRun.objects.filter(study=study)
        .select_related("created_by")
        .defer("result", "segment_ids")
        .order_by("-created_at", "-pk")[:RUNS_SHOWN]
    )
    alphas = dict(
        AgreementRun.objects.filter(pk__in=[r.pk for r in runs]).values_list(
            "pk", "result__overall__krippendorff_alpha"
        )
    )
    fingerprints: dict[tuple[str, ...], str] = {}
    rows = []
    for run in runs:
        run.study = study
        # Only the overall alpha is needed here, not the whole stored result.
        run.result = {"overall": {"krippendorff_alpha": alphas.get(run.pk)}}
        rows.append(run_row(run, fingerprints))
    if form is None and access.can_run_agreement:
        form = RunForm(coders=coders, initial={"coders": default_coders(study)})
    return {
        "access": access,
        "study": study,
        "rows": rows,
        "form": form,
        "chart": alpha_chart(study),
        "explanations": EXPLANATIONS,
    }


@login_required
@require_GET
def chart_file(request: HtmxHttpRequest, slug: str, fmt: str) -> HttpResponse:
    """The alpha chart as SVG or PNG (300 dpi), to put in a thesis."""
    access = _reader(request.user, slug)
    if fmt not in ("svg", "png"):
        raise Http404
    content = alpha_chart_file(access.study, fmt)
    if content is None:
        raise Http404
    response = HttpResponse(content, content_type="image/svg+xml" if fmt == "svg" else "image/png")
    filename = f"{access.study.slug}-alpha.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return response


@login_required
@require_GET
def runs(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = _reader(request.user, slug)
    if request.htmx and request.htmx.target == "agreement-chart":
        context = {"access": access, "study": access.study, "chart": alpha_chart(access.study)}
        return render(request, TEMPLATE + "#chart-panel", context)
    return render(request, TEMPLATE, _runs_context(access))


def _start(request: HtmxHttpRequest, access: StudyAccess, **options: Any) -> AgreementRun:
    run = agreement_run_start(study=access.study, actor=request.user, **options)
    messages.success(request, _("Agreement run started."))
    return run


@login_required
@require_POST
def run_start(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    access = _owner(request.user, slug)
    form = RunForm(request.POST, coders=coders_of(access.study))
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            _start(
                request,
                access,
                coders=data["coders"],
                unit=data["unit"],
                overlap=data["overlap"] if data["overlap"] is not None else 0.9,
                bootstrap=data["bootstrap"] or 0,
                seed=data["seed"],
            )
        except AgreementError as refusal:
            error = str(refusal)
        else:
            return redirect("agreement", slug=slug)
    else:
        error = form_error(form)
    context = _runs_context(access, form)
    context["form_error"] = error
    return render(request, TEMPLATE, context, status=400)


@login_required
@require_POST
def run_again(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    """A new run with the same coders, unit, overlap, samples and seed."""
    access = _owner(request.user, slug)
    run = _run(access, uuid)
    params = {k: run.params.get(k) for k in ("coders", "unit", "overlap", "bootstrap", "seed")}
    try:
        _start(request, access, **params)
    except AgreementError as refusal:
        context = _runs_context(access)
        context["form_error"] = str(refusal)
        return render(request, TEMPLATE, context, status=400)
    return redirect("agreement", slug=slug)


@login_required
@require_GET
def run_status(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponseBase:
    """The run's status fragment; 286 stops the polling once the run has finished."""
    access = _reader(request.user, slug)
    run = _run(access, uuid)
    if not request.htmx:
        return redirect("agreement_report", slug=slug, uuid=run.uuid)
    job_revive(run)
    run.study = access.study
    row = run_row(run, {})
    in_list = "row" in request.GET
    context = {
        "access": access,
        "study": access.study,
        "row": row,
        "in_list": in_list,
        # In the list of runs, the final fragment also fills the row's alpha cell.
        "oob": in_list,
    }
    response = render(request, TEMPLATE + "#run-status", context)
    if run.is_finished:
        stop = HttpResponseStopPolling(response.content)
        # The chart of alpha over the runs redraws itself with the new point.
        return trigger_client_event(stop, "agreementRunDone") if in_list else stop
    return response


@login_required
@require_GET
def report(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = _reader(request.user, slug)
    run = _run(access, uuid)
    run.study = access.study
    context: dict[str, Any] = {"access": access, "study": access.study, "run": run}
    row = run_row(run, {})
    context["row"] = row
    context["left_out"] = left_out_text(run.params.get("left_out") or [])
    if run.status != AgreementRun.Status.DONE:
        return render(request, "coding/agreement/report.html", context)
    result = run.result
    unit = result.get("unit", "intervention")
    notes = Notes()
    overall = result.get("overall") or {}
    listed, counts, hidden = disagreement_rows(access, request.user, result)
    compared = int(result.get("n_interventions", 0))
    total = int(result.get("n_interventions_total") or 0)
    context.update(
        unit=unit,
        unit_name=UNIT_NAMES.get(unit, unit),
        columns=[label for _key, label in measure_columns(unit)],
        overall=measure_rows({_("All codes"): overall}, unit, notes) if overall else [],
    )
    # Rows without any value (a code nobody used) fold away under a count.
    context["codes"], context["codes_folded"] = split_computable(
        measure_rows(result.get("codes") or {}, unit, notes)
    )
    context["families"], context["families_folded"] = split_computable(
        measure_rows(result.get("families") or {}, unit, notes)
    )
    context.update(
        confusions=confusion_tables(result),
        notes=notes.reasons,
        disagreements=listed,
        disagreement_counts=counts,
        n_disagreements=len(result.get("disagreements") or []),
        disagreement_limit=DISAGREEMENT_LIMIT,
        hidden=hidden,
        compared=compared,
        total=total,
        compared_percent=round(100 * compared / total) if total else 0,
        n_assigned=sorted((result.get("n_assigned") or {}).items()),
        explanations=EXPLANATIONS,
        interpretation=_(overall.get("interpretation") or "not computable"),
    )
    return render(request, "coding/agreement/report.html", context)


# Files ---------------------------------------------------------------------------------------


def _finished(access: StudyAccess, uuid: UUID) -> AgreementRun:
    run = _run(access, uuid)
    if run.status != AgreementRun.Status.DONE:
        raise Http404
    return run


def run_info(run: AgreementRun, study: Study) -> agreement_exports.RunInfo:
    roles = dict(
        study.memberships.filter(user__username__in=run.params.get("coders", [])).values_list(
            "user__username", "role"
        )
    )
    when = timezone.localdate(run.finished_at or run.created_at)
    version = run.codebook_version
    return agreement_exports.RunInfo(
        date=when,
        coders=[(name, roles.get(name, "coder")) for name in run.params.get("coders", [])],
        bootstrap=int(run.params.get("bootstrap") or 0),
        seed=run.params.get("seed"),
        overlap=float(run.params.get("overlap") or 0.9),
        codebook_version=(version.number, version.label) if version else None,
    )


def _attach(response: HttpResponse, filename: str) -> None:
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"


def _filename(run: AgreementRun, study: Study, suffix: str) -> str:
    day = timezone.localdate(run.finished_at or run.created_at).isoformat()
    return f"agreement-{study.slug}-{day}{suffix}"


@login_required
@require_GET
def export(request: HtmxHttpRequest, slug: str, uuid: UUID, fmt: str) -> HttpResponse:
    access = _reader(request.user, slug)
    if fmt not in ("xlsx", "csv"):
        raise Http404
    run = _finished(access, uuid)
    content = agreement_exports.export_table(run.result, fmt, run_info(run, access.study))
    types = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    response = HttpResponse(content, content_type=types[fmt])
    _attach(response, _filename(run, access.study, f".{fmt}"))
    return response


@login_required
@require_GET
def method_docx(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    """The method paragraph in Dutch or English: ?lang=, else the user's language."""
    access = _reader(request.user, slug)
    run = _finished(access, uuid)
    lang = request.GET.get("lang") or (translation.get_language() or "en")[:2]
    if lang not in agreement_exports.LANGUAGES:
        return HttpResponse(
            _("Choose the language of the paragraph: nl or en."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    content = agreement_exports.method_docx(run.result, run_info(run, access.study), lang)
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    _attach(response, _filename(run, access.study, f"-method-{lang}.docx"))
    return response
