"""python manage.py recover_jobs: run again, or report failed, the work of dead workers.

A job whose worker died keeps saying it is running, and a webhook delivery whose worker
died while sending it stays pending: ``claims.tasks.recover`` queues them again (or fails
a job after its last attempt) and removes expired export files. It runs whenever a job's
page is polled and when the demo starts its worker; run this from cron (or a systemd
timer) every few minutes, so that nobody has to look for the work to go on.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from claims import tasks


class Command(BaseCommand):
    help = (
        "Queue again (or report failed) the jobs and webhook deliveries of workers that "
        "died, and remove expired export files."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = tasks.recover()
        what = "job or delivery" if count == 1 else "jobs or deliveries"
        self.stdout.write(f"{count} {what} recovered.")
