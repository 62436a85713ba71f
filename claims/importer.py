"""import_article(): the one way an article enters the database.

Reading and decoding live here; everything derived from the text comes from the pure
``segmenter``. The text and all it yields are stored in one transaction with one
``article.imported`` event.

Nothing is guessed silently. ``Prepared.uncertainties`` lists what the segmenter was not
sure of; everything it found is stored as found: a citation whose year cannot be known is
stored undated, one dated to a month or a year keeps that precision.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models

from claims import recurring, search, segmenter
from claims.log.actions import Action
from claims.log.chain import writing
from claims.models import Article, ArticleVersion, Block, Citation, Claim, Project

HTML_SUFFIXES = {".html", ".htm"}
TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"} | HTML_SUFFIXES
# C0 control characters other than tab, line feed, form feed and carriage return.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class ImportRejected(ValueError):
    """The input cannot be imported; the message says why in one sentence."""


def max_bytes() -> int:
    return settings.CLAIMS_MAX_IMPORT_BYTES


def read_limited(stream: IO[bytes], limit: int | None = None) -> bytes:
    """Read at most ``limit`` bytes, refusing a larger stream without reading all of it."""
    limit = max_bytes() if limit is None else limit
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ImportRejected(f"The file is larger than the import limit of {_size(limit)}.")
    return data


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n} bytes"


# Magic numbers of compressed and archive formats: refused rather than unpacked, so a
# small upload can never expand into a huge one.
COMPRESSED = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"7z\xbc\xaf\x27\x1c": "7-Zip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"Rar!": "RAR",
}


def decode(data: bytes) -> str:
    """Strict UTF-8 (with or without BOM); anything else is refused with a reason."""
    if not data.strip():
        raise ImportRejected("The file is empty.")
    for magic, name in COMPRESSED.items():
        if data.startswith(magic):
            raise ImportRejected(
                f"The file is compressed ({name}); unpack it and import the text inside."
            )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportRejected("The file is UTF-16; save it as UTF-8 and import it again.")
    if b"\x00" in data:
        raise ImportRejected("The file is binary (it contains NUL bytes), not text.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            f"The file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at position {exc.start})."
        ) from None
    if CONTROL_CHARS.search(text):
        raise ImportRejected("The file contains control characters and does not look like text.")
    return text


def looks_like_html(filename: str, text: str) -> bool:
    suffix = PurePath(filename).suffix.lower()
    if suffix in HTML_SUFFIXES:
        return True
    head = text.lstrip()[:500].lower()
    return suffix == "" and head.startswith(("<!doctype html", "<html", "<body", "<article"))


@dataclass(frozen=True)
class Prepared:
    """Everything an import would store, computed without touching the database.

    ``published_on`` is the date given, else the one the text gives. ``uncertainties``
    holds the segmenter's and the importer's notes, in text order (see ``uncertainties``).
    """

    filename: str
    text: str
    sha256: str
    segmentation: segmenter.Segmentation
    published_on: dt.date
    uncertainties: tuple[segmenter.Uncertainty, ...] = ()


def prepare(
    data: bytes, *, filename: str, published_on: dt.date | None = None, html: bool | None = None
) -> Prepared:
    """Decode and segment ``data``; ``html`` overrides the guess from name and content.

    Without ``published_on`` the date is read from the text (a dateline, a byline, a
    "Published:" line); a text that gives none is refused, as the date is never guessed.
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix and suffix not in TEXT_SUFFIXES:
        raise ImportRejected(f"Files of type {suffix} cannot be imported; use .txt, .md or .html.")
    if len(data) > max_bytes():
        raise ImportRejected(f"The file is larger than the import limit of {_size(max_bytes())}.")
    text = decode(data)
    is_html = looks_like_html(filename, text) if html is None else html
    if is_html:
        text = segmenter.html_to_text(text)
    text = segmenter.normalise_newlines(text)
    try:
        segmentation = segmenter.segment(text, published_on)
    except segmenter.SegmentationError as exc:
        raise ImportRejected(str(exc)) from None
    found = segmentation.metadata.date
    date = published_on or found
    if date is None:
        why = [n.message for n in segmentation.uncertainties if n.kind == "article_date"]
        raise ImportRejected(
            "The text does not say when it was published"
            + (f" ({why[0][0].lower()}{why[0][1:-1]})" if why else "")
            + "; give the publication date."
        )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Prepared(
        filename=filename,
        text=text,
        sha256=digest,
        segmentation=segmentation,
        published_on=date,
        uncertainties=uncertainties(segmentation, published_on),
    )


def uncertainties(
    seg: segmenter.Segmentation, published_on: dt.date | None
) -> tuple[segmenter.Uncertainty, ...]:
    """The segmenter's notes and what storing changes, in text order. Each note has a
    ``kind`` (a key of ``segmenter.UNCERTAINTY_KINDS`` or ``IMPORT_NOTES``), the span
    it is about and a one-sentence ``message``."""
    notes = list(seg.uncertainties)
    found, at = seg.metadata.date, seg.metadata.date_at
    if published_on and found and found != published_on and at:
        notes.append(
            segmenter.Uncertainty(
                "date_mismatch",
                *at,
                f"The text gives {found.isoformat()} as its date; the publication date given, "
                f"{published_on.isoformat()}, is the one stored.",
            )
        )
    return tuple(sorted(notes, key=lambda n: (n.start, n.end, n.kind)))


# The importer's own kinds of ``Uncertainty``; the segmenter's are in
# ``segmenter.UNCERTAINTY_KINDS``.
IMPORT_NOTES = {
    "date_mismatch": "the text's own date differs from the publication date given",
}

# A short heading for each kind of note, as the preview and the command show them.
NOTE_LABELS = {
    "undated_citation": "Undated citation",
    "citation_part": "Citation part without outlet or date",
    "back_reference": "Back reference without a source",
    "long_sentence": "Long sentence",
    "unclassified_paragraph": "Paragraph without a verb",
    "possible_heading": "Possible heading",
    "article_date": "Article date unknown",
    "phrase_list_item": "List item read as a phrase",
    "date_mismatch": "Date differs from the text's",
}


def import_article(
    project: Project,
    data: bytes,
    *,
    filename: str,
    published_on: dt.date | None = None,
    actor: Any = None,
    html: bool | None = None,
    **metadata: Any,
) -> tuple[Article, bool]:
    """Import ``data`` into ``project``. Returns the article and whether it is new.

    The same text imported again returns the existing article and writes nothing.
    ``metadata`` (title, author, publication, publisher, volume, issue, source_url)
    overrides what the text itself says; without ``published_on`` the text must give it.
    """
    prepared = prepare(data, filename=filename, published_on=published_on, html=html)
    return import_prepared(project, prepared, actor=actor, **metadata)


def import_prepared(
    project: Project, prepared: Prepared, *, actor: Any = None, **metadata: Any
) -> tuple[Article, bool]:
    """Store a prepared import (see ``import_article``), so that a caller can report
    ``prepared.uncertainties`` without segmenting the text twice."""
    article = _article(project, prepared, prepared.published_on, actor, metadata)
    with writing(project) as writer:
        existing = Article.objects.filter(project=project, sha256=prepared.sha256).first()
        if existing is not None:
            writer.skip()
            return existing, False
        article.save()
        ArticleVersion.objects.create(
            article=article,
            number=1,
            title=article.title,
            filename=article.filename,
            text=article.text,
            sha256=article.sha256,
            imported_by=actor,
            imported_at=article.imported_at,
        )
        with search.indexed_at_once(article.pk):
            claims, stored_citations = _store_derived(article, prepared.segmentation)
        recurring.propose(project, article, claims, store=_insert)  # derived: no event
        writer.append(
            action=Action.ARTICLE_IMPORTED,
            actor=actor,
            target={"type": "article", "article": article.pk},
            after={
                "title": article.title,
                "filename": article.filename,
                "sha256": article.sha256,
                "published_on": article.published_on.isoformat(),
                "blocks": len(prepared.segmentation.blocks),
                "citations": stored_citations,
                # [id, start, end] of every claim: enough to fold the claims from the log.
                "claims": claims,
            },
            article_id=article.pk,
        )
    return article, True


def _article(
    project: Project,
    prepared: Prepared,
    published_on: dt.date,
    actor: Any,
    metadata: dict[str, Any],
) -> Article:
    found = prepared.segmentation.metadata
    given = {key: value for key, value in metadata.items() if value not in (None, "")}
    title = given.pop("title", "") or found.title or PurePath(prepared.filename).stem or "Untitled"
    article = Article(
        project=project,
        title=title,
        author=given.pop("author", found.author),
        publication=given.pop("publication", found.publication),
        volume=given.pop("volume", found.volume),
        issue=given.pop("issue", found.issue),
        published_on=published_on,
        filename=PurePath(prepared.filename).name[:255],
        text=prepared.text,
        sha256=prepared.sha256,
        imported_by=actor,
        **given,
    )
    try:
        article.full_clean(exclude=["project", "imported_by"], validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ImportRejected(f"{field.replace('_', ' ').capitalize()}: {messages[0]}") from None
    return article


def _store_derived(
    article: Article, seg: segmenter.Segmentation
) -> tuple[list[tuple[int, int, int]], int]:
    """Store the blocks, citations, claims and their links of a new article; ``(id, start,
    end)`` of every claim, in order, and the number of citations. (Tuples, not lists: the
    garbage collector stops tracking a tuple of numbers, while the 150,000 lists of a 10 MB
    article made it sweep the whole heap again, for half a second.)"""
    pk = article.pk
    block_ids, citation_ids = store_text(article, seg)
    block_of = [block_ids[sentence.block] for sentence in seg.sentences]
    claims = (
        (pk, block_of[c.sentence], i, c.start, c.end, c.section[:300], c.sentence)
        for i, c in enumerate(seg.claims, start=1)
    )
    _insert(Claim, ("article", "block", "ordinal", "start", "end", "section", "sentence"), claims)
    claim_ids = _ids(article.claims)
    links = (
        (claim_id, citation_ids[index])
        for claim_id, claim in zip(claim_ids, seg.claims, strict=True)
        for index in claim.citations
    )
    _insert(Claim.citations.through, ("claim", "citation"), links)
    spans = [(claim_id, c.start, c.end) for claim_id, c in zip(claim_ids, seg.claims, strict=True)]
    return spans, len(citation_ids)


def store_text(
    article: Article, seg: segmenter.Segmentation, version: int = 1
) -> tuple[list[int], list[int]]:
    """Store the blocks and citations of one version of the article's text; their new
    primary keys, in order. (A revision stores them so, then carries the claims over.)"""
    pk, day = article.pk, connection.ops.adapt_datefield_value
    text = seg.text
    blocks = (
        (pk, version, i, b.kind, b.start, b.end, text[b.start : b.end])
        for i, b in enumerate(seg.blocks)
    )
    _insert(Block, ("article", "version", "ordinal", "kind", "start", "end", "words"), blocks)
    citations = (
        (pk, version, i, c.outlet, day(c.date), c.precision, c.year_source, c.raw)
        + (c.start, c.end, c.group_start, c.group_end)
        for i, c in enumerate(seg.citations)
    )
    _insert(Citation, CITATION_FIELDS, citations)
    return _ids(article.blocks), _ids(article.citations)


# The fields of a citation row, in the order ``store_text`` gives their values.
CITATION_FIELDS = (
    *("article", "version", "ordinal", "outlet", "date", "precision", "year_source", "raw"),
    *("start", "end", "group_start", "group_end"),
)


# Rows per INSERT statement on SQLite, so that only one batch is ever held as parameters.
BATCH_SIZE = 1000


def _insert(
    model: type[models.Model], fields: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Insert ``rows``, each the values of ``fields`` as the database takes them; every
    other field but the primary key gets its default. ``_ids`` reads the new keys back.

    Not ``bulk_create``: it makes a model instance of every row and prepares every value
    through its field, and so stored a 1 MB article (26,000 rows, 190,000 values) in about
    eight times the time. ``rows`` is consumed as it is written.
    """
    meta = model._meta
    concrete = {f.name: f for f in meta.concrete_fields if not f.primary_key}
    given = [concrete[name] for name in fields]
    defaulted = [f for f in concrete.values() if f not in given]
    blank = model()  # its defaults, as a model instance would be saved with them
    defaults = tuple(f.get_db_prep_save(f.pre_save(blank, True), connection) for f in defaulted)
    quote = connection.ops.quote_name
    names = [quote(cast(str, f.column)) for f in given + defaulted]
    into = f"{quote(meta.db_table)} ({', '.join(names)})"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY, PostgreSQL's bulk load: as Django binds values on the client, each row's
            # INSERT would be parsed and planned anew, slower even than bulk_create.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {into} FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row + defaults)
            return
        sql = f"INSERT INTO {into} VALUES ({', '.join(['%s'] * len(names))})"
        for batch in itertools.batched(rows, BATCH_SIZE, strict=False):
            cursor.executemany(sql, [row + defaults for row in batch])


def _ids(rows: models.Manager[Any]) -> list[int]:
    """The primary keys of an article's rows of one kind, in ordinal order."""
    return list(rows.order_by("ordinal").values_list("pk", flat=True))
