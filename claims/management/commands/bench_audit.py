"""python manage.py bench_audit [--events N]: time the signed export and the offline verifier.

Builds N events (1,000,000 by default) in a throwaway SQLite file, exports them as signed
JSON Lines through ``audit_export.start_export`` (the code the page and ``export_audit``
run) and verifies the file with ``verify_export.py``. Prints one JSON object: events per
second for each step, the peak memory of the export and of the verifier, and the CPU
count. It prints and asserts nothing.

Building and exporting each run in a child process (``--step``), so that the database
is a temporary file whatever the settings say and the export's peak RSS is its own; the
verifier runs as a user runs it, ``python verify_export.py``, in a third process.

The synthetic events are bulk-inserted with hashes chained in Python: this bypasses the
one write path, which is acceptable ONLY for this benchmark's throwaway data (one real
event, the project's creation, starts the chain). The export itself goes through the
write path: it records its ``audit.exported`` event like any other export.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

BATCH = 5000
DB_NAME = "bench.sqlite3"
EXPORT_NAME = "export.jsonl"
KEY_NAME = "public.pem"
SLUG = "bench"


def rss_mb(maxrss: int) -> float:
    """``ru_maxrss`` in MB: it is in KiB on Linux, in bytes on macOS."""
    return round(maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far."""
    return rss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def per_second(count: int, seconds: float) -> int:
    return round(count / seconds) if seconds > 0 else 0


class Command(BaseCommand):
    help = "Benchmark the signed audit export and the offline verifier on a throwaway database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=1_000_000, help="events to build")
        # Internal: the parent runs each step in a child process against the temporary file.
        parser.add_argument("--step", choices=["build", "export"], help="(internal)")
        parser.add_argument("--dir", help="(internal) the temporary directory")

    def handle(self, *args: Any, **options: Any) -> None:
        events = options["events"]
        if events < 2:
            raise CommandError("--events must be at least 2.")
        if options["step"]:
            result = self.run_step(options["step"], Path(options["dir"] or "."), events)
        else:
            result = self.run_all(events)
        self.stdout.write(json.dumps(result))

    # The parent --------------------------------------------------------------------------

    def run_all(self, events: int) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="claims-bench-") as tmp:
            key = Ed25519PrivateKey.generate()
            raw = key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            env = {
                k: v
                for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "CLAIMS_SIGNING_KEY_FILE")
            }
            env |= {
                "SQLITE_PATH": str(Path(tmp) / DB_NAME),
                "CLAIMS_VAR_DIR": tmp,
                "CLAIMS_SIGNING_KEY": base64.b64encode(raw).decode("ascii"),
                "SECRET_KEY": settings.SECRET_KEY,
                # As in production: with DEBUG on, Django would keep every query's SQL.
                "DEBUG": "0",
            }
            result: dict[str, Any] = {
                "events": events,
                "cpu_count": os.cpu_count(),
                "database": "SQLite, temporary file",
            }
            manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench_audit"]
            for step in ("build", "export"):
                command = [*manage, "--step", step, "--dir", tmp, "--events", str(events)]
                output, _peak, _seconds = self.child(command, env)
                result |= json.loads(output.strip().splitlines()[-1])
            # The verifier runs as a user would run it: the one file, outside Django.
            verifier = Path(__file__).resolve().parents[2] / "verify_export.py"
            output, peak, seconds = self.child(
                [
                    sys.executable,
                    str(verifier),
                    str(Path(tmp) / EXPORT_NAME),
                    "--public-key",
                    str(Path(tmp) / KEY_NAME),
                ],
                env,
            )
            result |= {
                "verify_seconds": round(seconds, 2),
                "verify_events_per_s": per_second(events, seconds),
                "verify_peak_rss_mb": peak,
                "verify_summary": output.strip(),
            }
        return result

    def child(self, command: list[str], env: dict[str, str]) -> tuple[str, float, float]:
        """Run a child to the end: its stdout, its own peak RSS in MB (from ``wait4``, so
        no other process counts) and its wall time."""
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            started = time.perf_counter()
            process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
            _pid, status, usage = os.wait4(process.pid, 0)
            seconds = time.perf_counter() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            if process.returncode != 0:
                raise CommandError(f"{' '.join(command[1:5])} failed:\n{err.read().strip()}")
            return out.read(), rss_mb(usage.ru_maxrss), seconds

    # The children ------------------------------------------------------------------------

    def run_step(self, step: str, tmp: Path, events: int) -> dict[str, Any]:
        database = Path(str(settings.DATABASES["default"]["NAME"]))
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3" or (
            database.parent.resolve() != tmp.resolve()
        ):
            raise CommandError("--step runs only against the benchmark's temporary database.")
        return self.build(events) if step == "build" else self.export(tmp)

    def build(self, events: int) -> dict[str, Any]:
        from django.contrib.auth import get_user_model

        from claims import audit
        from claims.models import AuditChain, AuditEvent, Project

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        users = [
            get_user_model().objects.create(username=f"analyst{i}", is_active=True)
            for i in range(8)
        ]
        project = Project.create(SLUG, "Benchmark", admin=users[0])  # one real event
        chain = AuditChain.objects.get(project=project)
        prev, seq = chain.head_hash, chain.head_seq
        moment = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        statuses = ("supported", "disputed", "outdated")
        while seq < events:
            batch = []
            last = min(seq + BATCH, events)
            while seq < last:
                seq += 1
                user = users[seq % len(users)]
                claim = seq % 997 + 1
                at = moment + dt.timedelta(seconds=seq)
                body = audit.canonical_json(
                    {
                        "action": "verdict.changed",
                        "actor": user.username,
                        "after": {
                            "as_of": None,
                            "rationale": f"Synthetic rationale {seq}: the sources agree.",
                            "status": statuses[seq % 3],
                        },
                        "at": audit.utc_stamp(at),
                        "before": {
                            "as_of": None,
                            "rationale": "An earlier reading.",
                            "status": statuses[(seq + 1) % 3],
                        },
                        "project": SLUG,
                        "seq": seq,
                        "target": {
                            "analyst": user.username,
                            "article": 1,
                            "claim": claim,
                            "type": "verdict",
                        },
                    }
                )
                digest = audit.event_hash(prev, body)
                batch.append(
                    AuditEvent(
                        chain=chain,
                        seq=seq,
                        prev_hash=prev,
                        hash=digest,
                        body=body,
                        action="verdict.changed",
                        actor=user,
                        article_id=1,
                        claim_id=claim,
                        created_at=at,
                    )
                )
                prev = digest
            with transaction.atomic():
                AuditEvent.objects.bulk_create(batch, batch_size=BATCH)
                AuditChain.objects.filter(pk=chain.pk).update(head_seq=seq, head_hash=prev)
        seconds = time.perf_counter() - started
        return {
            "build_seconds": round(seconds, 2),
            "build_events_per_s": per_second(events, seconds),
        }

    def export(self, tmp: Path) -> dict[str, Any]:
        from claims import signing
        from claims.audit_export import start_export
        from claims.models import Project

        project = Project.objects.get(slug=SLUG)
        (tmp / KEY_NAME).write_text(signing.public_key_pem())
        baseline = peak_rss_mb()
        started = time.perf_counter()
        export = start_export(project, "jsonl", actor=None)
        with (tmp / EXPORT_NAME).open("w", encoding="utf-8", newline="") as handle:
            for chunk in export.chunks:
                handle.write(chunk)
        seconds = time.perf_counter() - started
        return {
            "export_seconds": round(seconds, 2),
            "export_events_per_s": per_second(export.count, seconds),
            "export_bytes": (tmp / EXPORT_NAME).stat().st_size,
            "export_peak_rss_mb": peak_rss_mb(),
            "export_rss_before_mb": baseline,
        }
