"""Reading a REFI-QDA project (.qdpx) into plain data: no database, nothing written.

`read_project(data)` opens the archive (`archive.py`), parses `project.qde` with defusedxml (a
DTD or entity is refused, so an external-entity payload is never resolved), reads each text
source's plain text and turns every coded selection into a planned segment, or a refusal with
its reason. A problem with the archive itself (not a ZIP, no project.qde, malformed XML, a
source file that is missing, a selection past the end of its text) refuses the whole file.

Texts and offsets
-----------------
REFI-QDA counts positions in Unicode code points of the plain text. The text we store has
``\\n`` line ends (the browser's DOM turns ``\\r\\n`` into ``\\n``, so a stored ``\\r`` would put
every offset the browser sends after it one off) and no byte-order mark; nothing else changes:
no Unicode normalisation, no trimming, no collapsing of blank lines. Each offset of the file is
mapped into that text, so ``text[start:end]`` is the file's own ``text[start:end]`` with
``\\r\\n`` read as ``\\n``.

Programs differ in how they count: most count ``\\r\\n`` as two code points (as the standard
says), some as one, and a byte-order mark may or may not count. Where a selection's ``name``
holds its quote (ATLAS.ti and QualCoder write it), the reading whose quotes match the names
best is taken; otherwise the standard reading. A selection whose name is a quote under the
chosen reading but not of its own span is refused with both texts in the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from coding.codebook.qdc import parse_description
from coding.codebook.tree import (
    MAX_CODES,
    MAX_DEPTH,
    MAX_NAME_LENGTH,
    CodebookFormatError,
    CodeNode,
    name_key,
    normalize_color,
    normalize_guid,
    normalize_origin,
    path_string,
    validate_tree,
)
from coding.projects.archive import Archive, ProjectFormatError

NAMESPACE = "urn:QDA-XML:project:1.0"
# The one REFI user that stands for the consensus layer in our exports (`writing.py`).
CONSENSUS_USER_GUID = "6f1c1f43-3a5e-5b8c-9a8e-7c0ad3c6e0b1"
UNKNOWN_USER = "unknown"
MAX_SOURCES = 5_000
MAX_SELECTIONS = 200_000
# Shown in full in a report; the rest are counted.
SHOWN_PER_REASON = 20


def local(tag: object) -> str:
    """The local name of an element tag; comments and processing instructions have none."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def canonical(guid: str) -> str:
    """The form in which two GUIDs are the same: lower case, no braces ("" if not a GUID)."""
    return normalize_guid(guid) or ""


# Plain data ----------------------------------------------------------------------------------


@dataclass
class RefiUser:
    guid: str
    name: str


@dataclass
class RefiNote:
    guid: str
    text: str
    user: str


@dataclass
class PlannedSegment:
    """One coding of a selection, mapped into the stored text: becomes one segment."""

    selection_guid: str
    code_guid: str
    user: str
    start: int
    end: int
    quote: str
    memo: str


@dataclass
class Refusal:
    """A coded selection that will not become a segment, and why."""

    source: str
    selection_guid: str
    reason: str


@dataclass
class RefiSource:
    guid: str
    name: str
    text: str
    user: str
    segments: list[PlannedSegment] = field(default_factory=list)
    notes: list[RefiNote] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)
    # How offsets were read: "standard", "crlf-one", "bom-counted", "crlf-one-bom-counted".
    reading: str = "standard"
    quotes_checked: int = 0


@dataclass
class Project:
    name: str
    origin: str
    users: dict[str, RefiUser]
    codes: list[CodeNode]
    # canonical code GUID -> path of names
    code_paths: dict[str, tuple[str, ...]]
    sources: list[RefiSource]
    # variable name -> REFI type
    variables: dict[str, str]
    skipped_sources: list[str] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    # What the codebook reading adjusted (names made unique, colours, GUIDs).
    adjusted: list[str] = field(default_factory=list)
    coded_selections: int = 0

    @property
    def planned(self) -> int:
        return sum(len(source.segments) for source in self.sources)

    def users_with_segments(self) -> list[str]:
        seen = Counter(s.user for source in self.sources for s in source.segments)
        return [guid for guid in self.users if seen[guid]] + sorted(
            guid for guid in seen if guid not in self.users
        )


# The XML -------------------------------------------------------------------------------------


def parse_xml(data: bytes, name: str) -> ET.Element:
    if not data.strip():
        raise ProjectFormatError(_("“%(name)s” is empty.") % {"name": name})
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        # Without the exception text: it may quote the payload's target.
        raise ProjectFormatError(
            _(
                "“%(name)s” declares a DTD or entities (<!DOCTYPE …>); a project never needs "
                "one, and such files are refused because they can make the server read other "
                "files."
            )
            % {"name": name}
        ) from error
    except ET.ParseError as error:
        line = error.position[0] if error.position else 0
        reason = str(error).split(": line ", 1)[0]
        raise ProjectFormatError(
            _("“%(name)s” is not well-formed XML (line %(line)d): %(reason)s")
            % {"name": name, "line": line, "reason": reason}
        ) from error
    except (ValueError, LookupError) as error:
        raise ProjectFormatError(
            _("“%(name)s” is not well-formed XML: %(reason)s") % {"name": name, "reason": error}
        ) from error


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if local(child.tag) == name]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    found = _children(element, name)
    return found[0] if found else None


# Texts and offsets ---------------------------------------------------------------------------


def decode_text(data: bytes, name: str) -> tuple[str, bool]:
    """(the text, whether it began with a byte-order mark); UTF-8 as the standard says, with
    Windows-1252 as the one fallback for older exports."""
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        data = data[3:]
    try:
        return data.decode("utf-8"), bom
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252"), bom
        except UnicodeDecodeError as error:
            raise ProjectFormatError(
                _("The text “%(name)s” is neither UTF-8 nor Windows-1252.") % {"name": name}
            ) from error


@dataclass
class TextMap:
    """The stored text of a source and the ways to map the file's offsets into it."""

    stored: str
    # Positions (in the raw text without BOM) of each "\r" that starts a "\r\n".
    crlf: list[int]
    bom: bool

    @classmethod
    def of(cls, raw: str, bom: bool) -> TextMap:
        crlf = [i for i in range(len(raw) - 1) if raw[i] == "\r" and raw[i + 1] == "\n"]
        # A lone "\r" (old Mac line ends) becomes "\n": same length. NUL cannot be stored.
        stored = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
        return cls(stored=stored, crlf=crlf, bom=bom)

    def readings(self) -> list[str]:
        names = ["standard"]
        if self.crlf:
            names.append("crlf-one")
        if self.bom:
            names.append("bom-counted")
            if self.crlf:
                names.append("crlf-one-bom-counted")
        return names

    def length(self, reading: str) -> int:
        """The text's length as a program reading it this way counts it."""
        n = len(self.stored)
        if not reading.startswith("crlf-one"):
            n += len(self.crlf)
        if reading.endswith("bom-counted"):
            n += 1
        return n

    def map(self, reading: str, position: int) -> int:
        """The stored-text offset of the file's `position`."""
        if reading.endswith("bom-counted"):
            position = max(position - 1, 0)
        if reading.startswith("crlf-one"):
            return position
        # Each "\r\n" before `position` is one character shorter here; a position between
        # the "\r" and the "\n" lands on the "\n".
        return position - bisect_left(self.crlf, position)


def _quote_matches(name: str, quote: str) -> bool:
    """Whether a selection's name is its quote: equal, or a cut-off start of it, with line
    ends and runs of white space read alike (programs shorten and reflow names)."""
    said = " ".join(name.split())
    text = " ".join(quote.split())
    if not said or not text:
        return False
    if said == text:
        return True
    trimmed = said.rstrip(".…").rstrip()
    return len(trimmed) >= 10 and text.startswith(trimmed)


# Reading -------------------------------------------------------------------------------------


@dataclass
class _Selection:
    guid: str
    start: int
    end: int
    name: str
    user: str
    codings: list[tuple[str, str, list[str]]]  # (code guid, user, note guids)
    notes: list[str]


class _Reader:
    def __init__(self, archive: Archive, qde_name: str) -> None:
        self.archive = archive
        self.qde_name = qde_name
        self.dropped: Counter[str] = Counter()
        self.adjusted: list[str] = []
        self.selection_count = 0

    # Codes -----------------------------------------------------------------------------------

    def codes(self, codebook: ET.Element | None) -> tuple[list[CodeNode], dict[str, tuple]]:
        nodes: list[CodeNode] = []
        paths: dict[str, tuple[str, ...]] = {}
        if codebook is None:
            return nodes, paths
        count = 0
        seen_guids: set[str] = set()
        stack: list[tuple[ET.Element, tuple[str, ...], list[CodeNode], int]] = []
        for codes in _children(codebook, "Codes"):
            stack.append((codes, (), nodes, 0))
        while stack:
            container, parent, siblings, wrappers = stack.pop(0)
            for element in container:
                tag = local(element.tag)
                if tag == "Codes" and wrappers < MAX_DEPTH:
                    stack.append((element, parent, siblings, wrappers + 1))
                    continue
                if tag != "Code":
                    # A code's own description and notes are read with the code.
                    if tag and tag not in ("Description", "NoteRef"):
                        self.dropped[tag] += 1
                    continue
                count += 1
                if count > MAX_CODES:
                    raise ProjectFormatError(
                        _("The project has more than %(max)d codes.") % {"max": MAX_CODES}
                    )
                if len(parent) >= MAX_DEPTH:
                    raise ProjectFormatError(
                        _("‘%(path)s’ has codes nested deeper than %(max)d levels.")
                        % {"path": path_string(parent), "max": MAX_DEPTH}
                    )
                node = self._code(element, parent, siblings)
                path = (*parent, node.name)
                key = canonical(node.guid)
                if not key:
                    raise ProjectFormatError(
                        _("The code ‘%(code)s’ has no valid GUID (‘%(guid)s’).")
                        % {"code": path_string(path), "guid": element.get("guid") or ""}
                    )
                if key in seen_guids:
                    raise ProjectFormatError(
                        _("Two codes have the GUID %(guid)s.") % {"guid": node.guid}
                    )
                seen_guids.add(key)
                paths[key] = path
                siblings.append(node)
                stack.insert(0, (element, path, node.children, 0))
        try:
            validate_tree(nodes)
        except CodebookFormatError as error:
            raise ProjectFormatError(str(error)) from error
        return nodes, paths

    def _code(
        self, element: ET.Element, parent: tuple[str, ...], siblings: list[CodeNode]
    ) -> CodeNode:
        raw = " ".join((element.get("name") or "").split()) or _("Unnamed code")
        name = raw[:MAX_NAME_LENGTH].rstrip()
        taken = {name_key(sibling.name) for sibling in siblings}
        unique, number = name, 2
        while name_key(unique) in taken:
            unique = f"{name} ({number})"
            number += 1
        if unique != raw:
            self.adjusted.append(
                _(
                    "Code ‘%(code)s’ was named ‘%(name)s’ (empty, too long or the same as "
                    "a sibling)."
                )
                % {"code": path_string((*parent, raw)), "name": unique}
            )
        node = CodeNode(name=unique, guid=(element.get("guid") or "").strip())
        color_text = element.get("color")
        if color_text is not None:
            color = normalize_color(color_text)
            if color is None:
                self.adjusted.append(
                    _("Code ‘%(code)s’: colour ‘%(color)s’ not understood, left empty.")
                    % {"code": unique, "color": color_text}
                )
            else:
                node.color = color
        node.is_codable = (element.get("isCodable") or "true").strip().lower() not in ("false", "0")
        description = _child(element, "Description")
        if description is not None:
            definition, fields = parse_description(description.text or "")
            node.definition = definition
            node.inclusion = fields.get("inclusion", "")
            node.exclusion = fields.get("exclusion", "")
            node.example = fields.get("example", "")
            node.origin = normalize_origin(fields.get("origin", "")) or "deductive"
        if _children(element, "NoteRef"):
            self.dropped["NoteRef on a code"] += len(_children(element, "NoteRef"))
        return node

    # Sources ---------------------------------------------------------------------------------

    def plain_text(self, element: ET.Element, label: str) -> tuple[str, bool] | None:
        """The source's plain text from PlainTextContent or its plainTextPath in the archive;
        None when it has neither."""
        content = _child(element, "PlainTextContent")
        if content is not None:
            return content.text or "", False
        path = element.get("plainTextPath") or ""
        if not path:
            return None
        if path.startswith("internal://"):
            member_name = "Sources/" + path.removeprefix("internal://")
        else:
            raise ProjectFormatError(
                _(
                    "The source “%(name)s” points to its text outside the archive (%(path)s); "
                    "export the project again with its sources included."
                )
                % {"name": label, "path": path}
            )
        member = self.archive.find(member_name)
        if member is None:
            raise ProjectFormatError(
                _("The source “%(name)s” needs %(file)s, which is missing from the archive.")
                % {"name": label, "file": member_name}
            )
        return decode_text(self.archive.read(member), member_name)

    def selections(self, element: ET.Element, label: str) -> list[_Selection]:
        found = []
        for selection in _children(element, "PlainTextSelection"):
            self.selection_count += 1
            if self.selection_count > MAX_SELECTIONS:
                raise ProjectFormatError(
                    _("The project has more than %(max)d selections.") % {"max": MAX_SELECTIONS}
                )
            guid = (selection.get("guid") or "").strip()
            bounds = []
            for attribute in ("startPosition", "endPosition"):
                value = (selection.get(attribute) or "").strip()
                try:
                    bounds.append(int(value))
                except ValueError:
                    raise ProjectFormatError(
                        _(
                            "A selection (%(guid)s) in the source “%(name)s” has %(attribute)s "
                            "‘%(value)s’, which is not a whole number."
                        )
                        % {"guid": guid, "name": label, "attribute": attribute, "value": value}
                    ) from None
            user = selection.get("creatingUser") or ""
            codings = [
                (
                    _coding_code(coding),
                    coding.get("creatingUser") or user,
                    [ref.get("targetGUID") or "" for ref in _children(coding, "NoteRef")],
                )
                for coding in _children(selection, "Coding")
            ]
            notes = [ref.get("targetGUID") or "" for ref in _children(selection, "NoteRef")]
            found.append(
                _Selection(
                    guid, bounds[0], bounds[1], selection.get("name") or "", user, codings, notes
                )
            )
        return found


def _coding_code(coding: ET.Element) -> str:
    ref = _child(coding, "CodeRef")
    return "" if ref is None else (ref.get("targetGUID") or "")


def find_project_file(archive: Archive) -> str:
    """The project.qde of the archive; some programs name it after the project."""
    member = archive.find("project.qde")
    if member is not None:
        return member
    candidates = [
        name
        for name in archive.names()
        if "/" not in name.strip("/") and name.lower().endswith(".qde")
    ]
    if len(candidates) == 1:
        return candidates[0]
    raise ProjectFormatError(
        _("The archive holds no project.qde; it is not a REFI-QDA project (.qdpx).")
        if not candidates
        else _("The archive holds several .qde files (%(names)s); which is the project is unclear.")
        % {"names": ", ".join(candidates)}
    )


def read_project(data: bytes) -> Project:
    """Read a .qdpx file into plain data; raises ProjectFormatError for a broken archive."""
    archive = Archive.open(data)
    qde_name = find_project_file(archive)
    root = parse_xml(archive.read(qde_name), qde_name)
    if local(root.tag) != "Project":
        raise ProjectFormatError(
            _("“%(name)s” is not a REFI-QDA project: its root element is <%(tag)s>, not <Project>.")
            % {"name": qde_name, "tag": local(root.tag)}
        )
    reader = _Reader(archive, qde_name)
    users: dict[str, RefiUser] = {}
    for users_element in _children(root, "Users"):
        for user in _children(users_element, "User"):
            guid = (user.get("guid") or "").strip()
            name = (user.get("name") or user.get("id") or "").strip() or guid
            users[canonical(guid) or guid] = RefiUser(guid=guid, name=name)
    codes, code_paths = reader.codes(_child(root, "CodeBook"))

    variables: dict[str, tuple[str, str]] = {}  # canonical guid -> (name, type)
    for variables_element in _children(root, "Variables"):
        for variable in _children(variables_element, "Variable"):
            variables[canonical(variable.get("guid") or "")] = (
                (variable.get("name") or "").strip() or _("Variable"),
                variable.get("typeOfVariable") or "Text",
            )

    notes: dict[str, RefiNote] = {}
    for notes_element in _children(root, "Notes"):
        for note in _children(notes_element, "Note"):
            guid = (note.get("guid") or "").strip()
            label = note.get("name") or guid
            text = reader.plain_text(note, label)
            notes[canonical(guid)] = RefiNote(
                guid=guid,
                text=(text[0] if text else "").replace("\r\n", "\n"),
                user=_user(note.get("creatingUser")),
            )

    project = Project(
        name=root.get("name") or "",
        origin=root.get("origin") or "",
        users=users,
        codes=codes,
        code_paths=code_paths,
        sources=[],
        variables=dict(variables.values()),
    )
    used_notes: set[str] = set()
    source_properties: dict[str, dict[str, str]] = {}
    for sources_element in _children(root, "Sources"):
        elements = list(sources_element)
        if len(elements) > MAX_SOURCES:
            raise ProjectFormatError(
                _("The project has more than %(max)d sources.") % {"max": MAX_SOURCES}
            )
        for element in elements:
            _read_source(reader, project, element, notes, used_notes, variables, source_properties)
    _read_cases(root, project, variables, source_properties)
    for source in project.sources:
        source.properties = source_properties.get(canonical(source.guid), {})

    for tag in ("Sets", "Graphs", "Links"):
        for element in _children(root, tag):
            project.dropped.append(_dropped_kind(tag, len(list(element))))
    project_notes = len(_children(root, "NoteRef"))
    if project_notes:
        reader.dropped["NoteRef on the project"] += project_notes
    unused = [guid for guid in notes if guid not in used_notes]
    if unused:
        project.dropped.append(
            ngettext(
                "%(count)d note not attached to a selection or a text source (on codes, the "
                "project, or nothing) dropped.",
                "%(count)d notes not attached to a selection or a text source (on codes, the "
                "project, or nothing) dropped.",
                len(unused),
            )
            % {"count": len(unused)}
        )
    for tag, count in sorted(reader.dropped.items()):
        project.dropped.append(
            ngettext(
                "%(count)d <%(tag)s> element dropped: the app has no place for it.",
                "%(count)d <%(tag)s> elements dropped: the app has no place for them.",
                count,
            )
            % {"count": count, "tag": tag}
        )
    project.adjusted = reader.adjusted
    return project


def _dropped_kind(tag: str, count: int) -> str:
    """What the report says of a project's Sets, Graphs or Links, which the app does not keep."""
    if tag == "Sets":
        text = ngettext(
            "%(count)d set dropped: the app has no place for it.",
            "%(count)d sets dropped: the app has no place for them.",
            count,
        )
    elif tag == "Graphs":
        text = ngettext(
            "%(count)d graph dropped: the app has no place for it.",
            "%(count)d graphs dropped: the app has no place for them.",
            count,
        )
    else:
        text = ngettext(
            "%(count)d link dropped: the app has no place for it.",
            "%(count)d links dropped: the app has no place for them.",
            count,
        )
    return text % {"count": count}


def _user(guid: str | None) -> str:
    return canonical(guid or "") or UNKNOWN_USER


def _read_source(
    reader: _Reader,
    project: Project,
    element: ET.Element,
    notes: dict[str, RefiNote],
    used_notes: set[str],
    variables: dict[str, tuple[str, str]],
    source_properties: dict[str, dict[str, str]],
) -> None:
    kind = local(element.tag)
    guid = (element.get("guid") or "").strip()
    label = element.get("name") or guid
    if not kind:
        return
    if not canonical(guid):
        raise ProjectFormatError(_("The source “%(name)s” has no valid GUID.") % {"name": label})
    properties = _variable_values(element, variables)
    if properties:
        source_properties.setdefault(canonical(guid), {}).update(properties)
    text_element: ET.Element | None = element
    if kind == "PDFSource":
        text_element = _child(element, "Representation")
        for area in _children(element, "PDFSelection"):
            for _coding in _children(area, "Coding"):
                project.coded_selections += 1
                project.refusals.append(
                    Refusal(
                        label,
                        area.get("guid") or "",
                        _("an area of a PDF page (page %(page)s), not a text position")
                        % {"page": area.get("page") or "?"},
                    )
                )
        if text_element is None:
            project.skipped_sources.append(
                _("“%(name)s” (PDF without a plain-text representation)") % {"name": label}
            )
            return
    elif kind != "TextSource":
        _skip_media(project, element, kind, label)
        return
    assert text_element is not None

    text = reader.plain_text(text_element, label)
    selections = reader.selections(text_element, label)
    if kind == "PDFSource":
        selections += reader.selections(element, label)
    if text is None:
        project.skipped_sources.append(
            _("“%(name)s” (no plain text: neither PlainTextContent nor plainTextPath)")
            % {"name": label}
        )
        for planned in selections:
            for _each in planned.codings:
                project.coded_selections += 1
                project.refusals.append(
                    Refusal(label, planned.guid, _("its source has no plain text"))
                )
        return
    raw, bom = text
    textmap = TextMap.of(raw, bom)
    source = RefiSource(
        guid=guid, name=label, text=textmap.stored, user=_user(element.get("creatingUser"))
    )
    # Codings of the whole source are not spans of text.
    whole = _children(element, "Coding") + (
        _children(text_element, "Coding") if text_element is not element else []
    )
    if whole:
        project.dropped.append(
            ngettext(
                "“%(name)s”: %(count)d coding of the whole source dropped (a segment is "
                "a span of text).",
                "“%(name)s”: %(count)d codings of the whole source dropped (a segment is "
                "a span of text).",
                len(whole),
            )
            % {"name": label, "count": len(whole)}
        )
    for ref in _children(element, "NoteRef") + (
        _children(text_element, "NoteRef") if text_element is not element else []
    ):
        note = notes.get(canonical(ref.get("targetGUID") or ""))
        if note is not None and note.text.strip():
            used_notes.add(canonical(note.guid))
            source.notes.append(note)
    _plan_selections(project, source, textmap, selections, notes, used_notes)
    project.sources.append(source)


def _skip_media(project: Project, element: ET.Element, kind: str, label: str) -> None:
    what = {"PictureSource": _("picture"), "AudioSource": _("audio"), "VideoSource": _("video")}
    name = what.get(kind, kind)
    project.skipped_sources.append(_("“%(name)s” (%(kind)s)") % {"name": label, "kind": name})
    for selection in element.iter():
        if local(selection.tag).endswith("Selection"):
            for _coding in _children(selection, "Coding"):
                project.coded_selections += 1
                project.refusals.append(
                    Refusal(
                        label,
                        selection.get("guid") or "",
                        _("a selection in a %(kind)s source, which is not imported")
                        % {"kind": name},
                    )
                )


def _plan_selections(
    project: Project,
    source: RefiSource,
    textmap: TextMap,
    selections: list[_Selection],
    notes: dict[str, RefiNote],
    used_notes: set[str],
) -> None:
    readings = textmap.readings()
    # The reading under which the selections' names are their quotes most often.
    scores = {
        reading: sum(
            1
            for s in selections
            if s.name
            and 0 <= s.start < s.end <= textmap.length(reading)
            and _quote_matches(
                s.name,
                textmap.stored[textmap.map(reading, s.start) : textmap.map(reading, s.end)],
            )
        )
        for reading in readings
    }
    best = max(readings, key=lambda r: (scores[r], r == "standard"))
    source.reading = best
    names_are_quotes = scores[best] > 0
    length = textmap.length(best)
    for selection in selections:
        if not selection.codings:
            if selection.notes:
                project.dropped.append(
                    _("“%(name)s”: a note on an uncoded selection (%(guid)s) dropped.")
                    % {"name": source.name, "guid": selection.guid}
                )
            continue
        if selection.start < 0 or selection.end > length:
            raise ProjectFormatError(
                _(
                    "A selection (%(guid)s) in the source “%(name)s” runs from %(start)d to "
                    "%(end)d, past the end of its text of %(length)d characters."
                )
                % {
                    "guid": selection.guid,
                    "name": source.name,
                    "start": selection.start,
                    "end": selection.end,
                    "length": length,
                }
            )
        start = textmap.map(best, selection.start)
        end = textmap.map(best, selection.end)
        quote = textmap.stored[start:end]
        memo_notes = [notes.get(canonical(guid)) for guid in selection.notes]
        for code_guid, user, coding_notes in selection.codings:
            project.coded_selections += 1

            def refuse(reason: str, guid: str = selection.guid, name: str = source.name) -> None:
                project.refusals.append(Refusal(name, guid, reason))

            if start >= end:
                refuse(
                    _("an empty or reversed selection (%(start)d–%(end)d)")
                    % {"start": selection.start, "end": selection.end}
                )
                continue
            if canonical(code_guid) not in project.code_paths:
                refuse(_("its code %(guid)s is not in the codebook") % {"guid": code_guid or "—"})
                continue
            if names_are_quotes and selection.name and not _quote_matches(selection.name, quote):
                refuse(
                    _("its name says “%(name)s” but its offsets select “%(quote)s”")
                    % {"name": selection.name[:60], "quote": quote[:60]}
                )
                continue
            found = memo_notes + [notes.get(canonical(guid)) for guid in coding_notes]
            memo_parts = []
            for note in found:
                if note is not None and note.text.strip():
                    used_notes.add(canonical(note.guid))
                    memo_parts.append(note.text.strip())
            if names_are_quotes and selection.name:
                source.quotes_checked += 1
            source.segments.append(
                PlannedSegment(
                    selection_guid=selection.guid,
                    code_guid=canonical(code_guid),
                    user=_user(user),
                    start=start,
                    end=end,
                    quote=quote,
                    memo="\n\n".join(dict.fromkeys(memo_parts)),
                )
            )


def _variable_values(element: ET.Element, variables: dict[str, tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for value in _children(element, "VariableValue"):
        ref = _child(value, "VariableRef")
        variable = (
            variables.get(canonical(ref.get("targetGUID") or "")) if ref is not None else None
        )
        if variable is None:
            continue
        for child in value:
            if local(child.tag) != "VariableRef" and child.text is not None:
                values[variable[0]] = child.text.strip()
    return values


def _read_cases(
    root: ET.Element,
    project: Project,
    variables: dict[str, tuple[str, str]],
    source_properties: dict[str, dict[str, str]],
) -> None:
    """A case's variable values become properties of the sources it holds; a case named
    other than its sources also becomes a property "Case" (several joined by "; ")."""
    source_names = {canonical(s.guid): s.name for s in project.sources}
    conflicts: set[str] = set()
    for cases in _children(root, "Cases"):
        for case in _children(cases, "Case"):
            name = (case.get("name") or "").strip()
            values = _variable_values(case, variables)
            targets = [
                canonical(ref.get("targetGUID") or "") for ref in _children(case, "SourceRef")
            ]
            if _children(case, "SelectionRef") or _children(case, "CodeRef"):
                project.dropped.append(
                    _(
                        "Case “%(name)s”: its references to selections or codes dropped (a "
                        "property belongs to a whole text)."
                    )
                    % {"name": name}
                )
            for target in targets:
                if target not in source_names:
                    continue
                properties = source_properties.setdefault(target, {})
                own = dict(values)
                if name and name != source_names[target]:
                    own["Case"] = name
                for key, value in own.items():
                    if key in properties and properties[key] != value:
                        conflicts.add(key)
                        joined = properties[key].split("; ")
                        if value not in joined:
                            properties[key] = "; ".join([*joined, value])
                    else:
                        properties[key] = value
    for key in sorted(conflicts):
        project.dropped.append(
            _(
                "Property “%(name)s”: a text is in several cases with different values; "
                "they are joined with “; ”."
            )
            % {"name": key}
        )
