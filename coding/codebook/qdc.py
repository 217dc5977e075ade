"""REFI-QDA codebook files (.qdc): written strictly to the schema, read leniently, changes told.

A REFI-QDA code has only a guid, a name, a colour, ``isCodable`` and a ``Description``. Our
definition, criteria, example and origin are folded into the description in this layout::

    <definition, as many lines and paragraphs as it has>

    Inclusie: <inclusion>
    Exclusie: <exclusion>
    Voorbeeld: <example>
    Herkomst: deductief | inductief

- The labelled lines (the trailer) come last, in this order, after one blank line; with no
  definition the description is the trailer alone.
- Inclusie, Exclusie and Voorbeeld appear only when they have content. Herkomst is written
  when the code is inductive, when any other label is, or when the definition's last paragraph
  happens to look like a trailer (so it still reads back as definition). A deductive code with
  only a definition (every code another program wrote) gets its description back unchanged,
  and a code without any description gets no ``Description`` element.
- A value of several lines continues on the next lines, each indented by two spaces (an empty
  line inside the value becomes a line of two spaces), so the trailer holds no blank line.

Reading splits at the last blank line: what follows is the trailer if every line is a known label
("Inclusie", "Exclusie", "Voorbeeld", "Herkomst" or the English "Inclusion", "Exclusion",
"Example", "Origin", each at most once) or a continuation line; what precedes is the definition,
exactly. A description that does not end in such a trailer (one written by another program) is
the definition as a whole.

Files are parsed with defusedxml and any DTD is refused, so an external-entity payload is never
resolved, and entity expansion cannot blow up memory.
"""

from __future__ import annotations

import functools
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import defusedxml.ElementTree as SafeET
import xmlschema
from defusedxml import DefusedXmlException
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from lxml import etree

from coding.codebook.files import xml_text
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
    walk,
)

NAMESPACE = "urn:QDA-XML:codebook:1.0"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "refi" / "Codebook.xsd"

_WRITE_LABELS = (("inclusion", "Inclusie"), ("exclusion", "Exclusie"), ("example", "Voorbeeld"))
_ORIGIN_WORDS = {"deductive": "deductief", "inductive": "inductief"}
_READ_LABELS = {
    "inclusie": "inclusion",
    "inclusion": "inclusion",
    "exclusie": "exclusion",
    "exclusion": "exclusion",
    "voorbeeld": "example",
    "example": "example",
    "herkomst": "origin",
    "origin": "origin",
}
_CODE_ATTRIBUTES = frozenset({"guid", "name", "isCodable", "color"})
_UNNAMED = "Naamloze code"


# --------------------------------------------------------------------------------------------
# Description layout
# --------------------------------------------------------------------------------------------


def format_description(node: CodeNode) -> str:
    """The node's definition, criteria, example and origin in the layout of the module docstring."""
    plain = not (node.inclusion or node.exclusion or node.example) and node.origin == "deductive"
    if plain and parse_description(node.definition)[1] == {}:
        return node.definition
    lines = []
    for attribute, label in _WRITE_LABELS:
        value: str = getattr(node, attribute)
        if value:
            first, *rest = value.split("\n")
            lines.append(f"{label}: {first}")
            lines.extend(f"  {line}" for line in rest)
    lines.append(f"Herkomst: {_ORIGIN_WORDS.get(node.origin, node.origin)}")
    trailer = "\n".join(lines)
    return f"{node.definition}\n\n{trailer}" if node.definition else trailer


def parse_description(text: str) -> tuple[str, dict[str, str]]:
    """(definition, {"inclusion"|"exclusion"|"example"|"origin": value}) of a description."""
    split = text.rfind("\n\n")
    head, tail = (text[:split], text[split + 2 :]) if split >= 0 else ("", text)
    fields = _parse_trailer(tail)
    if fields is None:
        return text, {}
    return head, fields


def _parse_trailer(tail: str) -> dict[str, str] | None:
    fields: dict[str, str] = {}
    current: str | None = None
    for line in tail.split("\n"):
        if line.startswith("  ") and current is not None:
            fields[current] += "\n" + line[2:]
            continue
        label, colon, value = line.partition(":")
        key = _READ_LABELS.get(label.casefold())
        if not colon or key is None or key in fields:
            return None
        fields[key] = value.removeprefix(" ")
        current = key
    return fields


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def to_qdc(nodes: list[CodeNode], *, validate: bool = True) -> bytes:
    """The codebook as a REFI-QDA .qdc file (UTF-8, with an XML declaration).

    A node without a guid gets a new one, written back into the node: the caller must store it
    so that the next export, and the other programs that read it, see the same code.
    With ``validate`` (the default) the result is checked against the schema before it leaves.
    """
    if not nodes:
        raise CodebookFormatError(
            _("The codebook has no codes; a REFI-QDA codebook needs at least one.")
        )
    validate_tree(nodes)
    for _path, node in walk(nodes):
        # A GUID is written as the node has it (another program's upper case or braces
        # included); only a missing one is made.
        node.guid = node.guid.strip() or str(uuid.uuid4())

    root = etree.Element(f"{{{NAMESPACE}}}CodeBook", nsmap={None: NAMESPACE})
    root.set("origin", "Veerkracht")
    codes = etree.SubElement(root, f"{{{NAMESPACE}}}Codes")
    for node in nodes:
        _write_code(codes, node)
    # lxml writes the declaration with single quotes; the double-quoted form is what the
    # REFI-QDA examples and most programs use.
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8", pretty_print=True
    )
    if validate:
        validate_qdc(data)
    return data


def _write_code(parent: etree._Element, node: CodeNode) -> None:
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}Code")
    write_code_attributes(element, node)
    text = format_description(node)
    if text:
        description = etree.SubElement(element, f"{{{NAMESPACE}}}Description")
        description.text = xml_text(text)
    for child in node.children:
        _write_code(element, child)


def write_code_attributes(element: etree._Element, node: CodeNode) -> None:
    """guid, name, isCodable and colour of a code element, as the node has them: the GUID as
    it was written, no colour when none was chosen (shared with the project export)."""
    element.set("guid", node.guid)
    element.set("name", xml_text(node.name))
    element.set("isCodable", "true" if node.is_codable else "false")
    if node.color:
        element.set("color", node.color.upper())


@functools.cache
def _schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_PATH))


def validate_qdc(data: bytes) -> None:
    """Raise :class:`CodebookFormatError` naming the first way ``data`` breaks Codebook.xsd."""
    root = _parse(data)
    try:
        error = next(iter(_schema().iter_errors(root)), None)
    except RecursionError as exhausted:
        raise CodebookFormatError(
            _("The file is nested too deeply to be a codebook.")
        ) from exhausted
    if error is not None:
        raise CodebookFormatError(
            _("The codebook does not match the REFI-QDA schema at %(path)s: %(reason)s")
            % {"path": error.path or "/", "reason": error.reason or error.message}
        )


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _parse(data: bytes) -> ET.Element:
    if not data.strip():
        raise CodebookFormatError(_("The file is empty."))
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        # Deliberately without the exception text: it may quote the payload's target.
        raise CodebookFormatError(
            _(
                "The file declares a DTD or entities (<!DOCTYPE …>); a codebook never needs "
                "one, and such files are refused because they can make the server read other "
                "files."
            )
        ) from error
    except ET.ParseError as error:
        line = error.position[0] if error.position else 0
        reason = str(error).split(": line ", 1)[0]
        raise CodebookFormatError(
            _("The file is not well-formed XML (line %(line)d): %(reason)s")
            % {"line": line, "reason": reason}
        ) from error
    except (ValueError, LookupError) as error:
        # An unknown encoding in the XML declaration ends up here.
        raise CodebookFormatError(
            _("The file is not well-formed XML: %(reason)s") % {"reason": error}
        ) from error


def _local(tag: object) -> tuple[str, str]:
    """(namespace, local name) of an element tag; comments and PIs have no string tag."""
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        namespace, _brace, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def from_qdc(data: bytes) -> tuple[list[CodeNode], list[str]]:
    """Read a .qdc codebook: the code tree and a list of what was dropped or adjusted."""
    root = _parse(data)
    namespace, local = _local(root.tag)
    if local == "Project":
        raise CodebookFormatError(
            _(
                "This is a REFI-QDA project, not a codebook; export the codebook (.qdc) from "
                "your QDA program and import that."
            )
        )
    if local.casefold() != "codebook":
        raise CodebookFormatError(
            _("The file is not a REFI-QDA codebook: its root element is <%(tag)s>, not <CodeBook>.")
            % {"tag": local}
        )
    reader = _Reader()
    if namespace != NAMESPACE:
        reader.report.append(
            _("The file has no REFI-QDA namespace; it was read as a codebook anyway.")
            if not namespace
            else _(
                "The file uses the namespace ‘%(namespace)s’ rather than %(expected)s; "
                "it was read as a codebook anyway."
            )
            % {"namespace": namespace, "expected": NAMESPACE}
        )
    nodes: list[CodeNode] = []
    for child in root:
        child_local = _local(child.tag)[1]
        if child_local == "Codes":
            reader.read_codes(child, (), nodes)
        elif child_local == "Sets":
            reader.drop_sets(child)
        elif child_local:
            reader.dropped_elements[child_local] += 1
    if not nodes:
        raise CodebookFormatError(_("The codebook holds no codes."))
    reader.summarise()
    validate_tree(nodes)
    return nodes, reader.report


class _Reader:
    """Walks the XML, building nodes and noting every adjustment for the import report."""

    def __init__(self) -> None:
        self.report: list[str] = []
        self.count = 0
        self.guids: set[str] = set()
        self.dropped_elements: Counter[str] = Counter()
        self.dropped_attributes: Counter[str] = Counter()
        self.alpha_dropped = 0
        self.not_codable: list[str] = []

    def read_codes(
        self,
        container: ET.Element,
        parent: tuple[str, ...],
        siblings: list[CodeNode],
        wrappers: int = 0,
    ) -> None:
        for element in container:
            local = _local(element.tag)[1]
            if local == "Code":
                siblings.append(self.read_code(element, parent, siblings))
            elif local == "Codes":
                # Not in the schema, but some programs wrap children in a nested <Codes>.
                # Bounded, so that thousands of empty wrappers cannot exhaust the stack.
                if wrappers >= MAX_DEPTH:
                    raise CodebookFormatError(
                        _("The file nests <Codes> elements more than %(max)d deep.")
                        % {"max": MAX_DEPTH}
                    )
                self.read_codes(element, parent, siblings, wrappers + 1)
            elif local:
                self.dropped_elements[local] += 1

    def read_code(
        self, element: ET.Element, parent: tuple[str, ...], siblings: list[CodeNode]
    ) -> CodeNode:
        self.count += 1
        if self.count > MAX_CODES:
            raise CodebookFormatError(
                _("The file has more than %(max)s codes; at most %(max)s are accepted.")
                % {"max": number_format(MAX_CODES, force_grouping=True)}
            )
        if len(parent) >= MAX_DEPTH:
            raise CodebookFormatError(
                _("‘%(path)s’ has codes nested deeper than %(max)d levels.")
                % {"path": path_string(parent), "max": MAX_DEPTH}
            )
        node = CodeNode(name=self._name(element, parent, siblings))
        path = (*parent, node.name)
        where = path_string(path)
        node.color = self._color(element, where)
        node.guid = self._guid(element, where)
        if element.get("isCodable", "true").strip().lower() in ("false", "0"):
            node.is_codable = False
            self.not_codable.append(where)
        for attribute in element.attrib:
            if _local(attribute)[1] not in _CODE_ATTRIBUTES:
                self.dropped_attributes[_local(attribute)[1]] += 1

        descriptions = 0
        for child in element:
            local = _local(child.tag)[1]
            if local == "Description":
                descriptions += 1
                if descriptions == 1:
                    self._description(node, child.text or "", where)
                else:
                    self.report.append(
                        _("Code ‘%(code)s’: only the first of its descriptions was kept.")
                        % {"code": where}
                    )
            elif local == "Code":
                node.children.append(self.read_code(child, path, node.children))
            elif local == "Codes":
                self.read_codes(child, path, node.children)
            elif local:
                self.dropped_elements[local] += 1
        return node

    def _name(self, element: ET.Element, parent: tuple[str, ...], siblings: list[CodeNode]) -> str:
        raw = " ".join((element.get("name") or "").split())
        where = path_string((*parent, raw)) if raw else path_string(parent)
        name = raw or _UNNAMED
        if len(name) > MAX_NAME_LENGTH:
            name = name[:MAX_NAME_LENGTH].rstrip()
            self.report.append(
                _("Code ‘%(code)s…’: the name was longer than %(max)d characters and was cut.")
                % {"code": name[:40], "max": MAX_NAME_LENGTH}
            )
        taken = {name_key(sibling.name) for sibling in siblings}
        unique, number = name, 2
        while name_key(unique) in taken:
            unique = f"{name} ({number})"
            number += 1
        if not raw:
            self.report.append(
                _("A code without a name under ‘%(parent)s’ was called ‘%(name)s’.")
                % {"parent": where or _("the top level"), "name": unique}
            )
        elif unique != name:
            self.report.append(
                _("Code ‘%(code)s’: another code there has the same name; renamed ‘%(name)s’.")
                % {"code": where, "name": unique}
            )
        return unique

    def _color(self, element: ET.Element, where: str) -> str:
        raw = element.get("color")
        if raw is None:
            return ""
        color = normalize_color(raw)
        if color is None:
            self.report.append(
                _("Code ‘%(code)s’: colour ‘%(color)s’ not understood, left empty.")
                % {"code": where, "color": raw}
            )
            return ""
        if len(raw.strip().removeprefix("#")) == 8:
            self.alpha_dropped += 1
        return color

    def _guid(self, element: ET.Element, where: str) -> str:
        raw = element.get("guid") or ""
        guid = normalize_guid(raw)
        if guid is None:
            self.report.append(
                _("Code ‘%(code)s’: ‘%(guid)s’ is not a GUID; the code gets a new one.")
                % {"code": where, "guid": raw}
            )
            return ""
        if guid and guid in self.guids:
            self.report.append(
                _("Code ‘%(code)s’: its GUID is used by another code too; it gets a new one.")
                % {"code": where}
            )
            return ""
        self.guids.add(guid)
        # Kept as written (upper case, braces), so an export gives the same text back.
        return raw.strip()

    def _description(self, node: CodeNode, text: str, where: str) -> None:
        definition, fields = parse_description(text)
        node.definition = definition
        node.inclusion = fields.get("inclusion", "")
        node.exclusion = fields.get("exclusion", "")
        node.example = fields.get("example", "")
        origin = normalize_origin(fields.get("origin", ""))
        if origin is None:
            self.report.append(
                _("Code ‘%(code)s’: origin ‘%(origin)s’ not understood; deductive assumed.")
                % {"code": where, "origin": fields["origin"]}
            )
            origin = "deductive"
        node.origin = origin

    def drop_sets(self, sets: ET.Element) -> None:
        names = [element.get("name") or "?" for element in sets if _local(element.tag)[1] == "Set"]
        members = sum(1 for element in sets.iter() if _local(element.tag)[1] == "MemberCode")
        if names:
            dropped = ngettext(
                "Dropped %(count)d code set (%(names)s)",
                "Dropped %(count)d code sets (%(names)s)",
                len(names),
            ) % {"count": len(names), "names": ", ".join(names)}
            references = ngettext(
                "with %(members)d member reference", "with %(members)d member references", members
            ) % {"members": members}
            # Two counts, each with its own plural form.
            self.report.append(
                _("%(sets)s %(references)s: the app has no code sets.")
                % {"sets": dropped, "references": references}
            )

    def summarise(self) -> None:
        if self.alpha_dropped:
            self.report.append(
                ngettext(
                    "%(count)d colour had a transparency part (#AARRGGBB); it was dropped "
                    "and the colour kept.",
                    "%(count)d colours had a transparency part (#AARRGGBB); it was dropped "
                    "and the colours kept.",
                    self.alpha_dropped,
                )
                % {"count": self.alpha_dropped}
            )
        if self.not_codable:
            self.report.append(
                ngettext(
                    "%(count)d code is marked not codable (%(codes)s): the mark is kept "
                    "and written back on export.",
                    "%(count)d codes are marked not codable (%(codes)s): the mark is kept "
                    "and written back on export.",
                    len(self.not_codable),
                )
                % {"count": len(self.not_codable), "codes": ", ".join(self.not_codable[:5])}
                + ("…" if len(self.not_codable) > 5 else "")
            )
        for tag, count in sorted(self.dropped_elements.items()):
            self.report.append(
                ngettext(
                    "Dropped %(count)d <%(tag)s> element: the app has no place for it.",
                    "Dropped %(count)d <%(tag)s> elements: the app has no place for them.",
                    count,
                )
                % {"count": count, "tag": tag}
            )
        for attribute, count in sorted(self.dropped_attributes.items()):
            self.report.append(
                ngettext(
                    "Dropped the attribute ‘%(attribute)s’ of %(count)d code.",
                    "Dropped the attribute ‘%(attribute)s’ of %(count)d codes.",
                    count,
                )
                % {"attribute": attribute, "count": count}
            )
