from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from claims.access import article_for
from claims.http import AuthedRequest


@require_GET
@login_required
def article_detail(request: AuthedRequest, slug: str, article_id: int) -> HttpResponse:
    article = article_for(request, slug, article_id)
    blocks = article.reading_blocks()
    claim_count = sum(1 for b in blocks for p in b["pieces"] if "claim" in p)
    return render(
        request,
        "claims/article_detail.html",
        {
            "project": article.project,
            "article": article,
            "blocks": blocks,
            "claim_count": claim_count,
        },
    )
