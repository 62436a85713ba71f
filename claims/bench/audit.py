"""``manage.py bench_audit``: time the signed export, the CSV export and the offline
verifier. ``manage.py bench`` reuses its build and exports for its audit figures.

Builds N events in a throwaway database (``claims.bench.throwaway``), exports them as
signed JSON Lines and as CSV through ``audit_export.start_export`` (the code the page and
``export_audit`` run) and verifies the JSON Lines file with ``verify_export.py``. The result
is one object: events per second for each step, the peak memory of each export and of the
verifier, and the CPU count. It asserts nothing.

Building and each export run in a child process (``manage.py bench_audit --step``), so
that the database is the throwaway one whatever the settings say and each export's peak
memory is its own; the verifier runs as a user runs it, ``python verify_export.py``, in a
process of its own. Peak memory is each process's own VmHWM (see
``claims.bench.figures.peak_mb``), not ``ru_maxrss``, which a child inherits from its
parent.

The synthetic events are bulk-inserted with hashes chained in Python: this bypasses the
one write path, which is acceptable ONLY for this benchmark's throwaway data (one real
event, the project's creation, starts the chain). The exports themselves go through the
write path: each records its ``audit.exported`` event like any other export.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from claims.bench.figures import PEAK_WRAPPER, peak_mb, per_second
from claims.bench.throwaway import child_env, require_throwaway, throwaway_database

BATCH = 5000
EXPORT_NAME = "export.jsonl"
CSV_NAME = "export.csv"
KEY_NAME = "public.pem"
SLUG = "bench"
STEPS = ("build", "export", "csv")
DATABASE_NAMES = {
    "sqlite": "SQLite, temporary file",
    "postgresql": "PostgreSQL, throwaway database",
}


# -- The parent ---------------------------------------------------------------------------


def run(events: int) -> dict[str, Any]:
    """Every step in a throwaway database of its own; the one object the command prints."""
    with (
        tempfile.TemporaryDirectory(prefix="claims-bench-") as name,
        throwaway_database(Path(name)) as (engine, db_env),
    ):
        tmp = Path(name)
        env = child_env(tmp) | db_env  # production settings, DEBUG off, a fresh key
        result: dict[str, Any] = {
            "events": events,
            "cpu_count": os.cpu_count(),
            "database": DATABASE_NAMES[engine],
        }
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench_audit"]
        for step in STEPS:
            command = [*manage, "--step", step, "--dir", name, "--events", str(events)]
            output, _errors, _seconds = _child(command, env)
            result |= json.loads(output.strip().splitlines()[-1])
        summary, seconds, peak = verify(tmp, env)
        result |= {
            "verify_seconds": round(seconds, 2),
            "verify_events_per_s": per_second(events, seconds),
            "verify_peak_rss_mb": round(peak, 1) if peak is not None else None,
            "verify_summary": summary,
        }
    return result


def verify(tmp: Path, env: dict[str, str]) -> tuple[str, float, float | None]:
    """``verify_export.py`` on the signed export, run as a user would run it (the one file,
    outside Django) under a wrapper that reports its own peak memory: its summary, its
    wall time in seconds and its peak memory in MB."""
    verifier = Path(settings.BASE_DIR) / "claims" / "log" / "verify_export.py"
    command = [sys.executable, "-c", PEAK_WRAPPER, str(verifier), str(tmp / EXPORT_NAME)]
    command += ["--public-key", str(tmp / KEY_NAME)]
    output, errors, seconds = _child(command, env, name="verify_export.py")
    peak = re.search(r"VmHWM (\d+)", errors)
    return output.strip(), seconds, int(peak.group(1)) / 1024 if peak else None


def _child(command: list[str], env: dict[str, str], name: str = "") -> tuple[str, str, float]:
    """Run a child to the end: its stdout, its stderr and its wall time."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        name = name or " ".join(command[1:5])
        raise CommandError(f"{name} failed:\n{done.stderr.strip()}")
    return done.stdout, done.stderr, seconds


# -- The children -------------------------------------------------------------------------


def step(name: str, tmp: Path, events: int) -> dict[str, Any]:
    """One step, in a child process, against the throwaway database only."""
    require_throwaway(tmp)
    if name == "build":
        return build(events)
    return export(tmp) if name == "export" else export_csv(tmp)


def build(events: int) -> dict[str, Any]:
    """``events`` audit events of project ``bench``, bulk-inserted in chained batches."""
    from django.contrib.auth import get_user_model

    from claims.log.actions import Action
    from claims.log.chain import utc_stamp
    from claims.log.verify_export import canonical_json, event_hash
    from claims.models import AuditChain, AuditEvent, Project

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    users = [
        get_user_model().objects.create(username=f"analyst{i}", is_active=True) for i in range(8)
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
            body = canonical_json(
                {
                    "action": Action.VERDICT_CHANGED,
                    "actor": user.username,
                    "after": {
                        "as_of": None,
                        "rationale": f"Synthetic rationale {seq}: the sources agree.",
                        "status": statuses[seq % 3],
                    },
                    "at": utc_stamp(at),
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
            digest = event_hash(prev, body)
            batch.append(
                AuditEvent(
                    chain=chain,
                    seq=seq,
                    prev_hash=prev,
                    hash=digest,
                    body=body,
                    action=Action.VERDICT_CHANGED,
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


def export(tmp: Path) -> dict[str, Any]:
    """The signed JSON Lines export, and the public key that verifies it."""
    from claims.log import signing

    (tmp / KEY_NAME).write_text(signing.public_key_pem())
    return timed_export(tmp / EXPORT_NAME, "jsonl", "export")


def export_csv(tmp: Path) -> dict[str, Any]:
    return timed_export(tmp / CSV_NAME, "csv", "csv_export")


def timed_export(path: Path, fmt: str, name: str) -> dict[str, Any]:
    """The export written to ``path``: its speed, size and this process's peak memory."""
    from claims.log.export import start_export
    from claims.models import Project

    project = Project.objects.get(slug=SLUG)
    baseline = peak_mb()
    started = time.perf_counter()
    export = start_export(project, fmt, actor=None)
    with path.open("w", encoding="utf-8", newline="") as handle:
        for chunk in export.chunks:
            handle.write(chunk)
    seconds = time.perf_counter() - started
    return {
        f"{name}_seconds": round(seconds, 2),
        f"{name}_events_per_s": per_second(export.count, seconds),
        f"{name}_bytes": path.stat().st_size,
        f"{name}_peak_rss_mb": peak_mb(),
        f"{name}_rss_before_mb": baseline,
    }
