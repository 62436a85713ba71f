"""revise_article(): a new text of an article, its claims carried forward.

The revised text is read and segmented as an import is (``importer.prepare``), then its
claims are aligned with the current ones (``claims.alignment``). Nothing is stored until
the alignment has been seen: ``prepare_revision`` computes it, ``apply_revision`` stores
it in one transaction with one ``article.revised`` event whose body holds the mapping,
so that the fold reproduces it.

What each old claim becomes:

- **unchanged**: it moves to its place in the new text; verdicts, evidence, adjudication
  and history are untouched;
- **edited**: it moves too and keeps all of that, one version on, with the wording it had
  (``Claim.wording_before``) and the version that changed it (``Claim.revised_in``): a
  verdict given before then is shown as given on other words, and is due for re-check;
- **removed**: it is retired (``Claim.retired_in``): off every current screen, count and
  statistic, still in its history, earlier versions, as-of views and exports.

The new text's other claims are **added**. Blocks and citations of the old text are
retired with it; every version's text stays in ``ArticleVersion``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from claims import alignment, recurring
from claims.alignment import Alignment, Span
from claims.importer import ImportRejected, Prepared, prepare, store_text
from claims.log.actions import Action
from claims.log.chain import writing
from claims.models import (
    Adjudication,
    Article,
    ArticleVersion,
    Block,
    Citation,
    Claim,
    Conflict,
    Role,
)
from claims.models import _acting as acting


class StaleRevision(ImportRejected):
    """The article changed between the preview and the confirmation."""

    def __init__(self) -> None:
        super().__init__(
            "The article has changed since this preview (a claim was edited or another "
            "revision was applied); preview the revision again."
        )


@dataclass(frozen=True)
class Revision:
    """A revised text aligned with the article's current claims, not yet stored."""

    article: Article
    prepared: Prepared
    alignment: Alignment
    old: dict[int, Span]  # current claims by id
    new: tuple[Span, ...]  # the new text's claims, by index
    # What the preview was made against: a confirmation made against anything else is
    # refused rather than applied to claims nobody has seen aligned.
    version: int
    numbers: dict[int, int] = field(default_factory=dict, repr=False)  # claim id -> number

    @property
    def claims_seen(self) -> tuple[tuple[int, int, int], ...]:
        """Each current claim's id and span, in text order, as the preview aligned them."""
        return tuple((pk, span.start, span.end) for pk, span in self.old.items())

    @property
    def identical(self) -> bool:
        return self.prepared.sha256 == self.article.sha256

    @property
    def unrelated(self) -> bool:
        """Nothing of the current text is in the new one: likely the wrong file."""
        return bool(self.old) and not self.alignment.pairs

    @property
    def counts(self) -> dict[str, int]:
        return self.alignment.counts

    def edited(self) -> list[tuple[Span, Span, list[tuple[str, str]]]]:
        """(old, new, word diff) of each edited claim, in the new text's order."""
        pairs = [p for p in self.alignment.pairs if p.kind == "edited"]
        pairs.sort(key=lambda p: self.new[p.new].start)
        return [
            (
                self.old[p.old],
                self.new[p.new],
                alignment.word_diff(self.old[p.old].text, self.new[p.new].text),
            )
            for p in pairs
        ]

    def removed(self) -> list[Span]:
        return sorted((self.old[k] for k in self.alignment.removed), key=lambda s: s.start)

    def added(self) -> list[Span]:
        return sorted((self.new[k] for k in self.alignment.added), key=lambda s: s.start)


def seen_digest(revision: Revision) -> str:
    """A digest of what the preview was aligned against: the version and every current
    claim's id and span. A confirmation carries it back (see ``forms.ConfirmRevisionForm``)."""
    seen = json.dumps([revision.version, revision.claims_seen], separators=(",", ":"))
    return hashlib.sha256(seen.encode()).hexdigest()


def current_spans(article: Article) -> tuple[dict[int, Span], dict[int, int]]:
    """The article's current claims as alignment spans by id, and their numbers (one
    query)."""
    rows = list(Claim.objects.filter(article=article).with_text().order_by("start"))
    spans = {c.pk: Span(c.pk, c.span_text, c.start, c.end) for c in rows}
    return spans, {c.pk: c.ordinal for c in rows}


def prepare_revision(
    article: Article, data: bytes, *, filename: str, html: bool | None = None
) -> Revision:
    """Read, segment and align a revised text of ``article``; stores nothing.

    Citations without a year are dated from the article's publication date, as at import.
    """
    prepared = prepare(data, filename=filename, published_on=article.published_on, html=html)
    old, numbers = current_spans(article)
    new = alignment.spans(prepared.text, [(c.start, c.end) for c in prepared.segmentation.claims])
    found = alignment.align(article.text, list(old.values()), prepared.text, new)
    return Revision(article, prepared, found, old, new, article.version, numbers)


def apply_revision(
    revision: Revision, *, actor: Any, title: str = "", unrelated_ok: bool = False
) -> Article:
    """Store ``revision`` as the article's next version: one transaction, one event.

    Refuses (``ImportRejected``, nothing written) an identical text, a text with nothing
    in common with the current one unless ``unrelated_ok``, and a revision prepared
    against an article that has changed since (``StaleRevision``).
    """
    article = revision.article
    if revision.identical:
        raise ImportRejected("This text is the article's current version: nothing to revise.")
    if revision.unrelated and not unrelated_ok:
        raise ImportRejected(
            "The new text has no claim in common with the current version; confirm that it "
            "is a revision of this article, not another article."
        )
    project = article.project
    # None is the system (the command line, run by whoever runs the server).
    user = acting(project, actor, Role.ADMIN) if actor is not None else None
    with writing(project) as writer:
        article = Article.objects.select_for_update().get(pk=article.pk)
        seen = tuple(
            Claim.objects.filter(article=article)
            .order_by("start")
            .values_list("pk", "start", "end")
        )
        if article.version != revision.version or seen != revision.claims_seen:
            raise StaleRevision()
        before = {"version": article.version, "sha256": article.sha256, "title": article.title}
        after = _store(article, revision, user, title)
        reworded = [(c[0], c[1], c[2]) for c in [*after["edited"], *after["added"]]]
        recurring.reindex(project, article, reworded, after["removed"])  # derived: no event
        writer.append(
            action=Action.ARTICLE_REVISED,
            actor=user,
            target={"type": "article", "article": article.pk},
            before=before,
            after=after,
            article_id=article.pk,
        )
    return article


def _store(article: Article, revision: Revision, user: Any, title: str) -> dict[str, Any]:
    prepared, seg, found = revision.prepared, revision.prepared.segmentation, revision.alignment
    number, now = article.version + 1, timezone.now()
    found_title = title or seg.metadata.title or article.title
    ArticleVersion.objects.create(
        article=article,
        number=number,
        title=found_title,
        filename=prepared.filename[:255],
        text=prepared.text,
        sha256=prepared.sha256,
        imported_by=user,
        imported_at=now,
    )
    Block.objects.filter(article=article).update(retired_in=number)
    Citation.objects.filter(article=article).update(retired_in=number)
    article.title, article.filename = found_title, prepared.filename[:255]
    article.text, article.sha256 = prepared.text, prepared.sha256
    article.version, article.revised_at = number, now
    article.save(update_fields=["title", "filename", "text", "sha256", "version", "revised_at"])
    block_ids, citation_ids = store_text(article, seg, version=number)
    block_of = [block_ids[sentence.block] for sentence in seg.sentences]

    kept = {p.new: p for p in found.pairs}
    claims = {c.pk: c for c in Claim.objects.filter(pk__in=[p.old for p in found.pairs])}
    changed: list[Claim] = []
    for pair in found.pairs:
        claim, new = claims[pair.old], seg.claims[pair.new]
        claim.block_id, claim.sentence = block_of[new.sentence], new.sentence
        claim.start, claim.end, claim.section = new.start, new.end, new.section[:300]
        if pair.kind == "edited":
            claim.version += 1
            claim.revised_in, claim.revised_at = number, now
            claim.wording_before = revision.old[pair.old].text
        changed.append(claim)
    Claim.objects.filter(pk__in=list(found.removed)).update(retired_in=number)
    added = [
        Claim(
            article=article,
            block_id=block_of[c.sentence],
            ordinal=0,
            start=c.start,
            end=c.end,
            section=c.section[:300],
            sentence=c.sentence,
        )
        for i, c in enumerate(seg.claims)
        if i not in kept
    ]
    # Numbers never shift: carried claims keep theirs, added ones take the next free ones,
    # in text order (a number retired with its claim is never given again).
    numbers = Claim.all_objects.filter(article=article).aggregate(top=models.Max("ordinal"))
    for ordinal, claim in enumerate(added, start=(numbers["top"] or 0) + 1):
        claim.ordinal = ordinal
    Claim.objects.bulk_create(added)
    Claim.objects.bulk_update(
        changed,
        [
            "block",
            "sentence",
            "start",
            "end",
            "section",
            "version",
            "revised_in",
            "revised_at",
            "wording_before",
        ],
        batch_size=500,
    )
    # Each carried claim cites what its sentence in the new text cites.
    link = Claim.citations.through
    link.objects.filter(claim_id__in=[c.pk for c in changed]).delete()
    index_of = {p.new: p.old for p in found.pairs}
    added_ids = iter(c.pk for c in added)
    ids = [index_of[i] if i in index_of else next(added_ids) for i in range(len(seg.claims))]
    link.objects.bulk_create(
        link(claim_id=ids[i], citation_id=citation_ids[k])
        for i, c in enumerate(seg.claims)
        for k in c.citations
    )

    def spans(kind: str) -> list[list[int]]:
        pairs = [p for p in found.pairs if p.kind == kind]
        return [[p.old, seg.claims[p.new].start, seg.claims[p.new].end] for p in pairs]

    return {
        "version": number,
        "title": found_title,
        "filename": article.filename,
        "sha256": prepared.sha256,
        "blocks": len(block_ids),
        "citations": len(citation_ids),
        "unchanged": spans("unchanged"),
        "edited": spans("edited"),
        "removed": sorted(found.removed),
        "added": [[c.pk, c.start, c.end, c.ordinal] for c in added],
    }


# Correcting the alignment --------------------------------------------------------------


def unlink(claim: Claim, who: Any, *, expected_version: int, reverts: int | None = None) -> Claim:
    """The latest revision carried ``claim`` to words that are not the same claim: retire
    it (its verdicts, evidence and history stay with it) and put a fresh claim in its
    place. One ``claim.unlinked`` event; reverting it links them again."""
    project = claim.article.project
    user = acting(project, who, Role.REVIEWER)
    with writing(project) as writer:
        current = _carried(claim, expected_version)
        article = current.article
        before = current.span()
        top = Claim.all_objects.filter(article=article).aggregate(top=models.Max("ordinal"))
        fresh = Claim.objects.create(
            article=article,
            block_id=current.block_id,
            ordinal=top["top"] + 1,
            start=current.start,
            end=current.end,
            section=current.section,
            sentence=current.sentence,
        )
        fresh.citations.set(current.citations.all())
        current.retired_in, current.version = article.version, current.version + 1
        current.save(update_fields=["retired_in", "version"])
        recurring.reindex(project, article, [(fresh.pk, fresh.start, fresh.end)], [current.pk])
        writer.append(
            action=Action.CLAIM_UNLINKED,
            actor=user,
            target=current.target(),
            before=before,
            after={
                "retired": current.pk,
                "claim": [fresh.pk, fresh.start, fresh.end],
                "number": fresh.ordinal,
                "version": article.version,
            },
            reverts=reverts,
            article_id=article.pk,
            claim_id=current.pk,
            other_claim_id=fresh.pk,
        )
    return fresh


def link(
    claim: Claim,
    removed: Claim,
    who: Any,
    *,
    expected_version: int,
    reverts: int | None = None,
) -> Claim:
    """The latest revision removed ``removed`` and added ``claim``, but they are the same
    claim reworded: ``removed`` comes back in ``claim``'s place with its verdicts,
    evidence and history (as an edited claim), and ``claim``, which nobody has assessed,
    is retired. One ``claim.linked`` event; reverting it unlinks them again."""
    project = claim.article.project
    user = acting(project, who, Role.REVIEWER)
    with writing(project) as writer:
        current = Claim.objects.select_related("article").filter(pk=claim.pk).first()
        if current is None:
            raise Conflict(None, "This claim is no longer in the current text.")
        if current.version != expected_version:
            raise Conflict(current)
        article = current.article
        old = Claim.all_objects.filter(
            pk=removed.pk, article=article, retired_in=article.version
        ).first()
        if old is None:
            raise ValidationError(
                "Only a claim the latest revision removed can be linked to a new claim."
            )
        if current.verdicts.exclude(status="").exists() or current.evidence.exists():
            raise ValidationError(
                "This claim already has verdicts or evidence of its own; it cannot take "
                "over a removed claim's."
            )
        if Adjudication.objects.filter(claim=current).exclude(status="").exists():
            raise ValidationError("This claim is adjudicated; withdraw the adjudication first.")
        wording = old.text
        old.block_id = current.block_id  # it keeps its own number
        old.start, old.end, old.section = current.start, current.end, current.section
        old.sentence, old.retired_in, old.version = current.sentence, None, old.version + 1
        old.revised_in, old.revised_at, old.wording_before = (
            article.version,
            timezone.now(),
            wording,
        )
        current.retired_in, current.version = article.version, current.version + 1
        current.save(update_fields=["retired_in", "version"])
        old.save()
        old.citations.set(current.citations.all())
        recurring.reindex(project, article, [(old.pk, old.start, old.end)], [current.pk])
        writer.append(
            action=Action.CLAIM_LINKED,
            actor=user,
            target=old.target(),
            before={"claim": current.pk, "start": current.start, "end": current.end},
            after={
                "claim": [old.pk, old.start, old.end],
                "retired": current.pk,
                "version": article.version,
            },
            reverts=reverts,
            article_id=article.pk,
            claim_id=old.pk,
            other_claim_id=current.pk,
        )
    return old


def _carried(claim: Claim, expected_version: int) -> Claim:
    """Under the chain lock: the claim as it stands, if the latest revision carried it
    over as edited and nobody changed it since."""
    current = Claim.objects.select_related("article").filter(pk=claim.pk).first()
    if current is None:
        raise Conflict(None, "This claim is no longer in the current text.")
    if current.version != expected_version:
        raise Conflict(current)
    if current.revised_in is None or current.revised_in != current.article.version:
        raise ValidationError("Only a claim the latest revision edited can be unlinked.")
    return current


def removed_in_latest(article: Article) -> list[Claim]:
    """The claims the article's latest revision removed, in their old text order."""
    if article.version == 1:
        return []
    return list(
        Claim.all_objects.filter(article=article, retired_in=article.version).order_by("start")
    )
