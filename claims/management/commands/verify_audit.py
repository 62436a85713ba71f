"""python manage.py verify_audit [--project SLUG]: check every project's audit trail.

The hash chain, the indexed event columns against the signed bodies, and the live tables
against the fold of the log: see ``claims.log.integrity``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.log.integrity import verify_project
from claims.models import Project
from claims.progress import Progress


class Command(BaseCommand):
    help = (
        "Check every project's audit trail (or one's): the hash chain, the event columns "
        "against the signed bodies, and the tables against the log. Exit 1 on a problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", help="only this project")

    def handle(self, *args: Any, **options: Any) -> None:
        projects = Project.objects.filter(chain__isnull=False).order_by("slug")
        if options["project"]:
            projects = projects.filter(slug=options["project"])
            if not projects.exists():
                raise CommandError(f"There is no project with the slug {options['project']!r}.")
        failed = []
        progress = Progress("Verifying", projects.count(), stream=self.stderr, unit="projects")
        for project in progress.each(projects, lambda project: project.slug):
            report = verify_project(project)
            self.stdout.write(f"{project.slug}: {report}")
            if report.problem is not None:
                failed.append(f"{project.slug} at {report.problem}")
            elif report.difference is not None:
                failed.append(f"{project.slug}: {report.difference}")
        if failed:
            raise CommandError("Audit trail broken: " + "; ".join(failed) + ".")
