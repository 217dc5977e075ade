"""Filters for the project's log (settings.LOGGING)."""

from __future__ import annotations

import logging


class ForbiddenOnOneLine(logging.Filter):
    """Log a 403 as its one line ("Forbidden (Permission denied): /path"), not a traceback.

    A member without a right who opens a page is refused by design; the traceback of the
    PermissionDenied that refused them says nothing an operator needs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
