"""The claim register: every current claim of a project, filtered, searched, sorted and
read a page at a time by keyset (never OFFSET), as one member may see it.

Blind review as everywhere else (``Member.sees_everything``): an analyst of a blind
project sees the team's counts and consensus state only on claims they have given a
verdict on, filters by state only there, and searches the team's work only as
``claims.search`` lets them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.safestring import SafeString

from claims import consensus, exports, recheck, search
from claims.http import query_int
from claims.models import (
    STATUSES,
    Adjudication,
    Article,
    AuditEvent,
    Citation,
    Claim,
    Member,
    Status,
    Verdict,
)

PAGE_SIZE = 50
EXPORT_PAGE = 500  # claims per query while an export streams
SORTS = {"article": "Article order", "rank": "Best match", "changed": "Recently changed"}
VERDICTS = [
    ("", "Any"),
    ("untagged", "Not yet tagged by me"),
    *[(status.value, f"{status.label} by me") for status in Status],
]
STATES = [("", "Any"), *consensus.STATE_LABELS.items()]
DUE = [("", "Any"), ("due", "Due for re-check by me"), ("fresh", "Tagged by me, not due")]


class BadCursor(ValueError):
    """A page link that does not name a place in the list."""


class RegisterForm(forms.Form):
    """The register's filters, as a GET form: every field optional, each checked."""

    marks_optional = False  # every filter is: labels do not say it ten times

    q = forms.CharField(label="Search", required=False, max_length=search.QUERY_LIMIT, strip=True)
    verdict = forms.ChoiceField(label="My verdict", choices=VERDICTS, required=False)
    state = forms.ChoiceField(label="Consensus", choices=STATES, required=False)
    due = forms.ChoiceField(label="Re-check", choices=DUE, required=False)
    article = forms.TypedChoiceField(label="Article", required=False, coerce=int, empty_value=None)
    section = forms.CharField(label="Section", required=False, max_length=300)
    outlet = forms.CharField(label="Cited outlet", required=False, max_length=300)
    cited_from = forms.DateField(
        label="Cited from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    cited_to = forms.DateField(
        label="Cited until", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(label="Sort", choices=list(SORTS.items()), required=False)

    def __init__(self, member: Member, data: Any) -> None:
        super().__init__(data)
        articles = Article.objects.filter(project=member.project).values_list("pk", "title")
        self.fields["article"].choices = [("", "All articles"), *articles]  # type: ignore[attr-defined]

    def clean_q(self) -> str:
        text = self.cleaned_data["q"].replace("\x00", "")
        if text:
            try:
                self.query = search.parse(text)
            except search.SearchError as refusal:
                raise forms.ValidationError(str(refusal)) from refusal
        return text

    def clean_section(self) -> str:
        return self.cleaned_data["section"].replace("\x00", "")

    def clean_outlet(self) -> str:
        return self.cleaned_data["outlet"].replace("\x00", "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("cited_from"), data.get("cited_to")
        if start and end and start > end:
            raise forms.ValidationError("The 'cited from' date must not come after 'cited until'.")
        return data

    def filters(self) -> Filters:
        """The valid form's filters."""
        data = self.cleaned_data
        q = data["q"]
        sort = data["sort"] or ("rank" if q else "article")
        if sort == "rank" and not q:
            sort = "article"  # there is no rank without a search
        return Filters(
            query=getattr(self, "query", None) if q else None,
            verdict=data["verdict"],
            state=data["state"],
            due=data["due"],
            article=data["article"],
            section=data["section"],
            outlet=data["outlet"],
            cited_from=data["cited_from"],
            cited_to=data["cited_to"],
            sort=sort,
        )


@dataclass(frozen=True)
class Filters:
    query: search.Query | None = None
    verdict: str = ""
    state: str = ""
    due: str = ""
    article: int | None = None
    section: str = ""
    outlet: str = ""
    cited_from: dt.date | None = None
    cited_to: dt.date | None = None
    sort: str = "article"


@dataclass
class Row:
    """One claim as the member sees it in the register."""

    claim: Claim
    team_visible: bool
    my_status: str
    due: bool
    counts: dict[str, int]
    state: str
    citations: list[Citation] = field(default_factory=list)
    fragment: SafeString = SafeString("")
    rank: float | None = None

    @property
    def state_label(self) -> str:
        return consensus.STATE_LABELS[self.state] if self.team_visible else "Hidden until you tag"


@dataclass
class Page:
    rows: list[Row]
    after: str  # the cursor of the next page ("": this is the last)


# The keyset of each sort other than rank: (annotation or field, descending, parser).
KEYS: dict[str, list[tuple[str, bool, Any]]] = {
    "article": [
        ("published", True, dt.date.fromisoformat),
        ("article_id", True, int),
        ("start", False, int),
        ("pk", False, int),
    ],
    "changed": [("changed", True, int), ("pk", False, int)],
}


def claims(member: Member, filters: Filters) -> QuerySet[Claim]:
    """The project's current claims that pass the filters other than the search, with what
    a row shows and the sorts need (one query when read)."""
    user, project = member.user, member.project
    rows = Claim.objects.filter(article__project=project).with_text().with_consensus()
    if filters.article is not None:
        rows = rows.filter(article_id=filters.article)
    if filters.section:
        rows = rows.filter(section__iexact=filters.section)
    if filters.outlet or filters.cited_from or filters.cited_to:
        cited = Citation.objects.filter(claims=OuterRef("pk"))
        if filters.outlet:
            cited = cited.filter(outlet__iexact=filters.outlet)
        if filters.cited_from:
            cited = cited.filter(date__gte=filters.cited_from)
        if filters.cited_to:
            cited = cited.filter(date__lte=filters.cited_to)
        rows = rows.filter(Exists(cited))
    mine = Verdict.objects.filter(claim=OuterRef("pk"), analyst=user).exclude(status="")
    freshness = recheck.Freshness.of(project)
    my_due = mine.annotate(due_on=recheck.due_on(freshness)).values("due_on")[:1]
    rows = rows.annotate(
        my_status=Subquery(mine.values("status")[:1]),
        my_due=Subquery(my_due),
        published=F("article__published_on"),
    )
    if filters.verdict == "untagged":
        rows = rows.filter(~Exists(mine))
    elif filters.verdict:
        rows = rows.filter(Exists(mine.filter(status=filters.verdict)))
    today = timezone.localdate()
    if filters.due == "due":
        rows = rows.filter(my_due__lte=today)
    elif filters.due == "fresh":
        rows = rows.filter(Exists(mine)).exclude(my_due__lte=today)
    if filters.state:
        rows = _in_state(rows, member, filters.state)
    if filters.sort == "changed":
        events = AuditEvent.objects.filter(claim_id=OuterRef("pk"))
        if not member.sees_everything:  # blind review: only their own work moves a claim up
            events = events.filter(actor=user)
        latest = events.order_by("-seq").values("seq")[:1]
        rows = rows.annotate(changed=Coalesce(Subquery(latest), 0))
    return rows


def _in_state(rows: QuerySet[Claim], member: Member, state: str) -> QuerySet[Claim]:
    """Claims in a consensus state (``consensus.consensus_state`` in SQL); in a blind
    project, for an analyst, only among those they have tagged."""
    counts = [F(f"n_{status}") for status in Status.values]
    total = counts[0] + counts[1] + counts[2]
    ruled = Adjudication.objects.filter(claim=OuterRef("pk")).exclude(status="")
    least = member.project.min_verdicts
    states = Case(
        When(Exists(ruled), then=Value(consensus.ADJUDICATED)),
        When(Q(total__lt=max(least, 1)), then=Value(consensus.UNREVIEWED)),
        When(Q(top=F("total")), then=Value(consensus.UNANIMOUS)),
        When(Q(top2__gt=F("total")), then=Value(consensus.MAJORITY)),
        default=Value(consensus.CONTESTED),
    )
    top = Greatest(*counts, output_field=IntegerField())
    rows = rows.annotate(total=total, top=top, top2=top * 2).annotate(state=states)
    if not member.sees_everything:
        mine = Verdict.objects.filter(claim=OuterRef("pk"), analyst=member.user)
        rows = rows.filter(Exists(mine.exclude(status="")))
    return rows.filter(state=state)


def page(member: Member, filters: Filters, after: str = "", size: int = PAGE_SIZE) -> Page:
    """One page of rows after the cursor ``after`` (from the previous page; "" for the
    first): a fixed number of queries, whatever the project's size. BadCursor when
    ``after`` is not a cursor of this sort."""
    rows = claims(member, filters)
    query = filters.query
    if query is not None and filters.sort == "rank":
        hits = search.search(member, query, within=rows, after=_rank_cursor(after), limit=size + 1)
        more, hits = len(hits) > size, hits[:size]
        found = {claim.pk: claim for claim in rows.filter(pk__in=[h.claim_id for h in hits])}
        ranked = [(found[h.claim_id], h.fragment, h.rank) for h in hits if h.claim_id in found]
        last = hits[-1] if hits else None
        cursor = f"{last.rank!r}_{last.claim_id}" if more and last else ""
        return Page(_rows(member, ranked), cursor)
    if query is not None:
        rows = rows.filter(pk__in=search.matching(member, query))
    keys = KEYS[filters.sort]
    if after:
        rows = rows.filter(_beyond(keys, _cursor(keys, after)))
    ordering = [f"-{name}" if descending else name for name, descending, _parse in keys]
    claims_ = list(rows.order_by(*ordering)[: size + 1])
    more, claims_ = len(claims_) > size, claims_[:size]
    marked = search.fragments(member, query, [c.pk for c in claims_]) if query else {}
    listed = [(claim, marked.get(claim.pk, SafeString("")), None) for claim in claims_]
    cursor = "_".join(str(_value(claims_[-1], n)) for n, _d, _p in keys) if more else ""
    return Page(_rows(member, listed), cursor)


def pages(member: Member, filters: Filters, size: int = EXPORT_PAGE) -> Iterator[Row]:
    """Every row, a page at a time (for exports, which stream)."""
    after = ""
    while True:
        found = page(member, filters, after, size)
        yield from found.rows
        if not found.after:
            return
        after = found.after


def _value(claim: Claim, name: str) -> Any:
    value = getattr(claim, name)
    return value.isoformat() if isinstance(value, dt.date) else value


def _cursor(keys: list[tuple[str, bool, Any]], after: str) -> list[Any]:
    parts = after.split("_")
    if len(parts) != len(keys):
        raise BadCursor(after)
    try:
        values = [parse(part) for part, (_n, _d, parse) in zip(parts, keys, strict=True)]
    except (ValueError, OverflowError) as error:
        raise BadCursor(after) from error
    if any(isinstance(v, int) and query_int(str(abs(v))) is None for v in values):
        raise BadCursor(after)
    return values


def _rank_cursor(after: str) -> tuple[float, int] | None:
    if not after:
        return None
    rank, _, claim_id = after.partition("_")
    try:
        value = float(rank)
    except ValueError as error:
        raise BadCursor(after) from error
    number = query_int(claim_id)
    if number is None or value != value or value in (float("inf"), float("-inf")):
        raise BadCursor(after)
    return value, number


def _beyond(keys: list[tuple[str, bool, Any]], values: list[Any]) -> Q:
    """Rows after ``values`` in the order ``keys`` give: the keyset condition."""
    condition = Q(pk__in=[])
    for i, (name, descending, _parse) in enumerate(keys):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[i]})
        for earlier, value in zip(keys[:i], values[:i], strict=True):
            step &= Q(**{earlier[0]: value})
        condition |= step
    return condition


def _rows(member: Member, listed: Sequence[tuple[Claim, SafeString, float | None]]) -> list[Row]:
    """The rows of a page, blind review applied, with their citations (one query)."""
    ids = [claim.pk for claim, _fragment, _rank in listed]
    citations: dict[int, list[Citation]] = {}
    links = Claim.citations.through.objects.filter(claim_id__in=ids).select_related("citation")
    for link in links.order_by("pk"):
        citations.setdefault(link.claim_id, []).append(link.citation)
    today, least = timezone.localdate(), member.project.min_verdicts
    rows = []
    for claim, fragment, rank in listed:
        my_status = claim.my_status or ""  # type: ignore[attr-defined]
        visible = member.sees_everything or bool(my_status)
        counts = claim.counts() if visible else {}
        state = claim.consensus(least) if visible else consensus.UNREVIEWED
        due = claim.my_due is not None and claim.my_due <= today  # type: ignore[attr-defined]
        rows.append(
            Row(
                claim,
                visible,
                my_status,
                due,
                counts,
                state,
                citations.get(claim.pk, []),
                fragment,
                rank,
            )
        )
    return rows


EXPORT_HEADER = [
    "article",
    "article_title",
    "claim",
    "number",
    "section",
    "text",
    "citations",
    "my_verdict",
    "due_for_me",
    "state",
    "supported",
    "disputed",
    "outdated",
    "adjudication",
    "rank",
]


def record(row: Row) -> dict[str, Any]:
    """One exported claim: what the register shows of it (blind review applied)."""
    claim = row.claim
    final = claim.final if row.team_visible else None
    return {
        "article": claim.article_id,
        "article_title": claim.article.title,
        "claim": claim.pk,
        "number": claim.ordinal,
        "section": claim.section,
        "text": claim.text,
        "citations": [{"outlet": c.outlet, "date": c.when, "raw": c.raw} for c in row.citations],
        "my_verdict": row.my_status or None,
        "due_for_me": row.due,
        "state": row.state if row.team_visible else None,
        **{status: row.counts.get(status, 0) if row.team_visible else None for status in STATUSES},
        "adjudication": final.status if final is not None else None,
        "rank": row.rank,
    }


def export_csv(rows: Iterator[Row]) -> Iterator[str]:
    """The rows as CSV for people (a byte-order mark first, for Excel)."""

    def cells() -> Iterator[list[Any]]:
        for row in rows:
            item = record(row)
            item["citations"] = "; ".join(f"{c['outlet']} {c['date']}" for c in item["citations"])
            yield ["" if value is None else value for value in item.values()]

    yield exports.BOM
    yield from exports.csv_lines(EXPORT_HEADER, cells())


def export_json(rows: Iterator[Row]) -> Iterator[str]:
    yield '{"claims":['
    for index, row in enumerate(rows):
        yield ("," if index else "") + "\n" + json.dumps(record(row), ensure_ascii=False)
    yield "\n]}\n"
