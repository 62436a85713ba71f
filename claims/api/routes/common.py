"""What every operation declares: its path parameters' bounds and the errors it answers."""

from __future__ import annotations

from typing import Any

from ninja import Path, Query, Router

from claims.api.schemas import Problem
from claims.http import MAX_ID

# Every operation, on one router: a path read and written (a verdict, an adjudication)
# must be one route, whose methods the operations share.
router = Router()

# The problems any operation may answer, and those of a write made against a version.
READ_ERRORS = frozenset({400, 401, 403, 404, 405, 422, 429, 503})
WRITE_ERRORS = READ_ERRORS | {409, 412}


def answers(
    ok: Any, status: int = 200, *, write: bool = False, also: dict[int, Any] | None = None
) -> dict[Any, Any]:
    """An operation's answers: ``ok`` with ``status`` (and ``also``), and its problems."""
    return {status: ok, **(also or {}), (WRITE_ERRORS if write else READ_ERRORS): Problem}


def slug_param() -> Any:
    return Path(..., pattern=r"^[-a-zA-Z0-9_]{1,60}$", description="The project's slug.")


def id_param() -> Any:
    return Path(..., ge=1, le=MAX_ID)


def limit_param() -> Any:
    return Query(50, ge=1, le=200, description="Items per page.")


def after_param() -> Any:
    return Query(
        None,
        pattern=r"^[0-9]{1,19}$",
        description="The cursor from the previous page's 'next' link.",
    )
