"""python -m claims.bench.search [--claims N] [--runs N]: full-text search over a project's
claims (``claims.search.search``, as the claim register calls it: the best 50 matches,
ranked, with their highlighted fragments). Target: 100,000 claims, 50 ms or less median
on PostgreSQL.

The claims are generated (seeded): sentences of 8 to 20 words drawn from a vocabulary of
20,000 made-up words by a Zipf law, as natural language spreads its words, imported as
articles of 2,000 claims through the importer (so the index is built by its triggers, as
in use), with a verdict rationale on every tenth claim and evidence on every twentieth,
written in bulk (the triggers again). Queries mix rare and common words, two words, a
phrase, OR and an exclusion; each is timed for a member who sees the team's work and for
an analyst of a blind project (their own work only). It works in a throwaway database:
a PostgreSQL database of its own when DATABASE_URL is set, else a temporary SQLite file.

Prints one JSON object: the database, the number of claims, the build time, and the
median and p95 milliseconds per search, overall and per kind of query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from claims.bench.figures import figure, progress
from claims.bench.throwaway import child_env, throwaway_database

PER_ARTICLE = 2_000
VOCABULARY = 20_000
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def word(rank: int) -> str:
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
        self.weights = [1 / (rank + 1) ** 1.05 for rank in range(VOCABULARY)]

    def sentence(self) -> str:
        words = self.rng.choices(self.vocabulary, self.weights, k=self.rng.randint(8, 20))
        return " ".join(words).capitalize() + "."


def article(words: Words, number: int) -> str:
    """A title, then paragraphs of eight sentences (one claim each)."""
    lines = [f"Generated article {number}", ""]
    for start in range(0, PER_ARTICLE, 8):
        lines += [" ".join(words.sentence() for _ in range(8)), ""]
        if start % 160 == 0:
            lines += [f"Part {start // 160 + 1}", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=100_000, help="claims (100,000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each query (5)")
    options = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="claims-bench-search-") as name,
        throwaway_database(Path(name)) as (engine, db_env),
    ):
        os.environ.update(child_env(Path(name)) | db_env)  # this process works there too
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        started = time.perf_counter()
        members = build(options.claims)
        built = time.perf_counter() - started
        result: dict[str, Any] = {"database": engine, "claims": options.claims}
        result["build_seconds"] = round(built, 1)
        result |= measure(members, options.runs)
    print(json.dumps(result, indent=2))


def build(claims: int) -> dict[str, Any]:
    """The project, its articles (through the importer), rationales and evidence (in
    bulk); the members who search it."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from claims.importer import import_prepared, prepare
    from claims.models import Member, Project, Role

    users = get_user_model().objects
    admin, analyst = users.create_user("bench-admin"), users.create_user("bench-analyst")
    project = Project.create("search-bench", "Search bench", admin=admin, blind=True)
    project.set_member(analyst, Role.ANALYST, actor=admin)
    words = Words(11)
    for number in range(1, claims // PER_ARTICLE + 1):
        progress(f"importing article {number} of {claims // PER_ARTICLE}")
        prepared = prepare(
            article(words, number).encode(), filename=f"a{number}.txt", published_on=dt.date.today()
        )
        import_prepared(project, prepared, actor=admin)
    progress("rationales and evidence, in bulk")
    now = dt.datetime.now(dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM claims_claim ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
        # A statement per thousand rows, as a bulk loader writes them: each fires the
        # index's triggers once.
        verdicts: list[tuple[Any, ...]] = [
            (pk, admin.pk, words.sentence(), now, now) for pk in ids[::10]
        ]
        evidence: list[tuple[Any, ...]] = [
            (pk, words.sentence(), words.sentence(), analyst.pk, now) for pk in ids[::20]
        ]
        for start in range(0, len(verdicts), 1000):
            rows = verdicts[start : start + 1000]
            cursor.execute(
                "INSERT INTO claims_verdict (claim_id, analyst_id, status, rationale, version,"
                " updated_at, after_seeing_team, checked_at) VALUES "
                + ", ".join(["(%s, %s, 'disputed', %s, 1, %s, false, %s)"] * len(rows)),
                [value for row in rows for value in row],
            )
        for start in range(0, len(evidence), 1000):
            rows = evidence[start : start + 1000]
            cursor.execute(
                "INSERT INTO claims_evidence (claim_id, url, title, stance, quote, note,"
                " added_by_id, added_at) VALUES "
                + ", ".join(
                    ["(%s, 'https://example.org/', %s, 'supports', %s, '', %s, %s)"] * len(rows)
                ),
                [value for row in rows for value in row],
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "team": Member(admin, project, Role.ADMIN),
        "blind analyst": Member(analyst, project, Role.ANALYST),
    }


def queries() -> dict[str, str]:
    """Queries of each kind, from the generator's vocabulary (ranks: lower is commoner)."""
    w = word
    return {
        "common word": w(3),
        "mid word": w(200),
        "rare word": w(5000),
        "two words": f"{w(10)} {w(40)}",
        "phrase": f'"{w(1)} {w(2)}"',
        "or": f"{w(300)} OR {w(400)}",
        "exclusion": f"{w(20)} -{w(5)}",
    }


def measure(members: dict[str, Any], runs: int) -> dict[str, Any]:
    from claims import search

    timings: dict[str, list[float]] = {}
    found: dict[str, int] = {}
    for who, member in members.items():
        for kind, text in queries().items():
            query = search.parse(text)
            search.search(member, query)  # warm-up
            for _ in range(runs):
                started = time.perf_counter()
                hits = search.search(member, query)
                elapsed = (time.perf_counter() - started) * 1000
                timings.setdefault("all", []).append(elapsed)
                timings.setdefault(f"{who}: {kind}", []).append(elapsed)
            found[f"{who}: {kind}"] = len(hits)
    return {
        "ms": {name: figure(samples, digits=1) for name, samples in timings.items()},
        "hits on the first page": found,
    }


if __name__ == "__main__":
    main()
