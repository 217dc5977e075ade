from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from coding.codebook.exports import FORMATS
from coding.models import Code

EXPORT_LABELS = {
    "md": _("Markdown (.md)"),
    "json": _("JSON, to import again (.json)"),
    "csv": _("Table (.csv)"),
    "xlsx": _("Excel table (.xlsx)"),
    "docx": _("Word: codebook table (.docx)"),
    "docx-tree": _("Word: code tree (.docx)"),
    "svg": _("Code tree as a picture (.svg)"),
    "qdc": _("REFI-QDA, for other QDA programs (.qdc)"),
}


class CodeAddForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    # Empty: a theme (top level).
    parent = forms.UUIDField(required=False, widget=forms.HiddenInput)


class CodeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    definition = forms.CharField(
        label=_("Definition"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    inclusion = forms.CharField(
        label=_("Use it when"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    exclusion = forms.CharField(
        label=_("Do not use it when"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    example = forms.CharField(
        label=_("Example quote"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    color = forms.CharField(
        label=_("Colour"), max_length=7, widget=forms.TextInput(attrs={"type": "color"})
    )
    origin = forms.ChoiceField(label=_("Origin"), choices=Code.Origin.choices)
    shortcut = forms.CharField(
        label=_("Shortcut key"),
        max_length=1,
        required=False,
        help_text=_("One letter or digit that applies this code while coding."),
        widget=forms.TextInput(attrs={"size": 2, "class": "shortcut-input"}),
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    @classmethod
    def for_code(cls, code: Code, data: Any = None) -> CodeForm:
        initial = {name: getattr(code, name) for name in cls.base_fields}
        return cls(data, initial=initial, auto_id="code-%s", label_suffix="")


class MoveStepForm(forms.Form):
    direction = forms.ChoiceField(
        choices=[("up", "up"), ("down", "down"), ("indent", "indent"), ("outdent", "outdent")]
    )
    revision = forms.IntegerField(required=False, min_value=1)


class MoveForm(forms.Form):
    # Empty: make it a theme.
    parent = forms.UUIDField(label=_("New parent"), required=False)
    position = forms.IntegerField(
        label=_("Place"),
        required=False,
        min_value=1,
        help_text=_("1 is first; leave empty to put it last."),
    )
    revision = forms.IntegerField(required=False, min_value=1)


class MergeForm(forms.Form):
    target = forms.UUIDField(label=_("Merge into"))


class CodingStartedForm(forms.Form):
    started = forms.BooleanField(required=False)


class VersionForm(forms.Form):
    label = forms.CharField(
        label=_("Label"),
        max_length=200,
        help_text=_("For example “v2 after the talk with my supervisor”."),
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Codebook file"),
        help_text=_(".json, .csv, .xlsx or .qdc (REFI-QDA). Codes with the same path are updated."),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,.csv,.xlsx,.qdc"}),
    )


class CopyForm(forms.Form):
    source = forms.SlugField(label=_("Study to copy from"))


class TemplateForm(forms.Form):
    template = forms.ChoiceField(
        label=_("Template"), choices=[("veerkracht", _("Resilience and resources (Veerkracht)"))]
    )


class ExportForm(forms.Form):
    fmt = forms.ChoiceField(
        label=_("Format"), choices=[(key, EXPORT_LABELS.get(key, key)) for key in FORMATS]
    )
