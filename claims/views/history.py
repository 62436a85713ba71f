"""Revision history: a claim's timeline, article and project activity, and revert."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from claims import screens
from claims.access import article_for, claim_for, member_for
from claims.http import AuthedRequest, query_int, query_text, respond
from claims.log import history, revert
from claims.log.actions import ACTION_GROUPS
from claims.models import AuditEvent, Conflict, Member, Project, Role


def _before(request: AuthedRequest) -> int | None:
    return query_int(request.GET.get("before"))


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filtered(events: QuerySet[AuditEvent], request: AuthedRequest) -> tuple[QuerySet, dict]:
    """Apply the activity filters (actor, action group, date range) from the query string."""
    chosen: dict[str, Any] = {
        k: query_text(request.GET.get(k), 150) for k in ("actor", "action", "since", "until")
    }
    if chosen["actor"]:
        events = events.filter(actor__username=chosen["actor"])
    if chosen["action"] in ACTION_GROUPS:
        events = events.filter(action__startswith=chosen["action"] + ".")
    since, until = _date(chosen["since"]), _date(chosen["until"])
    if since:
        events = events.filter(created_at__date__gte=since)
    if until:
        events = events.filter(created_at__date__lte=until)
    chosen["invalid_dates"] = bool(
        (chosen["since"] and not since) or (chosen["until"] and not until)
    )
    return events, chosen


def render_activity(
    request: AuthedRequest, member: Member, events: QuerySet, template: str, **extra: Any
) -> HttpResponse:
    project = member.project
    events, chosen = filtered(events, request)
    rows, more = history.page(events, _before(request))
    query = request.GET.copy()
    if more is not None:
        query["before"] = str(more)
    context = {
        "project": project,
        "entries": history.entries(rows, member),
        "chosen": chosen,
        "groups": ACTION_GROUPS,
        "next_query": query.urlencode() if more is not None else "",
        "members": project.memberships.select_related("user").order_by("user__username"),
        **extra,
    }
    return respond(request, template, context)


@require_safe
@login_required
def claim_history(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    member, claim = claim_for(request, slug, claim_id, retired=True)
    events = history.visible_events(member).filter(
        Q(claim_id=claim.pk) | Q(other_claim_id=claim.pk)
    )
    return render_activity(
        request,
        member,
        events,
        "claims/history.html",
        claim=claim,
        article=claim.article,
        timeline=screens.claim_timeline(member, claim),
    )


@require_safe
@login_required
def article_activity(request: AuthedRequest, slug: str, article_id: int) -> HttpResponse:
    member, article = article_for(request, slug, article_id)
    events = history.visible_events(member).filter(article_id=article.pk)
    return render_activity(request, member, events, "claims/activity.html", article=article)


@require_safe
@login_required
def project_activity(request: AuthedRequest, slug: str) -> HttpResponse:
    member = member_for(request, slug)
    events = history.visible_events(member)
    return render_activity(request, member, events, "claims/activity.html")


@require_POST
@login_required
def event_revert(request: AuthedRequest, slug: str, seq: int) -> HttpResponse:
    member = member_for(request, slug, Role.ANALYST)
    project = member.project
    event = history.visible_events(member).filter(seq=seq).first()
    if event is None:
        raise Http404("No such event.")
    item = history.entry(event)
    if item.action in history.REVERTABLE and not history.may_revert(item, member):
        raise PermissionDenied("Reverting this change needs the right to make it.")
    back = _back(request, project, event)
    try:
        plan = revert.plan(project, event)
    except revert.NotRevertable as refusal:
        messages.error(request, str(refusal))
        return HttpResponseRedirect(back)
    confirmed = request.POST.get("confirm") == "1"
    if plan.changed_since and not confirmed:
        return _confirm(request, project, plan, back, "")
    version = plan.version
    posted_version = query_int(request.POST.get("version"))
    if confirmed and posted_version is not None:
        version = posted_version
    try:
        plan.apply(member, version)
    except Conflict:
        fresh = revert.plan(project, event)
        return _confirm(request, project, fresh, back, "It changed again in the meantime.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return HttpResponseRedirect(back)
    messages.success(request, f"Reverted event {seq}: {plan.what} is restored.")
    return HttpResponseRedirect(back)


def _confirm(
    request: AuthedRequest, project: Project, plan: revert.Plan, back: str, notice: str
) -> HttpResponse:
    context = {"project": project, "plan": plan, "back": back, "notice": notice}
    return respond(request, "claims/revert_confirm.html", context, status=409)


def _back(request: AuthedRequest, project: Project, event: AuditEvent) -> str:
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return back
    if event.claim_id:
        return reverse("claim-history", args=[project.slug, event.claim_id])
    return reverse("project-activity", args=[project.slug])
