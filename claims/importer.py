"""import_article(): the one way an article enters the database.

Reading and decoding live here; everything derived from the text comes from the pure
``segmenter``. The text and all it yields are stored in one transaction with one
``article.imported`` event.

Nothing is guessed silently. ``Prepared.uncertainties`` lists what the segmenter was not
sure of and what the database cannot hold as found: a citation without a knowable date is
not stored (``Citation.date`` is required), one dated to a month or a year is stored as
the first day of it, and the finer block kinds are stored as the nearest ``BlockKind``.
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
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from claims import segmenter
from claims.log.actions import Action
from claims.log.chain import writing
from claims.models import Article, Block, Citation, Claim, Project

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


# The segmenter's block kinds that ``BlockKind`` does not have yet, stored as the nearest
# one it has. List items and block quotes hold claims, and only body blocks show theirs.
STORED_KINDS = {
    "list_item": "body",
    "quote": "body",
    "subtitle": "title",
    "byline": "metadata",
    "dateline": "metadata",
    "caption": "metadata",
    "footnote": "metadata",
    "references": "metadata",
}


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
    ``kind`` (a key of ``segmenter.UNCERTAINTY_KINDS`` or ``STORAGE_NOTES``), the span
    it is about and a one-sentence ``message``."""
    notes = list(seg.uncertainties)
    for citation in seg.citations:
        span = (citation.start, citation.end)
        if citation.date is None:
            notes.append(
                segmenter.Uncertainty(
                    "citation_not_stored",
                    *span,
                    f"“{citation.raw}” is not stored as a citation: a stored citation needs a "
                    "date, and this one has none.",
                )
            )
        elif citation.precision in ("month", "year"):
            notes.append(
                segmenter.Uncertainty(
                    "approximate_date",
                    *span,
                    f"“{citation.raw}” gives only the {citation.precision}; it is stored as "
                    f"{citation.date.isoformat()}, the first day of it.",
                )
            )
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


# What storing does to a segmentation, for ``Uncertainty.kind``; the segmenter's own kinds
# are in ``segmenter.UNCERTAINTY_KINDS``.
STORAGE_NOTES = {
    "citation_not_stored": "an undated citation; Citation.date cannot be empty",
    "approximate_date": "a citation dated to a month or year, stored as its first day",
    "date_mismatch": "the text's own date differs from the publication date given",
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
        claims, stored_citations = _store_derived(article, prepared.segmentation)
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


def _store_derived(article: Article, seg: segmenter.Segmentation) -> tuple[list[list[int]], int]:
    """Store the blocks, citations, claims and their links; ``[id, start, end]`` of every
    claim, in order, and the number of citations stored (undated ones are not)."""
    block_ids = _insert(
        Block,
        (
            Block(
                article_id=article.pk,
                ordinal=i,
                kind=STORED_KINDS.get(b.kind, b.kind),
                start=b.start,
                end=b.end,
            )
            for i, b in enumerate(seg.blocks)
        ),
    )
    # Each dated citation's index among all of them, the citation and its date.
    dated = [(i, c, c.date) for i, c in enumerate(seg.citations) if c.date is not None]
    stored_ids = _insert(
        Citation,
        (
            Citation(
                article_id=article.pk,
                ordinal=ordinal,
                outlet=c.outlet,
                date=day,
                year_source=c.year_source,
                raw=c.raw,
                start=c.start,
                end=c.end,
                group_start=c.group_start,
                group_end=c.group_end,
            )
            for ordinal, (_i, c, day) in enumerate(dated)
        ),
    )
    citation_ids = {i: stored for (i, _c, _day), stored in zip(dated, stored_ids, strict=True)}
    claim_ids = _insert(
        Claim,
        (
            Claim(
                article_id=article.pk,
                block_id=block_ids[seg.sentences[c.sentence].block],
                ordinal=i + 1,
                start=c.start,
                end=c.end,
                section=c.section[:300],
                sentence=c.sentence,
            )
            for i, c in enumerate(seg.claims)
        ),
    )
    link = Claim.citations.through
    _insert(
        link,
        (
            link(claim_id=claim_id, citation_id=citation_ids[index])
            for claim_id, claim in zip(claim_ids, seg.claims, strict=True)
            for index in claim.citations
            if index in citation_ids
        ),
    )
    claims = [[pk, c.start, c.end] for pk, c in zip(claim_ids, seg.claims, strict=True)]
    return claims, len(stored_ids)


# Rows per INSERT. One statement per table would hold a long article's every row at once,
# as model instances and again as SQL parameters. Small batches keep memory flat and the
# time linear: a batch is gone before the garbage collector's youngest generation fills,
# so the collector never has to sweep the whole segmentation (measured: a 10 MB import
# takes a quarter longer on SQLite with batches of 1000, and no less time on PostgreSQL).
BATCH_SIZE = 100


def _insert(model: type[models.Model], rows: Iterable[models.Model]) -> list[int]:
    """Insert unsaved ``model`` instances in batches; their new primary keys, in order.

    ``rows`` is consumed a batch at a time, so only one batch of instances exists at once.
    """
    ids: list[int] = []
    for batch in itertools.batched(rows, BATCH_SIZE, strict=False):
        ids += [row.pk for row in model._default_manager.bulk_create(batch)]
    return ids
