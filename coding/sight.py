"""Who sees which coder's segments: every rule of blind coding, in one place.

Before the owner reveals the coders' layers, every member sees only their own segments: the
policy "after_reveal", the default of a new study, since a thesis student is usually owner and
first coder. Two policies open the layers earlier, chosen explicitly by the owner: "supervisor"
to the supervisor (`StudyAccess.sees_layers_before_reveal_as_supervisor`), "always" to the
owner and the supervisor (`StudyAccess.sees_layers_before_reveal`). After the reveal every
member sees every layer, since discussing disagreements needs them. Outsiders see nothing.

Every read of segments (the workspace, a segment's panel, the code report, counts, comment
threads, the dashboard, the consensus, direct URLs) asks `visible_coders` or `layers_open`
here, so a hidden layer never leaks through one of them. Who may *change* what is
`interventions.access`; this module adds only what depends on the reveal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from coding.models import Codebook, CommentThread, Segment
from interventions.access import StudyAccess, access_for
from interventions.models import Study


def reveal_state(study: Study) -> Codebook:
    """The study's reveal policy and reveal, as sight needs them: an unsaved default codebook
    (policy "after_reveal", not revealed) when the study has none yet."""
    found = Codebook.objects.filter(study=study).only("reveal", "revealed_at").first()
    return found or Codebook(study=study)


def access_reveal_state(access: StudyAccess) -> Codebook:
    """`reveal_state` of the member's study, without a query when the access was read with it
    (`interventions.access.get_intervention_for_user`)."""
    if access.reveal is None:
        return reveal_state(access.study)
    pk, policy, revealed_at = access.reveal
    if pk is None:
        return Codebook(study=access.study)
    return Codebook.from_db(
        None,
        ["id", "study_id", "reveal", "revealed_at"],
        [pk, access.study.pk, policy, revealed_at],
    )


def layers_open(access: StudyAccess | None, *, codebook: Codebook | None = None) -> bool:
    """Whether every coder's layer is open to this member: to everyone once revealed; before
    that to the owner and supervisor when the policy is "always", to the supervisor when it is
    "supervisor", to nobody when it is "after_reveal". `codebook` saves a query when the caller
    has `reveal_state` already."""
    if access is None:
        return False
    codebook = codebook or access_reveal_state(access)
    if codebook.is_revealed:
        return True
    if codebook.shows_layers_before_reveal:
        return access.sees_layers_before_reveal
    if codebook.shows_layers_to_supervisor_before_reveal:
        return access.sees_layers_before_reveal_as_supervisor
    return False


def may_reconcile(access: StudyAccess | None, *, codebook: Codebook | None = None) -> bool:
    """Decide consensus items now: those who `can_reconcile`, once the layers are open to them."""
    return access is not None and access.can_reconcile and layers_open(access, codebook=codebook)


def sees_others_progress(access: StudyAccess | None, *, codebook: Codebook | None = None) -> bool:
    """Whether the other coders' progress shows: to the owner and supervisor always, to a coder
    once the layers are revealed (before, it would tell them how far the others are)."""
    if access is None:
        return False
    return access.sees_all_progress or (codebook or access_reveal_state(access)).is_revealed


def visible_coders(access: StudyAccess | None, *, codebook: Codebook | None = None) -> list[User]:
    """The coders whose layers this member may see, themself first when they code, then by
    username.

    While the layers are closed to them, only themself (nobody for a supervisor, who codes
    nothing); once open, every member with segments in the study. Outsiders see nobody.
    """
    if access is None:
        return []
    viewer = access.user
    own = [viewer] if access.can_code else []
    if not layers_open(access, codebook=codebook):
        return own
    members_with_segments = Segment.objects.filter(
        intervention__study=access.study, coder=OuterRef("pk")
    )
    coders = list(
        get_user_model()
        .objects.filter(memberships__study=access.study)
        .filter(Exists(members_with_segments))
        .order_by("username")
    )
    # A member who no longer codes keeps the layer of the segments they made.
    return own + [user for user in coders if user.pk != viewer.pk or not own]


def counted_coders(
    access: StudyAccess, layers: Iterable[Any], *, codebook: Codebook | None = None
) -> list[int] | QuerySet[Any]:
    """The ids of the coders among `layers` whose segments this member may count, without a
    query of its own: the member alone while the layers are closed to them; once open, the
    member and those of `layers` who are members of the study, as a subquery. For counting
    this is `visible_coders` within `layers` (a coder without segments counts 0 either way)."""
    viewer = access.user.pk
    if not layers_open(access, codebook=codebook):
        return [viewer]
    wanted = _layer_ids(layers) | {viewer}
    return access.study.memberships.filter(user_id__in=wanted).values("user_id")


def visible_ids(access: StudyAccess | None) -> set[int]:
    """The ids of `visible_coders`."""
    return {user.pk for user in visible_coders(access)}


def count_visible(coder_ids: Iterable[int | None], visible: set[int]) -> int:
    """How many of some segments, given by their coders' ids, a member who sees the layers
    `visible` (`visible_ids`) may count: a count of another coder's segments is as telling as
    the segments before the reveal. A segment whose coder is unknown (deleted since) counts
    for nobody."""
    return sum(1 for coder in coder_ids if coder is not None and coder in visible)


def _layer_ids(layers: Iterable[Any]) -> set[int]:
    ids = set()
    for layer in layers:
        try:
            ids.add(int(layer))
        except (TypeError, ValueError):
            continue
    return ids


def visible_segments(
    *,
    access: StudyAccess | None,
    intervention: Any,
    layers: list[int] | None = None,
    visible: Iterable[Any] | None = None,
) -> QuerySet[Segment]:
    """The segments of the chosen `layers` (coder ids) the member may see, in text order.

    `layers=None` is the member's own layer. A layer they may not see is dropped silently, so a
    hand-edited URL shows nothing more than the page offered. A caller that has just asked
    `visible_coders` for this member may pass that list as `visible`.
    """
    if access is None:
        return Segment.objects.none()
    seen = visible_ids(access) if visible is None else {user.pk for user in visible}
    wanted = {access.user.pk} if layers is None else _layer_ids(layers)
    return (
        Segment.objects.filter(intervention=intervention, coder_id__in=wanted & seen)
        .select_related("code", "coder")
        .order_by("start", "end", "pk")
    )


def segment_for_user(*, viewer: User, uuid: Any, access: StudyAccess | None = None) -> Segment:
    """The segment with this UUID if the viewer may see it (and it is in `access.study`, when
    given); Http404 otherwise, so a coder cannot tell another coder's segment from one that
    does not exist."""
    try:
        UUID(str(uuid))
    except ValueError:
        raise Http404 from None
    segment = (
        Segment.objects.select_related("code", "coder", "intervention__study")
        .filter(uuid=uuid)
        .first()
    )
    if segment is None:
        raise Http404
    study = segment.intervention.study
    if access is None:
        access = access_for(study, viewer)
    elif access.study.pk != study.pk:
        raise Http404
    if segment.coder_id not in visible_ids(access):
        raise Http404
    return segment


def blind_note(access: StudyAccess, *, n_layers: int, codebook: Codebook | None = None) -> str:
    """What a page showing `n_layers` layers says about those it does not show: "coder" while
    the member codes blind, "hidden" while the owner and supervisor wait for the reveal, ""
    when nothing is hidden."""
    if n_layers > 1:
        return ""
    codebook = codebook or access_reveal_state(access)
    if codebook.is_revealed:
        return ""
    if not access.sees_layers_before_reveal:
        return "coder"
    return "" if layers_open(access, codebook=codebook) else "hidden"


@dataclass
class ThreadSight:
    """Which comment threads one member may see in one study, loaded once for a list.

    Threads on a code or an intervention are open to every member. A thread on a segment is
    seen by whoever may see the segment; once the segment is deleted, by those who
    `moderates_comments` and those who took part.
    """

    access: StudyAccess | None
    visible: set[int]

    @classmethod
    def of(cls, access: StudyAccess | None) -> ThreadSight:
        return cls(access, visible_ids(access) if access is not None else set())

    def sees(
        self, thread: CommentThread, segment_coder: int | None, participants: Iterable[int | None]
    ) -> bool:
        """`segment_coder`: the coder of the thread's segment, None when it was deleted."""
        if self.access is None:
            return False
        if thread.target_kind != CommentThread.Target.SEGMENT:
            return True
        if segment_coder is not None:
            return segment_coder in self.visible
        return self.access.moderates_comments or self.access.user.pk in set(participants)
