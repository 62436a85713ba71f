"""Logging filters named in settings.LOGGING (imported while logging is configured, before
the apps are ready: nothing here may import models)."""

from __future__ import annotations

import logging


class NoTracebackFor403(logging.Filter):
    """On the ``django.request`` logger: a refused request (403) is an expected answer, so
    its log line goes out without the traceback of the PermissionDenied behind it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
