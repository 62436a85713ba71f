"""import_article(): the one way an article enters the database.

Reading and decoding live here; everything derived from the text comes from the pure
``segmenter``. The text and all it yields are stored in one transaction with one
``article.imported`` event.
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

from claims import audit, segmenter
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


@dataclass(frozen=True)
class Prepared:
    """Everything an import would store, computed without touching the database."""

    filename: str
    text: str
    sha256: str
    segmentation: segmenter.Segmentation


def prepare(
    data: bytes, *, filename: str, published_on: dt.date, html: bool | None = None
) -> Prepared:
    """Decode and segment ``data``; ``html`` overrides the guess from name and content."""
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
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Prepared(filename=filename, text=text, sha256=digest, segmentation=segmentation)


def import_article(
    project: Project,
    data: bytes,
    *,
    filename: str,
    published_on: dt.date,
    actor: Any = None,
    html: bool | None = None,
    **metadata: Any,
) -> tuple[Article, bool]:
    """Import ``data`` into ``project``. Returns the article and whether it is new.

    The same text imported again returns the existing article and writes nothing.
    ``metadata`` (title, author, publication, publisher, volume, issue, source_url)
    overrides what the text itself says.
    """
    prepared = prepare(data, filename=filename, published_on=published_on, html=html)
    article = _article(project, prepared, published_on, actor, metadata)
    with audit.writing(project) as writer:
        existing = Article.objects.filter(project=project, sha256=prepared.sha256).first()
        if existing is not None:
            writer.skip()
            return existing, False
        article.save()
        claims = _store_derived(article, prepared.segmentation)
        writer.append(
            action="article.imported",
            actor=actor,
            target={"type": "article", "article": article.pk},
            after={
                "title": article.title,
                "filename": article.filename,
                "sha256": article.sha256,
                "published_on": article.published_on.isoformat(),
                "blocks": len(prepared.segmentation.blocks),
                "citations": len(prepared.segmentation.citations),
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


def _store_derived(article: Article, seg: segmenter.Segmentation) -> list[list[int]]:
    """Store the blocks, citations, claims and their links; ``[id, start, end]`` of every
    claim, in order."""
    block_ids = _insert(
        Block,
        (
            Block(article_id=article.pk, ordinal=i, kind=b.kind, start=b.start, end=b.end)
            for i, b in enumerate(seg.blocks)
        ),
    )
    citation_ids = _insert(
        Citation,
        (
            Citation(
                article_id=article.pk,
                ordinal=i,
                outlet=c.outlet,
                date=c.date,
                year_source=c.year_source,
                raw=c.raw,
                start=c.start,
                end=c.end,
                group_start=c.group_start,
                group_end=c.group_end,
            )
            for i, c in enumerate(seg.citations)
        ),
    )
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
        ),
    )
    return [[pk, c.start, c.end] for pk, c in zip(claim_ids, seg.claims, strict=True)]


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
