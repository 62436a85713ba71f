"""The steps of ``manage.py bench`` (see ``claims.bench.run``), each run by ``manage.py
bench --step NAME`` in a child process against the throwaway database only; each returns
the JSON object the child prints."""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import re
import time
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from claims.bench import audit as bench_audit
from claims.bench import serving
from claims.bench.articles import article_text, revised_text, rewritten_text
from claims.bench.figures import FULL, QUICK, Sizes, figure, peak_mb, progress
from claims.bench.throwaway import require_throwaway
from claims.bench.views import WRITE_TABLE

SEED = Path(settings.BASE_DIR) / "seeds" / "china-brief-2021-10-22-russia-china.txt"
PUBLISHED = "2021-10-22"


def step(name: str, tmp: Path, *, quick: bool, runs: int, **options: Any) -> dict[str, Any]:
    """One step, in a child process, against the throwaway database only."""
    require_throwaway(tmp)
    sizes = QUICK if quick else FULL
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "prepare": prepare,
        "import-sample": lambda: import_sample(runs),
        "import-text": lambda: import_text_once(Path(options["text"]), options["run"]),
        "screens": lambda: screens(sizes, runs),
        "http": lambda: http_round_trips(sizes, runs, tmp),
        "audit-build": lambda: bench_audit.build(options["events"]),
        "audit-export": lambda: audit_export(tmp, options["format"]),
        "alignment": lambda: alignment(sizes.alignment_claims, runs),
    }
    if name not in steps:
        raise CommandError(f"Unknown step {name!r}.")
    return steps[name]()


def prepare() -> dict[str, Any]:
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    create_write_table()
    return {}


def create_write_table() -> None:
    """The table the minimal view writes to (``claims.bench.views``). Made with raw SQL
    in the throwaway database only, so that no migration carries a benchmark table."""
    from django.db import connection

    if connection.vendor == "sqlite":
        key, stamp = "id INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT"
    else:
        key, stamp = "id bigserial PRIMARY KEY", "timestamptz"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {WRITE_TABLE} ({key}, user_id bigint NOT NULL,"
            f" written_at {stamp} NOT NULL)"
        )


def bench_user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username)  # no password: force_login only


def import_sample(runs: int) -> dict[str, Any]:
    """The sample article through ``manage.py import_article``, in this process; each run
    into a new project (the same text again adds nothing). The first run warms up."""
    from claims.models import Claim, Project

    admin = bench_user("bench-importer")
    samples = []
    for run in range(runs + 1):
        project = Project.create(f"import-sample-{run}", "Import benchmark", admin=admin)
        started = time.perf_counter()
        call_command(
            "import_article",
            str(SEED),
            project=project.slug,
            published=PUBLISHED,
            stdout=io.StringIO(),
        )
        if run:
            samples.append((time.perf_counter() - started) * 1000)
    claims = Claim.objects.filter(article__project=project).count()
    return {"bytes": SEED.stat().st_size, "claims": claims, "ms": figure(samples)}


def import_text_once(path: Path, run: int) -> dict[str, Any]:
    from claims.models import Claim, Project

    size = path.stat().st_size
    admin = bench_user(f"bench-text-{size}-{run}")
    warm = Project.create(f"text-{size}-{run}-warm", "Warm-up", admin=admin)
    call_command(
        "import_article", str(SEED), project=warm.slug, published=PUBLISHED, stdout=io.StringIO()
    )
    project = Project.create(f"text-{size}-{run}", "Import benchmark", admin=admin)
    before = peak_mb()
    started = time.perf_counter()
    call_command(
        "import_article", str(path), project=project.slug, published=PUBLISHED, stdout=io.StringIO()
    )
    seconds = time.perf_counter() - started
    claims = Claim.objects.filter(article__project=project).count()
    return {
        "seconds": seconds,
        "claims": claims,
        "rss_before_mb": before,
        "peak_rss_mb": peak_mb(),
    }


def team_article(slug: str, claims: int, analysts: int, *, bulk: bool) -> tuple[Any, list[Any]]:
    """A project with an article of ``claims`` claims and ``analysts`` analysts who have each
    given a verdict on every claim (mostly agreeing with a per-claim truth)."""
    from claims.importer import import_article
    from claims.models import Project, Role, Verdict

    admin = bench_user(f"{slug}-admin")
    project = Project.create(slug, f"Benchmark {slug}", admin=admin)
    team = [bench_user(f"{slug}-analyst-{i + 1}") for i in range(analysts)]
    for user in team:
        project.set_member(user, Role.ANALYST, actor=admin)
    data = article_text(claims=claims).encode("utf-8")
    article, _new = import_article(
        project, data, filename=f"{slug}.txt", published_on=dt.date.fromisoformat(PUBLISHED)
    )
    rows = list(article.claims.select_related("article__project").order_by("ordinal"))
    if len(rows) != claims:
        raise CommandError(f"The generated article has {len(rows)} claims, not {claims}.")
    rng = random.Random(claims)
    statuses = ("supported", "disputed", "outdated")
    verdicts = []
    for claim in rows:
        truth = rng.choices(statuses, weights=(6, 3, 1))[0]
        for user in team:
            status = truth if rng.random() < 0.8 else rng.choice(statuses)
            if bulk:
                verdicts.append(Verdict(claim=claim, analyst=user, status=status, version=1))
            else:
                claim.set_verdict(user, status)  # the write path, event and all
    # Volume data for a read benchmark: at the large size the verdict rows are bulk-created,
    # bypassing the write path and its audit events, which these reads never touch.
    Verdict.objects.bulk_create(verdicts, batch_size=2000)
    return article, team


def timed_get(client: Any, path: str, runs: int, *, htmx: bool = False) -> dict[str, Any]:
    """Warm up, count the queries and bytes of one request, then time one per run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = {"HX-Request": "true"} if htmx else {}
    client.get(path, headers=headers)  # warm-up; the counted request is a second one
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    queries = len(captured)  # now: the next request's start clears the log it reads
    if response.status_code != 200:
        raise CommandError(f"GET {path} answered {response.status_code}.")
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
    return {"ms": figure(samples), "queries": queries, "bytes": len(response.content)}


def screens(sizes: Sizes, runs: int) -> dict[str, Any]:
    """The article screen and a claim's fragment at each size, the consensus screen and
    the statistics at the largest, and ``agreement.summarise`` alone: in-process, through
    the whole middleware stack with Django's test client."""
    from django.test import Client

    from claims.models import Claim, Member, Role
    from claims.tally import tally

    article_figures = []
    consensus: dict[str, Any] = {}
    for claims, analysts in sizes.screens:
        largest = (claims, analysts) == sizes.screens[-1]
        slug = f"screen-{claims}x{analysts}"
        progress(f"screens: building {claims} claims x {analysts} analysts")
        article, team = team_article(slug, claims, analysts, bulk=largest)
        client = Client()
        client.force_login(team[0])
        middle = article.claims.order_by("ordinal")[claims // 2]
        page = timed_get(client, f"/p/{slug}/a/{article.pk}/", runs)
        fragment = timed_get(client, f"/p/{slug}/c/{middle.pk}/", runs, htmx=True)
        article_figures.append(
            {"claims": claims, "analysts": analysts}
            | {f"page_{key}": value for key, value in page.items()}
            | {f"fragment_{key}": value for key, value in fragment.items()}
        )
        if largest:
            screen = timed_get(client, f"/p/{slug}/a/{article.pk}/consensus/", runs)
            analyst = Member(team[0], article.project, Role.ANALYST)  # as access.member_for
            claims_of = Claim.objects.filter(article=article)
            tally(claims_of, analyst)  # warm-up
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                tally(claims_of, analyst)
                samples.append((time.perf_counter() - started) * 1000)
            consensus = {"claims": claims, "analysts": analysts}
            consensus |= {f"page_{key}": value for key, value in screen.items()}
            consensus["statistics_ms"] = figure(samples)
    consensus |= summarise_alone(*sizes.statistics, runs)
    return {
        "article": article_figures,
        "consensus": consensus,
        "long_articles": [first_screen(claims, runs) for claims in sizes.long_articles],
    }


def first_screen(claims: int, runs: int) -> dict[str, Any]:
    """The first screen of a long article: the page a reader opens (its first claims, the
    rest loaded as they scroll) and the next page as htmx asks for it."""
    from django.test import Client

    from claims.importer import import_article
    from claims.models import Project, Role

    slug = f"long-{claims}"
    progress(f"screens: the first screen of a {claims:,}-claim article")
    admin = bench_user(f"{slug}-admin")
    project = Project.create(slug, f"Benchmark {slug}", admin=admin)
    analyst = bench_user(f"{slug}-analyst")
    project.set_member(analyst, Role.ANALYST, actor=admin)
    data = article_text(claims=claims).encode("utf-8")
    published = dt.date.fromisoformat(PUBLISHED)
    article, _ = import_article(project, data, filename=f"{slug}.txt", published_on=published)
    client = Client()
    client.force_login(analyst)
    path = f"/p/{slug}/a/{article.pk}/"
    first = timed_get(client, path, runs)
    # The next page as the reader's scroll asks for it: the link at the first page's end.
    html = client.get(path).content.decode()
    found = re.search(r'data-page="next" href="([^"]+)"', html)
    if found is None:
        raise CommandError(f"The first page of {path} links to no next page.")
    following = timed_get(client, path + unescape(found.group(1)), runs, htmx=True)
    return {"claims": article.claims.count()} | {
        f"{name}_{key}": value
        for name, figures in (("first_page", first), ("next_page", following))
        for key, value in figures.items()
    }


def summarise_alone(claims: int, analysts: int, runs: int) -> dict[str, Any]:
    from claims import agreement

    rng = random.Random(claims)
    statuses = ("supported", "disputed", "outdated")
    raters = [f"analyst-{i + 1}" for i in range(analysts)]
    table: list[list[str | None]] = []
    majority: list[str | None] = []
    for _ in range(claims):
        truth = rng.choices(statuses, weights=(6, 3, 1))[0]
        table.append([truth if rng.random() < 0.8 else rng.choice(statuses) for _ in raters])
        majority.append(truth)
    agreement.summarise(table[:100], raters, majority[:100])  # warm-up
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        agreement.summarise(table, raters, majority)
        samples.append((time.perf_counter() - started) * 1000)
    return {"summarise_verdicts": claims * analysts, "summarise_ms": figure(samples)}


def http_round_trips(sizes: Sizes, runs: int, tmp: Path) -> dict[str, Any]:
    """gunicorn against the throwaway database; logged-in analysts' verdict changes and
    the minimal one-row view, from 1 and from ``sizes.clients`` concurrent clients."""
    from django.db import connections
    from django.test import Client

    from claims.importer import import_article
    from claims.models import Project, Role

    admin = bench_user("round-trip-admin")
    project = Project.create("round-trip", "Round-trip benchmark", admin=admin)
    data = article_text(claims=sizes.round_trip_claims).encode("utf-8")
    published = dt.date.fromisoformat(PUBLISHED)
    article, _ = import_article(project, data, filename="rt.txt", published_on=published)
    claim_ids = list(article.claims.order_by("ordinal").values_list("pk", flat=True))
    analysts = []
    for i in range(sizes.clients):
        # Each client its own analyst, so that their verdicts' versions never collide.
        user = bench_user(f"round-trip-analyst-{i + 1}")
        project.set_member(user, Role.ANALYST, actor=admin)
        client = Client()
        client.force_login(user)  # a real session row; no password hashing in the set-up
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        cookies = {settings.SESSION_COOKIE_NAME: session}
        analysts.append(serving.Analyst(user.username, project.slug, claim_ids, cookies))
    connections.close_all()  # the client processes are forked from this one
    with serving.Gunicorn(dict(os.environ), tmp / "gunicorn.log") as server:
        samples = serving.round_trips(
            server.port,
            analysts,
            runs=runs,
            seconds=sizes.window_s,
            warmup=sizes.warmup,
            memory=server.memory,
            progress=progress,
        )
        workers = len(server.workers())
    n = sizes.clients
    figures = {
        name: figure(values, 1 if name.endswith(("per_s", "_mb")) else 2)
        for name, values in samples.items()
    }
    memory = {name: figures.pop(name) for name in ("worker_rss_mb", "app_rss_mb", "app_pss_mb")}
    verdict_ms = figures["verdict_one_client_ms"]["median"]
    round_trip = {
        "gunicorn_workers": workers,
        "gunicorn_threads": int(os.environ.get("GUNICORN_THREADS", "4")),
        "clients": n,
        "window_s": sizes.window_s,
        **figures,
        "ratio_one_client_ms": round(verdict_ms / figures["minimal_one_client_ms"]["median"], 2),
        f"ratio_{n}_clients_per_s": round(
            figures[f"minimal_{n}_clients_per_s"]["median"]
            / figures[f"verdict_{n}_clients_per_s"]["median"],
            2,
        ),
    }
    return {"round_trip": round_trip, "memory": memory}


def audit_export(tmp: Path, fmt: str) -> dict[str, Any]:
    """bench_audit's own signed export (JSON Lines) or CSV export, as ``bench_audit`` runs it."""
    return bench_audit.export(tmp) if fmt == "jsonl" else bench_audit.export_csv(tmp)


def alignment(claims: int, runs: int) -> dict[str, Any]:
    """``claims.alignment.align`` on an article of ``claims`` claims and a revision of it
    (about 5 % of its claims edited, 2 % removed, 2 % added, a paragraph moved), and on a
    rewrite of every claim (the worst case: nothing pairs, so each claim is compared with
    a window of the others). Both texts segmented as an import would, outside the timing.
    ``expected`` is what the revision did; ``wrong`` counts pairs it did not make."""
    from claims import alignment
    from claims.importer import prepare

    published = dt.date.fromisoformat(PUBLISHED)

    def claims_of(text: str) -> tuple[str, tuple[alignment.Span, ...]]:
        prepared = prepare(text.encode("utf-8"), filename="bench.txt", published_on=published)
        offsets = [(claim.start, claim.end) for claim in prepared.segmentation.claims]
        return prepared.text, alignment.spans(prepared.text, offsets)

    old_text = article_text(claims=claims)
    revised, origins = revised_text(old_text)
    old, new, rewrite = claims_of(old_text), claims_of(revised), claims_of(rewritten_text(old_text))
    if len(new[1]) != len(origins):
        raise CommandError(f"The revision has {len(new[1])} claims, not {len(origins)}.")
    truth = {was: index for index, (was, _) in enumerate(origins) if was is not None}
    found = alignment.align(*old, *new)
    samples: dict[str, list[float]] = {"ms": [], "rewrite_ms": []}
    for _ in range(runs):
        for name, other in (("ms", new), ("rewrite_ms", rewrite)):
            started = time.perf_counter()
            alignment.align(*old, *other)
            samples[name].append((time.perf_counter() - started) * 1000)
    return {
        "claims": claims,
        "new_claims": len(new[1]),
        "counts": found.counts,
        "expected": {
            "edited": sum(edited for _, edited in origins),
            "removed": claims - len(truth),
            "added": len(origins) - len(truth),
        },
        "wrong": sum(truth.get(pair.old) != pair.new for pair in found.pairs),
    } | {name: figure(values) for name, values in samples.items()}
