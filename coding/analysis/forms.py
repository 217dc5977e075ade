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
        self.fields["props"] = forms.MultipleChoiceField(
            label=_("Properties with each quote (Word)"),
            required=False,
            choices=[(str(definition.pk), definition.name) for definition, _v in attributes],
            widget=forms.CheckboxSelectMultiple,
        )


class TablesForm(forms.Form):
    """Which analysis table, counted how, over which layer and interventions."""

    table = forms.ChoiceField(
        label=gettext_lazy("Table"),
        choices=[
            ("frequencies", gettext_lazy("Code frequencies")),
            ("matrix", gettext_lazy("Codes × interventions")),
            ("crosstab", gettext_lazy("Codes × property")),
            ("cooccurrence", gettext_lazy("Co-occurrence of codes")),
        ],
    )
    count = forms.ChoiceField(
        label=gettext_lazy("Count"),
        choices=[
            ("interventions", gettext_lazy("interventions")),
            ("segments", gettext_lazy("segments")),
        ],
        initial="interventions",
    )
    layer = forms.ChoiceField(label=gettext_lazy("Layer"))
    attribute = forms.TypedChoiceField(
        label=gettext_lazy("Property for the columns"),
        required=False,
        coerce=int,
        empty_value=None,
    )
    order = forms.ChoiceField(
        label=gettext_lazy("Order"),
        required=False,
        choices=[
            ("tree", gettext_lazy("as in the codebook")),
            ("count", gettext_lazy("most frequent first")),
        ],
    )
    rows = forms.ChoiceField(
        label=gettext_lazy("Rows of the matrix"),
        required=False,
        choices=[
            ("codes", gettext_lazy("codes")),
            ("interventions", gettext_lazy("interventions")),
        ],
    )
    interventions = forms.MultipleChoiceField(
        label=gettext_lazy("Only these interventions"), required=False
    )
    version = forms.TypedChoiceField(
        label=gettext_lazy("Codebook"), required=False, coerce=int, empty_value=None
    )

    def __init__(
        self,
        data: Any,
        *,
        layers: list[tuple[str, str]],
        attributes: list[tuple[AttributeDefinition, list[str]]],
        interventions: list[tuple[str, str]],
        versions: list[tuple[int, str]] | None = None,
    ) -> None:
        bound = data if data.get("table") else None
        super().__init__(bound, initial={"layer": layers[0][0] if layers else ""})
        layer = self.fields["layer"]
        assert isinstance(layer, forms.ChoiceField)
        layer.choices = layers
        attribute = self.fields["attribute"]
        assert isinstance(attribute, forms.ChoiceField)
        attribute.choices = [("", _("— choose a property —"))] + [
            (str(d.pk), d.name) for d, _values in attributes
        ]
        chosen = self.fields["interventions"]
        assert isinstance(chosen, forms.ChoiceField)
        chosen.choices = interventions
        # The properties the form offers, by id, for the table it asks for.
        self.definitions = {definition.pk: definition for definition, _v in attributes}
        version = self.fields["version"]
        assert isinstance(version, forms.ChoiceField)
        version.choices = [("", _("today's codebook"))] + [
            (str(number), label) for number, label in versions or []
        ]
        self.attribute_fields = []
        for definition, values in attributes:
            name = f"a{definition.pk}"
            self.fields[name] = forms.ChoiceField(
                label=definition.name,
                required=False,
                choices=[("", _("all")), *((v, v) for v in values)],
            )
            self.attribute_fields.append(self[name])
        self.main_fields = [
            self[name] for name in ("table", "count", "layer", "attribute", "order")
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("table") == "crosstab" and not data.get("attribute"):
            raise forms.ValidationError(_("Choose the property whose values make the columns."))
        return data


class SnapshotForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Name"), max_length=200)


class SearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search for"), max_length=200)
    whole_word = forms.BooleanField(label=gettext_lazy("Whole words"), required=False)
    regex = forms.BooleanField(label=gettext_lazy("Regular expression"), required=False)
    coded_only = forms.BooleanField(
        label=gettext_lazy("Only sections that are coded"), required=False
    )

    def __init__(
        self, data: Any, *, attributes: list[tuple[AttributeDefinition, list[str]]]
    ) -> None:
        super().__init__(data if data.get("q") else None)
        self.attribute_fields = []
        for definition, values in attributes:
            name = f"a{definition.pk}"
            self.fields[name] = forms.ChoiceField(
                label=definition.name,
                required=False,
                choices=[("", _("all")), *((v, v) for v in values)],
            )
            self.attribute_fields.append(self[name])


class AutocodeForm(forms.Form):
    code = forms.ChoiceField(label=gettext_lazy("Code"))
    unit = forms.ChoiceField(
        label=gettext_lazy("What to code"),
        choices=[
            ("hit", gettext_lazy("the hit")),
            ("sentence", gettext_lazy("its sentence")),
            ("paragraph", gettext_lazy("its paragraph")),
        ],
        initial="hit",
    )
    hits = forms.MultipleChoiceField(label=gettext_lazy("Hits"))
    confirm = forms.BooleanField(required=False)

    def __init__(self, data: Any, *, codes: list[tuple[str, str]], hits: list[str]) -> None:
        super().__init__(data)
        code = self.fields["code"]
        assert isinstance(code, forms.ChoiceField)
        code.choices = [("", _("— choose a code —")), *codes]
        chosen = self.fields["hits"]
        assert isinstance(chosen, forms.ChoiceField)
        chosen.choices = [(hit, hit) for hit in hits]
