"""A view that writes one row and nothing else: the floor that ``manage.py bench`` measures
the verdict round trip against. It goes through the same middleware stack as every page
(sessions, CSRF, login, CSP, ...) and then makes one INSERT into a table that only the
benchmark creates (``claims.bench.steps.create_write_table``). Only the bench's URLconf
(``claims.bench.urls``) routes to it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_POST

from claims.http import AuthedRequest

WRITE_TABLE = "claims_bench_write"


@require_POST
@login_required
def bench_write(request: AuthedRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {WRITE_TABLE} (user_id, written_at) VALUES (%s, %s)",
            [request.user.pk, timezone.now()],
        )
    return HttpResponse(status=204)
