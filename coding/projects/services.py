"""REFI-QDA projects in and out of a study: the one import that writes, the export, the jobs.

`project_import` stores everything a .qdpx file brings, all or nothing: the codebook (merged
by GUID, then by path: `codebook_import`), the texts, the members who coded, their segments at
the file's offsets, memos, properties and notes. It returns a report of what it stored and of
every coded selection it refused, with the reason; `reading.py` decides those, so the preview
shows the same. `project_export` writes the study back as a .qdpx (`writing.py`).

Where REFI notes go:
- a note on a selection or a coding is the memo of the segment(s) it made (several joined by
  a blank line);
- a note on a text source becomes a comment thread on the intervention, by the note's author
  (the memo model of the app for a whole text); every member reads it, as any comment;
- notes on codes or the project, and notes on selections without a code, are dropped, and
  the report says how many.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coding import sight
from coding.codebook.services import (
    CodebookError,
    code_guid,
    code_paths,
    codebook_import,
    codebook_tree,
)
from coding.codebook.tree import CodebookFormatError, name_key, path_string
from coding.models import (
    COMMENT_MAX_LENGTH,
    Code,
    CodingEvent,
    Comment,
    CommentThread,
    ConsensusDecision,
    ConsensusSegment,
    ExportJob,
    ProjectImportJob,
    Segment,
)
from coding.projects.reading import (
    CONSENSUS_USER_GUID,
    UNKNOWN_USER,
    Project,
    canonical,
    read_project,
)
from coding.projects.writing import (
    ExportNote,
    ExportProject,
    ExportSegment,
    ExportSource,
    ExportUser,
    build_qdpx,
    user_guid,
)
from coding.segments import MEMO_MAX_LENGTH
from interventions.access import access_for, allows
from interventions.models import (
    AttributeDefinition,
    AttributeValue,
    Intervention,
    Membership,
    Role,
    Section,
    Study,
)
from interventions.services import ServiceError, attribute_define, clean_attribute_value
from veerkracht.jobs import job_enqueue
from veerkracht.lib.filenames import display_name

CONSENSUS = "consensus"
CONSENSUS_NAME = "Consensus"
_TITLE_MAX = 300


class ProjectError(ValueError):
    """A refused import or export; str(error) is the message for the user."""


def _require(study: Study, actor: User | None) -> None:
    if not allows(study, actor, "can_exchange_projects"):
        raise ProjectError(_("Only the study's owner imports or exports a REFI-QDA project."))


# Users ---------------------------------------------------------------------------------------


@dataclass
class UserPlan:
    """Whose layer a REFI user's codings become."""

    refi_guid: str
    refi_name: str
    # A username, or CONSENSUS for the consensus layer.
    target: str
    # "member" (codes in the study), "add" (an account made a coder), "create" (a new
    # account), "consensus" (the consensus layer)
    action: str
    segments: int = 0


def _free_username(base: str, taken: set[str]) -> str:
    base = (slugify(base)[:140] or "coder").replace("-", "_")
    name, number = base, 2
    while name.casefold() in taken:
        name = f"{base}_{number}"
        number += 1
    return name


def plan_users(
    *, study: Study, project: Project, user_map: dict[str, str], allow_accounts: bool
) -> list[UserPlan]:
    """Map each REFI user with codings to a study member.

    `user_map` maps a REFI user (its name, id or GUID) to a username. Without a mapping: the
    consensus user of our own exports goes to the consensus layer, a member of the study
    whose username is the REFI name takes the codings, and otherwise a new coder account is
    made, named after the REFI user. `allow_accounts` (the command line) lets the map name an
    account outside the study, which then joins as a coder; the web page maps to members only.
    """
    UserModel = get_user_model()
    wanted = {key.strip().casefold(): value.strip() for key, value in user_map.items()}
    members = {
        m.user.username.casefold(): m
        for m in Membership.objects.filter(study=study).select_related("user")
    }
    taken = {name.casefold() for name in UserModel.objects.values_list("username", flat=True)}
    counts = Counter(segment.user for source in project.sources for segment in source.segments)
    plans: list[UserPlan] = []
    used: set[str] = set()
    for guid in project.users_with_segments():
        user = project.users.get(guid)
        name = user.name if user else (_("unknown") if guid == UNKNOWN_USER else guid)
        keys = [guid.casefold(), name.casefold()]
        if user is not None:
            keys.append(user.guid.casefold())
        target = next((wanted[key] for key in keys if key in wanted), None)
        plan = UserPlan(refi_guid=guid, refi_name=name, target="", action="", segments=counts[guid])
        if target is None and guid == CONSENSUS_USER_GUID:
            plan.target, plan.action = CONSENSUS, "consensus"
        elif target is not None:
            if target.casefold() == CONSENSUS:
                plan.target, plan.action = CONSENSUS, "consensus"
            elif target.casefold() in members:
                membership = members[target.casefold()]
                if membership.role == Role.SUPERVISOR:
                    raise ProjectError(
                        _(
                            "%(user)s supervises this study and does not code; map “%(refi)s” "
                            "to a coder."
                        )
                        % {"user": membership.user.username, "refi": name}
                    )
                plan.target, plan.action = membership.user.username, "member"
            elif allow_accounts and UserModel.objects.filter(username=target).exists():
                plan.target, plan.action = target, "add"
            else:
                raise ProjectError(
                    _("“%(refi)s” is mapped to %(user)s, who is not a member of this study.")
                    % {"refi": name, "user": target}
                )
        elif name.casefold() in members and members[name.casefold()].role != Role.SUPERVISOR:
            plan.target, plan.action = members[name.casefold()].user.username, "member"
        else:
            plan.target = _free_username(name, taken | used)
            plan.action = "create"
        used.add(plan.target.casefold())
        plans.append(plan)
    return plans


# Preview -------------------------------------------------------------------------------------


@dataclass
class Preview:
    project: Project
    users: list[UserPlan]
    new_codes: int
    matched_codes: int
    new_sources: int
    matched_sources: int


def project_preview(
    *, study: Study, data: bytes, user_map: dict[str, str] | None = None
) -> Preview:
    """What importing `data` would do, without writing anything."""
    project = read_project(data)
    users = plan_users(study=study, project=project, user_map=user_map or {}, allow_accounts=False)
    codes = list(Code.objects.filter(study=study))
    existing = {canonical(code_guid(code)) for code in codes} | {str(c.uuid) for c in codes}
    paths = {tuple(name_key(p) for p in path) for path in code_paths(study).values()}
    matched_codes = sum(
        1
        for guid, path in project.code_paths.items()
        if guid in existing or tuple(name_key(p) for p in path) in paths
    )
    sources = {
        canonical(guid)
        for guid in Intervention.objects.filter(study=study)
        .exclude(guid="")
        .values_list("guid", flat=True)
    } | {str(u) for u in Intervention.objects.filter(study=study).values_list("uuid", flat=True)}
    matched_sources = sum(1 for s in project.sources if canonical(s.guid) in sources)
    return Preview(
        project=project,
        users=users,
        new_codes=len(project.code_paths) - matched_codes,
        matched_codes=matched_codes,
        new_sources=len(project.sources) - matched_sources,
        matched_sources=matched_sources,
    )


# Import --------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import stored, and what it dropped or refused with the reasons."""

    sources_added: list[str] = field(default_factory=list)
    sources_matched: list[str] = field(default_factory=list)
    sources_skipped: list[str] = field(default_factory=list)
    codes_added: int = 0
    codes_changed: list[str] = field(default_factory=list)
    codes_renamed: list[str] = field(default_factory=list)
    codes_moved: list[str] = field(default_factory=list)
    codes_unchanged: int = 0
    users: list[dict[str, Any]] = field(default_factory=list)
    segments: dict[str, int] = field(default_factory=dict)
    consensus_segments: int = 0
    coded_selections: int = 0
    memos: int = 0
    notes_as_comments: int = 0
    properties: int = 0
    refused: list[dict[str, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return sum(self.segments.values()) + self.consensus_segments

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["imported"] = self.imported
        return data

    def lines(self) -> list[str]:
        """The report as the command prints it."""
        out = [
            _("Texts: %(added)d added, %(matched)d already in the study, %(skipped)d skipped.")
            % {
                "added": len(self.sources_added),
                "matched": len(self.sources_matched),
                "skipped": len(self.sources_skipped),
            },
            _("Codes: %(added)d added, %(changed)d changed, %(unchanged)d unchanged.")
            % {
                "added": self.codes_added,
                "changed": len(self.codes_changed),
                "unchanged": self.codes_unchanged,
            },
            _(
                "Coded selections in the file: %(total)d; segments imported: %(imported)d; "
                "refused: %(refused)d."
            )
            % {
                "total": self.coded_selections,
                "imported": self.imported,
                "refused": len(self.refused),
            },
        ]
        for plan in self.users:
            out.append(
                ngettext(
                    "User “%(refi)s” → %(target)s (%(action)s): %(count)d segment.",
                    "User “%(refi)s” → %(target)s (%(action)s): %(count)d segments.",
                    plan["segments"],
                )
                % {
                    "refi": plan["refi_name"],
                    "target": plan["target"],
                    "action": plan["action"],
                    "count": plan["segments"],
                }
            )
        if self.consensus_segments:
            out.append(
                ngettext(
                    "Consensus layer: %(count)d segment.",
                    "Consensus layer: %(count)d segments.",
                    self.consensus_segments,
                )
                % {"count": self.consensus_segments}
            )
        out.append(
            _(
                "Memos: %(memos)d; notes on texts as comments: %(notes)d; property values: "
                "%(props)d."
            )
            % {"memos": self.memos, "notes": self.notes_as_comments, "props": self.properties}
        )
        out += [_("Renamed: %(what)s") % {"what": line} for line in self.codes_renamed]
        out += [_("Moved: %(what)s") % {"what": line} for line in self.codes_moved]
        out += [_("Skipped text: %(what)s") % {"what": line} for line in self.sources_skipped]
        out += [_("Changed: %(what)s") % {"what": line} for line in self.changed]
        out += [_("Dropped: %(what)s") % {"what": line} for line in self.dropped]
        out += [
            _("Refused: “%(source)s” selection %(guid)s: %(reason)s.") % refusal
            for refusal in self.refused
        ]
        return out


def _refusal(source: str, guid: str, reason: str) -> dict[str, str]:
    return {"source": source, "guid": guid, "reason": reason}


def _unique_title(title: str, taken: set[str]) -> str:
    base = " ".join(title.split())[: _TITLE_MAX - 8] or _("Untitled text")
    name, number = base, 2
    while name.casefold() in taken:
        name = f"{base} ({number})"
        number += 1
    return name


def project_import(
    *,
    study: Study,
    actor: User | None,
    data: bytes,
    filename: str,
    user_map: dict[str, str] | None = None,
    allow_accounts: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a .qdpx file into the study: everything or nothing.

    Raises ProjectFormatError (a broken file) or ProjectError (a refused import) with a
    message for the user; nothing is stored then. `progress(percent)` is called between the
    steps (outside the transaction, so a page polling the job sees it).
    """
    _require(study, actor)
    project = read_project(data)
    if progress:
        progress(40)
    plans = plan_users(
        study=study, project=project, user_map=user_map or {}, allow_accounts=allow_accounts
    )
    report = ImportReport(
        sources_skipped=list(project.skipped_sources),
        coded_selections=project.coded_selections,
        dropped=list(project.dropped),
        changed=list(project.adjusted),
        refused=[_refusal(r.source, r.selection_guid, r.reason) for r in project.refusals],
    )
    try:
        with transaction.atomic():
            _store(
                study=study,
                actor=actor,
                project=project,
                plans=plans,
                report=report,
                filename=filename,
            )
    except (CodebookError, CodebookFormatError, ServiceError) as error:
        raise ProjectError(_("Nothing was imported: %(reason)s") % {"reason": error}) from error
    assert report.imported + len(report.refused) == report.coded_selections
    return report


def _store(
    *,
    study: Study,
    actor: User | None,
    project: Project,
    plans: list[UserPlan],
    report: ImportReport,
    filename: str,
) -> None:
    UserModel = get_user_model()
    # Users: the accounts and memberships the codings need.
    coders: dict[str, User | None] = {}
    for plan in plans:
        if plan.action == "consensus":
            coders[plan.refi_guid] = None
            continue
        if plan.action == "create":
            user = UserModel.objects.create_user(username=plan.target)
            user.set_unusable_password()
            user.save(update_fields=["password"])
            Membership.objects.create(study=study, user=user, role=Role.CODER)
        else:
            user = UserModel.objects.get(username=plan.target)
            if plan.action == "add":
                Membership.objects.get_or_create(
                    study=study, user=user, defaults={"role": Role.CODER}
                )
        coders[plan.refi_guid] = user
        report.users.append(asdict(plan))

    # The codebook, merged by GUID then by path.
    codebook = codebook_import(study=study, actor=actor, nodes=project.codes, keep_guids=True)
    codes = {guid: codebook.codes[path] for guid, path in project.code_paths.items()}
    report.codes_added = len(codebook.added)
    report.codes_changed = codebook.changed
    report.codes_renamed = codebook.renamed
    report.codes_moved = codebook.moved
    report.codes_unchanged = codebook.unchanged

    # Texts: matched by GUID (the same text again), else added.
    existing = {
        canonical(i.guid or str(i.uuid)): i for i in Intervention.objects.filter(study=study)
    }
    titles = {
        t.casefold()
        for t in Intervention.objects.filter(study=study).values_list("title", flat=True)
    }
    interventions: dict[str, Intervention] = {}
    new: list[Intervention] = []
    origin = project.origin or "REFI-QDA"
    for source in project.sources:
        key = canonical(source.guid)
        found = existing.get(key)
        if found is not None:
            if found.text != source.text:
                raise ProjectError(
                    _(
                        "Nothing was imported: the text “%(name)s” is in the study already "
                        "(GUID %(guid)s) with a different text; segments cannot point into both."
                    )
                    % {"name": found.title, "guid": source.guid}
                )
            interventions[key] = found
            report.sources_matched.append(found.title)
            continue
        title = _unique_title(source.name, titles)
        titles.add(title.casefold())
        if title != " ".join(source.name.split()):
            report.changed.append(
                _("The text “%(name)s” was named “%(title)s” (the study has that title already).")
                % {"name": source.name, "title": title}
            )
        intervention = Intervention(
            study=study,
            title=title,
            source=origin[:200],
            text=source.text,
            source_filename=display_name(filename)[:255],
            guid=source.guid,
        )
        new.append(intervention)
        interventions[key] = intervention
        report.sources_added.append(title)
    Intervention.objects.bulk_create(new)

    _store_properties(study=study, project=project, interventions=interventions, report=report)
    _store_segments(
        study=study,
        actor=actor,
        project=project,
        coders=coders,
        codes=codes,
        interventions=interventions,
        report=report,
    )
    _store_notes(
        study=study,
        actor=actor,
        project=project,
        coders=coders,
        interventions=interventions,
        report=report,
    )
    CodingEvent.objects.create(
        study=study,
        actor=actor,
        action="project_import",
        after={
            "file": display_name(filename),
            "texts": len(report.sources_added),
            "codes": report.codes_added,
            "segments": report.imported,
            "refused": len(report.refused),
        },
    )


def _store_properties(
    *, study: Study, project: Project, interventions: dict[str, Intervention], report: ImportReport
) -> None:
    definitions = {d.name.casefold(): d for d in AttributeDefinition.objects.filter(study=study)}
    values: list[AttributeValue] = []
    for source in project.sources:
        intervention = interventions[canonical(source.guid)]
        for name, raw in source.properties.items():
            definition = definitions.get(name.casefold())
            if definition is None:
                try:
                    definition = attribute_define(study=study, name=name)
                except ServiceError as error:
                    report.dropped.append(
                        _("Property “%(name)s”: %(reason)s") % {"name": name, "reason": error}
                    )
                    definitions[name.casefold()] = None  # type: ignore[assignment]
                    continue
                definitions[name.casefold()] = definition
            try:
                value = clean_attribute_value(definition, raw)
            except ServiceError as error:
                report.dropped.append(str(error))
                continue
            if value:
                values.append(
                    AttributeValue(intervention=intervention, definition=definition, value=value)
                )
    for row in values:
        AttributeValue.objects.update_or_create(
            intervention=row.intervention, definition=row.definition, defaults={"value": row.value}
        )
    report.properties = len(values)


def _segment_state(intervention: Intervention, coder: str, path: str, s: Any) -> dict[str, Any]:
    return {
        "intervention": str(intervention.uuid),
        "coder": coder,
        "code": path,
        "start": s.start,
        "end": s.end,
        "quote": s.quote,
        "memo": s.memo,
    }


def _store_segments(
    *,
    study: Study,
    actor: User | None,
    project: Project,
    coders: dict[str, User | None],
    codes: dict[str, Code],
    interventions: dict[str, Intervention],
    report: ImportReport,
) -> None:
    ids = [i.pk for i in interventions.values()]
    given = set(
        Segment.objects.filter(intervention_id__in=ids).values_list(
            "intervention_id", "coder_id", "code_id", "start", "end"
        )
    )
    agreed = set(
        ConsensusSegment.objects.filter(intervention_id__in=ids).values_list(
            "intervention_id", "code_id", "start", "end"
        )
    )
    excluded: dict[int, list[Section]] = defaultdict(list)
    for section in Section.objects.filter(intervention_id__in=ids, excluded=True):
        excluded[section.intervention_id].append(section)
    paths = {guid: path_string(project.code_paths[guid]) for guid in codes}
    segments: list[Segment] = []
    states: list[dict[str, Any]] = []
    consensus: list[tuple[Intervention, Code, Any]] = []
    counts: Counter[str] = Counter()
    for source in project.sources:
        intervention = interventions[canonical(source.guid)]
        for planned in source.segments:
            code = codes[planned.code_guid]
            coder = coders[planned.user]

            def refuse(reason: str, source: Any = source, planned: Any = planned) -> None:
                report.refused.append(_refusal(source.name, planned.selection_guid, reason))

            clash = next(
                (
                    s
                    for s in excluded[intervention.pk]
                    if s.start < planned.end and planned.start < s.end
                ),
                None,
            )
            if clash is not None:
                refuse(
                    _("it lies in the section “%(heading)s”, which is not coded")
                    % {"heading": clash.heading}
                )
                continue
            memo = planned.memo
            if len(memo) > MEMO_MAX_LENGTH:
                memo = memo[:MEMO_MAX_LENGTH]
                report.changed.append(
                    _("The memo of selection %(guid)s was cut to %(max)d characters.")
                    % {"guid": planned.selection_guid, "max": MEMO_MAX_LENGTH}
                )
            if coder is None:
                key = (intervention.pk, code.pk, planned.start, planned.end)
                if key in agreed:
                    refuse(_("the consensus layer has this code on this span already"))
                    continue
                agreed.add(key)
                consensus.append((intervention, code, planned))
                continue
            key5 = (intervention.pk, coder.pk, code.pk, planned.start, planned.end)
            if key5 in given:
                refuse(
                    _("%(coder)s has given “%(code)s” to this span already")
                    % {"coder": coder.username, "code": code.name}
                )
                continue
            given.add(key5)
            segment = Segment(
                intervention=intervention,
                code=code,
                coder=coder,
                start=planned.start,
                end=planned.end,
                quote=planned.quote,
                memo=memo,
                guid=planned.selection_guid,
            )
            segments.append(segment)
            states.append(
                _segment_state(intervention, coder.username, paths[planned.code_guid], segment)
            )
            counts[coder.username] += 1
            if memo:
                report.memos += 1
    Segment.objects.bulk_create(segments, batch_size=1000)
    CodingEvent.objects.bulk_create(
        (
            CodingEvent(
                study=study,
                actor=actor,
                action="segment_create",
                code=segment.code,
                code_uuid=segment.code.uuid,
                code_name=segment.code.name,
                segment_uuid=segment.uuid,
                after=state,
            )
            for segment, state in zip(segments, states, strict=True)
        ),
        batch_size=1000,
    )
    report.segments = dict(counts)
    _store_consensus(actor=actor, consensus=consensus, report=report)


def _store_consensus(
    *, actor: User | None, consensus: list[tuple[Intervention, Code, Any]], report: ImportReport
) -> None:
    """The consensus layer of a project we exported: one decision per selection, so it reads
    as the team's decision "edited" at import, without the coders' items it came from."""
    decisions: dict[tuple[int, str], ConsensusDecision] = {}
    now = timezone.now()
    for intervention, _code, planned in consensus:
        key = (intervention.pk, planned.selection_guid)
        if key not in decisions:
            decisions[key] = ConsensusDecision(
                intervention=intervention,
                item_key=hashlib.sha256(f"refi:{planned.selection_guid}".encode()).hexdigest(),
                action=ConsensusDecision.Action.EDIT,
                decided_by=actor,
                decided_at=now,
                note=_("Imported from a REFI-QDA project."),
            )
    ConsensusDecision.objects.bulk_create(decisions.values())
    ConsensusSegment.objects.bulk_create(
        ConsensusSegment(
            decision=decisions[(intervention.pk, planned.selection_guid)],
            intervention=intervention,
            code=code,
            start=planned.start,
            end=planned.end,
            quote=planned.quote,
            memo=planned.memo[:MEMO_MAX_LENGTH],
            guid=planned.selection_guid,
            created_by=actor,
        )
        for intervention, code, planned in consensus
    )
    report.consensus_segments = len(consensus)
    report.memos += sum(1 for _i, _c, planned in consensus if planned.memo)


def _store_notes(
    *,
    study: Study,
    actor: User | None,
    project: Project,
    coders: dict[str, User | None],
    interventions: dict[str, Intervention],
    report: ImportReport,
) -> None:
    for source in project.sources:
        intervention = interventions[canonical(source.guid)]
        for note in source.notes:
            body = note.text.strip()
            if len(body) > COMMENT_MAX_LENGTH:
                body = body[:COMMENT_MAX_LENGTH]
                report.changed.append(
                    _("A note on “%(name)s” was cut to %(max)d characters.")
                    % {"name": source.name, "max": COMMENT_MAX_LENGTH}
                )
            author = coders.get(note.user) or actor
            thread = CommentThread.objects.create(
                study=study,
                target_kind=CommentThread.Target.INTERVENTION,
                target_uuid=intervention.uuid,
                created_by=author,
            )
            Comment.objects.create(thread=thread, author=author, body=body)
            report.notes_as_comments += 1


# Export --------------------------------------------------------------------------------------


def project_export(*, study: Study, actor: User | None, coders: list[str] | None = None) -> bytes:
    """The study as a .qdpx archive.

    `actor=None` is the command line: every layer. A user (the owner) gets the layers
    `coding.sight` shows them; the consensus layer when the layers are open to them.
    `coders` narrows to those usernames ("consensus" for the consensus layer).
    """
    _require(study, actor)
    if actor is None:
        allowed: set[int] | None = None
        with_consensus = True
    else:
        access = access_for(study, actor)
        allowed = sight.visible_ids(access)
        with_consensus = sight.layers_open(access)
    segments = Segment.objects.filter(intervention__study=study)
    if allowed is not None:
        segments = segments.filter(coder_id__in=allowed)
    if coders is not None:
        wanted = {name.strip().casefold() for name in coders if name.strip()}
        known = {
            u.casefold()
            for u in Membership.objects.filter(study=study).values_list("user__username", flat=True)
        }
        unknown = sorted(wanted - known - {CONSENSUS})
        if unknown:
            raise ProjectError(
                _("No member of this study is called %(names)s.") % {"names": ", ".join(unknown)}
            )
        segments = segments.filter(
            coder__username__in=[
                u
                for u in Membership.objects.filter(study=study).values_list(
                    "user__username", flat=True
                )
                if u.casefold() in wanted
            ]
        )
        with_consensus = with_consensus and CONSENSUS in wanted
    nodes = codebook_tree(study, drawn_colors=False)
    code_guids = {code.pk: code_guid(code) for code in Code.objects.filter(study=study)}
    users: dict[str, ExportUser] = {}
    by_intervention: dict[int, list[ExportSegment]] = defaultdict(list)
    rows = segments.order_by("intervention_id", "start", "end", "pk").values_list(
        "intervention_id",
        "uuid",
        "guid",
        "code_id",
        "coder__username",
        "start",
        "end",
        "quote",
        "memo",
    )
    for intervention_id, uuid, guid, code_id, username, start, end, quote, memo in rows:
        guid_user = user_guid(username)
        users.setdefault(username, ExportUser(guid_user, username))
        by_intervention[intervention_id].append(
            ExportSegment(
                guid or str(uuid), code_guids[code_id], guid_user, start, end, quote, memo
            )
        )
    if with_consensus:
        consensus_rows = (
            ConsensusSegment.objects.filter(intervention__study=study)
            .order_by("intervention_id", "start", "end", "pk")
            .values_list(
                "intervention_id", "uuid", "guid", "code_id", "start", "end", "quote", "memo"
            )
        )
        for intervention_id, uuid, guid, code_id, start, end, quote, memo in consensus_rows:
            users.setdefault(CONSENSUS, ExportUser(CONSENSUS_USER_GUID, CONSENSUS_NAME))
            by_intervention[intervention_id].append(
                ExportSegment(
                    guid or str(uuid),
                    code_guids[code_id],
                    CONSENSUS_USER_GUID,
                    start,
                    end,
                    quote,
                    memo,
                )
            )
    definitions = list(AttributeDefinition.objects.filter(study=study).order_by("position", "name"))
    properties: dict[int, dict[str, str]] = defaultdict(dict)
    for intervention_id, name, value in (
        AttributeValue.objects.filter(intervention__study=study)
        .order_by("definition__position", "definition__name")
        .values_list("intervention_id", "definition__name", "value")
    ):
        properties[intervention_id][name] = value
    notes: dict[str, list[ExportNote]] = defaultdict(list)
    for target, author, body in (
        Comment.objects.filter(
            thread__study=study, thread__target_kind=CommentThread.Target.INTERVENTION
        )
        .order_by("thread__created_at", "thread_id", "created_at", "pk")
        .values_list("thread__target_uuid", "author__username", "body")
    ):
        username = author or "unknown"
        users.setdefault(username, ExportUser(user_guid(username), username))
        notes[str(target)].append(ExportNote(user_guid(username), body))
    sources = [
        ExportSource(
            guid=intervention.guid or str(intervention.uuid),
            name=intervention.title,
            text=intervention.text,
            segments=by_intervention.get(intervention.pk, []),
            notes=notes.get(str(intervention.uuid), []),
            properties=properties.get(intervention.pk, {}),
        )
        for intervention in Intervention.objects.filter(study=study).order_by("title")
    ]
    project = ExportProject(
        name=study.name,
        users=sorted(users.values(), key=lambda u: u.name),
        codes=nodes,
        variables=[(d.name, d.kind) for d in definitions],
        sources=sources,
    )
    return build_qdpx(project)


def export_filename(study: Study) -> str:
    return f"{study.slug}.qdpx"


# Jobs ----------------------------------------------------------------------------------------


def import_job_create(*, study: Study, actor: User, filename: str, data: bytes) -> ProjectImportJob:
    """Keep an uploaded project for its preview; refuses a file that cannot be read."""
    _require(study, actor)
    read_project(data)
    return ProjectImportJob.objects.create(
        study=study,
        created_by=actor,
        filename=display_name(filename)[:255],
        content=data,
    )


def import_job_confirm(*, job: ProjectImportJob, actor: User, user_map: dict[str, str]) -> None:
    """Queue a previewed import with the owner's choice of members for the REFI users."""
    _require(job.study, actor)
    with transaction.atomic():
        locked = ProjectImportJob.objects.select_for_update().select_related("study").get(pk=job.pk)
        if locked.status != ProjectImportJob.Status.PREVIEW:
            raise ProjectError(_("This import has been confirmed already."))
        # Checked now, so a mapping that cannot work is refused on the page, not in the job.
        project_preview(study=locked.study, data=bytes(locked.content), user_map=user_map)
        locked.status = ProjectImportJob.Status.QUEUED
        locked.user_map = user_map
        locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "user_map", "updated_at"])
        job_enqueue("coding.run_project_import", locked)
    job.refresh_from_db()


def export_job_start(*, study: Study, actor: User) -> ExportJob:
    """Queue a .qdpx export of the study for its owner."""
    _require(study, actor)
    with transaction.atomic():
        job = ExportJob.objects.create(study=study, created_by=actor, kind="project", format="qdpx")
        job_enqueue("coding.run_project_export", job)
    return job
