"""Who looks at which intervention in the workspace, what they may do, which layers are on."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from uuid import UUID

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from coding import segments, sight
from coding.codebook.services import codes_by_parent
from coding.models import (
    Code,
    Segment,
)
from interventions.access import StudyAccess
from interventions.marks import MemberMark, member_marks, study_marks
from interventions.models import Intervention
from veerkracht.lib.http import HtmxHttpRequest


@dataclass(frozen=True)
class Layer:
    user: User
    shown: bool
    # Initials and colour, distinct in the study (`interventions.marks`).
    mark: MemberMark

    @property
    def initials(self) -> str:
        return self.mark.initials

    @property
    def colour(self) -> str:
        return self.mark.colour


@dataclass
class Viewing:
    """Who looks at which intervention, what they may do and which layers they have on."""

    access: StudyAccess
    intervention: Intervention
    viewer: User
    coding: bool
    layers: list[Layer]

    @property
    def study(self) -> Any:
        return self.access.study

    @cached_property
    def children(self) -> dict[int | None, list[Code]]:
        """The codebook, loaded once per request for the tree, the picker and the paths."""
        return codes_by_parent(self.study)

    def codes(self, uuids: list[UUID]) -> list[Code]:
        """The codes of these UUIDs in this study's codebook, in the order asked."""
        found = {c.uuid: c for codes in self.children.values() for c in codes}
        missing = [uuid for uuid in uuids if uuid not in found]
        if missing:
            raise segments.SegmentError(
                _("One of the chosen codes is not in this study's codebook; reload the page.")
            )
        return [found[uuid] for uuid in uuids]

    @property
    def shown(self) -> list[int]:
        return [layer.user.pk for layer in self.layers if layer.shown]

    @property
    def several(self) -> bool:
        """More than one layer on: labels then name their coder."""
        return len(self.shown) > 1 or self.shown != [self.viewer.pk]


def requested_layers(data: Any) -> list[int] | None:
    """Coder ids from `layers` (repeated or comma-separated); None when not sent at all."""
    if "layers" not in data:
        return None
    ids: list[int] = []
    for value in data.getlist("layers"):
        ids.extend(int(part) for part in value.split(",") if part.strip().isdigit())
    return ids


def viewing_for(
    request: HtmxHttpRequest, access: StudyAccess, intervention: Intervention, *, own: bool = False
) -> Viewing:
    viewer = request.user
    intervention.study = access.study  # loaded already; saves the services a query
    coding = access.can_code
    coders = sight.visible_coders(access)
    data = request.POST if request.method == "POST" else request.GET
    requested = requested_layers(data)
    if requested is None:
        # A coder starts on their own layer; the supervisor, who has none, on all of them.
        requested = [viewer.pk] if coding else [user.pk for user in coders]
    if own:
        requested.append(viewer.pk)
    wanted = set(requested)
    marks = study_marks(access.study) if coders else {}
    layers = [
        Layer(user, user.pk in wanted, marks.get(user.pk) or member_marks([user])[user.pk])
        for user in coders
    ]
    return Viewing(access, intervention, viewer, coding, layers)


def own_segment(access: StudyAccess, uuid: UUID) -> Segment:
    """A segment the member may change: 404 when hidden from them, 403 when someone else's."""
    segment = sight.segment_for_user(viewer=access.user, uuid=uuid, access=access)
    if segment.coder_id != access.user.pk or not access.can_code:
        raise PermissionDenied
    return segment
