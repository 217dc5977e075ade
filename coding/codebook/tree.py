"""The code tree as plain data, shared by every codebook file format.

A codebook is a list of top-level codes (themes), each a :class:`CodeNode` with its children.
Nothing here touches the database: the importers build nodes, the caller stores them, and the
exporters take nodes the caller loaded. :func:`validate_tree` holds the limits every format
must respect, so an import is refused for the same reasons whatever file it came from.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.utils.formats import number_format
from django.utils.translation import gettext as _

MAX_CODES = 5_000
MAX_DEPTH = 12
# Matches Code.name's max_length, so an imported tree always fits the model.
MAX_NAME_LENGTH = 200
# A definition, criterion or example: a few paragraphs; this is far above that.
MAX_TEXT_LENGTH = 20_000
PATH_SEPARATOR = " > "
# A colour no code asked for: what a page draws for an unknown or unsafe one.
DEFAULT_COLOR = "#767676"
ORIGINS = ("deductive", "inductive")

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
# A level break needs whitespace on both sides, so names such as "<&>" or "0>12 jaar" stay whole.
_SEPARATOR = re.compile(r"(?<=\s)>(?=\s)")
_ORIGIN_ALIASES = {
    "deductive": "deductive",
    "deductief": "deductive",
    "d": "deductive",
    "inductive": "inductive",
    "inductief": "inductive",
    "i": "inductive",
}
_RGB_FUNCTION = re.compile(r"rgba?\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*(?:,[^)]*)?\)")


class CodebookFormatError(ValueError):
    """A codebook file or tree was refused; ``str(error)`` is a one-line message for the user."""

    def __init__(self, message: str) -> None:
        # Names quoted in a message may hold line breaks; the message must stay one line.
        super().__init__(" ".join(message.split()))


@dataclass
class CodeNode:
    """One code of the tree; a top-level node is a theme.

    ``color`` is "#rrggbb" or "" (no colour chosen); ``origin`` is "deductive" (from theory) or
    "inductive" (added while coding); ``guid`` is a UUID string that exports keep stable, or ""
    when the code has never been exported. A REFI-QDA file's GUID is kept as it was written
    (upper case, braces), so it goes back out unchanged; compare with :func:`normalize_guid`.
    ``is_codable`` is REFI-QDA's ``isCodable``: false for a code that only groups others.
    """

    name: str
    definition: str = ""
    inclusion: str = ""
    exclusion: str = ""
    example: str = ""
    color: str = ""
    origin: str = "deductive"
    guid: str = ""
    children: list[CodeNode] = field(default_factory=list)
    is_codable: bool = True


def walk(nodes: Iterable[CodeNode]) -> Iterator[tuple[tuple[str, ...], CodeNode]]:
    """Yield ``(path, node)`` depth-first, parents before children, siblings in order.

    Iterative, so a hostile file nested thousands of levels deep cannot exhaust the stack
    before :func:`validate_tree` gets to refuse it.
    """
    stack: list[tuple[tuple[str, ...], CodeNode]] = [((node.name,), node) for node in nodes]
    stack.reverse()
    while stack:
        path, node = stack.pop()
        yield path, node
        stack.extend((path + (child.name,), child) for child in reversed(node.children))


def subtree_ids(root: int, children_of: Callable[[int], Iterable[int]]) -> set[int]:
    """`root` and the ids of every code below it, however deep; `children_of(id)` gives the ids
    of a code's direct subcodes.

    The one walk for "this code and its subcodes", whatever the tree is loaded as. Iterative,
    like :func:`walk`.
    """
    ids: set[int] = set()
    stack = [root]
    while stack:
        current = stack.pop()
        ids.add(current)
        stack.extend(children_of(current))
    return ids


def count(nodes: Iterable[CodeNode]) -> int:
    return sum(1 for _path in walk(nodes))


def path_string(path: Iterable[str]) -> str:
    return PATH_SEPARATOR.join(path)


def split_path(text: str) -> tuple[str, ...]:
    """Split "Theme > Code > Subcode" into its stripped parts.

    Only a ">" with whitespace on both sides separates levels. An empty part ("A >  > B",
    a path that is blank or ends in " > ") is refused.
    """
    stripped = text.strip()
    parts = tuple(part.strip() for part in _SEPARATOR.split(stripped))
    # The split needs whitespace on both sides of ">", so a separator at either end ("A >",
    # "> A") survives it; that is an empty level too, not a name ending or starting in ">".
    dangling = (
        stripped == ">" or stripped.endswith((" >", "\t>")) or stripped.startswith(("> ", ">\t"))
    )
    if not stripped:
        raise CodebookFormatError(_("A path is empty."))
    if dangling or any(not part for part in parts):
        raise CodebookFormatError(_("The path ‘%(path)s’ has an empty level.") % {"path": stripped})
    return parts


def name_key(name: str) -> str:
    """The form in which two names count as the same: case, whitespace and NFC folded."""
    return unicodedata.normalize("NFC", " ".join(name.split())).casefold()


def normalize_color(value: str) -> str | None:
    """ "#rrggbb" for the colour notations codebook files use, "" for none, None if unknown.

    Accepts "#rgb", "#rrggbb", "#aarrggbb" (the alpha is dropped: codes are opaque),
    "rrggbb" without the hash and "rgb(r, g, b)".
    """
    text = value.strip().lower()
    if not text:
        return ""
    match = _RGB_FUNCTION.fullmatch(text)
    if match:
        channels = [int(part) for part in match.groups()]
        if any(channel > 255 for channel in channels):
            return None
        return "#" + "".join(f"{channel:02x}" for channel in channels)
    digits = text.removeprefix("#")
    if not re.fullmatch(r"[0-9a-f]+", digits):
        return None
    if len(digits) == 3:
        return "#" + "".join(ch * 2 for ch in digits)
    if len(digits) == 6:
        return "#" + digits
    if len(digits) == 8:
        return "#" + digits[2:]
    return None


def safe_color(color: str) -> str:
    """`color` if it is a plain #rrggbb (it goes into a style attribute), else a neutral grey."""
    return color.lower() if _COLOR.fullmatch(color or "") else DEFAULT_COLOR


def normalize_origin(value: str) -> str | None:
    """ "deductive" or "inductive" for English or Dutch spellings (or D/I); "" means deductive."""
    text = value.strip().casefold()
    if not text:
        return "deductive"
    return _ORIGIN_ALIASES.get(text)


def normalize_guid(value: str) -> str | None:
    """The canonical lower-case UUID for a GUID with or without braces, "" for none."""
    text = value.strip()
    if not text:
        return ""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def validate_tree(nodes: list[CodeNode]) -> None:
    """Raise :class:`CodebookFormatError` for the first thing that breaks the tree's limits."""
    seen_guids: dict[str, str] = {}
    for total, (path, node) in enumerate(walk(nodes), start=1):
        if total > MAX_CODES:
            raise CodebookFormatError(
                _("The codebook has %(count)s codes; at most %(max)s are accepted.")
                % {
                    "count": number_format(count(nodes), force_grouping=True),
                    "max": number_format(MAX_CODES, force_grouping=True),
                }
            )
        if len(path) > MAX_DEPTH:
            raise CodebookFormatError(
                _("‘%(path)s’ is %(depth)d levels deep; at most %(max)d levels are allowed.")
                % {"path": path_string(path), "depth": len(path), "max": MAX_DEPTH}
            )
        _check_node(path, node)
        if node.guid:
            # Compared canonically: "{ABC…}" and "abc…" are one GUID to every QDA program.
            guid = normalize_guid(node.guid) or node.guid
            if guid in seen_guids:
                raise CodebookFormatError(
                    _("The codes ‘%(first)s’ and ‘%(second)s’ have the same guid %(guid)s.")
                    % {"first": seen_guids[guid], "second": path_string(path), "guid": guid}
                )
            seen_guids[guid] = path_string(path)
    _check_siblings((), nodes)
    for path, node in walk(nodes):
        _check_siblings(path, node.children)


def _check_node(path: tuple[str, ...], node: CodeNode) -> None:
    where = path_string(path)
    for field_name in ("name", "definition", "inclusion", "exclusion", "example"):
        value = getattr(node, field_name)
        if "\x00" in value:
            # A NUL byte is no text any database stores; it comes from a damaged file.
            raise CodebookFormatError(
                _("Code ‘%(code)s’: the %(field)s holds a NUL character; the file is damaged.")
                % {"code": where.replace("\x00", ""), "field": field_name}
            )
        if len(value) > MAX_TEXT_LENGTH:
            raise CodebookFormatError(
                _("Code ‘%(code)s’: the %(field)s has more than %(max)s characters.")
                % {
                    "code": where[:80],
                    "field": field_name,
                    "max": number_format(MAX_TEXT_LENGTH, force_grouping=True),
                }
            )
    if not node.name.strip():
        parent = path_string(path[:-1])
        if parent:
            message = _("A code under ‘%(parent)s’ has no name.") % {"parent": parent}
        else:
            message = _("A top-level code has no name.")
        raise CodebookFormatError(message)
    if len(node.name) > MAX_NAME_LENGTH:
        raise CodebookFormatError(
            _("The name of ‘%(code)s…’ has %(length)d characters; at most %(max)d are allowed.")
            % {"code": node.name[:40], "length": len(node.name), "max": MAX_NAME_LENGTH}
        )
    if node.color and not _COLOR.fullmatch(node.color):
        raise CodebookFormatError(
            _("Code ‘%(code)s’: the colour ‘%(color)s’ is not of the form #rrggbb.")
            % {"code": where, "color": node.color}
        )
    if node.origin not in ORIGINS:
        raise CodebookFormatError(
            _("Code ‘%(code)s’: the origin ‘%(origin)s’ must be deductive or inductive.")
            % {"code": where, "origin": node.origin}
        )
    if node.guid and normalize_guid(node.guid) is None:
        raise CodebookFormatError(
            _("Code ‘%(code)s’: the guid ‘%(guid)s’ is not a UUID.")
            % {"code": where, "guid": node.guid}
        )


def _check_siblings(parent: tuple[str, ...], siblings: list[CodeNode]) -> None:
    seen: dict[str, str] = {}
    for node in siblings:
        key = name_key(node.name)
        if key not in seen:
            seen[key] = node.name
            continue
        first = seen[key]
        if parent:
            message = _(
                "Two codes under ‘%(parent)s’ have the same name: ‘%(first)s’ and ‘%(second)s’."
            ) % {"parent": path_string(parent), "first": first, "second": node.name}
        else:
            message = _("Two top-level codes have the same name: ‘%(first)s’ and ‘%(second)s’.") % {
                "first": first,
                "second": node.name,
            }
        raise CodebookFormatError(message)
