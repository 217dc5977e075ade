"""Stop reading an uploaded file as soon as it passes the size limit.

Django would otherwise stream any size to a temporary file before a view can refuse it. The
handler skips the oversized file and notes its name on the request, so the view can say why.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest


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
