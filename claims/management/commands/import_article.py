"""python manage.py import_article PATH|- --project SLUG [--published YYYY-MM-DD]
python manage.py import_article --url ADDRESS --project SLUG [--published YYYY-MM-DD]
python manage.py import_article PATH|- --revises ARTICLE_ID [--dry-run] [--unrelated]

Prints what was imported, then everything the importer was not sure of (undated citations,
long sentences, paragraphs it could not classify, possible headings, ...), one line each.
With ``--revises`` the text becomes the article's next version: it prints how the current
claims align with the new text's (unchanged, edited, removed, added), then applies it.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.extraction import prepare_document, prepare_page
from claims.importer import ImportRejected, Prepared, import_prepared, read_limited
from claims.models import Article, Project
from claims.progress import Progress
from claims.revising import Revision, apply_revision, prepare_revision


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--published must be a date as YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Import an article (.txt, .md, .html, .pdf or .docx, - for standard input, or --url "
        "for a web page) into a project."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", nargs="?", help="file to import (.txt, .md, .html, .pdf, .docx), or - for stdin"
        )
        parser.add_argument(
            "--url", default="", help="import the web page (or PDF, DOCX) at this address instead"
        )
        parser.add_argument("--project", help="project slug (not needed with --revises)")
        parser.add_argument(
            "--revises",
            type=int,
            metavar="ARTICLE_ID",
            help="import the text as a new version of this article, carrying its claims over",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="with --revises: show the alignment only"
        )
        parser.add_argument(
            "--unrelated",
            action="store_true",
            help="with --revises: apply even though no claim of the current text is in the new one",
        )
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
        actor = None
        if options["actor"]:
            actor = get_user_model().objects.filter(username=options["actor"]).first()
            if actor is None:
                raise CommandError(f"There is no user named {options['actor']!r}.")
        if options["revises"] is not None:
            if options["url"] or not options["path"]:
                raise CommandError("--revises takes a file (or - for standard input).")
            self.revise(options, actor)
            return
        if not options["project"]:
            raise CommandError("Give the project (--project SLUG), or --revises ARTICLE_ID.")
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"There is no project with the slug {options['project']!r}.")
        path = options["url"] or options["path"]
        if bool(options["url"]) == bool(options["path"]):
            raise CommandError("Give a file to import, or --url ADDRESS: one of them.")
        try:
            with Progress(f"Importing {path}", 3, stream=self.stderr, unit="steps") as progress:
                prepared, metadata = self.prepare(options, published_on, progress)
                progress.phase(f"storing {len(prepared.segmentation.claims)} claims")
                article, created = import_prepared(project, prepared, actor=actor, **metadata)
                progress.phase("stored")
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

    def prepare(
        self, options: dict[str, Any], published_on: dt.date | None, progress: Progress
    ) -> tuple[Prepared, dict[str, Any]]:
        """The text to import, from the file or the web address, and its metadata: what
        the options give, else what the page or document says of itself."""
        given = {key: options[key] for key in ("title", "author", "publication", "source_url")}
        if options["url"]:
            return prepare_page(
                options["url"],
                published_on=published_on,
                given=given,
                step=lambda _phase, _percent: progress.phase("segmenting the text"),
            )
        data, filename = self.read(options["path"])
        progress.phase("segmenting the text")
        prepared, extracted = prepare_document(data, filename=filename, published_on=published_on)
        if extracted is not None:
            given = {"title": extracted.title, "author": extracted.author, **_given(given)}
        return prepared, given

    def revise(self, options: dict[str, Any], actor: Any) -> None:
        article = Article.objects.select_related("project").filter(pk=options["revises"]).first()
        if article is None or (options["project"] and article.project.slug != options["project"]):
            raise CommandError(f"There is no article {options['revises']} to revise.")
        path = options["path"]
        try:
            data, filename = self.read(path)
            revision = prepare_revision(article, data, filename=filename)
            self.show(revision)
            if revision.identical:
                self.stdout.write("The text is the article's current version: nothing changed.")
                return
            if options["dry_run"]:
                self.stdout.write("Dry run: nothing was stored.")
                return
            apply_revision(
                revision, actor=actor, title=options["title"], unrelated_ok=options["unrelated"]
            )
        except ImportRejected as exc:
            raise CommandError(f"{path}: {exc}") from None
        article.refresh_from_db()
        self.stdout.write(
            self.style.SUCCESS(
                f"Revised article {article.pk} ({article.title!r}) to version {article.version}."
            )
        )
        self.report(revision.prepared)

    def show(self, revision: Revision) -> None:
        counts = revision.counts
        self.stdout.write(
            f"Alignment with version {revision.version}: {counts['unchanged']} unchanged, "
            f"{counts['edited']} edited, {counts['removed']} removed, {counts['added']} added."
        )
        for old, new, _diff in revision.edited():
            number = revision.numbers[old.key]
            self.stdout.write(f"  ~ claim {number}: {_short(old.text)} -> {_short(new.text)}")
        for old in revision.removed():
            self.stdout.write(f"  - claim {revision.numbers[old.key]}: {_short(old.text)}")
        for new in revision.added():
            self.stdout.write(f"  + {_short(new.text)}")

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


def _given(options: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in options.items() if value}


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
