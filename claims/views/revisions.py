"""Revise an article in the browser: upload or paste the new text, read how its claims
align with the current ones, confirm."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from claims import revising
from claims.access import article_for, claim_for
from claims.forms import ConfirmRevisionForm, RevisionForm
from claims.http import AuthedRequest, query_int, respond
from claims.importer import ImportRejected, max_bytes
from claims.models import Article, Claim, Conflict, Role
from claims.revising import Revision
from claims.uploads import LimitedUploadHandler

TEMPLATE = "claims/article_revise.html"


@csrf_exempt  # the upload handler goes in before CSRF reads the body; checked below
@require_http_methods(["GET", "POST"])
@login_required
def article_revise(request: AuthedRequest, slug: str, article_id: int) -> HttpResponse:
    limiter = LimitedUploadHandler(request)
    request.upload_handlers.insert(0, limiter)
    return _article_revise(request, slug, article_id, limiter)


@csrf_protect
def _article_revise(
    request: AuthedRequest, slug: str, article_id: int, limiter: LimitedUploadHandler
) -> HttpResponse:
    _, article = article_for(request, slug, article_id, Role.ADMIN)
    if request.method == "GET":
        return _page(request, article, RevisionForm(article))
    request.POST  # noqa: B018 -- parse the body now, through the limiting handler
    if limiter.exceeded:
        refused = f"The file is larger than the import limit of {filesizeformat(max_bytes())}."
        form = RevisionForm(article, request.POST, upload_refused=refused)
        form.is_valid()
        return _page(request, article, form, status=413)
    if request.POST.get("step") == "confirm":
        return _confirm(request, article)
    form = RevisionForm(article, request.POST, request.FILES)
    form.is_valid()
    return _page(request, article, form)


def _confirm(request: AuthedRequest, article: Article) -> HttpResponse:
    confirm = ConfirmRevisionForm(article, request.POST)
    try:
        if confirm.is_valid():
            revised = confirm.apply(request.user)
            messages.success(request, f"The article is now at version {revised.version}.")
            return redirect("article-detail", article.project.slug, article.pk)
    except ImportRejected as exc:
        confirm.add_error(None, str(exc))
    # Back to the preview of the same text, with the reason on top.
    form = RevisionForm(article, {"text": request.POST.get("text", "")})
    form.is_valid()
    for message in confirm.non_field_errors():
        form.add_error(None, message)
    return _page(request, article, form, status=409)


def _page(
    request: AuthedRequest, article: Article, form: RevisionForm, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {"project": article.project, "article": article, "form": form}
    if form.revision is not None:
        context["preview"] = preview(form.revision)
        context["confirm"] = form.confirm_form()
    partial = "revision-preview" if request.htmx and form.is_bound else ""
    return respond(request, TEMPLATE, context, partial=partial, status=status)


def preview(revision: Revision) -> dict[str, Any]:
    """How the current claims align with the new text's, shaped for reading."""
    return {
        "counts": revision.counts,
        "identical": revision.identical,
        "unrelated": revision.unrelated,
        "edited": [
            {"number": revision.numbers[old.key], "new": new, "diff": diff}
            for old, new, diff in revision.edited()
        ],
        "removed": [
            {"number": revision.numbers[old.key], "text": old.text} for old in revision.removed()
        ],
        "added": revision.added(),
        "title": revision.prepared.segmentation.metadata.title,
        "notes": len(revision.prepared.uncertainties),
    }


@require_POST
@login_required
def claim_unlink(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    member, claim = claim_for(request, slug, claim_id, Role.REVIEWER)
    version = query_int(request.POST.get("version")) or 0
    try:
        fresh = revising.unlink(claim, member, expected_version=version)
    except (Conflict, ValidationError) as refusal:
        return _back(request, claim, _reason(refusal), ok=False)
    return _back(request, fresh, f"Unlinked: claim {fresh.ordinal} starts afresh.", ok=True)


@require_POST
@login_required
def claim_link(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    member, claim = claim_for(request, slug, claim_id, Role.REVIEWER)
    version = query_int(request.POST.get("version")) or 0
    removed = Claim.all_objects.filter(
        pk=query_int(request.POST.get("removed")) or 0, article=claim.article
    ).first()
    if removed is None:
        return _back(request, claim, "Choose one of the removed claims to link.", ok=False)
    try:
        back = revising.link(claim, removed, member, expected_version=version)
    except (Conflict, ValidationError) as refusal:
        return _back(request, claim, _reason(refusal), ok=False)
    return _back(
        request, back, f"Linked: claim {back.ordinal} carries the removed claim's work.", ok=True
    )


def _reason(refusal: Exception) -> str:
    if isinstance(refusal, ValidationError):
        return " ".join(refusal.messages)
    return str(refusal) or "The claim changed since you loaded it; look again."


def _back(request: AuthedRequest, claim: Claim, message: str, *, ok: bool) -> HttpResponse:
    """The article with the claim open, saying what happened; htmx reloads to it (claims
    appear and retire, so the whole screen changes)."""
    (messages.success if ok else messages.error)(request, message)
    target = reverse("article-detail", args=[claim.article.project.slug, claim.article_id])
    target += f"?claim={claim.pk}#claim-{claim.pk}"
    if request.htmx:
        return HttpResponseClientRedirect(target)
    return HttpResponseRedirect(target)
