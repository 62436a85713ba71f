"""python manage.py bench_audit [--events N]: time the signed export, the CSV export and
the offline verifier.

Builds N events (1,000,000 by default) in a throwaway database (a temporary SQLite file,
or a ``claims_bench_<pid>`` database, dropped at the end, on the PostgreSQL server that
``DATABASE_URL`` names), exports them and verifies the signed export, and prints one JSON
object. The measuring is in ``claims.bench.audit``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.bench import audit


class Command(BaseCommand):
    help = "Benchmark the signed audit export and the offline verifier on a throwaway database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=1_000_000, help="events to build")
        # Internal: the parent runs each step in a child process against the throwaway database.
        parser.add_argument("--step", choices=audit.STEPS, help="(internal)")
        parser.add_argument("--dir", help="(internal) the temporary directory")

    def handle(self, *args: Any, **options: Any) -> None:
        events = options["events"]
        if events < 2:
            raise CommandError("--events must be at least 2.")
        if options["step"]:
            result = audit.step(options["step"], Path(options["dir"] or "."), events)
        else:
            result = audit.run(events)
        self.stdout.write(json.dumps(result))
