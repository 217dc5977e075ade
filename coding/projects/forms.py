"""The forms of the REFI-QDA project pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ProjectUploadForm(forms.Form):
    file = forms.FileField(
        label=_("REFI-QDA project (.qdpx)"),
        help_text=_(
            "Exported from ATLAS.ti, MAXQDA, NVivo, QualCoder or Taguette (File › Export › "
            "REFI-QDA project)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".qdpx,application/zip"}),
    )
