"""Every error of the API as RFC 9457 problem details (``application/problem+json``).

The exception handlers turn what the model verbs and the access helpers raise into a
problem; the middleware turns what answers before or around the API (an unknown path, a
method the path does not take, a database outage, any server error) into one too, so that
nothing under ``/api/`` is ever an HTML page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from claims.log.chain import api_token
from claims.models import Conflict

PROBLEM = "application/problem+json"
API_PREFIX = "/api/"
log = logging.getLogger("claims")


class PreconditionFailed(Exception):
    """A write without ``If-Match``, or with one that is not the current version (412)."""


class RateLimited(Exception):
    """A token over its rate limit (429)."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(f"This token may make {limit} such requests a minute.")
        self.retry_after = retry_after


def problem(
    status: int, detail: str, *, errors: list[dict[str, Any]] | None = None
) -> HttpResponse:
    """A problem detail: ``about:blank`` with the status's own title, as RFC 9457 asks for
    problems that need no type of their own; ``detail`` says what was wrong here."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM)


def _location(loc: Any) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in (loc or [])]


def field_errors(error: DjangoValidationError) -> list[dict[str, Any]]:
    """A Django ``ValidationError`` (a form's or a verb's) as the ``errors`` member."""
    if hasattr(error, "error_dict"):
        return [
            {"loc": ["body", field], "msg": message}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return [{"loc": ["body"], "msg": message} for message in error.messages]


def install(api: NinjaAPI) -> None:
    """The API's exception handlers, each answering with a problem."""

    def handler(exc_class: type[Exception]) -> Callable[[Callable[..., Any]], Any]:
        def register(function: Callable[[HttpRequest, Any], HttpResponse]) -> Any:
            api.add_exception_handler(exc_class, function)
            return function

        return register

    @handler(NinjaValidationError)
    def invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [{"loc": _location(e.get("loc")), "msg": str(e.get("msg"))} for e in exc.errors]
        return problem(422, "The request is not valid; see errors.", errors=errors)

    @handler(DjangoValidationError)
    def refused(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        detail = " ".join(exc.messages) or "The request is not valid."
        return problem(422, detail, errors=field_errors(exc))

    @handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = problem(
            401,
            "Send a live API token as 'Authorization: Bearer <token>' (a browser session "
            "may only read).",
        )
        response["WWW-Authenticate"] = 'Bearer realm="claims"'
        return response

    @handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem(exc.status_code, str(exc))

    @handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(404, str(exc) or "Not found.")

    @handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return problem(403, str(exc) or "Not allowed.")

    @handler(Conflict)
    def conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        return problem(409, f"{exc} Nothing was changed; read it again and retry.")

    @handler(PreconditionFailed)
    def precondition(request: HttpRequest, exc: PreconditionFailed) -> HttpResponse:
        return problem(412, str(exc))

    @handler(RateLimited)
    def limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
        response = problem(429, f"{exc} Retry after {exc.retry_after} seconds.")
        response["Retry-After"] = str(exc.retry_after)
        return response

    @handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        from django.db import InterfaceError, OperationalError

        if isinstance(exc, OperationalError | InterfaceError):
            response = problem(503, "The database is unavailable; nothing was saved.")
            response["Retry-After"] = "5"
            return response
        log.exception("API error", exc_info=exc)
        return problem(500, "Something went wrong on our side; nothing was saved.")


class ProblemMiddleware:
    """Under ``/api/``: an error answered by anything but the API's handlers (Django's 404
    for an unknown path, a 405 for a method the path does not take, the outage page) is
    answered as a problem instead; and the token a request came with is forgotten after
    it, whatever happened."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        token = api_token.set(None)
        try:
            response = self.get_response(request)
        finally:
            api_token.reset(token)
        if response.status_code < 400 or response.get("Content-Type", "").startswith(PROBLEM):
            return response
        status = response.status_code
        detail = {
            404: "There is nothing at this address.",
            405: f"This address does not take {request.method}.",
        }.get(status, HTTPStatus(status).description if status in HTTPStatus else "Error.")
        converted = problem(status, detail)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                converted[header] = response[header]
        return converted
