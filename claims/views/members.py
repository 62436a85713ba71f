"""A project's members: everyone may see who is in it; admins add, re-role and remove."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from claims.access import member_for
from claims.forms import MemberForm
from claims.http import AuthedRequest, respond
from claims.models import Member, Project, Role


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


def _redirect(request: AuthedRequest, project: Project, notice: str, *, left: bool) -> HttpResponse:
    """POST/redirect/GET; to the project list for an admin who just removed themselves."""
    messages.success(request, notice)
    if left:
        url = reverse("project-list")
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return redirect("project-members", project.slug)


def _context(member: Member, form: MemberForm, notice: str | None) -> dict[str, Any]:
    # A failed add keeps what was typed in the add form; other failures show above the table.
    adding = form.is_bound and notice is None and form.data.get("action") == "add"
    project = member.project
    members = project.memberships.select_related("user").order_by("user__username")
    return {
        "member": member,
        "project": project,
        # Each member with the forms on their row: change their role, remove them (admins).
        "rows": [
            (m, MemberForm.on_row(member, "role", m), MemberForm.on_row(member, "remove", m))
            if member.is_admin
            else (m, None, None)
            for m in members
        ],
        "notice": notice,
        "add_form": form if adding else MemberForm(member, initial={"action": "add"}),
        "errors": None if adding or notice else form.errors,
    }
