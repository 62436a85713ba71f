"""Access helpers: the first line of every project view fetches through membership.

Each returns the ``Member`` (who is asking, where, with which role), and with it the object
asked for: ``member, claim = claim_for(...)``. Views hand the member on, explicitly.

The claim panel and the claim actions are the app's most frequent requests (an analyst
annotates claim after claim), so what they read is written by hand here, each query built
once per database (``claims.rows``): the session and its user (``SessionStore``,
``UserBackend``, every request's first two queries), the claim with the member's role
(``claim_for``), and the claim's verdicts, citations, evidence and latest events. Composing
such a query with the ORM costs ten times what running it does; each gives what the ORM
would (tests/test_round_trip.py holds them to it). Writes stay with the model verbs.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import Http404
from django.utils import timezone

from claims.http import MAX_ID, AuthedRequest
from claims.models import (
    Adjudication,
    Article,
    AuditEvent,
    Citation,
    Claim,
    Evidence,
    EvidenceSnapshot,
    Member,
    Membership,
    Project,
    Role,
    Verdict,
)
from claims.rows import Columns, fetch, vendor


def member_for(request: AuthedRequest, slug: str, role: Role = Role.VIEWER) -> Member:
    """The user's membership of the project: 404 for outsiders, 403 below ``role``."""
    membership = (
        Membership.objects.select_related("project")
        .filter(project__slug=slug, user=request.user)
        .first()
    )
    if membership is None:
        raise Http404("No such project.")
    return _admitted(request, membership.project, Role(membership.role), role)


def _admitted(request: AuthedRequest, project: Project, role: Role, needed: Role) -> Member:
    """The member, or 403 below the ``needed`` role."""
    if not role.at_least(needed):
        raise PermissionDenied(f"This needs the {needed.label.lower()} role.")
    return Member(request.user, project, role)


def article_for(
    request: AuthedRequest, slug: str, article_id: int, role: Role = Role.VIEWER
) -> tuple[Member, Article]:
    member = member_for(request, slug, role)
    article = Article.objects.filter(project=member.project, pk=article_id).first()
    if article is None:
        raise Http404("No such article.")
    article.project = member.project
    return member, article


def claim_for(
    request: AuthedRequest,
    slug: str,
    claim_id: int,
    role: Role = Role.VIEWER,
    *,
    retired: bool = False,
) -> tuple[Member, Claim]:
    """The claim with its text (``Claim.text``), its article (without the article's text),
    project and adjudication (with its reviewer), and the member's role, in one query: the
    claim panel and every claim action start here.

    A claim a revision retired is found only with ``retired`` (its history): nothing acts
    on it any more."""
    found = _claim_and_role(request.user.pk, slug, claim_id, retired=retired)
    if found is None:
        member_for(request, slug, role)  # 404 for outsiders, 403 below the role
        raise Http404("No such claim.")
    claim, member_role = found
    return _admitted(request, claim.article.project, Role(member_role), role), claim


def evidence_for(
    request: AuthedRequest, slug: str, evidence_id: int, role: Role = Role.VIEWER
) -> tuple[Member, Evidence]:
    """The evidence, on its claim as ``claim_for`` gives it (a retired claim's too), and the
    member's role: two queries."""
    evidence = (
        Evidence.objects.select_related("added_by")  # the removal's event names them
        .filter(claim__article__project__slug=slug, pk=evidence_id)
        .first()
        if evidence_id <= MAX_ID
        else None
    )
    if evidence is None:
        member_for(request, slug, role)  # 404 for outsiders, 403 below the role
        raise Http404("No such evidence.")
    member, claim = claim_for(request, slug, evidence.claim_id, role, retired=True)
    evidence.claim = claim
    return member, evidence


CLAIM = Columns(Claim, "c")
ARTICLE = Columns(Article, "a", leave_out=("text",))
PROJECT = Columns(Project, "p")
ADJUDICATION = Columns(Adjudication, "j")
REVIEWER = Columns(User, "r")
MEMBERSHIP = Columns(Membership, "m")


@cache
def _claim_sql(vendor: str, retired: bool) -> str:
    """The SELECT of ``_claim_and_role``."""
    q = connections[DEFAULT_DB_ALIAS].ops.quote_name
    start, end = (f"c.{q(name)}" for name in ("start", "end"))
    current = "" if retired else " AND c.retired_in IS NULL"
    return (
        f"SELECT {CLAIM.sql()}, SUBSTR(a.{q('text')}, {start} + 1, {end} - {start}), "
        f"{ARTICLE.sql()}, {PROJECT.sql()}, {ADJUDICATION.sql()}, {REVIEWER.sql()}, m.role "
        f"FROM {CLAIM.table()} "
        f"INNER JOIN {ARTICLE.table()} ON a.id = c.article_id "
        f"INNER JOIN {PROJECT.table()} ON p.id = a.project_id "
        f"LEFT OUTER JOIN {ADJUDICATION.table()} ON j.claim_id = c.id "
        f"LEFT OUTER JOIN {REVIEWER.table()} ON r.id = j.reviewer_id "
        f"LEFT OUTER JOIN {MEMBERSHIP.table()} ON m.project_id = p.id AND m.user_id = %s "
        f"WHERE c.id = %s AND p.slug = %s{current}"
    )


def _claim_and_role(
    user_id: int, slug: str, claim_id: int, *, retired: bool
) -> tuple[Claim, str] | None:
    """The claim as ``claim_for`` gives it, and the user's role in its project; None when
    the project has no such claim or the user is not a member."""
    if claim_id > MAX_ID:
        return None  # no row has it, and SQLite would refuse the number
    rows = fetch(_claim_sql(vendor(), retired), [user_id, claim_id, slug])
    if not rows or rows[0][-1] is None:
        return None
    row = rows[0]
    claim = CLAIM.build(row)
    at = len(CLAIM)
    # Claim.text reads its span from these, as ClaimQuerySet.with_text() sets them.
    claim.span_text, claim.span_start, claim.span_end = row[at], claim.start, claim.end
    article = ARTICLE.build(row, at := at + 1)
    project = PROJECT.build(row, at := at + len(ARTICLE))
    adjudication = None
    if row[at := at + len(PROJECT)] is not None:
        adjudication = ADJUDICATION.build(row, at)
        reviewer = REVIEWER.build(row, at + len(ADJUDICATION))
        Adjudication.reviewer.field.set_cached_value(adjudication, reviewer)
        Adjudication.claim.field.set_cached_value(adjudication, claim)
    Article.project.field.set_cached_value(article, project)
    Claim.article.field.set_cached_value(claim, article)
    # As select_related() leaves it: claim.adjudication raises DoesNotExist when None.
    Claim.adjudication.related.set_cached_value(claim, adjudication)
    return claim, row[-1]


# Who is asking: every request reads its session and its user first ----------------------


class SessionStore(db.SessionStore):
    """Django's database sessions (``SESSION_ENGINE = "claims.access"``), each read with one
    hand-written query: logging out anywhere still ends the session everywhere."""

    def load(self) -> dict[str, Any]:
        if self.session_key is None:
            return {}
        db_connection = connections[DEFAULT_DB_ALIAS]
        now = db_connection.ops.adapt_datetimefield_value(timezone.now())
        rows = fetch(_session_sql(vendor()), [self.session_key, now])
        if not rows:
            self._session_key = None
            return {}
        return self.decode(rows[0][0])


@cache
def _session_sql(vendor: str) -> str:
    q = connections[DEFAULT_DB_ALIAS].ops.quote_name
    return (
        f"SELECT session_data FROM {q(Session._meta.db_table)} "
        f"WHERE session_key = %s AND expire_date > %s"
    )


USER = Columns(User, "u")


@cache
def _user_sql(vendor: str) -> str:
    return f"SELECT {USER.sql()} FROM {USER.table()} WHERE u.id = %s"


class UserBackend(ModelBackend):
    """Django's ``ModelBackend`` (passwords, permissions), whose user for a session, read on
    every request, comes from one hand-written query."""

    def get_user(self, user_id: Any) -> Any:
        rows = fetch(_user_sql(vendor()), [user_id])
        user = USER.build(rows[0]) if rows else None
        return user if user is not None and self.user_can_authenticate(user) else None


# What the claim panel and the answers to claim actions read of the claim: the same rows as
# ``claim.verdicts``, ``claim.citations`` and ``claim.evidence`` would give, hand-written.

VERDICT = Columns(Verdict, "v")
CITATION = Columns(Citation, "ci")
EVIDENCE = Columns(Evidence, "e")
PERSON = Columns(User, "u", only=("id", "username"))  # who wrote a row: their name


@cache
def _verdicts_sql(vendor: str) -> str:
    return (
        f"SELECT {VERDICT.sql()}, {PERSON.sql()} FROM {VERDICT.table()} "
        f"INNER JOIN {PERSON.table()} ON u.id = v.analyst_id WHERE v.claim_id = %s ORDER BY v.id"
    )


def claim_verdicts(claim: Claim) -> list[Verdict]:
    """Every verdict row of the claim, cleared ones too, each with its analyst's name, in
    the order they were first given (one query)."""
    verdicts = []
    for row in fetch(_verdicts_sql(vendor()), [claim.pk]):
        verdict = VERDICT.build(row)
        Verdict.analyst.field.set_cached_value(verdict, PERSON.build(row, len(VERDICT)))
        Verdict.claim.field.set_cached_value(verdict, claim)
        verdicts.append(verdict)
    return verdicts


@cache
def _citations_sql(vendor: str) -> str:
    q = connections[DEFAULT_DB_ALIAS].ops.quote_name
    links = q(Claim.citations.through._meta.db_table)
    return (
        f"SELECT {CITATION.sql()} FROM {CITATION.table()} "
        f"INNER JOIN {links} l ON l.citation_id = ci.id WHERE l.claim_id = %s "
        f"ORDER BY ci.article_id, ci.ordinal"
    )


def claim_citations(claim: Claim) -> list[Citation]:
    """The sources the claim's sentence cites, in the article's order (one query)."""
    return [CITATION.build(row) for row in fetch(_citations_sql(vendor()), [claim.pk])]


# The latest check of each evidence page, beside its link: what it says, not its text.
SNAPSHOT = Columns(EvidenceSnapshot, "s", leave_out=("text", "diff"))


@cache
def _evidence_sql(vendor: str, whose: bool) -> str:
    q = connections[DEFAULT_DB_ALIAS].ops.quote_name
    snapshots = q(EvidenceSnapshot._meta.db_table)
    return (
        f"SELECT {EVIDENCE.sql()}, {PERSON.sql()}, {SNAPSHOT.sql()} FROM {EVIDENCE.table()} "
        f"INNER JOIN {PERSON.table()} ON u.id = e.added_by_id "
        f"LEFT OUTER JOIN {SNAPSHOT.table()} ON s.id = "
        f"(SELECT MAX(l.id) FROM {snapshots} l WHERE l.evidence_id = e.id) "
        f"WHERE e.claim_id = %s AND e.removed_at IS NULL"
        + (" AND e.added_by_id = %s" if whose else "")
        + " ORDER BY e.added_at, e.id"
    )


def claim_evidence(claim: Claim, added_by: Any = None) -> list[Evidence]:
    """The claim's evidence in place (not removed), oldest first, each with the name of who
    added it and its page's latest check (``evidence.snapshot``, None before the first);
    only ``added_by``'s, if given (one query)."""
    params = [claim.pk] if added_by is None else [claim.pk, added_by.pk]
    found = []
    at = len(EVIDENCE) + len(PERSON)
    for row in fetch(_evidence_sql(vendor(), added_by is not None), params):
        evidence = EVIDENCE.build(row)
        Evidence.added_by.field.set_cached_value(evidence, PERSON.build(row, len(EVIDENCE)))
        Evidence.claim.field.set_cached_value(evidence, claim)
        snapshot = SNAPSHOT.build(row, at) if row[at] is not None else None
        if snapshot is not None:
            EvidenceSnapshot.evidence.field.set_cached_value(snapshot, evidence)
        evidence.snapshot = snapshot
        found.append(evidence)
    return found


EVENT = Columns(AuditEvent, "ev", only=("id", "seq", "body", "article_id", "claim_id"))


@cache
def _events_sql(vendor: str, whose: bool) -> str:
    return (
        f"SELECT {EVENT.sql()} FROM {EVENT.table()} "
        f"WHERE (ev.claim_id = %s OR ev.other_claim_id = %s)"
        + (" AND ev.actor_id = %s" if whose else "")
        + " ORDER BY ev.seq DESC LIMIT %s"
    )


def claim_events(claim: Claim, *, limit: int, actor: Any = None) -> list[AuditEvent]:
    """The claim's latest ``limit`` events, newest first: its own and those that name it as
    the other claim (a merge's), only ``actor``'s if given; their bodies, not their hashes
    (one query)."""
    params = [claim.pk, claim.pk] + ([] if actor is None else [actor.pk]) + [limit]
    return [EVENT.build(row) for row in fetch(_events_sql(vendor(), actor is not None), params)]
