"""The review pages' forms: a new comment thread, a reply and an approval."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coding.codebook.services import short_code_paths
from coding.models import Code, CommentThread
from interventions.models import Intervention


class ThreadStartForm(forms.Form):
    """What to discuss and the first comment. `target` is "<kind>:<uuid>", so one select
    offers codes and interventions together (grouped) and the workspace may post segments."""

    target = forms.CharField(label=gettext_lazy("About"))
    body = forms.CharField(
        label=gettext_lazy("Comment"),
        widget=forms.Textarea(attrs={"rows": 4}),
        strip=False,
        help_text=gettext_lazy("Mention a member with @username to notify them."),
    )

    def __init__(self, *args: Any, study: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.study = study

    def target_choices(self) -> list[tuple[str, list[tuple[str, str]]]]:
        # Named by their shortest unambiguous path: the template has five "Inhoud".
        short = short_code_paths(self.study)
        codes = [
            (uuid, short.get(pk, name))
            for pk, uuid, name in Code.objects.filter(study=self.study)
            .tree_order()
            .values_list("pk", "uuid", "name")
        ]
        items = Intervention.objects.filter(study=self.study).order_by("title")
        return [
            (_("Codes"), [(f"code:{uuid}", name) for uuid, name in codes]),
            (
                _("Interventions"),
                [
                    (f"intervention:{uuid}", title)
                    for uuid, title in items.values_list("uuid", "title")
                ],
            ),
        ]

    def clean_target(self) -> tuple[str, str]:
        kind, _sep, uuid = self.cleaned_data["target"].partition(":")
        if kind not in CommentThread.Target.values or not uuid:
            raise forms.ValidationError(_("Choose what the thread is about."))
        return kind, uuid


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Reply"), widget=forms.Textarea(attrs={"rows": 3}), strip=False
    )


class ApproveForm(forms.Form):
    """Which saved version to approve; none: the current codebook, saved as a new version."""

    version = forms.IntegerField(required=False, min_value=1)
