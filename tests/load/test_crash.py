"""SIGKILL the worker that is serving a write in the middle of its transaction (a pause
before commit holds it open: the middleware of ``tests.load.faults``, which the app's
settings for this test, ``tests.load.settings``, add): the write is not acknowledged,
leaves no event and no change, the worker is back within seconds, and the chain still
verifies.

CRASH_ROUNDS sets the number of kills (5 in CI; `make load` runs 20)."""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time
from collections import Counter
from pathlib import Path

from tests.load import faults
from tests.load.databases import Postgres
from tests.load.families import Family
from tests.load.harness import CRASH_ROUNDS, Result, Server, chain_verified, emit, wait_until


def told_of_crash(answer: int | str) -> bool:
    """A dropped connection or a server error: never an acknowledgement, nor silence."""
    return answer.startswith("error:") if isinstance(answer, str) else answer >= 500


def test_a_worker_killed_mid_transaction_leaves_no_trace_and_comes_back(
    postgres_family: Family, pg_db: Postgres, tmp_path: Path
) -> None:
    env = postgres_family.env | pg_db.env | {"DJANGO_SETTINGS_MODULE": "tests.load.settings"}
    recoveries: list[float] = []
    answers: list[int | str] = []
    partial, traces, outside_transaction = [], [], 0
    with Server(env, tmp_path / "gunicorn.log", workers=1, threads=4) as server:
        client = postgres_family.clients(server.port, 1)[0]
        for round_ in range(CRASH_ROUNDS):
            claim = postgres_family.claims[round_ % len(postgres_family.claims)]
            op, before = f"crash-{round_}", pg_db.verdict(claim, client.username)
            (worker,) = server.workers()
            outcome: list[Result] = []
            pause = {faults.HEADER: "3"}
            sender = threading.Thread(
                target=lambda: outcome.append(client.post_verdict(claim, op, pause))  # noqa: B023
            )
            sender.start()
            # Kill only once the write holds its transaction open, so every round is a
            # crash mid-transaction and not before it began.
            if not wait_until(lambda: pg_db.open_transactions() > 0, timeout=2.5):
                outside_transaction += 1
            os.kill(worker, signal.SIGKILL)
            killed = time.monotonic()
            sender.join(timeout=30)
            server.wait_healthy(timeout=30)
            recoveries.append(time.monotonic() - killed)
            answers.append(outcome[0].status if outcome else "no answer")
            if pg_db.verdict(claim, client.username) != before:
                partial.append(op)
            if pg_db.event_ops()[op]:
                traces.append(op)
        after = client.post_verdict(postgres_family.claims[0], "crash-after", {})
        log = server.log_tail()
    verified = chain_verified(env)
    emit(
        {
            "test": "crash",
            "rounds": CRASH_ROUNDS,
            "killed_mid_transaction": CRASH_ROUNDS - outside_transaction,
            "recovery_seconds": {
                "max": round(max(recoveries), 2),
                "median": round(statistics.median(recoveries), 2),
            },
            "client_saw": dict(Counter(str(a) for a in answers)),
            "partial_writes": len(partial),
            "events_for_unacknowledged_writes": len(traces),
            "write_after_crashes": after.status,
            "chain_verified": verified,
        }
    )
    assert outside_transaction == 0, f"the write was not paused in its transaction\n{log}"
    assert all(told_of_crash(a) for a in answers), answers
    assert partial == [] and traces == []
    assert max(recoveries) < 15
    assert after.acknowledged and pg_db.event_ops()["crash-after"] == 1
    assert verified
