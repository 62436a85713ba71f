"""Re-checks: the Due queue of verdicts that have come (or are coming) due, and a project's
freshness settings. When a verdict is due, and why, is ``claims.recheck``'s to say."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from claims import recheck
from claims.access import member_for
from claims.forms import FreshnessForm
from claims.http import AuthedRequest, respond
from claims.models import Role

ROWS_PER_PAGE = 50
WHOSE = {"mine": "Mine", "team": "The team's"}


@require_safe
@login_required
def due_queue(request: AuthedRequest, slug: str) -> HttpResponse:
    """Due verdicts first (the longest due first), then those coming due soonest: the
    member's own, or the team's as far as blind review lets them see."""
    member = member_for(request, slug)
    project = member.project
    whose = request.GET.get("whose", "")
    if whose not in WHOSE:
        whose = "mine" if member.at_least(Role.ANALYST) else "team"
    verdicts = recheck.project_verdicts(project)
    if whose == "mine":
        verdicts = verdicts.filter(analyst=request.user)
    else:
        verdicts = recheck.visible_to(verdicts, member)
    today = timezone.localdate()
    freshness = recheck.Freshness.of(project)
    found = recheck.coming_due(verdicts, freshness, today + dt.timedelta(days=recheck.SOON_DAYS))
    page = Paginator(found, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "member": member,
        "project": project,
        "whose": whose,
        "choices": WHOSE,
        "rows": recheck.rows(page.object_list, freshness, today),
        "page": page,
        "due_now": found.filter(due_on__lte=today).count(),
        "freshness": freshness,
        "soon_days": recheck.SOON_DAYS,
    }
    return respond(request, "claims/due.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def recheck_settings(request: AuthedRequest, slug: str) -> HttpResponse:
    """How long verdicts stay fresh in the project, per status: for its admins."""
    member = member_for(request, slug, Role.ADMIN)
    posted = request.method == "POST"
    form = FreshnessForm(member, request.POST if posted else None)
    if posted and form.is_valid():
        changed = form.apply()
        if not form.errors:
            described = recheck.Freshness.of(member.project).described
            said = f"Verdicts now stay fresh for: {described}." if changed else "Nothing changed."
            messages.success(request, said)
            return redirect("recheck-settings", slug)
    context = {"member": member, "project": member.project, "form": form}
    return respond(request, "claims/recheck_settings.html", context, status=422 if posted else 200)
