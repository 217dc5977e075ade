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
from typing import Any, cast
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from coding.agreement import exports as agreement_exports
from coding.agreement import metrics as agreement
from coding.agreement.assignments import (
    AssignmentError,
    assign,
    sample_interventions,
    strata_for,
    unassign,
)
from coding.agreement.metrics import ALPHA_RELIABLE, ALPHA_TENTATIVE
from coding.agreement.reliability import DISAGREEMENT_LIMIT, UNITS
from coding.agreement.runs import (
    MAX_BOOTSTRAP,
    AgreementError,
    agreement_run_start,
    coders_of,
    coding_fingerprint,
)
from coding.models import AgreementRun, Assignment, InterventionProgress, Segment
from coding.segments import can_code, visible_coders
from interventions.access import StudyAccess, get_study_for_user
from interventions.models import AttributeDefinition, Intervention, Role, Study
from veerkracht.jobs import fail_if_stale
from veerkracht.lib.http import HtmxHttpRequest

TEMPLATE = "coding/agreement/runs.html"
PATH_SEPARATOR = " › "
RUNS_SHOWN = 50
CHART_RUNS = 30

UNIT_LABELS = {
    "intervention": gettext_lazy("Intervention: does the text have the code?"),
    "word": gettext_lazy("Word: which words carry the code?"),
    "character": gettext_lazy("Character: which characters carry the code?"),
    "segment": gettext_lazy("Segment: do the coders' passages match?"),
}
UNIT_NAMES = {
    "intervention": gettext_lazy("intervention"),
    "word": gettext_lazy("word"),
    "character": gettext_lazy("character"),
    "segment": gettext_lazy("segment"),
}
METHODS = [
    ("all", gettext_lazy("All interventions")),
    ("list", gettext_lazy("Hand-picked interventions")),
    ("sample", gettext_lazy("A random sample")),
]

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


def _reader(user: Any, slug: str) -> StudyAccess:
    """The owner or the supervisor: coders must not see the others' figures (403)."""
    access = get_study_for_user(user, slug)
    if access.role not in (Role.OWNER, Role.SUPERVISOR):
        raise PermissionDenied
    return access


def _owner(user: Any, slug: str) -> StudyAccess:
    return get_study_for_user(user, slug, manage=True)


def _run(access: StudyAccess, uuid: UUID) -> AgreementRun:
    return get_object_or_404(
        AgreementRun.objects.select_related("codebook_version", "created_by"),
        study=access.study,
        uuid=uuid,
    )


def _form_error(form: forms.Form) -> str:
    for name, errors in form.errors.items():
        if name == "__all__" or name not in form.fields:
            return str(errors[0])
        return f"{form.fields[name].label}: {errors[0]}"
    return _("Check the form.")


# Assignments ---------------------------------------------------------------------------------


class AssignForm(forms.Form):
    coder = forms.ChoiceField(label=gettext_lazy("Coder"))
    method = forms.ChoiceField(
        label=gettext_lazy("Which interventions"),
        choices=METHODS,
        initial="sample",
        widget=forms.RadioSelect,
    )
    interventions = forms.MultipleChoiceField(
        label=gettext_lazy("Interventions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": gettext_lazy("That intervention is not in this study.")},
    )
    percent = forms.FloatField(
        label=gettext_lazy("Percentage"),
        required=False,
        initial=20,
        widget=forms.NumberInput(attrs={"min": "1", "max": "100", "step": "any"}),
    )
    seed = forms.IntegerField(
        label=gettext_lazy("Seed"),
        required=False,
        min_value=0,
        help_text=gettext_lazy("The same seed draws the same sample again. It is recorded."),
    )
    stratify = forms.ModelChoiceField(
        label=gettext_lazy("Stratified by"),
        queryset=AttributeDefinition.objects.none(),
        required=False,
        empty_label=gettext_lazy("Not stratified"),
        help_text=gettext_lazy("Each value of the property gets its share of the sample."),
    )

    def __init__(self, *args: Any, study: Study, coders: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        coder = cast(forms.ChoiceField, self.fields["coder"])
        coder.choices = [(u.username, u.username) for u in coders]
        coder.error_messages["invalid_choice"] = _(
            "That person is not a coder or owner in this study."
        )
        cast(forms.MultipleChoiceField, self.fields["interventions"]).choices = [
            (str(uuid), title)
            for uuid, title in study.interventions.order_by("title").values_list("uuid", "title")
        ]
        stratify = cast(forms.ModelChoiceField, self.fields["stratify"])
        stratify.queryset = AttributeDefinition.objects.filter(study=study)
        if not self.is_bound:
            self.initial.setdefault("seed", secrets.randbelow(2**31))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method = data.get("method")
        if method == "sample" and data.get("percent") is None:
            raise forms.ValidationError(_("Give the percentage to draw, such as 20."))
        if method == "list" and not data.get("interventions") and not self.errors:
            raise forms.ValidationError(_("Tick at least one intervention."))
        return data


class UnassignForm(forms.Form):
    coder = forms.CharField()
    intervention = forms.UUIDField()


@dataclass
class CoderAssignments:
    user: Any
    role: str
    items: list[tuple[Intervention, bool]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return sum(done for _item, done in self.items)


def _assignments_context(access: StudyAccess, form: AssignForm | None = None) -> dict[str, Any]:
    study = access.study
    coders = coders_of(study)
    roles = dict(study.memberships.values_list("user_id", "role"))
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
        "form": form or AssignForm(study=study, coders=coders) if access.can_manage else None,
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
    context["form_error"] = error or _form_error(form)
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
        added = assign(
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
    unassign(study=access.study, actor=request.user, coder=coder, intervention=intervention)
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
    access = get_study_for_user(request.user, slug)
    if not can_code(access.study, request.user):
        raise PermissionDenied
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


class RunForm(forms.Form):
    coders = forms.MultipleChoiceField(
        label=gettext_lazy("Coders to compare"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": gettext_lazy("“%(value)s” is not a coder in this study.")
        },
    )
    unit = forms.ChoiceField(
        label=gettext_lazy("Unit"),
        choices=[(unit, UNIT_LABELS[unit]) for unit in UNITS],
        initial="intervention",
    )
    overlap = forms.FloatField(
        label=gettext_lazy("Minimum overlap"),
        required=False,
        initial=0.9,
        help_text=gettext_lazy(
            "Two segments match when they have the same code and overlap by at least this "
            "share of the longer one (0.9 = 90%)."
        ),
        widget=forms.NumberInput(attrs={"min": "0.05", "max": "1", "step": "0.05"}),
    )
    bootstrap = forms.IntegerField(
        label=gettext_lazy("Bootstrap samples"),
        required=False,
        initial=1000,
        # xgettext:no-python-format
        help_text=gettext_lazy("For the 95% confidence interval of alpha; 0 for none."),
        widget=forms.NumberInput(attrs={"min": "0", "max": str(MAX_BOOTSTRAP), "step": "100"}),
    )
    seed = forms.IntegerField(
        label=gettext_lazy("Seed"),
        required=False,
        min_value=0,
        help_text=gettext_lazy(
            "Left empty, a random seed is drawn and recorded, so the run can be repeated."
        ),
    )

    def __init__(self, *args: Any, coders: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(u.username, u.username) for u in coders]
        cast(forms.MultipleChoiceField, self.fields["coders"]).choices = choices

    def clean_coders(self) -> list[str]:
        coders = self.cleaned_data.get("coders") or []
        if len(set(coders)) < 2:
            raise forms.ValidationError(_("Choose at least two coders."))
        return coders


@dataclass(frozen=True)
class RunRow:
    run: AgreementRun
    alpha: float | None
    alpha_text: str
    flag: str
    flag_text: str
    outdated: bool

    @property
    def coders(self) -> str:
        return ", ".join(self.run.params.get("coders", []))

    @property
    def unit(self) -> str:
        return str(UNIT_NAMES.get(self.run.params.get("unit", ""), self.run.params.get("unit")))


def _flag(value: float | None) -> tuple[str, str]:
    """Krippendorff's levels as a CSS class and a word; nothing for a reliable value."""
    if value is None:
        return "", ""
    if value < ALPHA_TENTATIVE:
        return "flag-low", _("not acceptable")
    if value < ALPHA_RELIABLE:
        return "flag-tentative", _("tentative")
    return "", ""


def _fmt(value: float, places: int = 3) -> str:
    # number_format cuts a float's digits off; round first so 0.6666 reads 0.667.
    return number_format(round(value, places), decimal_pos=places)


def _run_row(run: AgreementRun, fingerprints: dict[tuple[str, ...], str]) -> RunRow:
    overall = (run.result or {}).get("overall") or {}
    alpha = overall.get("krippendorff_alpha")
    flag, flag_text = _flag(alpha)
    outdated = False
    if run.status == AgreementRun.Status.DONE:
        # `is_outdated` for many runs at once: one fingerprint per set of coders.
        key = tuple(run.params.get("coders", []))
        if key not in fingerprints:
            fingerprints[key] = coding_fingerprint(run.study, list(key))
        outdated = fingerprints[key] != run.fingerprint
    return RunRow(run, alpha, _fmt(alpha) if alpha is not None else "", flag, flag_text, outdated)


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
        fail_if_stale(run)
        run.study = study
        # Only the overall alpha is needed here, not the whole stored result.
        run.result = {"overall": {"krippendorff_alpha": alphas.get(run.pk)}}
        rows.append(_run_row(run, fingerprints))
    if form is None and access.can_manage:
        assigned = set(
            Assignment.objects.filter(intervention__study=study).values_list(
                "coder__username", flat=True
            )
        )
        form = RunForm(coders=coders, initial={"coders": sorted(assigned)})
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
        error = _form_error(form)
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
    fail_if_stale(run)
    run.study = access.study
    row = _run_row(run, {})
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


# The report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str = ""
    css: str = ""
    flag: str = ""
    reason: str = ""
    note: int | None = None


@dataclass
class MeasureRow:
    label: str
    cells: list[Cell]


# Reasons that say a measure does not apply to this comparison, rather than that it came out
# undefined (0/0) on this data.
NOT_APPLICABLE = {
    agreement.COHEN_NEEDS_TWO_CODERS,
    agreement.FLEISS_NEEDS_COMPLETE_DATA,
    "Fleiss' kappa is for three or more coders; see Cohen's kappa",
    agreement_exports.NOT_FOR_SEGMENTS,
    agreement_exports.NOT_FOR_OTHER_UNITS,
}
# Chance-corrected coefficients take Krippendorff's levels; percent agreement does not.
FLAGGED = {"cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "brennan_prediger_kappa"}


class Notes:
    """Numbered footnotes for the reasons a measure is not computable, each reason once."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def number(self, reason: str) -> int:
        if reason not in self.reasons:
            self.reasons.append(reason)
        return self.reasons.index(reason) + 1


def _columns(unit: str) -> list[tuple[str, str]]:
    columns = [
        ("n_units", _("n units")),
        ("percent_agreement", _("Percent agreement")),
    ]
    if unit == "segment":
        columns.append(("brennan_prediger_kappa", _("Brennan–Prediger κ")))
    else:
        columns += [
            ("cohen_kappa", _("Cohen's κ")),
            ("fleiss_kappa", _("Fleiss' κ")),
            ("krippendorff_alpha", _("Krippendorff's α")),
            ("alpha_ci95", _("95% CI of α")),
            ("p_below_0667", _("p(α < .667)")),
            ("p_below_0800", _("p(α < .800)")),
        ]
    return columns


def _cell(measure: dict[str, Any], key: str, unit: str, notes: Notes) -> Cell:
    value = measure.get(key)
    if key == "n_units":
        n = int(value or 0)
        return Cell(number_format(n, force_grouping=True), sort=str(n))
    if value is None:
        reason = agreement_exports.reason_for(measure, key, unit)
        if key in {"alpha_ci95", "p_below_0667", "p_below_0800"} and reason in {
            agreement_exports.NO_BOOTSTRAP,
            agreement_exports.ALPHA_UNDEFINED,
        }:
            # Not a measure of its own: the alpha column says why.
            return Cell("—", reason=_(reason))
        text = _(reason) if reason else ""
        label = _("not applicable") if reason in NOT_APPLICABLE else _("not computable")
        return Cell(label, css="not-computable", reason=text, note=notes.number(text))
    if key == "alpha_ci95":
        low, high = value
        return Cell(f"[{_fmt(low)}, {_fmt(high)}]", sort=repr(low))
    if key == "percent_agreement":
        return Cell(f"{_fmt(100 * value, 1)}%", sort=repr(value))
    if key in {"p_below_0667", "p_below_0800"}:
        return Cell(_fmt(value), sort=repr(value))
    css, flag = _flag(value) if key in FLAGGED else ("", "")
    return Cell(_fmt(value), sort=repr(value), css=css, flag=flag)


def _measure_rows(measures: dict[str, dict[str, Any]], unit: str, notes: Notes) -> list[MeasureRow]:
    columns = _columns(unit)
    return [
        MeasureRow(
            path.replace(" > ", PATH_SEPARATOR),
            [_cell(m, key, unit, notes) for key, _label in columns],
        )
        for path, m in measures.items()
    ]


@dataclass(frozen=True)
class Side:
    coder: str
    code: str
    quote: str | None  # None: the segment is gone since the run
    url: str


@dataclass(frozen=True)
class Disagreement:
    title: str
    mine: Side
    other: Side | None
    other_coder: str


def _disagreements(
    access: StudyAccess, viewer: Any, result: dict[str, Any]
) -> tuple[list[Disagreement], list[tuple[str, str, int]], bool]:
    """The list with quotes, or only counts per pair of coders when a layer is hidden.

    The segments come in one query, the texts' titles in another, whatever the list's length.
    """
    items = result.get("disagreements") or []
    study = access.study
    names = list(result.get("coders") or [])
    ids = dict(get_user_model().objects.filter(username__in=names).values_list("username", "pk"))
    visible = {u.pk for u in visible_coders(intervention_or_study=study, viewer=viewer)}
    hidden = any(ids.get(name) not in visible for name in names)
    pairs = Counter(tuple(sorted((d["coder"], d["other_coder"]))) for d in items)
    counts = [(a, b, n) for (a, b), n in sorted(pairs.items())]
    if hidden:
        return [], counts, True
    segment_ids = {d["segment"] for d in items} | {
        d["other_segment"] for d in items if d["other_segment"]
    }
    found = {
        row[0]: row
        for row in Segment.objects.filter(
            pk__in=segment_ids, intervention__study=study, coder_id__in=visible
        ).values_list("pk", "uuid", "quote", "intervention__uuid")
    }
    titles = dict(
        Intervention.objects.filter(study=study, pk__in={d["doc_id"] for d in items}).values_list(
            "pk", "title"
        )
    )

    def side(segment_id: int | None, coder: str, code: str | None, layers: str) -> Side | None:
        if segment_id is None:
            return None
        row = found.get(segment_id)
        path = (code or "").replace(" > ", PATH_SEPARATOR)
        if row is None:
            return Side(coder, path, None, "")
        _pk, uuid, quote, intervention_uuid = row
        url = reverse("workspace", args=[study.slug, intervention_uuid])
        return Side(coder, path, quote, f"{url}?layers={layers}&segment={uuid}#seg-{uuid}")

    listed = []
    # A pair of segments that are each other's nearest counterpart is one disagreement seen
    # from both sides: list it once.
    seen: set[frozenset[int]] = set()
    for d in items:
        if d["other_segment"] is not None:
            pair = frozenset((d["segment"], d["other_segment"]))
            if pair in seen:
                continue
            seen.add(pair)
        layers = ",".join(
            str(ids[name]) for name in sorted({d["coder"], d["other_coder"]}) if name in ids
        )
        mine = side(d["segment"], d["coder"], d["code"], layers)
        assert mine is not None
        listed.append(
            Disagreement(
                title=titles.get(d["doc_id"], ""),
                mine=mine,
                other=side(d["other_segment"], d["other_coder"], d["other_code"], layers),
                other_coder=d["other_coder"],
            )
        )
    return listed, counts, False


def _confusions(result: dict[str, Any]) -> list[dict[str, Any]]:
    coders = result.get("coders") or []
    matrices = []
    for path, matrix in (result.get("confusion") or {}).items():
        labels, counts = matrix.get("labels", []), matrix.get("counts", [])
        matrices.append(
            {
                "path": path.replace(" > ", PATH_SEPARATOR),
                "labels": labels,
                "rows": [
                    (label, [(n, i == j) for j, n in enumerate(counts[i])])
                    for i, label in enumerate(labels)
                ],
                "first": coders[0] if len(coders) == 2 else "",
                "second": coders[1] if len(coders) == 2 else "",
            }
        )
    return matrices


@login_required
@require_GET
def report(request: HtmxHttpRequest, slug: str, uuid: UUID) -> HttpResponse:
    access = _reader(request.user, slug)
    run = _run(access, uuid)
    run.study = access.study
    context: dict[str, Any] = {"access": access, "study": access.study, "run": run}
    row = _run_row(run, {})
    context["row"] = row
    if run.status != AgreementRun.Status.DONE:
        return render(request, "coding/agreement/report.html", context)
    result = run.result
    unit = result.get("unit", "intervention")
    notes = Notes()
    overall = result.get("overall") or {}
    listed, counts, hidden = _disagreements(access, request.user, result)
    compared = int(result.get("n_interventions", 0))
    total = int(result.get("n_interventions_total") or 0)
    context.update(
        unit=unit,
        unit_name=UNIT_NAMES.get(unit, unit),
        columns=[label for _key, label in _columns(unit)],
        overall=_measure_rows({_("All codes"): overall}, unit, notes) if overall else [],
        codes=_measure_rows(result.get("codes") or {}, unit, notes),
        families=_measure_rows(result.get("families") or {}, unit, notes),
        confusions=_confusions(result),
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


# The chart of alpha over runs -----------------------------------------------------------------

CHART_WIDTH = 640
CHART_HEIGHT = 232
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 48, 16, 14, 46
UNIT_COLOURS = {
    "intervention": "#1d5e6f",
    "word": "#8a4f9e",
    "character": "#b4541a",
}


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: float
    label: str
    when: Any
    uuid: UUID
    below_axis: bool


@dataclass
class ChartSeries:
    unit: str
    name: str
    colour: str
    points: list[ChartPoint] = field(default_factory=list)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _y(value: float) -> float:
    inner = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    return CHART_TOP + inner * (1 - min(max(value, 0.0), 1.0))


def alpha_chart(study: Study) -> dict[str, Any] | None:
    """Overall alpha of the last finished runs, as coordinates of a small SVG line chart.

    One line per unit, since alphas over interventions and over words are not one series.
    Runs without an overall alpha (segment unit, or not computable) are left out.
    """
    rows = list(
        AgreementRun.objects.filter(study=study, status=AgreementRun.Status.DONE)
        .order_by("-created_at", "-pk")
        .values_list("uuid", "created_at", "params__unit", "result__overall__krippendorff_alpha")[
            :CHART_RUNS
        ]
    )
    rows = [row for row in reversed(rows) if isinstance(row[3], int | float)]
    if not rows:
        return None
    inner = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    step = inner / len(rows)
    series: dict[str, ChartSeries] = {}
    for index, (uuid, created, unit, value) in enumerate(rows):
        line = series.setdefault(
            unit,
            ChartSeries(unit, str(UNIT_NAMES.get(unit, unit)), UNIT_COLOURS.get(unit, "#4a525c")),
        )
        line.points.append(
            ChartPoint(
                x=CHART_LEFT + step * (index + 0.5),
                y=_y(float(value)),
                value=float(value),
                label=_fmt(float(value)),
                when=created,
                uuid=uuid,
                below_axis=value < 0,
            )
        )
    ticks = [(v, _y(v), _fmt(v, 1 if v in (0.0, 1.0) else 3)) for v in (0.0, 0.667, 0.8, 1.0)]
    # Runs on one day are told apart by the time.
    same_day = len({timezone.localdate(row[1]) for row in rows}) < len(rows)
    every = max(1, -(-len(rows) // (6 if same_day else 8)))
    # (x, run number, date) under every `every`th point.
    dates = [
        (CHART_LEFT + step * (i + 0.5), i + 1, row[1])
        for i, row in enumerate(rows)
        if i % every == 0
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_WIDTH - CHART_RIGHT,
        "bottom": CHART_HEIGHT - CHART_BOTTOM,
        "top": CHART_TOP,
        "series": list(series.values()),
        "ticks": ticks,
        "plot_width": inner,
        "tentative_y": _y(ALPHA_TENTATIVE),
        "reliable_y": _y(ALPHA_RELIABLE),
        "low_height": _y(0.0) - _y(ALPHA_TENTATIVE),
        "tentative_height": _y(ALPHA_TENTATIVE) - _y(ALPHA_RELIABLE),
        "any_below": any(row[3] < 0 for row in rows),
        "dates": dates,
        "number_y": CHART_HEIGHT - CHART_BOTTOM + 16,
        "date_y": CHART_HEIGHT - CHART_BOTTOM + 30,
        "date_format": "j M H:i" if same_day else "j M",
        "n": len(rows),
        "points": [p for line in series.values() for p in line.points],
    }


def study_summary(access: StudyAccess, viewer: Any) -> dict[str, Any]:
    """What the study page shows about agreement: the chart for the owner and supervisor,
    the viewer's own assignment for those who code."""
    study = access.study
    summary: dict[str, Any] = {"study": study, "chart": None, "mine": None, "readers": False}
    if access.role in (Role.OWNER, Role.SUPERVISOR):
        summary["readers"] = True
        summary["chart"] = alpha_chart(study)
        summary["n_runs"] = AgreementRun.objects.filter(study=study).count()
    if can_code(study, viewer):
        ids = list(
            Assignment.objects.filter(coder=viewer, intervention__study=study).values_list(
                "intervention_id", flat=True
            )
        )
        done = InterventionProgress.objects.filter(coder=viewer, intervention_id__in=ids).count()
        summary["mine"] = {"n": len(ids), "done": done}
    return summary
