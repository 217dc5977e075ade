"""Writing a REFI-QDA project (.qdpx) from plain data: no database.

The archive holds `project.qde`, checked against `coding/refi/Project.xsd` before it leaves,
and one `Sources/<guid>.txt` (UTF-8, no byte-order mark, ``\\n`` line ends) per text, so the
selections' code-point offsets are offsets into exactly that file.

GUIDs are stable from one export to the next: a source, code or segment gives the GUID it came
with (`guid` fields) or its own UUID; a user's GUID is derived from the username, the consensus
layer's is fixed (`reading.CONSENSUS_USER_GUID`), and a coding's, note's, case's and variable's
GUID is derived from what it belongs to. So exporting, importing into a fresh study and
exporting again gives the same file.
"""

from __future__ import annotations

import functools
import io
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import xmlschema
from django.utils.translation import gettext as _
from lxml import etree

from coding.codebook.files import xml_text
from coding.codebook.qdc import format_description, write_code_attributes
from coding.codebook.tree import CodeNode
from coding.projects.archive import ProjectFormatError
from coding.projects.reading import NAMESPACE

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "refi" / "Project.xsd"
# The namespace of the derived GUIDs (a fixed, random UUID: never change it).
_DERIVED = uuid.UUID("0b3c4a6e-8f52-4d8e-9a61-2f7d5c1e9b40")
_KINDS = {"text": "Text", "category": "Text", "number": "Float"}


def derived_guid(*parts: str) -> str:
    return str(uuid.uuid5(_DERIVED, "\x1f".join(parts)))


def user_guid(username: str) -> str:
    return derived_guid("user", username)


@dataclass
class ExportUser:
    guid: str
    name: str


@dataclass
class ExportSegment:
    guid: str
    code_guid: str
    user_guid: str
    start: int
    end: int
    quote: str
    memo: str = ""


@dataclass
class ExportNote:
    user_guid: str
    text: str


@dataclass
class ExportSource:
    guid: str
    name: str
    text: str
    segments: list[ExportSegment] = field(default_factory=list)
    notes: list[ExportNote] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class ExportProject:
    name: str
    users: list[ExportUser]
    codes: list[CodeNode]
    # (name, our kind) of each property, in order
    variables: list[tuple[str, str]]
    sources: list[ExportSource]


def _element(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{tag}")
    for key, value in attributes.items():
        element.set(key, value)
    return element


def _write_codes(parent: etree._Element, nodes: list[CodeNode]) -> None:
    # Iterative, like `tree.walk`: a deep tree cannot exhaust the stack.
    stack = [(parent, node) for node in reversed(nodes)]
    while stack:
        container, node = stack.pop()
        element = _element(container, "Code")
        write_code_attributes(element, node)
        text = format_description(node)
        if text:
            _element(element, "Description").text = xml_text(text)
        stack.extend((element, child) for child in reversed(node.children))


def build_qde(project: ExportProject) -> bytes:
    """project.qde: the project's XML, valid against Project.xsd."""
    root = etree.Element(f"{{{NAMESPACE}}}Project", nsmap={None: NAMESPACE})
    root.set("name", xml_text(project.name))
    root.set("origin", "Veerkracht")
    if project.users:
        users = _element(root, "Users")
        for user in project.users:
            _element(users, "User", guid=user.guid, name=xml_text(user.name))
    if project.codes:
        codebook = _element(root, "CodeBook")
        _write_codes(_element(codebook, "Codes"), project.codes)
    variable_guids = {name: derived_guid("variable", name) for name, _kind in project.variables}
    if project.variables:
        variables = _element(root, "Variables")
        for name, kind in project.variables:
            _element(
                variables,
                "Variable",
                guid=variable_guids[name],
                name=xml_text(name),
                typeOfVariable="Text" if kind != "number" else "Float",
            )
    with_properties = [s for s in project.sources if s.properties]
    if with_properties:
        cases = _element(root, "Cases")
        for source in with_properties:
            case = _element(
                cases, "Case", guid=derived_guid("case", source.guid), name=xml_text(source.name)
            )
            for name, value in source.properties.items():
                if name not in variable_guids:
                    continue
                variable_value = _element(case, "VariableValue")
                _element(variable_value, "VariableRef", targetGUID=variable_guids[name])
                _element(variable_value, "TextValue").text = xml_text(value)
            _element(case, "SourceRef", targetGUID=source.guid)
    notes: list[tuple[str, ExportNote]] = []
    if project.sources:
        sources = _element(root, "Sources")
        for source in project.sources:
            element = _element(
                sources,
                "TextSource",
                guid=source.guid,
                name=xml_text(source.name),
                plainTextPath=f"internal://{source.guid}.txt",
            )
            for segment in source.segments:
                selection = _element(
                    element,
                    "PlainTextSelection",
                    guid=segment.guid,
                    name=xml_text(segment.quote),
                    startPosition=str(segment.start),
                    endPosition=str(segment.end),
                    creatingUser=segment.user_guid,
                )
                coding = _element(
                    selection,
                    "Coding",
                    guid=derived_guid("coding", segment.guid),
                    creatingUser=segment.user_guid,
                )
                _element(coding, "CodeRef", targetGUID=segment.code_guid)
                if segment.memo:
                    note_guid = derived_guid("memo", segment.guid)
                    _element(selection, "NoteRef", targetGUID=note_guid)
                    notes.append((note_guid, ExportNote(segment.user_guid, segment.memo)))
            for number, note in enumerate(source.notes):
                note_guid = derived_guid("note", source.guid, str(number), note.text)
                _element(element, "NoteRef", targetGUID=note_guid)
                notes.append((note_guid, note))
    if notes:
        notes_element = _element(root, "Notes")
        for guid, note in notes:
            element = _element(
                notes_element, "Note", guid=guid, name="Memo", creatingUser=note.user_guid
            )
            _element(element, "PlainTextContent").text = xml_text(note.text)
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8", pretty_print=True
    )
    validate_qde(data)
    return data


def build_qdpx(project: ExportProject) -> bytes:
    """The whole archive: project.qde and one plain-text file per source."""
    qde = build_qde(project)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        for source in project.sources:
            archive.writestr(f"Sources/{source.guid}.txt", source.text.encode("utf-8"))
    return out.getvalue()


@functools.cache
def _schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def validate_qde(data: bytes) -> None:
    """Raise ProjectFormatError naming the first way `data` breaks Project.xsd."""
    tree = etree.fromstring(
        data, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    )
    error = next(iter(_schema().iter_errors(tree)), None)
    if error is not None:
        raise ProjectFormatError(
            _("The project does not match the REFI-QDA schema at %(path)s: %(reason)s")
            % {"path": error.path or "/", "reason": error.reason or error.message}
        )
