"""python manage.py import_article PATH|- --project SLUG [--published YYYY-MM-DD]

Prints what was imported, then everything the importer was not sure of (undated citations,
long sentences, paragraphs it could not classify, possible headings, ...), one line each.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.importer import ImportRejected, Prepared, import_prepared, prepare, read_limited
from claims.models import Project


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--published must be a date as YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = "Import an article (.txt, .md or .html, or - for standard input) into a project."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="file to import, or - to read standard input")
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument(
            "--published",
            default=None,
            help="publication date, YYYY-MM-DD; without it the text must give its date",
        )
        parser.add_argument("--title", default="")
        parser.add_argument("--author", default="")
        parser.add_argument("--publication", default="")
        parser.add_argument("--source-url", default="")
        parser.add_argument("--as", dest="actor", default="", help="username recorded as importer")

    def handle(self, *args: Any, **options: Any) -> None:
        published_on = iso_date(options["published"]) if options["published"] is not None else None
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"There is no project with the slug {options['project']!r}.")
        actor = None
        if options["actor"]:
            actor = get_user_model().objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"There is no user named {options['actor']!r}.")
        path = options["path"]
        try:
            data, filename = self.read(path)
            prepared = prepare(data, filename=filename, published_on=published_on)
            article, created = import_prepared(
                project,
                prepared,
                actor=actor,
                title=options["title"],
                author=options["author"],
                publication=options["publication"],
                source_url=options["source_url"],
            )
        except ImportRejected as exc:
            raise CommandError(f"{path}: {exc}") from None
        if not created:
            self.stdout.write(
                f"Already imported: {path} is the same text as article {article.pk} "
                f"({article.title!r}); nothing was added."
            )
            return
        named = article.claims.exclude(section="").values_list("section", flat=True)
        sections = sorted(set(named.distinct().order_by()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {article.title!r} into {project.slug} as article {article.pk}: "
                f"{article.claims.count()} claims, {article.citations.count()} citations, "
                f"{len(sections)} sections."
            )
        )
        for section in sections:
            self.stdout.write(f"  - {section}")
        self.report(prepared)

    def report(self, prepared: Prepared) -> None:
        """One line per uncertainty: its kind, where it is, what it says."""
        notes = prepared.uncertainties
        if not notes:
            return
        self.stdout.write(
            self.style.WARNING(f"{len(notes)} thing{'s' if len(notes) != 1 else ''} to check:")
        )
        for note in notes:
            excerpt = " ".join(prepared.text[note.start : note.end].split())
            if len(excerpt) > 60:
                excerpt = excerpt[:57] + "..."
            self.stdout.write(
                f"  - {note.kind} at {note.start}-{note.end} “{excerpt}”: {note.message}"
            )

    def read(self, path: str) -> tuple[bytes, str]:
        if path == "-":
            return read_limited(sys.stdin.buffer), "-"
        file = Path(path)
        if not file.exists():
            raise ImportRejected("no such file.")
        if not file.is_file():
            raise ImportRejected("not a regular file.")
        try:
            with file.open("rb") as stream:
                return read_limited(stream), file.name
        except PermissionError:
            raise ImportRejected("permission denied.") from None
