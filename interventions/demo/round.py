"""The demo's thesis round, played through the app's own services: the supervisor approves
the codebook, the student and the second rater each code all six descriptions (double
coding), the student reveals the layers and starts an agreement run, decides some passages
for the consensus, and a discussion on one disagreement is left open.

The coding is `coding.json` beside this module, written for the demo: partial agreement as
two real raters reach it (the same spans, shifted bounds, other codes). The agreement run
goes through the app's task, computed here in-process (`round_finish`), so the report the
student opens is a real one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User

from coding import segments
from coding.agreement.assignments import assignment_create
from coding.agreement.runs import agreement_run_start
from coding.codebook.services import code_paths, codebook_approve, codebook_reveal
from coding.consensus import services as consensus
from coding.models import AgreementRun, Code, ConsensusDecision, Segment
from coding.review.comments import comment_add, thread_start
from interventions.models import Study

CODING_FILE = Path(__file__).resolve().parent / "coding.json"

# Where the consensus is under way: agreed passages accepted, and these disagreements decided
# (by title: how many, taking the student's version), the other texts left to do.
DECIDED = {"Kring van Zeven": 2, "Vaste Grond": 1}
ACCEPTED = ("Kring van Zeven", "Vaste Grond")
DECISION_NOTE = "Besproken met de tweede beoordelaar; de definitie van de code geeft de doorslag."

THREAD_ON = ("Gezinsopname De Lindehoeve", "beoordelaar", "Psychologische hulpbronnen/Inhoud")
THREAD = [
    (
        "beoordelaar",
        "Ik heb deze begeleiding als psychologische hulpbron gecodeerd: ouders leren hier "
        "vooral herkennen wat hun kind nodig heeft. @student koos sociale hulpbronnen. "
        "Waar leggen we de grens?",
    ),
    (
        "begeleider",
        "Goede vraag. Positief opvoeden en de band tussen ouder en kind vallen onder sociale "
        "hulpbronnen; kennis en vaardigheden van de ouder zelf onder psychologische. Leg de "
        "grens vast in de definitie van beide codes en beslis deze passage daarna samen.",
    ),
]


class DemoError(ValueError):
    """The demo's coding file does not fit its texts or codebook."""


@dataclass
class Round:
    run: AgreementRun
    segments: int
    decisions: int


def _coding() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CODING_FILE.read_text(encoding="utf-8"))
    return data


def _span(text: str, quote: str, title: str) -> tuple[int, int]:
    start = text.find(quote)
    if start < 0 or text.find(quote, start + 1) >= 0:
        raise DemoError(f"The quote {quote[:40]!r}… is not in {title!r} exactly once")
    return start, start + len(quote)


def round_play(*, study: Study, users: dict[str, User]) -> Round:
    """Play the round in the caller's transaction; `round_finish` computes the run after it."""
    student, supervisor = users["student"], users["begeleider"]
    data = _coding()
    codes = {"/".join(path): pk for pk, path in code_paths(study).items()}
    by_pk = Code.objects.in_bulk(list(codes.values()))
    interventions = {i.title: i for i in study.interventions.all()}

    codebook_approve(study=study, actor=supervisor, label="Startversie")
    for rater in data["raters"]:
        assignment_create(
            study=study,
            actor=student,
            coder=users[rater],
            interventions=interventions.values(),
            method="all",
        )
    made = 0
    for title, by_rater in data["interventions"].items():
        intervention = interventions[title]
        for rater, rows in by_rater.items():
            for path, quote in rows:
                if path not in codes:
                    raise DemoError(f"No code {path!r} in the demo's codebook")
                start, end = _span(intervention.text, quote, title)
                segments.segment_create(
                    intervention=intervention,
                    coder=users[rater],
                    code=by_pk[codes[path]],
                    start=start,
                    end=end,
                    quote=quote,
                )
                made += 1
            segments.progress_set(intervention=intervention, coder=users[rater], done=True)

    codebook_reveal(study=study, actor=student)
    run = agreement_run_start(study=study, actor=student, coders=data["raters"])

    decided = 0
    for title in ACCEPTED:
        accepted = consensus.consensus_accept_agreed(
            intervention=interventions[title], actor=student
        )
        decided += len(accepted)
    for title, count in DECIDED.items():
        intervention = interventions[title]
        items = consensus.reconciliation_items(intervention=intervention, viewer=student)
        open_items = [i for i in items if not i.is_agreed and not i.is_decided]
        for item in open_items[:count]:
            mine = next((s for s in item.segments if s.coder_id == student.pk), None)
            if mine is None:
                action, take = ConsensusDecision.Action.KEEP_BOTH, None
            else:
                action, take = ConsensusDecision.Action.TAKE, mine
            consensus.consensus_decide(
                intervention=intervention,
                actor=student,
                item_key=item.key,
                action=action,
                take_segment=take,
                note=DECISION_NOTE,
            )
            decided += 1

    title, rater, path = THREAD_ON
    target = Segment.objects.get(
        intervention=interventions[title], coder=users[rater], code_id=codes[path]
    )
    (first_author, first_body), *replies = THREAD
    thread = thread_start(
        study=study,
        actor=users[first_author],
        target_kind="segment",
        target_uuid=target.uuid,
        body=first_body,
    )
    for author, body in replies:
        comment_add(thread=thread, actor=users[author], body=body)
    return Round(run=run, segments=made, decisions=decided)


def round_finish(run: AgreementRun) -> AgreementRun:
    """Compute the round's agreement run here, through the app's task, unless a worker or the
    in-process queue did already; a worker that receives it later finds it done."""
    from coding.tasks import run_agreement

    run.refresh_from_db()
    if run.status != AgreementRun.Status.DONE:
        run_agreement.apply(args=(run.pk,))
        run.refresh_from_db()
    return run
