"""The agreement pages' forms: assigning interventions to coders, starting a run."""

from __future__ import annotations

import secrets
from typing import Any, cast

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coding.agreement.reliability import UNITS
from coding.agreement.runs import (
    MAX_BOOTSTRAP,
)
from interventions.models import AttributeDefinition, Study

UNIT_LABELS = {
    "intervention": gettext_lazy("Intervention: does the text have the code?"),
    "word": gettext_lazy("Word: which words carry the code?"),
    "character": gettext_lazy("Character: which characters carry the code?"),
    "segment": gettext_lazy("Segment: do the coders' passages match?"),
}

METHODS = [
    ("all", gettext_lazy("All interventions")),
    ("list", gettext_lazy("Hand-picked interventions")),
    ("sample", gettext_lazy("A random sample")),
]


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

    def __init__(self, *args: Any, study: Study, coders: list[User], **kwargs: Any) -> None:
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

    def __init__(self, *args: Any, coders: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(u.username, u.username) for u in coders]
        cast(forms.MultipleChoiceField, self.fields["coders"]).choices = choices

    def clean_coders(self) -> list[str]:
        coders = self.cleaned_data.get("coders") or []
        if len(set(coders)) < 2:
            raise forms.ValidationError(_("Choose at least two coders."))
        return coders
