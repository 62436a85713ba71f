"""``manage.py bench``: the performance figures, measured on throwaway data.

The parent (:func:`run`) never opens the user's database. It makes a throwaway one
(``claims.bench.throwaway``) and runs each step (``claims.bench.steps``) as ``manage.py
bench --step ...`` in a child process whose environment points there, with DEBUG off,
static files collected and the bench's settings (production's, plus its one-row view), as
in production. Each child prints one JSON line; the parent folds them into the one object
the command prints. Serving and HTTP live in ``claims.bench.serving``.

Every figure is ``{"median", "p95", "n"}``: ``n`` samples, one per run, except request
latencies, which pool every timed request of every run. The p95 is the nearest rank, so
with five samples it is the largest. Nothing is timed before a warm-up, and no set-up is
inside a timing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.management.base import CommandError

from claims.bench import audit as bench_audit
from claims.bench import serving
from claims.bench.articles import article_text
from claims.bench.figures import FULL, MB, QUICK, figure, progress, shown_as_bar
from claims.bench.throwaway import child_env, throwaway_database

ROOT = Path(settings.BASE_DIR)


def run(
    *, quick: bool, runs: int, workers: int | None, threads: int | None, clone: bool
) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    started = time.perf_counter()
    with (
        contextlib.ExitStack() as stack,
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
        # The progress() calls below, counted: one bar on a terminal.
        phases = 5 + len(sizes.texts) * runs + runs
        steps.bar = stack.enter_context(shown_as_bar(phases))
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
        result["long_article_first_screen"] = screens["long_articles"]
        progress("round trips: building the data, starting gunicorn")
        served = steps("http")
        result["round_trip"] = served["round_trip"]
        result["import"]["texts"] = [import_text(steps, tmp, size, runs) for size in sizes.texts]
        progress(f"alignment of a revision of a {sizes.alignment_claims:,}-claim article")
        result["alignment"] = steps("alignment")
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


class Steps:
    """Runs ``manage.py bench --step NAME`` in a child process; its JSON result."""

    def __init__(self, tmp: Path, env: dict[str, str], quick: bool, runs: int) -> None:
        self.tmp, self.env, self.quick, self.runs = tmp, env, quick, runs
        # Under the parent's bar, a child's own lines would break it: they are kept, and
        # shown only if the child fails.
        self.bar = False

    def __call__(self, step: str, *args: str) -> dict[str, Any]:
        command = [sys.executable, str(ROOT / "manage.py"), "bench", "--step", step]
        command += ["--dir", str(self.tmp), "--runs", str(self.runs), *args]
        if self.quick:
            command.append("--quick")
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if self.bar else None,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            if self.bar:
                sys.stderr.write("\n" + done.stderr)
            raise CommandError(f"bench step {step} failed (exit {done.returncode}); see above.")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


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
    """bench_audit's own build, signed export, CSV export and verifier run as a user runs
    it; each export in its own process, for its own peak memory."""
    progress(f"audit: building {events:,} events")
    steps("audit-build", "--events", str(events))
    samples: dict[str, list[float]] = {}
    for run in range(runs):
        progress(f"audit: exports and verification, run {run + 1} of {runs}")
        for fmt, prefix in (("jsonl", "export"), ("csv", "csv_export")):
            done = steps("audit-export", "--format", fmt)
            samples.setdefault(f"{fmt}_events_per_s", []).append(done[f"{prefix}_events_per_s"])
            samples.setdefault(f"{fmt}_peak_mb", []).append(done[f"{prefix}_peak_rss_mb"])
        summary, seconds, peak = bench_audit.verify(tmp, env)
        count = int(re.search(r", (\d+) events", summary).group(1))  # type: ignore[union-attr]
        samples.setdefault("verify_events_per_s", []).append(count / seconds)
        samples.setdefault("verify_peak_mb", []).append(peak)  # type: ignore[arg-type]
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
        setup, timings = serving.fresh_clone(Path(name), runs, progress)
    first_page = [t["migrate_s"] + t["demo_first_page_s"] for t in timings]
    return setup | {
        "setup_s": round(setup["setup_s"], 1),
        "migrate_s": figure([t["migrate_s"] for t in timings]),
        "demo_first_page_s": figure([t["demo_first_page_s"] for t in timings]),
        "migrate_to_first_page_s": figure(first_page),
        "total_s": round(setup["setup_s"] + statistics.median(first_page), 1),
    }
