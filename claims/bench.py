"""``manage.py bench``: the performance figures of issue 7, measured on throwaway data.

The parent (:func:`run`) never opens the user's database. It makes a throwaway one (a
temporary SQLite file, or ``claims_bench_<pid>`` on the PostgreSQL server that
``DATABASE_URL`` names, dropped at the end) and runs each step as ``manage.py bench --step
...`` in a child process whose environment points there, with DEBUG off and static files
collected, as in production. Each child prints one JSON line; the parent folds them into
the one object the command prints. Serving and HTTP live in ``claims.bench_http``.

Every figure is ``{"median", "p95", "n"}``: ``n`` samples, one per run, except request
latencies, which pool every timed request of every run. The p95 is the nearest rank, so
with five samples it is the largest. Nothing is timed before a warm-up, and no set-up is
inside a timing.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import importlib.metadata
import io
import json
import os
import platform
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import django
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from claims import bench_http
from claims.views.bench import WRITE_TABLE

ROOT = Path(settings.BASE_DIR)
SEED = ROOT / "seeds" / "china-brief-2021-10-22-russia-china.txt"
PUBLISHED = "2021-10-22"
PG_PREFIX = "claims_bench_"
MB = 1024 * 1024


@dataclass(frozen=True)
class Sizes:
    texts: tuple[int, ...]  # bytes of each generated text to import
    screens: tuple[tuple[int, int], ...]  # (claims, analysts) of each article screen
    statistics: tuple[int, int]  # (claims, analysts) for agreement.summarise alone
    round_trip_claims: int  # claims each round-trip client cycles through
    clients: int  # concurrent clients of the round trip
    window_s: float  # each round-trip phase's timed window
    warmup: int  # requests per client and view before the round-trip runs
    audit_events: int


FULL = Sizes((MB, 10 * MB), ((100, 3), (2000, 10)), (10_000, 10), 100, 4, 3.0, 50, 1_000_000)
QUICK = Sizes((16 * 1024, 64 * 1024), ((20, 3), (60, 10)), (500, 10), 10, 4, 0.3, 3, 5_000)


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def figure(samples: list[float], digits: int = 2) -> dict[str, Any]:
    ordered = sorted(samples)
    rank = max(0, -(-95 * len(ordered) // 100) - 1)
    return {
        "median": round(statistics.median(ordered), digits),
        "p95": round(ordered[rank], digits),
        "n": len(ordered),
    }


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ``ru_maxrss``: on Linux a child
    started by fork and exec inherits its parent's high-water mark there, so a small
    child of a large parent would report the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc/self/status")


# Runs a script as ``python script args`` would, then reports its peak memory on stderr.
PEAK_WRAPPER = """
import runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
    print("VmHWM", hwm[0].split()[1], file=sys.stderr)
"""


# -- The parent ---------------------------------------------------------------------------


def run(
    *, quick: bool, runs: int, workers: int | None, threads: int | None, clone: bool
) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="claims-bench-") as name,
        throwaway_database(Path(name)) as (engine, db_env),
    ):
        tmp = Path(name)
        env = child_env(tmp) | db_env
        if workers:
            env["GUNICORN_WORKERS"] = str(workers)
        if threads:
            env["GUNICORN_THREADS"] = str(threads)
        steps = Steps(tmp, env, quick, runs)
        result: dict[str, Any] = {
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "cores": os.cpu_count(),
            "database": engine,
            "python": platform.python_version(),
            "django": django.get_version(),
            "quick": quick,
            "runs": runs,
        }
        progress(f"throwaway {engine} database; migrating and collecting static files")
        steps("prepare")
        progress("import of the sample article")
        result["import"] = {"sample": steps("import-sample")}
        screens = steps("screens")
        result["article_screen"], result["consensus"] = screens["article"], screens["consensus"]
        progress("round trips: building the data, starting gunicorn")
        served = steps("http")
        result["round_trip"] = served["round_trip"]
        result["import"]["texts"] = [import_text(steps, tmp, size, runs) for size in sizes.texts]
        result["audit"] = audit(steps, tmp, env, sizes.audit_events, runs)
    result["footprint"] = served["memory"] | venv_figures()
    result["skipped"] = {}
    if quick or not clone:
        result["footprint"]["fresh_clone"] = None
        why = "--quick" if quick else "--skip-clone"
        result["skipped"]["footprint.fresh_clone"] = (
            f"skipped with {why}: it clones the repository and installs a new venv (minutes)"
        )
    else:
        result["footprint"]["fresh_clone"] = fresh_clone(runs)
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


@contextlib.contextmanager
def throwaway_database(tmp: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A temporary SQLite file, or a PostgreSQL database dropped at the end (and any left
    by an earlier bench whose process is gone, say when the server went down mid-run)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield "sqlite", {"SQLITE_PATH": str(tmp / "bench.sqlite3")}
        return
    import psycopg
    from psycopg import sql

    def drop(conn: psycopg.Connection, name: str) -> None:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    name = f"{PG_PREFIX}{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        found = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [PG_PREFIX + "%"]
        )
        for (stale,) in found.fetchall():
            pid = stale.removeprefix(PG_PREFIX)
            if pid.isdigit() and Path("/proc/self").exists() and not Path(f"/proc/{pid}").exists():
                drop(conn, stale)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield "postgresql", {"DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}"))}
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            drop(conn, name)


def child_env(tmp: Path) -> dict[str, str]:
    """Production settings on plain-HTTP loopback, pointed at the throwaway database."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return bench_http.loopback_env(
        # As in production: with DEBUG on, Django would keep every query's SQL.
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        CLAIMS_VAR_DIR=str(tmp),
        CLAIMS_SIGNING_KEY=base64.b64encode(key).decode("ascii"),
        CLAIMS_BENCH="1",  # serves the minimal one-row view
    )


class Steps:
    """Runs ``manage.py bench --step NAME`` in a child process; its JSON result."""

    def __init__(self, tmp: Path, env: dict[str, str], quick: bool, runs: int) -> None:
        self.tmp, self.env, self.quick, self.runs = tmp, env, quick, runs

    def __call__(self, step: str, *args: str) -> dict[str, Any]:
        command = [sys.executable, str(ROOT / "manage.py"), "bench", "--step", step]
        command += ["--dir", str(self.tmp), "--runs", str(self.runs), *args]
        if self.quick:
            command.append("--quick")
        done = subprocess.run(
            command, cwd=ROOT, env=self.env, stdout=subprocess.PIPE, text=True, check=False
        )
        if done.returncode != 0:
            raise CommandError(f"bench step {step} failed (exit {done.returncode}); see above.")
        return json.loads(done.stdout.strip().splitlines()[-1])


def import_text(steps: Steps, tmp: Path, size: int, runs: int) -> dict[str, Any]:
    """Each run in its own process, so that its peak memory is its own."""
    path = tmp / f"generated-{size}.txt"
    path.write_text(article_text(size=size), encoding="utf-8")
    done = []
    for run in range(runs):
        progress(f"import of {path.stat().st_size:,} bytes, run {run + 1} of {runs}")
        done.append(steps("import-text", "--text", str(path), "--run", str(run)))
    return {
        "bytes": path.stat().st_size,
        "claims": done[0]["claims"],
        "seconds": figure([d["seconds"] for d in done], 3),
        "claims_per_s": figure([d["claims"] / d["seconds"] for d in done], 0),
        "peak_mb": figure([d["peak_rss_mb"] - d["rss_before_mb"] for d in done], 1),
        "peak_rss_mb": figure([d["peak_rss_mb"] for d in done], 1),
    }


def audit(steps: Steps, tmp: Path, env: dict[str, str], events: int, runs: int) -> dict[str, Any]:
    """bench_audit's own build and signed export, a CSV export, and its verifier run as a
    user runs it; each export in its own process, for its own peak memory."""
    from claims.management.commands.bench_audit import EXPORT_NAME, KEY_NAME

    progress(f"audit: building {events:,} events")
    steps("audit-build", "--events", str(events))
    samples: dict[str, list[float]] = {}
    verifier = ROOT / "claims" / "verify_export.py"
    for run in range(runs):
        progress(f"audit: exports and verification, run {run + 1} of {runs}")
        for fmt in ("jsonl", "csv"):
            done = steps("audit-export", "--format", fmt)
            samples.setdefault(f"{fmt}_events_per_s", []).append(done["export_events_per_s"])
            samples.setdefault(f"{fmt}_peak_mb", []).append(done["export_peak_rss_mb"])
        command = [sys.executable, "-c", PEAK_WRAPPER, str(verifier), str(tmp / EXPORT_NAME)]
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "--public-key", str(tmp / KEY_NAME)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise CommandError(f"verify_export.py failed:\n{done.stderr.strip()}")
        count = int(re.search(r", (\d+) events", done.stdout).group(1))  # type: ignore[union-attr]
        peak = int(re.search(r"VmHWM (\d+)", done.stderr).group(1)) / 1024  # type: ignore[union-attr]
        samples.setdefault("verify_events_per_s", []).append(count / seconds)
        samples.setdefault("verify_peak_mb", []).append(peak)
    return {"events": events} | {
        name: figure(values, 0 if name.endswith("per_s") else 1) for name, values in samples.items()
    }


def venv_figures() -> dict[str, Any]:
    """The venv on disk (``du`` of sys.prefix) and its packages; and the runtime install:
    the packages that pyproject's dependencies pull in, without the dev extras."""
    seen: set[tuple[int, int]] = set()
    blocks = 0
    for folder, _dirs, files in os.walk(sys.prefix):
        for name in files:
            stat = os.lstat(os.path.join(folder, name))
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                blocks += stat.st_blocks
    names = {_canonical(d.metadata["Name"]) for d in importlib.metadata.distributions()}
    runtime = runtime_distributions()
    runtime_bytes = sum(
        path.stat().st_size
        for dist in runtime.values()
        for file in dist.files or []
        if (path := Path(str(dist.locate_file(file)))).is_file()
    )
    return {
        "venv_mb": round(blocks * 512 / MB, 1),
        "venv_packages": len(names),
        "runtime_mb": round(runtime_bytes / MB, 1),
        "runtime_packages": len(runtime),
        "runtime_package_names": sorted(runtime),
    }


def runtime_distributions() -> dict[str, importlib.metadata.Distribution]:
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(text) for text in project["dependencies"]]
    found: dict[str, importlib.metadata.Distribution] = {}
    extras: dict[str, set[str]] = {}
    while wanted:
        requirement = wanted.pop()
        key = _canonical(requirement.name)
        asked = set(requirement.extras)
        if key in found and asked <= extras[key]:
            continue
        try:
            dist = importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            continue
        found[key] = dist
        extras[key] = extras.get(key, set()) | asked
        for text in dist.requires or []:
            needed = Requirement(text)
            if needed.marker is None or any(
                needed.marker.evaluate({"extra": extra}) for extra in {"", *extras[key]}
            ):
                wanted.append(needed)
    return found


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def fresh_clone(runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="claims-clone-") as name:
        setup, timings = bench_http.fresh_clone(Path(name), runs, progress)
    serving = [t["migrate_s"] + t["demo_first_page_s"] for t in timings]
    return setup | {
        "setup_s": round(setup["setup_s"], 1),
        "migrate_s": figure([t["migrate_s"] for t in timings]),
        "demo_first_page_s": figure([t["demo_first_page_s"] for t in timings]),
        "migrate_to_first_page_s": figure(serving),
        "total_s": round(setup["setup_s"] + statistics.median(serving), 1),
    }


# -- Generated articles -------------------------------------------------------------------

SUBJECTS = ("The ministry", "The regional council", "A state agency", "The central bank")
SUBJECTS += ("The port authority", "The defence ministry", "A provincial court", "The envoy")
VERBS = ("reported", "announced", "confirmed", "denied", "published", "approved", "rejected")
OBJECTS = ("a new grain quota", "higher gas exports", "the border agreement", "a rail project")
OBJECTS += ("fresh tariff rules", "the joint exercise", "a loan package", "the pipeline deal")
OUTLETS = ("Xinhua", "Kremlin.ru", "TASS", "Global Times", "Interfax", "Mid.ru")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")
PARAGRAPH = 8  # sentences per paragraph
SECTION = 20 * PARAGRAPH  # sentences per section


def article_text(*, claims: int = 0, size: int = 0) -> str:
    """A title, then sections of paragraphs of short sentences, each one claim (every third
    with a parenthetical citation): ``claims`` sentences, or at least ``size`` characters."""
    rng = random.Random(7)
    lines = ["A Generated Article for the Benchmark", ""]
    length = n = 0
    while (n < claims) if claims else (length < size):
        if n % SECTION == 0:
            lines += [f"Part {n // SECTION + 1} of the record", ""]
        count = min(PARAGRAPH, claims - n) if claims else PARAGRAPH
        sentences = []
        for i in range(n, n + count):
            cited = f" ({rng.choice(OUTLETS)}, {rng.choice(MONTHS)} {rng.randint(1, 28)})"
            sentences.append(
                f"{rng.choice(SUBJECTS)} of district {i + 1} {rng.choice(VERBS)} "
                f"{rng.choice(OBJECTS)}{cited if i % 3 == 0 else ''}."
            )
        paragraph = " ".join(sentences)
        lines += [paragraph, ""]
        length += len(paragraph) + 2
        n += count
    return "\n".join(lines)


# -- The children -------------------------------------------------------------------------


def step(name: str, tmp: Path, *, quick: bool, runs: int, **options: Any) -> dict[str, Any]:
    """One step, in a child process, against the throwaway database only."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        ours = Path(str(database["NAME"])).resolve().parent == tmp.resolve()
    else:
        ours = str(database["NAME"]).startswith(PG_PREFIX)
    if not ours:
        raise CommandError("--step runs only against the benchmark's throwaway database.")
    sizes = QUICK if quick else FULL
    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "prepare": prepare,
        "import-sample": lambda: import_sample(runs),
        "import-text": lambda: import_text_once(Path(options["text"]), options["run"]),
        "screens": lambda: screens(sizes, runs),
        "http": lambda: http_round_trips(sizes, runs, tmp),
        "audit-build": lambda: _bench_audit().build(options["events"]),
        "audit-export": lambda: audit_export(tmp, options["format"]),
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
    """The table the minimal view writes to (``claims/views/bench.py``). Made with raw SQL
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

    from claims.models import Claim, Role
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
            project = article.project
            project.my_role = Role.ANALYST  # as access.project_for sets it
            claims_of = Claim.objects.filter(article=article)
            tally(claims_of, project, team[0])  # warm-up
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                tally(claims_of, project, team[0])
                samples.append((time.perf_counter() - started) * 1000)
            consensus = {"claims": claims, "analysts": analysts}
            consensus |= {f"page_{key}": value for key, value in screen.items()}
            consensus["statistics_ms"] = figure(samples)
    consensus |= summarise_alone(*sizes.statistics, runs)
    return {"article": article_figures, "consensus": consensus}


def summarise_alone(claims: int, analysts: int, runs: int) -> dict[str, Any]:
    from claims import agreement

    rng = random.Random(claims)
    statuses = ("supported", "disputed", "outdated")
    raters = [f"analyst-{i + 1}" for i in range(analysts)]
    table, majority = [], []
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
        analysts.append(bench_http.Analyst(user.username, project.slug, claim_ids, cookies))
    connections.close_all()  # the client processes are forked from this one
    with bench_http.Gunicorn(dict(os.environ), tmp / "gunicorn.log") as server:
        samples = bench_http.round_trips(
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


def _bench_audit() -> Any:
    from claims.management.commands.bench_audit import Command as BenchAudit

    return BenchAudit()


def audit_export(tmp: Path, fmt: str) -> dict[str, Any]:
    """bench_audit's own signed export (JSON Lines), or the same measured for CSV."""
    if fmt == "jsonl":
        # Its figures, but peak memory as VmHWM (see peak_mb: its ru_maxrss counts ours).
        return _bench_audit().export(tmp) | {"export_peak_rss_mb": peak_mb()}
    from claims.audit_export import start_export
    from claims.management.commands.bench_audit import SLUG, per_second
    from claims.models import Project

    project = Project.objects.get(slug=SLUG)
    before = peak_mb()
    started = time.perf_counter()
    export = start_export(project, "csv", actor=None)
    with (tmp / "export.csv").open("w", encoding="utf-8", newline="") as handle:
        for chunk in export.chunks:
            handle.write(chunk)
    seconds = time.perf_counter() - started
    return {
        "export_seconds": round(seconds, 2),
        "export_events_per_s": per_second(export.count, seconds),
        "export_peak_rss_mb": peak_mb(),
        "export_rss_before_mb": before,
    }
