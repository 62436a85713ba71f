"""python manage.py revision_quality [--corpus DIR]

``claims.alignment`` measured against hand-checked revisions (``tests/data/revisions``):
each ``*.gold.json`` names an article's text and a revised text of it, and says what
became of every claim (keys are claim indices in each text's segmentation, in text order).
Both texts are segmented as an import would (``importer.prepare``) and aligned; printed
per revision and overall (counts pooled): verdicts that would be carried to a wrong claim,
unchanged and edited claims recognised, removed and added precision and recall. Exits
non-zero when a floor is missed: no wrong carry, every unchanged claim, and at least 95 %
of edited claims recognised as edited rather than removed and added.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims import alignment
from claims.alignment import normalise
from claims.importer import prepare

DATA = Path(settings.BASE_DIR) / "tests" / "data"
EDITED_FLOOR = 0.95


@dataclasses.dataclass(frozen=True)
class Ratio:
    hits: int
    of: int

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(self.hits + other.hits, self.of + other.of)

    @property
    def value(self) -> float:
        return 1.0 if self.of == 0 else self.hits / self.of

    def __str__(self) -> str:
        return f"{self.hits}/{self.of} {100 * self.value:5.1f} %"


@dataclasses.dataclass(frozen=True)
class Quality:
    """One revision's figures (or several pooled); ``misses`` says what went wrong."""

    wrong: int  # old claims paired with a new claim the gold does not pair them with
    unchanged: Ratio
    edited: Ratio
    removed_precision: Ratio
    removed_recall: Ratio
    added_precision: Ratio
    added_recall: Ratio
    misses: tuple[str, ...] = ()

    def __add__(self, other: Quality) -> Quality:
        return Quality(
            *(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self))
        )

    def floors_missed(self) -> list[str]:
        missed = []
        if self.wrong:
            missed.append(f"{self.wrong} verdicts would be carried to a wrong claim (floor 0)")
        if self.unchanged.value < 1:
            missed.append(f"unchanged claims recognised {self.unchanged} (floor 100 %)")
        if self.edited.value < EDITED_FLOOR:
            missed.append(f"edited claims recognised {self.edited} (floor {EDITED_FLOOR:.0%})")
        return missed


@dataclasses.dataclass(frozen=True)
class Revision:
    name: str
    gold: dict[str, Any]
    old: tuple[str, tuple[alignment.Span, ...]]  # the text and its claims
    new: tuple[str, tuple[alignment.Span, ...]]


def _segmented(side: dict[str, Any], corpus: Path) -> tuple[str, tuple[alignment.Span, ...]]:
    path = corpus.parent / side["file"]
    published_on = dt.date.fromisoformat(side["published_on"])
    prepared = prepare(path.read_bytes(), filename=path.name, published_on=published_on)
    offsets = [(claim.start, claim.end) for claim in prepared.segmentation.claims]
    return prepared.text, alignment.spans(prepared.text, offsets)


def load_revisions(corpus: Path) -> list[Revision]:
    """Every ``*.gold.json`` of ``corpus``, by name, with both texts segmented; a gold
    whose claims are no longer the segmenter's is refused (CommandError)."""
    revisions = []
    for path in sorted(corpus.glob("*.gold.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        name = path.name.removesuffix(".gold.json")
        old, new = _segmented(gold["old"], corpus), _segmented(gold["new"], corpus)
        _check(name, gold, old[1], new[1])
        revisions.append(Revision(name, gold, old, new))
    return revisions


def _check(
    name: str,
    gold: dict[str, Any],
    old: tuple[alignment.Span, ...],
    new: tuple[alignment.Span, ...],
) -> None:
    texts = [(old, e["old"], e.get("text") or e["old_text"]) for e in gold_olds(gold)]
    texts += [(new, e["new"], e.get("text") or e["new_text"]) for e in gold_news(gold)]
    for spans, index, text in texts:
        # An unchanged claim's text is the old one, the same as the new once normalised.
        if index >= len(spans) or normalise(spans[index].text) != normalise(text):
            raise CommandError(
                f"{name}: claim {index} of the gold is no longer the segmenter's; "
                "check the gold against the segmentation again."
            )
    if sorted(e["old"] for e in gold_olds(gold)) != list(range(len(old))) or sorted(
        e["new"] for e in gold_news(gold)
    ) != list(range(len(new))):
        raise CommandError(f"{name}: the gold does not name every claim exactly once.")


def gold_olds(gold: dict[str, Any]) -> list[dict[str, Any]]:
    return [*gold["unchanged"], *gold["edited"], *gold["removed"]]


def gold_news(gold: dict[str, Any]) -> list[dict[str, Any]]:
    return [*gold["unchanged"], *gold["edited"], *gold["added"]]


def measure(revision: Revision) -> Quality:
    gold = revision.gold
    found = alignment.align(*revision.old, *revision.new)
    target = {e["old"]: e["new"] for e in [*gold["unchanged"], *gold["edited"]]}
    pairs = {(p.old, p.new): p.kind for p in found.pairs}
    misses = [
        f"{revision.name}: old claim {p.old} {p.kind} as new claim {p.new}, "
        f"the gold says {target.get(p.old, 'removed')}"
        for p in found.pairs
        if target.get(p.old) != p.new
    ]
    recognised = {}
    for kind in ("unchanged", "edited"):
        expected = gold[kind]
        hits = [e for e in expected if pairs.get((e["old"], e["new"])) == kind]
        missed = [e for e in expected if e not in hits]
        misses += [f"{revision.name}: {kind} {e['old']} -> {e['new']} not found" for e in missed]
        recognised[kind] = Ratio(len(hits), len(expected))
    removed, added = set(found.removed), set(found.added)
    gold_removed = {e["old"] for e in gold["removed"]}
    gold_added = {e["new"] for e in gold["added"]}
    return Quality(
        wrong=len([p for p in found.pairs if target.get(p.old) != p.new]),
        unchanged=recognised["unchanged"],
        edited=recognised["edited"],
        removed_precision=Ratio(len(removed & gold_removed), len(removed)),
        removed_recall=Ratio(len(removed & gold_removed), len(gold_removed)),
        added_precision=Ratio(len(added & gold_added), len(added)),
        added_recall=Ratio(len(added & gold_added), len(gold_added)),
        misses=tuple(misses),
    )


def total(qualities: Iterable[Quality]) -> Quality:
    zero = Ratio(0, 0)
    summed = Quality(0, zero, zero, zero, zero, zero, zero)
    for quality in qualities:
        summed += quality
    return summed


COLUMNS = ("wrong", "unchanged", "edited", "removed P", "removed R", "added P", "added R")


def _line(name: str, q: Quality) -> str:
    cells = [str(q.wrong), str(q.unchanged), str(q.edited)]
    cells += [str(r) for r in (q.removed_precision, q.removed_recall)]
    cells += [str(r) for r in (q.added_precision, q.added_recall)]
    return f"{name:<28}" + "".join(f"{c:>16}" for c in cells)


class Command(BaseCommand):
    help = "Measure the alignment of revised articles against the hand-checked revisions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--corpus", default=str(DATA / "revisions"), help="folder of *.gold.json"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        corpus = Path(options["corpus"])
        if not corpus.is_dir() or not any(corpus.glob("*.gold.json")):
            raise CommandError(f"There are no revisions (*.gold.json) in {corpus}.")
        results = [(r.name, measure(r)) for r in load_revisions(corpus)]
        self.stdout.write(f"{'revision':<28}" + "".join(f"{c:>16}" for c in COLUMNS))
        for name, quality in results:
            self.stdout.write(_line(name, quality))
        overall = total(quality for _name, quality in results)
        self.stdout.write(_line("overall", overall))
        for miss in overall.misses:
            self.stdout.write(f"  {miss}")
        missed = overall.floors_missed()
        if missed:
            raise CommandError("Floor missed: " + "; ".join(missed) + ".")
