"""Writing: verdicts, adjudications, evidence, claim edits, imports and the audit export.

Each goes through the model verb the browser's view calls (one event per change, in the
same transaction), after the same form has checked its input. A write to something that
has a version (a verdict, an adjudication, a claim) is made against the version named by
``If-Match``: 412 when it is missing or not the current one, 409 when the verb finds that
it moved on meanwhile (or refuses the change as a conflict, e.g. evidence already removed).
"""

from __future__ import annotations

import itertools
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from ninja import Status
from ninja.errors import HttpError

from claims import extraction, importer, tasks
from claims.api import auth, present
from claims.api.routes.common import answers, id_param, router, slug_param
from claims.api.schemas import (
    AdjudicationIn,
    AdjudicationOut,
    ClaimOut,
    EvidenceIn,
    EvidenceOut,
    ExportIn,
    ImportedOut,
    ImportIn,
    JobOut,
    Problem,
    SpanIn,
    SplitIn,
    VerdictIn,
    VerdictOut,
)
from claims.forms import (
    AdjudicationForm,
    ArticleMetadataForm,
    ConfirmImportForm,
    EvidenceForm,
    VerdictForm,
)
from claims.http import export_download
from claims.importer import ImportRejected
from claims.log import signing
from claims.log.export import start_export
from claims.models import (
    Adjudication,
    Article,
    Claim,
    Job,
    JobKind,
    JobStatus,
    Member,
    Role,
    Verdict,
)
from claims.views.audit import ExportForm

# The operations made against a version, which take If-Match.
VERSIONED = frozenset(
    {"set_verdict", "clear_verdict", "adjudicate", "withdraw", "correct_span", "split", "merge"}
)

# What an audit export's file may be (``claims.log.export``'s kinds).
EXPORT_TYPES = {
    "application/jsonl": {"schema": {"type": "string"}},
    "text/csv": {"schema": {"type": "string"}},
    "application/ld+json": {"schema": {"type": "string"}},
}


def _checked(form: Any) -> dict[str, Any]:
    """The form's cleaned data, or a 422 naming each refused field."""
    if not form.is_valid():
        raise ValidationError(
            {
                name.removeprefix("evidence-"): errors
                for name, errors in form.errors.as_data().items()
            }
        )
    data: dict[str, Any] = form.cleaned_data
    return data


def _day(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def _ruling(claim: Claim) -> Adjudication | None:
    try:
        return claim.adjudication
    except Adjudication.DoesNotExist:
        return None


def _claim(response: HttpResponse, claim: Claim, member: Member) -> dict[str, Any]:
    response["ETag"] = present.etag(claim.version)
    return present.claim(present.visible_claim(claim, member))


def _verdict(response: HttpResponse, claim: Claim, member: Member, verdict: Verdict) -> Any:
    response["ETag"] = present.etag(verdict.version)
    return present.verdict(claim.pk, member.user.get_username(), verdict if verdict.pk else None)


@router.put(
    "/projects/{slug}/claims/{claim_id}/verdicts/mine", response=answers(VerdictOut, write=True)
)
def set_verdict(
    request: HttpRequest,
    response: HttpResponse,
    given: VerdictIn,
    slug: str = slug_param(),
    claim_id: int = id_param(),
) -> Any:
    """Set or change the caller's verdict (analysts and above), against ``If-Match``."""
    member, claim = auth.claim(request, slug, claim_id, Role.ANALYST)
    mine = Verdict.objects.filter(claim=claim, analyst=member.user).first()
    version = present.if_match(request, mine.version if mine else 0)
    data = _checked(
        VerdictForm(
            {
                "status": given.status,
                "rationale": given.rationale,
                "as_of": _day(given.as_of),
                "recheck_by": _day(given.recheck_by),
                "version": version,
            }
        )
    )
    verdict = claim.set_verdict(
        member,
        data["status"],
        rationale=data["rationale"],
        as_of=data["as_of"],
        recheck_by=data["recheck_by"],
        expected_version=version,
    )
    return _verdict(response, claim, member, verdict)


@router.delete(
    "/projects/{slug}/claims/{claim_id}/verdicts/mine", response=answers(VerdictOut, write=True)
)
def clear_verdict(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = slug_param(),
    claim_id: int = id_param(),
) -> Any:
    """Clear the caller's verdict, against ``If-Match``."""
    member, claim = auth.claim(request, slug, claim_id, Role.ANALYST)
    mine = Verdict.objects.filter(claim=claim, analyst=member.user).first()
    version = present.if_match(request, mine.version if mine else 0)
    verdict = claim.clear_verdict(member, expected_version=version)
    return _verdict(response, claim, member, verdict)


@router.put(
    "/projects/{slug}/claims/{claim_id}/adjudication",
    response=answers(AdjudicationOut, write=True),
)
def adjudicate(
    request: HttpRequest,
    response: HttpResponse,
    given: AdjudicationIn,
    slug: str = slug_param(),
    claim_id: int = id_param(),
) -> Any:
    """Rule on the claim (reviewers and admins), against ``If-Match``."""
    member, claim = auth.claim(request, slug, claim_id, Role.REVIEWER)
    ruling = _ruling(claim)
    version = present.if_match(request, ruling.version if ruling else 0)
    data = _checked(
        AdjudicationForm(
            {
                "status": given.status,
                "rationale": given.rationale,
                "as_of": _day(given.as_of),
                "version": version,
            }
        )
    )
    written = claim.adjudicate(
        member,
        data["status"],
        rationale=data["rationale"],
        as_of=data["as_of"],
        expected_version=version,
    )
    response["ETag"] = present.etag(written.version)
    return present.adjudication(claim.pk, written if written.pk else None)


@router.delete(
    "/projects/{slug}/claims/{claim_id}/adjudication",
    response=answers(AdjudicationOut, write=True),
)
def withdraw(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = slug_param(),
    claim_id: int = id_param(),
) -> Any:
    """Withdraw the ruling, against ``If-Match``."""
    member, claim = auth.claim(request, slug, claim_id, Role.REVIEWER)
    ruling = _ruling(claim)
    version = present.if_match(request, ruling.version if ruling else 0)
    written = claim.withdraw_adjudication(member, expected_version=version)
    response["ETag"] = present.etag(written.version)
    return present.adjudication(claim.pk, written if written.pk else None)


@router.post(
    "/projects/{slug}/claims/{claim_id}/evidence",
    response=answers(EvidenceOut, 201, write=True),
)
def add_evidence(
    request: HttpRequest, given: EvidenceIn, slug: str = slug_param(), claim_id: int = id_param()
) -> Any:
    """Add evidence (analysts and above). Evidence has no version: adding creates, and a
    ``submission`` sent twice adds it once."""
    member, claim = auth.claim(request, slug, claim_id, Role.ANALYST)
    fields = given.dict()
    fields["submission"] = str(given.submission) if given.submission else ""
    data = _checked(EvidenceForm({f"evidence-{k}": v for k, v in fields.items()}))
    added = claim.add_evidence(member, **data)
    return Status(201, present.evidence(added))


@router.delete("/projects/{slug}/evidence/{evidence_id}", response=answers(EvidenceOut, write=True))
def remove_evidence(
    request: HttpRequest, slug: str = slug_param(), evidence_id: int = id_param()
) -> Any:
    """Remove evidence: one's own (analysts), anyone's (admins); 409 if already removed."""
    member, found = auth.evidence(request, slug, evidence_id, Role.ANALYST)
    found.remove(member)
    return present.evidence(found)


@router.post("/projects/{slug}/claims/{claim_id}/span", response=answers(ClaimOut, write=True))
def correct_span(
    request: HttpRequest,
    response: HttpResponse,
    given: SpanIn,
    slug: str = slug_param(),
    claim_id: int = id_param(),
) -> Any:
    """Move the claim's bounds (offsets in the article's text), against ``If-Match``."""
    member, claim = auth.claim(request, slug, claim_id, Role.REVIEWER)
    version = present.if_match(request, claim.version)
    edited = claim.correct_span(member, start=given.start, end=given.end, expected_version=version)
    return _claim(response, edited, member)


@router.post(
    "/projects/{slug}/claims/{claim_id}/split", response=answers(list[ClaimOut], write=True)
)
def split(
    request: HttpRequest,
    given: SplitIn,
    slug: str = slug_param(),
    claim_id: int = id_param(),
) -> Any:
    """Split the claim at offset ``at``, against ``If-Match``: both parts, left first."""
    member, claim = auth.claim(request, slug, claim_id, Role.REVIEWER)
    version = present.if_match(request, claim.version)
    parts = claim.split(member, at=given.at, expected_version=version)
    return [present.claim(present.visible_claim(part, member)) for part in parts]


@router.post("/projects/{slug}/claims/{claim_id}/merge", response=answers(ClaimOut, write=True))
def merge(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = slug_param(),
    claim_id: int = id_param(),
) -> Any:
    """Merge the next claim of the same sentence into this one, against ``If-Match``."""
    member, claim = auth.claim(request, slug, claim_id, Role.REVIEWER)
    version = present.if_match(request, claim.version)
    merged = claim.merge_next(member, expected_version=version)
    return _claim(response, merged, member)


@router.post(
    "/projects/{slug}/articles",
    response=answers(ImportedOut, 201, write=True, also={200: ImportedOut, 202: JobOut}),
)
def import_article(
    request: HttpRequest, response: HttpResponse, given: ImportIn, slug: str = slug_param()
) -> Any:
    """Import an article (admins) from its text, or from the page at ``url`` (fetched and
    extracted as the browser's import from a link does; a refused fetch is a 422 saying
    why): 201, or 200 when this very text is already in the project (nothing is added).

    A text above the background size, or any import sent with ``Prefer: respond-async``,
    is left to the worker: 202, with the job to follow in ``Location``."""
    member = auth.member(request, slug, Role.ADMIN)
    fields = given.dict(exclude={"url"})
    fields["published_on"] = _day(given.published_on)
    if _in_background(request, given):
        job = _start_job(request, member, given, fields)
        response["Location"] = request.path.removesuffix("/articles") + f"/jobs/{job.pk}"
        return Status(202, _job(job))
    try:
        if given.url is not None:
            article, created = _from_url(member, given.url, fields)
        else:
            form = ConfirmImportForm(fields)
            _checked(form)
            article, created = form.import_into(member.project, member.user)
    except ImportRejected as refusal:
        raise ValidationError(str(refusal)) from None
    body = {
        "created": created,
        "article": present.article(article),
        "claims": article.claims.count(),
    }
    return Status(201 if created else 200, body)


def _in_background(request: HttpRequest, given: ImportIn) -> bool:
    if _prefers_async(request):
        return True
    return given.text is not None and tasks.runs_in_background(len(given.text.encode()))


def _prefers_async(request: HttpRequest) -> bool:
    # RFC 7240's way for a client to ask for an answer before the work is done.
    prefer = {p.strip().lower() for p in request.headers.get("Prefer", "").split(",")}
    return "respond-async" in prefer


def _start_job(
    request: HttpRequest, member: Member, given: ImportIn, fields: dict[str, Any]
) -> Job:
    """The import, checked as far as it can be without doing it, queued for the worker."""
    form = ArticleMetadataForm(fields)
    form.fields["published_on"].required = given.text is not None  # a page may give it
    data = _checked(form)
    if given.text is not None and not given.text.strip():
        raise ValidationError({"text": "The text is empty."})
    return tasks.start_import(
        member.project,
        member.user,
        given.text.encode() if given.text is not None else None,
        url=given.url or "",
        filename=given.filename,
        published_on=data["published_on"],
        html=False,  # as the text's import in the request reads it (ConfirmImportForm)
        metadata=form.metadata(),
        token=_token_prefix(request),
    )


def _token_prefix(request: HttpRequest) -> str | None:
    token = auth.caller(request).token
    return token.prefix if token is not None else None


def _job(job: Job) -> dict[str, Any]:
    result = job.result or {}
    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.status,
        "phase": job.phase,
        "percent": job.percent,
        "article": result.get("article"),
        "created": result.get("created"),
        "export": _export_file(job),
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def _export_file(job: Job) -> dict[str, Any] | None:
    """A finished export's file, and where to download it until it expires."""
    if job.kind != JobKind.EXPORT or job.status != JobStatus.DONE:
        return None
    result = job.result or {}
    expired = tasks.export_expired(job)
    return {
        "download": None
        if expired
        else reverse("api-v1:job_file", args=[job.project.slug, job.pk]),
        "filename": result["filename"],
        "content_type": result["content_type"],
        "count": result["count"],
        "event": result["event"],
    }


def _own_job(member: Member, job_id: int) -> Job:
    """A job of the project: one's own (admins: anyone's), or 404."""
    found = Job.objects.filter(project=member.project, pk=job_id).select_related("project")
    job = found.defer("payload").first()
    if job is None or (job.user_id != member.user.pk and not member.is_admin):
        raise Http404("No such job.")
    return job


@router.get("/projects/{slug}/jobs/{job_id}", response=answers(JobOut))
def job_detail(request: HttpRequest, slug: str = slug_param(), job_id: int = id_param()) -> Any:
    """An import or an audit export left to the worker: its state and progress, then the
    imported article or the export's file, or why it failed. One's own jobs (admins:
    anyone's in the project)."""
    member = auth.member(request, slug)
    # A job whose worker died is run again or reported failed when someone looks at it;
    # an export past its days expires then (as the browser's page).
    tasks.recover(prune=False)
    return _job(tasks.expire_if_due(_own_job(member, job_id)))


@router.get(
    "/projects/{slug}/jobs/{job_id}/file",
    response=answers(None, also={410: Problem}),
    openapi_extra={"responses": {200: {"description": "The file", "content": EXPORT_TYPES}}},
)
def job_file(request: HttpRequest, slug: str = slug_param(), job_id: int = id_param()) -> Any:
    """The file of an audit export the worker made, as the browser's download gives it:
    for reviewers and admins, one's own export (admins: anyone's). 410 once the file has
    expired (kept ``CLAIMS_EXPORT_KEEP_DAYS``): start a new export."""
    member = auth.member(request, slug, Role.REVIEWER)
    job = tasks.expire_if_due(_own_job(member, job_id))
    if job.kind != JobKind.EXPORT or job.status != JobStatus.DONE:
        raise Http404("This job has no file to download.")
    path = tasks.export_path(job)
    if tasks.export_expired(job) or not path.is_file():
        raise HttpError(410, "The export's file has expired; start a new export.")
    return export_download(job)


def _from_url(member: Member, url: str, fields: dict[str, Any]) -> tuple[Article, bool]:
    """Fetch, extract and import the page at ``url`` (``extraction.prepare_page``: what the
    caller gave wins, what the page says fills the rest; the address the fetch ended at and
    its time are kept on the article)."""
    form = ArticleMetadataForm(fields)
    form.fields["published_on"].required = False  # the page may give it
    given = _checked(form)
    prepared, metadata = extraction.prepare_page(
        url, published_on=given["published_on"], given=form.metadata()
    )
    return importer.import_prepared(member.project, prepared, actor=member.user, **metadata)


@router.post(
    "/projects/{slug}/audit/exports",
    response=answers(None, write=True, also={202: JobOut}),
    openapi_extra={"responses": {200: {"description": "The export", "content": EXPORT_TYPES}}},
)
def audit_export(
    request: HttpRequest, response: HttpResponse, given: ExportIn, slug: str = slug_param()
) -> Any:
    """Export the audit trail (reviewers and admins), as the browser's export page does:
    one ``audit.exported`` event, then the file (a signed chain for ``jsonl``).

    An export of more events than the background limit, or any sent with ``Prefer:
    respond-async``, is left to the worker: 202, with the job to follow in ``Location``;
    once done, the job names its file to download (kept ``CLAIMS_EXPORT_KEEP_DAYS``)."""
    member = auth.member(request, slug, Role.REVIEWER)
    fields = {k: ("" if v is None else str(v)) for k, v in given.dict().items()}
    form = ExportForm(member.project, fields)
    _checked(form)
    if _prefers_async(request) or tasks.export_runs_in_background(form.selected_events()):
        job = _start_export_job(request, member, form)
        response["Location"] = reverse("api-v1:job_detail", args=[member.project.slug, job.pk])
        return Status(202, _job(job))
    try:
        export = start_export(
            member.project, form.cleaned_data["format"], form.filters(), actor=member.user
        )
    except signing.SigningKeyMissing as missing:
        raise HttpError(503, str(missing)) from None
    streamed = StreamingHttpResponse(
        itertools.chain(export.chunks), content_type=export.content_type
    )
    streamed["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return streamed


def _start_export_job(request: HttpRequest, member: Member, form: ExportForm) -> Job:
    """The export, queued for the worker; a signed one is refused now (503) when there is
    no key to sign it, rather than by the worker later."""
    fmt = form.cleaned_data["format"]
    if fmt == "jsonl":
        try:
            signing.private_key()
        except signing.SigningKeyMissing as missing:
            raise HttpError(503, str(missing)) from None
    return tasks.start_export(
        member.project, member.user, fmt, form.filters(), token=_token_prefix(request)
    )
