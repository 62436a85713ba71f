"""The article screen: the text with its claims, filters, progress and the claim panel."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_safe

from claims import reading, screens
from claims.access import article_for
from claims.http import AuthedRequest, bad_request, respond
from claims.log import past

PAGE = "claims/article_detail.html"


@require_safe
@login_required
def article_detail(request: AuthedRequest, slug: str, article_id: int) -> HttpResponse:
    member, article = article_for(request, slug, article_id)
    # The page after (or before) the one on screen, for htmx: its link was scrolled to,
    # clicked, or reached by `j` / `k`. Without htmx, the whole screen at that page.
    beside = bool(request.htmx and reading.Asked.from_query(request.GET).beside)
    try:
        context = screens.article_screen(request.GET, member, article, beside=beside)
    except past.BadMoment as refusal:
        return bad_request(request, str(refusal))
    return respond(request, PAGE, context, partial="page" if beside else "")


@require_safe
@login_required
def article_progress(request: AuthedRequest, slug: str, article_id: int) -> HttpResponse:
    _, article = article_for(request, slug, article_id)
    context = {
        "project": article.project,
        "article": article,
        "progress": reading.progress(article, request.user),
    }
    return respond(request, PAGE, context, partial="progress")
