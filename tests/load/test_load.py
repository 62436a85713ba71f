"""16 clients against gunicorn and PostgreSQL: no 5xx, no dropped connection, every
acknowledged write has exactly one audit event (matched by operation id), and no event
lacks its acknowledgement. The mix: 80% verdict changes, 10% evidence adds, 10% reads.

LOAD_SECONDS sets the length (8 s in CI; `make load` runs 60)."""

from __future__ import annotations

from pathlib import Path

from tests.load.databases import Postgres
from tests.load.families import Family
from tests.load.harness import LOAD_SECONDS, Server, chain_verified, emit, match_events, run_clients


def test_sixteen_clients_lose_no_write_and_get_no_server_error(
    postgres_family: Family, pg_db: Postgres, tmp_path: Path
) -> None:
    env = postgres_family.env | pg_db.env
    with Server(env, tmp_path / "gunicorn.log") as server:
        clients = postgres_family.clients(server.port)
        family = postgres_family
        run = run_clients(clients, family.claims, family.articles, seconds=LOAD_SECONDS)
        log = server.log_tail(15)
    events = match_events(pg_db, run.acknowledged, run.results)
    verified = chain_verified(env)
    summary = {"test": "load", "clients": len(clients), **run.figures(), **events}
    emit(summary | {"chain_verified": verified})

    failed = [r for r in run.results if r.server_error or r.connection_error]
    assert not failed, f"{len(failed)} failed requests, e.g. {failed[:3]}\n{log}"
    # Nothing else either: a 409 is a verdict that moved on, anything else a broken client.
    assert set(run.statuses()) <= {"200", "409"}, run.statuses()
    assert run.acknowledged, "no write was acknowledged"
    assert events["missing_events"] == events["duplicate_events"] == []
    assert events["orphan_events"] == []
    assert events["audit_events"] == len(run.acknowledged)
    assert verified
