"""An upload handler that stops an upload as soon as it passes the import limit, before
the rest of the request body is read or stored."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from claims.importer import max_bytes


class TooLarge(Exception):
    """The upload passed the import limit."""


class LimitedUploadHandler(FileUploadHandler):
    """Counts the bytes of each uploaded file and stops reading past ``max_bytes()``.

    Put first in ``request.upload_handlers``: a refused upload then never reaches the
    memory or temporary-file handlers.
    """

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.limit = max_bytes()
        self.received = 0
        self.exceeded = False
        self.hopeless = False

    def handle_raw_input(
        self,
        input_data: Any,
        META: Any,
        content_length: int,
        boundary: Any,
        encoding: Any = None,
    ) -> None:
        # A body larger than the limit plus room for the form fields cannot hold an
        # acceptable file: stop at its first chunk (fields before the file still parse,
        # so the CSRF token is read and the refusal is shown in the form).
        self.hopeless = content_length > self.limit + 64 * 1024

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.hopeless or self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
