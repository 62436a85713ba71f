"""The domain of claims: projects, articles split into claims, verdicts, and the audit chain.

Every state change is a method here (or ``importer.import_article``) that runs inside
``claims.log.chain.writing()``: one transaction, chain head locked first, one event
appended, its action a member of ``claims.log.actions.Action``.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxLengthValidator, URLValidator
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

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
        return self.article.text_of(self.version)[self.start : self.end]


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
    # When evidence was last added, removed or restored: a verdict given before it has
    # new evidence to look at.
    evidence_changed_at = models.DateTimeField(null=True, blank=True)

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
    ) -> Verdict:
        """Set or change the analyst's verdict, made against ``expected_version`` (0: none),
        with the day they mean to look at it again by, if any (``recheck_by``).
        ``analyst`` is a user or the acting ``Member``, as for every verb."""
        wanted = Verdict.asked(status, rationale, as_of, recheck_by=recheck_by)
        return self._write_assessment(Verdict, analyst, wanted, expected_version, reverts)

    def confirm_verdict(self, analyst: Any, *, expected_version: int) -> Verdict:
        """The analyst's verdict still holds: made against ``expected_version``, one
        ``verdict.confirmed`` event, one version on, and its freshness clock restarted
        (``checked_at``). What the verdict says does not change."""
        project = self.article.project
        actor = _acting(project, analyst, Role.ANALYST)
        with writing(project) as writer:
            verdict = Verdict.objects.filter(claim=self, analyst=actor).first()
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
    ) -> A:
        """Set, change or clear (``wanted`` None) one assessment of this claim, made against
        ``expected_version``: the one algorithm behind verdicts and adjudications, ``kind``
        saying what differs (see ``Assessment``). A write that changes nothing writes no
        event, and returns the row as it stands (version 0 if there is none)."""
        project = self.article.project
        actor = _acting(project, who, kind.role_needed)
        with writing(project) as writer:
            key = {"claim": self, **kind.key(actor)}
            current = kind._default_manager.filter(**key).first()
            if (current.version if current else 0) != expected_version:
                raise Conflict(current, kind.conflict)
            assessment = current or kind(**key, version=0)
            before = assessment.fields() if assessment.status else None
            if before == wanted:
                writer.skip()
                return assessment
            target = assessment.stamp(self, actor, before, wanted)
            assessment.assign(wanted)
            assessment.version += 1
            assessment.save()
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
                evidence_changed_at=claim.evidence_changed_at,  # its evidence is copied too
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
            if moved:  # evidence the kept verdicts were not given on: as new as it is here
                changes = [claim.evidence_changed_at, other.evidence_changed_at]
                claim.evidence_changed_at = max((c for c in changes if c), default=None)
            claim.save(update_fields=["end", "version", "evidence_changed_at"])
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
            try:
                with transaction.atomic():  # a savepoint: the refused insert leaves no trace
                    evidence.save()
            except IntegrityError:
                earlier = Evidence.objects.filter(
                    claim=self, added_by=user, submission=submission
                ).first()
                if submission is None or earlier is None:
                    raise
                writer.skip()
                return earlier
            self.evidence_changed()
            writer.append(
                action=Action.EVIDENCE_ADDED,
                actor=user,
                target={**self.target(), "type": "evidence", "evidence": evidence.pk},
                after=evidence.fields(),
                article_id=self.article_id,
                claim_id=self.pk,
            )
        return evidence

    def evidence_changed(self) -> None:
        """Evidence on this claim was added, removed or restored (in that change's
        transaction): every verdict given before now has new evidence to look at."""
        self.evidence_changed_at = timezone.now()
        Claim.all_objects.filter(pk=self.pk).update(evidence_changed_at=self.evidence_changed_at)


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
            claim.evidence_changed()
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
