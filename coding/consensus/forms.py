"""The reconciliation pages' forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coding.agreement.reliability import UNITS
from coding.models import ConsensusDecision

UNIT_LABELS = {
    "intervention": gettext_lazy("Intervention: does the text have the code?"),
    "word": gettext_lazy("Word: which words carry the code?"),
    "character": gettext_lazy("Character: which characters carry the code?"),
    "segment": gettext_lazy("Segment: do the passages match?"),
}


class UnitForm(forms.Form):
    unit = forms.ChoiceField(choices=[(u, UNIT_LABELS[u]) for u in UNITS], required=False)


class DecideForm(forms.Form):
    item = forms.CharField(max_length=64)
    # A "take" button sends only the segment to take; the other buttons send the action.
    action = forms.ChoiceField(choices=ConsensusDecision.Action.choices, required=False)
    take = forms.UUIDField(required=False)
    code = forms.UUIDField(required=False)
    start = forms.IntegerField(required=False)
    end = forms.IntegerField(required=False)
    note = forms.CharField(required=False, strip=True)
    replace = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("action"):
            if not data.get("take"):
                raise forms.ValidationError(_("Choose what to do with this passage."))
            data["action"] = ConsensusDecision.Action.TAKE
        return data


class ItemForm(forms.Form):
    item = forms.CharField(max_length=64)


class NoteForm(forms.Form):
    note = forms.CharField(required=False, strip=True)
