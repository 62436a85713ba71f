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
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Status

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
    SpanIn,
    SplitIn,
    VerdictIn,
    VerdictOut,
)
from claims.forms import AdjudicationForm, ConfirmImportForm, EvidenceForm, VerdictForm
from claims.importer import ImportRejected
from claims.log import signing
from claims.log.export import start_export
from claims.models import Adjudication, Claim, Member, Role, Verdict
from claims.views.audit import ExportForm

# The operations made against a version, which take If-Match.
VERSIONED = frozenset(
    {"set_verdict", "clear_verdict", "adjudicate", "withdraw", "correct_span", "split", "merge"}
)


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
    response=answers(ImportedOut, 201, write=True, also={200: ImportedOut}),
)
def import_article(request: HttpRequest, given: ImportIn, slug: str = slug_param()) -> Any:
    """Import an article from its text (admins): 201, or 200 when this very text is
    already in the project (nothing is added)."""
    member = auth.member(request, slug, Role.ADMIN)
    fields = given.dict()
    fields["published_on"] = given.published_on.isoformat()
    form = ConfirmImportForm(fields)
    _checked(form)
    try:
        article, created = form.import_into(member.project, member.user)
    except ImportRejected as refusal:
        raise ValidationError(str(refusal)) from None
    body = {
        "created": created,
        "article": present.article(article),
        "claims": article.claims.count(),
    }
    return Status(201 if created else 200, body)


EXPORT_TYPES = {
    "application/jsonl": {"schema": {"type": "string"}},
    "text/csv": {"schema": {"type": "string"}},
    "application/ld+json": {"schema": {"type": "string"}},
}


@router.post(
    "/projects/{slug}/audit/exports",
    response=answers(None, write=True),
    openapi_extra={"responses": {200: {"description": "The export", "content": EXPORT_TYPES}}},
)
def audit_export(request: HttpRequest, given: ExportIn, slug: str = slug_param()) -> Any:
    """Export the audit trail (reviewers and admins), as the browser's export page does:
    one ``audit.exported`` event, then the file (a signed chain for ``jsonl``)."""
    member = auth.member(request, slug, Role.REVIEWER)
    fields = {k: ("" if v is None else str(v)) for k, v in given.dict().items()}
    form = ExportForm(member.project, fields)
    _checked(form)
    try:
        export = start_export(
            member.project, form.cleaned_data["format"], form.filters(), actor=member.user
        )
    except signing.SigningKeyMissing as missing:
        from ninja.errors import HttpError

        raise HttpError(503, str(missing)) from None
    response = StreamingHttpResponse(
        itertools.chain(export.chunks), content_type=export.content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
