"""A .qdpx archive opened defensively: a ZIP whose members are read with limits.

Nothing is extracted to disk; a member is read into memory in chunks, counting the bytes that
really come out (the sizes a ZIP header states can lie), so a zip bomb stops at the limit
instead of filling the memory. The limits hold for the whole archive, for each member, and
for the ratio of unpacked to packed size.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

from django.utils.translation import gettext as _

MAX_MEMBERS = 5_000
MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
# A text compresses about 3 to 10 times; beyond this ratio a member is a bomb, not a text.
MAX_RATIO = 200
# Small members may compress further (a run of blanks); the ratio applies above this size.
RATIO_FLOOR_BYTES = 1024 * 1024
_CHUNK = 64 * 1024


class ProjectFormatError(ValueError):
    """A project file refused as a whole; str(error) names the problem for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


@dataclass
class Archive:
    """The members of an opened archive, read on demand within the limits."""

    zip: zipfile.ZipFile
    read_bytes: int = 0

    @classmethod
    def open(cls, data: bytes) -> Archive:
        if not data:
            raise ProjectFormatError(_("The file is empty."))
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
            raise ProjectFormatError(
                _(
                    "The file is not a .qdpx project: a .qdpx is a ZIP archive, and this one "
                    "cannot be opened as ZIP (%(reason)s)."
                )
                % {"reason": error}
            ) from error
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise ProjectFormatError(
                _("The archive holds %(count)d files; at most %(max)d are accepted.")
                % {"count": len(members), "max": MAX_MEMBERS}
            )
        return cls(zip=archive)

    def names(self) -> list[str]:
        return [info.filename for info in self.zip.infolist() if not info.is_dir()]

    def find(self, name: str) -> str | None:
        """The member called `name`, compared without case and leading slashes or "./"."""
        wanted = _clean(name).casefold()
        for member in self.names():
            if _clean(member).casefold() == wanted:
                return member
        return None

    def read(self, name: str) -> bytes:
        """The member's bytes; refuses a member or an archive that unpacks past the limits."""
        info = self.zip.getinfo(name)
        out = bytearray()
        try:
            with self.zip.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    out += chunk
                    self._check(name, len(out), info.compress_size)
        except ProjectFormatError:
            raise  # past a limit: its own message
        except (
            zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
            NotImplementedError,
        ) as error:  # fmt: skip
            # A damaged member (CRC, truncated or corrupt deflate data) or an unsupported
            # compression method, a bad offset (ValueError), an encrypted member (RuntimeError).
            raise ProjectFormatError(
                _("The archive is damaged: “%(name)s” cannot be read (%(reason)s).")
                % {"name": name, "reason": error}
            ) from error
        self.read_bytes += len(out)
        return bytes(out)

    def _check(self, name: str, size: int, packed: int) -> None:
        if size > MAX_MEMBER_BYTES:
            raise ProjectFormatError(
                _(
                    "“%(name)s” unpacks to more than %(max)d MB; the archive is refused "
                    "(a zip bomb, or a file far larger than a project's texts)."
                )
                % {"name": name, "max": MAX_MEMBER_BYTES // 1_048_576}
            )
        if self.read_bytes + size > MAX_TOTAL_BYTES:
            raise ProjectFormatError(
                _("The archive unpacks to more than %(max)d MB in all; it is refused.")
                % {"max": MAX_TOTAL_BYTES // 1_048_576}
            )
        if size > RATIO_FLOOR_BYTES and size > MAX_RATIO * max(packed, 1):
            raise ProjectFormatError(
                _(
                    "“%(name)s” unpacks to more than %(ratio)d times its packed size; the "
                    "archive is refused as a zip bomb."
                )
                % {"name": name, "ratio": MAX_RATIO}
            )


def _clean(name: str) -> str:
    name = name.replace("\\", "/")
    while name.startswith(("/", "./")):
        name = name[2:] if name.startswith("./") else name[1:]
    return name
