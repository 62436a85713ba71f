"""Audit events cannot be changed or removed by any route, on either engine.

The model layer refuses first (PermissionDenied); the database triggers of migration
``0004_audit_append_only`` refuse whatever gets past it (IntegrityError, "audit events
are append-only"). Every attempt runs in its own ``transaction.atomic()`` so that the
test's transaction survives the database error, and every test re-reads the events with
a fresh query afterwards: nothing may have changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, models, transaction
from django.db.models import ProtectedError

from claims.log.chain import verify_chain
from claims.log.verify_export import event_hash
from claims.models import AuditChain, AuditEvent
from tests.tampering import trigger_names, triggers_off

Row = tuple[int, int, str, str, str, str]
APPEND_ONLY = "audit events are append-only"


def rows(chain: AuditChain) -> list[Row]:
    """Every event of the chain as the database holds it now."""
    return list(
        AuditEvent.objects.filter(chain=chain)
        .order_by("seq")
        .values_list("id", "seq", "prev_hash", "hash", "body", "action")
    )


@contextmanager
def refused_by_database() -> Iterator[None]:
    """The block fails with the triggers' error, and only the block is rolled back."""
    with pytest.raises(IntegrityError, match=APPEND_ONLY), transaction.atomic():
        yield


@contextmanager
def refused_by_model() -> Iterator[None]:
    with pytest.raises(PermissionDenied, match="append-only"), transaction.atomic():
        yield


def run_sql(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def chain(project: Any, claim: Any, bob: Any, carol: Any) -> AuditChain:
    """A chain a few events long, committed to the test transaction."""
    claim.set_verdict(bob, "supported", rationale="Matches the readout.")
    claim.set_verdict(carol, "disputed")
    claim.set_verdict(bob, "outdated", expected_version=1)
    if connection.vendor == "postgresql":
        # A fresh session has no deferred foreign-key checks queued; this test's
        # transaction does, and PostgreSQL refuses TRUNCATE and ALTER TABLE while they
        # are pending. Running them now lets each attempt reach the triggers.
        run_sql("SET CONSTRAINTS ALL IMMEDIATE")
    project.chain.refresh_from_db()
    return project.chain


@pytest.fixture
def event(chain: AuditChain) -> AuditEvent:
    """An event in the middle of the chain: the most tempting one to rewrite."""
    return AuditEvent.objects.get(chain=chain, seq=chain.head_seq - 1)


def test_the_migration_installs_the_triggers(db: Any) -> None:
    expected = {
        "sqlite": {
            "claims_auditevent_no_update",
            "claims_auditevent_no_delete",
            "claims_auditevent_no_replace",
        },
        "postgresql": {"claims_auditevent_no_update_or_delete", "claims_auditevent_no_truncate"},
    }[connection.vendor]
    assert trigger_names() == expected


def test_saving_a_changed_event_is_refused_by_the_model_and_the_database(
    chain: AuditChain, event: AuditEvent
) -> None:
    before = rows(chain)
    event.body = event.body.replace('"disputed"', '"supported"')
    with refused_by_model():
        event.save()
    with refused_by_database():
        models.Model.save(event)  # past AuditEvent.save, straight to an UPDATE
    assert rows(chain) == before


def test_deleting_an_event_is_refused_by_the_model_and_the_database(
    chain: AuditChain, event: AuditEvent
) -> None:
    before = rows(chain)
    with refused_by_model():
        event.delete()
    with refused_by_database():
        models.Model.delete(event)
    assert rows(chain) == before


def test_queryset_update_is_refused_by_the_model_and_the_database(chain: AuditChain) -> None:
    before = rows(chain)
    with refused_by_model():
        AuditEvent.objects.filter(chain=chain).update(action="tampered")
    with refused_by_database():
        models.QuerySet(AuditEvent).filter(chain=chain).update(action="tampered")
    assert rows(chain) == before


def test_queryset_delete_is_refused_by_the_model_and_the_database(chain: AuditChain) -> None:
    before = rows(chain)
    with refused_by_model():
        AuditEvent.objects.filter(chain=chain, seq__gt=1).delete()
    with refused_by_database():
        models.QuerySet(AuditEvent).filter(chain=chain, seq__gt=1).delete()
    assert rows(chain) == before


def test_bulk_update_is_refused_by_the_model_and_the_database(chain: AuditChain) -> None:
    before = rows(chain)
    events = list(AuditEvent.objects.filter(chain=chain))
    for item in events:
        item.action = "tampered"
    with refused_by_model():
        AuditEvent.objects.bulk_update(events, ["action"])
    with refused_by_database():
        models.QuerySet(AuditEvent).bulk_update(events, ["action"])
    assert rows(chain) == before


def test_update_or_create_is_refused_by_the_model(chain: AuditChain, event: AuditEvent) -> None:
    before = rows(chain)
    with refused_by_model():
        AuditEvent.objects.update_or_create(pk=event.pk, defaults={"action": "tampered"})
    assert rows(chain) == before


def test_an_upsert_over_an_existing_event_is_refused_by_the_database(
    chain: AuditChain, event: AuditEvent
) -> None:
    before = rows(chain)
    forged = AuditEvent(
        chain=chain,
        seq=event.seq,
        prev_hash=event.prev_hash,
        hash=event.hash,
        body=event.body.replace('"disputed"', '"supported"'),
        action=event.action,
        created_at=event.created_at,
    )
    with refused_by_database():
        AuditEvent.objects.bulk_create(
            [forged],
            update_conflicts=True,
            unique_fields=["chain", "seq"],
            update_fields=["body"],
        )
    assert rows(chain) == before


def test_raw_sql_update_is_refused(chain: AuditChain, event: AuditEvent) -> None:
    before = rows(chain)
    body = event.body.replace('"disputed"', '"supported"')
    with refused_by_database():
        run_sql(
            "UPDATE claims_auditevent SET body = %s, hash = %s WHERE id = %s",
            [body, event_hash(event.prev_hash, body), event.pk],
        )
    with refused_by_database():
        run_sql("UPDATE claims_auditevent SET seq = seq + 1000 WHERE chain_id = %s", [chain.pk])
    assert rows(chain) == before


def test_raw_sql_delete_is_refused(chain: AuditChain, event: AuditEvent) -> None:
    before = rows(chain)
    with refused_by_database():
        run_sql("DELETE FROM claims_auditevent WHERE id = %s", [event.pk])
    with refused_by_database():
        run_sql("DELETE FROM claims_auditevent WHERE chain_id = %s", [chain.pk])
    assert rows(chain) == before


def test_emptying_the_event_table_is_refused(chain: AuditChain) -> None:
    """PostgreSQL: TRUNCATE, also when it cascades from the chain or the project.
    SQLite has no TRUNCATE: ``DELETE FROM`` without WHERE is its equivalent."""
    before = rows(chain)
    statements = ["DELETE FROM claims_auditevent"]
    if connection.vendor == "postgresql":
        statements += [
            "TRUNCATE claims_auditevent",
            "TRUNCATE claims_auditevent CASCADE",
            "TRUNCATE claims_auditchain CASCADE",
            "TRUNCATE claims_project CASCADE",
        ]
    for sql in statements:
        with refused_by_database():
            run_sql(sql)
    assert rows(chain) == before


def test_replacing_an_event_on_insert_is_refused(chain: AuditChain, event: AuditEvent) -> None:
    """SQLite's INSERT OR REPLACE deletes the row it collides with (by id, or by chain and
    seq) without firing delete triggers; PostgreSQL's equivalent, INSERT ... ON CONFLICT
    DO UPDATE, fires the update trigger."""
    before = rows(chain)
    columns = "id, chain_id, seq, prev_hash, hash, body, action, created_at"
    forged = [chain.pk, event.seq, event.prev_hash, event.hash, "{}", "tampered", event.created_at]
    same_id, fresh_id = [event.pk, *forged], [max(row[0] for row in before) + 1000, *forged]
    values = ", ".join(["%s"] * len(same_id))
    if connection.vendor == "sqlite":
        attempts = [
            (f"INSERT OR REPLACE INTO claims_auditevent ({columns}) VALUES ({values})", same_id),
            (f"REPLACE INTO claims_auditevent ({columns}) VALUES ({values})", fresh_id),
        ]
    else:
        upsert = f"INSERT INTO claims_auditevent ({columns}) VALUES ({values}) ON CONFLICT"
        attempts = [
            (f"{upsert} (id) DO UPDATE SET body = EXCLUDED.body", same_id),
            (f"{upsert} (chain_id, seq) DO UPDATE SET body = EXCLUDED.body", fresh_id),
        ]
    for sql, params in attempts:
        with refused_by_database():
            run_sql(sql, params)
    assert rows(chain) == before


def test_a_taken_seq_still_cannot_be_appended_twice(chain: AuditChain, event: AuditEvent) -> None:
    """What a writer that missed the chain lock would do: it must fail, not fork."""
    before = rows(chain)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(
            chain=chain,
            seq=event.seq,
            prev_hash=event.prev_hash,
            hash=event.hash,
            body=event.body,
            action=event.action,
            created_at=event.created_at,
        )
    assert rows(chain) == before


def test_appending_through_the_write_path_still_works(
    chain: AuditChain, claim: Any, carol: Any
) -> None:
    before = rows(chain)
    claim.set_verdict(carol, "supported", expected_version=1)
    after = rows(chain)
    assert after[: len(before)] == before
    assert [row[1] for row in after[len(before) :]] == [chain.head_seq + 1]
    chain.refresh_from_db()
    assert verify_chain(chain) == (len(after), None)


def test_deleting_a_project_chain_or_actor_with_events_is_protected(
    chain: AuditChain, project: Any, bob: Any
) -> None:
    before = rows(chain)
    for owner in (project, chain, bob):
        with pytest.raises(ProtectedError), transaction.atomic():
            owner.delete()
    assert rows(chain) == before
    assert AuditChain.objects.filter(pk=chain.pk).exists()


def test_lifting_the_triggers_for_a_test_puts_them_back(chain: AuditChain) -> None:
    """The tampering helper that verify_audit's tests rely on restores the triggers,
    after a statement that succeeded and after one that failed."""
    expected = trigger_names()
    with triggers_off():
        assert trigger_names() == set()
        run_sql("UPDATE claims_auditevent SET action = 'tampered' WHERE chain_id = %s", [chain.pk])
    assert trigger_names() == expected
    with pytest.raises(ZeroDivisionError), triggers_off():
        1 / 0  # noqa: B018
    assert trigger_names() == expected
    with refused_by_database():
        run_sql("DELETE FROM claims_auditevent WHERE chain_id = %s", [chain.pk])
