"""The domain of claims: projects, articles split into claims, verdicts, and the audit chain.

Every state change is a method here (or ``importer.import_article``) that runs inside
``claims.log.chain.writing()``: one transaction, chain head locked first, one event
appended, its action a member of ``claims.log.actions.Action``.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import functools
import hashlib
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxLengthValidator, URLValidator
from django.db import connection, models, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.module_loading import import_string

from claims import rows
from claims.consensus import consensus_state
from claims.log.actions import Action
from claims.log.chain import GENESIS_HASH, writing
from claims.log.state import DEFAULT_FRESHNESS

User = settings.AUTH_USER_MODEL
LONG_TEXT = 5000  # characters in any free-text field
RECHECK_LIMIT_DAYS = 3650  # the longest freshness, and the farthest re-check date: ten years


class Role(models.TextChoices):
    """Declared from the least to the most: each role may do all that the ones before it may."""

    VIEWER = "viewer", "Viewer"
    ANALYST = "analyst", "Analyst"
    REVIEWER = "reviewer", "Reviewer"
    ADMIN = "admin", "Admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: Role | str) -> bool:
        """The one comparison of roles: every permission check comes down to this."""
        return self.rank >= Role(other).rank


class Status(models.TextChoices):
    SUPPORTED = "supported", "Supported"
    DISPUTED = "disputed", "Disputed"
    OUTDATED = "outdated", "Outdated"


STATUSES = tuple(Status.values)  # once: ``Status.values`` builds a new list on every use


class Stance(models.TextChoices):
    SUPPORTS = "supports", "Supports"
    CONTRADICTS = "contradicts", "Contradicts"
    SUPERSEDES = "supersedes", "Supersedes"
    CONTEXT = "context", "Context"


# Characters RFC 3986 never allows raw in a URL: a link carrying them is either broken or
# an attempt to break out of an attribute. Real links percent-encode them.
UNSAFE_URL_CHARS = re.compile(r"[\s<>\"'`\\^{}|\x00-\x1f\x7f]")


def validate_web_url(value: str) -> None:
    if UNSAFE_URL_CHARS.search(value):
        raise ValidationError(
            'This web address contains spaces or characters such as < > " that must be '
            "percent-encoded."
        )
    try:
        netloc = urlsplit(value).netloc
    except ValueError:
        return  # not a URL at all: URLValidator says so
    if "@" in netloc:
        # https://google.com@evil.example/ goes to evil.example: what stands before the @
        # is a user name, there only to make the link look like somewhere else.
        host = netloc.rsplit("@", 1)[1] or "nowhere"
        raise ValidationError(
            f"This web address has a user name before an @, so it would really go to {host}. "
            "Give the address without it."
        )


WEB_URL_VALIDATORS: list[Callable[[Any], None]] = [
    URLValidator(schemes=["http", "https"]),
    validate_web_url,
]

EARLIEST_SINCE = dt.date(1900, 1, 1)


def validate_since(value: dt.date) -> None:
    """An "outdated since" date is a day in the past: nothing before 1900 is a claim's age,
    and a day ahead is allowed only for time zones east of the server's."""
    latest = timezone.localdate() + dt.timedelta(days=1)
    if not EARLIEST_SINCE <= value <= latest:
        raise ValidationError(
            f"The 'since' date must be between {EARLIEST_SINCE.isoformat()} and "
            f"{latest.isoformat()} (tomorrow); {value.isoformat()} is not."
        )


class Conflict(Exception):
    """An edit was made against a version that is no longer current; nothing was written."""

    def __init__(self, current: Any, message: str = "") -> None:
        super().__init__(message or "Someone else changed this first.")
        self.current = current


def _member(project: Project, who: Any) -> Member | None:
    """``who`` as a member of ``project``: a ``Member`` as it is (a view was let in with it,
    so its role needs no second query), a user with their role read; None for outsiders."""
    if isinstance(who, Member):
        return who if who.project.pk == project.pk else None
    return Member.of(project, who) if who is not None else None


def _acting(project: Project, who: Any, role: Role) -> Any:
    """The user acting as ``who`` (a ``Member`` or a plain user), or PermissionDenied below
    ``role``: the verbs' one permission check."""
    member = _member(project, who)
    if member is None or not member.at_least(role):
        raise PermissionDenied(f"This needs the {role.label.lower()} role in {project.name}.")
    return member.user


def _user(who: Any) -> Any:
    """The user behind ``who``, a ``Member`` or a plain user (or None, for the system)."""
    return who.user if isinstance(who, Member) else who


# Projects and members -------------------------------------------------------------


class ProjectQuerySet(models.QuerySet):
    def for_user(self, user: Any) -> ProjectQuerySet:
        """Projects the user belongs to; the only way views reach a project."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class Project(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, validators=[MaxLengthValidator(LONG_TEXT)])
    blind = models.BooleanField(
        default=False, help_text="Analysts see others' verdicts only after giving their own."
    )
    min_verdicts = models.PositiveSmallIntegerField(
        default=2, help_text="Verdicts a claim needs before it has a consensus."
    )
    # How long a verdict stays fresh, per status, before it comes due for re-check; empty:
    # it never does.
    fresh_supported_days = models.PositiveIntegerField(
        null=True, blank=True, default=180, help_text="Days a supported verdict stays fresh."
    )
    fresh_disputed_days = models.PositiveIntegerField(
        null=True, blank=True, default=90, help_text="Days a disputed verdict stays fresh."
    )
    fresh_outdated_days = models.PositiveIntegerField(
        null=True, blank=True, default=None, help_text="Days an outdated verdict stays fresh."
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def create(
        cls, slug: str, name: str, *, actor: Any = None, admin: Any = None, **fields: Any
    ) -> Project:
        """Create a project, its audit chain and (optionally) its first admin: one event."""
        with transaction.atomic():
            project = cls(slug=slug, name=name, **fields)
            project.full_clean()
            project.save()
            AuditChain.objects.create(project=project)
            with writing(project) as writer:
                if admin is not None:
                    Membership.objects.create(project=project, user=admin, role=Role.ADMIN)
                writer.append(
                    action=Action.PROJECT_CREATED,
                    actor=actor,
                    target={"type": "project", "slug": slug},
                    after={
                        "name": name,
                        "blind": project.blind,
                        "min_verdicts": project.min_verdicts,
                        "admin": admin.get_username() if admin is not None else None,
                        # Only when not the defaults, which events before it never named.
                        **(
                            {"freshness": project.freshness()}
                            if project.freshness() != DEFAULT_FRESHNESS
                            else {}
                        ),
                    },
                )
        return project

    def freshness(self) -> dict[str, int | None]:
        """Days a verdict of each status stays fresh (None: it never comes due by date)."""
        return {status: getattr(self, f"fresh_{status}_days") for status in STATUSES}

    def set_freshness(self, who: Any, freshness: dict[str, int | None]) -> None:
        """Set how long verdicts stay fresh, per status, as ``freshness()`` gives it: for
        admins, one event (none when nothing changes)."""
        actor = _acting(self, who, Role.ADMIN)
        if set(freshness) != set(STATUSES) or not all(
            days is None or (type(days) is int and 1 <= days <= RECHECK_LIMIT_DAYS)
            for days in freshness.values()
        ):
            raise ValidationError(
                f"Give each status a number of days from 1 to {RECHECK_LIMIT_DAYS}, or none."
            )
        with writing(self) as writer:
            before = Project.objects.get(pk=self.pk).freshness()  # as it stands, under the lock
            if before == freshness:
                writer.skip()
                return
            for status, days in freshness.items():
                setattr(self, f"fresh_{status}_days", days)
            self.save(update_fields=[f"fresh_{status}_days" for status in STATUSES])
            writer.append(
                action=Action.PROJECT_FRESHNESS_CHANGED,
                actor=actor,
                target={"type": "project", "slug": self.slug},
                before=before,
                after=dict(freshness),
            )

    def role_of(self, user: Any) -> Role | None:
        """The user's role here, read from the database (one query); None for outsiders.
        Views have it already, in the ``Member`` the access helpers return."""
        if not user.is_authenticated:
            return None
        role = self.memberships.filter(user=user).values_list("role", flat=True).first()
        return Role(role) if role else None

    def set_member(self, user: Any, role: Role | str, *, actor: Any) -> Membership:
        """Add a member, or change their role. No event when nothing changes.
        ``actor`` is a user or the acting ``Member``."""
        role, actor = Role(role), _user(actor)
        with writing(self) as writer:
            membership = self.memberships.filter(user=user).first()
            before = {"user": user.get_username(), "role": membership.role} if membership else None
            if membership is None:
                membership = Membership.objects.create(project=self, user=user, role=role)
                action = Action.MEMBER_ADDED
            elif membership.role != role:
                if (
                    membership.role == Role.ADMIN
                    and not self.memberships.filter(role=Role.ADMIN)
                    .exclude(pk=membership.pk)
                    .exists()
                ):
                    raise ValidationError("A project must keep at least one admin.")
                membership.role = role
                membership.save(update_fields=["role"])
                action = Action.MEMBER_ROLE_CHANGED
            else:
                writer.skip()
                return membership
            writer.append(
                action=action,
                actor=actor,
                target={"type": "membership", "user": user.get_username()},
                before=before,
                after={"user": user.get_username(), "role": str(role)},
            )
        return membership

    def remove_member(self, user: Any, *, actor: Any) -> None:
        """Remove a member. Their verdicts and evidence stay, as the record of what they said.
        ``actor`` is a user or the acting ``Member``."""
        actor = _user(actor)
        with writing(self) as writer:
            membership = self.memberships.filter(user=user).first()
            if membership is None:
                raise Conflict(None, f"{user.get_username()} is not a member any more.")
            if (
                membership.role == Role.ADMIN
                and not self.memberships.filter(role=Role.ADMIN).exclude(pk=membership.pk).exists()
            ):
                raise ValidationError("A project must keep at least one admin.")
            membership.delete()
            writer.append(
                action=Action.MEMBER_REMOVED,
                actor=actor,
                target={"type": "membership", "user": user.get_username()},
                before={"user": user.get_username(), "role": membership.role},
            )


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.ANALYST)

    class Meta:
        constraints = [
            # Project.role_of() reads a single row per user and project.
            models.UniqueConstraint(fields=["project", "user"], name="membership_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.project}"


@dataclass(frozen=True, slots=True)
class Member:
    """Who is asking: a user, the project they are in and their role there.

    The access helpers return one (read with the object a view asks for, in the same
    query); views hand it on to what decides what a person sees (reading, tally, history),
    to templates, and to the verbs, which then need no second query for the role.
    """

    user: Any
    project: Project
    role: Role

    @classmethod
    def of(cls, project: Project, user: Any) -> Member | None:
        """The user's membership, read from the database (one query); None for outsiders."""
        role = project.role_of(user)
        return cls(user, project, role) if role is not None else None

    def at_least(self, role: Role | str) -> bool:
        return self.role.at_least(role)

    @property
    def sees_everything(self) -> bool:
        """Blind review: only reviewers and admins see every verdict before giving theirs;
        in an open project everyone does."""
        return not self.project.blind or self.at_least(Role.REVIEWER)

    # For templates, which cannot pass an argument to at_least().

    @property
    def at_least_reviewer(self) -> bool:
        return self.at_least(Role.REVIEWER)

    @property
    def is_admin(self) -> bool:
        return self.at_least(Role.ADMIN)


# Articles and what the importer derives from them -----------------------------------


class ArticleQuerySet(models.QuerySet):
    def with_progress(self, user: Any) -> ArticleQuerySet:
        """Articles with claim and citation counts, the user's tagged claims, and the claims
        that have the project's minimum of verdicts: one query, however many articles."""
        claims = Claim.objects.filter(article=models.OuterRef("pk"))
        current = Verdict.objects.exclude(status="")
        mine = current.filter(analyst=user, claim__article=models.OuterRef("pk"))
        per_claim = (
            current.filter(claim=models.OuterRef("pk"))
            .values("claim")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        settled = claims.annotate(n=models.Subquery(per_claim)).filter(
            n__gte=models.OuterRef("project__min_verdicts")
        )
        return self.annotate(
            claim_count=_count(claims),
            citation_count=_count(Citation.objects.filter(article=models.OuterRef("pk"))),
            mine_count=_count(mine),
            team_count=_count(settled),
        ).order_by("-published_on", "title")


def _count(queryset: models.QuerySet[Any]) -> Coalesce:
    """COUNT(*) of a correlated queryset, as a scalar subquery (0 when empty)."""
    counted = queryset.order_by().annotate(n=models.Func("pk", function="COUNT")).values("n")
    return Coalesce(models.Subquery(counted), 0)


class Article(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="articles")
    title = models.CharField(max_length=500)
    author = models.CharField(max_length=300, blank=True)
    publication = models.CharField(max_length=300, blank=True)
    publisher = models.CharField(max_length=300, blank=True)
    volume = models.PositiveIntegerField(null=True, blank=True)
    issue = models.PositiveIntegerField(null=True, blank=True)
    published_on = models.DateField()
    source_url = models.URLField(blank=True, max_length=2000, validators=WEB_URL_VALIDATORS)
    # When the text was fetched from ``source_url`` (claims.fetching); empty for a file.
    fetched_at = models.DateTimeField(null=True, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    text = models.TextField(help_text="Exactly as imported, line endings normalised to LF.")
    sha256 = models.CharField(max_length=64, help_text="sha256 of the stored text, UTF-8.")
    imported_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)
    # The current version: ``text``, ``sha256`` and the current blocks, citations and claims
    # are its; every version's text is kept in ``ArticleVersion``.
    version = models.PositiveIntegerField(default=1)
    revised_at = models.DateTimeField(null=True, blank=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "title"]
        constraints = [
            # importer.import_article() relies on this to refuse a second copy of a text.
            models.UniqueConstraint(fields=["project", "sha256"], name="article_text_once"),
        ]

    def __str__(self) -> str:
        return self.title

    def at_version(self, number: int) -> Article:
        """The article as version ``number`` of its text stood: a copy, never saved, with
        that version's text and title (itself when ``number`` is the current version)."""
        if number == self.version:
            return self
        version = ArticleVersion.objects.get(article=self, number=number)
        past = copy.copy(self)
        past.text, past.title, past.sha256 = version.text, version.title, version.sha256
        past.version = number
        return past

    def text_of(self, number: int) -> str:
        """The text of version ``number`` (read once per instance)."""
        return self._version(number)[0]

    def sha256_of(self, number: int) -> str:
        """The sha256 of version ``number``'s text, as its import or revision signed it."""
        return self._version(number)[1]

    def _version(self, number: int) -> tuple[str, str]:
        if number == self.version:
            return self.text, self.sha256
        versions = self.__dict__.setdefault("_versions", {})
        if number not in versions:
            rows = ArticleVersion.objects.filter(article=self, number=number)
            versions[number] = rows.values_list("text", "sha256").get()
        return versions[number]

    def version_blocks(self) -> models.QuerySet[Block]:
        """The blocks of the version this instance holds (see ``at_version``), in order."""
        return Block.all_objects.filter(article=self, version=self.version).order_by("ordinal")


class ArticleVersion(models.Model):
    """One text of an article: version 1 is the import, each revision adds the next."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=500)
    filename = models.CharField(max_length=255, blank=True)
    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    imported_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article", "number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_once"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class BlockKind(models.TextChoices):
    """What a paragraph is. Claims come from body paragraphs, list items and block quotes
    (``CLAIM_KINDS``); the others are the article's apparatus, shown but never claims."""

    ARTIFACT = "artifact", "Capture artifact"
    TITLE = "title", "Title"
    SUBTITLE = "subtitle", "Subtitle"
    BYLINE = "byline", "Byline"
    DATELINE = "dateline", "Dateline"
    METADATA = "metadata", "Metadata"
    HEADING = "heading", "Heading"
    AUTHOR_BIO = "author_bio", "Author bio"
    BODY = "body", "Body paragraph"
    LIST_ITEM = "list_item", "List item"
    QUOTE = "quote", "Block quote"
    CAPTION = "caption", "Caption"
    FOOTNOTE = "footnote", "Footnote"
    REFERENCES = "references", "References"


CLAIM_KINDS = frozenset({BlockKind.BODY, BlockKind.LIST_ITEM, BlockKind.QUOTE})


class CurrentManager(models.Manager):
    """Rows of the article's current version only (``retired_in`` empty): the default, so
    that every screen, count and statistic sees the current text without saying so.
    Earlier versions' rows are reached through ``all_objects``."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(retired_in__isnull=True)


class Block(models.Model):
    """A paragraph of one version of the article; claims come from ``CLAIM_KINDS`` only."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="blocks")
    version = models.PositiveIntegerField(default=1)
    retired_in = models.PositiveIntegerField(null=True, blank=True)
    ordinal = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=BlockKind.choices)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    # The paragraph's own words, as its version's text has them at ``start:end``: a claim's
    # words can be cut from its block (a few hundred characters) in SQL rather than from
    # the article's whole text, which SQLite and PostgreSQL read from its start each time
    # (the search index's triggers rely on this). Blocks never change once stored.
    words = models.TextField(blank=True, default="")

    all_objects = models.Manager()
    objects = CurrentManager()

    class Meta:
        ordering = ["article", "ordinal"]
        base_manager_name = "all_objects"
        default_manager_name = "objects"
        constraints = [
            models.UniqueConstraint(
                fields=["article", "version", "ordinal"], name="block_ordinal_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.start}-{self.end}"

    @property
    def text(self) -> str:
        return self.words or self.article.text_of(self.version)[self.start : self.end]


class DatePrecision(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"
    NONE = "none", "Undated"


class YearSource(models.TextChoices):
    EXPLICIT = "explicit", "Given in the citation"
    PUBLICATION_DATE = "publication_date", "Inferred from the publication date"
    NONE = "none", "Unknown"


def merge_fates(first: dict[str, str], second: dict[str, str]) -> dict[str, str]:
    """What merging two claims does to each analyst's verdicts, from their statuses on
    the first and the second part (blank: none): "kept" (first part only), "moved"
    (second part only), "agreed" (the same on both) or "cleared" (they differ, so the
    analyst tags the merged claim afresh). Analysts with no verdict on either are left out.
    The merge applies it (``Claim.merge_next``); the panel says it before the merge."""
    fates = {}
    for name in sorted(set(first) | set(second)):
        a, b = first.get(name, ""), second.get(name, "")
        if a and b:
            fates[name] = "agreed" if a == b else "cleared"
        elif a or b:
            fates[name] = "kept" if a else "moved"
    return fates


def cited_date(date: dt.date | None, precision: str) -> str:
    """A cited date as precisely as the text gave it: 2021-03-04, 2021-03, 2021 or undated."""
    if date is None:
        return "undated"
    return date.isoformat()[: {"month": 7, "year": 4}.get(precision, 10)]


class Citation(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="citations")
    version = models.PositiveIntegerField(default=1)
    retired_in = models.PositiveIntegerField(null=True, blank=True)
    ordinal = models.PositiveIntegerField()
    outlet = models.CharField(max_length=300)
    # The first day of the period the citation names; empty when its year cannot be known
    # (never guessed). ``precision`` says how much of it the text gave.
    date = models.DateField(null=True, blank=True)
    precision = models.CharField(
        max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    year_source = models.CharField(max_length=20, choices=YearSource.choices)
    raw = models.CharField(max_length=500)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    group_start = models.PositiveIntegerField()
    group_end = models.PositiveIntegerField()

    all_objects = models.Manager()
    objects = CurrentManager()

    class Meta:
        ordering = ["article", "ordinal"]
        base_manager_name = "all_objects"
        default_manager_name = "objects"

    def __str__(self) -> str:
        return self.raw

    @property
    def when(self) -> str:
        return cited_date(self.date, self.precision)


class ClaimQuerySet(models.QuerySet):
    def with_consensus(self) -> ClaimQuerySet:
        """Claims with their current verdict counts (``n_supported``, ``n_disputed``,
        ``n_outdated``) and adjudication: one query however many claims. The state itself
        is ``claim.consensus(min_verdicts)``."""
        # Correlated counts rather than JOIN + GROUP BY: grouping would repeat every
        # selected column (and any select_related row) for each verdict.
        counts = {
            f"n_{status}": _count(
                Verdict.objects.filter(claim=models.OuterRef("pk"), status=status)
            )
            for status in Status.values
        }
        return self.select_related("adjudication__reviewer").annotate(**counts)

    def with_text(self) -> ClaimQuerySet:
        """Claims with their own text read in SQL (``claim.text``) and their article
        without its text: one claim costs the same in an article of any length."""
        return (
            self.select_related("article")
            .defer("article__text")
            .annotate(
                span_text=Substr("article__text", F("start") + 1, F("end") - F("start")),
                span_start=F("start"),
                span_end=F("end"),
            )
        )


class CurrentClaimManager(models.Manager.from_queryset(ClaimQuerySet)):  # type: ignore[misc]
    """Claims of the article's current text (see ``CurrentManager``)."""

    def get_queryset(self) -> ClaimQuerySet:
        return super().get_queryset().filter(retired_in__isnull=True)


# When a claim's evidence last changed and by whom (a user's id): ``Claim.evidence_clock``.
EvidenceClock = tuple[dt.datetime | None, int | None]
NO_EVIDENCE_CHANGE: EvidenceClock = (None, None)


class Claim(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="claims")
    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="claims")
    ordinal = models.PositiveIntegerField()
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    section = models.CharField(max_length=300, blank=True)
    sentence = models.PositiveIntegerField(help_text="Index of the sentence in the article.")
    citations = models.ManyToManyField(Citation, blank=True, related_name="claims")
    version = models.PositiveIntegerField(default=1)
    # Article versions: the one in which the claim was removed from the text (retired
    # claims are off every current screen, kept for history, as-of views and exports), and
    # the last one in which its wording changed, with the wording before that change.
    retired_in = models.PositiveIntegerField(null=True, blank=True)
    revised_in = models.PositiveIntegerField(null=True, blank=True)
    revised_at = models.DateTimeField(null=True, blank=True)
    wording_before = models.TextField(blank=True)
    # When evidence was last added, removed or restored, and by whom: a verdict given before
    # then has new evidence to look at, unless its own analyst made that change (they have
    # seen the claim's evidence as it stands). Nobody (null) for what no one person did: a
    # page the re-check found changed, a merge, the same claim's verdict elsewhere by
    # someone who has none here, rows from before this was kept.
    evidence_changed_at = models.DateTimeField(null=True, blank=True)
    # Not checked by the database, nor indexed: an import's claims would each queue a check
    # (as 0018 and 0022 say), and Django's collector clears it when a user is deleted.
    evidence_changed_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    objects = CurrentClaimManager()
    all_objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["article", "start"]
        base_manager_name = "all_objects"
        default_manager_name = "objects"
        indexes = [models.Index(fields=["article", "ordinal"])]

    def __str__(self) -> str:
        return f"#{self.ordinal} {self.text[:60]}"

    @property
    def text(self) -> str:
        # ``ClaimQuerySet.with_text()`` reads the span in SQL, so a single claim need not
        # load its whole article; it holds only while the bounds are the ones it read.
        if self.retired_in is not None:  # its text is the version before the one retiring it
            return self.article.text_of(self.retired_in - 1)[self.start : self.end]
        read = self.__dict__
        if "span_text" in read and (read["span_start"], read["span_end"]) == (self.start, self.end):
            return read["span_text"]
        return self.article.text[self.start : self.end]

    def target(self) -> dict[str, Any]:
        return {"type": "claim", "claim": self.pk, "article": self.article_id}

    def set_verdict(
        self,
        analyst: Any,
        status: Status | str,
        *,
        rationale: str = "",
        as_of: dt.date | None = None,
        recheck_by: dt.date | None = None,
        expected_version: int = 0,
        reverts: int | None = None,
        adopted_from: int | None = None,
    ) -> Verdict:
        """Set or change the analyst's verdict, made against ``expected_version`` (0: none),
        with the day they mean to look at it again by, if any (``recheck_by``).
        ``analyst`` is a user or the acting ``Member``, as for every verb. A verdict adopted
        from the same claim in another article (``claims.recurring.adopt``) names that
        claim in its event (``adopted_from``)."""
        wanted = Verdict.asked(status, rationale, as_of, recheck_by=recheck_by)
        return self._write_assessment(
            Verdict, analyst, wanted, expected_version, reverts, adopted_from
        )

    def confirm_verdict(self, analyst: Any, *, expected_version: int) -> Verdict:
        """The analyst's verdict still holds: made against ``expected_version``, one
        ``verdict.confirmed`` event, one version on, and its freshness clock restarted
        (``checked_at``). What the verdict says does not change."""
        project = self.article.project
        actor = _acting(project, analyst, Role.ANALYST)
        with writing(project) as writer:
            verdict = rows.one(Verdict, claim=self, analyst=actor)
            if (verdict.version if verdict else 0) != expected_version:
                raise Conflict(verdict)
            if verdict is None or not verdict.status:
                raise ValidationError("You have no verdict on this claim to confirm.")
            verdict.checked_at = timezone.now()
            verdict.version += 1
            verdict.save(update_fields=["checked_at", "version"])
            held = verdict.fields()
            writer.append(
                action=Action.VERDICT_CONFIRMED,
                actor=actor,
                target={**self.target(), "type": "verdict", "analyst": actor.get_username()},
                before=held,
                after=held,
                article_id=self.article_id,
                claim_id=self.pk,
            )
        return verdict

    def clear_verdict(
        self, analyst: Any, *, expected_version: int, reverts: int | None = None
    ) -> Verdict:
        return self._write_assessment(Verdict, analyst, None, expected_version, reverts)

    def counts(self) -> dict[str, int]:
        """Current verdicts per status, from ``with_consensus()``; zero counts left out."""
        counts = {status: getattr(self, f"n_{status}") for status in STATUSES}
        return {status: n for status, n in counts.items() if n}

    def consensus(self, min_verdicts: int) -> str:
        return consensus_state(
            self.counts(), min_verdicts=min_verdicts, adjudicated=self.final is not None
        )

    @property
    def final(self) -> Adjudication | None:
        """The reviewer's standing adjudication, if any (a withdrawn one keeps its row)."""
        try:
            adjudication = self.adjudication
        except Adjudication.DoesNotExist:
            return None
        return adjudication if adjudication.status else None

    def adjudicate(
        self,
        reviewer: Any,
        status: Status | str,
        *,
        rationale: str,
        as_of: dt.date | None = None,
        expected_version: int = 0,
        reverts: int | None = None,
    ) -> Adjudication:
        """Record (or change) the final status, made against ``expected_version`` (0: none)."""
        wanted = Adjudication.asked(status, rationale, as_of)
        return self._write_assessment(Adjudication, reviewer, wanted, expected_version, reverts)

    def withdraw_adjudication(
        self, reviewer: Any, *, expected_version: int, reverts: int | None = None
    ) -> Adjudication:
        return self._write_assessment(Adjudication, reviewer, None, expected_version, reverts)

    def _write_assessment[A: Assessment](
        self,
        kind: type[A],
        who: Any,
        wanted: dict[str, Any] | None,
        expected_version: int,
        reverts: int | None,
        adopted_from: int | None = None,
    ) -> A:
        """Set, change or clear (``wanted`` None) one assessment of this claim, made against
        ``expected_version``: the one algorithm behind verdicts and adjudications, ``kind``
        saying what differs (see ``Assessment``). A write that changes nothing writes no
        event, and returns the row as it stands (version 0 if there is none)."""
        project = self.article.project
        actor = _acting(project, who, kind.role_needed)
        with writing(project) as writer:
            key = {"claim": self, **kind.key(actor)}
            current = rows.one(kind, **key)
            if (current.version if current else 0) != expected_version:
                raise Conflict(current, kind.conflict)
            assessment = current or kind(**key, version=0)
            before = assessment.fields() if assessment.status else None
            if before == wanted:
                writer.skip()
                return assessment
            target = assessment.stamp(self, actor, before, wanted)
            if adopted_from is not None:
                target["adopted_from"] = adopted_from
            assessment.assign(wanted)
            assessment.version += 1
            assessment.save()
            flag_same_claims(self, actor)
            if wanted is None:
                action = kind.actions.cleared
            else:
                action = kind.actions.changed if before else kind.actions.set
            writer.append(
                action=action,
                actor=actor,
                target=target,
                before=before,
                after=wanted,
                article_id=self.article_id,
                claim_id=self.pk,
                reverts=reverts,
            )
        assessment.written(self)
        return assessment

    # Claim editing (reviewers): each is one event, and says where verdicts and evidence went.

    def span(self) -> dict[str, Any]:
        return {
            "claim": self.pk,
            "number": self.ordinal,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }

    def _begin_edit(self, user: Any, expected_version: int) -> Claim:
        """Under the chain lock: the current row, or Conflict when it moved on."""
        current = Claim.objects.select_related("article").filter(pk=self.pk).first()
        if current is None:
            raise Conflict(None, "This claim no longer exists; it was merged into another.")
        if current.version != expected_version:
            raise Conflict(current)
        if current.final is not None:
            raise ValidationError("This claim is adjudicated; withdraw the adjudication first.")
        return current

    def correct_span(
        self,
        user: Any,
        *,
        start: int,
        end: int,
        expected_version: int,
        reverts: int | None = None,
    ) -> Claim:
        """Move the claim's boundaries inside its paragraph, without overlapping a neighbour."""
        project = self.article.project
        user = _acting(project, user, Role.REVIEWER)
        with writing(project) as writer:
            claim = self._begin_edit(user, expected_version)
            text = claim.article.text
            block = claim.block
            if (
                not (block.start <= start < end <= block.end)
                or text[start:end].strip() != text[start:end]
            ):
                raise ValidationError("The new span must be non-empty text inside its paragraph.")
            neighbours = claim.article.claims.exclude(pk=claim.pk)
            if neighbours.filter(start__lt=end, end__gt=start).exists():
                raise ValidationError("The new span would overlap another claim.")
            if (start, end) == (claim.start, claim.end):
                writer.skip()
                return claim
            before = claim.span()
            claim.start, claim.end, claim.version = start, end, claim.version + 1
            claim.save(update_fields=["start", "end", "version"])
            reindex_same_claims(project, claim)
            writer.append(
                action=Action.CLAIM_SPAN_CORRECTED,
                actor=user,
                target=claim.target(),
                before=before,
                after=claim.span(),
                article_id=claim.article_id,
                claim_id=claim.pk,
                reverts=reverts,
            )
        return claim

    def split(self, user: Any, *, at: int, expected_version: int) -> tuple[Claim, Claim]:
        """Split at offset ``at``. Both parts keep the verdicts, evidence and citations."""
        project = self.article.project
        user = _acting(project, user, Role.REVIEWER)
        with writing(project) as writer:
            claim = self._begin_edit(user, expected_version)
            left_end, right_start = split_bounds(claim.article.text, claim.start, at, claim.end)
            before = claim.span()
            # Numbers never shift: the new part takes the next free number.
            top = Claim.all_objects.filter(article_id=claim.article_id).aggregate(
                top=models.Max("ordinal")
            )
            right = Claim.objects.create(
                article=claim.article,
                block=claim.block,
                ordinal=top["top"] + 1,
                start=right_start,
                end=claim.end,
                section=claim.section,
                sentence=claim.sentence,
                # Its evidence is copied too, and is as new to its verdicts as to the left's.
                evidence_changed_at=claim.evidence_changed_at,
                evidence_changed_by_id=claim.evidence_changed_by_id,
            )
            right.citations.set(claim.citations.all())
            claim.end, claim.version = left_end, claim.version + 1
            claim.save(update_fields=["end", "version"])
            copied = [
                Verdict.objects.create(
                    claim=right,
                    analyst=v.analyst,
                    status=v.status,
                    rationale=v.rationale,
                    as_of=v.as_of,
                    version=1,
                    # Due for re-check as the verdict it copies.
                    checked_at=v.checked_at,
                    recheck_by=v.recheck_by,
                )
                for v in claim.verdicts.exclude(status="").select_related("analyst")
            ]
            evidence = list(claim.evidence.filter(removed_at__isnull=True))
            originals = [item.pk for item in evidence]
            for item in evidence:
                item.pk, item.claim = None, right
            Evidence.objects.bulk_create(evidence)
            reindex_same_claims(project, claim, right)
            writer.append(
                action=Action.CLAIM_SPLIT,
                actor=user,
                target=claim.target(),
                before=before,
                after={
                    "left": claim.span(),
                    "right": right.span(),
                    "verdicts_copied": sorted(v.analyst.get_username() for v in copied),
                    # [original id, copy id]: enough to fold the copies from the log.
                    "evidence_copied": [
                        [old, new.pk] for old, new in zip(originals, evidence, strict=True)
                    ],
                },
                article_id=claim.article_id,
                claim_id=claim.pk,
                other_claim_id=right.pk,
            )
        return claim, right

    def next_in_sentence(self) -> Claim | None:
        return (
            Claim.objects.filter(article_id=self.article_id, sentence=self.sentence)
            .filter(start__gte=self.end)
            .order_by("start")
            .first()
        )

    def merge_next(self, user: Any, *, expected_version: int, reverts: int | None = None) -> Claim:
        """Merge the next claim of the same sentence into this one.

        Per analyst: agreeing verdicts are kept; a verdict on one part only is kept;
        disagreeing verdicts are cleared, so the analyst tags the merged claim afresh.
        Evidence moves to the merged claim, each piece once. The event lists what happened
        to each.
        """
        project = self.article.project
        user = _acting(project, user, Role.REVIEWER)
        with writing(project) as writer:
            claim = self._begin_edit(user, expected_version)
            other = claim.next_in_sentence()
            if other is None:
                raise ValidationError("There is no next claim in this sentence to merge with.")
            if other.final is not None:
                raise ValidationError("The next claim is adjudicated; withdraw that first.")
            before = {"left": claim.span(), "right": other.span()}
            outcome = claim._absorb_verdicts(other)
            moved, dropped = claim._absorb_evidence(other)
            claim.citations.add(*other.citations.all())
            other_id = other.pk
            other.delete()  # its number goes with it: numbers never shift
            claim.end, claim.version = other.end, claim.version + 1
            moved_at = other.evidence_changed_at
            if moved and moved_at and (claim.evidence_changed_at or moved_at) <= moved_at:
                # Evidence the kept verdicts were not given on, as new as it is here, and
                # new to each of them: its change was made on another claim.
                claim.evidence_changed_at, claim.evidence_changed_by = moved_at, None
            changed = ["evidence_changed_at", "evidence_changed_by"]
            claim.save(update_fields=["end", "version", *changed])
            reindex_same_claims(project, claim)
            writer.append(
                action=Action.CLAIM_MERGED,
                actor=user,
                target=claim.target(),
                before=before,
                after={
                    "merged": claim.span(),
                    "verdicts": outcome,
                    "evidence_moved": moved,
                    "evidence_dropped": dropped,
                },
                article_id=claim.article_id,
                claim_id=claim.pk,
                other_claim_id=other_id,
                reverts=reverts,
            )
        return claim

    def unmerge(
        self,
        user: Any,
        *,
        left_end: int,
        right_start: int,
        number: int,
        verdicts: dict[str, dict[str, Any]],
        evidence: list[int],
        expected_version: int,
        reverts: int | None = None,
    ) -> Claim:
        """Undo a merge: the text from ``right_start`` is its own claim again, numbered
        ``number``; each analyst's verdicts on the two parts are as ``verdicts`` says
        (``{name: {"left": fields or None, "right": fields or None}}``, what they were
        before the merge) and the ``evidence`` that came from the second part goes back.
        One ``claim.unmerged`` event, which the fold applies as written."""
        project = self.article.project
        user = _acting(project, user, Role.REVIEWER)
        with writing(project) as writer:
            claim = self._begin_edit(user, expected_version)
            if not claim.start < left_end <= right_start < claim.end:
                raise ValidationError("The merged claim no longer holds those two parts.")
            right = Claim.objects.create(
                article=claim.article,
                block=claim.block,
                ordinal=number,
                start=right_start,
                end=claim.end,
                section=claim.section,
                sentence=claim.sentence,
            )
            right.citations.set(claim.citations.all())
            claim.end, claim.version = left_end, claim.version + 1
            claim.save(update_fields=["end", "version"])
            analysts = {
                u.get_username(): u
                for u in get_user_model().objects.filter(username__in=list(verdicts))
            }
            for name, parts in verdicts.items():
                row = Verdict.objects.filter(claim=claim, analyst=analysts[name]).first()
                if parts["left"] is not None:
                    row = row or Verdict(claim=claim, analyst=analysts[name], version=0)
                    row.assign(parts["left"])
                    row.after_seeing_team = parts["left"]["after_seeing_team"]
                    row.version += 1
                    row.save()
                elif row is not None and row.status:
                    row.assign(None)
                    row.version += 1
                    row.save()
                if parts["right"] is not None:
                    copy = Verdict(claim=right, analyst=analysts[name], version=1)
                    copy.assign(parts["right"])
                    copy.after_seeing_team = parts["right"]["after_seeing_team"]
                    copy.save()
            Evidence.objects.filter(pk__in=evidence, claim=claim).update(claim=right)
            reindex_same_claims(project, claim, right)
            writer.append(
                action=Action.CLAIM_UNMERGED,
                actor=user,
                target=claim.target(),
                before={"merged": {"claim": claim.pk, "start": claim.start, "end": right.end}},
                after={
                    "left": claim.span(),
                    "right": right.span(),
                    "verdicts": verdicts,
                    "evidence_moved": sorted(evidence),
                },
                article_id=claim.article_id,
                claim_id=claim.pk,
                other_claim_id=right.pk,
                reverts=reverts,
            )
        return right

    def _absorb_evidence(self, other: Claim) -> tuple[list[int], list[list[int]]]:
        """Move the other claim's evidence here, each piece once: a split copies evidence to
        both parts, and a merge must not bring it back twice. Of two equal pieces (same
        person, same fields) the one still in place is kept, else this claim's; the other
        row goes. Returns the ids moved and the ``[dropped, kept]`` pairs."""
        mine: dict[tuple[tuple[str, Any], ...], list[Evidence]] = {}
        for item in self.evidence.select_related("added_by").order_by("pk"):
            mine.setdefault(tuple(sorted(item.fields().items())), []).append(item)
        moved, dropped = [], []
        for item in other.evidence.select_related("added_by").order_by("pk"):
            twins = mine.get(tuple(sorted(item.fields().items())))
            if not twins:
                moved.append(item.pk)
                continue
            twin = twins.pop(0)
            if twin.removed_at is not None and item.removed_at is None:
                moved.append(item.pk)
                dropped.append([twin.pk, item.pk])
            else:
                dropped.append([item.pk, twin.pk])
        # Dropped rows go first: a copy keeps its original's submission token, which may
        # appear once per claim and person.
        Evidence.objects.filter(pk__in=[gone for gone, _kept in dropped]).delete()
        Evidence.objects.filter(pk__in=moved).update(claim=self)
        return sorted(moved), sorted(dropped)

    def _absorb_verdicts(self, other: Claim) -> dict[str, dict[str, str]]:
        """Per analyst, what became of their verdicts (see ``merge_fates``), done."""
        mine = {v.analyst.get_username(): v for v in self.verdicts.select_related("analyst")}
        theirs = {
            v.analyst.get_username(): v
            for v in other.verdicts.exclude(status="").select_related("analyst")
        }
        fates = merge_fates(
            {name: v.status for name, v in mine.items()},
            {name: v.status for name, v in theirs.items()},
        )
        outcome: dict[str, dict[str, str]] = {}
        for name, fate in fates.items():
            kept, moved = mine.get(name), theirs.get(name)
            if fate == "moved" and moved is not None:
                if kept is not None:
                    kept.delete()
                moved.claim, moved.version = self, moved.version + 1
                moved.save(update_fields=["claim", "version"])
                outcome[name] = {"outcome": "moved", "status": moved.status}
            elif fate == "cleared" and kept is not None and moved is not None:
                outcome[name] = {
                    "outcome": "cleared",
                    "status": "",
                    "was": f"{kept.status} and {moved.status}",
                }
                kept.status, kept.rationale, kept.as_of = "", "", None
                kept.version += 1
                kept.save(update_fields=["status", "rationale", "as_of", "version"])
            elif kept is not None:
                outcome[name] = {"outcome": fate, "status": kept.status}
        return outcome

    def add_evidence(
        self,
        user: Any,
        *,
        url: str,
        stance: Stance | str,
        title: str = "",
        quote: str = "",
        note: str = "",
        submission: uuid.UUID | None = None,
    ) -> Evidence:
        """Add evidence. A ``submission`` already used on this claim by this user (a form
        posted twice, even at once) returns the evidence it added, and writes nothing."""
        project = self.article.project
        user = _acting(project, user, Role.ANALYST)
        evidence = Evidence(
            claim=self,
            added_by=user,
            url=url.strip(),
            stance=stance,
            title=title,
            quote=quote,
            note=note,
            submission=submission,
        )
        evidence.full_clean(exclude=["claim", "added_by"])
        with writing(project) as writer:
            # The chain head's lock orders the project's writes, so a second post of the
            # submission, even at once, finds the first one's row here, committed. (The
            # database's unique constraint stays the last word; looking first spares
            # PostgreSQL a savepoint's two round trips on every addition.)
            if submission is not None:
                earlier = rows.one(Evidence, claim=self, added_by=user, submission=submission)
                if earlier is not None:
                    writer.skip()
                    return earlier
            evidence.save()
            self.evidence_changed(user)
            transaction.on_commit(functools.partial(snapshot_later, evidence.pk), robust=True)
            writer.append(
                action=Action.EVIDENCE_ADDED,
                actor=user,
                target={**self.target(), "type": "evidence", "evidence": evidence.pk},
                after=evidence.fields(),
                article_id=self.article_id,
                claim_id=self.pk,
            )
        return evidence

    @property
    def evidence_clock(self) -> EvidenceClock:
        """When the claim's evidence last changed, and by whom (a user's id, or None)."""
        return self.evidence_changed_at, self.evidence_changed_by_id

    def evidence_changed(self, by: Any) -> None:
        """Evidence on this claim was added, removed or restored (in that change's
        transaction), by user ``by`` (None: by no one person): every verdict given before
        now but ``by``'s own has new evidence to look at."""
        self.evidence_changed_at, self.evidence_changed_by = timezone.now(), by
        now = connection.ops.adapt_datetimefield_value(self.evidence_changed_at)
        with connection.cursor() as cursor:  # written once (composed, it cost 0.35 ms)
            cursor.execute(
                _clock_sql(connection.vendor), [now, self.evidence_changed_by_id, self.pk]
            )


SEPARATOR = re.compile(r"[\s,;:]*(?:(?:and|but|whereas|so|yet)\s+)?", re.IGNORECASE)


def split_bounds(text: str, start: int, at: int, end: int) -> tuple[int, int]:
    """The end of the left part and the start of the right when splitting at ``at``.

    Whitespace and a separating comma, semicolon or conjunction stay out of both parts,
    as the importer does.
    """
    if not start < at < end:
        raise ValidationError("Choose a split point with words on both sides.")
    left_end = at
    while left_end > start and (text[left_end - 1].isspace() or text[left_end - 1] in ",;:"):
        left_end -= 1
    separator = SEPARATOR.match(text, at, end)
    right_start = separator.end() if separator else at
    if not (start < left_end and right_start < end):
        raise ValidationError("Choose a split point with words on both sides.")
    return left_end, right_start


# Assessments: an analyst's verdict, a reviewer's adjudication --------------------------

ASSESSED = ("status", "rationale", "as_of")  # what an assessment says; the rest is bookkeeping
CLEARED: dict[str, Any] = {"status": "", "rationale": "", "as_of": None}


class AssessmentActions(NamedTuple):
    """The events of one kind of assessment, one for each way a write changes it."""

    set: Action
    changed: Action
    cleared: Action  # a cleared verdict, a withdrawn adjudication


class Assessment(models.Model):
    """A status on a claim, with a rationale and, when outdated, a since-date. Clearing one
    keeps its row, with a blank status, so that its version keeps moving.

    Both kinds are written by one algorithm, ``Claim._write_assessment()``. What differs
    between them is said here: by the class attributes below, and by the methods a kind
    overrides (``key``, ``stamp``, ``written``).
    """

    status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    rationale = models.TextField(blank=True, validators=[MaxLengthValidator(LONG_TEXT)])
    as_of = models.DateField(null=True, blank=True, validators=[validate_since])
    version = models.PositiveIntegerField(default=0)

    role_needed: ClassVar[Role]  # the least role that writes one
    actions: ClassVar[AssessmentActions]
    conflict: ClassVar[str]  # the message of a stale write's Conflict ("": Conflict's own)
    since_refused: ClassVar[str]  # the error for a since-date on a status other than outdated
    rationale_missing: ClassVar[str]  # the error for a blank rationale ("": it may be blank)

    class Meta:
        abstract = True

    @classmethod
    def key(cls, actor: Any) -> dict[str, Any]:
        """Besides the claim, what picks the row that ``actor`` writes: nothing (one row
        per claim) unless a kind says otherwise."""
        return {}

    @classmethod
    def asked(cls, status: Status | str, rationale: str, as_of: dt.date | None) -> dict[str, Any]:
        """What a verb is asked to write, as ``fields()`` gives it, checked as the model's
        fields check it; where a kind needs a rationale, it is stripped first."""
        status = Status(status)
        if as_of is not None and status != Status.OUTDATED:
            raise ValidationError(cls.since_refused)
        if cls.rationale_missing:
            if not rationale.strip():
                raise ValidationError(cls.rationale_missing)
            rationale = rationale.strip()
        asked = cls(status=status, rationale=rationale, as_of=as_of)
        asked.clean_fields(exclude=[f.name for f in cls._meta.fields if f.name not in ASSESSED])
        return asked.fields()

    def fields(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "rationale": self.rationale,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }

    def assign(self, fields: dict[str, Any] | None) -> None:
        """Take ``fields`` as ``fields()`` gives them; None clears."""
        fields = fields or CLEARED
        self.status, self.rationale = fields["status"], fields["rationale"]
        self.as_of = dt.date.fromisoformat(fields["as_of"]) if fields["as_of"] else None

    def stamp(
        self,
        claim: Claim,
        actor: Any,
        before: dict[str, Any] | None,
        wanted: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Before a write is saved: record what this kind keeps of it besides its fields
        (who, when), and return the target of its event."""
        raise NotImplementedError

    def written(self, claim: Claim) -> None:
        """After a write: what ``claim`` keeps of it (nothing, unless a kind says)."""


class Verdict(Assessment):
    """One analyst's current verdict on a claim."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="verdicts")
    analyst = models.ForeignKey(User, on_delete=models.PROTECT, related_name="verdicts")
    # As Assessment's, with the help text that the verdict's field has always had.
    as_of = models.DateField(
        null=True, blank=True, validators=[validate_since], help_text="For outdated: since when."
    )
    updated_at = models.DateTimeField(default=timezone.now)
    # Blind projects: the analyst changed or cleared this verdict after it had shown them
    # the team's. Once set it stays, so the consensus screen and exports can say so.
    after_seeing_team = models.BooleanField(default=False)
    # Re-checks: when the analyst last stood by this verdict (given, changed or confirmed:
    # the freshness clock runs from here), and a date they set to look again by, which
    # overrides the project's freshness for this verdict.
    checked_at = models.DateTimeField(default=timezone.now)
    recheck_by = models.DateField(null=True, blank=True)

    role_needed = Role.ANALYST
    actions = AssessmentActions(Action.VERDICT_SET, Action.VERDICT_CHANGED, Action.VERDICT_CLEARED)
    conflict = ""
    since_refused = "Only an outdated verdict takes a 'since' date."
    rationale_missing = ""

    class Meta:
        constraints = [
            # Claim._write_assessment() reads and versions a single row per analyst and
            # claim (Verdict.key()).
            models.UniqueConstraint(fields=["claim", "analyst"], name="verdict_once_per_analyst"),
        ]

    def __str__(self) -> str:
        return f"{self.analyst}: {self.status or 'cleared'}"

    @classmethod
    def key(cls, actor: Any) -> dict[str, Any]:
        return {"analyst": actor}

    @classmethod
    def asked(
        cls,
        status: Status | str,
        rationale: str,
        as_of: dt.date | None,
        recheck_by: dt.date | None = None,
    ) -> dict[str, Any]:
        asked = super().asked(status, rationale, as_of)
        if recheck_by is not None:
            asked["recheck_by"] = recheck_by.isoformat()
        return asked

    # A verdict says its re-check date only when it has one: events written before
    # re-check dates existed, and verdicts without one, read as they always have.

    def fields(self) -> dict[str, Any]:
        fields = super().fields()
        if self.recheck_by is not None:
            fields["recheck_by"] = self.recheck_by.isoformat()
        return fields

    def assign(self, fields: dict[str, Any] | None) -> None:
        super().assign(fields)
        recheck_by = (fields or {}).get("recheck_by")
        self.recheck_by = dt.date.fromisoformat(recheck_by) if recheck_by else None

    def stamp(
        self,
        claim: Claim,
        actor: Any,
        before: dict[str, Any] | None,
        wanted: dict[str, Any] | None,
    ) -> dict[str, Any]:
        target = {**claim.target(), "type": "verdict", "analyst": actor.get_username()}
        if self._changes_after_seeing_team(claim, before, wanted):
            self.after_seeing_team = True
            target["after_seeing_team"] = True
        # Given, changed or cleared, the analyst stood by it now: its clock restarts.
        self.updated_at = self.checked_at = timezone.now()
        return target

    def _changes_after_seeing_team(
        self, claim: Claim, before: dict[str, Any] | None, wanted: dict[str, Any] | None
    ) -> bool:
        """In a blind project, a verdict shows its analyst the team's; changing its status
        or clearing it while others have verdicts here may have been swayed by them."""
        if self.after_seeing_team or before is None or not claim.article.project.blind:
            return False
        if wanted is not None and wanted["status"] == before["status"]:
            return False
        others = Verdict.objects.filter(claim=claim).exclude(analyst_id=self.analyst_id)
        return others.exclude(status="").exists()


class Adjudication(Assessment):
    """A reviewer's final status for a claim: one row per claim."""

    claim = models.OneToOneField(Claim, on_delete=models.CASCADE, related_name="adjudication")
    reviewer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    role_needed = Role.REVIEWER
    actions = AssessmentActions(
        Action.ADJUDICATION_SET, Action.ADJUDICATION_CHANGED, Action.ADJUDICATION_WITHDRAWN
    )
    conflict = "Another reviewer changed the adjudication first."
    since_refused = "Only an outdated status takes a 'since' date."
    rationale_missing = "Say why: an adjudication needs a rationale."

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.status or 'withdrawn'}"

    def stamp(
        self,
        claim: Claim,
        actor: Any,
        before: dict[str, Any] | None,
        wanted: dict[str, Any] | None,
    ) -> dict[str, Any]:
        self.reviewer, self.decided_at = actor, timezone.now()
        return {**claim.target(), "type": "adjudication"}

    def written(self, claim: Claim) -> None:
        claim.adjudication = self  # so that ``claim.final`` needs no query


class Evidence(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="evidence")
    url = models.URLField(max_length=2000, validators=WEB_URL_VALIDATORS)
    title = models.CharField(max_length=300, blank=True)
    stance = models.CharField(max_length=12, choices=Stance.choices)
    quote = models.TextField(blank=True, validators=[MaxLengthValidator(LONG_TEXT)])
    note = models.TextField(blank=True, validators=[MaxLengthValidator(LONG_TEXT)])
    added_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The evidence form's one-time token: the same form posted twice is one submission.
    submission = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name_plural = "evidence"
        ordering = ["added_at", "pk"]
        constraints = [
            # Claim.add_evidence() relies on this to turn a replayed or concurrent second
            # post of one form into the evidence the first one added.
            models.UniqueConstraint(
                fields=["claim", "added_by", "submission"], name="evidence_submission_once"
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.url

    def fields(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "title": self.title,
            "stance": str(self.stance),
            "quote": self.quote,
            "note": self.note,
            "added_by": self.added_by.get_username(),
        }

    def remove(self, user: Any, *, reverts: int | None = None) -> None:
        """Soft-remove: the row stays for history. Analysts remove their own; admins any."""
        self._set_removed(user, removed=True, reverts=reverts)

    def restore(self, user: Any, *, reverts: int | None = None) -> None:
        """Bring removed evidence back (a revert of its removal)."""
        self._set_removed(user, removed=False, reverts=reverts)

    def _set_removed(self, user: Any, *, removed: bool, reverts: int | None) -> None:
        claim = self.claim
        project = claim.article.project
        member = _member(project, user)
        needed = Role.ADMIN  # for anyone else's evidence; an analyst's own needs an analyst
        if member is not None and member.user.pk == self.added_by_id:
            needed = Role.ANALYST if member.at_least(Role.ANALYST) else Role.ADMIN
        user = _acting(project, member, needed)
        with writing(project) as writer:
            current = Evidence.objects.get(pk=self.pk)
            if (current.removed_at is not None) == removed:
                state = "removed" if removed else "in place"
                raise Conflict(current, f"This evidence is already {state}.")
            if removed:
                self.removed_at, self.removed_by = timezone.now(), user
            else:
                self.removed_at, self.removed_by = None, None
            self.save(update_fields=["removed_at", "removed_by"])
            claim.evidence_changed(user)
            writer.append(
                action=Action.EVIDENCE_REMOVED if removed else Action.EVIDENCE_RESTORED,
                actor=user,
                target={**claim.target(), "type": "evidence", "evidence": self.pk},
                before=self.fields() if removed else None,
                after=None if removed else self.fields(),
                article_id=claim.article_id,
                claim_id=claim.pk,
                reverts=reverts,
            )


# The audit chain --------------------------------------------------------------------


class AuditChain(models.Model):
    """The head of a project's hash chain; locked first by every change."""

    project = models.OneToOneField(Project, on_delete=models.PROTECT, related_name="chain")
    head_seq = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    # Whether the project has an active webhook (kept by the Webhook verbs): read with the
    # head, so a change in a project without one enqueues no delivery and costs no query.
    webhooks = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.project.slug} @ {self.head_seq}"

    @property
    def project_slug(self) -> str:
        return self.project.slug


class AuditEventQuerySet(models.QuerySet):
    """Events are appended by ``claims.log.chain.Writer`` and never changed: bulk writes
    are refused."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionDenied("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionDenied("Audit events are append-only.")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise PermissionDenied("Audit events are append-only.")

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionDenied("Audit events are append-only.")


class AuditEvent(models.Model):
    """One link of the chain. ``body`` is the canonical JSON that ``hash`` covers.

    ``action``, ``actor``, ``article_id``, ``claim_id`` and ``created_at`` repeat parts of
    the body as columns, so that history pages can filter with indexes.
    """

    chain = models.ForeignKey(AuditChain, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveBigIntegerField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    body = models.TextField()
    action = models.CharField(max_length=40)
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    # Plain integers, not foreign keys: the log outlives what it describes.
    article_id = models.BigIntegerField(null=True)
    claim_id = models.BigIntegerField(null=True)
    # The second claim of a split (the new part) or a merge (the absorbed one).
    other_claim_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField()

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["chain", "seq"]
        constraints = [
            # claims.log.chain.writing() relies on this to fail loudly instead of forking the chain.
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_seq_once"),
        ]
        indexes = [
            models.Index(fields=["claim_id", "seq"]),
            models.Index(fields=["other_claim_id", "seq"]),
            models.Index(fields=["article_id", "seq"]),
            models.Index(fields=["chain", "action"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionDenied("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionDenied("Audit events are append-only.")


# --- Recurring claims ---


class LinkState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"


class ClaimTerm(models.Model):
    """One content word of a current claim, for finding the same claim in other articles
    (``claims.recurring``): an inverted index, written beside the claims by the import and
    the revision. Derived data, recomputable from the claims' text: no event of its own."""

    # The project and the article are the claim's, copied for the lookup. None of the three
    # is a constraint the database checks: an import writes ten rows a claim, and
    # PostgreSQL checks each constraint of each row when the import commits (the project's
    # and the article's were 3 s of a 1 MB import, the claim's 0.5 s). Deleting through the
    # ORM still takes the rows with their claim (Django's collector, not the database,
    # cascades), and a row whose claim is gone would only name a candidate that
    # ``recurring.texts_of`` no longer finds.
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # indexed first in claimterm_lookup
        db_constraint=False,
    )
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    claim = models.ForeignKey(
        Claim, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    term = models.CharField(max_length=40)

    class Meta:
        indexes = [
            # recurring.candidates() counts and reads a project's postings of given terms.
            models.Index(fields=["project", "term", "article", "claim"], name="claimterm_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.term}"


class ClaimLink(models.Model):
    """The same claim in two articles: proposed by ``claims.recurring`` when a text is
    imported or revised (derived data, no event), confirmed or rejected by a reviewer (one
    event each). ``claim_a`` is the one with the lower id, so that a pair is stored once."""

    claim_a = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="+")
    claim_b = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(help_text="Similarity of the two texts, 0-100.")
    state = models.CharField(max_length=10, choices=LinkState.choices, default=LinkState.PROPOSED)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # recurring.propose() inserts with ignore_conflicts: a pair once decided (or
            # proposed) is never proposed a second time.
            models.UniqueConstraint(fields=["claim_a", "claim_b"], name="claimlink_once"),
            models.CheckConstraint(
                condition=models.Q(claim_a__lt=models.F("claim_b")), name="claimlink_ordered"
            ),
        ]
        indexes = [models.Index(fields=["claim_b"], name="claimlink_b")]

    def __str__(self) -> str:
        return f"{self.claim_a_id} ~ {self.claim_b_id} ({self.state})"

    def other(self, claim_id: int) -> int:
        return self.claim_b_id if claim_id == self.claim_a_id else self.claim_a_id

    def target(self) -> dict[str, Any]:
        return {
            "type": "same_claim",
            "link": self.pk,
            "claim": self.claim_a_id,
            "article": self.claim_a.article_id,
            "other": self.claim_b_id,
        }

    def decide(
        self,
        who: Any,
        state: LinkState | str,
        *,
        expected_version: int,
        reverts: int | None = None,
    ) -> ClaimLink:
        """Confirm or reject the link (or, reverting, put it back as it was): for
        reviewers, made against ``expected_version``, one event."""
        state = LinkState(state)
        project = self.claim_a.article.project
        actor = _acting(project, who, Role.REVIEWER)
        with writing(project) as writer:
            current = ClaimLink.objects.filter(pk=self.pk).first()
            if current is None:
                raise Conflict(None, "This link no longer exists: one of its claims is gone.")
            if current.version != expected_version:
                raise Conflict(current, "Someone else decided this link first.")
            before = {"state": str(current.state), "score": current.score}
            if current.state == state:
                writer.skip()
                return current
            self.state, self.version = state, current.version + 1
            self.decided_by, self.decided_at = actor, timezone.now()
            if state == LinkState.PROPOSED:
                self.decided_by, self.decided_at = None, None
            self.save(update_fields=["state", "version", "decided_by", "decided_at"])
            writer.append(
                action=LINK_ACTIONS[state],
                actor=actor,
                target=self.target(),
                before=before,
                after={"state": str(state), "score": self.score},
                article_id=self.claim_a.article_id,
                claim_id=self.claim_a_id,
                other_claim_id=self.claim_b_id,
                reverts=reverts,
            )
        return self


LINK_ACTIONS = {
    LinkState.CONFIRMED: Action.SAME_CLAIM_CONFIRMED,
    LinkState.REJECTED: Action.SAME_CLAIM_REJECTED,
    LinkState.PROPOSED: Action.SAME_CLAIM_REOPENED,
}


def flag_same_claims(claim: Claim, by: Any) -> None:
    """User ``by``'s verdict or ruling on ``claim`` changed (in that change's transaction):
    the same claim confirmed in other articles comes due for re-check there, as new
    evidence makes it (``claims.recheck``: a verdict given before ``evidence_changed_at``
    is due, but ``by``'s own, who knows what they said), for what was said on its twin is
    evidence about it. One UPDATE; nothing when it has no link.

    The twins are one UNION of the link's two sides, which each database reads through the
    links' indexes and then the claims' primary key: ``pk IN (...) OR pk IN (...)`` made
    PostgreSQL read every claim there is, for every verdict. The statement is written once
    (``_flag_sql``): composed by the ORM, it cost more than the rest of the verdict's
    write (tests/test_recurring.py holds it to its twins and its plan)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    confirmed = LinkState.CONFIRMED.value
    with connection.cursor() as cursor:
        cursor.execute(
            _flag_sql(connection.vendor), [now, by.pk, confirmed, claim.pk, confirmed, claim.pk]
        )


@functools.cache
def _flag_sql(vendor: str) -> str:
    """``flag_same_claims``'s UPDATE on this database."""
    q = connection.ops.quote_name
    claims, links = q(Claim._meta.db_table), q(ClaimLink._meta.db_table)
    at, by = q("evidence_changed_at"), q("evidence_changed_by_id")
    a, b, state = map(q, ("claim_a_id", "claim_b_id", "state"))
    return (
        f"UPDATE {claims} SET {at} = %s, {by} = %s WHERE {q('id')} IN ("
        f"SELECT {b} FROM {links} WHERE {state} = %s AND {a} = %s"
        f" UNION SELECT {a} FROM {links} WHERE {state} = %s AND {b} = %s)"
    )


@functools.cache
def _clock_sql(vendor: str) -> str:
    """``Claim.evidence_changed``'s UPDATE on this database."""
    q = connection.ops.quote_name
    at, by = q("evidence_changed_at"), q("evidence_changed_by_id")
    return f"UPDATE {q(Claim._meta.db_table)} SET {at} = %s, {by} = %s WHERE {q('id')} = %s"


# ``claims.recurring`` imports the models, so the claim-editing verbs name its hook rather
# than import it (as ``SNAPSHOT_TASK`` below): imports run one way.
RECURRING_EDITED = "claims.recurring.edited"


def reindex_same_claims(project: Project, *claims: Claim) -> None:
    """A claim edit changed the text of ``claims`` (or made them): their words in the
    recurring-claims index and their open proposals afresh, in the edit's transaction
    (derived data: no event of its own)."""
    import_string(RECURRING_EDITED)(project, claims[0].article, claims)


# --- API tokens ---

API_TOKEN_MAX_DAYS = 365  # the longest a token may live: every token expires


def api_token_digest(raw: str) -> str:
    """What is stored of a token: its sha256. The secret is 32 random bytes (256 bits), so
    nobody can guess it from the digest; a slow password hash (PBKDF2, argon2) guards
    low-entropy secrets people choose, and would only cost time on every API request."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def live(self) -> ApiTokenQuerySet:
        """Tokens that still open the API: neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A personal access token for the JSON API (claims/api/), for one project and a role
    no higher than its owner's there. What it may do is re-read on every request
    (claims/tokens.py): the lower of its role and the owner's current one, nothing once the
    owner has left. Creating and revoking one are events of that project's chain; a token
    for several projects is one token per project, each in its own chain."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_tokens")
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # Public: shown in lists and named by every event the token writes.
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)  # api_token_digest() of the whole token
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    def target(self) -> dict[str, Any]:
        return {"type": "token", "token": self.prefix, "owner": self.owner.get_username()}

    @classmethod
    def issue(
        cls, owner: Member, *, name: str, role: Role | str, days: int
    ) -> tuple[ApiToken, str]:
        """A new token for ``owner`` (the acting ``Member``) in their project: one
        ``token.created`` event. Returns it and the whole token, which is never stored and
        so can be shown only now."""
        project = owner.project
        user = _acting(project, owner, Role.VIEWER)
        role = Role(role)
        if not owner.at_least(role):
            raise ValidationError(
                f"A token's role can be at most yours here ({owner.role.label.lower()})."
            )
        name = name.strip()
        if not name or len(name) > 100:
            raise ValidationError("Give the token a name of at most 100 characters.")
        if type(days) is not int or not 1 <= days <= API_TOKEN_MAX_DAYS:
            raise ValidationError(f"A token lives from 1 to {API_TOKEN_MAX_DAYS} days.")
        prefix = secrets.token_hex(4)
        raw = f"clm_{prefix}_{secrets.token_urlsafe(32)}"
        token = cls(
            project=project,
            owner=user,
            name=name,
            prefix=prefix,
            digest=api_token_digest(raw),
            role=role,
            expires_at=timezone.now() + dt.timedelta(days=days),
        )
        with writing(project) as writer:
            token.save()
            writer.append(
                action=Action.TOKEN_CREATED,
                actor=user,
                target=token.target(),
                after={"name": name, "role": str(role), "expires": utc_day(token.expires_at)},
            )
        return token, raw

    def revoke(self, who: Any) -> None:
        """Revoke: its owner, or an admin of its project. One ``token.revoked`` event."""
        project = self.project
        member = _member(project, who)
        mine = member is not None and member.user.pk == self.owner_id
        user = _acting(project, member, Role.VIEWER if mine else Role.ADMIN)
        with writing(project) as writer:
            current = ApiToken.objects.select_for_update().get(pk=self.pk)
            if current.revoked_at is not None:
                raise Conflict(current, "This token is already revoked.")
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])
            writer.append(
                action=Action.TOKEN_REVOKED,
                actor=user,
                target=self.target(),
                before={"name": self.name, "role": self.role},
            )


def utc_day(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiRequestWindow(models.Model):
    """How many requests a token made in one minute, of one kind ("all", or "write"): the
    rate limit's fixed window, counted in the database so that every worker process of
    every server counts in the same row (claims/tokens.py)."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=5)
    window = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # tokens.count_request() relies on this to count a window's first requests,
            # made at once by two processes, in one row.
            models.UniqueConstraint(fields=["token", "kind", "window"], name="api_window_once"),
        ]

    def __str__(self) -> str:
        return f"{self.token_id} {self.kind} {self.window:%H:%M}: {self.count}"


# --- Background jobs and webhooks ---


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for the worker"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class JobKind(models.TextChoices):
    IMPORT = "import", "Import"
    EXPORT = "export", "Audit export"


class JobQuerySet(models.QuerySet):
    def stale(self) -> JobQuerySet:
        """Running jobs whose worker has said nothing for longer than a job's longest step
        may take (``CLAIMS_JOB_STALE_SECONDS``): their worker died (``claims.tasks.recover``)."""
        limit = timezone.now() - dt.timedelta(seconds=settings.CLAIMS_JOB_STALE_SECONDS)
        return self.filter(status=JobStatus.RUNNING, heartbeat_at__lt=limit)


class Job(models.Model):
    """Long work a member started, run by the task worker (``claims.tasks``), as the browser
    follows it: its phase, how far it got, its result or why it failed.

    Not audited: the work itself writes its event (an import, its ``article.imported``).
    Progress is written outside the work's own transaction (an import is one), so a worker
    killed mid-way leaves the job running with an old heartbeat and nothing else stored."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="jobs")
    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    kind = models.CharField(max_length=20, choices=JobKind.choices)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    phase = models.CharField(max_length=80, blank=True)  # in words: "segmenting the text"
    percent = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    params = models.JSONField(default=dict)  # the work's arguments: filename, date, metadata
    payload = models.BinaryField(null=True)  # its input (an import's bytes); dropped at the end
    result = models.JSONField(null=True)  # {"article": id, "created": bool}
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)  # the task result of its last run
    created_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)

    objects = JobQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    def claim(self) -> bool:
        """Take a queued job for this run (False: another run has it, or it is finished)."""
        now = timezone.now()
        taken = Job.objects.filter(pk=self.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, attempts=F("attempts") + 1, heartbeat_at=now
        )
        self.refresh_from_db()
        return taken == 1

    def step(self, phase: str, percent: int) -> None:
        """Say how far the work got; also the heartbeat that tells a live worker."""
        self.phase, self.percent, self.heartbeat_at = phase, percent, timezone.now()
        self.save(update_fields=["phase", "percent", "heartbeat_at"])

    def finish(self, result: dict[str, Any]) -> None:
        self._end(JobStatus.DONE, result=result, phase="done", percent=100)

    def fail(self, error: str) -> None:
        self._end(JobStatus.FAILED, error=error)

    def _end(self, status: JobStatus, **fields: Any) -> None:
        fields |= {"status": status, "payload": None, "finished_at": timezone.now()}
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=list(fields))


class Webhook(models.Model):
    """An endpoint of a project that is sent the events it chose, signed with its secret.

    Each change is one event, and keeps ``AuditChain.webhooks`` (whether the project has an
    active endpoint) true to the rows, so that the write path knows without a query."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    # Action values, and group names that stand for every action of their group.
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=80)  # shown once; kept to sign deliveries
    active = models.BooleanField(default=True)
    failures = models.PositiveIntegerField(default=0)  # failed attempts in a row
    paused_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.url

    def wants(self, action: str) -> bool:
        return any(action == kind or action.startswith(f"{kind}.") for kind in self.events)

    def fields(self) -> dict[str, Any]:
        """What its events say of it (never the secret)."""
        return {"url": self.url, "events": list(self.events), "active": self.active}

    @classmethod
    def register(cls, project: Project, who: Any, *, url: str, events: list[str]) -> Webhook:
        """A new active endpoint with a fresh secret: for admins, one event."""
        import secrets

        actor = _acting(project, who, Role.ADMIN)
        webhook = cls(project=project, url=url, events=events)
        webhook.secret = f"whsec_{secrets.token_hex(24)}"
        with writing(project) as writer:
            webhook.save()
            webhook._written(writer, Action.WEBHOOK_ADDED, actor, None)
        return webhook

    def change(self, who: Any, *, url: str, events: list[str]) -> None:
        """New address or events: one event (none when nothing changes)."""
        self._update(who, Action.WEBHOOK_CHANGED, url=url, events=events)

    def pause(self, who: Any, reason: str = "") -> None:
        """Stop sending (an admin, or the worker with ``who`` None after failures)."""
        self._update(who, Action.WEBHOOK_PAUSED, active=False, paused_reason=reason[:300])

    def resume(self, who: Any) -> None:
        """Send again, from the next event on, with the failure count back at zero."""
        self._update(who, Action.WEBHOOK_RESUMED, active=True, paused_reason="", failures=0)

    def remove(self, who: Any) -> None:
        actor = _acting(self.project, who, Role.ADMIN)
        with writing(self.project) as writer:
            before, pk = self.fields(), self.pk
            self.delete()
            self._written(writer, Action.WEBHOOK_REMOVED, actor, before, after=None, pk=pk)

    def _update(self, who: Any, action: Action, **changes: Any) -> None:
        # The worker pauses a failing endpoint as the system (``who`` None).
        actor = _acting(self.project, who, Role.ADMIN) if who is not None else None
        with writing(self.project) as writer:
            current = Webhook.objects.get(pk=self.pk)  # as it stands, under the chain lock
            before = current.fields()
            for name, value in changes.items():
                setattr(current, name, value)
            if current.fields() == before:  # already so (an endpoint paused twice at once)
                writer.skip()
                return
            current.save(update_fields=list(changes))
            self.__dict__.update({name: getattr(current, name) for name in changes})
            extra = {"reason": self.paused_reason} if action == Action.WEBHOOK_PAUSED else {}
            self._written(writer, action, actor, before, after=self.fields() | extra)

    def _written(
        self,
        writer: Any,
        action: Action,
        actor: Any,
        before: dict[str, Any] | None,
        after: Any = ...,
        pk: int | None = None,
    ) -> None:
        chain = writer.chain
        chain.webhooks = Webhook.objects.filter(project_id=self.project_id, active=True).exists()
        chain.save(update_fields=["webhooks"])
        writer.append(
            action=action,
            actor=actor,
            target={"type": "webhook", "webhook": pk or self.pk},
            before=before,
            after=self.fields() if after is ... else after,
        )


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up"
    CANCELLED = "cancelled", "Not sent (endpoint paused)"


class Delivery(models.Model):
    """One event sent to one endpoint, with its attempts. Not audited: derived from the
    event, which is. ``uid`` is the ``Claims-Delivery`` header, the same on every attempt,
    so that a receiver can tell a retry or a replay from a new delivery."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    # Plain integers, not a foreign key: the log outlives what it describes.
    event_id = models.BigIntegerField()
    seq = models.PositiveBigIntegerField()
    action = models.CharField(max_length=40)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True)
    last_attempt_at = models.DateTimeField(null=True)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # claims.webhooks.enqueue_deliveries: one delivery of an event per endpoint.
            models.UniqueConstraint(fields=["webhook", "event_id"], name="delivery_once"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} to {self.webhook_id} ({self.status})"


# --- Evidence snapshots ---


class PageState(models.TextChoices):
    """What a check of an evidence page found, against the check before it."""

    OK = "ok", "Fetched"
    CHANGED = "changed", "Page changed"
    MOVED = "moved", "Moved"
    DEAD = "dead", "Page gone"
    REFUSED = "refused", "Not fetched"
    ERROR = "error", "Could not be read"


# A check that found one of these since the page was last read well makes the verdicts on
# its claim due, as new evidence does (``EvidenceSnapshot.record``).
FLAGGED_STATES = frozenset({PageState.CHANGED, PageState.MOVED, PageState.DEAD})
# The checks that read the page's text: a later one is compared with the latest of these.
READ_STATES = frozenset({PageState.OK, PageState.CHANGED, PageState.MOVED})
# ``claims.snapshots`` imports the models, so the models name its task rather than import
# it (as ``claims.log.chain`` names the chain's model): imports run one way.
SNAPSHOT_TASK = "claims.snapshots.snapshot_evidence"


def snapshot_later(evidence_id: int) -> None:
    """Queue the first snapshot of new evidence (after its transaction commits; robustly:
    a queue that fails leaves the evidence saved, and the re-check reads it later)."""
    if settings.CLAIMS_SNAPSHOT_EVIDENCE:
        import_string(SNAPSHOT_TASK).enqueue(evidence_id)


def same_place(first: str, second: str) -> bool:
    """Whether two addresses are one page: http or https, a "www." and a trailing slash or
    fragment aside, which sites add and drop without moving anything."""

    def place(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().removeprefix("www.")
        return host, parts.path.rstrip("/"), parts.query

    try:
        return place(first) == place(second)
    except ValueError:
        return first == second


class EvidenceSnapshot(models.Model):
    """One check of an evidence page: what was there, read by ``claims.snapshots``.

    Derived data from the web, not anyone's action: written without an event of its own.
    Every check is kept; the evidence's current state is its latest. A check that finds the
    page changed, moved or gone since it was last read well reopens the verdicts on the
    claim, and that is a change of what the team is asked to do: one event
    (``Action.EVIDENCE_PAGE_CHANGED``), as ``record`` writes it.
    """

    evidence = models.ForeignKey(Evidence, on_delete=models.CASCADE, related_name="snapshots")
    fetched_at = models.DateTimeField(default=timezone.now)
    final_url = models.URLField(max_length=2000, blank=True)  # after redirects
    state = models.CharField(max_length=8, choices=PageState.choices)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)  # the page's main text, as extracted
    sha256 = models.CharField(max_length=64, blank=True)  # of ``text``, UTF-8
    # Where the evidence's quote stands in ``text`` (null when it has no quote, or was not
    # read); ``quote_found`` False: the quote is not on the page.
    quote_found = models.BooleanField(null=True, blank=True)
    quote_start = models.PositiveIntegerField(null=True, blank=True)
    quote_end = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # Changed: the unified diff of ``text`` against the previous text that was read.
    diff = models.TextField(blank=True)
    # The check reopened the claim's verdicts (and wrote the event that says so).
    flagged = models.BooleanField(default=False)

    class Meta:
        ordering = ["evidence", "pk"]
        indexes = [
            # snapshots.stale_evidence() and the panel read each evidence's latest check.
            models.Index(fields=["evidence", "-id"], name="snapshot_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.evidence_id} {self.state} at {self.fetched_at:%Y-%m-%d %H:%M}"

    @property
    def read(self) -> bool:
        return self.state in READ_STATES

    @property
    def moved_elsewhere(self) -> bool:
        """The page was read at an address other than the evidence's own."""
        return bool(self.final_url) and not same_place(self.final_url, self.evidence.url)

    @classmethod
    def record(cls, observed: EvidenceSnapshot) -> EvidenceSnapshot:
        """Keep ``observed`` (an unsaved check of its evidence's page: ok, dead, refused
        or error, as fetched), judged against the checks before it: moved when read at
        another address than the last time (the evidence's own, the first time), changed
        when its text differs from the last text read, with the diff. One transaction,
        the chain head locked first (checks of one project are judged one at a time).

        The first check is the baseline, and never reopens anything (adding the evidence
        did). A later one that finds the page changed, moved, or gone after it was read
        makes the claim's verdicts due, as new evidence does, with one event; so does
        nothing on evidence removed since, or on a claim a revision retired."""
        evidence = observed.evidence
        claim = evidence.claim
        project = claim.article.project
        with writing(project) as writer:
            current = Evidence.objects.get(pk=evidence.pk)
            earlier = cls.objects.filter(evidence=evidence).order_by("-pk")
            previous = earlier.first()
            last_read = earlier.filter(state__in=READ_STATES).first()
            if observed.read:
                baseline = last_read.final_url if last_read is not None else evidence.url
                if not same_place(observed.final_url, baseline):
                    observed.state = PageState.MOVED
                if last_read is not None and last_read.sha256 != observed.sha256:
                    observed.diff = text_diff(last_read, observed)
                    if observed.state == PageState.OK:
                        observed.state = PageState.CHANGED
            observed.flagged = (
                last_read is not None
                and observed.state in FLAGGED_STATES
                # A page found gone is news once, not at every check while it stays gone.
                and not (
                    observed.state == PageState.DEAD
                    and previous is not None
                    and previous.state == PageState.DEAD
                )
                and current.removed_at is None
                and Claim.all_objects.filter(pk=claim.pk, retired_in__isnull=True).exists()
            )
            observed.save()
            if not observed.flagged or last_read is None:
                writer.skip()  # a check that changes nothing anyone is asked to do
                return observed
            claim.evidence_changed(None)
            writer.append(
                action=Action.EVIDENCE_PAGE_CHANGED,
                actor=None,  # the scheduled re-check, not a person
                target={**claim.target(), "type": "evidence", "evidence": evidence.pk},
                before={"url": last_read.final_url, "sha256": last_read.sha256},
                after={
                    "url": evidence.url,
                    "title": evidence.title,
                    "page": observed.described,
                    "final_url": observed.final_url,
                    "sha256": observed.sha256,
                    "quote_found": observed.quote_found,
                    "snapshot": observed.pk,
                },
                article_id=claim.article_id,
                claim_id=claim.pk,
            )
        return observed

    @property
    def described(self) -> str:
        """What the check found, in words: "changed", "is gone (404)", "moved to ..."."""
        if self.state == PageState.DEAD:
            return f"is gone ({self.http_status or self.error})"
        if self.state == PageState.MOVED:
            return f"moved to {self.final_url}"
        return "changed" if self.state == PageState.CHANGED else str(self.get_state_display())


def text_diff(before: EvidenceSnapshot, after: EvidenceSnapshot) -> str:
    """The unified diff of two checks' texts, line by line, dated."""
    lines = difflib.unified_diff(
        before.text.splitlines(),
        after.text.splitlines(),
        fromfile=f"{before.final_url} {before.fetched_at:%Y-%m-%d %H:%M}",
        tofile=f"{after.final_url} {after.fetched_at:%Y-%m-%d %H:%M}",
        lineterm="",
    )
    return "\n".join(lines)
