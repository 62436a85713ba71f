"""Sixteen writers appending to one project's chain at once leave one unbroken chain.

Each writer is a thread with its own database connection, toggling its own member's role
with ``Project.set_member`` (one event per call), all released together by a barrier.

PostgreSQL runs in this process against the test database, committing for real
(``transactional_db``). SQLite runs in a subprocess against a temporary *file* database
configured by the settings file as production is (WAL, ``transaction_mode="IMMEDIATE"``,
busy timeout), because the test database pytest-django makes for SQLite lives in memory.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from claims.log import chain as log_chain
from claims.models import AuditChain, Project, Role
from tests.base import run_on_sqlite_file
from tests.tampering import purge_audit_events

THREADS = 16  # more than this machine's cores: the scheduler interleaves them
CALLS_PER_THREAD = 100
# The control run collides within the first few calls; more would only cost time.
CONTROL_CALLS_PER_THREAD = 20
SLUG = "race"

# Runs race() in a fresh interpreter whose settings point at a SQLite file.
SUBPROCESS_SCRIPT = """
import json, sys
import django
django.setup()
from django.conf import settings
settings.DEBUG = False  # as pytest-django runs tests: no query log
from django.core.management import call_command
from claims.log import chain
from tests.test_chain_concurrency import race, without_the_lock
call_command("migrate", verbosity=0)
run = json.loads(sys.argv[1])
if not run["lock_chain"]:
    chain.lock_head = without_the_lock
print(json.dumps(race(calls_per_thread=run["calls_per_thread"])))
"""


def race(threads: int = THREADS, calls_per_thread: int = CALLS_PER_THREAD) -> dict[str, Any]:
    """Make a project with one member per thread, let the threads append at once, and
    describe what the chain looks like afterwards."""
    user_model = get_user_model()
    admin = user_model.objects.create(username="admin")
    project = Project.create(SLUG, "Race", admin=admin)
    writers = [user_model.objects.create(username=f"writer{n:02}") for n in range(threads)]
    for writer in writers:
        project.set_member(writer, Role.VIEWER, actor=admin)
    start_seq = AuditChain.objects.get(project=project).head_seq

    barrier = threading.Barrier(threads)
    results: list[tuple[int, list[str]]] = []
    lock = threading.Lock()

    def write(username: str) -> None:
        appended, errors = 0, []
        try:
            if connection.vendor == "postgresql":
                # The race is about locks, not durability: skip the WAL flush per commit,
                # which would otherwise be most of the run time.
                with connection.cursor() as cursor:
                    cursor.execute("SET synchronous_commit = off")
            mine = Project.objects.get(slug=SLUG)
            user = user_model.objects.get(username=username)
            actor = user_model.objects.get(username="admin")
            role = Role.VIEWER
            barrier.wait(timeout=30)
            for _ in range(calls_per_thread):
                wanted = Role.ANALYST if role == Role.VIEWER else Role.VIEWER
                try:
                    mine.set_member(user, wanted, actor=actor)
                except Exception as exc:  # every failure is counted, none may pass silently
                    errors.append(f"{type(exc).__name__}: {exc}")
                else:
                    role, appended = wanted, appended + 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()
        with lock:
            results.append((appended, errors))

    began = time.monotonic()
    workers = [threading.Thread(target=write, args=(writer.get_username(),)) for writer in writers]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    seconds = time.monotonic() - began

    chain = AuditChain.objects.select_related("project").get(project=project)
    events = chain.events.order_by("seq")
    last = events.last()
    checked, problem = log_chain.verify_chain(chain)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode" if connection.vendor == "sqlite" else "SELECT 'n/a'")
        journal_mode = cursor.fetchone()[0]
    return {
        "vendor": connection.vendor,
        "journal_mode": journal_mode,
        "transaction_mode": connection.settings_dict["OPTIONS"].get("transaction_mode"),
        "busy_timeout": connection.settings_dict["OPTIONS"].get("timeout"),
        "threads_finished": len(results),
        "appended": sum(appended for appended, _errors in results),
        "errors": [error for _appended, errors in results for error in errors],
        "start_seq": start_seq,
        "new_seqs": list(events.filter(seq__gt=start_seq).values_list("seq", flat=True)),
        "head_seq": chain.head_seq,
        "head_hash": chain.head_hash,
        "last_seq": last.seq,
        "last_hash": last.hash,
        "checked": checked,
        "problem": str(problem) if problem else None,
        "seconds": round(seconds, 2),
    }


def without_the_lock(project: Project) -> AuditChain:
    """The control run's ``lock_head``: the head row read, not locked."""
    chain = AuditChain.objects.get(project=project)
    chain.project = project
    return chain


def race_in_sqlite_file(path: Path, *, lock_chain: bool, calls_per_thread: int) -> dict[str, Any]:
    run = {"lock_chain": lock_chain, "calls_per_thread": calls_per_thread}
    return run_on_sqlite_file(SUBPROCESS_SCRIPT, path, json.dumps(run), timeout=300)


def run_race(tmp_path: Path, *, lock_chain: bool, calls_per_thread: int) -> dict[str, Any]:
    """PostgreSQL in this process (the caller switches the lock); SQLite in a subprocess."""
    if connection.vendor == "sqlite":
        return race_in_sqlite_file(
            tmp_path / "race.sqlite3", lock_chain=lock_chain, calls_per_thread=calls_per_thread
        )
    return race(calls_per_thread=calls_per_thread)


@pytest.fixture
def committed(transactional_db: Any) -> Iterator[None]:
    """Rows commit for real so that every thread's connection sees them. The events are
    purged (triggers lifted) before pytest-django's flush, which the triggers refuse."""
    yield
    purge_audit_events()


def assert_one_unbroken_chain(outcome: dict[str, Any], calls_per_thread: int) -> None:
    start, total = outcome["start_seq"], THREADS * calls_per_thread
    assert outcome["threads_finished"] == THREADS
    assert outcome["errors"] == []  # "database is locked" included: the busy timeout waits
    assert outcome["appended"] == total
    # Contiguous: no gap (a lost event) and no repeat (a fork).
    assert outcome["new_seqs"] == list(range(start + 1, start + total + 1))
    assert outcome["last_seq"] == start + total
    assert (outcome["head_seq"], outcome["head_hash"]) == (
        outcome["last_seq"],
        outcome["last_hash"],
    )
    assert (outcome["checked"], outcome["problem"]) == (start + total, None)


def test_sixteen_writers_append_one_unbroken_chain(committed: Any, tmp_path: Path) -> None:
    outcome = run_race(tmp_path, lock_chain=True, calls_per_thread=CALLS_PER_THREAD)
    if outcome["vendor"] == "sqlite":
        # The race ran with the settings production uses, not some test default.
        assert outcome["journal_mode"] == "wal"
        assert outcome["transaction_mode"] == "IMMEDIATE"
        assert outcome["busy_timeout"] > 0
    assert_one_unbroken_chain(outcome, CALLS_PER_THREAD)


def test_without_the_chain_lock_concurrent_appends_are_caught(
    committed: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control run: with ``chain.lock_head`` not locking, writers read a stale head.

    PostgreSQL: UNIQUE(chain, seq) must reject the colliding appends (IntegrityError), or
    else the verifier must report a problem; a forked chain must never verify.

    SQLite: the control is PostgreSQL-only. SQLite has no row lock to skip: ``BEGIN
    IMMEDIATE`` already serialises the writers, so the documented behaviour is that the
    chain stays intact even without the lock. That is asserted, not skipped.
    """
    calls = CONTROL_CALLS_PER_THREAD
    if connection.vendor == "sqlite":
        outcome = run_race(tmp_path, lock_chain=False, calls_per_thread=calls)
        assert_one_unbroken_chain(outcome, calls)
        return
    assert hasattr(log_chain, "lock_head"), "chain.writing() has no lock_head to replace"
    monkeypatch.setattr(log_chain, "lock_head", without_the_lock)
    outcome = run_race(tmp_path, lock_chain=False, calls_per_thread=calls)
    start, errors, new_seqs = outcome["start_seq"], outcome["errors"], outcome["new_seqs"]
    assert outcome["threads_finished"] == THREADS
    assert errors or outcome["problem"], "appends without the lock went unnoticed"
    # Every failure is the seq constraint doing its job, nothing else.
    assert all(e.startswith("IntegrityError") and "audit_seq_once" in e for e in errors), errors
    # Each successful call wrote exactly one event, each failed one none, and no seq twice.
    assert len(new_seqs) == outcome["appended"] == THREADS * calls - len(errors)
    assert len(set(new_seqs)) == len(new_seqs)
    if outcome["problem"] is None:
        # Whatever verifies is one chain: contiguous, and ending at the head.
        assert new_seqs == list(range(start + 1, start + len(new_seqs) + 1))
        assert (outcome["head_seq"], outcome["head_hash"]) == (
            outcome["last_seq"],
            outcome["last_hash"],
        )
