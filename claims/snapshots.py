"""Evidence that stays checkable: each evidence page read and kept, and read again later.

When evidence is added, ``Claim.add_evidence`` queues ``snapshot_evidence`` once its
transaction commits; a worker fetches the page under ``claims.fetching``'s limits (public
addresses only, size, time, redirects, content types), extracts its main text and title
(``claims.extraction``), locates the evidence's quote in it, and keeps the check
(``EvidenceSnapshot.record``, which judges it against the checks before). A scheduled
``manage.py recheck_evidence`` (or the ``recheck_evidence`` task) reads again every page
whose last check is older than ``CLAIMS_RECHECK_EVIDENCE_DAYS``: a page changed, moved or
gone since makes the verdicts on its claim due, as new evidence does.

The network is never touched inside a transaction: the fetch comes first, the judging and
the write after, in one short transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.tasks import task
from django.utils import timezone

from claims.extraction import extract_html
from claims.fetching import HTML_TYPES, Fetched, FetchRefused, fetch
from claims.importer import ImportRejected
from claims.models import Evidence, EvidenceSnapshot, PageState

# Pages read as evidence: articles, and plain text (a transcript, a data note).
ACCEPTED = HTML_TYPES | {"text/plain"}

# Quotation marks of every kind read as one: an analyst types "straight" quotes where the
# page has “curly” ones, or «guillemets». Dashes likewise; a soft hyphen is nothing.
MARKS = str.maketrans(
    {
        **dict.fromkeys("'‘’‚‛′`´\"“”„‟″«»‹›", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),
        "\u00ad": "",
    }
)


def folded(text: str) -> tuple[str, list[int]]:
    """``text`` compared as a reader would: compatibility forms (ligatures, no-break
    spaces) resolved, quotation marks and dashes each of one kind, case folded, runs of
    white space one space; and for each character of it, where it came from in ``text``."""
    out: list[str] = []
    origin: list[int] = []
    for at, char in enumerate(text):
        piece = unicodedata.normalize("NFKC", char).translate(MARKS).casefold()
        if piece.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                origin.append(at)
            continue
        for part in piece:
            out.append(part)
            origin.append(at)
    return "".join(out), origin


def locate_quote(quote: str, text: str) -> tuple[int, int] | None:
    """Where ``quote`` stands in ``text`` (start and end in ``text``), compared as
    ``folded`` compares; None when it is not there. Quotation marks around the whole quote,
    as analysts often paste it, are not part of it."""
    wanted, _ = folded(quote)
    wanted = wanted.strip(' "')
    if not wanted:
        return None
    haystack, origin = folded(text)
    found = haystack.find(wanted)
    if found < 0:
        return None
    return origin[found], origin[found + len(wanted) - 1] + 1


def observe(evidence: Evidence) -> EvidenceSnapshot:
    """Fetch the evidence's page and read it: a check not yet judged nor saved (ok when the
    page was read; dead when it answered an error or could not be reached; refused when the
    fetcher's limits refused it; error when nothing could be read from it)."""
    snapshot = EvidenceSnapshot(evidence=evidence, fetched_at=timezone.now())
    try:
        fetched = fetch(evidence.url, accept=ACCEPTED)
    except FetchRefused as refused:
        snapshot.state, snapshot.http_status = _failure(refused), refused.status
        snapshot.error = refused.message[:500]
        return snapshot
    snapshot.fetched_at, snapshot.final_url = fetched.fetched_at, fetched.final_url[:2000]
    snapshot.http_status = fetched.status
    try:
        title, text = _read(fetched)
    except ImportRejected as rejected:
        snapshot.state, snapshot.error = PageState.ERROR, str(rejected)[:500]
        return snapshot
    except Exception as failure:  # noqa: BLE001 - any page may break a parser: kept as such
        snapshot.state = PageState.ERROR
        snapshot.error = f"The page could not be read ({type(failure).__name__})."
        return snapshot
    if not text.strip():
        snapshot.state, snapshot.error = PageState.ERROR, "The page has no text to read."
        return snapshot
    snapshot.state, snapshot.title, snapshot.text = PageState.OK, title[:500], text
    snapshot.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if evidence.quote.strip():
        where = locate_quote(evidence.quote, text)
        snapshot.quote_found = where is not None
        if where is not None:
            snapshot.quote_start, snapshot.quote_end = where
    return snapshot


def _read(fetched: Fetched) -> tuple[str, str]:
    """The page's title and main text."""
    if fetched.content_type == "text/plain":
        text = fetched.body.decode(fetched.charset or "utf-8", errors="replace")
        return "", text.replace("\r\n", "\n")
    extracted = extract_html(fetched)
    return extracted.title or "", extracted.text or ""


def _failure(refused: FetchRefused) -> PageState:
    """A page that answered an error, or whose host cannot be found or reached, is gone;
    one the fetcher would not take (a private address, too large, not a page) is refused.
    The fetcher says which only in its message, for a person: read here, in one place."""
    if refused.status is not None and refused.status >= 400:
        return PageState.DEAD
    unreachable = ("could not be found", "could not be reached")
    if refused.status is None and any(words in refused.message for words in unreachable):
        return PageState.DEAD
    return PageState.REFUSED


def take_snapshot(evidence: Evidence) -> EvidenceSnapshot:
    """Read the evidence's page now and keep the check, judged (see ``EvidenceSnapshot.record``)."""
    return EvidenceSnapshot.record(observe(evidence))


def stale_evidence(days: int | None = None, *, now: dt.datetime | None = None) -> QuerySet[Any]:
    """Evidence in place on current claims whose page was last checked more than ``days``
    ago (``CLAIMS_RECHECK_EVIDENCE_DAYS`` by default), or never: those never checked first,
    then by the age of their last check, each with its claim, article and project (one
    query)."""
    days = settings.CLAIMS_RECHECK_EVIDENCE_DAYS if days is None else days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    latest = EvidenceSnapshot.objects.filter(evidence=OuterRef("pk")).order_by("-pk")
    return (
        Evidence.objects.filter(removed_at__isnull=True, claim__retired_in__isnull=True)
        .annotate(last_checked=Subquery(latest.values("fetched_at")[:1]))
        .filter(Q(last_checked__isnull=True) | Q(last_checked__lt=cutoff))
        .select_related("claim__article__project")
        .order_by(F("last_checked").asc(nulls_first=True), "pk")
    )


def recheck(days: int | None = None, *, limit: int | None = None) -> Iterator[EvidenceSnapshot]:
    """Check again each stale page (``stale_evidence``), at most ``limit``: each check as
    it is kept."""
    found = stale_evidence(days)
    for evidence in list(found[:limit] if limit is not None else found):
        yield take_snapshot(evidence)


# Tasks: run by the worker (``claims.tasks``' backend); arguments are ids, never rows.


@task()
def snapshot_evidence(evidence_id: int) -> str:
    """Check one evidence page now; its state, or "gone" when the evidence is."""
    evidence = (
        Evidence.objects.select_related("claim__article__project").filter(pk=evidence_id).first()
    )
    if evidence is None:
        return "gone"
    return str(take_snapshot(evidence).state)


@task()
def recheck_evidence(days: int | None = None) -> int:
    """Queue a check of each stale page (``stale_evidence``), one task each, so that a
    worker pool shares them; how many were queued."""
    queued = 0
    for evidence_id in stale_evidence(days).values_list("pk", flat=True).iterator():
        snapshot_evidence.enqueue(evidence_id)
        queued += 1
    return queued


# What the snapshot page shows of a check -------------------------------------------------


def reading_of(snapshot: EvidenceSnapshot) -> dict[str, Any]:
    """A check's text cut around its quote (``before``, ``quote``, ``after``; the whole
    text ``before`` when the quote was not found), and its diff as ``(kind, line)`` pairs,
    kind one of "add", "del", "hunk" and "same"."""
    text, start, end = snapshot.text, snapshot.quote_start, snapshot.quote_end
    if start is None or end is None:
        parts = {"before": text, "quote": "", "after": ""}
    else:
        parts = {"before": text[:start], "quote": text[start:end], "after": text[end:]}
    return parts | {"diff": [_diff_line(line) for line in snapshot.diff.splitlines()]}


def _diff_line(line: str) -> tuple[str, str]:
    if line.startswith(("+++", "---", "@@")):
        return "hunk", line
    kinds = {"+": "add", "-": "del"}
    return kinds.get(line[:1], "same"), line
