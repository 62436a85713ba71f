"""python -m claims.bench.import_split [--runs N] [--mb 1 10] [--command]: where the time
of an import goes.

``manage.py bench`` times the whole ``import_article`` command. This splits an import of
the same generated text into its two halves: preparing (decode and segment, no database)
and storing (``import_prepared``: the rows and the event, in one transaction), in this
process, each run into a new project after one unmeasured warm-up. With ``--command`` it
first runs ``manage.py bench``'s own import steps (a child process per run), whose figures
are the ones the bench reports. Like the bench it works in a throwaway database: a
temporary SQLite file, or a PostgreSQL database of its own when DATABASE_URL is set.

Prints one JSON object: per size, the median and p95 seconds of each half, of both, and
the CPU seconds of both (steadier than the wall clock on a busy machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from claims.bench.articles import article_text
from claims.bench.figures import MB, figure, progress
from claims.bench.throwaway import child_env, throwaway_database

PUBLISHED = dt.date(2021, 10, 22)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="imports per size (5)")
    parser.add_argument("--mb", type=float, nargs="+", default=[1, 10], help="sizes (1 10)")
    parser.add_argument("--command", action="store_true", help="also the bench's own steps")
    options = parser.parse_args()
    sizes = [int(mb * MB) for mb in options.mb]
    with (
        tempfile.TemporaryDirectory(prefix="claims-import-split-") as name,
        throwaway_database(Path(name)) as (engine, db_env),
    ):
        env = child_env(Path(name)) | db_env
        os.environ.update(env)  # this process works in the throwaway database too
        import django

        django.setup()
        from django.core.management import call_command

        result: dict[str, Any] = {"database": engine, "runs": options.runs}
        if options.command:
            from claims.bench import run

            steps = run.Steps(Path(name), env, quick=False, runs=options.runs)
            steps("prepare")
            result["command"] = [run.import_text(steps, Path(name), s, options.runs) for s in sizes]
        else:
            call_command("migrate", interactive=False, verbosity=0)
        result["split"] = [split(size, options.runs) for size in sizes]
    print(json.dumps(result, indent=2))


def split(size: int, runs: int) -> dict[str, Any]:
    """``runs`` imports of a generated text of ``size`` bytes, each into a new project,
    after one unmeasured warm-up import."""
    from django.contrib.auth import get_user_model

    from claims.importer import import_prepared, prepare
    from claims.models import Project

    data = article_text(size=size).encode("utf-8")
    admin = get_user_model().objects.create_user(f"split-{size}")
    halves: dict[str, list[float]] = {"prepare": [], "store": [], "total": [], "cpu": []}
    claims = 0
    for run in range(runs + 1):
        progress(f"split import of {len(data):,} bytes, run {run} of {runs} (0: warm-up)")
        project = Project.create(f"split-{size}-{run}", "Import split", admin=admin)
        started, cpu = time.perf_counter(), time.process_time()
        prepared = prepare(data, filename="generated.txt", published_on=PUBLISHED)
        segmented = time.perf_counter()
        import_prepared(project, prepared, actor=admin)
        stored = time.perf_counter()
        claims = len(prepared.segmentation.claims)
        if run:
            halves["prepare"].append(segmented - started)
            halves["store"].append(stored - segmented)
            halves["total"].append(stored - started)
            halves["cpu"].append(time.process_time() - cpu)
    seconds = {half: figure(samples, digits=3) for half, samples in halves.items()}
    return {"bytes": len(data), "claims": claims, "seconds": seconds}


if __name__ == "__main__":
    main()
