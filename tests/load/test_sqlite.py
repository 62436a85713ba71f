"""SQLite under gunicorn: 16 concurrent writers never see "database is locked", and a full
disk (simulated with max_page_count) fails cleanly with a 503 and no partial write."""

from __future__ import annotations

import random
import string
from pathlib import Path

from tests.load.databases import PROJECT, SQLite
from tests.load.families import Family
from tests.load.harness import (
    LOAD_SECONDS,
    UNAVAILABLE,
    Server,
    chain_verified,
    emit,
    match_events,
    run_clients,
)


def test_sixteen_sqlite_writers_never_see_database_is_locked(
    sqlite_family: Family, sqlite_db: SQLite, tmp_path: Path
) -> None:
    env = sqlite_family.env | sqlite_db.env
    seconds = max(4, LOAD_SECONDS // 2)
    with Server(env, tmp_path / "gunicorn.log") as server:
        clients = sqlite_family.clients(server.port)
        family = sqlite_family
        run = run_clients(clients, family.claims, family.articles, seconds=seconds, verdicts=1.0)
        log = server.log_text()
    events = match_events(sqlite_db, run.acknowledged, run.results)
    verified = chain_verified(env)
    locked = log.count("database is locked")
    emit(
        {"test": "sqlite-writers", "clients": len(clients), **run.figures(), **events}
        | {"database_is_locked": locked, "chain_verified": verified}
    )

    failed = [r for r in run.results if r.server_error or r.connection_error]
    assert locked == 0 and not failed, f"{len(failed)} failed, e.g. {failed[:3]}\n{log[-3000:]}"
    assert run.acknowledged
    assert events["missing_events"] == events["duplicate_events"] == []
    assert events["orphan_events"] == []
    assert verified


def test_a_full_sqlite_disk_fails_cleanly_and_writes_nothing(
    sqlite_family: Family, sqlite_db: SQLite, tmp_path: Path
) -> None:
    # Let the file grow by a few pages only: a handful of evidence adds with long quotes
    # (each spans several pages), then the disk is "full".
    limit = sqlite_db.page_count() + 24
    env = sqlite_family.env | sqlite_db.env
    full = env | {"SQLITE_EXTRA_PRAGMAS": f" PRAGMA max_page_count={limit};"}
    rng = random.Random(7)
    saved, refused = [], []
    with Server(full, tmp_path / "gunicorn.log") as server:
        client = sqlite_family.clients(server.port, 1)[0]
        claim, article = sqlite_family.claims[0], sqlite_family.articles[0]
        for n in range(200):
            quote = "".join(rng.choices(string.ascii_letters + " ", k=5000))
            result = client.add_evidence(claim, f"full-{n}", quote)
            body = client.last_body
            if result.acknowledged:
                saved.append(result.op)
            else:
                refused.append((result.op, result.status, UNAVAILABLE in body))
                if len(refused) >= 3:
                    break
        page = client.timed("article", "GET", f"/p/{PROJECT}/a/{article}/")[0]
        health = server.healthy()
        log = server.log_tail()
    events = match_events(sqlite_db, set(saved))
    rows_left = {op: sqlite_db.evidence_titled(op) for op, _, _ in refused}
    verified = chain_verified(env)
    emit(
        {
            "test": "sqlite-full-disk",
            "max_page_count": limit,
            "writes_acknowledged": len(saved),
            "writes_refused": len(refused),
            "refused_status": sorted({str(status) for _, status, _ in refused}),
            "refusal_says_nothing_saved": all(said for _, _, said in refused),
            "rows_for_refused_writes": sum(rows_left.values()),
            **events,
            "reads_after": page.status,
            "healthz_after": health,
            "chain_verified": verified,
        }
    )
    assert saved, "not even one write fitted"
    assert refused, f"the disk never filled up\n{log}"
    assert all(status == 503 and said for _, status, said in refused), f"{refused}\n{log}"
    assert sum(rows_left.values()) == 0
    assert all(sqlite_db.evidence_titled(op) == 1 for op in saved)
    assert events["missing_events"] == events["duplicate_events"] == []
    assert events["orphan_events"] == [], "a refused write left an event"
    assert page.status == 200 and health, log
    assert verified
