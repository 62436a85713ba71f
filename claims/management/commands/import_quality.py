"""python manage.py import_quality [--corpus DIR] [--sample FILE]

The segmenter measured against hand annotations: the sample (``tests/data/seed_gold.json``)
and a corpus of articles in other house styles (``tests/data/corpus/*.gold.json``, built
from the ``.ann`` annotations). Per article and overall (counts pooled over the corpus):
block accuracy (share of gold blocks found with the same span and kind), sentence F1
(exact spans), claim span F1 (exact spans), citation F1 (span, outlet, date as precise as
the citation gives it, and that precision) and citation attachment F1 (claim, citation).
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

from claims.models import cited_date
from claims.segmenter import Citation, Segmentation, html_to_text, normalise_newlines, segment

DATA = Path(settings.BASE_DIR) / "tests" / "data"


@dataclasses.dataclass(frozen=True)
class Count:
    """Matches against a gold set and a predicted set; F1 pools across articles."""

    matched: int
    gold: int
    predicted: int

    def __add__(self, other: Count) -> Count:
        return Count(
            self.matched + other.matched, self.gold + other.gold, self.predicted + other.predicted
        )

    @property
    def f1(self) -> float:
        total = self.gold + self.predicted
        return 1.0 if total == 0 else 2 * self.matched / total

    @property
    def recall(self) -> float:
        return 1.0 if self.gold == 0 else self.matched / self.gold


METRICS = ("blocks", "sentences", "claims", "citations", "attachment")


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    gold: dict[str, Any]
    text: str
    published_on: dt.date | None


def _count(gold: Iterable[object], predicted: Iterable[object]) -> Count:
    gold_set, predicted_set = set(gold), set(predicted)
    return Count(len(gold_set & predicted_set), len(gold_set), len(predicted_set))


def citation_date(citation: Citation) -> str | None:
    """The date as precise as the citation gives it: 2024-04-05, 2024-04, 2024 or None."""
    return None if citation.date is None else cited_date(citation.date, citation.precision)


def measure(gold: dict[str, Any], seg: Segmentation) -> dict[str, Count]:
    """Counts for every metric of one article."""
    gold_blocks = gold.get("blocks") or gold["non_claims"]
    gold_citations = [c for s in gold["sentences"] for c in s["citations"]]
    claim_spans = {c.start: (c.start, c.end) for c in seg.claims}
    return {
        "blocks": Count(
            len(
                {(b["start"], b["end"], b["kind"]) for b in gold_blocks}
                & {(b.start, b.end, b.kind) for b in seg.blocks}
            ),
            len(gold_blocks),
            len(gold_blocks),
        ),
        "sentences": _count(
            ((s["start"], s["end"]) for s in gold["sentences"]),
            ((s.start, s.end) for s in seg.sentences),
        ),
        "claims": _count(
            ((c["start"], c["end"]) for c in gold["claims"]),
            ((c.start, c.end) for c in seg.claims),
        ),
        "citations": _count(
            (
                (c["start"], c["end"], c["outlet"], c["date"], c.get("precision", "day"))
                for c in gold_citations
            ),
            ((c.start, c.end, c.outlet, citation_date(c), c.precision) for c in seg.citations),
        ),
        "attachment": _count(
            ((c["start"], c["end"], x["start"]) for c in gold["claims"] for x in c["citations"]),
            (
                (*claim_spans[c.start], seg.citations[i].start)
                for c in seg.claims
                for i in c.citations
            ),
        ),
    }


def load_cases(corpus: Path, sample: Path | None) -> list[Case]:
    """The sample first, then every ``*.gold.json`` of the corpus, by name."""
    cases = []
    paths = ([sample] if sample else []) + sorted(corpus.glob("*.gold.json"))
    for path in paths:
        gold = json.loads(path.read_text(encoding="utf-8"))
        source = gold["source"]
        if path == sample:
            file, given = path.parent / "china-brief.txt", source["publication_date"]
        else:
            file, given = path.parent / source["file"], source["given_publication_date"]
        text = normalise_newlines(file.read_text(encoding="utf-8"))
        if file.suffix in (".html", ".htm"):
            text = normalise_newlines(html_to_text(text))
        published_on = dt.date.fromisoformat(given) if given else None
        cases.append(Case(file.name, gold, text, published_on))
    return cases


def evaluate(cases: list[Case]) -> list[tuple[str, dict[str, Count], int]]:
    """(name, counts, uncertainties) per case."""
    return [
        (case.name, measure(case.gold, seg), len(seg.uncertainties))
        for case in cases
        for seg in [segment(case.text, case.published_on)]
    ]


def total(rows: Iterable[dict[str, Count]]) -> dict[str, Count]:
    summed = {metric: Count(0, 0, 0) for metric in METRICS}
    for counts in rows:
        summed = {metric: summed[metric] + counts[metric] for metric in METRICS}
    return summed


def _line(name: str, counts: dict[str, Count], uncertain: str) -> str:
    blocks = counts["blocks"]
    cells = [f"{blocks.matched:>3}/{blocks.gold:<3} {blocks.recall:5.3f}"]
    cells += [
        f"{counts[m].f1:5.3f} ({counts[m].matched}/{counts[m].gold}/{counts[m].predicted})"
        for m in METRICS[1:]
    ]
    return f"{name:<24} " + "  ".join(f"{c:<19}" for c in cells) + f" {uncertain:>5}"


class Command(BaseCommand):
    help = "Measure the segmenter against the hand-annotated sample and corpus."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--corpus", default=str(DATA / "corpus"), help="folder of *.gold.json")
        parser.add_argument("--sample", default=str(DATA / "seed_gold.json"))
        parser.add_argument("--no-sample", action="store_true", help="leave the sample out")

    def handle(self, *args: Any, **options: Any) -> None:
        corpus = Path(options["corpus"])
        sample = None if options["no_sample"] else Path(options["sample"])
        if not corpus.is_dir():
            raise CommandError(f"There is no corpus folder {corpus}.")
        cases = load_cases(corpus, sample)
        results = evaluate(cases)
        head = ["blocks (acc)", "sentences F1", "claims F1", "citations F1", "attachment F1"]
        self.stdout.write(f"{'article':<24} " + "  ".join(f"{h:<19}" for h in head) + " uncertain")
        self.stdout.write(f"{'':<24} {'found/gold':<19}  " + "(matched/gold/found)")
        for name, counts, uncertain in results:
            self.stdout.write(_line(name, counts, str(uncertain)))
        corpus_rows = [
            counts for name, counts, _ in results if sample is None or name != "china-brief.txt"
        ]
        self.stdout.write(_line("corpus overall", total(corpus_rows), ""))
        self.stdout.write(_line("all overall", total(r[1] for r in results), ""))
