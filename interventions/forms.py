from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from interventions.models import AttributeDefinition, Role, Study


class StudyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Short name (in the address)"),
        max_length=60,
        required=False,
        help_text=_("Letters, digits and dashes; made from the name when left empty."),
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    language = forms.ChoiceField(
        label=_("Language of the texts"), choices=settings.LANGUAGES, initial="nl"
    )
    template = forms.ChoiceField(
        label=_("Start from"),
        choices=Study.Template.choices,
        initial=Study.Template.VEERKRACHT,
        help_text=_("The Veerkracht template adds the eight intervention properties of the study."),
    )


class StudyEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    language = forms.ChoiceField(
        label=_("Language of the texts"),
        choices=settings.LANGUAGES,
        help_text=_(
            "Also how sheets write numbers and dates: in Dutch “1.250” is 1250 and “1,25” is "
            "one and a quarter, and exports use a decimal comma."
        ),
    )


class MemberAddForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.CODER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class InterventionForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=300,
        required=False,
        help_text=_("Taken from the file name when you upload a file and leave this empty."),
    )
    source = forms.CharField(label=_("Databank or source"), max_length=200, required=False)
    url = forms.URLField(label=_("URL"), max_length=500, required=False, assume_scheme="https")
    text = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 16}),
        required=False,
        strip=False,
    )
    file = forms.FileField(
        label=_("Or upload a file"),
        required=False,
        help_text=_(".txt, .docx, .pdf or a saved web page (.html), at most 10 MB."),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    # Not named `files`: that is the form's own attribute for the uploaded data.
    documents = MultipleFileField(
        label=_("Files"),
        help_text=_(
            "One or more .txt, .docx, .pdf or .html files; each becomes an intervention titled by "
            "its file name. A file whose title exists replaces that intervention's text."
        ),
    )
    source = forms.CharField(label=_("Databank or source"), max_length=200, required=False)


class SectionAddForm(forms.Form):
    heading = forms.CharField(
        label=_("Heading line"),
        max_length=300,
        help_text=_("Type a line of the text exactly; the section runs to the next section."),
    )


class SectionSplitForm(forms.Form):
    at = forms.IntegerField(label=_("Split at the line"), min_value=1)


class SectionRenameForm(forms.Form):
    heading = forms.CharField(label=_("Heading"), max_length=300)


class AttributeDefinitionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=AttributeDefinition.Kind.choices)


class MetadataUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Metadata file"),
        help_text=_(
            "CSV (comma or semicolon; UTF-8 or Windows-1252) or XLSX, one row per intervention, "
            "with a title column such as “Interventie”."
        ),
    )
    sheet = forms.CharField(
        label=_("Sheet"),
        max_length=100,
        required=False,
        help_text=_(
            "For a workbook with several sheets: the name of the sheet to read. Left empty, the "
            "first sheet with a title column is read."
        ),
    )
