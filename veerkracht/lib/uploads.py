"""The size limit on files users give us (UPLOAD_MAX_BYTES), from the web and the commands.

The upload handler stops reading an uploaded file as soon as it passes the limit: Django would
otherwise stream any size to a temporary file before a view can refuse it. It skips the
oversized file and notes its name on the request, so the view can say why. `check_size` is the
one rule and message for everything else (other handlers, data already read, command files).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest
from django.utils.translation import gettext as _


class UploadTooLarge(ValueError):
    """An upload over UPLOAD_MAX_BYTES; str(error) is the message for the user."""


class SizeLimitUploadHandler(FileUploadHandler):
    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_MAX_BYTES:
            refused = getattr(self.request, "refused_uploads", [])
            refused.append(self.file_name)
            setattr(self.request, "refused_uploads", refused)  # noqa: B010
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def refused_uploads(request: HttpRequest) -> list[str]:
    """Names of files the handler skipped for their size; touching FILES parses the body."""
    _ = request.FILES
    return list(getattr(request, "refused_uploads", []))


def _limit_mb() -> int:
    return max(1, settings.UPLOAD_MAX_BYTES // 1_048_576)


def refuse_oversized(request: HttpRequest, form: Any, field: str) -> bool:
    """Put the size message on `field` for files the handler skipped; True when there were any."""
    names = refused_uploads(request)
    if names:
        # Validate first so the form has its errors; the skipped file's "required" error is
        # replaced by the reason it is missing.
        form.is_valid()
        form.errors[field] = form.error_class(
            [
                _("“%(name)s” is larger than %(limit)s MB; nothing was stored.")
                % {"name": name, "limit": _limit_mb()}
                for name in names
            ]
        )
    return bool(names)


def check_size(name: str, size: int) -> None:
    """Refuse a file of `size` bytes over UPLOAD_MAX_BYTES with UploadTooLarge."""
    if size > settings.UPLOAD_MAX_BYTES:
        raise UploadTooLarge(
            _("“%(name)s” is %(size)s MB; the limit is %(limit)s MB.")
            % {"name": name, "size": round(size / 1_048_576, 1), "limit": _limit_mb()}
        )


def read_upload(upload: Any) -> tuple[str, bytes]:
    """The file's name and bytes; refuses one over the limit (for handlers other than ours)."""
    check_size(upload.name, upload.size)
    return upload.name, upload.read()


def read_file(path: Path) -> bytes:
    """A file's bytes for a command; refuses one over the limit before reading it."""
    check_size(path.name, path.stat().st_size)
    return path.read_bytes()
