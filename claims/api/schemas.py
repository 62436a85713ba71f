"""What the API answers and accepts: typed schemas, from which the OpenAPI document is made.

Representations are built from what the browser's screens are built from (``reading``,
``tally``, ``log.history``), so blind review hides here exactly what it hides there.
Inputs are checked twice: their shape here, their content by the same forms and model
verbs as the browser's (limits, dates, the verbs' own rules).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, model_validator

from claims.http import MAX_ID
from claims.models import LONG_TEXT

StatusName = Literal["supported", "disputed", "outdated"]
StanceName = Literal["supports", "contradicts", "supersedes", "context"]
Id = int  # documented bounds come with each path parameter (``ids``)


class Problem(Schema):
    """RFC 9457 problem details; ``errors`` lists what was wrong with which field."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


class ProjectOut(Schema):
    slug: str
    name: str
    description: str
    blind: bool
    min_verdicts: int
    role: str = Field(description="What the caller may do here (a token's role at most).")


class VersionOut(Schema):
    number: int
    title: str
    sha256: str
    imported_at: dt.datetime


class ArticleOut(Schema):
    id: int
    title: str
    author: str
    publication: str
    published_on: dt.date
    source_url: str
    filename: str
    version: int
    sha256: str
    imported_at: dt.datetime


class ArticleDetail(ArticleOut):
    text: str
    versions: list[VersionOut]


class ImportedOut(Schema):
    created: bool = Field(description="False: this text was already imported; nothing added.")
    article: ArticleOut
    claims: int


class ExportFileOut(Schema):
    """A finished audit export's file, kept for ``CLAIMS_EXPORT_KEEP_DAYS`` (7 by default)."""

    download: str | None = Field(
        description="Where to GET the file (its exporter, or an admin); null once it has "
        "expired: start a new export."
    )
    filename: str
    content_type: str
    count: int = Field(description="How many records the file holds.")
    event: int = Field(description="The seq of the audit.exported event that records it.")


class JobOut(Schema):
    """Long work the worker runs (an import, an audit export): how far it got, then its
    result or why not."""

    id: int
    kind: Literal["import", "export"]
    state: Literal["queued", "running", "done", "failed"]
    phase: str = Field(description="In words: what the worker is doing now.")
    percent: int
    article: int | None = Field(description="When an import is done: the imported article.")
    created: bool | None = Field(description="When done: False if the text was already there.")
    export: ExportFileOut | None = Field(description="When an audit export is done: its file.")
    error: str = Field(description="When failed: why.")
    created_at: dt.datetime
    finished_at: dt.datetime | None


class CitationOut(Schema):
    id: int
    outlet: str
    when: str = Field(description="As precisely as the text gave it: 2021-03-04, 2021 …")
    raw: str


class AdjudicationOut(Schema):
    claim: int
    status: str = Field(description="Empty: withdrawn, or none yet.")
    rationale: str
    as_of: dt.date | None
    reviewer: str | None
    version: int
    decided_at: dt.datetime | None


class ClaimOut(Schema):
    id: int
    article: int
    number: int
    start: int
    end: int
    text: str
    section: str
    version: int = Field(description="The claim's version: its ETag, and If-Match for edits.")
    citations: list[CitationOut]
    my_status: str
    my_version: int
    team_visible: bool = Field(description="False: blind review hides the team's verdicts.")
    counts: dict[str, int]
    state: str
    final: AdjudicationOut | None


class VerdictOut(Schema):
    claim: int
    analyst: str
    status: str = Field(description="Empty: cleared, or none yet (version 0).")
    rationale: str
    as_of: dt.date | None
    recheck_by: dt.date | None
    version: int = Field(description="Its ETag, and If-Match for the next write.")
    after_seeing_team: bool


class TeamOut(Schema):
    claim: int
    visible: bool = Field(description="False: give your own verdict first (blind review).")
    counts: dict[str, int]
    state: str
    verdicts: list[VerdictOut]


class EvidenceOut(Schema):
    id: int
    claim: int
    url: str
    title: str
    stance: str
    quote: str
    note: str
    added_by: str
    added_at: dt.datetime
    removed_at: dt.datetime | None


class EventOut(Schema):
    seq: int
    action: str
    actor: str | None
    at: dt.datetime
    words: str
    article: int | None
    claim: int | None
    token: str | None = Field(description="The prefix of the API token that made it, if any.")
    before: Any = None
    after: Any = None


class FigureOut(Schema):
    value: float | None
    reason: str
    units: int
    pairs: int


class RowOut(Schema):
    claim: int
    article: int
    visible: bool
    state: str
    counts: dict[str, int]
    consensus: str | None


class ConsensusOut(Schema):
    blind_limited: bool = Field(description="True: the figures rest on your own claims only.")
    percent: FigureOut
    alpha: FigureOut
    fleiss: FigureOut
    with_consensus: dict[str, FigureOut]
    units: int
    raters: int
    verdicts: int
    rows: list[RowOut]


# Pages: keyset pagination, ``next`` is the address of the next page (None: the last).


class ProjectPage(Schema):
    items: list[ProjectOut]
    next: str | None


class ArticlePage(Schema):
    items: list[ArticleOut]
    next: str | None


class ClaimPage(Schema):
    items: list[ClaimOut]
    next: str | None


class VerdictPage(Schema):
    items: list[VerdictOut]
    next: str | None


class EventPage(Schema):
    items: list[EventOut]
    next: str | None


# Inputs


class VerdictIn(Schema):
    status: StatusName
    rationale: str = Field("", max_length=LONG_TEXT)
    as_of: dt.date | None = Field(None, description="For outdated: since when.")
    recheck_by: dt.date | None = None


class AdjudicationIn(Schema):
    status: StatusName
    rationale: str = Field(max_length=LONG_TEXT)
    as_of: dt.date | None = None


class EvidenceIn(Schema):
    url: str = Field(max_length=2000)
    stance: StanceName
    title: str = Field("", max_length=300)
    quote: str = Field("", max_length=LONG_TEXT)
    note: str = Field("", max_length=LONG_TEXT)
    submission: uuid.UUID | None = Field(
        None, description="Idempotency: the same submission twice adds the evidence once."
    )


class SpanIn(Schema):
    start: int = Field(ge=0, le=MAX_ID)
    end: int = Field(ge=0, le=MAX_ID)


class SplitIn(Schema):
    at: int = Field(ge=0, le=MAX_ID)


class ImportIn(Schema):
    """An article's text, or the address of a page (or a PDF, a DOCX) to fetch it from."""

    text: str | None = Field(
        None, description="The article's text (UTF-8), as a .txt file would hold it."
    )
    url: str | None = Field(
        None,
        max_length=2000,
        description="Instead of the text: an http(s) page to fetch and extract, under the "
        "same limits and refusals as the browser's import from a link.",
    )
    published_on: dt.date | None = Field(
        None, description="Needed for a text; a page may give its own, which this overrides."
    )
    filename: str = Field("article.txt", max_length=255)
    title: str = Field("", max_length=500)
    author: str = Field("", max_length=300)
    publication: str = Field("", max_length=300)
    source_url: str = Field("", max_length=2000)

    @model_validator(mode="after")
    def one_source(self) -> ImportIn:
        # Both or neither would leave which one to import to a guess.
        if (self.text is None) == (self.url is None):
            raise ValueError("Give either the text or a url: one of them.")
        return self


class ExportIn(Schema):
    format: Literal["jsonl", "csv", "annotations", "claimreview"] = "jsonl"
    article: int | None = Field(None, ge=1, le=MAX_ID)
    since: dt.date | None = None
    until: dt.date | None = None
    actor: str | None = Field(None, max_length=150)
