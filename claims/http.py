"""Typed requests for views, and reading values from query strings safely."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
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


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """A 400 page that says what was wrong with the request (``message`` is shown as is)."""
    return render(request, "400.html", {"message": message}, status=400)
