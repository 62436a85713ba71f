"""python -m claims.bench.recurring [--existing N] [--new N] [--runs N]: proposing the same
claim elsewhere for a new article (``claims.recurring.propose``, as the importer calls it)
against a project's existing claims. Target: a 2,000-claim article against 100,000
claims in 2 s or less.

The claims are generated (seeded): sentences of 10 to 22 words drawn from a vocabulary of
30,000 made-up words by a Zipf-Mandelbrot law, as natural language spreads its words; a tenth of the
new article's claims are existing claims reworded (words dropped and replaced), the rest
are new. The existing claims and their index rows are written straight to the tables (as
the importer's bulk loader writes them), in a throwaway database (a temporary SQLite file,
or a PostgreSQL database of its own when DATABASE_URL is set). Each run proposes in a
transaction that is rolled back, so every run starts from the same state.

Prints one JSON object: the database, the sizes, the median and slowest seconds of the
runs, the proposals made, and how many of the planted rewordings were among them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from claims.bench.throwaway import child_env, throwaway_database

VOCABULARY = 30_000
PER_ARTICLE = 2_000
REWORDED = 0.1  # of the new article's claims, existing ones in other words
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
FILLERS = ("the", "of", "and", "to", "in", "that", "was", "for", "on", "with")


def word(rank: int) -> str:
    """A made-up word for each rank, distinct in its first five letters."""
    letters = ""
    rank += len(SYLLABLES) ** 2  # at least three syllables
    while rank:
        rank, digit = divmod(rank, len(SYLLABLES))
        letters += SYLLABLES[digit]
    return letters


class Words:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocabulary = [word(rank) for rank in range(VOCABULARY)]
        # Zipf-Mandelbrot: the commonest words (articles, prepositions) are the fillers.
        weights = [1 / (rank + 100) ** 1.05 for rank in range(VOCABULARY)]
        self.cumulative = list(itertools.accumulate(weights))

    def sentence(self) -> list[str]:
        n = self.rng.randint(10, 22)
        picked = self.rng.choices(self.vocabulary, cum_weights=self.cumulative, k=n)
        return [self.rng.choice(FILLERS) if self.rng.random() < 0.3 else w for w in picked]

    def reworded(self, words: list[str]) -> list[str]:
        """Two or three words dropped, two replaced: still the same claim to a reader."""
        changed = list(words)
        for _ in range(self.rng.randint(2, 3)):
            del changed[self.rng.randrange(len(changed))]
        for _ in range(2):
            changed[self.rng.randrange(len(changed))] = self.rng.choice(FILLERS)
        return changed


def text_of(sentences: list[list[str]]) -> tuple[str, list[tuple[int, int]]]:
    """An article's text, one claim per sentence, and each claim's span."""
    parts, spans, at = [], [], 0
    for words in sentences:
        sentence = " ".join(words).capitalize() + "."
        spans.append((at, at + len(sentence)))
        parts.append(sentence)
        at += len(sentence) + 1
    return " ".join(parts), spans


def store(project: Any, title: str, sentences: list[list[str]]) -> tuple[Any, list[Any]]:
    """An article of these sentences, with one block and a claim per sentence, written as
    the importer writes them; its ``(id, start, end)`` claim spans."""
    from claims.importer import _ids, _insert
    from claims.models import Article, Block, Claim

    text, spans = text_of(sentences)
    article = Article.objects.create(
        project=project, title=title, published_on=dt.date(2021, 10, 22), text=text, sha256=title
    )
    _insert(
        Block,
        ("article", "version", "ordinal", "kind", "start", "end"),
        [(article.pk, 1, 0, "body", 0, len(text))],
    )
    (block,) = _ids(article.blocks)
    rows = ((article.pk, block, i, s, e, "", i) for i, (s, e) in enumerate(spans, start=1))
    _insert(Claim, ("article", "block", "ordinal", "start", "end", "section", "sentence"), rows)
    ids = _ids(article.claims)
    return article, [(pk, s, e) for pk, (s, e) in zip(ids, spans, strict=True)]


def build(existing: int, new: int) -> tuple[Any, Any, list[Any], set[tuple[int, int]]]:
    """The project with ``existing`` claims indexed, the new article (not yet indexed),
    its claim spans, and the pairs planted as rewordings."""
    from claims import recurring
    from claims.importer import _insert
    from claims.models import Project

    words = Words(seed=18)
    project = Project.create("recurring-bench", "Recurring bench")
    old: list[tuple[int, list[str]]] = []
    for n in range(0, existing, PER_ARTICLE):
        sentences = [words.sentence() for _ in range(min(PER_ARTICLE, existing - n))]
        article, spans = store(project, f"Existing {n // PER_ARTICLE}", sentences)
        texts = [recurring.Text(pk, article.pk, article.text[s:e]) for pk, s, e in spans]
        recurring.index(project, texts, _insert)
        old += [(pk, sentence) for (pk, _s, _e), sentence in zip(spans, sentences, strict=True)]
    sentences, planted = [], []
    for i in range(new):
        if words.rng.random() < REWORDED:
            pk, original = words.rng.choice(old)
            sentences.append(words.reworded(original))
            planted.append((i, pk))
        else:
            sentences.append(words.sentence())
    article, spans = store(project, "The new article", sentences)
    pairs = {(min(spans[i][0], pk), max(spans[i][0], pk)) for i, pk in planted}
    return project, article, spans, pairs


def settle() -> None:
    """The existing claims as a running server keeps them: statistics gathered and, on
    PostgreSQL, the visibility map set (what autovacuum does within a minute of a bulk
    load), so that the index is read by index-only scans. Measuring straight after the
    load would time a state no established project is in (``--fresh`` does)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def measure(existing: int, new: int, runs: int, *, fresh: bool = False) -> dict[str, Any]:
    from django.db import transaction

    from claims import recurring
    from claims.importer import _insert
    from claims.models import ClaimLink

    with transaction.atomic():
        project, article, spans, planted = build(existing, new)
    if not fresh:
        settle()
    seconds, found = [], 0
    for _ in range(runs):
        with transaction.atomic():
            start = time.perf_counter()
            made = recurring.propose(project, article, spans, _insert)
            seconds.append(time.perf_counter() - start)
            proposed = set(ClaimLink.objects.values_list("claim_a_id", "claim_b_id"))
            found = len(planted & proposed)
            transaction.set_rollback(True)
    return {
        "existing_claims": existing,
        "new_claims": new,
        "runs": runs,
        "settled": not fresh,
        "median_s": round(statistics.median(seconds), 3),
        "max_s": round(max(seconds), 3),
        "proposals": made,
        "planted_rewordings": len(planted),
        "rewordings_proposed": found,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--existing", type=int, default=100_000, help="claims there (100000)")
    parser.add_argument("--new", type=int, default=2_000, help="the new article's (2000)")
    parser.add_argument("--runs", type=int, default=3, help="proposals timed (3)")
    parser.add_argument(
        "--fresh", action="store_true", help="measure straight after the bulk load (unsettled)"
    )
    options = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="claims-recurring-") as name,
        throwaway_database(Path(name)) as (engine, db_env),
    ):
        os.environ.update(child_env(Path(name)) | db_env)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        result = {"database": engine} | measure(
            options.existing, options.new, options.runs, fresh=options.fresh
        )
        print(json.dumps(result))


if __name__ == "__main__":
    main()
