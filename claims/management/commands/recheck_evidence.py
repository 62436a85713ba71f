"""python manage.py recheck_evidence [--days N] [--limit N] [--queue]: read evidence pages again.

Every piece of evidence in place whose page was last checked more than ``--days`` ago
(``CLAIMS_RECHECK_EVIDENCE_DAYS`` by default), or never, is fetched and read again; a page
changed, moved or gone since makes the verdicts on its claim due. Run it from cron (or a
scheduler) once a day; with ``--queue`` it only queues one task per page for the worker.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims import snapshots
from claims.progress import Progress


class Command(BaseCommand):
    help = (
        "Read again the evidence pages last checked more than --days ago (or never); flag "
        "pages that changed, moved or died, and make the verdicts resting on them due."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="re-check pages older than this")
        parser.add_argument("--limit", type=int, help="at most this many pages this run")
        parser.add_argument(
            "--queue", action="store_true", help="queue one task per page for the worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days, limit = options["days"], options["limit"]
        if days is not None and days < 0:
            raise CommandError("--days must be 0 or more.")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be 1 or more.")
        if options["queue"]:
            queued = snapshots.recheck_evidence.enqueue(days).id
            self.stdout.write(f"Queued the re-check (task {queued}).")
            return
        stale = snapshots.stale_evidence(days)
        pages = list(stale[:limit] if limit is not None else stale)
        found: Counter[str] = Counter()
        flagged = 0
        progress = Progress("Re-checking evidence", len(pages), stream=self.stderr, unit="pages")
        for evidence in progress.each(pages, lambda evidence: evidence.url):
            snapshot = snapshots.take_snapshot(evidence)
            found[snapshot.get_state_display()] += 1
            if snapshot.flagged:
                flagged += 1
                self.stdout.write(
                    f"Evidence {evidence.pk} on claim {evidence.claim_id}: the page "
                    f"{snapshot.described}; its verdicts are due again."
                )
        summary = ", ".join(f"{n} {state.lower()}" for state, n in sorted(found.items()))
        self.stdout.write(
            f"Checked {len(pages)} pages ({summary or 'none due'}); {flagged} flagged."
        )
