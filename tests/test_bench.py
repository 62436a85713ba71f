"""``manage.py bench --quick`` runs end to end and prints every figure; the minimal write
view exists only in the benchmark's URLconf. No timing is asserted anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from claims.bench.steps import create_write_table

ROOT = Path(__file__).resolve().parent.parent

# Every figure the bench prints, as {"median", "p95", "n"}: (where, which keys).
FIGURES = [
    ("import.sample", ["ms"]),
    ("import.texts[]", ["seconds", "claims_per_s", "peak_mb"]),
    ("article_screen[]", ["page_ms", "fragment_ms"]),
    ("consensus", ["page_ms", "statistics_ms", "summarise_ms"]),
    (
        "round_trip",
        ["verdict_one_client_ms", "verdict_one_client_per_s", "verdict_4_clients_per_s"]
        + ["minimal_one_client_ms", "minimal_one_client_per_s", "minimal_4_clients_per_s"]
        + ["annotate_one_client_ms", "annotate_one_client_per_s", "annotate_4_clients_per_s"],
    ),
    ("long_article_first_screen[]", ["first_page_ms", "next_page_ms"]),
    ("audit", ["jsonl_events_per_s", "jsonl_peak_mb", "csv_events_per_s", "csv_peak_mb"]),
    ("audit", ["verify_events_per_s", "verify_peak_mb"]),
    ("alignment", ["ms", "rewrite_ms"]),
    ("footprint", ["worker_rss_mb", "app_rss_mb", "app_pss_mb"]),
]
COUNTS = [
    ("article_screen[]", ["page_queries", "page_bytes", "fragment_queries", "fragment_bytes"]),
    ("consensus", ["page_queries", "page_bytes"]),
    ("long_article_first_screen[]", ["claims", "first_page_queries", "first_page_bytes"]),
    ("long_article_first_screen[]", ["next_page_queries", "next_page_bytes"]),
    ("round_trip", ["ratio_one_client_ms", "ratio_4_clients_per_s"]),
    ("alignment", ["claims", "new_claims", "wrong"]),
    ("footprint", ["venv_mb", "venv_packages", "runtime_mb", "runtime_packages"]),
]


def places(result: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """The objects at a dotted path; ``name[]`` stands for every item of a list."""
    found = [result]
    for part in where.split("."):
        if part.endswith("[]"):
            found = [item for parent in found for item in parent[part[:-2]]]
        else:
            found = [parent[part] for parent in found]
    return found


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@pytest.fixture(scope="module")
def quick_result() -> dict[str, Any]:
    env = os.environ | {"DEBUG": "1"}
    # DATABASE_URL passes through when the suite runs on PostgreSQL: the bench then makes
    # (and drops) a database of its own on that server, so both engines are exercised.
    done = subprocess.run(
        [sys.executable, "manage.py", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout)


def test_quick_bench_prints_one_json_object_with_the_machine(quick_result: dict) -> None:
    expected = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    assert quick_result["database"] == expected
    assert quick_result["cores"] == os.cpu_count()
    assert quick_result["quick"] is True
    assert quick_result["runs"] == 2
    for key in ("measured_at", "python", "django"):
        assert quick_result[key]


def test_quick_bench_has_every_figure_as_median_and_p95(quick_result: dict) -> None:
    for where, keys in FIGURES:
        for place in places(quick_result, where):
            for key in keys:
                assert is_number(place[key]["median"]), (where, key)
                assert is_number(place[key]["p95"]), (where, key)
    for where, keys in COUNTS:
        for place in places(quick_result, where):
            for key in keys:
                assert is_number(place[key]), (where, key)
    assert len(quick_result["import"]["texts"]) == 2
    assert len(quick_result["article_screen"]) == 2


def test_quick_bench_skips_the_fresh_clone_with_a_reason(quick_result: dict) -> None:
    assert quick_result["footprint"]["fresh_clone"] is None
    assert "--quick" in quick_result["skipped"]["footprint.fresh_clone"]


def test_quick_bench_opens_long_articles_a_page_at_a_time(quick_result: dict) -> None:
    small, large = quick_result["long_article_first_screen"]
    assert large["claims"] > 3 * small["claims"]
    # The first screen does not grow with the article: the same queries, and bytes that
    # grow by far less than the claims do.
    assert large["first_page_queries"] == small["first_page_queries"]
    assert large["first_page_bytes"] < 1.5 * small["first_page_bytes"]


def test_quick_bench_counts_the_queries_of_each_screen(quick_result: dict) -> None:
    screens = [*quick_result["article_screen"], quick_result["consensus"]]
    assert all(screen["page_queries"] > 0 for screen in screens)


@pytest.fixture
def write_table(db: Any) -> None:
    create_write_table()


@pytest.fixture
def bench_urls(settings: Any) -> None:
    """The URLconf the bench's app processes serve (``claims.bench.settings``)."""
    settings.ROOT_URLCONF = "claims.bench.urls"


def test_production_urlconf_has_no_bench_route(client: Any, bob: Any) -> None:
    with pytest.raises(Resolver404):
        resolve("/bench/write/")
    with pytest.raises(NoReverseMatch):
        reverse("bench-write")
    client.force_login(bob)
    assert client.post("/bench/write/").status_code == 404


def test_bench_urlconf_serves_production_pages_and_the_bench_route(bench_urls: None) -> None:
    assert resolve("/bench/write/").url_name == "bench-write"
    assert resolve("/p/demo/").url_name == "project-detail"


def test_bench_settings_are_production_settings_with_the_bench_urlconf() -> None:
    from claims import settings as production
    from claims.bench import settings as bench

    names = {name for name in dir(production) if name.isupper()}
    assert {name for name in dir(bench) if name.isupper()} == names
    assert {n for n in names if getattr(bench, n) != getattr(production, n)} == {"ROOT_URLCONF"}
    assert bench.ROOT_URLCONF == "claims.bench.urls"


def test_minimal_view_writes_one_row(client: Any, bob: Any, bench_urls: None, write_table: None):
    client.force_login(bob)
    assert client.post("/bench/write/").status_code == 204
    with connection.cursor() as cursor:
        cursor.execute("SELECT user_id FROM claims_bench_write")
        assert cursor.fetchall() == [(bob.pk,)]


def test_minimal_view_needs_login_and_post(client: Any, bob: Any, bench_urls: None) -> None:
    assert client.post("/bench/write/").status_code == 302
    client.force_login(bob)
    assert client.get("/bench/write/").status_code == 405
