"""Request-scoped context for the write path (the log's own context variables, set and
read here), security headers on early errors, and logging of denied requests."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.middleware.security import SecurityMiddleware
from django_htmx.http import HttpResponseClientRefresh

from claims.log.chain import operation_id, write_committed

OPERATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
denied_log = logging.getLogger("claims.denied")


class ErrorHeadersMiddleware:
    """Outermost: the security headers on responses made before the middlewares that add
    them could run.

    A request with a Host outside ALLOWED_HOSTS is refused inside SecurityMiddleware itself
    (its HTTPS redirect asks for the host), so that 400 page would otherwise leave with
    none of them. Each middleware below adds a header only where it is missing, so
    running them again on an ordinary response changes nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.adders: list[
            SecurityMiddleware | XFrameOptionsMiddleware | ContentSecurityPolicyMiddleware
        ] = [
            SecurityMiddleware(get_response),
            XFrameOptionsMiddleware(get_response),
            ContentSecurityPolicyMiddleware(get_response),
        ]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response or "X-Content-Type-Options" not in response:
            for adder in self.adders:
                response = adder.process_response(request, response)
        return response


def printable(value: str, limit: int = 300) -> str:
    """Escape control characters so a logged value cannot forge or split log lines."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", value[:limit])


class OperationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        op = request.headers.get("X-Operation-Id", "")
        op_token = operation_id.set(op if OPERATION_ID.fullmatch(op) else None)
        committed_token = write_committed.set(False)
        try:
            return self.get_response(request)
        finally:
            operation_id.reset(op_token)
            write_committed.reset(committed_token)


class DeniedRequest(HttpRequest):
    """For type checking only: a request as :class:`DeniedLogMiddleware` marks it, with
    why it was denied (the exception's message, if one said)."""

    denied_reason: str


class DeniedLogMiddleware:
    """Log every 403 and 404 inside a project with user, path and reason (no secrets:
    never the query string, headers or body)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: DeniedRequest) -> HttpResponse:
        request.denied_reason = ""
        response = self.get_response(request)
        if response.status_code in (403, 404) and request.path.startswith("/p/"):
            user = request.user.get_username() if request.user.is_authenticated else "-"
            denied_log.warning(
                "denied status=%s user=%s method=%s path=%s reason=%s",
                response.status_code,
                printable(user),
                request.method,
                printable(request.path),
                printable(getattr(request, "denied_reason", "") or "not allowed"),
            )
        return response

    def process_exception(self, request: DeniedRequest, exception: Exception) -> None:
        request.denied_reason = str(exception)


class DatabaseUnavailableMiddleware:
    """A database that is down, restarting or full gets a clear 503, not a server error:
    the write path's transaction was rolled back, so nothing was half-written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.db import InterfaceError, OperationalError

        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logging.getLogger("claims").error("database unavailable: %s", printable(str(exception)))
        # Plain pages, rendered without the request: the base template would ask the
        # (unavailable) database for the user and the session.
        if write_committed.get():
            # Under htmx, a full reload rather than this plain page swapped in for a fragment.
            response: HttpResponse = HttpResponseClientRefresh()
            response.content = SAVED_BUT_UNREFRESHED
            return response
        response = HttpResponse(UNAVAILABLE, status=503)
        response["Retry-After"] = "5"
        return response


def _plain_page(title: str, message: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title} · claims</title></head><body><main><h1>{title}</h1>"
        f"<p>{message}</p></main></body></html>"
    )


UNAVAILABLE = _plain_page(
    "Try again in a moment",
    "The database is unavailable or full right now. Nothing you sent was saved, not even "
    "in part. Please try again shortly.",
)
SAVED_BUT_UNREFRESHED = _plain_page(
    "Saved",
    "Your change was saved, but the page could not be refreshed because the database "
    "stopped answering. Reload the page in a moment.",
)
