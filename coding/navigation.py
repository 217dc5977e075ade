"""The study bar: the study's pages grouped by the step of the round they serve.

A round goes corpus, codebook, coding, agreement, consensus, reporting; the bar shows those
steps in that order, the members and the study's settings apart at its end, and under it the
pages of the current step. Which links a member sees follows `interventions.access` (the
agreement and consensus steps for those who `sees_agreement`, the import and the settings for
those who `can_manage`), as the flat bar it replaced did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from interventions.access import StudyAccess

# Pages that belong to the corpus step although their URL names do not say so.
_CORPUS_PAGES = frozenset({"attributes", "attribute_delete"})
_CODING_PAGES = frozenset({"workspace", "study_progress", "agreement_mine"})


@dataclass(frozen=True)
class NavLink:
    label: str | Promise
    url: str
    current: bool = False


@dataclass(frozen=True)
class NavStep:
    """One step of the round: its own page (`url`) and the pages under it (`links`, shown
    as a second row while the step is current, when there is more than one)."""

    key: str
    label: str | Promise
    url: str
    current: bool = False
    links: list[NavLink] = field(default_factory=list)

    @property
    def is_page(self) -> bool:
        """The step's own page is the page shown (aria-current="page", else "true")."""
        return self.current and (not self.links or self.links[0].current)


@dataclass(frozen=True)
class StudyNav:
    steps: list[NavStep]
    settings: list[NavLink]

    @property
    def current_step(self) -> NavStep | None:
        return next((s for s in self.steps if s.current), None)


def _step(key: str, label: str | Promise, links: list[NavLink], current: bool) -> NavStep:
    return NavStep(key=key, label=label, url=links[0].url, current=current, links=links)


def study_nav(access: StudyAccess, *, url_name: str, path: str) -> StudyNav:
    """The bar for `access`'s member on the page named `url_name` at `path`."""
    slug = access.study.slug

    def url(name: str) -> str:
        return reverse(name, args=[slug])

    in_corpus = url_name in _CORPUS_PAGES or url_name.startswith(
        ("intervention_", "metadata_", "project_", "section")
    )
    in_agreement = "/agreement/" in path and url_name != "agreement_mine"
    in_reporting = any(part in path for part in ("/analysis/", "/report/", "/search/"))
    in_discussion = "/comments/" in path

    corpus = [
        NavLink(
            _("Interventions"),
            url("intervention_list"),
            url_name.startswith("intervention_") or url_name.startswith("section"),
        ),
        NavLink(_("Properties"), url("attributes"), url_name in _CORPUS_PAGES),
    ]
    if access.can_manage:
        corpus.append(
            NavLink(_("Import"), url("metadata_import"), url_name.startswith("metadata_"))
        )
    if access.can_exchange_projects:
        corpus.append(NavLink(_("REFI-QDA"), url("project_page"), url_name.startswith("project_")))

    coding = [NavLink(_("Progress"), url("study_progress"), url_name == "study_progress")]
    if access.can_code:
        coding.append(
            NavLink(
                _("Your assigned interventions"),
                url("agreement_mine"),
                url_name == "agreement_mine",
            )
        )

    steps = [
        NavStep("overview", _("Overview"), url("study_detail"), url_name == "study_detail"),
        _step("corpus", _("Corpus"), corpus, in_corpus),
        _step(
            "codebook",
            _("Codebook"),
            [NavLink(_("Codebook"), url("codebook"), "/codebook/" in path)],
            "/codebook/" in path,
        ),
        _step("coding", _("Coding"), coding, url_name in _CODING_PAGES),
    ]
    if access.sees_agreement:
        steps.append(
            _step(
                "agreement",
                _("Agreement"),
                [
                    NavLink(
                        _("Runs and reports"),
                        url("agreement"),
                        in_agreement and url_name != "agreement_assignments",
                    ),
                    NavLink(
                        _("Double-coding setup"),
                        url("agreement_assignments"),
                        url_name == "agreement_assignments",
                    ),
                ],
                in_agreement,
            )
        )
        steps.append(
            _step(
                "consensus",
                _("Consensus"),
                [NavLink(_("Consensus"), url("consensus"), "/consensus/" in path)],
                "/consensus/" in path,
            )
        )
    steps.append(
        _step(
            "reporting",
            _("Reporting"),
            [
                NavLink(_("Analysis"), url("analysis_tables"), in_reporting),
                NavLink(_("Discussion"), url("comment_threads"), in_discussion),
                NavLink(_("Dashboard"), url("study_detail") + "#dashboard-heading"),
            ],
            in_reporting or in_discussion,
        )
    )
    settings = [NavLink(_("Members"), url("members"), url_name == "members")]
    if access.can_manage:
        settings.append(NavLink(_("Settings"), url("study_edit"), url_name == "study_edit"))
    return StudyNav(steps=steps, settings=settings)
