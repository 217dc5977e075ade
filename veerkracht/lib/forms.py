"""What a refused form says: one line for the place the user acted."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _


def form_error(form: forms.Form) -> str:
    """The first error, after its field's label when it belongs to a labelled field."""
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        if field is None or not field.label:
            return str(errors[0])
        return f"{field.label}: {errors[0]}"
    return _("Check the form.")
