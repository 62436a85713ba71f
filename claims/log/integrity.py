"""Does the database say what its audit log says? Everything ``verify_audit`` checks.

One pass over a project's events checks three things, and stops at the first problem:

1. the chain (:class:`~claims.log.chain.ChainCheck`): every event unaltered, none missing,
   inserted or reordered;
2. the indexed columns: ``action``, ``actor``, ``created_at``, ``article_id``,
   ``claim_id`` and ``other_claim_id`` repeat parts of the signed body so that activity
   filters, as-of pages and blind review can use indexes; no hash covers them, so each is
   compared with the body it repeats;
3. the live tables: the bodies are folded (:func:`claims.log.fold.fold`) as they pass, and
   the fold must equal the rows the tables hold now, so that a row changed outside the
   write path shows.

The checks are pure (:func:`check_log`, :func:`differences`); :func:`verify_project`
does the reading, inside one snapshot of the database.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import starmap
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Count

from claims.log.actions import RULES_BY_VALUE, Action
from claims.log.chain import ChainCheck, Problem, utc_stamp
from claims.log.fold import apply
from claims.log.state import (
    DEFAULT_FRESHNESS,
    AdjudicationState,
    ArticleState,
    ClaimState,
    EvidenceState,
    ProjectState,
    State,
    VerdictState,
)
from claims.models import (
    Adjudication,
    Article,
    AuditChain,
    AuditEvent,
    Block,
    Citation,
    Claim,
    Evidence,
    Membership,
    Project,
    Verdict,
)

if TYPE_CHECKING:
    import datetime as dt

CHUNK_ROWS = 2000  # rows per fetch when streaming events and table rows
ARTICLE_ROWS = 8  # articles carry their whole text: fetch a few at a time


# The indexed columns ------------------------------------------------------------------


class EventRow(NamedTuple):
    """One stored event: the chain's four fields, then the columns that repeat the body."""

    seq: int
    prev_hash: str
    hash: str
    body: str
    action: str
    actor_id: int | None
    actor: str | None  # the username actor_id points at
    article_id: int | None
    claim_id: int | None
    other_claim_id: int | None
    created_at: dt.datetime


EVENT_FIELDS = tuple("actor__username" if f == "actor" else f for f in EventRow._fields)


def indexed_columns(body: dict[str, Any]) -> dict[str, Any]:
    """What ``claims.log.chain.Writer.append`` stores beside this body, as the body says it must be:
    the actor by username, the time as the body's stamp."""
    action, target = body["action"], body["target"]
    rule = RULES_BY_VALUE.get(action)
    other = rule.other_claim(body) if rule is not None and rule.other_claim else None
    article = target.get("article")
    if action == Action.AUDIT_EXPORTED:  # an export of one article is filed under it
        article = body["after"]["filters"]["article"]
    return {
        "action": action,
        "actor_id": body["actor"],
        "created_at": body["at"],
        "article_id": article,
        "claim_id": target.get("claim"),
        "other_claim_id": other,
    }


def column_problem(row: EventRow, body: dict[str, Any]) -> Problem | None:
    """The first indexed column of ``row`` that is not what its body says, if any."""
    expected = indexed_columns(body)
    stored = {
        "action": row.action,
        "actor_id": _actor(row),
        "created_at": utc_stamp(row.created_at),
        "article_id": row.article_id,
        "claim_id": row.claim_id,
        "other_claim_id": row.other_claim_id,
    }
    for name, value in expected.items():
        if stored[name] != value:
            shown = f"{row.actor_id} ({row.actor})" if name == "actor_id" else _shown(stored[name])
            return Problem(
                row.seq, f"column {name} is {shown}, but the signed body says {_shown(value)}"
            )
    return None


def _actor(row: EventRow) -> str | None:
    if row.actor_id is None:
        return None
    # A foreign key to no user at all still differs from every body.
    return row.actor if row.actor is not None else f"#{row.actor_id}"


def _shown(value: Any) -> str:
    return "NULL" if value is None else repr(value)


def check_log(
    rows: Iterable[EventRow], *, head_seq: int, head_hash: str
) -> tuple[int, Problem | None, State]:
    """Check the chain and every event's indexed columns, folding the bodies as they pass.

    Returns the number of events checked, the first problem, and the folded state (only
    meaningful when there is no problem). Pure.
    """
    chain, state = ChainCheck(), State()
    for row in rows:
        body, problem = chain.step(row.seq, row.prev_hash, row.hash, row.body)
        if problem is None:
            try:
                problem = column_problem(row, body)
                if problem is None:
                    apply(state, body)
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                # A hashed body the write path could not have written: the chain was rebuilt.
                problem = Problem(row.seq, f"body cannot be replayed ({error!r})")
        if problem is not None:
            return chain.count, problem, state
    return chain.count, chain.end(head_seq=head_seq, head_hash=head_hash), state


# The live tables ----------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """The first way the live tables differ from the log: a row, and one of its fields
    (``"row"`` when one side lacks the row)."""

    table: str
    row: str
    field: str
    live: Any
    logged: Any

    def __str__(self) -> str:
        if self.field == "row":
            has, lacks = ("table", "log") if self.live else ("log", "table")
            return f"{self.table} ({self.row}): the {has} has this row, the {lacks} does not"
        return (
            f"{self.table} ({self.row}) {self.field}: the table holds {self.live!r}, "
            f"the log says {self.logged!r}"
        )


@dataclass(frozen=True)
class Table:
    """How one table is found in a :class:`State`: its rows by key, each row's fields, and
    the key in words."""

    name: str
    rows: Callable[[State], Mapping[Any, Any]]
    fields: Callable[[Any], dict[str, Any]]
    describe: Callable[[Any], str]


def _fields(row: Any, *key: str) -> dict[str, Any]:
    return {f.name: getattr(row, f.name) for f in dataclasses.fields(row) if f.name not in key}


def _evidence(row: EvidenceState) -> dict[str, Any]:
    return {"claim": row.claim, **row.fields, "removed": row.removed, "removed_by": row.removed_by}


TABLES = (
    Table(
        "projects",
        lambda state: {state.project.slug: state.project} if state.project else {},
        lambda row: _fields(row, "slug"),
        lambda slug: f"project {slug}",
    ),
    Table(
        "memberships",
        lambda state: state.members,
        lambda role: {"role": role},
        lambda username: f"user {username}",
    ),
    Table(
        "articles",
        lambda state: state.articles,
        lambda row: _fields(row, "id"),
        lambda pk: f"article {pk}",
    ),
    Table(
        "claims",
        lambda state: state.claims,
        lambda row: _fields(row, "id"),
        lambda pk: f"claim {pk}",
    ),
    Table(
        "verdicts",
        lambda state: state.verdicts,
        _fields,
        lambda key: f"claim {key[0]}, analyst {key[1]}",
    ),
    Table("evidence", lambda state: state.evidence, _evidence, lambda pk: f"evidence {pk}"),
    Table("adjudications", lambda state: state.adjudications, _fields, lambda pk: f"claim {pk}"),
)


def differences(logged: State, live: State) -> Iterator[Difference]:
    """Every way ``live`` differs from ``logged``, table by table, rows in key order. Pure.

    Only the fields the log records are compared: a live field the log leaves out (a
    submission token, an internal timestamp) is not the log's to vouch for.
    """
    for table in TABLES:
        told, held = table.rows(logged), table.rows(live)
        for key in sorted(told.keys() | held.keys()):
            said, found = told.get(key), held.get(key)
            if said == found:
                continue
            row = table.describe(key)
            if said is None or found is None:
                yield Difference(table.name, row, "row", found is not None, said is not None)
                continue
            found_fields = table.fields(found)
            for name, value in table.fields(said).items():
                if found_fields.get(name) != value:
                    yield Difference(table.name, row, name, found_fields.get(name), value)


def table_rows(state: State) -> dict[str, dict[Any, dict[str, Any]]]:
    """The state as plain data, table by table: what :func:`differences` compares."""
    return {
        table.name: {key: table.fields(row) for key, row in table.rows(state).items()}
        for table in TABLES
    }


# The keys of Evidence.fields(), which evidence events record, and their columns.
EVIDENCE_FIELDS = {
    "url": "url",
    "title": "title",
    "stance": "stance",
    "quote": "quote",
    "note": "note",
    "added_by": "added_by__username",
}


def snapshot(project: Project) -> State:
    """The project's live rows in the fold's terms. Nine queries, each streamed, however
    many rows; an article's text is read to hash it, a few articles at a time."""
    state = State()
    fresh = [f"fresh_{status}_days" for status in DEFAULT_FRESHNESS]
    slug, name, blind, min_verdicts, *days = Project.objects.values_list(
        "slug", "name", "blind", "min_verdicts", *fresh
    ).get(pk=project.pk)
    freshness = dict(zip(DEFAULT_FRESHNESS, days, strict=True))
    state.project = ProjectState(slug, name, blind, min_verdicts, freshness)
    state.members = dict(
        Membership.objects.filter(project=project).values_list("user__username", "role")
    )
    blocks = _counts(Block.objects.filter(article__project=project))
    citations = _counts(Citation.objects.filter(article__project=project))
    articles = Article.objects.filter(project=project).values_list(
        "pk", "title", "filename", "published_on", "text", "version"
    )
    for pk, title, filename, published_on, text, version in articles.iterator(
        chunk_size=ARTICLE_ROWS
    ):
        # The log signs the sha256 of the text: hash the text itself, whatever the sha256
        # column beside it (an index for re-imports) says.
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        state.articles[pk] = ArticleState(
            pk,
            title,
            filename,
            published_on.isoformat(),
            digest,
            blocks.get(pk, 0),
            citations.get(pk, 0),
            version,
        )
    # Retired claims too: the log says which version retired each.
    claims = Claim.all_objects.filter(article__project=project).values_list(
        "pk", "article_id", "start", "end", "version", "retired_in", "ordinal"
    )
    for row in claims.iterator(chunk_size=CHUNK_ROWS):
        state.claims[row[0]] = ClaimState(*row)
    verdicts = Verdict.objects.filter(claim__article__project=project).values_list(
        "claim_id",
        "analyst__username",
        "status",
        "rationale",
        "as_of",
        "version",
        "after_seeing_team",
        "recheck_by",
    )
    for claim, analyst, status, rationale, as_of, version, seen, recheck_by in verdicts.iterator(
        chunk_size=CHUNK_ROWS
    ):
        state.verdicts[claim, analyst] = VerdictState(
            status, rationale, _day(as_of), version, seen, _day(recheck_by)
        )
    evidence = Evidence.objects.filter(claim__article__project=project).values_list(
        "pk", "claim_id", "removed_at", "removed_by__username", *EVIDENCE_FIELDS.values()
    )
    for pk, claim, removed_at, removed_by, *fields in evidence.iterator(chunk_size=CHUNK_ROWS):
        named = dict(zip(EVIDENCE_FIELDS, fields, strict=True))
        state.evidence[pk] = EvidenceState(pk, claim, named, removed_at is not None, removed_by)
    adjudications = Adjudication.objects.filter(claim__article__project=project).values_list(
        "claim_id", "status", "rationale", "as_of", "reviewer__username", "version"
    )
    for claim, status, rationale, as_of, reviewer, version in adjudications.iterator(
        chunk_size=CHUNK_ROWS
    ):
        state.adjudications[claim] = AdjudicationState(
            status, rationale, _day(as_of), reviewer, version
        )
    return state


def _counts(rows: Any) -> dict[int, int]:
    """Rows per article, in one grouped query."""
    return dict(
        rows.order_by().values("article").annotate(n=Count("pk")).values_list("article", "n")
    )


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


# Verifying a project ------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """What ``verify_audit`` says of one project: intact, or its first problem."""

    events: int
    problem: Problem | None = None  # in the log itself: its chain or its columns
    difference: Difference | None = None  # between the log and the live tables

    @property
    def intact(self) -> bool:
        return self.problem is None and self.difference is None

    def __str__(self) -> str:
        if self.problem is not None:
            return f"BROKEN at {self.problem}"
        if self.difference is not None:
            return f"TAMPERED: {self.difference}"
        return f"intact, {self.events} events; the tables match the log"


def verify_project(project: Project) -> Report:
    """Check the project's log and its live tables against it, in one snapshot."""
    with one_snapshot():
        chain_id, head_seq, head_hash = (
            AuditChain.objects.filter(project=project)
            .values_list("pk", "head_seq", "head_hash")
            .get()
        )
        rows = (
            AuditEvent.objects.filter(chain_id=chain_id)
            .order_by("seq")
            .values_list(*EVENT_FIELDS)
            .iterator(chunk_size=CHUNK_ROWS)
        )
        count, problem, logged = check_log(
            starmap(EventRow, rows), head_seq=head_seq, head_hash=head_hash
        )
        if problem is not None:
            return Report(count, problem)
        return Report(count, difference=next(differences(logged, snapshot(project)), None))


@contextmanager
def one_snapshot(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Make every read in the block see one committed state, without holding writers up.

    Otherwise a change committed between reading the log and reading the tables would
    look like tampering. Inside a transaction already open (a test's), its reads are
    what they are.
    """
    connection = connections[using]
    if connection.in_atomic_block:
        yield
    elif connection.vendor == "postgresql":
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    elif connection.vendor == "sqlite":
        # The settings begin every transaction IMMEDIATE, which takes the write lock: for
        # a long verification writers would wait and time out. A DEFERRED one takes no
        # lock, and from its first read a WAL snapshot that writers do not wait for.
        # The ignores: django-stubs' SQLite wrapper lacks transaction_mode (Django 5.1+).
        connection.ensure_connection()
        configured: str | None = connection.transaction_mode  # type: ignore[attr-defined]  # stub gap, see above
        connection.transaction_mode = "DEFERRED"  # type: ignore[attr-defined]  # stub gap, see above
        try:
            with transaction.atomic(using=using):
                connection.transaction_mode = configured  # type: ignore[attr-defined]  # stub gap, see above
                yield
        finally:
            connection.transaction_mode = configured  # type: ignore[attr-defined]  # stub gap, see above
    else:
        with transaction.atomic(using=using):
            yield
