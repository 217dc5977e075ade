"""Reading a codebook file of any supported kind into a tree."""

from __future__ import annotations

from django.utils.translation import gettext as _

from coding.codebook import files as codebook_files
from coding.codebook import qdc
from coding.codebook.tree import CodebookFormatError, CodeNode

READABLE = (".json", ".csv", ".xlsx", ".qdc")


def read_codebook_file(filename: str, data: bytes) -> tuple[list[CodeNode], list[str]]:
    """The tree in the file and what reading it dropped (only .qdc drops anything)."""
    name = filename.lower()
    if not data.strip():
        raise CodebookFormatError(_("“%(name)s” is empty.") % {"name": filename})
    if name.endswith(".json"):
        return codebook_files.from_json(data), []
    if name.endswith((".csv", ".xlsx")):
        return codebook_files.from_table(filename, data), []
    if name.endswith(".qdc"):
        return qdc.from_qdc(data)
    if name.endswith(".qdpx"):
        raise CodebookFormatError(
            _(
                "“%(name)s” is a whole REFI-QDA project: import it with its texts and codings "
                "on the study's REFI-QDA project page (or `manage.py import_project`)."
            )
            % {"name": filename}
        )
    raise CodebookFormatError(
        _("“%(name)s” is not a codebook file; use %(kinds)s.")
        % {"name": filename, "kinds": ", ".join(READABLE)}
    )
