"""python manage.py verify_audit [--project SLUG]: recompute every hash chain."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.audit import verify_chain
from claims.models import AuditChain


class Command(BaseCommand):
    help = "Recompute the audit hash chain of every project (or one); exit 1 on the first break."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", help="only this project's chain")

    def handle(self, *args: Any, **options: Any) -> None:
        chains = AuditChain.objects.select_related("project").order_by("project__slug")
        if options["project"]:
            chains = chains.filter(project__slug=options["project"])
            if not chains.exists():
                raise CommandError(f"There is no project with the slug {options['project']!r}.")
        broken = []
        for chain in chains:
            count, problem = verify_chain(chain)
            if problem is None:
                self.stdout.write(f"{chain.project.slug}: intact, {count} events")
            else:
                self.stdout.write(f"{chain.project.slug}: BROKEN at {problem}")
                broken.append(f"{chain.project.slug} at seq {problem.seq}")
        if broken:
            raise CommandError("Audit chain broken: " + "; ".join(broken) + ".")
