"""The workspace's forms: a selection to code, a new code, a segment's changes, the reveal."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.utils.translation import gettext_lazy

from coding.models import (
    Codebook,
)


class UUIDListField(forms.Field):
    """Several UUIDs under one name (checkboxes); the empty list when none is sent."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": gettext_lazy("“%(value)s” is not a code.")}

    def to_python(self, value: Any) -> list[UUID]:
        uuids = []
        for item in value or []:
            try:
                uuids.append(UUID(str(item)))
            except ValueError:
                raise forms.ValidationError(
                    self.error_messages["invalid"], code="invalid", params={"value": item}
                ) from None
        return uuids


class SpanForm(forms.Form):
    # The service checks the range and the quote, with messages that name the text.
    start = forms.IntegerField(label=gettext_lazy("Start"))
    end = forms.IntegerField(label=gettext_lazy("End"))
    quote = forms.CharField(label=gettext_lazy("Selected text"), strip=False)


class ApplyForm(SpanForm):
    codes = UUIDListField(label=gettext_lazy("Codes"), required=False)
    memo = forms.CharField(label=gettext_lazy("Memo"), required=False, strip=False)


class NewCodeForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name of the new code"), max_length=200)
    parent = forms.UUIDField(required=False)


class MemoForm(forms.Form):
    memo = forms.CharField(label=gettext_lazy("Memo"), required=False, strip=False)


class ChangeCodeForm(forms.Form):
    code = forms.UUIDField(label=gettext_lazy("Code"))


class DoneForm(forms.Form):
    done = forms.BooleanField(required=False)


class RevealPolicyForm(forms.Form):
    reveal = forms.ChoiceField(
        label=gettext_lazy("Showing coders' segments"),
        choices=Codebook.Reveal.choices,
        widget=forms.RadioSelect,
    )
