"""python manage.py export_audit --project SLUG [--format jsonl|csv|annotations|claimreview]
[--article ID] [--since DATE] [--until DATE] [--actor USERNAME] [--output FILE]
[--public-key-out FILE]

Streams an export to stdout or a file and records it as one ``audit.exported`` event
(with no actor: the command line).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.log import signing
from claims.log.export import FORMATS, Filters, start_export
from claims.models import Article, Project
from claims.progress import Progress


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date like 2021-10-22.") from None


class Command(BaseCommand):
    help = "Export a project's audit trail (signed JSON Lines, CSV, Web Annotations, ClaimReview)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="the project's slug")
        parser.add_argument("--format", choices=list(FORMATS), default="jsonl")
        parser.add_argument("--article", type=int, help="only this article (its id)")
        parser.add_argument("--since", help="from this day (YYYY-MM-DD, UTC)")
        parser.add_argument("--until", help="up to and including this day (YYYY-MM-DD, UTC)")
        parser.add_argument("--actor", help="only what this user did")
        parser.add_argument("--output", help="write to this file instead of stdout")
        parser.add_argument("--public-key-out", help="also write the public key (PEM) here")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"There is no project with the slug {options['project']!r}.")
        filters = self.filters(project, options)
        try:
            if options["public_key_out"]:
                Path(options["public_key_out"]).write_text(signing.public_key_pem())
            export = start_export(project, options["format"], filters, actor=None)
        except (signing.SigningKeyMissing, OSError) as error:
            raise CommandError(str(error)) from None
        progress = Progress(f"Exporting {project.slug}", export.count, stream=self.stderr)
        with progress:
            chunks = self.counted(export.chunks, progress)
            if options["output"]:
                self.write_file(Path(options["output"]), chunks)
                where = options["output"]
            else:
                for chunk in chunks:
                    self.stdout.write(chunk, ending="")
                where = "stdout"
        self.stderr.write(
            f"Exported {export.count} {'events' if export.format in ('jsonl', 'csv') else 'items'}"
            f" of {project.slug} as {export.format} to {where}; recorded as event "
            f"#{export.event.seq}."
        )

    def filters(self, project: Project, options: dict[str, Any]) -> Filters:
        article = options["article"]
        if article is not None and not Article.objects.filter(project=project, pk=article).exists():
            raise CommandError(f"Project {project.slug} has no article {article}.")
        actor = options["actor"]
        if actor and not get_user_model().objects.filter(username=actor).exists():
            raise CommandError(f"There is no user called {actor!r}.")
        since = iso_date(options["since"]) if options["since"] else None
        until = iso_date(options["until"]) if options["until"] else None
        if since and until and since > until:
            raise CommandError("--until is before --since.")
        return Filters(article=article, since=since, until=until, actor=actor or None)

    def counted(self, chunks: Iterable[str], progress: Progress) -> Iterator[str]:
        """The chunks, each counted as the lines (about one per item) it holds."""
        for chunk in chunks:
            progress.advance(chunk.count("\n"))
            yield chunk

    def write_file(self, path: Path, chunks: Iterable[str]) -> None:
        """Write the stream; on failure remove the partial file rather than leave half."""
        try:
            with path.open("w", encoding="utf-8", newline="") as handle:
                for chunk in chunks:
                    handle.write(chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
