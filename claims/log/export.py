"""Audit exports: the signed JSON Lines chain, a CSV for people, W3C Web Annotations and
schema.org ClaimReview. No HTTP here: the view and ``export_audit`` stream what
:func:`start_export` returns.

How an export is recorded (exporting is itself an audit event). A streamed response
finishes after the view has returned, so the event cannot be written at the end of the
stream. Instead, for the signed JSON Lines format:

1. the chain head ``H`` is read; the export covers events up to ``H`` and never the export
   event itself (events are append-only, so that range cannot change afterwards);
2. a first pass streams the range to count it and digest its lines, holding no rows;
3. under the chain lock, the manifest is built and signed (its ``previous_manifest_hash``
   is the manifest hash recorded by the latest ``audit.exported`` event, so exports chain
   in the order they were recorded), and one ``audit.exported`` event is appended with
   the format, filters, count, ``H`` and the manifest's hash;
4. the second pass streams the header, the same lines and the manifest. If the lines
   differed from the first pass the stream stops before the manifest, so a verifier
   rejects it as truncated.

The event is committed before the first byte leaves the server: no export goes
unrecorded, and a later export of the project holds the event and the manifest hash,
so a manifest kept elsewhere can be found in the chain. The price is reading the range
twice. The other formats need no manifest: their event records the count of what they
select when the export starts; annotations and reviews describe current verdicts and
adjudications as they are streamed.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import batched
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from claims.exports import safe_cell
from claims.log import signing
from claims.log.actions import Action
from claims.log.chain import utc_stamp, writing
from claims.log.history import describe
from claims.log.verify_export import (
    HASH_DOMAIN,
    Scanner,
    canonical_json,
    manifest_hash,
    signed_bytes,
)
from claims.models import (
    Adjudication,
    Article,
    AuditChain,
    AuditEvent,
    Evidence,
    Project,
    Verdict,
)

FORMAT = "claims-audit-export"
VERSION = 1
CHUNK_ROWS = 2000  # rows fetched per round trip
# Events per chunk of the JSON Lines and CSV streams: some 32-64 KB, which stays in the CPU
# cache while it is joined, encoded, digested and written (2,000 lines at once are slower).
CHUNK_LINES = 100
CHUNK_CHARS = 64 * 1024  # text yielded per chunk of the JSON-LD responses
QUOTE_CONTEXT = 32  # characters of prefix and suffix in a TextQuoteSelector

# Only ever given strings and parsed JSON, which hold no cycles: no need to look for them.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
_scan: Scanner = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # see Scanner


@dataclass(frozen=True)
class Filters:
    """What an export selects, besides its project. ``until`` is inclusive."""

    article: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    actor: str | None = None

    @property
    def contiguous(self) -> bool:
        """Only a date range keeps the chain's links; an article or actor filter leaves gaps."""
        return self.article is None and self.actor is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "article": self.article,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "actor": self.actor,
        }

    def start(self) -> dt.datetime | None:
        return _midnight(self.since) if self.since else None

    def end(self) -> dt.datetime | None:
        """Exclusive: midnight (UTC) after ``until``."""
        return _midnight(self.until + dt.timedelta(days=1)) if self.until else None

    def slug(self) -> str:
        """The filters for a file name: only characters that are safe in a header."""
        parts = [f"{k}-{v}" for k, v in self.as_dict().items() if v is not None]
        return re.sub(r"[^A-Za-z0-9._@+-]", "_", "-" + "-".join(parts)) if parts else ""


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


@dataclass(frozen=True)
class Kind:
    extension: str
    content_type: str
    signed: bool = False


FORMATS: dict[str, Kind] = {
    "jsonl": Kind("jsonl", "application/jsonl; charset=utf-8", signed=True),
    "csv": Kind("csv", "text/csv; charset=utf-8"),
    "annotations": Kind(
        "jsonld", 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
    ),
    "claimreview": Kind("jsonld", "application/ld+json"),
}
FORMAT_LABELS = {
    "jsonl": "Signed audit chain (JSON Lines, verifiable offline)",
    "csv": "Audit events for people (CSV)",
    "annotations": "Current verdicts as W3C Web Annotations (JSON-LD)",
    "claimreview": "Adjudicated claims as schema.org ClaimReview (JSON-LD)",
}


class ExportChanged(RuntimeError):
    """The second pass over the events read other lines than the first (never expected)."""


@dataclass
class Export:
    format: str
    filename: str
    content_type: str
    count: int
    event: AuditEvent
    chunks: Iterator[str]
    manifest: dict[str, Any] | None = None


def start_export(
    project: Project, fmt: str, filters: Filters | None = None, *, actor: Any
) -> Export:
    """Record the export as one ``audit.exported`` event and return its stream."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    filters = filters or Filters()
    kind = FORMATS[fmt]
    chain = AuditChain.objects.get(project=project)
    head_seq, head_hash = chain.head_seq, chain.head_hash
    events = selected_events(chain, head_seq, filters)
    signed: SignedChain | None = None
    stream: Callable[[], Iterator[str]]  # called once the event is written
    if fmt == "jsonl":
        # Without a key this fails before the events are read or an event is written.
        signed = SignedChain(project, filters, events, signing.private_key())
        count = signed.count
        stream = signed.stream
    elif fmt == "csv":
        count = events.count()
        stream = partial(event_csv, events, project)
    elif fmt == "annotations":
        verdicts = annotation_selection(project, filters)
        count = verdicts.count()
        stream = partial(web_annotations, verdicts, project)
    else:
        reviews = review_selection(project, filters)
        count = reviews.count()
        stream = partial(claim_reviews, reviews, project)
    with writing(project) as writer:
        if signed is not None:
            signed.seal(previous_manifest_hash(writer.chain))
        event = writer.append(
            action=Action.AUDIT_EXPORTED,
            actor=actor,
            target={"type": "export", "format": fmt},
            after={
                "format": fmt,
                "filters": filters.as_dict(),
                "count": count,
                "chain_head_seq": head_seq,
                "chain_head_hash": head_hash,
                "manifest_hash": signed.manifest_hash if signed else None,
                "key_id": signed.key_id if signed else None,
            },
            article_id=filters.article,
        )
    stamp = event.created_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Export(
        format=fmt,
        filename=f"{project.slug}-audit-{fmt}{filters.slug()}-{stamp}.{kind.extension}",
        content_type=kind.content_type,
        count=count,
        event=event,
        chunks=stream(),
        manifest=signed.manifest if signed else None,
    )


# Selecting events ------------------------------------------------------------------------


def selected_events(chain: AuditChain, head_seq: int, filters: Filters) -> QuerySet[AuditEvent]:
    """The chain's events up to ``head_seq`` that the filters select, in seq order.

    A date range becomes a seq range, from the first event at or after ``since`` to the
    last before the end of ``until``: under the chain lock times and seqs rise together,
    and a seq range stays contiguous even if the clock once stepped back.
    """
    events = AuditEvent.objects.filter(chain=chain, seq__lte=head_seq)
    if (start := filters.start()) is not None:
        first = events.filter(created_at__gte=start).order_by("seq").values("seq")[:1]
        events = events.filter(seq__gte=models.Subquery(first))
    if (end := filters.end()) is not None:
        last = events.filter(created_at__lt=end).order_by("-seq").values("seq")[:1]
        events = events.filter(seq__lte=models.Subquery(last))
    if filters.article is not None:
        events = events.filter(article_id=filters.article)
    if filters.actor:
        events = events.filter(actor__username=filters.actor)
    return events.order_by("seq")


def event_line(seq: int, prev_hash: str, hash_: str, body: str) -> str:
    """One event as a line: the body is the stored canonical JSON, verbatim, as a string."""
    return (
        f'{{"seq":{seq},"prev_hash":{_encode(prev_hash)},'
        f'"hash":{_encode(hash_)},"body":{_encode(body)}}}\n'
    )


Row = tuple[int, str, str, str]


def event_lines(events: QuerySet[AuditEvent]) -> Iterator[tuple[tuple[Row, ...], str]]:
    """The selected events in chunks of ``(seq, prev_hash, hash, body)`` rows, each with
    the chunk's lines as one text: one join, one encode and one digest update per chunk
    instead of per line."""
    rows = events.values_list("seq", "prev_hash", "hash", "body").iterator(chunk_size=CHUNK_ROWS)
    for chunk in batched(rows, CHUNK_LINES, strict=False):
        yield chunk, "".join([event_line(*row) for row in chunk])


# The signed chain ------------------------------------------------------------------------


def previous_manifest_hash(chain: AuditChain) -> str | None:
    """The manifest hash recorded by the project's latest signed export, if any."""
    bodies = (
        AuditEvent.objects.filter(chain=chain, action=Action.AUDIT_EXPORTED)
        .order_by("-seq")
        .values_list("body", flat=True)
    )
    for body in bodies.iterator(chunk_size=50):
        recorded: str | None = (json.loads(body).get("after") or {}).get("manifest_hash")
        if recorded:
            return recorded
    return None


class SignedChain:
    """A JSON Lines export: header, one line per event, and a signed manifest.

    Made in three steps (see the module docstring): ``__init__`` reads and digests the
    lines (first pass); ``seal`` signs the manifest under the chain lock, once the
    previous manifest hash is known; ``stream`` yields the file (second pass).
    """

    def __init__(
        self,
        project: Project,
        filters: Filters,
        events: QuerySet[AuditEvent],
        key: Ed25519PrivateKey,
    ) -> None:
        self.events, self.key = events, key
        self.key_id = signing.key_id(key.public_key())
        # sha256 of the lines chunk by chunk is the sha256 of them line by line.
        digest = hashlib.sha256()
        count = 0
        first_prev: str | None = None
        head_seq: int | None = None
        head_hash: str | None = None
        for rows, text in event_lines(events):
            if first_prev is None:
                first_prev = rows[0][1]
            digest.update(text.encode("utf-8"))
            count += len(rows)
            head_seq, _prev, head_hash, _body = rows[-1]
        self.count, self.digest = count, digest.hexdigest()
        created = utc_stamp(timezone.now())
        header = {
            "type": "header",
            "format": FORMAT,
            "version": VERSION,
            "project": project.slug,
            "filters": filters.as_dict(),
            "contiguous": filters.contiguous,
            "hash_domain": HASH_DOMAIN.decode("ascii"),
            "key_id": self.key_id,
            "created_at": created,
        }
        self.header_line = canonical_json(header) + "\n"
        self.unsigned = {
            "type": "manifest",
            "project": project.slug,
            "contiguous": filters.contiguous,
            "count": count,
            "first_prev_hash": first_prev,
            "head_seq": head_seq,
            "head_hash": head_hash,
            "events_digest": self.digest,
            "header_digest": hashlib.sha256(self.header_line.encode("utf-8")).hexdigest(),
            "created_at": created,
            "key_id": self.key_id,
            "previous_manifest_hash": None,
        }
        self.manifest: dict[str, Any] | None = None

    def seal(self, previous: str | None) -> None:
        unsigned = {**self.unsigned, "previous_manifest_hash": previous}
        signature = signing.sign(self.key, signed_bytes(unsigned))
        self.manifest = {**unsigned, "signature": signature}

    @property
    def manifest_hash(self) -> str | None:
        return manifest_hash(self.manifest) if self.manifest else None

    def stream(self) -> Iterator[str]:
        if self.manifest is None:
            raise RuntimeError("Seal the manifest (record the export) before streaming it.")
        yield self.header_line
        digest = hashlib.sha256()
        for _rows, text in event_lines(self.events):
            digest.update(text.encode("utf-8"))
            yield text
        if digest.hexdigest() != self.digest:
            raise ExportChanged("The events changed between the two passes; export stopped.")
        yield canonical_json(self.manifest) + "\n"


# CSV for people --------------------------------------------------------------------------

# One row per event, each part of it in a column a person can read: the change in words,
# which fields it changed, and the state before and after as "field: value" lines (nested
# fields as "right.text"). The signed JSON Lines file is the one to verify; this is not.
CSV_HEADER = [
    "seq",
    "time",
    "actor",
    "action",
    "description",
    "article",
    "claim",
    "changed",
    "before",
    "after",
    "hash",
]


def event_csv(events: QuerySet[AuditEvent], project: Project | None = None) -> Iterator[str]:
    """What ``exports.csv_lines`` would write (formula-safe cells), a chunk of rows at a
    time."""
    rows = events.values_list("seq", "hash", "body", "article_id", "claim_id").iterator(
        chunk_size=CHUNK_ROWS
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for chunk in batched(rows, CHUNK_LINES, strict=False):
        writer.writerows([event_csv_row(*row) for row in chunk])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():  # nothing was selected: the header alone
        yield buffer.getvalue()


def event_csv_row(
    seq: int, hash_: str, body: str, article_id: int | None, claim_id: int | None
) -> list[Any]:
    data = _loads(body)
    before, after = flat(data.get("before")), flat(data.get("after"))
    changed = [name for name in {**before, **after} if before.get(name) != after.get(name)]
    # The seq and the ids are integers (or None) from the database: only text needs safe_cell.
    return [
        seq,
        safe_cell(data.get("at", "")),
        safe_cell(data.get("actor") or ""),
        safe_cell(data.get("action", "")),
        safe_cell(_described(data)),
        "" if article_id is None else article_id,
        "" if claim_id is None else claim_id,
        safe_cell(", ".join(changed) if before and after else ""),
        safe_cell(_lines(before)),
        safe_cell(_lines(after)),
        safe_cell(hash_),
    ]


def _described(data: dict[str, Any]) -> str:
    """The event in words; a body the write path would not write (a rebuilt or damaged
    chain) still gets its row, with its action alone."""
    try:
        return describe(data)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return str(data.get("action", ""))


def flat(value: Any, name: str = "") -> dict[str, str]:
    """A state from an event body as ``{"field": "value"}``: nested fields named with dots
    ("right.text"), lists of plain values joined with commas, empty (None) fields left
    out."""
    if isinstance(value, dict):
        parts: Iterable[tuple[str, Any]] = value.items()
    elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        parts = ((str(n), item) for n, item in enumerate(value, 1))
    else:
        return {} if value is None else {name or "value": _text(value)}
    found: dict[str, str] = {}
    for key, item in parts:
        field = f"{name}.{key}" if name else key
        if isinstance(item, str):  # most values: no call needed
            found[field] = item
        elif isinstance(item, dict | list):
            found.update(flat(item, field))
        elif item is not None:
            found[field] = _text(item)
    return found


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    return str(value)


def _lines(fields: dict[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in fields.items())


def _loads(text: str) -> Any:
    """``json.loads(text)``, sooner: the scanner alone, when the value fills the whole text
    (as a stored body always does); else ``json.loads`` decides, whitespace and errors
    included."""
    try:
        value, end = _scan(text, 0)
    except (StopIteration, ValueError):
        end = -1
    return value if end == len(text) else json.loads(text)


# JSON-LD: shared streaming and article text ----------------------------------------------


def _json_items(opening: str, closing: str, items: Iterable[dict[str, Any]]) -> Iterator[str]:
    buffer, size = [opening], len(opening)
    for index, item in enumerate(items):
        text = ("," if index else "") + "\n" + json.dumps(item, ensure_ascii=False)
        buffer.append(text)
        size += len(text)
        if size >= CHUNK_CHARS:
            yield "".join(buffer)
            buffer, size = [], 0
    buffer.append("\n" + closing)
    yield "".join(buffer)


def _articles_in_order[R](
    rows: Iterable[R], article_of: Callable[[R], int]
) -> Iterator[tuple[R, Article]]:
    """Each row with its article, fetched once per article (rows come grouped by article),
    so the article's text is not repeated in every row."""
    current: Article | None = None
    for row in rows:
        article_id = article_of(row)
        if current is None or current.pk != article_id:
            current = Article.objects.only(
                "pk", "text", "title", "author", "published_on", "source_url", "sha256", "version"
            ).get(pk=article_id)
        yield row, current


def article_source(article: Article) -> str:
    """The article's URL if it has one, else a URN naming its stored text by sha256."""
    return article.source_url or f"urn:sha256:{article.sha256}"


def _date_range[M: models.Model](queryset: QuerySet[M], name: str, filters: Filters) -> QuerySet[M]:
    if (start := filters.start()) is not None:
        queryset = queryset.filter(**{f"{name}__gte": start})
    if (end := filters.end()) is not None:
        queryset = queryset.filter(**{f"{name}__lt": end})
    return queryset


# W3C Web Annotation ----------------------------------------------------------------------

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"


def annotation_selection(project: Project, filters: Filters) -> QuerySet[Verdict]:
    """Current verdicts (one annotation each), grouped by article, with the times of the
    events that last set the verdict from nothing (``created``) and last changed it
    (``modified``): times from the log, as the export event and the chain record them."""
    verdict_events = AuditEvent.objects.filter(
        chain__project=project,
        claim_id=models.OuterRef("claim_id"),
        actor_id=models.OuterRef("analyst_id"),
    ).order_by("-seq")
    set_at = verdict_events.filter(action=Action.VERDICT_SET).values("created_at")[:1]
    changed_at = verdict_events.filter(
        action__in=[Action.VERDICT_SET, Action.VERDICT_CHANGED]
    ).values("created_at")[:1]
    verdicts = Verdict.objects.filter(claim__article__project=project).exclude(status="")
    if filters.article is not None:
        verdicts = verdicts.filter(claim__article_id=filters.article)
    if filters.actor:
        verdicts = verdicts.filter(analyst__username=filters.actor)
    verdicts = _date_range(verdicts, "updated_at", filters)
    verdicts = (
        verdicts.select_related("claim", "analyst")
        .annotate(set_at=models.Subquery(set_at), changed_at=models.Subquery(changed_at))
        .order_by("claim__article_id", "claim__start", "analyst__username")
    )
    return verdicts


# Evidence bodies carry three fields the Web Annotation vocabulary has no term for; this
# context names them (title and note by Dublin Core and SKOS), so that a JSON-LD reader
# keeps them. Annotations without evidence keep the plain context.
EVIDENCE_CONTEXT = {
    "title": "http://purl.org/dc/terms/title",
    "note": "http://www.w3.org/2004/02/skos/core#note",
    "stance": "urn:claims:terms:stance",
}


def evidence_body(evidence: Evidence) -> dict[str, Any]:
    """A piece of evidence as an annotation body: the linked page (with the quote from it
    as a TextQuoteSelector), its stance, title and note, and who added it when."""
    body: dict[str, Any] = {
        "type": "SpecificResource",
        "purpose": "linking",
        "source": evidence.url,
        "stance": evidence.stance,
    }
    if evidence.quote:
        body["selector"] = {"type": "TextQuoteSelector", "exact": evidence.quote}
    if evidence.title:
        body["title"] = evidence.title
    if evidence.note:
        body["note"] = evidence.note
    body["creator"] = {"type": "Person", "nickname": evidence.added_by.get_username()}
    body["created"] = utc_stamp(evidence.added_at)
    return body


def web_annotation(
    verdict: Verdict, article: Article, project: Project, evidence: Iterable[Evidence] = ()
) -> dict[str, Any]:
    """The verdict as an annotation; its body is the verdict in words, followed by the
    ``evidence`` the analyst gave for it, if any."""
    claim = verdict.claim
    # The text the claim stood in: a retired claim's is the version before the one that
    # removed it, which its selectors and source name.
    version = claim.retired_in - 1 if claim.retired_in else article.version
    text = article.text_of(version)
    source = (
        article_source(article)
        if version == article.version
        else f"urn:sha256:{article.sha256_of(version)}"
    )
    start, end = claim.start, claim.end
    value = verdict.status
    if verdict.as_of:
        value += f" since {verdict.as_of.isoformat()}"
    if verdict.rationale:
        value += f": {verdict.rationale}"
    analyst = verdict.analyst
    creator = {"type": "Person", "nickname": analyst.get_username()}
    if analyst.get_full_name():
        creator["name"] = analyst.get_full_name()
    # A verdict copied by a split or moved by a merge has no event of its own on this claim.
    modified = getattr(verdict, "changed_at", None) or verdict.updated_at
    created = min(getattr(verdict, "set_at", None) or modified, modified)
    assessing = {"type": "TextualBody", "purpose": "assessing", "format": "text/plain"}
    evidence_bodies = [evidence_body(item) for item in evidence]
    return {
        "@context": [ANNO_CONTEXT, EVIDENCE_CONTEXT] if evidence_bodies else ANNO_CONTEXT,
        "id": f"urn:claims:{project.slug}:verdict:{verdict.pk}",
        "type": "Annotation",
        "motivation": "assessing",
        "creator": creator,
        "created": utc_stamp(created),
        "modified": utc_stamp(modified),
        # One body alone is an object, several a list (as the model writes them).
        "body": [assessing | {"value": value}, *evidence_bodies]
        if evidence_bodies
        else assessing | {"value": value},
        "target": {
            "source": source,
            "selector": [
                {
                    "type": "TextQuoteSelector",
                    "exact": text[start:end],
                    "prefix": text[max(0, start - QUOTE_CONTEXT) : start],
                    "suffix": text[end : end + QUOTE_CONTEXT],
                },
                {"type": "TextPositionSelector", "start": start, "end": end},
            ],
        },
    }


def _with_evidence(
    rows: Iterable[tuple[Verdict, Article]],
) -> Iterator[tuple[Verdict, Article, list[Evidence]]]:
    """Each verdict with the current evidence its analyst added to its claim: one query per
    article (rows come grouped by article), as for the article's text."""
    article_id: int | None = None
    grouped: dict[tuple[int, int], list[Evidence]] = {}
    for verdict, article in rows:
        if article.pk != article_id:
            article_id, grouped = article.pk, {}
            current = Evidence.objects.filter(claim__article_id=article_id, removed_at=None)
            for item in current.select_related("added_by").order_by("added_at", "pk"):
                grouped.setdefault((item.claim_id, item.added_by_id), []).append(item)
        yield verdict, article, grouped.get((verdict.claim_id, verdict.analyst_id), [])


def web_annotations(verdicts: QuerySet[Verdict], project: Project) -> Iterator[str]:
    rows = _articles_in_order(
        verdicts.iterator(chunk_size=CHUNK_ROWS), lambda v: v.claim.article_id
    )
    items = (
        web_annotation(verdict, article, project, evidence)
        for verdict, article, evidence in _with_evidence(rows)
    )
    opening = (
        '{"@context":"http://www.w3.org/ns/anno.jsonld","type":"AnnotationCollection",'
        f'"id":"urn:claims:{project.slug}:verdicts","label":{_encode(project.name)},'
        '"first":{"type":"AnnotationPage","startIndex":0,"items":['
    )
    return _json_items(opening, "]}}\n", items)


# schema.org ClaimReview ------------------------------------------------------------------


def review_selection(project: Project, filters: Filters) -> QuerySet[Adjudication]:
    """Standing adjudications (a withdrawn one has a blank status), grouped by article."""
    # Of current claims: a ClaimReview cites the article's current text.
    reviews = Adjudication.objects.filter(
        claim__article__project=project, claim__retired_in__isnull=True
    ).exclude(status="")
    if filters.article is not None:
        reviews = reviews.filter(claim__article_id=filters.article)
    if filters.actor:
        reviews = reviews.filter(reviewer__username=filters.actor)
    reviews = _date_range(reviews, "decided_at", filters)
    reviews = reviews.select_related("claim", "reviewer").order_by(
        "claim__article_id", "claim__start"
    )
    return reviews


def claim_review(adjudication: Adjudication, article: Article, project: Project) -> dict[str, Any]:
    claim = adjudication.claim
    reviewer = adjudication.reviewer
    rating: dict[str, Any] = {"@type": "Rating", "alternateName": adjudication.status}
    if adjudication.as_of:
        rating["description"] = f"{adjudication.status} since {adjudication.as_of.isoformat()}"
    if adjudication.rationale:
        rating["ratingExplanation"] = adjudication.rationale
    appearance: dict[str, Any] = {
        "@type": "CreativeWork",
        "headline": article.title,
        "datePublished": article.published_on.isoformat(),
    }
    if article.author:
        appearance["author"] = {"@type": "Person", "name": article.author}
    if article.source_url:
        appearance["url"] = article.source_url
    else:
        appearance["identifier"] = article_source(article)
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "identifier": f"urn:claims:{project.slug}:claim:{claim.pk}",
        "claimReviewed": article.text[claim.start : claim.end],
        "reviewRating": rating,
        "author": {
            "@type": "Person",
            "name": reviewer.get_full_name() or reviewer.get_username(),
            "alternateName": reviewer.get_username(),
        },
        "datePublished": adjudication.decided_at.astimezone(dt.UTC).date().isoformat(),
        "itemReviewed": {"@type": "Claim", "appearance": appearance},
    }
    return review


def claim_reviews(reviews: QuerySet[Adjudication], project: Project) -> Iterator[str]:
    rows = _articles_in_order(reviews.iterator(chunk_size=CHUNK_ROWS), lambda a: a.claim.article_id)
    items = (claim_review(adjudication, article, project) for adjudication, article in rows)
    return _json_items("[", "]\n", items)
