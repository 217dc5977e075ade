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
from interventions.models import Intervention
from veerkracht.lib.http import HtmxHttpRequest


def initials(user: User) -> str:
    """Two letters for a coder's margin label: from the full name, else the username."""
    names = [part for part in (user.first_name, user.last_name) if part]
    if len(names) == 2:
        return (names[0][0] + names[1][0]).upper()
    return (names[0] if names else user.username)[:2].upper()


@dataclass(frozen=True)
class Layer:
    user: User
    shown: bool

    @property
    def initials(self) -> str:
        return initials(self.user)


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

    @property
    def shown(self) -> list[int]:
        return [layer.user.pk for layer in self.layers if layer.shown]

    @property
    def several(self) -> bool:
        """More than one layer on: labels then name their coder."""
        return len(self.shown) > 1 or self.shown != [self.viewer.pk]


def chosen_codes(study: Any, uuids: list[UUID]) -> tuple[list[Code], dict[int, tuple[str, ...]]]:
    """The codes of these UUIDs in the study's codebook, in the order asked, and their paths
    (`paths_from`), from one query that reads only what an event and a highlight need of each
    code: applying a code answers without loading the whole codebook."""
    rows = (
        Code.objects.filter(study=study)
        .order_by()
        .values_list("pk", "uuid", "parent_id", "name", "color")
    )
    by_pk = {row[0]: row for row in rows}
    by_uuid = {row[1]: row for row in by_pk.values()}
    if any(uuid not in by_uuid for uuid in uuids):
        raise segments.SegmentError(
            _("One of the chosen codes is not in this study's codebook; reload the page.")
        )
    codes, paths = [], {}
    fields = ["id", "uuid", "study_id", "parent_id", "name", "color"]
    for uuid in uuids:
        pk, _uuid, parent_id, name, color = by_uuid[uuid]
        codes.append(Code.from_db(None, fields, [pk, uuid, study.pk, parent_id, name, color]))
        path = [name]
        seen = {pk}
        while parent_id is not None and parent_id in by_pk and parent_id not in seen:
            seen.add(parent_id)
            path.append(by_pk[parent_id][3])
            parent_id = by_pk[parent_id][2]
        paths[pk] = tuple(reversed(path))
    return codes, paths


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
    layers = [Layer(user, user.pk in wanted) for user in coders]
    return Viewing(access, intervention, viewer, coding, layers)


def own_segment(access: StudyAccess, uuid: UUID) -> Segment:
    """A segment the member may change: 404 when hidden from them, 403 when someone else's."""
    segment = sight.segment_for_user(viewer=access.user, uuid=uuid, access=access)
    if segment.coder_id != access.user.pk or not access.can_code:
        raise PermissionDenied
    return segment
