"""Every write to the codebook goes through one function here.

Each function checks that the actor may make the change (`interventions.access`), owns its
transaction, checks the rules of the tree, records a `CodingEvent` with the state before and
after, and raises `CodebookError` (a message for the user) when it refuses; nothing is written
then. Views, commands and tasks call the same functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coding.codebook.outline import short_paths
from coding.codebook.tree import CodeNode, normalize_guid, subtree_ids, walk
from coding.codebook.versions import snapshot_diff
from coding.models import (
    Code,
    Codebook,
    CodebookVersion,
    CodingEvent,
    ConsensusSegment,
    Segment,
)
from interventions.access import Right, allows
from interventions.headers import fold_header
from interventions.models import Study

TEMPLATE_DIR = Path(__file__).resolve().parent / "codebook_templates"
CODE_FIELDS = (
    "name",
    "definition",
    "inclusion",
    "exclusion",
    "example",
    "color",
    "origin",
    "shortcut",
)
# What a REFI-QDA file says about a code beyond our own fields (see `Code`).
REFI_FIELDS = ("guid", "is_codable", "color_chosen")
COLOR_RE = re.compile(r"^#[0-9a-f]{6}$")
# Colour-blind-safe defaults for new themes (Okabe-Ito; its orange darkened and its sky blue
# replaced by a purple, so that every colour keeps 3:1 against white as an underline or a
# swatch, WCAG 1.4.11; tests/browser/test_accessibility.py checks them).
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#c27c00", "#7b52ae", "#8a7d00", "#666666")


class CodebookError(ValueError):
    """A refused change; str(error) is the message for the user."""


class ConflictError(CodebookError):
    """Someone else changed the code since the user loaded it."""


# Reading --------------------------------------------------------------------------------


def codes_by_parent(study: Study) -> dict[int | None, list[Code]]:
    children: dict[int | None, list[Code]] = {}
    for code in Code.objects.filter(study=study).tree_order():
        children.setdefault(code.parent_id, []).append(code)
    return children


def paths_from(children: dict[int | None, list[Code]]) -> dict[int, tuple[str, ...]]:
    """Every code's path of names from its theme down, from a tree loaded by codes_by_parent."""
    paths: dict[int, tuple[str, ...]] = {}
    stack: list[tuple[int | None, tuple[str, ...]]] = [(None, ())]
    while stack:
        parent_id, prefix = stack.pop()
        for code in children.get(parent_id, []):
            paths[code.pk] = (*prefix, code.name)
            stack.append((code.pk, paths[code.pk]))
    return paths


def code_paths(study: Study) -> dict[int, tuple[str, ...]]:
    """Every code's path of names from its theme down, from one query."""
    return paths_from(codes_by_parent(study))


def short_code_paths(study: Study) -> dict[int, str]:
    """Every code's shortest unambiguous path (`outline.short_paths`) by id, from one query:
    how a page names a code without its tree around it."""
    return short_paths(code_paths(study))


def code_guid(code: Code) -> str:
    """The code's REFI-QDA GUID: as an imported file wrote it, else its own UUID."""
    return code.guid or str(code.uuid)


def code_guids(study: Study) -> dict[int, str]:
    """Each code's GUID (`code_guid`), as a snapshot and the REFI-QDA files name it."""
    return {
        pk: guid or str(uuid)
        for pk, guid, uuid in Code.objects.filter(study=study).values_list("pk", "guid", "uuid")
    }


def codebook_tree(study: Study, *, drawn_colors: bool = True) -> list[CodeNode]:
    """The study's code tree. With `drawn_colors=False` (REFI-QDA exports) a code that came
    without a colour has none, rather than the colour the pages draw it in."""
    children = codes_by_parent(study)

    def build(parent_id: int | None) -> list[CodeNode]:
        return [
            CodeNode(
                name=code.name,
                definition=code.definition,
                inclusion=code.inclusion,
                exclusion=code.exclusion,
                example=code.example,
                color=code.color if drawn_colors or code.color_chosen else "",
                origin=code.origin,
                guid=code_guid(code),
                children=build(code.pk),
                is_codable=code.is_codable,
            )
            for code in children.get(parent_id, [])
        ]

    return build(None)


def tree_snapshot(nodes: list[CodeNode]) -> list[dict[str, Any]]:
    return [
        {
            "name": n.name,
            "definition": n.definition,
            "inclusion": n.inclusion,
            "exclusion": n.exclusion,
            "example": n.example,
            "color": n.color,
            "origin": n.origin,
            "guid": n.guid,
            "children": tree_snapshot(n.children),
        }
        for n in nodes
    ]


def nodes_from_snapshot(snapshot: list[dict[str, Any]]) -> list[CodeNode]:
    return [
        CodeNode(
            name=item["name"],
            definition=item.get("definition", ""),
            inclusion=item.get("inclusion", ""),
            exclusion=item.get("exclusion", ""),
            example=item.get("example", ""),
            color=item.get("color", ""),
            origin=item.get("origin", "deductive"),
            guid=item.get("guid", ""),
            children=nodes_from_snapshot(item.get("children", [])),
        )
        for item in snapshot
    ]


def subtree_code_ids(code: Code, children: Mapping[int | None, Sequence[Code]]) -> set[int]:
    """`code`'s id and those of all its subcodes, from a tree loaded by codes_by_parent."""
    return subtree_ids(code.pk, lambda pk: [child.pk for child in children.get(pk, ())])


def segment_counts(study: Study, coder_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Segments per code; only those of `coder_ids` when given (blind coding counts too)."""
    segments = Segment.objects.filter(code__study=study)
    if coder_ids is not None:
        segments = segments.filter(coder_id__in=list(coder_ids))
    rows = segments.values("code_id").annotate(n=Count("pk"))
    return {row["code_id"]: row["n"] for row in rows}


# Events ---------------------------------------------------------------------------------


def _fields(code: Code) -> dict[str, Any]:
    data = {name: getattr(code, name) for name in CODE_FIELDS}
    data["parent"] = str(code.parent.uuid) if code.parent_id and code.parent else None
    data["position"] = code.position
    return data


def _record(
    *,
    study: Study,
    actor: User | None,
    action: str,
    code: Code | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> CodingEvent:
    return CodingEvent.objects.create(
        study=study,
        actor=actor,
        action=action,
        code=code if code is not None and code.pk else None,
        code_uuid=code.uuid if code is not None else None,
        code_name=code.name if code is not None else "",
        before=before or {},
        after=after or {},
    )


# Checks ---------------------------------------------------------------------------------


def _require(study: Study, actor: User | None, right: Right) -> None:
    """Refuse an actor without `right` (`actor=None`: a management command)."""
    if allows(study, actor, right):
        return
    refusals = {
        "can_edit_codebook": _("Only the study's owner changes the codebook."),
        "can_code": _("Only the study's owner changes the codebook; coders add inductive codes."),
        "can_approve": _("Only the study's supervisor approves the codebook."),
        "can_reveal": _("Only the study's owner can decide when coders' segments are shown."),
    }
    raise CodebookError(refusals.get(right, _("You cannot change this codebook.")))


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise CodebookError(_("A code needs a name."))
    if len(name) > 200:
        raise CodebookError(_("A code name may be at most 200 characters."))
    return name


def _clean_color(color: str) -> str:
    color = color.strip().lower()
    if not COLOR_RE.match(color):
        raise CodebookError(
            _("“%(color)s” is not a colour like #1d5e6f.") % {"color": color or "—"}
        )
    return color


def _check_sibling_name(study: Study, parent: Code | None, name: str, exclude: Code | None) -> None:
    siblings = Code.objects.filter(study=study, parent=parent)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude.pk)
    folded = fold_header(name) or name.lower()
    for other in siblings.only("name"):
        if (fold_header(other.name) or other.name.lower()) == folded:
            where = parent.name if parent else _("the top level")
            raise CodebookError(
                _("There is a code “%(other)s” under %(where)s already.")
                % {"other": other.name, "where": where}
            )


def _check_shortcut(study: Study, shortcut: str, exclude: Code | None) -> str:
    shortcut = shortcut.strip()
    if not shortcut:
        return ""
    if len(shortcut) != 1 or not shortcut.isalnum():
        raise CodebookError(_("A shortcut is one letter or digit."))
    clash = Code.objects.filter(study=study, shortcut__iexact=shortcut)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    other = clash.first()
    if other is not None:
        raise CodebookError(
            _("The shortcut “%(key)s” belongs to “%(name)s” already.")
            % {"key": shortcut, "name": other.name}
        )
    return shortcut.lower()


def _renumber(study: Study, parent_id: int | None, order: list[Code]) -> None:
    for position, sibling in enumerate(order):
        if sibling.position != position:
            sibling.position = position
            Code.objects.filter(pk=sibling.pk).update(position=position)


def _siblings(study: Study, parent_id: int | None) -> list[Code]:
    return list(Code.objects.filter(study=study, parent_id=parent_id).tree_order())


# Writes ---------------------------------------------------------------------------------


def code_create(
    *,
    study: Study,
    actor: User,
    name: str,
    parent: Code | None = None,
    origin: str | None = None,
    **fields: Any,
) -> Code:
    """Add a code at the end of its siblings; inductive once coding has started. The owner
    adds any code; a coder adds inductive codes while coding. `fields`: definition, inclusion,
    exclusion, example, color, shortcut, guid."""
    _require(study, actor, "can_code" if origin == Code.Origin.INDUCTIVE else "can_edit_codebook")
    return _code_create(study=study, actor=actor, name=name, parent=parent, origin=origin, **fields)


@dataclass
class _CreateCache:
    """What creating many codes in one transaction (an import) would otherwise query per code:
    the codebook, each parent's sibling names and last position, the number of themes and
    the UUIDs taken. Filled as the codes are made, so each answer stays true."""

    study: Study
    codebook: Codebook
    taken_uuids: set[str]
    # The GUIDs (lower case) a file gave the study's codes: unique in a study.
    guids: set[str] = field(default_factory=set)
    names: dict[int | None, set[str]] = field(default_factory=dict)
    last_position: dict[int | None, int | None] = field(default_factory=dict)
    themes: int | None = None
    # The codes' "code_create" events, written in one statement at the end of the import.
    events: list[CodingEvent] = field(default_factory=list)

    def sibling_names(self, parent: Code | None) -> set[str]:
        key = parent.pk if parent is not None else None
        if key not in self.names:
            self.names[key] = {
                fold_header(n) or n.lower()
                for n in Code.objects.filter(study=self.study, parent=parent).values_list(
                    "name", flat=True
                )
            }
        return self.names[key]

    def forget(self, *parent_ids: int | None) -> None:
        """Drop what is known of these parents' children (a code moved or renamed there)."""
        for key in parent_ids:
            self.names.pop(key, None)
            self.last_position.pop(key, None)

    def next_position(self, parent: Code | None) -> int:
        key = parent.pk if parent is not None else None
        if key not in self.last_position:
            self.last_position[key] = Code.objects.filter(
                study=self.study, parent=parent
            ).aggregate(m=Max("position"))["m"]
        last = self.last_position[key]
        position = 0 if last is None else last + 1
        self.last_position[key] = position
        return position


def _code_create(
    *,
    study: Study,
    actor: User | None,
    name: str,
    parent: Code | None,
    definition: str = "",
    inclusion: str = "",
    exclusion: str = "",
    example: str = "",
    color: str = "",
    origin: str | None = None,
    shortcut: str = "",
    guid: str = "",
    is_codable: bool = True,
) -> Code:
    """`guid`: a GUID from another program's file, kept as written (see `Code.guid`)."""
    name = _clean_name(name)
    if parent is not None and parent.study_id != study.pk:
        raise CodebookError(_("That parent code belongs to another study."))
    with transaction.atomic():
        codebook = Codebook.for_study(study)
        _check_sibling_name(study, parent, name, exclude=None)
        if codebook.coding_started_at is not None:
            origin = Code.Origin.INDUCTIVE
        origin = origin or Code.Origin.DEDUCTIVE
        if origin not in Code.Origin.values:
            raise CodebookError(_("Origin is deductive or inductive."))
        color_chosen = bool(color)
        if color:
            color = _clean_color(color)
        elif parent is not None:
            color = parent.color
        else:
            themes = Code.objects.filter(study=study, parent=None).count()
            color = PALETTE[themes % len(PALETTE)]
        position = Code.objects.filter(study=study, parent=parent).aggregate(m=Max("position"))["m"]
        extra = (
            _guid_fields(
                guid,
                in_study=lambda g: Code.objects.filter(study=study, guid__iexact=g).exists(),
                uuid_taken=lambda u: Code.objects.filter(uuid=u).exists(),
            )
            if guid
            else {}
        )
        code = Code.objects.create(
            study=study,
            parent=parent,
            name=name,
            definition=definition.strip(),
            inclusion=inclusion.strip(),
            exclusion=exclusion.strip(),
            example=example.strip(),
            color=color,
            color_chosen=color_chosen,
            is_codable=is_codable,
            origin=origin,
            shortcut=_check_shortcut(study, shortcut, exclude=None),
            position=0 if position is None else position + 1,
            created_by=actor,
            **extra,
        )
        _record(study=study, actor=actor, action="code_create", code=code, after=_fields(code))
    return code


def _guid_fields(
    guid: str, *, in_study: Callable[[str], bool], uuid_taken: Callable[[str], bool]
) -> dict[str, Any]:
    """The fields a new code gets for a GUID from another program's file: the GUID as written
    and, where no other code on the server has it, the row's own UUID. Refuses a GUID that is
    none or that a code of the study has already (`in_study`; `uuid_taken` asks the server)."""
    canonical = normalize_guid(guid)
    if canonical is None:
        raise CodebookError(_("‘%(guid)s’ is not a GUID.") % {"guid": guid})
    if in_study(guid):
        raise CodebookError(
            _("Another code of this study has the GUID %(guid)s already.") % {"guid": guid}
        )
    extra: dict[str, Any] = {"guid": guid}
    if not uuid_taken(canonical):
        extra["uuid"] = canonical
    return extra


def _code_create_cached(
    *,
    cache: _CreateCache,
    actor: User | None,
    name: str,
    parent: Code | None,
    definition: str,
    inclusion: str,
    exclusion: str,
    example: str,
    color: str,
    origin: str | None,
    guid: str,
    is_codable: bool = True,
) -> Code:
    """`_code_create` inside an import's transaction, with the same checks and the same
    event, asking `cache` instead of the database."""
    study = cache.study
    name = _clean_name(name)
    siblings = cache.sibling_names(parent)
    folded = fold_header(name) or name.lower()
    if folded in siblings:
        where = parent.name if parent else _("the top level")
        raise CodebookError(
            _("There is a code “%(other)s” under %(where)s already.")
            % {"other": name, "where": where}
        )
    if cache.codebook.coding_started_at is not None:
        origin = Code.Origin.INDUCTIVE
    origin = origin or Code.Origin.DEDUCTIVE
    if origin not in Code.Origin.values:
        raise CodebookError(_("Origin is deductive or inductive."))
    color_chosen = bool(color)
    if color:
        color = _clean_color(color)
    elif parent is not None:
        color = parent.color
    else:
        if cache.themes is None:
            cache.themes = Code.objects.filter(study=study, parent=None).count()
        color = PALETTE[cache.themes % len(PALETTE)]
    extra: dict[str, Any] = {}
    if guid:
        extra = _guid_fields(
            guid,
            in_study=lambda g: g.lower() in cache.guids,
            uuid_taken=lambda u: u in cache.taken_uuids,
        )
        cache.guids.add(guid.lower())
        if "uuid" in extra:
            cache.taken_uuids.add(extra["uuid"])
    code = Code.objects.create(
        study=study,
        parent=parent,
        name=name,
        definition=definition.strip(),
        inclusion=inclusion.strip(),
        exclusion=exclusion.strip(),
        example=example.strip(),
        color=color,
        color_chosen=color_chosen,
        is_codable=is_codable,
        origin=origin,
        shortcut="",
        position=cache.next_position(parent),
        created_by=actor,
        **extra,
    )
    siblings.add(folded)
    if parent is None and cache.themes is not None:
        cache.themes += 1
    cache.events.append(
        CodingEvent(
            study=study,
            actor=actor,
            action="code_create",
            code=code,
            code_uuid=code.uuid,
            code_name=code.name,
            # Made by an import: the activity feed shows the import's one line instead.
            before={"import": True},
            after=_fields(code),
        )
    )
    return code


def code_update(*, code: Code, actor: User, revision: int | None, **changes: Any) -> Code:
    """Change a code's own fields. `revision` is what the editor saw; None skips the check."""
    _require(code.study, actor, "can_edit_codebook")
    return _code_update(code=code, actor=actor, revision=revision, **changes)


def _code_update(*, code: Code, actor: User | None, revision: int | None, **changes: Any) -> Code:
    unknown = set(changes) - set(CODE_FIELDS) - {"example_segment", "is_codable"}
    if unknown:
        raise CodebookError(f"Unknown fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = (
            Code.objects.select_for_update(of=("self",)).select_related("parent").get(pk=code.pk)
        )
        if revision is not None and current.revision != revision:
            last = current.events.order_by("-created_at").select_related("actor").first()
            who = last.actor.username if last and last.actor else _("someone")
            raise ConflictError(
                _(
                    "“%(name)s” was changed by %(who)s while you were editing. Your text is kept "
                    "below; compare it with the current version and save again."
                )
                % {"name": current.name, "who": who}
            )
        if "name" in changes:
            changes["name"] = _clean_name(changes["name"])
            _check_sibling_name(current.study, current.parent, changes["name"], exclude=current)
        if "color" in changes:
            changes["color"] = _clean_color(changes["color"])
        if "origin" in changes and changes["origin"] not in Code.Origin.values:
            raise CodebookError(_("Origin is deductive or inductive."))
        if "shortcut" in changes:
            changes["shortcut"] = _check_shortcut(current.study, changes["shortcut"], current)
        for key in ("definition", "inclusion", "exclusion", "example"):
            if key in changes:
                changes[key] = changes[key].strip()
        before = {k: getattr(current, k) for k in changes if k != "example_segment"}
        after = {k: v for k, v in changes.items() if k != "example_segment"}
        changed = {k for k in after if before[k] != after[k]}
        segment_change = (
            "example_segment" in changes
            and getattr(changes["example_segment"], "pk", None) != current.example_segment_id
        )
        if not changed and not segment_change:
            return current
        for key, value in changes.items():
            setattr(current, key, value)
        if "color" in changed:
            current.color_chosen = True
        current.revision += 1
        current.save()
        _record(
            study=current.study,
            actor=actor,
            action="code_update",
            code=current,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return current


def code_move(
    *,
    code: Code,
    actor: User | None,
    parent: Code | None,
    position: int,
    revision: int | None = None,
    record: bool = True,
) -> Code:
    """Put a code under `parent` (None: a theme) at `position` among its new siblings."""
    _require(code.study, actor, "can_edit_codebook")
    with transaction.atomic():
        current = (
            Code.objects.select_for_update(of=("self",)).select_related("parent").get(pk=code.pk)
        )
        study = current.study
        if revision is not None and current.revision != revision:
            raise ConflictError(
                _("“%(name)s” was changed by someone else meanwhile; the tree is reloaded.")
                % {"name": current.name}
            )
        if parent is not None:
            if parent.study_id != study.pk:
                raise CodebookError(_("That parent code belongs to another study."))
            if parent.pk in subtree_code_ids(current, codes_by_parent(study)):
                raise CodebookError(
                    _("“%(name)s” cannot move under itself or one of its own subcodes.")
                    % {"name": current.name}
                )
        before = {
            "parent": str(current.parent.uuid) if current.parent else None,
            "position": current.position,
        }
        if (parent.pk if parent else None) != current.parent_id:
            _check_sibling_name(study, parent, current.name, exclude=current)
        siblings_now = _siblings(study, current.parent_id)
        old_siblings = [s for s in siblings_now if s.pk != current.pk]
        same_parent = (parent.pk if parent else None) == current.parent_id
        new_siblings = (
            old_siblings
            if same_parent
            else [s for s in _siblings(study, parent.pk if parent else None) if s.pk != current.pk]
        )
        position = max(0, min(position, len(new_siblings)))
        if same_parent and [s.pk for s in siblings_now].index(current.pk) == position:
            # A drop where it was: no change, so no new revision to conflict with an editor.
            return current
        new_siblings.insert(position, current)
        old_parent_id = current.parent_id
        current.parent = parent
        current.revision += 1
        current.save(update_fields=["parent", "revision"])
        if new_siblings is not old_siblings:
            _renumber(study, old_parent_id, old_siblings)
        _renumber(study, parent.pk if parent else None, new_siblings)
        current.refresh_from_db()
        after = {"parent": str(parent.uuid) if parent else None, "position": current.position}
        if record and before != after:
            _record(
                study=study,
                actor=actor,
                action="code_move",
                code=current,
                before=before,
                after=after,
            )
    return current


def code_move_step(*, code: Code, actor: User, direction: str, revision: int | None = None) -> Code:
    """The keyboard path: up, down, indent (under the sibling above), outdent (after parent)."""
    study = code.study
    _require(study, actor, "can_edit_codebook")
    siblings = _siblings(study, code.parent_id)
    index = next(i for i, s in enumerate(siblings) if s.pk == code.pk)
    if direction == "up":
        if index == 0:
            raise CodebookError(_("“%(name)s” is first already.") % {"name": code.name})
        return code_move(
            code=code, actor=actor, parent=code.parent, position=index - 1, revision=revision
        )
    if direction == "down":
        if index == len(siblings) - 1:
            raise CodebookError(_("“%(name)s” is last already.") % {"name": code.name})
        return code_move(
            code=code, actor=actor, parent=code.parent, position=index + 1, revision=revision
        )
    if direction == "indent":
        if index == 0:
            raise CodebookError(
                _("“%(name)s” has no code above it to go under.") % {"name": code.name}
            )
        new_parent = siblings[index - 1]
        return code_move(
            code=code, actor=actor, parent=new_parent, position=10**6, revision=revision
        )
    if direction == "outdent":
        if code.parent is None:
            raise CodebookError(_("“%(name)s” is a theme already.") % {"name": code.name})
        grandparent = code.parent.parent
        parent_index = next(
            i
            for i, s in enumerate(_siblings(study, code.parent.parent_id))
            if s.pk == code.parent_id
        )
        return code_move(
            code=code, actor=actor, parent=grandparent, position=parent_index + 1, revision=revision
        )
    raise CodebookError(_("Unknown direction."))


def _subtree(code: Code) -> list[dict[str, Any]]:
    """The code and its descendants, parents first, enough to recreate them exactly."""
    children = codes_by_parent(code.study)
    rows: list[dict[str, Any]] = []

    def visit(node: Code, parent_uuid: str | None) -> None:
        data = {name: getattr(node, name) for name in (*CODE_FIELDS, *REFI_FIELDS)}
        data.update(uuid=str(node.uuid), parent=parent_uuid, position=node.position)
        rows.append(data)
        for child in children.get(node.pk, []):
            visit(child, str(node.uuid))

    visit(code, str(code.parent.uuid) if code.parent else None)
    return rows


def code_delete(*, code: Code, actor: User) -> None:
    """Delete a code and its subcodes; refused while any of them has segments."""
    _require(code.study, actor, "can_edit_codebook")
    with transaction.atomic():
        code = (
            Code.objects.select_for_update(of=("self",))
            .select_related("parent", "study")
            .get(pk=code.pk)
        )
        ids = subtree_code_ids(code, codes_by_parent(code.study))
        used = (
            Segment.objects.filter(code_id__in=ids).count()
            + ConsensusSegment.objects.filter(code_id__in=ids).count()
        )
        if used:
            raise CodebookError(
                ngettext(
                    "“%(name)s” is used by %(n)s segment, so it cannot be deleted. Merge it into "
                    "another code (its segment moves there) or remove that segment first.",
                    "“%(name)s” is used by %(n)s segments, so it cannot be deleted. Merge it into "
                    "another code (its segments move there) or remove those segments first.",
                    used,
                )
                % {"name": code.name, "n": used}
            )
        subtree = _subtree(code)
        _record(
            study=code.study,
            actor=actor,
            action="code_delete",
            code=code,
            before={"subtree": subtree},
        )
        Code.objects.filter(pk__in=ids).update(example_segment=None)
        # Delete leaves first: parent links are PROTECT.
        for row in reversed(subtree):
            Code.objects.filter(uuid=row["uuid"]).delete()
        _renumber(code.study, code.parent_id, _siblings(code.study, code.parent_id))


def _span_state(item: Segment | ConsensusSegment, **extra: Any) -> dict[str, Any]:
    """A merged-away span as the merge's event keeps it, so that undo can restore it."""
    return {
        "intervention": item.intervention_id,
        "start": item.start,
        "end": item.end,
        "quote": item.quote,
        "memo": item.memo,
        **extra,
    }


def code_merge(*, source: Code, target: Code, actor: User) -> Code:
    """Fold `source` into `target`: its segments and subcodes move there, then it goes."""
    if source.pk == target.pk:
        raise CodebookError(_("A code cannot be merged into itself."))
    if source.study_id != target.study_id:
        raise CodebookError(_("Codes of different studies cannot be merged."))
    _require(source.study, actor, "can_edit_codebook")
    with transaction.atomic():
        source = (
            Code.objects.select_for_update(of=("self",))
            .select_related("parent", "study")
            .get(pk=source.pk)
        )
        target = Code.objects.select_for_update().get(pk=target.pk)
        if target.pk in subtree_code_ids(source, codes_by_parent(source.study)):
            raise CodebookError(
                _("“%(source)s” cannot be merged into its own subcode “%(target)s”.")
                % {"source": source.name, "target": target.name}
            )
        study = source.study
        moved, duplicates = [], []
        target_spans = set(
            Segment.objects.filter(code=target).values_list(
                "intervention_id", "coder_id", "start", "end"
            )
        )
        for segment in Segment.objects.filter(code=source):
            key = (segment.intervention_id, segment.coder_id, segment.start, segment.end)
            if key in target_spans:
                duplicates.append(segment)
            else:
                target_spans.add(key)
                moved.append(segment)
        children = _siblings(study, source.pk)
        for child in children:
            _check_sibling_name(study, target, child.name, exclude=None)
        before: dict[str, Any] = {
            "source": _subtree(source)[0],
            "children": [str(c.uuid) for c in children],
            "segments": [str(s.uuid) for s in moved],
            "duplicates": [_span_state(s, uuid=str(s.uuid), coder=s.coder_id) for s in duplicates],
        }
        Segment.objects.filter(pk__in=[s.pk for s in moved]).update(code=target)
        # The consensus layer follows the merge too; a span it holds under both codes stays once.
        consensus_kept: set[tuple[int, int, int]] = set(
            ConsensusSegment.objects.filter(code=target).values_list(
                "intervention_id", "start", "end"
            )
        )
        consensus_moved: list[ConsensusSegment] = []
        consensus_dropped: list[ConsensusSegment] = []
        for item in ConsensusSegment.objects.filter(code=source):
            span = (item.intervention_id, item.start, item.end)
            (consensus_dropped if span in consensus_kept else consensus_moved).append(item)
            consensus_kept.add(span)
        before["consensus"] = [item.pk for item in consensus_moved]
        before["consensus_dropped"] = [
            _span_state(item, decision=item.decision_id, created_by=item.created_by_id)
            for item in consensus_dropped
        ]
        ConsensusSegment.objects.filter(pk__in=[c.pk for c in consensus_moved]).update(code=target)
        ConsensusSegment.objects.filter(pk__in=[c.pk for c in consensus_dropped]).delete()
        # A coder who gave both codes to one span keeps one segment, with both memos.
        for duplicate in duplicates:
            if duplicate.memo:
                kept = Segment.objects.get(
                    code=target,
                    intervention_id=duplicate.intervention_id,
                    coder_id=duplicate.coder_id,
                    start=duplicate.start,
                    end=duplicate.end,
                )
                kept.memo = "\n\n".join(m for m in (kept.memo, duplicate.memo) if m)
                kept.save(update_fields=["memo"])
            duplicate.delete()
        offset = Code.objects.filter(study=study, parent=target).count()
        for index, child in enumerate(children):
            Code.objects.filter(pk=child.pk).update(parent=target, position=offset + index)
        Code.objects.filter(example_segment__in=[s.pk for s in duplicates]).update(
            example_segment=None
        )
        _record(
            study=study,
            actor=actor,
            action="code_merge",
            code=target,
            before=before,
            after={"target": str(target.uuid), "source_name": source.name},
        )
        parent_id = source.parent_id
        source.delete()
        _renumber(study, parent_id, _siblings(study, parent_id))
        target.revision += 1
        target.save(update_fields=["revision"])
    return target


UNDOABLE = {"code_create", "code_update", "code_move", "code_delete", "code_merge"}


def codebook_undo(*, study: Study, actor: User) -> CodingEvent:
    """Undo the study's last codebook change that has not been undone."""
    _require(study, actor, "can_edit_codebook")
    with transaction.atomic():
        event = (
            CodingEvent.objects.select_for_update()
            .filter(study=study, action__in=UNDOABLE, undone_by__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if event is None:
            raise CodebookError(_("There is no change to undo."))
        _undo(study, event)
        undo = _record(
            study=study,
            actor=actor,
            action="undo",
            before={"event": event.pk},
            after={"undid": event.action, "code": event.code_name},
        )
        undo.code_uuid, undo.code_name = event.code_uuid, event.code_name
        undo.save(update_fields=["code_uuid", "code_name"])
        event.undone_by = undo
        event.save(update_fields=["undone_by"])
    return event


def _code_by_uuid(study: Study, value: str | None) -> Code | None:
    if value is None:
        return None
    code = Code.objects.filter(study=study, uuid=value).first()
    if code is None:
        raise CodebookError(_("The change cannot be undone: a code it needs is gone."))
    return code


def _undo(study: Study, event: CodingEvent) -> None:
    if event.action == "code_create":
        code = _code_by_uuid(study, str(event.code_uuid))
        assert code is not None
        if code.children.exists() or code.segments.exists():
            raise CodebookError(
                _("“%(name)s” has subcodes or segments now; delete or merge it instead.")
                % {"name": code.name}
            )
        parent_id = code.parent_id
        code.delete()
        _renumber(study, parent_id, _siblings(study, parent_id))
    elif event.action == "code_update":
        code = _code_by_uuid(study, str(event.code_uuid))
        assert code is not None
        for key, value in event.before.items():
            setattr(code, key, value)
        code.revision += 1
        code.save()
    elif event.action == "code_move":
        code = _code_by_uuid(study, str(event.code_uuid))
        assert code is not None
        parent = _code_by_uuid(study, event.before["parent"])
        code_move(
            code=code, actor=None, parent=parent, position=event.before["position"], record=False
        )
    elif event.action == "code_delete":
        _restore_rows(study, event.before["subtree"])
    elif event.action == "code_merge":
        source_row = event.before["source"]
        _restore_rows(study, [source_row])
        source = Code.objects.get(uuid=source_row["uuid"])
        Code.objects.filter(study=study, uuid__in=event.before["children"]).update(parent=source)
        _renumber(study, source.pk, _siblings(study, source.pk))
        Segment.objects.filter(uuid__in=event.before["segments"]).update(code=source)
        ConsensusSegment.objects.filter(pk__in=event.before.get("consensus", [])).update(
            code=source
        )
        ConsensusSegment.objects.bulk_create(
            ConsensusSegment(
                decision_id=d["decision"],
                intervention_id=d["intervention"],
                code=source,
                start=d["start"],
                end=d["end"],
                quote=d["quote"],
                memo=d["memo"],
                created_by_id=d["created_by"],
            )
            for d in event.before.get("consensus_dropped", [])
        )
        Segment.objects.bulk_create(
            Segment(
                uuid=d["uuid"],
                intervention_id=d["intervention"],
                coder_id=d["coder"],
                start=d["start"],
                end=d["end"],
                quote=d["quote"],
                memo=d["memo"],
                code=source,
            )
            for d in event.before["duplicates"]
        )


def _restore_rows(study: Study, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        parent = _code_by_uuid(study, row["parent"])
        siblings = _siblings(study, parent.pk if parent else None)
        code = Code.objects.create(
            study=study,
            parent=parent,
            uuid=row["uuid"],
            position=row["position"],
            **{name: row[name] for name in CODE_FIELDS},
            **{name: row[name] for name in REFI_FIELDS if name in row},
        )
        siblings.insert(min(row["position"], len(siblings)), code)
        _renumber(study, parent.pk if parent else None, siblings)


def coding_started_set(*, study: Study, actor: User, started: bool) -> Codebook:
    _require(study, actor, "can_edit_codebook")
    with transaction.atomic():
        codebook = Codebook.for_study(study)
        codebook.coding_started_at = timezone.now() if started else None
        codebook.coding_started_by = actor if started else None
        codebook.save(update_fields=["coding_started_at", "coding_started_by"])
        _record(study=study, actor=actor, action="coding_started" if started else "coding_paused")
    return codebook


# Versions -------------------------------------------------------------------------------


def version_create(*, study: Study, actor: User, label: str) -> CodebookVersion:
    """Save the current codebook as a named version."""
    _require(study, actor, "can_edit_codebook")
    return _version_create(study=study, actor=actor, label=label)


def _version_create(*, study: Study, actor: User, label: str) -> CodebookVersion:
    label = " ".join(label.split())
    if not label:
        raise CodebookError(_("A version needs a label, such as “v2 na overleg begeleider”."))
    with transaction.atomic():
        Codebook.objects.select_for_update().filter(pk=Codebook.for_study(study).pk).first()
        number = (
            CodebookVersion.objects.filter(study=study).aggregate(m=Max("number"))["m"] or 0
        ) + 1
        version = CodebookVersion.objects.create(
            study=study,
            number=number,
            label=label[:200],
            snapshot=tree_snapshot(codebook_tree(study)),
            created_by=actor,
        )
        _record(
            study=study,
            actor=actor,
            action="version_create",
            after={"number": number, "label": version.label},
        )
    return version


def _approve(version: CodebookVersion, actor: User) -> CodebookVersion:
    version.approved_by = actor
    version.approved_at = timezone.now()
    version.save(update_fields=["approved_by", "approved_at"])
    _record(
        study=version.study,
        actor=actor,
        action="version_approve",
        after={"number": version.number, "label": version.label},
    )
    return version


def version_approve(*, version: CodebookVersion, actor: User) -> CodebookVersion:
    """Approve a saved version: the supervisor only. Refused when it is approved already."""
    _require(version.study, actor, "can_approve")
    with transaction.atomic():
        locked = CodebookVersion.objects.select_for_update().get(pk=version.pk)
        if locked.approved_at is not None:
            raise CodebookError(_("Version %(n)s is approved already.") % {"n": locked.number})
        _approve(locked, actor)
    version.approved_by, version.approved_at = locked.approved_by, locked.approved_at
    return locked


def latest_approved(study: Study) -> CodebookVersion | None:
    """The most recently approved version of the study's codebook."""
    return (
        CodebookVersion.objects.filter(study=study, approved_at__isnull=False)
        .select_related("approved_by")
        .order_by("-approved_at", "-number")
        .first()
    )


def codebook_approve(*, study: Study, actor: User, label: str = "") -> CodebookVersion:
    """Save the current codebook as a new version and approve it, both or neither: the
    supervisor only. Refused when nothing changed since the latest approved version."""
    _require(study, actor, "can_approve")
    if not label:
        label = _("Approved %(date)s") % {"date": date_format(timezone.localdate(), "j F Y")}
    with transaction.atomic():
        Codebook.objects.select_for_update().filter(pk=Codebook.for_study(study).pk).first()
        approved = latest_approved(study)
        current = tree_snapshot(codebook_tree(study))
        if approved is not None and snapshot_diff(approved.snapshot, current).is_empty:
            raise CodebookError(
                _("Nothing changed since version %(n)s was approved.") % {"n": approved.number}
            )
        version = _version_create(study=study, actor=actor, label=label)
        _approve(version, actor)
    return version


# The reveal -------------------------------------------------------------------------------


def codebook_reveal(*, study: Study, actor: User) -> Codebook:
    """Show every coder's layer to everyone in the study from now on: the owner only. Once
    revealed stays revealed; revealing again changes nothing."""
    _require(study, actor, "can_reveal")
    with transaction.atomic():
        Codebook.for_study(study)
        codebook = Codebook.objects.select_for_update().get(study=study)
        if codebook.is_revealed:
            return codebook
        codebook.revealed_at = timezone.now()
        codebook.save(update_fields=["revealed_at"])
        _record(
            study=study,
            actor=actor,
            action="reveal",
            after={"revealed_at": codebook.revealed_at.isoformat()},
        )
    return codebook


def codebook_reveal_policy_set(*, study: Study, actor: User, policy: str) -> Codebook:
    """`always`: the owner and supervisor see the coders' layers all along; `after_reveal`:
    only once the owner reveals them. The owner only."""
    _require(study, actor, "can_reveal")
    if policy not in Codebook.Reveal.values:
        raise CodebookError(
            _("Choose when coders' segments are shown: %(choices)s.")
            % {"choices": ", ".join(Codebook.Reveal.values)}
        )
    with transaction.atomic():
        Codebook.for_study(study)
        codebook = Codebook.objects.select_for_update().get(study=study)
        if codebook.reveal == policy:
            return codebook
        before = {"reveal": codebook.reveal}
        codebook.reveal = policy
        codebook.save(update_fields=["reveal"])
        _record(
            study=study,
            actor=actor,
            action="reveal_policy",
            before=before,
            after={"reveal": policy},
        )
    return codebook


# Import, copy and templates --------------------------------------------------------------


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    # Codes matched by GUID whose name or place in the tree the file changed.
    renamed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    # file path -> the code it became, for importers that attach more to the codes.
    codes: dict[tuple[str, ...], Code] = field(default_factory=dict)

    def summary(self) -> str:
        return _("%(added)s added, %(changed)s changed, %(unchanged)s unchanged") % {
            "added": len(self.added),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
        }


def _guid_index(codes: Iterable[Code]) -> dict[str, Code]:
    """`codes` by their canonical GUID: the one a file gave them, and their UUID."""
    index: dict[str, Code] = {}
    for code in codes:
        index[str(code.uuid)] = code
        canonical = normalize_guid(code.guid) if code.guid else None
        if canonical:
            index[canonical] = code
    return index


def codebook_import(
    *,
    study: Study,
    actor: User | None,
    nodes: list[CodeNode],
    keep_guids: bool = True,
    template: str = "",
) -> ImportReport:
    """Fill an empty codebook, or merge into an existing one; all or nothing.

    A file's code is matched to an existing code by GUID first (so a code renamed or moved in
    another program arrives as a rename or a move), then by its path of names. A new code
    keeps the file's GUID as written, unless `keep_guids` is off (templates, copies).
    """
    from coding.codebook.tree import path_string, validate_tree

    _require(study, actor, "can_edit_codebook")
    validate_tree(nodes)
    report = ImportReport()
    with transaction.atomic():
        codebook = Codebook.objects.select_for_update().get(pk=Codebook.for_study(study).pk)
        existing = {
            tuple(fold_header(p) or p.lower() for p in path): pk
            for pk, path in code_paths(study).items()
        }
        # One query for every code of the study, by GUID and by id, not one per code.
        loaded = {
            code.pk: code for code in Code.objects.filter(study=study).select_related("parent")
        }
        by_guid = _guid_index(loaded.values()) if keep_guids else {}
        cache = _CreateCache(
            study=study,
            codebook=codebook,
            taken_uuids=_taken_uuids(
                [node.guid for _path, node in walk(nodes) if node.guid and keep_guids]
            ),
            guids={code.guid.lower() for code in loaded.values() if code.guid},
        )
        # The names as they were, to tell which codes a merge renamed.
        code_names = {pk: code.name for pk, code in loaded.items()}
        matched: set[int] = set()
        created: dict[tuple[str, ...], Code] = {}
        for path, node in walk(nodes):
            key = tuple(fold_header(p) or p.lower() for p in path)
            parent_key = key[:-1]
            parent = None
            if parent_key:
                parent = created.get(parent_key) or loaded[existing[parent_key]]
            canonical = normalize_guid(node.guid) if node.guid else None
            code = by_guid.get(canonical) if canonical else None
            if code is None and key in existing and existing[key] not in matched:
                code = loaded[existing[key]]
            if code is not None and code.pk not in matched:
                matched.add(code.pk)
                old_parent = code.parent_id
                created[key] = _merge_node(
                    code=code, node=node, parent=parent, actor=actor, path=path, report=report
                )
                if created[key].parent_id != old_parent or created[key].name != code_names[code.pk]:
                    cache.forget(old_parent, created[key].parent_id)
                if created[key].guid:
                    cache.guids.add(created[key].guid.lower())
                report.codes[path] = created[key]
                continue
            code = _code_create_cached(
                cache=cache,
                actor=actor,
                name=node.name,
                parent=parent,
                definition=node.definition,
                inclusion=node.inclusion,
                exclusion=node.exclusion,
                example=node.example,
                color=node.color or "",
                origin=node.origin or None,
                guid=node.guid if keep_guids else "",
                is_codable=node.is_codable,
            )
            matched.add(code.pk)
            created[key] = code
            report.codes[path] = code
            report.added.append(path_string(path))
        CodingEvent.objects.bulk_create(cache.events, batch_size=500)
        _record(
            study=study,
            actor=actor,
            action="codebook_import",
            after={
                "added": len(report.added),
                "changed": len(report.changed),
                "renamed": len(report.renamed),
                "moved": len(report.moved),
                **({"template": template} if template else {}),
            },
        )
    return report


def _merge_node(
    *,
    code: Code,
    node: CodeNode,
    parent: Code | None,
    actor: User | None,
    path: tuple[str, ...],
    report: ImportReport,
) -> Code:
    """Bring an existing code in line with the file's: its name, place and filled fields."""
    from coding.codebook.tree import path_string

    where = path_string(path)
    if (parent.pk if parent else None) != code.parent_id:
        old_place = code.parent.name if code.parent else _("the top level")
        code = code_move(
            code=code,
            actor=actor,
            parent=parent,
            position=Code.objects.filter(study=code.study, parent=parent).count(),
        )
        report.moved.append(
            _("‘%(code)s’ moved from under %(old)s") % {"code": where, "old": old_place}
        )
    changes: dict[str, Any] = {
        name: getattr(node, name)
        # A file's code has no shortcut; empty fields in the file leave ours as they are.
        for name in CODE_FIELDS[1:-1]
        if getattr(node, name) and getattr(node, name) != getattr(code, name)
    }
    if node.name != code.name:
        changes["name"] = node.name
        report.renamed.append(
            _("‘%(old)s’ renamed ‘%(new)s’") % {"old": code.name, "new": node.name}
        )
    if node.is_codable != code.is_codable:
        changes["is_codable"] = node.is_codable
    if changes:
        code = _code_update(code=code, actor=actor, revision=None, **changes)
        report.changed.append(where)
    else:
        report.unchanged += 1
    if node.guid and not code.guid and normalize_guid(node.guid) != str(code.uuid):
        Code.objects.filter(pk=code.pk).update(guid=node.guid)
        code.guid = node.guid
    return code


def _taken_uuids(guids: Iterable[str]) -> set[str]:
    """Which of a file's GUIDs are some code's UUID on this server already (any study)."""
    canonical = {c for c in (normalize_guid(g) for g in guids) if c}
    return {
        str(u) for u in Code.objects.filter(uuid__in=list(canonical)).values_list("uuid", flat=True)
    }


def template_nodes(template: str) -> list[CodeNode]:
    path = TEMPLATE_DIR / f"{template}.json"
    if not path.exists():
        raise CodebookError(_("Unknown template “%(template)s”.") % {"template": template})
    data = json.loads(path.read_text(encoding="utf-8"))
    return nodes_from_snapshot(data["codes"])


def codebook_apply_template(*, study: Study, actor: User, template: str) -> ImportReport:
    """Fill the codebook from a template. Its codes come before any coding, so they are
    deductive here whatever the study that wrote the template found inductively."""
    if template == "empty":
        return ImportReport()
    nodes = template_nodes(template)
    for _path, node in walk(nodes):
        node.origin = Code.Origin.DEDUCTIVE
    return codebook_import(
        study=study, actor=actor, nodes=nodes, keep_guids=False, template=template
    )


def codebook_copy(*, source: Study, target: Study, actor: User) -> ImportReport:
    if source.pk == target.pk:
        raise CodebookError(_("Choose another study to copy from."))
    _require(source, actor, "can_read")
    return codebook_import(study=target, actor=actor, nodes=codebook_tree(source), keep_guids=False)
