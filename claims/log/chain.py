"""The one write path for audit events, the hash chain, and its verification.

Every state change runs inside :func:`writing`, which locks the project's chain head
before anything else, and appends exactly one :class:`~claims.models.AuditEvent`, whose
action is a member of :class:`~claims.log.actions.Action`. Canonical JSON and the event
hash come from the offline verifier (``claims.log.verify_export``), their one copy. The
verification half (:class:`ChainCheck`) is pure; ``claims.log.integrity`` builds on it
to check the rest of what ``verify_audit`` checks.

This module imports neither the models (they import it) nor the HTTP layer: the
middleware and the API set and read the context variables below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from claims.log.actions import Action
from claims.log.verify_export import GENESIS_HASH as GENESIS_HASH  # re-exported for the models
from claims.log.verify_export import (
    canonical_json,
    encode_canonical,
    event_hash,
    parse_body,
)

if TYPE_CHECKING:
    from claims.models import AuditChain, AuditEvent, Project


class AuditError(RuntimeError):
    """A change tried to write no event, or several, where exactly one is required."""


# The model whose row is the head of a project's chain. Found through the app registry,
# not imported: the models import this module, and imports run one way.
CHAIN_MODEL = "claims.AuditChain"
EVENT_MODEL = "claims.AuditEvent"
# Called with each committed event of a project that has an active webhook (the chain
# head's ``webhooks`` flag): it enqueues the deliveries. Named, not imported, likewise.
DELIVER = "claims.tasks.enqueue_deliveries"

# The client's operation id for the write this request makes, recorded in its audit event
# so that a client can match acknowledged writes to events (set by the middleware).
operation_id: ContextVar[str | None] = ContextVar("operation_id", default=None)
# The public prefix of the API token this request came with (set by claims.api's
# authentication), recorded in its audit event: which token made a change.
api_token: ContextVar[str | None] = ContextVar("api_token", default=None)
# Set once this request's change is committed, so that a database that fails afterwards
# (while rendering the answer) is not reported as "nothing was saved" (read by the
# middleware).
write_committed: ContextVar[bool] = ContextVar("write_committed", default=False)


def utc_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Writer:
    """Appends the one event of a change to a chain whose head row is locked."""

    def __init__(self, chain: AuditChain) -> None:
        self.chain = chain
        self.events: list[AuditEvent] = []
        self.skipped = False

    def append(
        self,
        *,
        action: Action,
        actor: Any,
        target: dict[str, Any],
        before: Any = None,
        after: Any = None,
        article_id: int | None = None,
        claim_id: int | None = None,
        other_claim_id: int | None = None,
        reverts: int | None = None,
    ) -> AuditEvent:
        if not isinstance(action, Action):
            # A bare string would be hashed into the chain for good: a typo must fail here.
            raise TypeError(f"{action!r} is not an audit action (claims.log.actions.Action).")
        chain = self.chain
        now = timezone.now()
        seq = chain.head_seq + 1
        data = {
            "action": action.value,
            "actor": actor.get_username() if actor is not None else None,
            "after": after,
            "at": utc_stamp(now),
            "before": before,
            "project": chain.project_slug,
            "seq": seq,
            "target": target,
        }
        if reverts is not None:
            data["reverts"] = reverts  # the seq of the event whose "before" this re-applies
        op = operation_id.get()
        if op is not None:
            data["op"] = op  # the client's operation id, to match acknowledged writes
        token = api_token.get()
        if token is not None:
            data["token"] = token  # the API token's prefix: which token made the change
        body = canonical_json(data)
        event: AuditEvent = apps.get_model(EVENT_MODEL)(
            chain=chain,
            seq=seq,
            prev_hash=chain.head_hash,
            hash=event_hash(chain.head_hash, body),
            body=body,
            action=action.value,
            actor=actor,
            article_id=article_id,
            claim_id=claim_id,
            other_claim_id=other_claim_id,
            created_at=now,
        )
        _store(event)
        chain.head_seq, chain.head_hash = seq, event.hash
        self.events.append(event)
        return event

    def skip(self) -> None:
        """Declare that the requested change turned out to change nothing."""
        self.skipped = True


@contextmanager
def writing(project: Project) -> Iterator[Writer]:
    """One transaction that locks the chain head first and must append exactly one event."""
    with transaction.atomic():
        chain = lock_head(project)
        writer = Writer(chain)
        yield writer
        count = len(writer.events)
        if count != 1 and not (count == 0 and writer.skipped):
            raise AuditError(f"A change must write exactly one audit event; it wrote {count}.")
        if writer.events and chain.webhooks:
            # Sent once the change is committed; never for one that is rolled back.
            transaction.on_commit(partial(import_string(DELIVER), writer.events[0]))
    if writer.events and not transaction.get_connection().in_atomic_block:
        write_committed.set(True)  # the change is durable, whatever happens next


# Every change's three statements, written by hand once per database: the head locked,
# the event inserted, the head moved on. The ORM composed them anew for every change, at
# more cost than running them (tests/test_audit.py holds them to what the ORM wrote).


def lock_head(project: Project) -> AuditChain:
    """The project's chain head, its row locked until the transaction ends: writers of one
    project queue here, and each appends after the head the one before it left. (SQLite
    has no row lock: its writers' ``BEGIN IMMEDIATE`` serialises them; see settings.)"""
    model = apps.get_model(CHAIN_MODEL)
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute(_head_sql(connection.vendor), [project.pk])
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist("The project has no audit chain.")
    pk, head_seq, head_hash, webhooks = row
    values = [pk, project.pk, head_seq, head_hash, bool(webhooks)]  # SQLite's 0 or 1
    chain: AuditChain = model.from_db(DEFAULT_DB_ALIAS, HEAD_FIELDS, values)
    chain.project = project  # the body names it: no need to read it again
    return chain


def _store(event: AuditEvent) -> None:
    """INSERT the new event and move the chain's head to it, in the head's transaction."""
    connection = connections[DEFAULT_DB_ALIAS]
    ops = connection.ops
    values: list[Any] = [
        event.chain_id,
        event.seq,
        event.prev_hash,
        event.hash,
        event.body,
        event.action,
        event.actor_id,
        event.article_id,
        event.claim_id,
        event.other_claim_id,
        ops.adapt_datetimefield_value(event.created_at),
    ]
    insert, head = _event_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(insert, values)
        (event.pk,) = cursor.fetchone()
        cursor.execute(head, [event.seq, event.hash, event.chain_id])
    event._state.adding, event._state.db = False, DEFAULT_DB_ALIAS


HEAD_FIELDS = ["id", "project_id", "head_seq", "head_hash", "webhooks"]  # the model's order
EVENT_COLUMNS = (
    *("chain_id", "seq", "prev_hash", "hash", "body", "action", "actor_id"),
    *("article_id", "claim_id", "other_claim_id", "created_at"),
)


@cache
def _head_sql(vendor: str) -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    q = connection.ops.quote_name
    table = q(apps.get_model(CHAIN_MODEL)._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    columns = ", ".join(q(name) for name in HEAD_FIELDS if name != "project_id")
    return f"SELECT {columns} FROM {table} WHERE {q('project_id')} = %s{lock}"


@cache
def _event_sql(vendor: str) -> tuple[str, str]:
    """The event's INSERT (returning its id) and the head's UPDATE."""
    q = connections[DEFAULT_DB_ALIAS].ops.quote_name
    events = q(apps.get_model(EVENT_MODEL)._meta.db_table)
    chains = q(apps.get_model(CHAIN_MODEL)._meta.db_table)
    columns = ", ".join(map(q, EVENT_COLUMNS))
    slots = ", ".join(["%s"] * len(EVENT_COLUMNS))
    return (
        f"INSERT INTO {events} ({columns}) VALUES ({slots}) RETURNING {q('id')}",
        f"UPDATE {chains} SET {q('head_seq')} = %s, {q('head_hash')} = %s WHERE {q('id')} = %s",
    )


@dataclass(frozen=True)
class Problem:
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.reason}"


class ChainCheck:
    """Recomputes a chain one event at a time, in seq order. Pure.

    :func:`verify_rows` drives it over bare rows; ``claims.log.integrity`` drives it too, and
    checks and folds each parsed body in the same pass.
    """

    def __init__(self, *, first_prev_hash: str = GENESIS_HASH, first_seq: int = 1) -> None:
        self.expected_seq, self.prev, self.count = first_seq, first_prev_hash, 0

    def step(
        self, seq: int, prev_hash: str, stored_hash: str, body: str
    ) -> tuple[Any, Problem | None]:
        """The event's parsed body, or the problem with the event."""
        if seq != self.expected_seq:
            if seq > self.expected_seq:
                return None, Problem(self.expected_seq, "event is missing")
            return None, Problem(seq, "event is out of order or duplicated")
        if prev_hash != self.prev:
            return None, Problem(seq, "prev_hash does not match the previous event's hash")
        try:
            parsed = parse_body(body)
        except ValueError:
            return None, Problem(seq, "body is not valid canonical JSON")
        if encode_canonical(parsed) != body:
            return None, Problem(seq, "body is not in canonical form")
        if not isinstance(parsed, dict) or parsed.get("seq") != seq:
            return None, Problem(seq, "body names a different seq")
        if event_hash(prev_hash, body) != stored_hash:
            return None, Problem(seq, "hash does not match the body")
        self.prev, self.expected_seq, self.count = stored_hash, seq + 1, self.count + 1
        return parsed, None

    def end(self, *, head_seq: int | None = None, head_hash: str | None = None) -> Problem | None:
        """After the last event: the problem with the chain's head, if any."""
        last = self.expected_seq - 1
        if head_seq is not None and head_seq != last:
            if head_seq > last:
                return Problem(self.expected_seq, "event is missing (the chain head is further on)")
            return Problem(head_seq + 1, "event lies beyond the chain head")
        if head_hash is not None and head_hash != self.prev:
            return Problem(last, "chain head hash does not match the last event")
        return None


def verify_rows(
    rows: Iterable[tuple[int, str, str, str]],
    *,
    head_seq: int | None = None,
    head_hash: str | None = None,
    first_prev_hash: str = GENESIS_HASH,
    first_seq: int = 1,
) -> tuple[int, Problem | None]:
    """Recompute a chain from ``(seq, prev_hash, hash, body)`` rows in seq order.

    Returns the number of events checked and the first problem, if any. Pure.
    """
    check = ChainCheck(first_prev_hash=first_prev_hash, first_seq=first_seq)
    for seq, prev_hash, stored_hash, body in rows:
        _body, problem = check.step(seq, prev_hash, stored_hash, body)
        if problem is not None:
            return check.count, problem
    return check.count, check.end(head_seq=head_seq, head_hash=head_hash)


def verify_chain(chain: AuditChain) -> tuple[int, Problem | None]:
    """Verify one stored chain against its head, streaming the events."""
    rows = (
        chain.events.order_by("seq")
        .values_list("seq", "prev_hash", "hash", "body")
        .iterator(chunk_size=2000)
    )
    return verify_rows(rows, head_seq=chain.head_seq, head_hash=chain.head_hash)
