"""python manage.py add_member SLUG USER --role analyst"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from claims.management.users import LINK, add_password_arguments, set_password_link, user_for
from claims.models import Project, Role


class Command(BaseCommand):
    help = "Add a member to a project or change their role (the user is created if new)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("username")
        parser.add_argument("--role", choices=Role.values, default=Role.ANALYST)
        add_password_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=options["slug"]).first()
        if project is None:
            raise CommandError(f"There is no project with the slug {options['slug']!r}.")
        with transaction.atomic():
            user, password = user_for(options["username"], options["password_from"])
            project.set_member(user, options["role"], actor=None)
        self.stdout.write(f"{user} is now {options['role']} in {project.slug}.")
        if password:
            self.stdout.write(f"New user {user} has the password: {password}")
        if options["password_from"] == LINK and not user.has_usable_password():
            link = set_password_link(user, options["base_url"])
            self.stdout.write(f"{user} sets a password, once, at: {link}")
