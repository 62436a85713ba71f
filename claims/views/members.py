"""A project's members: everyone may see who is in it; admins add, re-role and remove."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from claims.access import project_for
from claims.forms import MemberForm
from claims.http import AuthedRequest
from claims.models import Project, Role


@require_http_methods(["GET", "POST"])
@login_required
def project_members(request: AuthedRequest, slug: str) -> HttpResponse:
    posted = request.method == "POST"
    project = project_for(request, slug, Role.ADMIN if posted else Role.VIEWER)
    form = MemberForm(project, request.POST if posted else None, initial={"action": "add"})
    notice = form.apply(request.user) if posted and form.is_valid() else None
    if notice is not None:
        project.my_role = project.role_of(request.user)
        if not request.htmx or project.my_role is None:
            return _redirect(request, project, notice)
    template = "claims/project_members.html" + ("#members-table" if request.htmx else "")
    response = render(request, template, _context(project, form, notice))
    if notice is not None:
        response["HX-Trigger"] = "members-changed"
    return response


def _redirect(request: AuthedRequest, project: Project, notice: str) -> HttpResponse:
    """POST/redirect/GET; to the project list for an admin who just removed themselves."""
    messages.success(request, notice)
    if project.my_role is None:
        url = reverse("project-list")
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    return redirect("project-members", project.slug)


def _context(project: Project, form: MemberForm, notice: str | None) -> dict[str, Any]:
    # A failed add keeps what was typed in the add form; other failures show above the table.
    adding = form.is_bound and notice is None and form.data.get("action") == "add"
    return {
        "project": project,
        "members": project.memberships.select_related("user").order_by("user__username"),
        "roles": Role.choices,
        "notice": notice,
        "add_form": form if adding else MemberForm(project, initial={"action": "add"}),
        "errors": None if adding or notice else form.errors,
    }
