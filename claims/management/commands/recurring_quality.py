"""python manage.py recurring_quality [--data DIR]

How well the same claim is found in other articles (``claims.recurring``): imports the
sample article and the three articles of ``tests/data/recurring`` (which repeat some of
the sample's claims in other words, beside claims on the same subjects that are not
repeats) into a throwaway project, and prints the recall and precision of the proposals
against ``gold.json``. Nothing stays: the whole run is rolled back.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Q

from claims.importer import import_article
from claims.models import Article, Claim, ClaimLink, Project

DATA = Path(settings.BASE_DIR) / "tests" / "data" / "recurring"
RECALL_TARGET, PRECISION_TARGET = 0.90, 0.80


@dataclass(frozen=True)
class Quality:
    true_pairs: int
    proposed: int
    found: int

    @property
    def recall(self) -> float:
        return self.found / self.true_pairs if self.true_pairs else 1.0

    @property
    def precision(self) -> float:
        return self.found / self.proposed if self.proposed else 1.0


def _claim_with(article: Article, text: str, claims: list[Claim]) -> int:
    """The claim of ``article`` whose text contains ``text``: gold names claims so."""
    found = [c.pk for c in claims if text in article.text[c.start : c.end]]
    if len(found) != 1:
        raise CommandError(f"{len(found)} claims of “{article.title}” contain “{text}”.")
    return found[0]


def true_pairs(gold: dict[str, Any], articles: dict[str, Article]) -> set[tuple[int, int]]:
    """Every pair of claims in different articles that gold says are one claim: each gold
    entry pairs a sample claim with a repeat, and repeats of one sample claim repeat each
    other."""
    claims = {name: list(Claim.objects.filter(article=a)) for name, a in articles.items()}
    sample = articles["sample"]
    groups: dict[int, set[tuple[str, int]]] = {}
    for sample_text, name, text in gold["pairs"]:
        origin = _claim_with(sample, sample_text, claims["sample"])
        repeat = _claim_with(articles[name], text, claims[name])
        groups.setdefault(origin, {("sample", origin)}).add((name, repeat))
    pairs = set()
    for group in groups.values():
        for (name_a, a), (name_b, b) in itertools.combinations(sorted(group), 2):
            if name_a != name_b:
                pairs.add((min(a, b), max(a, b)))
    return pairs


def measure(data: Path = DATA) -> Quality:
    """Import the corpus into a throwaway project and score the proposals (the caller
    rolls back)."""
    gold = json.loads((data / "gold.json").read_text(encoding="utf-8"))
    project = Project.create("recurring-quality", "Recurring quality (throwaway)")
    sample = Path(settings.BASE_DIR) / gold["sample"]
    meta = json.loads(sample.with_suffix(".json").read_text(encoding="utf-8"))
    articles = {
        "sample": import_article(
            project,
            sample.read_bytes(),
            filename=sample.name,
            published_on=Article._meta.get_field("published_on").to_python(meta["published_on"]),
        )[0]
    }
    for name in gold["articles"]:
        articles[name] = import_article(project, (data / name).read_bytes(), filename=name)[0]
    truth = true_pairs(gold, articles)
    ours = Q(claim_a__article__project=project)
    proposed = set(ClaimLink.objects.filter(ours).values_list("claim_a_id", "claim_b_id"))
    return Quality(len(truth), len(proposed), len(truth & proposed))


class Command(BaseCommand):
    help = "Recall and precision of recurring-claim proposals on tests/data/recurring."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", type=Path, default=DATA)

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            quality = measure(options["data"])
            transaction.set_rollback(True)  # a throwaway project: nothing stays
        self.stdout.write(
            f"true pairs {quality.true_pairs}  proposed {quality.proposed}  "
            f"found {quality.found}\n"
            f"recall {quality.recall:.1%} (target {RECALL_TARGET:.0%})  "
            f"precision {quality.precision:.1%} (target {PRECISION_TARGET:.0%})"
        )
