from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_safe

from claims.access import member_for
from claims.forms import ProjectForm
from claims.http import AuthedRequest, respond
from claims.models import Article, Project

# Who may create projects: site administrators, that is superusers and anyone given this
# permission (Django admin: Users -> permissions -> "claims | project | Can add project").
# Each project's admins then manage its members; they need no site-wide permission.
CREATE_PROJECT = "claims.add_project"


@require_safe
@login_required
def project_list(request: AuthedRequest) -> HttpResponse:
    projects = Project.objects.for_user(request.user).annotate(
        article_count=Count("articles", distinct=True)
    )
    context = {"projects": projects, "can_create": request.user.has_perm(CREATE_PROJECT)}
    return respond(request, "claims/project_list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def project_create(request: AuthedRequest) -> HttpResponse:
    """A site administrator creates a project and becomes its first admin."""
    if not request.user.has_perm(CREATE_PROJECT):
        raise PermissionDenied("Creating projects needs a site administrator.")
    posted = request.method == "POST"
    form = ProjectForm(request.POST if posted else None)
    project = form.create(request.user) if posted and form.is_valid() else None
    if project is not None:
        messages.success(request, f"Created {project.name}. Add or invite its members here.")
        return redirect("project-members", project.slug)
    status = 422 if posted else 200
    return respond(request, "claims/project_form.html", {"form": form}, status=status)


@require_safe
@login_required
def project_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    member = member_for(request, slug)
    project = member.project
    articles = Article.objects.filter(project=project).with_progress(request.user)
    members = project.memberships.select_related("user").order_by("user__username")
    context = {"member": member, "project": project, "articles": articles, "members": members}
    return respond(request, "claims/project_detail.html", context)
