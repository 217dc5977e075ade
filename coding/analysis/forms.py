"""The code report's filter form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coding.analysis import report as analysis
from interventions.models import AttributeDefinition


class ReportForm(forms.Form):
    code = forms.ChoiceField(label=gettext_lazy("Code"), required=False)
    subcodes = forms.BooleanField(label=gettext_lazy("With its subcodes"), required=False)
    coder = forms.TypedChoiceField(
        label=gettext_lazy("Coder"), required=False, coerce=int, empty_value=None
    )
    intervention = forms.ChoiceField(label=gettext_lazy("Intervention"), required=False)

    def __init__(
        self,
        data: Any,
        *,
        codes: list[tuple[str, str]],
        coders: list[User],
        interventions: list[tuple[str, str]],
        attributes: list[tuple[AttributeDefinition, list[str]]],
        consensus_open: bool = False,
    ) -> None:
        # Without a chosen code the form is shown fresh, subcodes included.
        bound = data if data.get("code") else None
        super().__init__(bound, initial={"subcodes": True})
        if consensus_open:
            # Only for those who may read the consensus layer; for others a "source" in the
            # URL is ignored and the rows are the coders' segments.
            self.fields["source"] = forms.ChoiceField(
                label=_("Source"),
                required=False,
                choices=[
                    (analysis.CODERS, _("coders' segments")),
                    (analysis.CONSENSUS, _("consensus where reconciled")),
                ],
            )
        choices = {
            "code": [("", _("— choose a code —")), *codes],
            "coder": [("", _("all coders you can see"))]
            + [(str(user.pk), user.username) for user in coders],
            "intervention": [("", _("all interventions")), *interventions],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options
        self.attribute_fields = []
        for definition, values in attributes:
            name = f"a{definition.pk}"
            self.fields[name] = forms.ChoiceField(
                label=definition.name,
                required=False,
                choices=[("", _("all")), *((v, v) for v in values)],
            )
            self.attribute_fields.append(self[name])
