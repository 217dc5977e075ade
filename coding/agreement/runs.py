"""Agreement runs: load the coding from the database and compute; the task `coding.run_agreement`
(coding/tasks.py) stores exactly what was used."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coding.agreement.assignments import assigned_ids
from coding.agreement.reliability import (
    UNITS,
    CodeInfo,
    DocInfo,
    ReliabilityInput,
    SegInfo,
    compute,
    disagreements,
)
from coding.codebook.services import code_paths
from coding.models import AgreementRun, CodebookVersion, Segment
from interventions.access import allows, users_who_code
from interventions.models import Section, Study
from veerkracht.jobs import job_enqueue

MAX_BOOTSTRAP = 10_000


class AgreementError(ValueError):
    """A refused run; str(error) is the message for the user."""


def coders_of(study: Study) -> list[User]:
    """Members who code (owner and coders), by username."""
    return list(users_who_code(study).order_by("username"))


# Why a member who codes is not in a run; the report names each with the reason.
LEFT_OUT_REASONS = {
    "no_assignment": gettext_lazy("no intervention assigned (only assigned interventions count)"),
    "no_segments": gettext_lazy("no segments in the study's interventions"),
    "not_chosen": gettext_lazy("not chosen for this run"),
}


def _coders_with_segments(study: Study) -> set[int]:
    return set(
        Segment.objects.filter(intervention__study=study, code__study=study)
        .values_list("coder_id", flat=True)
        .distinct()
    )


def default_coders(study: Study) -> list[str]:
    """The coders a run compares when none are chosen: the members with assignments; in a
    study without any assignment, the members with segments. An owner who codes nothing (the
    usual thesis student who only manages) is therefore no coder of the comparison."""
    assigned = assigned_ids(study)
    if assigned:
        return [u.username for u in coders_of(study) if assigned.get(u.pk)]
    coded = _coders_with_segments(study)
    return [u.username for u in coders_of(study) if u.pk in coded]


def left_out(study: Study, chosen: Iterable[str]) -> list[dict[str, str]]:
    """Each member who codes but is not among `chosen`, with the reason (a key of
    `LEFT_OUT_REASONS`), by username."""
    chosen = set(chosen)
    assigned = assigned_ids(study)
    coded = _coders_with_segments(study)
    rows = []
    for user in coders_of(study):
        if user.username in chosen:
            continue
        if assigned and not assigned.get(user.pk):
            reason = "no_assignment"
        elif not assigned and user.pk not in coded:
            reason = "no_segments"
        else:
            reason = "not_chosen"
        rows.append({"coder": user.username, "reason": reason})
    return rows


def left_out_text(rows: Iterable[dict[str, str]]) -> list[tuple[str, str]]:
    """`left_out` rows as (coder, reason in words) for pages."""
    return [(row["coder"], str(LEFT_OUT_REASONS.get(row["reason"], row["reason"]))) for row in rows]


def _texts_by_coder(study: Study) -> dict[int, set[int]]:
    """Without any assignment in the study: each coder's texts are those they coded."""
    result: dict[int, set[int]] = {}
    for coder_id, intervention_id in (
        Segment.objects.filter(intervention__study=study, code__study=study)
        .values_list("coder_id", "intervention_id")
        .distinct()
    ):
        result.setdefault(coder_id, set()).add(intervention_id)
    return result


def load_input(study: Study, coder_names: Sequence[str]) -> tuple[ReliabilityInput, list[int]]:
    """The plain data `compute` needs, and the ids of the segments it contains."""
    users = {u.username: u for u in coders_of(study)}
    unknown = [name for name in coder_names if name not in users]
    if unknown:
        raise AgreementError(_("“%(name)s” is not a coder in this study.") % {"name": unknown[0]})
    if len(set(coder_names)) < 2:
        raise AgreementError(_("Choose at least two coders."))
    ids = {users[name].pk: name for name in coder_names}
    assigned_by_id = assigned_ids(study) or _texts_by_coder(study)
    assigned = {name: assigned_by_id.get(pk, set()) for pk, name in ids.items()}
    wanted = set().union(*assigned.values())
    docs = doc_infos(study, wanted)
    codes = code_infos(study)
    rows = list(
        Segment.objects.filter(intervention__in=wanted, coder_id__in=list(ids), code__study=study)
        .order_by("pk")
        .values_list("pk", "intervention_id", "coder_id", "code_id", "start", "end")
    )
    segments = [SegInfo(pk, doc, ids[coder], code, s, e) for pk, doc, coder, code, s, e in rows]
    data = ReliabilityInput(
        coders=sorted(coder_names), docs=docs, codes=codes, segments=segments, assigned=assigned
    )
    return data, [row[0] for row in rows]


def doc_infos(study: Study, intervention_ids: Iterable[int]) -> list[DocInfo]:
    """The study's interventions among `intervention_ids` as `reliability` takes them, by title,
    each with the ranges of its text that may be coded."""
    wanted = set(intervention_ids)
    interventions = (
        study.interventions.filter(pk__in=wanted).only("pk", "title", "text").order_by("title")
    )
    excluded: dict[int, list[tuple[int, int]]] = {}
    for section in Section.objects.filter(intervention__in=wanted, excluded=True):
        excluded.setdefault(section.intervention_id, []).append((section.start, section.end))
    return [
        DocInfo(i.pk, i.title, i.text, _coded_ranges(len(i.text), excluded.get(i.pk, [])))
        for i in interventions
    ]


def code_infos(study: Study) -> list[CodeInfo]:
    """The study's codes as `reliability` takes them: id, path of names and parent."""
    paths = code_paths(study)
    parents = dict(study.codes.values_list("pk", "parent_id"))
    return [CodeInfo(pk, path, parents[pk]) for pk, path in paths.items()]


def _coded_ranges(length: int, excluded: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    ranges, cursor = [], 0
    for start, end in sorted(excluded):
        if start > cursor:
            ranges.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < length:
        ranges.append((cursor, length))
    return tuple(ranges)


def coding_fingerprint(study: Study, coder_names: Sequence[str]) -> str:
    """A hash of the coding a run would use: it changes whenever that coding changes."""
    users = get_user_model().objects.filter(username__in=list(coder_names)).values_list("pk")
    digest = hashlib.sha256()
    for row in (
        Segment.objects.filter(code__study=study, coder_id__in=users)
        .order_by("pk")
        .values_list("pk", "code_id", "start", "end", "updated_at")
    ):
        digest.update(repr(row).encode())
    for coder_id, intervention_ids in sorted(assigned_ids(study).items()):
        digest.update(repr((coder_id, sorted(intervention_ids))).encode())
    return digest.hexdigest()


def clean_params(
    *,
    study: Study,
    coders: Sequence[str] | None,
    unit: str = "intervention",
    overlap: float = 0.9,
    bootstrap: int = 0,
    seed: int | None = None,
) -> dict[str, Any]:
    if unit not in UNITS:
        raise AgreementError(_("The unit is one of: %(units)s.") % {"units": ", ".join(UNITS)})
    if not 0 < overlap <= 1:
        raise AgreementError(_("The overlap is a share above 0 and at most 1, such as 0.9."))
    if not 0 <= bootstrap <= MAX_BOOTSTRAP:
        raise AgreementError(_("Bootstrap samples: 0 to %(max)s.") % {"max": MAX_BOOTSTRAP})
    names = list(coders) if coders else default_coders(study)
    if bootstrap and seed is None:
        # Recorded, so a retried or repeated run draws the same samples.
        seed = secrets.randbelow(2**31)
    return {
        "coders": sorted(dict.fromkeys(names)),
        "left_out": left_out(study, names),
        "unit": unit,
        "overlap": overlap,
        "bootstrap": bootstrap,
        "seed": seed,
    }


def compute_for_study(study: Study, params: dict[str, Any]) -> tuple[dict[str, Any], list[int]]:
    """The report of a run, with its disagreement list, and the ids of the segments used."""
    data, segment_ids = load_input(study, params["coders"])
    report = compute(
        data,
        unit=params["unit"],
        min_overlap=params["overlap"],
        bootstrap=params["bootstrap"],
        seed=params["seed"],
    )
    report["disagreements"] = disagreements(data, min_overlap=params["overlap"])
    report["n_assigned"] = {coder: len(ids) for coder, ids in data.assigned.items()}
    report["n_interventions_total"] = study.interventions.count()
    report["left_out"] = params.get("left_out") or left_out(study, params["coders"])
    return report, segment_ids


def agreement_run_start(*, study: Study, actor: User, **options: Any) -> AgreementRun:
    """Queue a run; the worker computes it (`coding.run_agreement`). The owner only."""
    if not allows(study, actor, "can_run_agreement"):
        raise AgreementError(_("Only the study's owner starts agreement runs."))
    params = clean_params(study=study, **options)
    load_input(study, params["coders"])  # refuse bad coders now, not in the worker
    with transaction.atomic():
        run = AgreementRun.objects.create(
            study=study,
            created_by=actor,
            params=params,
            codebook_version=CodebookVersion.objects.filter(study=study)
            .order_by("-number")
            .first(),
        )
        job_enqueue("coding.run_agreement", run)
    return run


def is_outdated(run: AgreementRun) -> bool:
    """Whether coding changed since the run: then a newer run is due."""
    if run.status != AgreementRun.Status.DONE:
        return False
    return coding_fingerprint(run.study, run.params["coders"]) != run.fingerprint
