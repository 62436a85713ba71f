"""python manage.py add_member SLUG USER --role analyst"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.management.users import user_for
from claims.models import Project, Role


class Command(BaseCommand):
    help = "Add a member to a project or change their role (the user is created if new)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("username")
        parser.add_argument("--role", choices=Role.values, default=Role.ANALYST)

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=options["slug"]).first()
        if project is None:
            raise CommandError(f"There is no project with the slug {options['slug']!r}.")
        user, password = user_for(options["username"])
        project.set_member(user, options["role"], actor=None)
        self.stdout.write(f"{user} is now {options['role']} in {project.slug}.")
        if password:
            self.stdout.write(f"New user {user} has the password: {password}")
