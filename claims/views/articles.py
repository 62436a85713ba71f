"""The article screen: the text with its claims, filters, progress and the claim panel."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from claims import past, reading
from claims.access import article_for
from claims.forms import EvidenceForm
from claims.http import AuthedRequest, bad_request, query_int
from claims.models import Article, Claim, Member

PAGE = "claims/article_detail.html"


def render_screen(
    request: AuthedRequest,
    member: Member,
    article: Article,
    *,
    selected: Claim | None = None,
    status: int = 200,
    **panel_extra: Any,
) -> HttpResponse:
    """The whole screen; ``selected`` (or ``?claim=``) opens that claim's panel."""
    filters = reading.Filters.from_query(request.GET)
    try:
        moment = past.parse_moment(request.GET.get("as_of", ""))
    except past.BadMoment as refusal:
        return bad_request(request, str(refusal))
    if moment is not None:
        return render_past(request, member, article, filters, moment)
    views, progress = reading.reading_claims(article, member)
    wanted = selected.pk if selected else query_int(request.GET.get("claim"))
    context, current = screen_context(member, article, views, filters, wanted)
    context["progress"] = progress
    if current is not None:
        context |= panel_context(current.claim, member, **panel_extra)
    return render(request, PAGE, context, status=status)


def screen_context(
    member: Member,
    article: Article,
    views: list[reading.ClaimView],
    filters: reading.Filters,
    wanted: int | None,
    **link: str,
) -> tuple[dict[str, Any], reading.ClaimView | None]:
    """The screen's context around its claims, and the selected claim's view if any."""
    matching = reading.apply_filters(views, filters)
    current = next((v for v in views if v.claim.pk == wanted), None)
    # The links differ only in the claim: the rest of the query string is made once.
    before, after = filters.query(), urlencode({k: v for k, v in link.items() if v})
    for view in views:
        view.href = "?" + "&".join(p for p in (before, f"claim={view.claim.pk}", after) if p)
        view.selected = view is current
    context = {
        "member": member,
        "project": article.project,
        "article": article,
        "blocks": reading.reading_blocks(article, views),
        "filters": filters,
        "show_choices": reading.SHOW_CHOICES,
        "sections": reading.sections(views),
        "matching": matching,
        "total": len(views),
    }
    return context, current


def render_past(
    request: AuthedRequest,
    member: Member,
    article: Article,
    filters: reading.Filters,
    moment: Any,
) -> HttpResponse:
    """The screen as it stood at ``moment``, folded from the log: read-only."""
    then = past.Past(article, moment)
    by_claim: dict[int, list[Any]] = {}
    for verdict in then.verdicts(current_only=False):
        by_claim.setdefault(verdict.claim_id, []).append(verdict)
    views = [reading.claim_view(claim, by_claim.get(claim.pk, []), member) for claim in then.claims]
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S")
    wanted = query_int(request.GET.get("claim"))
    context, current = screen_context(member, article, views, filters, wanted, as_of=stamp)
    context |= {
        "progress": then.progress(member.user, article.project.min_verdicts),
        "as_of": moment,
        "as_of_stamp": stamp,
    }
    if current is not None:
        evidence = then.evidence(current.claim.pk)
        if not current.team_visible:
            evidence = [e for e in evidence if e.added_by == member.user]
        context |= {"view": current, "claim": current.claim, "evidence": evidence}
        context["citations"] = list(current.claim.citations.all())
    return render(request, PAGE, context)


def panel_context(claim: Claim, member: Member, **extra: Any) -> dict[str, Any]:
    """What the claim panel needs; forms passed in ``extra`` (with errors) win."""
    verdicts = extra.pop("verdicts", None)
    context = reading.panel(claim, member, verdicts=verdicts)
    context["evidence_form"] = EvidenceForm()
    return context | extra


@require_safe
@login_required
def article_detail(request: AuthedRequest, slug: str, article_id: int) -> HttpResponse:
    member, article = article_for(request, slug, article_id)
    return render_screen(request, member, article)


@require_safe
@login_required
def article_progress(request: AuthedRequest, slug: str, article_id: int) -> HttpResponse:
    _, article = article_for(request, slug, article_id)
    context = {
        "project": article.project,
        "article": article,
        "progress": reading.progress(article, request.user),
    }
    return render(request, f"{PAGE}#progress", context)
