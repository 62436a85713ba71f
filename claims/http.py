"""Typed requests for views, reading values from query strings safely, and the one way
views answer: ``respond``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.http import FileResponse, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

# The largest id either database stores (a signed 64-bit integer): beyond it SQLite raises
# OverflowError instead of finding nothing.
MAX_ID = 2**63 - 1


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


class AuthedRequest(HtmxRequest):
    user: User


def query_int(value: str | None) -> int | None:
    """A non-negative integer written in ASCII digits that a database can hold, else None.

    ``str.isdigit()`` accepts "²" and Arabic-Indic digits, which ``int()`` then refuses or
    reads; only 0-9 count here.
    """
    if not value or len(value) > 19 or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def query_text(value: str | None, limit: int) -> str:
    """A query value as text to filter by: stripped, cut to ``limit`` characters, and
    without NUL characters, which PostgreSQL text cannot hold (a query with one fails
    instead of finding nothing)."""
    return (value or "").replace("\x00", "").strip()[:limit]


def respond(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    partial: str = "",
    oob: Sequence[str] = (),
    status: int = 200,
    trigger: str = "",
    detail: dict[str, Any] | None = None,
) -> HttpResponse:
    """A page, or one of its fragments for htmx.

    ``template`` alone is the whole page. With ``partial``, only that ``{% partialdef %}``
    of it (``template#partial``), followed by the partials named in ``oob``, each rendered
    with ``oob`` set so that its root element carries ``hx-swap-oob`` and htmx puts it in
    place of the element with its id. ``trigger`` names an event that htmx fires on the
    page when the answer arrives (``hx-trigger="verdict-changed from:body"``), with
    ``detail`` as its data.

    Other htmx headers come from django-htmx around this (``retarget``, ``reswap``,
    ``HttpResponseClientRedirect``).
    """
    content = render_to_string(f"{template}#{partial}" if partial else template, context, request)
    for name in oob:
        content += render_to_string(f"{template}#{name}", context | {"oob": True}, request)
    response = HttpResponse(content, status=status)
    if trigger and detail is not None:
        trigger_client_event(response, trigger, detail)
    elif trigger:
        # django-htmx writes every event as JSON with its data ({"members-changed": {}});
        # an event without data goes as its bare name, which htmx reads the same way.
        response["HX-Trigger"] = trigger
    return response


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """A 400 page that says what was wrong with the request (``message`` is shown as is)."""
    return respond(request, "400.html", {"message": message}, status=400)


def export_download(job: Any) -> FileResponse:
    """The file of a finished audit export job, as an attachment named and typed as the
    export made it (the browser's download and the API's give the same)."""
    from claims import tasks

    result = job.result or {}
    return FileResponse(
        tasks.export_path(job).open("rb"),
        as_attachment=True,
        filename=result["filename"],
        content_type=result["content_type"],
    )
