"""Health check for load balancers: the app answers, the database does too, and the
static files the pages link to were collected."""

from __future__ import annotations

from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

PROBE = "claims/app.css"


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    if not static_files_ready():
        body = {"status": "unavailable", "database": "up", "static": "not collected"}
        return JsonResponse(body, status=503)
    return JsonResponse({"status": "ok", "database": "up", "static": "ok"})


def static_files_ready() -> bool:
    """Whether the stylesheet can be named: with the production storage, a page whose
    static files were never collected fails on its first ``{% static %}``."""
    try:
        staticfiles_storage.url(PROBE)
    except ValueError:
        return False
    return True
