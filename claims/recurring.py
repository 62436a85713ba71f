"""The same claim in other articles: proposals, and adopting a linked claim's verdict.

When a text is imported or revised, each new or reworded claim is compared with the
project's current claims of other articles, never all pairs: an inverted index of content
words (``ClaimTerm``: a claim's words, lowercased, cut to their first five letters, stop
words left out) gives candidates: the claims sharing the most of its words, words common
to many claims left out; then rapidfuzz scores the few best candidates' texts. Pairs that
score at least ``CUTOFF`` are stored as proposed ``ClaimLink`` rows.

The index and the proposals are derived data, recomputable from the claims' text at any
time: they are written inside the import's (or revision's, or claim edit's) transaction,
beside its one event, and add no event of their own; ``manage.py reindex_recurring``
rebuilds them for existing data. What a reviewer decides about a proposal is
audited (``ClaimLink.decide``), and so is a verdict adopted from a linked claim.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db import connection, models
from django.db.models import Q
from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from claims.models import (
    Adjudication,
    Article,
    Claim,
    ClaimLink,
    ClaimTerm,
    Conflict,
    Evidence,
    LinkState,
    Member,
    Project,
    Role,
    Verdict,
)

STEM = 5  # letters a word is cut to: "supplies", "supplied" and "supply" share "suppl"
# Candidates for each claim: those sharing the most of its words, at most this many.
CANDIDATES = 8
# A word on more than this many claims finds no candidates: it would bring a crowd that
# merely shares it (a claim's rarer words find the claims that say the same).
CROWD = 200
RAREST = 6  # a claim's words that look for candidates, its rarest first
ANALYZE_AFTER = 500  # claims in one import past which PostgreSQL re-reads the postings' statistics
CUTOFF = 62  # the lowest score (0-100) that is proposed: tests/data/recurring sets it
PER_CLAIM = 3  # proposals kept for one claim, best first
BATCH = 900  # values per IN (...) list, well under every database's limit

WORD = re.compile(r"[^\W_]+")
STOP_WORDS = frozenset(
    WORD.findall(
        """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    even ever few for from further had has have having he her here hers him his how however
    i if in into is it its itself just may might more most much must my no nor not now of
    off on once only or other our ours out over own per same she should so some such than
    that the their theirs them then there these they this those through thus to too under
    until up upon very was we were what when where which while who whom why will with would
    yet you your"""
    )
)


# A parenthesis: in these articles, mostly a citation ("(TASS, August 24, 2020)"), which
# says where a claim comes from, not what it claims; two claims citing one source on one
# day are not the same claim for that (the sources page lists them).
ASIDE = re.compile(r"\([^()]*\)")


def core(text: str) -> str:
    """What a claim says, without its parentheses."""
    return ASIDE.sub(" ", text)


def terms(text: str) -> set[str]:
    """The words of ``text`` that say what it is about, each cut to its stem."""
    found = set()
    for word in WORD.findall(core(text).lower()):
        if word in STOP_WORDS or (len(word) < 3 and not word.isdigit()):
            continue
        found.add(word if word.isdigit() else word[:STEM])
    return found


def score(a: str, b: str) -> int:
    """How alike two claims read, 0-100: the mean of rapidfuzz's token-set ratio (forgiving
    words one side adds) and its token-sort ratio (which is not, so that a short claim whose
    words all appear in a long one does not score 100)."""
    a, b = default_process(core(a)), default_process(core(b))
    return round((fuzz.token_set_ratio(a, b) + fuzz.token_sort_ratio(a, b)) / 2)


Assessed = Verdict | Adjudication


@dataclass(frozen=True)
class Text:
    """A claim and its words: what ``propose`` compares."""

    claim: int
    article: int
    text: str

    @cached_property
    def words(self) -> set[str]:
        """Its ``terms``, found once for the index and the candidates."""
        return terms(self.text)


TERM_FIELDS = ("project", "article", "claim", "term")  # a ClaimTerm row, as ``Store`` takes it
# Writes rows of a model: ``fields`` and their values in that order (the importer's own
# bulk loader, which on PostgreSQL is COPY; ``bulk_insert`` otherwise).
Store = Callable[[type[models.Model], tuple[str, ...], Iterable[tuple[Any, ...]]], None]


def bulk_insert(
    model: type[models.Model], fields: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> None:
    """``Store`` by ``bulk_create``: for a revision's few claims."""
    concrete = {f.name: f.attname for f in model._meta.concrete_fields}
    names = [concrete[name] for name in fields]
    made = (model(**dict(zip(names, row, strict=True))) for row in rows)
    model._default_manager.bulk_create(made, batch_size=2000)


def index(project: Project, texts: Iterable[Text], store: Store = bulk_insert) -> None:
    """Add the claims' words to the index."""
    rows = ((project.pk, t.article, t.claim, term[:40]) for t in texts for term in sorted(t.words))
    store(ClaimTerm, TERM_FIELDS, rows)


def batches[T](values: Sequence[T]) -> Iterable[Sequence[T]]:
    """``values`` in lists short enough for one ``IN (...)``."""
    for start in range(0, len(values), BATCH):
        yield values[start : start + BATCH]


def candidates(project: Project, article_id: int, texts: Sequence[Text]) -> dict[int, list[int]]:
    """For each claim, the current claims of the project's other articles that share the
    most of its ``RAREST`` rarest words (at most ``CANDIDATES``, two words at least unless
    it has only one), words on more than ``CROWD`` claims left out: a few queries per
    thousand words."""
    words = {t.claim: t.words for t in texts}
    everything = sorted(set().union(*words.values())) if words else []
    common = set()
    for batch in batches(everything):
        common.update(_common(project, article_id, batch))
    postings: dict[str, list[int]] = defaultdict(list)
    for batch in batches([w for w in everything if w not in common]):
        for term, claim in _postings(project, article_id, batch):
            postings[term].append(claim)
    found: dict[int, list[int]] = {}
    for claim, own in words.items():
        # Its rarest words, by how many claims hold each (the length of its postings).
        rare = sorted((w for w in own if w not in common), key=lambda w: len(postings[w]))
        rare = [w for w in rare if postings[w]][:RAREST]
        shared: Counter[int] = Counter()
        for w in rare:  # a list at a time: Counter counts those in C
            shared.update(postings[w])
        least = min(2, len(rare))
        found[claim] = [c for c, n in shared.most_common(CANDIDATES) if n >= least]
    return found


def _postings(project: Project, article_id: int, batch: Sequence[str]) -> list[tuple[str, int]]:
    """The ``(term, claim)`` rows of ``batch``'s words in other articles: read by the
    cursor, as hundreds of thousands of plain pairs cost less than as many ORM rows."""
    rows = ClaimTerm.objects.filter(project=project, term__in=batch).exclude(article_id=article_id)
    sql, params = rows.values_list("term", "claim_id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _common(project: Project, article_id: int, batch: Sequence[str]) -> list[str]:
    """Of ``batch``, the words on more than ``CROWD`` claims of other articles: one query,
    which reads no word's index entries past the first ``CROWD`` + 1 (``COUNT`` would
    read them all, and the commonest words have tens of thousands)."""
    table = connection.ops.quote_name(ClaimTerm._meta.db_table)
    values = ", ".join(["(%s)"] * len(batch))
    sql = (
        f"WITH x(term) AS (VALUES {values}) SELECT x.term FROM x WHERE ("
        f"SELECT o.claim_id FROM {table} o WHERE o.project_id = %s AND o.term = x.term "
        "AND o.article_id <> %s LIMIT 1 OFFSET %s) IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*batch, project.pk, article_id, CROWD])
        return [term for (term,) in cursor.fetchall()]


def texts_of(claim_ids: Iterable[int]) -> dict[int, str]:
    """The claims' texts: their bounds in one query, their articles' texts in another
    (each article read once, however many of its claims are asked for)."""
    ids = sorted(set(claim_ids))
    spans: list[tuple[int, int, int, int]] = []
    for batch in batches(ids):
        spans += Claim.objects.filter(pk__in=batch).values_list("pk", "article_id", "start", "end")
    articles = sorted({article for _pk, article, _s, _e in spans})
    text: dict[int, str] = {}
    for batch in batches(articles):
        text.update(Article.objects.filter(pk__in=batch).values_list("pk", "text"))
    return {pk: text[article][start:end] for pk, article, start, end in spans}


def propose(
    project: Project,
    article: Article,
    spans: Sequence[tuple[int, int, int]],
    store: Store = bulk_insert,
) -> int:
    """Index the claims of ``article`` given by ``spans`` (``(id, start, end)``) and propose
    the same claim elsewhere for each: the number of proposals made. Call it inside the
    transaction that stored the claims; it writes no event (see the module's docstring)."""
    texts = [Text(pk, article.pk, article.text[start:end]) for pk, start, end in spans]
    index(project, texts, store)
    if connection.vendor == "postgresql" and len(texts) >= ANALYZE_AFTER:
        # A big import adds tens of thousands of postings that the planner has no
        # statistics for until autovacuum comes (a minute or more): imports in a row then
        # scanned the whole table for each batch of words (40 s for 2,000 claims beside
        # 22,000). ANALYZE samples the table (milliseconds) and takes no lock a reader or
        # writer waits on.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(ClaimTerm._meta.db_table)}")
    return match(project, article, texts)


def match(project: Project, article: Article, texts: Sequence[Text]) -> int:
    """Propose the same claim elsewhere for ``texts``, claims of ``article`` already
    indexed: the number of proposals made (pairs already stored stay as they are)."""
    found = candidates(project, article.pk, texts)
    theirs = texts_of({c for found_ in found.values() for c in found_})
    links = []
    for t in texts:
        scored = sorted(
            ((score(t.text, theirs[other]), other) for other in found[t.claim] if other in theirs),
            reverse=True,
        )
        for value, other in [s for s in scored if s[0] >= CUTOFF][:PER_CLAIM]:
            a, b = sorted((t.claim, other))
            links.append(ClaimLink(claim_a_id=a, claim_b_id=b, score=value))
    # A pair proposed, confirmed or rejected before stays as it is (claimlink_once).
    ClaimLink.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)
    return len(links)


def reindex(
    project: Project,
    article: Article,
    spans: Sequence[tuple[int, int, int]],
    retired: Iterable[int],
) -> int:
    """After a revision: forget the words and open proposals of retired and reworded
    claims, then index and propose for the reworded and added ones (``spans``, as
    ``propose`` takes them)."""
    gone = [*retired, *(pk for pk, _start, _end in spans)]
    for batch in batches(gone):
        ClaimTerm.objects.filter(claim_id__in=batch).delete()
        ClaimLink.objects.filter(
            Q(claim_a_id__in=batch) | Q(claim_b_id__in=batch), state=LinkState.PROPOSED
        ).delete()
    return propose(project, article, spans)


def edited(project: Project, article: Article, claims: Sequence[Claim]) -> int:
    """After a claim edit (a split, a merge, an unmerge, a span correction, or a revert that
    makes one): the words and open proposals of ``claims``, whose text changed or which
    are new, afresh. Called by the edit's verb inside its transaction, beside its one
    event (``claims.models.reindex_same_claims``); a claim a merge removed takes its words
    and proposals with it (the rows cascade)."""
    return reindex(project, article, [(c.pk, c.start, c.end) for c in claims], retired=())


def stale_proposals(project: Project) -> list[int]:
    """The project's proposals nobody has decided or reopened (version 0) that would not be
    made today: a claim of the pair is retired, or the two texts no longer score
    ``CUTOFF`` (a claim reworded, the scoring changed). Decided and reopened links, which
    carry a reviewer's events, are never among them."""
    untouched = ClaimLink.objects.filter(
        claim_a__article__project=project, state=LinkState.PROPOSED, version=0
    ).values_list("pk", "claim_a_id", "claim_b_id")
    pairs = list(untouched)
    text = texts_of({c for _pk, a, b in pairs for c in (a, b)})  # current claims only
    return [
        pk
        for pk, a, b in pairs
        if a not in text or b not in text or score(text[a], text[b]) < CUTOFF
    ]


def index_article(project: Project, article: Article) -> list[Text]:
    """``manage.py reindex_recurring``: the article's index rows afresh from its current
    claims; their texts, for ``match``."""
    spans = article.claims.order_by("pk").values_list("pk", "start", "end")
    texts = [Text(pk, article.pk, article.text[s:e]) for pk, s, e in spans]
    ClaimTerm.objects.filter(article=article).delete()
    index(project, texts)
    return texts


# What the panel shows, and adopting a verdict ------------------------------------------


@dataclass(frozen=True)
class Linked:
    """The same claim in another article, as the panel shows it to one member."""

    link: ClaimLink
    claim: Claim
    text: str
    verdicts: list[Verdict]  # the team's, as far as blind review lets the member see them
    hidden: int  # verdicts blind review keeps from the member
    mine: Verdict | None  # the member's own verdict there
    evidence: list[Evidence]
    team_visible: bool  # blind review: the team's verdicts, ruling and evidence are shown

    @property
    def ruling(self) -> Adjudication | None:
        return self.claim.final if self.team_visible else None

    @property
    def proposed(self) -> bool:
        return self.link.state == LinkState.PROPOSED

    @property
    def adoptable(self) -> bool:
        """There is a verdict here the member may adopt (``adoptable()`` says which)."""
        return not self.proposed and bool(self.verdicts or self.ruling)


def links_of(claim: Claim, member: Member) -> list[Linked]:
    """The claim's confirmed links, and for reviewers its proposals too, with what the
    member may see of the other claim: five queries, however many links."""
    shown = [LinkState.CONFIRMED]
    if member.at_least(Role.REVIEWER):
        shown.append(LinkState.PROPOSED)
    links = list(
        ClaimLink.objects.filter(Q(claim_a=claim) | Q(claim_b=claim), state__in=shown)
        .select_related("decided_by")
        .order_by("-state", "-score", "pk")
    )
    if not links:
        return []
    ids = [link.other(claim.pk) for link in links]
    others = {
        c.pk: c
        for c in Claim.objects.filter(pk__in=ids, article__project=member.project)
        .with_text()
        .with_consensus()
    }
    verdicts: dict[int, list[Verdict]] = defaultdict(list)
    for v in Verdict.objects.filter(claim_id__in=ids).exclude(status="").select_related("analyst"):
        verdicts[v.claim_id].append(v)
    evidence: dict[int, list[Evidence]] = defaultdict(list)
    for e in Evidence.objects.filter(claim_id__in=ids, removed_at__isnull=True):
        evidence[e.claim_id].append(e)
    found = []
    for link in links:
        other = others.get(link.other(claim.pk))
        if other is None:
            continue
        team = verdicts[other.pk]
        mine = next((v for v in team if v.analyst_id == member.user.pk), None)
        # Blind review, as for the claim itself: the team's verdicts on a claim only once
        # the member has given theirs there.
        sees = member.sees_everything or mine is not None
        shown_verdicts = team if sees else [v for v in team if v is mine]
        items = evidence[other.pk]
        found.append(
            Linked(
                link,
                other,
                other.text,
                shown_verdicts,
                len(team) - len(shown_verdicts),
                mine,
                items if sees else [e for e in items if e.added_by_id == member.user.pk],
                sees,
            )
        )
    return found


def adoptable(claim: Claim, member: Member, source_id: int) -> Assessed:
    """What ``member`` adopts from ``source_id``, a claim confirmed as the same as
    ``claim``: their own verdict there; else, if they may see it (blind review), the
    ruling there, or else the latest verdict. Conflict when there is none (any more)."""
    a, b = sorted((claim.pk, source_id))
    if not ClaimLink.objects.filter(claim_a_id=a, claim_b_id=b, state=LinkState.CONFIRMED).exists():
        raise Conflict(None, "These claims are not confirmed as the same claim.")
    verdicts = Verdict.objects.filter(
        claim_id=source_id, claim__article__project=member.project
    ).exclude(status="")
    mine = verdicts.filter(analyst=member.user).first()
    if mine is not None:
        return mine
    if not member.sees_everything:
        raise Conflict(None, "Blind review: give your own verdict on that claim first.")
    ruling = Adjudication.objects.filter(claim_id=source_id).exclude(status="").first()
    source = ruling or verdicts.order_by("-updated_at", "-pk").first()
    if source is None:
        raise Conflict(None, "The linked claim has no verdict to adopt.")
    return source


def adopt(claim: Claim, member: Member, source_id: int, *, expected_version: int) -> Verdict:
    """Give ``member``'s verdict on ``claim`` the status, rationale and as-of of what they
    see on the same claim elsewhere (``adoptable``): one verdict event, which names the
    source claim (``adopted_from``)."""
    source = adoptable(claim, member, source_id)
    return claim.set_verdict(
        member,
        source.status,
        rationale=source.rationale,
        as_of=source.as_of,
        expected_version=expected_version,
        adopted_from=source_id,
    )


def same_source(claim: Claim, member: Member, limit: int = 20) -> list[Claim]:
    """Other current claims of the project that cite an outlet this claim cites, with the
    same date (as precisely as each citation gives it): two queries."""
    cited = list(claim.citations.values_list("outlet", "date", "precision"))
    if not cited:
        return []
    same = Q()
    for outlet, date, precision in cited:
        same |= Q(citations__outlet=outlet, citations__date=date, citations__precision=precision)
    return list(
        Claim.objects.filter(same, article__project=member.project)
        .exclude(pk=claim.pk)
        .distinct()
        .with_text()
        .order_by("article__published_on", "article_id", "ordinal")[:limit]
    )
