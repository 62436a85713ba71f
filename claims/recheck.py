"""When a verdict comes due for re-check, and why.

A verdict stays fresh for as long as its project says for its status (``Freshness``),
counted from when its analyst last stood by it (``Verdict.checked_at``: given, changed or
confirmed); an analyst's own "re-check by" date overrides that for their verdict until
they next stand by it. New evidence on the claim, or a new wording of it, since then
makes it due at once; evidence is not new to the analyst who changed it last (they added
the link for their verdict, or looked at the evidence as it stands to remove one).

``due()`` decides for one verdict, in plain values (pure: the clock is an argument).
``due_on()`` says the same in SQL, so that a project's due verdicts are found, ordered and
paged by the database, however many there are; ``tests/test_recheck.py`` holds the two
to each other. Blind review is applied by ``visible_to()``, as everywhere else: an analyst
who has not given their own verdict on a claim learns nothing of others' there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import Case, DateField, F, Func, Q, QuerySet, Value, When
from django.db.models.functions import Least, Substr
from django.utils import timezone

from claims.models import STATUSES, Member, Project, Status, Verdict

NEVER = dt.date(9999, 12, 31)  # the due date of a verdict that never comes due
SOON_DAYS = 30  # the Due queue shows what comes due this many days ahead, after the due
LONGEST_DAYS = 3650  # the longest freshness or re-check date anyone may set: ten years


class Reason(StrEnum):
    OVERDUE = "overdue"  # the project's freshness for its status has run out
    RECHECK_DATE = "re-check date reached"  # the analyst's own date
    NEW_EVIDENCE = "new evidence"  # added, removed or restored since
    WORDING = "wording changed"  # a revision of the article changed the claim's words


@dataclass(frozen=True)
class Freshness:
    """Days a verdict of each status stays fresh; None: it never comes due by date."""

    supported: int | None = 180
    disputed: int | None = 90
    outdated: int | None = None

    @classmethod
    def of(cls, project: Project) -> Freshness:
        return cls(
            project.fresh_supported_days, project.fresh_disputed_days, project.fresh_outdated_days
        )

    def days(self, status: str) -> int | None:
        value: int | None = getattr(self, status)
        return value

    @property
    def described(self) -> str:
        """'supported 180 days, disputed 90 days, outdated never'."""
        return ", ".join(
            f"{status} " + ("never" if n is None else f"{n} day{'' if n == 1 else 's'}")
            for status in STATUSES
            for n in [self.days(status)]
        )


def local_day(moment: dt.datetime) -> dt.date:
    """The day of ``moment`` where the site is (what ``TruncDate`` gives in SQL)."""
    return timezone.localdate(moment)


@dataclass(frozen=True)
class Due:
    """When a verdict comes (or came) due, and why it is due now (no reasons: not yet)."""

    on: dt.date  # NEVER when nothing will make it due
    reasons: tuple[Reason, ...] = ()
    by_date: dt.date | None = None  # the date its freshness or re-check date falls on

    @property
    def is_due(self) -> bool:
        return bool(self.reasons)

    @property
    def ever(self) -> bool:
        return self.on != NEVER

    @property
    def new_evidence(self) -> bool:
        return Reason.NEW_EVIDENCE in self.reasons

    @property
    def reasons_text(self) -> str:
        return ", ".join(self.reasons)

    @property
    def explained(self) -> list[str]:
        """The reasons as the claim panel says them to the verdict's analyst."""
        return [EXPLAINED[reason] for reason in self.reasons]


EXPLAINED = {
    Reason.OVERDUE: "it has stood longer than the project keeps a verdict fresh",
    Reason.RECHECK_DATE: "the re-check date you set has come",
    Reason.NEW_EVIDENCE: "new evidence since your verdict",
    Reason.WORDING: "the claim's wording changed since your verdict",
}


NOT_DUE = Due(NEVER)


def due(
    *,
    status: str,
    checked_at: dt.datetime,
    recheck_by: dt.date | None,
    freshness: Freshness,
    evidence_changed_at: dt.datetime | None,
    evidence_changed_by: int | None,
    analyst: int,
    revised_at: dt.datetime | None,
    today: dt.date,
) -> Due:
    """When the verdict comes due and, as of ``today``, why it is due. Pure.

    A cleared verdict never is. The analyst's re-check date counts while it lies after the
    day they last stood by the verdict; once they have (on or after it), the project's
    freshness runs again from then.
    """
    if not status:
        return NOT_DUE
    checked_on = local_day(checked_at)
    by_date: dt.date | None
    if recheck_by is not None and recheck_by > checked_on:
        by_date, date_reason = recheck_by, Reason.RECHECK_DATE
    else:
        days = freshness.days(status)
        by_date = local_day(checked_at + dt.timedelta(days=days)) if days is not None else None
        date_reason = Reason.OVERDUE
    dates, reasons = [NEVER], []
    if by_date is not None:
        dates.append(by_date)
        if by_date <= today:
            reasons.append(date_reason)
    if (
        evidence_changed_at is not None
        and evidence_changed_at > checked_at
        and evidence_changed_by != analyst
    ):
        dates.append(local_day(evidence_changed_at))
        reasons.append(Reason.NEW_EVIDENCE)
    if revised_at is not None and revised_at > checked_at:
        dates.append(local_day(revised_at))
        reasons.append(Reason.WORDING)
    return Due(min(dates), tuple(reasons), by_date)


def verdict_due(verdict: Any, claim: Any, freshness: Freshness, today: dt.date) -> Due:
    """``due()`` of a verdict row (or anything with its fields) on its claim."""
    return due(
        status=verdict.status,
        checked_at=verdict.checked_at,
        recheck_by=verdict.recheck_by,
        freshness=freshness,
        evidence_changed_at=claim.evidence_changed_at,
        evidence_changed_by=claim.evidence_changed_by_id,
        analyst=verdict.analyst_id,
        revised_at=claim.revised_at,
        today=today,
    )


# The same in SQL -----------------------------------------------------------------------


class LocalDay(Func):
    """The day on which ``days`` days after a moment falls where the site is: as
    ``TruncDate(moment + days)``, except that on SQLite with the site in UTC (settings),
    SQLite's own date() says it, rather than a call back into Python for every row,
    which over 100,000 verdicts takes a second."""

    output_field = DateField()
    arity = 1

    def __init__(self, moment: Any, days: int = 0) -> None:
        super().__init__(moment)
        self.days = days

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra: Any,
    ) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        if self.days:  # an interval (PostgreSQL)
            sql, params = f"({sql} + %s)", (*params, dt.timedelta(days=self.days))
        zone = timezone.get_current_timezone_name()
        return connection.ops.datetime_cast_date_sql(sql, tuple(params), zone)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        zone = timezone.get_current_timezone_name()
        if zone == "UTC":  # Django stores UTC: date() reads it as it is
            return f"date({sql}, %s)", (*params, f"+{self.days} days")
        if self.days:
            sql = connection.ops.combine_duration_expression("+", [sql, "%s"])
            params = (*params, self.days * 86_400_000_000)  # microseconds
        return connection.ops.datetime_cast_date_sql(sql, tuple(params), zone)


def due_on(freshness: Freshness) -> Least:
    """``due().on`` of each verdict row as a SQL date (``NEVER`` for never): the earliest
    of its date by freshness or re-check date, and the days its claim's evidence or
    wording changed after it was checked."""
    checked = F("checked_at")
    by_status = [
        When(status=status, then=LocalDay(checked, days))
        for status in STATUSES
        if (days := freshness.days(status)) is not None
    ]
    by_date = Case(
        When(recheck_by__gt=LocalDay(checked), then=F("recheck_by")),
        *by_status,
        default=Value(NEVER),
        output_field=DateField(),
    )
    evidence = Case(
        When(
            Q(claim__evidence_changed_at__gt=checked) & ~Q(claim__evidence_changed_by=F("analyst")),
            then=LocalDay(F("claim__evidence_changed_at")),
        ),
        default=Value(NEVER),
        output_field=DateField(),
    )
    wording = Case(
        When(claim__revised_at__gt=checked, then=LocalDay(F("claim__revised_at"))),
        default=Value(NEVER),
        output_field=DateField(),
    )
    return Least(by_date, evidence, wording, output_field=DateField())


def project_verdicts(project: Project) -> QuerySet[Verdict]:
    """The standing verdicts on the claims of the project's current texts."""
    return Verdict.objects.filter(
        claim__article__project=project, claim__retired_in__isnull=True
    ).exclude(status="")


def visible_to(verdicts: QuerySet[Verdict], member: Member) -> QuerySet[Verdict]:
    """The verdicts ``member`` may know about: all of them, or in a blind project (for an
    analyst or a viewer) their own, and others' only on claims they have given a verdict
    on themselves (as ``reading`` and ``tally`` decide)."""
    if member.sees_everything:
        return verdicts
    given = Verdict.objects.filter(analyst=member.user).exclude(status="").values("claim_id")
    return verdicts.filter(Q(analyst=member.user) | Q(claim_id__in=given))


def coming_due(verdicts: QuerySet[Verdict], freshness: Freshness, until: dt.date) -> QuerySet:
    """The verdicts due on or before ``until``, due ones first, then the soonest: their
    ids and due dates, to page through (``details()`` reads what a page shows)."""
    return (
        verdicts.annotate(due_on=due_on(freshness))
        .filter(due_on__lte=until)
        .order_by("due_on", "pk")
        .values_list("pk", "due_on")
    )


DETAILS = (
    "pk",
    "status",
    "rationale",
    "checked_at",
    "recheck_by",
    "claim_text",
    "claim_id",
    "claim__ordinal",
    "claim__section",
    "claim__evidence_changed_at",
    "claim__evidence_changed_by",
    "analyst_id",
    "claim__revised_at",
    "claim__article_id",
    "claim__article__title",
    "analyst__username",
)


def details(ids: list[int]) -> list[dict[str, Any]]:
    """What the Due queue shows of these verdicts, in the order given (one query): each
    claim's own text read in SQL for these rows alone, never a whole article's."""
    claim_text = Substr(
        "claim__article__text", F("claim__start") + 1, F("claim__end") - F("claim__start")
    )
    found = Verdict.objects.filter(pk__in=ids).annotate(claim_text=claim_text).values(*DETAILS)
    by_id = {row["pk"]: row for row in found}
    return [by_id[pk] for pk in ids if pk in by_id]


@dataclass(frozen=True)
class Row:
    """One verdict in the Due queue."""

    verdict_id: int
    analyst: str
    status: str
    rationale: str
    checked_at: dt.datetime
    recheck_by: dt.date | None
    claim_id: int
    ordinal: int
    section: str
    text: str
    article_id: int
    article_title: str
    due: Due

    @property
    def status_label(self) -> str:
        return Status(self.status).label


def rows(page: Iterable[tuple[int, dt.date]], freshness: Freshness, today: dt.date) -> list[Row]:
    """The queue's rows for a page of ``coming_due()``, each with its reasons (one query)."""
    found = []
    for v in details([pk for pk, _due_on in page]):
        found.append(
            Row(
                verdict_id=v["pk"],
                analyst=v["analyst__username"],
                status=v["status"],
                rationale=v["rationale"],
                checked_at=v["checked_at"],
                recheck_by=v["recheck_by"],
                claim_id=v["claim_id"],
                ordinal=v["claim__ordinal"],
                section=v["claim__section"],
                text=v["claim_text"],
                article_id=v["claim__article_id"],
                article_title=v["claim__article__title"],
                due=due(
                    status=v["status"],
                    checked_at=v["checked_at"],
                    recheck_by=v["recheck_by"],
                    freshness=freshness,
                    evidence_changed_at=v["claim__evidence_changed_at"],
                    evidence_changed_by=v["claim__evidence_changed_by"],
                    analyst=v["analyst_id"],
                    revised_at=v["claim__revised_at"],
                    today=today,
                ),
            )
        )
    return found


def new_evidence_since(claim_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(claim, analyst) of the standing verdicts on these claims that have new evidence
    since their analyst last stood by them: one query. What of it a person may see is
    the caller's to decide (the consensus screen flags only the verdicts it shows)."""
    found = (
        Verdict.objects.filter(
            claim_id__in=list(claim_ids), claim__evidence_changed_at__gt=F("checked_at")
        )
        .exclude(claim__evidence_changed_by=F("analyst"))
        .exclude(status="")
        .values_list("claim_id", "analyst__username")
    )
    return set(found)
