"""python manage.py reindex_recurring [--project SLUG]

Rebuild the recurring-claims index (``ClaimTerm``) and the proposals of existing data
(``claims.recurring``): articles imported before the index existed, or claims whose rows
were lost. Each article's index rows are written afresh from its current claims, then
each article's claims are proposed against every other article's. A proposal already
made, confirmed or rejected stays as it is (``claimlink_once``); last, the proposals
nobody has decided that would not be made today (a claim retired or reworded, a pair
that no longer scores: ``recurring.stale_proposals``) are removed. A second run changes
nothing. Derived data: no event.

Each article is one short transaction that holds the project's chain head, as an import
does, so that an import or a claim edit running meanwhile waits rather than interleaving
its own index rows with these.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import QuerySet

from claims import recurring
from claims.log.chain import lock_head
from claims.models import Article, ClaimLink, LinkState, Project
from claims.progress import Progress


@contextmanager
def locked(project: Project) -> Iterator[QuerySet[Article]]:
    """A transaction holding the project's chain head; the project's articles."""
    with transaction.atomic():
        lock_head(project)
        yield Article.objects.filter(project=project)


class Command(BaseCommand):
    help = "Rebuild the recurring-claims index and proposals of every project, or of one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", metavar="SLUG", help="only this project")

    def handle(self, *args: Any, **options: Any) -> None:
        projects = Project.objects.order_by("slug")
        if options["project"]:
            projects = projects.filter(slug=options["project"])
            if not projects.exists():
                raise CommandError(f"No project {options['project']}.")
        for project in projects:
            self.rebuild(project)

    def rebuild(self, project: Project) -> None:
        ids = list(
            Article.objects.filter(project=project).order_by("pk").values_list("pk", flat=True)
        )
        links = ClaimLink.objects.filter(claim_a__article__project=project)
        before, claims = links.count(), 0
        texts: dict[int, list[recurring.Text]] = {}
        label = f"Reindexing {project.slug}"
        with Progress(label, 2 * len(ids), stream=self.stderr, unit="steps") as progress:
            for pk in ids:  # every article's words first: proposals look at all of them
                with locked(project) as article:
                    texts[pk] = recurring.index_article(project, article.get(pk=pk))
                claims += len(texts[pk])
                progress.advance(note="index")
            for pk in ids:
                with locked(project) as article:
                    recurring.match(project, article.get(pk=pk), texts[pk])
                progress.advance(note="proposals")
        added = links.count() - before
        with locked(project):
            stale = recurring.stale_proposals(project)
            for batch in recurring.batches(stale):
                ClaimLink.objects.filter(pk__in=batch, state=LinkState.PROPOSED, version=0).delete()
        self.stdout.write(
            f"{project.slug}: {len(ids)} articles, {claims} claims indexed, "
            f"{added} proposals added, {len(stale)} stale proposals removed"
        )
