"""The bench's URLconf: production's pages, plus the one-row view the bench measures the
verdict round trip against. Served only under ``claims.bench.settings``."""

from __future__ import annotations

from django.urls import path

from claims.bench import views
from claims.urls import urlpatterns as production

urlpatterns = [
    *production,
    path("bench/write/", views.bench_write, name="bench-write"),
]
