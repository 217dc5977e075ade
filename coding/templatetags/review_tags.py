"""Review on every page: `{% notifications_link %}` in the top bar, `{% study_dashboard as
dash %}` on the study page, and `{{ body|mentions:member_names }}` for comment bodies.

The study page's view knows nothing of the dashboard; like `agreement_tags`, this tag reads it
(`coding.review.dashboard.dashboard`) for the viewer in the template's context.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy, ngettext

from coding.review.comments import MENTION_RE, unread_count
from coding.review.dashboard import ActivityRow, dashboard
from interventions.models import Study

register = template.Library()

SPARK_WIDTH = 160
SPARK_HEIGHT = 36

ACTIONS = {
    "segment_create": gettext_lazy("coded a segment"),
    "segment_delete": gettext_lazy("removed a segment"),
    "segment_change_code": gettext_lazy("changed a segment's code"),
    "segment_update_bounds": gettext_lazy("adjusted a segment"),
    "segment_set_memo": gettext_lazy("wrote a memo"),
    "code_create": gettext_lazy("added a code"),
    "code_update": gettext_lazy("changed a code"),
    "code_move": gettext_lazy("moved a code"),
    "code_merge": gettext_lazy("merged codes"),
    "code_delete": gettext_lazy("deleted a code"),
    "codebook_import": gettext_lazy("imported codes"),
    "project_import": gettext_lazy("imported a REFI-QDA project"),
    "coding_started": gettext_lazy("marked coding as started"),
    "version_create": gettext_lazy("saved a codebook version"),
    "version_approve": gettext_lazy("approved a codebook version"),
    "assign": gettext_lazy("assigned interventions"),
    "unassign": gettext_lazy("unassigned interventions"),
    "reveal": gettext_lazy("revealed the coders' layers"),
    "reveal_policy": gettext_lazy("changed the reveal policy"),
    "consensus_decide": gettext_lazy("decided a disagreement"),
    "consensus_undecide": gettext_lazy("reopened a decision"),
    "undo": gettext_lazy("undid a change"),
}


@register.filter
def mentions(body: str, member_names: Collection[str] = ()) -> SafeString:
    """The body escaped, its line breaks kept and each @member highlighted. Escaping comes
    first; the names matched afterwards consist of characters escaping leaves alone."""
    escaped = str(escape(body or ""))

    def mark(match: Any) -> str:
        name = match.group(1).rstrip(".@+-")
        if name not in member_names:
            return match.group(0)
        rest = match.group(1)[len(name) :]
        return f'<span class="mention">@{name}</span>{rest}'

    highlighted = MENTION_RE.sub(mark, escaped)
    return mark_safe(highlighted.replace("\r\n", "\n").replace("\n", "<br>"))  # noqa: S308


@register.filter
def activity_label(action: str) -> str:
    return str(ACTIONS.get(action, action.replace("_", " ")))


@register.filter
def activity_text(row: ActivityRow) -> str:
    """What the actor did, as the feed says it after their name: an import in one line with
    its number of codes, however many it made."""
    if row.action == "codebook_import" and row.template:
        template = dict(Study.Template.choices).get(row.template, row.template)
        return ngettext(
            "created the codebook from the template “%(template)s” (%(n)s code)",
            "created the codebook from the template “%(template)s” (%(n)s codes)",
            row.n_added,
        ) % {"template": template, "n": row.n_added}
    if row.action == "codebook_import":
        return ngettext(
            "imported codes (%(n)s new code)", "imported codes (%(n)s new codes)", row.n_added
        ) % {"n": row.n_added}
    return activity_label(row.action)


@register.inclusion_tag("coding/review/notifications_link.html", takes_context=True)
def notifications_link(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {"show": True, "unread": unread_count(user)}


def sparkline(trend: list[tuple[Any, float]]) -> str:
    """An SVG polyline's points for the figures (clamped to 0..1), oldest on the left."""
    if len(trend) < 2:
        return ""
    step = SPARK_WIDTH / (len(trend) - 1)
    points = []
    for i, (_when, value) in enumerate(trend):
        y = (1 - min(max(value, 0.0), 1.0)) * (SPARK_HEIGHT - 4) + 2
        points.append(f"{i * step:.1f},{y:.1f}")
    return " ".join(points)


@register.simple_tag(takes_context=True)
def study_dashboard(context: template.Context) -> dict[str, Any]:
    access = context.get("access")
    request = context.get("request")
    if access is None or request is None:
        return {}
    dash = dashboard(access.study, request.user)
    agreement = dash["agreement"]
    if agreement:
        trend = agreement["trend"]
        agreement = {
            **agreement,
            "sparkline": sparkline(trend),
            "first": trend[0][1] if trend else None,
            "change": trend[-1][1] - trend[-2][1] if len(trend) > 1 else None,
        }
    return {**dash, "agreement": agreement, "width": SPARK_WIDTH, "height": SPARK_HEIGHT}
