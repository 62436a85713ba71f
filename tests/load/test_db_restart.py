"""Restart PostgreSQL during a load run: requests fail cleanly during the gap (503 from
our middleware, or a dropped connection; never a hang nor another error), writes succeed
again after it, no acknowledged write is lost, no event lacks its acknowledgement, and the
chain still verifies.

The restart kills every connection to the local cluster, this test process's included."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from django.db import connections

from tests.load.databases import Postgres, pg_cluster_restart
from tests.load.families import Family
from tests.load.harness import Result, Run, Server, chain_verified, emit, match_events, run_clients

RESTART_AFTER = 2.0  # seconds into the run
RUN_SECONDS = 8.0
RECOVERED_WITHIN = 2.0  # seconds after the restart, every request succeeds again


def clean_failure(result: Result) -> bool:
    """Our middleware's 503, or a dropped connection: never a 500, nor a hang."""
    return result.status == 503 or str(result.status).startswith("error:")


def phase(run: Run, results: list[Result]) -> dict[str, object]:
    return {
        "requests": len(results),
        "writes_acknowledged": sum(r.write and r.acknowledged for r in results),
        "status": run.statuses(results),
    }


def test_a_postgres_restart_fails_cleanly_and_loses_no_write(
    postgres_family: Family, pg_db: Postgres, tmp_path: Path
) -> None:
    env = postgres_family.env | pg_db.env
    window: dict[str, float] = {}
    errors: list[BaseException] = []
    stop = threading.Event()

    def restart() -> None:
        try:
            time.sleep(RESTART_AFTER)
            window["start"] = time.monotonic()
            pg_cluster_restart()
        except BaseException as error:
            errors.append(error)
        finally:
            window["end"] = time.monotonic()
            time.sleep(max(RECOVERED_WITHIN + 2, begun + RUN_SECONDS - time.monotonic()))
            stop.set()

    try:
        with Server(env, tmp_path / "gunicorn.log") as server:
            clients = postgres_family.clients(server.port, 8)
            restarter = threading.Thread(target=restart)
            begun = time.monotonic()
            restarter.start()
            family = postgres_family
            run = run_clients(clients, family.claims, family.articles, seconds=60, stop=stop)
            restarter.join(timeout=180)
            log = server.log_tail(15)
    finally:
        # This process's own connections (the suite's test database, in the PostgreSQL
        # run) died with the restart: let the next test open fresh ones.
        connections.close_all()
    start, end = window["start"], window["end"]
    before = [r for r in run.results if r.started < start]
    during = [r for r in run.results if start <= r.started <= end]
    after = [r for r in run.results if r.started > end]
    unclean = [r for r in run.results if not (r.status in (200, 409) or clean_failure(r))]
    events = match_events(pg_db, run.acknowledged, run.results)
    verified = chain_verified(env)
    emit(
        {
            "test": "db-restart",
            "clients": len(clients),
            **run.figures(),
            "restart_seconds": round(end - start, 2),
            "before": phase(run, before),
            "during": phase(run, during),
            "after": phase(run, after),
            "unclean_failures": len(unclean),
            **events,
            "chain_verified": verified,
        }
    )
    assert not errors, errors
    assert not unclean, f"{len(unclean)} unclean failures, e.g. {unclean[:3]}\n{log}"
    late = [r for r in after if r.started > end + RECOVERED_WITHIN and r.status not in (200, 409)]
    assert not late, f"no recovery after the restart: {late[:3]}"
    assert any(r.write and r.acknowledged for r in after), "no write succeeded after it"
    assert events["missing_events"] == events["duplicate_events"] == []
    assert events["orphan_events"] == []
    assert verified
