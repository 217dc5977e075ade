"""Finding one's way in a study: `{% study_nav as nav %}` in base.html, the study bar for the
viewer (`coding.navigation`); `{% round_guide as guide %}` on the study page, the next step of
the round (`coding.guide`). Like `review_tags`, they read the viewer's `access` from the
template's context, so the study page's view needs to know nothing of coding."""

from __future__ import annotations

from typing import Any

from django import template

from coding.guide import GuideStep, round_guide
from coding.navigation import StudyNav, study_nav

register = template.Library()


@register.simple_tag(takes_context=True, name="study_nav")
def study_nav_tag(context: dict[str, Any]) -> StudyNav | None:
    access = context.get("access")
    request = context.get("request")
    if access is None or request is None or not hasattr(access, "study"):
        return None
    match = request.resolver_match
    return study_nav(access, url_name=match.url_name if match else "", path=request.path)


@register.simple_tag(takes_context=True, name="round_guide")
def round_guide_tag(context: dict[str, Any]) -> list[GuideStep]:
    access = context.get("access")
    return round_guide(access) if access is not None else []
