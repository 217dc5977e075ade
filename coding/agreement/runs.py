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
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from coding.agreement.assignments import assigned_ids
from coding.agreement.reliability import (
    DISAGREEMENT_LIMIT,
    UNITS,
    CodeInfo,
    DocInfo,
    ReliabilityInput,
    RunSums,
    SegInfo,
    compute_sums,
    disagreements,
    report_from_sums,
)
from coding.codebook.services import code_paths
from coding.models import AgreementRun, AgreementRunPart, CodebookVersion, Segment
from interventions.access import allows, users_who_code
from interventions.models import Section, Study
from veerkracht.jobs import job_enqueue, job_finish

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


def load_input(
    study: Study, coder_names: Sequence[str], intervention_ids: Iterable[int] | None = None
) -> tuple[ReliabilityInput, list[int]]:
    """The plain data `compute` needs, and the ids of the segments it contains; of the
    interventions `intervention_ids` only (a block of a split run) when given."""
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
    if intervention_ids is not None:
        wanted &= set(intervention_ids)
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
    """The report of a run, with its disagreement list, and the ids of the segments used: in
    one go, as one block holding every text."""
    return combine_blocks(study, params, [compute_block(study, params, None)])


def plan_blocks(study: Study, params: dict[str, Any], size: int) -> list[list[int]]:
    """The run's interventions (assigned to any of its coders) in title order, in blocks of
    `size`: contiguous, so the blocks' disagreement lists follow each other in report order."""
    users = {u.username: u.pk for u in coders_of(study)}
    assigned = assigned_ids(study) or _texts_by_coder(study)
    wanted = set().union(*(assigned.get(users[name], set()) for name in params["coders"]))
    ordered = list(
        study.interventions.filter(pk__in=wanted).order_by("title").values_list("pk", flat=True)
    )
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def compute_block(
    study: Study, params: dict[str, Any], intervention_ids: Iterable[int] | None
) -> dict[str, Any]:
    """One block's part of a run as JSON: its sums (`RunSums`), the ids of the segments it
    used and its disagreements; every intervention when `intervention_ids` is None."""
    data, segment_ids = load_input(study, params["coders"], intervention_ids)
    sums = compute_sums(
        data, unit=params["unit"], min_overlap=params["overlap"], bootstrap=params["bootstrap"]
    )
    return {
        "sums": sums.to_json(),
        "segment_ids": segment_ids,
        "disagreements": disagreements(data, min_overlap=params["overlap"]),
    }


def combine_blocks(
    study: Study, params: dict[str, Any], parts: Sequence[dict[str, Any]]
) -> tuple[dict[str, Any], list[int]]:
    """The report of a run from its blocks' parts, in block order, and the segment ids used.

    The sums are whole numbers, so the report is exactly the one of a single block."""
    coders = sorted(params["coders"])
    users = {u.username: u.pk for u in coders_of(study)}
    assigned_by_id = assigned_ids(study)
    meta = ReliabilityInput(
        coders=coders,
        docs=[],
        codes=code_infos(study),
        segments=[],
        assigned={name: assigned_by_id.get(users[name], set()) for name in coders},
    )
    total = RunSums(unit=params["unit"])
    found: list[dict[str, Any]] = []
    segment_ids: list[int] = []
    for part in parts:
        total = total + RunSums.from_json(part["sums"])
        found.extend(part["disagreements"])
        segment_ids.extend(part["segment_ids"])
    report = report_from_sums(meta, total, bootstrap=params["bootstrap"], seed=params["seed"])
    report["disagreements"] = found[:DISAGREEMENT_LIMIT]
    report["n_assigned"] = {coder: len(ids) for coder, ids in meta.assigned.items()}
    report["n_interventions_total"] = study.interventions.count()
    report["left_out"] = params.get("left_out") or left_out(study, params["coders"])
    return report, sorted(segment_ids)


def agreement_run_split(run: AgreementRun, *, fingerprint: str, size: int) -> bool:
    """Split a running run into blocks of `size` texts, a task each (`coding.run_agreement_part`),
    so that several workers share it; False when it is one block (compute it in one go).

    Safe to call again for the same run (a redelivered task): the blocks planned before stay,
    and those without a result are sent again.
    """
    parts = list(run.parts.filter(result__isnull=True).values_list("index", flat=True))
    with transaction.atomic():
        if not run.parts.exists():
            blocks = plan_blocks(run.study, run.params, size)
            if len(blocks) < 2:
                return False
            AgreementRun.objects.filter(pk=run.pk).update(fingerprint=fingerprint)
            AgreementRunPart.objects.bulk_create(
                AgreementRunPart(run=run, index=index, intervention_ids=block)
                for index, block in enumerate(blocks)
            )
            parts = list(range(len(blocks)))
        for index in parts:
            job_enqueue("coding.run_agreement_part", run, args=(index,))
    if not parts:
        agreement_run_part_done(run.pk)
    return True


def agreement_run_part_done(run_id: int) -> bool:
    """After a block stored its result: finish the run if every block has one, else note the
    progress. The run's row is locked meanwhile, so the last two blocks to finish cannot both
    miss each other's result. True when this call finished the run."""
    with transaction.atomic():
        run = (
            AgreementRun.objects.select_for_update()
            .select_related("study")
            .filter(pk=run_id, status__in=AgreementRun.ACTIVE)
            .first()
        )
        if run is None:
            return False
        # Counted first: the results are read once, by the block that completes the set.
        total = run.parts.count()
        waiting = run.parts.filter(result__isnull=True).count()
        if not total:
            return False
        if waiting:
            progress = 10 + 85 * (total - waiting) // total
            # A block's progress is also a heartbeat of the run (see veerkracht.jobs).
            AgreementRun.objects.filter(pk=run_id).update(
                progress=progress, updated_at=timezone.now()
            )
            return False
        results = run.parts.order_by("index").values_list("result", flat=True)
        done = [result for result in results if result is not None]
        report, segment_ids = combine_blocks(run.study, run.params, done)
        job_finish(AgreementRun, run_id, result=report, segment_ids=segment_ids)
        run.parts.all().delete()
    return True


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
