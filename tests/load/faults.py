"""Fault injection for the load harness's app processes, installed by their settings
(``tests.load.settings``): nothing of it is in the application's own write path.

A request with ``X-Test-Pause-Before-Commit: <seconds>`` (at most 30) has its write held
open for that long just before COMMIT, right after the write path's last statement (the
chain head moved past the new event), so that a test can kill the worker in the middle
of the transaction (``test_crash.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse

from claims.models import AuditChain

HEADER = "X-Test-Pause-Before-Commit"
LONGEST_PAUSE = 30.0


def requested_pause(request: HttpRequest) -> float:
    """The seconds the request asks to pause for; 0 for none, or for nonsense."""
    try:
        seconds = float(request.headers.get(HEADER, "0"))
    except ValueError:
        return 0.0
    return min(seconds, LONGEST_PAUSE) if seconds > 0 else 0.0


class PauseBeforeCommitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Writer.append ends each write by moving the chain head: nothing but COMMIT follows.
        self.head_moved = f"UPDATE {connection.ops.quote_name(AuditChain._meta.db_table)} "

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = requested_pause(request)
        if not seconds:
            return self.get_response(request)
        with connection.execute_wrapper(partial(self.pause_after_head, seconds)):
            return self.get_response(request)

    def pause_after_head(
        self, seconds: float, execute: Callable[..., Any], sql: str, *args: Any
    ) -> Any:
        result = execute(sql, *args)
        if sql.startswith(self.head_moved) and connection.in_atomic_block:
            time.sleep(seconds)  # the transaction stays open: the test kills the worker now
        return result
