"""python manage.py create_project SLUG --name NAME --admin USER"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.management.users import user_for
from claims.models import Project


class Command(BaseCommand):
    help = "Create a project with its first admin (created too, with a printed password, if new)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin", required=True, help="username of the first admin")
        parser.add_argument("--blind", action="store_true", help="hide others' verdicts")
        parser.add_argument("--min-verdicts", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        if Project.objects.filter(slug=options["slug"]).exists():
            raise CommandError(f"A project with the slug {options['slug']!r} already exists.")
        admin, password = user_for(options["admin"])
        try:
            project = Project.create(
                options["slug"],
                options["name"],
                admin=admin,
                blind=options["blind"],
                min_verdicts=options["min_verdicts"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Created project {project.slug} ({project.name}); admin: {admin}.")
        if password:
            self.stdout.write(f"New user {admin} has the password: {password}")
