"""python manage.py bench [--quick] [--runs N] [--output FILE]: the performance figures.

Builds its own data in a throwaway database (a temporary SQLite file, or a PostgreSQL
database of its own when DATABASE_URL is set) and prints one JSON object; progress goes
to stderr. The measuring is in ``claims.bench`` (``run``: the parent; ``steps``: each
step, run by this command with ``--step`` in a child process).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.bench import run, steps


class Command(BaseCommand):
    help = "Measure import, verdict round trip, screens, consensus, audit export and footprint."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quick", action="store_true", help="tiny sizes and 2 runs (CI)")
        parser.add_argument("--runs", type=int, help="runs per figure (5; 2 with --quick)")
        parser.add_argument("--output", help="also write the JSON object to this file")
        parser.add_argument("--workers", type=int, help="gunicorn workers (gunicorn_conf's)")
        parser.add_argument("--threads", type=int, help="gunicorn threads (gunicorn_conf's)")
        parser.add_argument(
            "--skip-clone", action="store_true", help="skip the fresh clone's set-up timing"
        )
        # Internal: the parent runs each step in a child process against the throwaway DB.
        for name in ("--step", "--dir", "--text", "--format"):
            parser.add_argument(name, help=argparse.SUPPRESS)
        for name in ("--run", "--events"):
            parser.add_argument(name, type=int, default=0, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        quick = options["quick"]
        runs = options["runs"] or (2 if quick else 5)
        if runs < 1:
            raise CommandError("--runs must be at least 1.")
        if options["step"]:
            result = steps.step(
                options["step"],
                Path(options["dir"]),
                quick=quick,
                runs=runs,
                text=options["text"],
                run=options["run"],
                events=options["events"],
                format=options["format"],
            )
            self.stdout.write(json.dumps(result))
            return
        result = run.run(
            quick=quick,
            runs=runs,
            workers=options["workers"],
            threads=options["threads"],
            clone=not options["skip_clone"],
        )
        text = json.dumps(result, indent=2)
        if options["output"]:
            Path(options["output"]).write_text(text + "\n", encoding="utf-8")
        self.stdout.write(text)
