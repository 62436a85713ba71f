"""A project's members: everyone may see who is in it; admins add, invite, re-role and
remove, and see when each member last did something and what.

Removing a member is how an admin deactivates someone here: they lose access to the
project at once, and their verdicts, evidence and history stay, under their name.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from claims import accounts
from claims.access import member_for
from claims.forms import InviteForm, MemberForm
from claims.http import AuthedRequest, respond
from claims.log import history
from claims.models import AuditEvent, Member, Membership, Project, Role


@require_http_methods(["GET", "POST"])
@login_required
def project_members(request: AuthedRequest, slug: str) -> HttpResponse:
    posted = request.method == "POST"
    member = member_for(request, slug, Role.ADMIN if posted else Role.VIEWER)
    form = MemberForm(member, request.POST if posted else None, initial={"action": "add"})
    notice = form.apply() if posted and form.is_valid() else None
    if notice is not None:
        # An admin who changed their own role or left sees the page as they are now.
        fresh = Member.of(member.project, member.user) if form.changed_own else member
        if not request.htmx or fresh is None:
            return _redirect(request, member.project, notice, left=fresh is None)
        member = fresh
    context = _context(member, form, notice)
    partial = "members-table" if request.htmx else ""
    trigger = "members-changed" if notice is not None else ""
    return respond(
        request, "claims/project_members.html", context, partial=partial, trigger=trigger
    )


@require_POST
@login_required
def member_invite(request: AuthedRequest, slug: str) -> HttpResponse:
    """Create an account without a password, add it to the project, and show the inviting
    admin the one-time link where its owner sets a password. The link is in this answer
    only (never in a message, the session or a log), so there is no redirect after it."""
    member = member_for(request, slug, Role.ADMIN)
    invite = InviteForm(member, request.POST)
    user = invite.apply() if invite.is_valid() else None
    invited = None
    if user is not None:
        name, role = user.get_username(), Role(invite.cleaned_data["role"]).label.lower()
        notice = f"Invited {name} as {role}."
        invited = {
            "name": name,
            "link": accounts.set_password_link(request, user),
            "lifetime": accounts.link_lifetime(),
        }
        invite = InviteForm(member)
    context = _context(member, MemberForm(member, initial={"action": "add"}), None)
    context |= {"invite_form": invite, "invited": invited}
    if invited:
        context["notice"] = notice
    response = respond(
        request,
        "claims/project_members.html",
        context,
        partial="members-table" if request.htmx else "",
        status=200 if user is not None else 422,
        trigger="members-changed" if user is not None else "",
    )
    add_never_cache_headers(response)  # the link must not stay in any cache
    return response


def _redirect(request: AuthedRequest, project: Project, notice: str, *, left: bool) -> HttpResponse:
    """POST/redirect/GET; to the project list for an admin who just removed themselves."""
    messages.success(request, notice)
    if left:
        url = reverse("project-list")
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return redirect("project-members", project.slug)


def with_last_activity(memberships: QuerySet[Membership], project: Project) -> QuerySet:
    """Each membership with the body of its member's latest event in the project
    (``last_event``, None if they never did anything), in the same query."""
    latest = AuditEvent.objects.filter(chain__project_id=project.pk, actor_id=OuterRef("user_id"))
    return memberships.annotate(last_event=Subquery(latest.order_by("-seq").values("body")[:1]))


def last_activity(body: str | None) -> dict[str, Any] | None:
    """When the member last did something, and what, in words."""
    if body is None:
        return None
    event = json.loads(body)
    return {"at": parse_datetime(event["at"]), "words": history.describe(event)}


def _context(member: Member, form: MemberForm, notice: str | None) -> dict[str, Any]:
    # A failed add keeps what was typed in the add form; other failures show above the table.
    adding = form.is_bound and notice is None and form.data.get("action") == "add"
    project = member.project
    members = project.memberships.select_related("user").order_by("user__username")
    if member.is_admin:
        # Only admins: on a blind project the latest event may be a verdict.
        members = with_last_activity(members, project)
    return {
        "member": member,
        "project": project,
        # Each member with the forms on their row: change their role, remove them, and
        # their latest activity (admins).
        "rows": [
            (
                m,
                MemberForm.on_row(member, "role", m),
                MemberForm.on_row(member, "remove", m),
                last_activity(getattr(m, "last_event", None)),  # with_last_activity
            )
            if member.is_admin
            else (m, None, None, None)
            for m in members
        ],
        "notice": notice,
        "add_form": form if adding else MemberForm(member, initial={"action": "add"}),
        "invite_form": InviteForm(member),
        "invited": None,
        "errors": None if adding or notice else form.errors,
    }
