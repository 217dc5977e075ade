"""Agreement on the study page: `{% agreement_summary as agreement %}`.

The study page's view (`interventions.views.study_detail`) knows nothing of agreement; this tag
adds what `coding/agreement/study.html` shows: the chart of alpha over the runs for the owner
and the supervisor, and the viewer's own assignment for those who code.
"""

from __future__ import annotations

from typing import Any

from django import template

from coding.agreement.summary import study_summary

register = template.Library()


@register.simple_tag(takes_context=True)
def agreement_summary(context: template.Context) -> dict[str, Any]:
    access = context.get("access")
    request = context.get("request")
    if access is None or request is None:
        return {}
    return study_summary(access, request.user)
