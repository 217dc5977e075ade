"""Who looks at which intervention in the workspace, what they may do, which layers are on."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from uuid import UUID

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils.translation import gettext as _

from coding import segments, sight
from coding.codebook.outline import short_paths
from coding.codebook.services import codes_by_parent
from coding.models import (
    Code,
    Segment,
)
from interventions.access import StudyAccess
from interventions.marks import MemberMark, member_marks, study_marks
from interventions.models import Intervention
from veerkracht.lib.http import HtmxHttpRequest
from veerkracht.lib.rows import Columns


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

    @property
    def shown(self) -> list[int]:
        return [layer.user.pk for layer in self.layers if layer.shown]

    @property
    def several(self) -> bool:
        """More than one layer on: labels then name their coder."""
        return len(self.shown) > 1 or self.shown != [self.viewer.pk]


# What `chosen_codes` reads of each code; as SQL, since the ORM spent more CPU building the
# query than the database answering it.
_CODE_ROW = Columns(Code, "c", only=["id", "uuid", "parent", "name", "color"])
# Where id, uuid, parent_id, name and color stand in its rows.
_AT = [_CODE_ROW.attnames.index(name) for name in ("id", "uuid", "parent_id", "name", "color")]


def chosen_codes(
    study: Any, uuids: list[UUID]
) -> tuple[list[Code], dict[int, tuple[str, ...]], dict[int, str]]:
    """The codes of these UUIDs in the study's codebook, in the order asked, their paths
    (`paths_from`) and their shortest unambiguous paths among the whole codebook
    (`short_paths`), from one query that reads only what an event and a highlight need of each
    code: applying a code answers without loading the whole codebook."""
    q = connection.ops.quote_name
    sql = f"SELECT {_CODE_ROW.sql()} FROM {q(Code._meta.db_table)} c WHERE c.{q('study_id')} = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql, [study.pk])
        converted = [_CODE_ROW.row(row) for row in cursor.fetchall()]
    by_pk = {row[_AT[0]]: tuple(row[at] for at in _AT) for row in converted}
    by_uuid = {row[1]: row for row in by_pk.values()}
    if any(uuid not in by_uuid for uuid in uuids):
        raise segments.SegmentError(
            _("One of the chosen codes is not in this study's codebook; reload the page.")
        )

    def path_of(pk: int) -> tuple[str, ...]:
        _pk, _uuid, parent_id, name, _color = by_pk[pk]
        path = [name]
        seen = {pk}
        while parent_id is not None and parent_id in by_pk and parent_id not in seen:
            seen.add(parent_id)
            path.append(by_pk[parent_id][3])
            parent_id = by_pk[parent_id][2]
        return tuple(reversed(path))

    # A code's short name depends only on the codes of the same name (without case): another
    # path can end as the chosen one's only where their last names are equal.
    chosen = [by_uuid[uuid][0] for uuid in uuids]
    wanted = {by_pk[pk][3].casefold() for pk in chosen}
    alike = [pk for pk, row in by_pk.items() if row[3].casefold() in wanted]
    every_path = {pk: path_of(pk) for pk in alike}
    short = short_paths(every_path, only=chosen)
    codes, paths, names = [], {}, {}
    fields = ["id", "uuid", "study_id", "parent_id", "name", "color"]
    for uuid in uuids:
        pk, _uuid, parent_id, name, color = by_uuid[uuid]
        codes.append(Code.from_db(None, fields, [pk, uuid, study.pk, parent_id, name, color]))
        paths[pk] = every_path[pk]
        names[pk] = short[pk]
    return codes, paths, names


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
