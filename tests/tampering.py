"""Lifting the append-only triggers, as someone holding the database could.

Tests of ``verify_audit`` need to alter events behind the application's back; tests that
commit events (``transactional_db``, the live server) need to empty the event table
before pytest-django's flush, which would otherwise be refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections, transaction

TABLE = "claims_auditevent"


@contextmanager
def triggers_off(using: str = "default") -> Iterator[None]:
    """Run the block with the event table's triggers lifted, then put them back.

    Everything happens in one transaction (a savepoint inside a test's transaction):
    if the block fails, the rollback restores the triggers too, on both engines.
    """
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # ALTER TABLE refuses while deferred foreign-key checks on the table are
            # queued (Django's foreign keys are INITIALLY DEFERRED): run them now, and
            # give the transaction its deferred default back afterwards.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
            yield
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
            yield
            for _name, sql in triggers:
                cursor.execute(sql)
        else:
            raise NotImplementedError(f"No append-only triggers on {connection.vendor}.")


def purge_audit_events(using: str = "default") -> None:
    """Delete every event, so that a transactional test's flush finds the table empty."""
    with triggers_off(using), connections[using].cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")


def trigger_names(using: str = "default") -> set[str]:
    """The user-defined triggers on the event table, as the database lists them."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger"
                " WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgenabled <> 'D'",
                [TABLE],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
        return {name for (name,) in cursor.fetchall()}


def execute(sql: str, params: list[Any], using: str = "default") -> None:
    """Run one statement behind the application's back: no model method, no event.

    For the event table, run it inside :func:`triggers_off`.
    """
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
