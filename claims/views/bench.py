"""A view that writes one row and nothing else: the floor that ``manage.py bench`` measures
the verdict round trip against. It goes through the same middleware stack as every page
(sessions, CSRF, login, CSP, ...) and then makes one INSERT into a table that only the
benchmark creates (``claims.bench.create_write_table``). Served only when the benchmark
turns it on (``CLAIMS_BENCH``); a 404 otherwise."""

from __future__ import annotations

import os

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from claims.http import AuthedRequest

WRITE_TABLE = "claims_bench_write"


def enabled() -> bool:
    """``settings.CLAIMS_BENCH`` if it is set, else the environment (``CLAIMS_BENCH=1``)."""
    setting = getattr(settings, "CLAIMS_BENCH", None)
    if setting is None:
        return os.environ.get("CLAIMS_BENCH") == "1"
    return bool(setting)


def bench_write(request: AuthedRequest) -> HttpResponse:
    # Checked before login and method, so that the route does not exist at all when off.
    if not enabled():
        raise Http404("No such page.")
    return _write_one_row(request)


@require_POST
@login_required
def _write_one_row(request: AuthedRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WRITE_TABLE} (user_id, written_at) VALUES (%s, %s)",
            [request.user.pk, timezone.now()],
        )
    return HttpResponse(status=204)
