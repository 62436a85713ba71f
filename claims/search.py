"""Full-text search over a project's current claims: ranked, with highlighted fragments.

The index is the database's own (migration 0010_search): triggers keep
``claims_searchdoc`` in step with claims, citations, verdicts, adjudications, evidence and
article texts, however they are written. Here it is only read, one query per answer:
PostgreSQL through ``websearch_to_tsquery``, ``ts_rank_cd`` and ``ts_headline``; SQLite
through FTS5's ``MATCH``, ``bm25()`` and ``snippet()``.

Both take the same query syntax, websearch's: bare words must all appear, "quoted
phrases" appear as written, ``OR`` between two terms takes either, ``-word`` leaves out
what has it. ``parse`` reads it once, in Python, and writes each term quoted for the
database (FTS5 never sees an operator the person typed, so no query can fail there).

Blind review: members who see the whole team search everything; an analyst of a blind
project searches claim texts, citations and their own rationales and evidence only (the
index keeps a row of each kind per claim; see the migration).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from claims.models import Member


@contextmanager
def indexed_at_once(article_id: int) -> Iterator[None]:
    """Inside an import's transaction: the article's new claims and citation links are
    indexed in one pass as the block ends, rather than by the triggers of each insert
    (SQLite's run per row; PostgreSQL's per statement, and claims and their citation links
    are two: migrations 0019 and 0023). If the block raises, the transaction it is in must
    roll back, as an import's does: the pause goes with it."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO claims_search_paused (article_id) VALUES (%s)", [article_id])
    yield
    with connection.cursor() as cursor:  # its trigger indexes the article's claims
        cursor.execute("DELETE FROM claims_search_paused WHERE article_id = %s", [article_id])


QUERY_LIMIT = 200  # characters of a query
START, STOP = "\ue000", "\ue001"  # highlight marks: private-use characters, escaped around
TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
WORD = re.compile(r"\w")
TEAM, PUBLIC = 0, -1  # claims_searchdoc.viewer: everything; the claim and its citations
PG_HEADLINE = f"StartSel={START}, StopSel={STOP}, MaxFragments=2, MaxWords=24, MinWords=8"


class SearchError(ValueError):
    """A query that cannot be searched for; its message says why, to the person."""


@dataclass(frozen=True)
class Query:
    """A parsed query: groups of terms (all groups must match, any term of a group),
    and terms to leave out. Each term is a word or a phrase, as typed."""

    groups: tuple[tuple[str, ...], ...]
    excluded: tuple[str, ...] = ()

    def websearch(self) -> str:
        """For PostgreSQL's ``websearch_to_tsquery``: every term quoted (quotes inside a
        term cannot be escaped there, so they become spaces)."""

        def quoted(term: str) -> str:
            return '"' + term.replace('"', " ") + '"'

        groups = [" or ".join(quoted(t) for t in group) for group in self.groups]
        return " ".join(groups + [f"-{quoted(t)}" for t in self.excluded])

    def fts5(self) -> str:
        """For FTS5's ``MATCH``: every term a quoted string (a double quote doubled), so
        nothing the person typed is an operator, a column filter or a prefix query."""

        def quoted(term: str) -> str:
            return '"' + term.replace('"', '""') + '"'

        wanted = " AND ".join("(" + " OR ".join(quoted(t) for t in g) + ")" for g in self.groups)
        return f"({wanted})" + "".join(f" NOT {quoted(t)}" for t in self.excluded)


def parse(text: str) -> Query:
    """The query typed, in websearch syntax (see the module's docstring); SearchError when
    it has nothing to look for. Terms without a letter or digit (``*``, ``(``) are left out,
    as the databases' tokenizers would."""
    text = text.replace("\x00", "")[:QUERY_LIMIT]
    groups: list[list[str]] = []
    excluded: list[str] = []
    either = False  # the previous token was OR
    for minus, phrase, word in TOKEN.findall(text):
        if word and word.casefold() == "or":
            either = bool(groups)
            continue
        negated = bool(minus) or (bool(word) and word.startswith("-"))
        term = (phrase if not word else word.lstrip("-")).strip()
        if not WORD.search(term):
            continue
        if negated:
            excluded.append(term)
        elif either:
            groups[-1].append(term)
        else:
            groups.append([term])
        either = False
    if not groups:
        if excluded:
            raise SearchError(
                "Say what to look for besides what to leave out: -word only excludes."
            )
        raise SearchError('Type a word or a "phrase" to search for.')
    return Query(tuple(tuple(g) for g in groups), tuple(excluded))


@dataclass(frozen=True)
class Hit:
    claim_id: int
    rank: float  # higher is better
    fragment: SafeString = SafeString("")


def _viewer(member: Member) -> tuple[str, list[Any]]:
    """Which index rows the member searches (the blind rule, as ``Member.sees_everything``
    decides it for every page): everything, or the claim with their own work only."""
    if member.sees_everything:
        return "d.viewer = %s", [TEAM]
    me = member.user.pk
    return (
        "(d.viewer = %s OR (d.viewer = %s AND NOT EXISTS (SELECT 1 FROM claims_searchdoc o"
        " WHERE o.claim_id = d.claim_id AND o.viewer = %s)))",
        [me, PUBLIC, me],
    )


def _matches(
    member: Member, query: Query, within: QuerySet[Any] | None = None
) -> tuple[str, list[Any]]:
    """A SELECT of (claim_id, rank, doc) for every claim of the member's project that
    matches, as the member may see it; only claims of ``within`` (a Claim queryset) if given."""
    viewer, params = _viewer(member)
    if connection.vendor == "postgresql":
        sql = (
            "SELECT d.claim_id, round(ts_rank_cd(d.document, q)::numeric, 6) AS rank,"
            " d.id AS doc FROM claims_searchdoc d, websearch_to_tsquery('english', %s) q"
            f" WHERE d.document @@ q AND d.project_id = %s AND {viewer}"
        )
        params = [query.websearch(), member.project.pk, *params]
    else:
        sql = (
            "SELECT d.claim_id, round(-bm25(claims_search), 6) AS rank, d.id AS doc"
            " FROM claims_search JOIN claims_searchdoc d ON d.id = claims_search.rowid"
            f" WHERE claims_search MATCH %s AND d.project_id = %s AND {viewer}"
        )
        params = [query.fts5(), member.project.pk, *params]
    if within is not None:
        inner, inner_params = within.order_by().values("pk").query.sql_with_params()
        sql += f" AND d.claim_id IN ({inner})"
        params += list(inner_params)
    return sql, params


def _rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def search(
    member: Member,
    query: Query,
    *,
    within: QuerySet[Any] | None = None,
    after: tuple[float, int] | None = None,
    limit: int = 50,
) -> list[Hit]:
    """The best ``limit`` matching claims, best first (ties by claim id), after the
    ``(rank, claim id)`` of the last one of the page before, with their fragments: two
    queries."""
    sql, params = _matches(member, query, within)
    sql = f"SELECT claim_id, rank, doc FROM ({sql}) m"
    if after is not None:
        sql += " WHERE m.rank < %s OR (m.rank = %s AND m.claim_id > %s)"
        params += [after[0], after[0], after[1]]
    sql += " ORDER BY m.rank DESC, m.claim_id LIMIT %s"
    rows = _rows(sql, [*params, limit])
    marked = _fragments(query, [doc for _claim, _rank, doc in rows])
    return [Hit(claim, float(rank), marked.get(doc, SafeString(""))) for claim, rank, doc in rows]


def matching(member: Member, query: Query) -> RawSQL:
    """The ids of the claims that match, as a subquery: ``Claim.objects.filter(pk__in=...)``
    for lists sorted otherwise than by rank."""
    sql, params = _matches(member, query)
    return RawSQL(f"SELECT claim_id FROM ({sql}) m", params)


def fragments(member: Member, query: Query, claim_ids: Iterable[int]) -> dict[int, SafeString]:
    """The highlighted fragment of each of these claims that matches (two queries)."""
    ids = list(claim_ids)
    if not ids:
        return {}
    sql, params = _matches(member, query)
    marks = ", ".join(["%s"] * len(ids))
    rows = _rows(f"SELECT claim_id, doc FROM ({sql}) m WHERE claim_id IN ({marks})", params + ids)
    marked = _fragments(query, [doc for _claim, doc in rows])
    return {claim: marked[doc] for claim, doc in rows if doc in marked}


def _fragments(query: Query, docs: list[int]) -> dict[int, SafeString]:
    """Each index row's best fragment, marked."""
    if not docs:
        return {}
    marks = ", ".join(["%s"] * len(docs))
    if connection.vendor == "postgresql":
        sql = (
            "SELECT d.id, ts_headline('english', d.content, websearch_to_tsquery('english', %s),"
            f" %s) FROM claims_searchdoc d WHERE d.id IN ({marks})"
        )
        params = [query.websearch(), PG_HEADLINE, *docs]
    else:
        sql = (
            "SELECT rowid, snippet(claims_search, 0, %s, %s, %s, 24) FROM claims_search"
            f" WHERE claims_search MATCH %s AND rowid IN ({marks})"
        )
        params = [START, STOP, "…", query.fts5(), *docs]
    return {doc: marked(text) for doc, text in _rows(sql, params)}


def marked(fragment: str) -> SafeString:
    """The fragment as HTML: its text escaped, the database's highlight marks as
    ``<mark>`` (balanced, whatever the text held)."""
    out, inside = [], False
    for piece in re.split(f"([{START}{STOP}])", fragment):
        if piece == START and not inside:
            out.append("<mark>")
            inside = True
        elif piece == STOP and inside:
            out.append("</mark>")
            inside = False
        elif piece not in (START, STOP):
            out.append(escape(piece))
    if inside:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text is escaped above
