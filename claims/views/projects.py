from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpResponse
from django.views.decorators.http import require_safe

from claims.access import member_for
from claims.http import AuthedRequest, respond
from claims.models import Article, Project


@require_safe
@login_required
def project_list(request: AuthedRequest) -> HttpResponse:
    projects = Project.objects.for_user(request.user).annotate(
        article_count=Count("articles", distinct=True)
    )
    return respond(request, "claims/project_list.html", {"projects": projects})


@require_safe
@login_required
def project_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    member = member_for(request, slug)
    project = member.project
    articles = Article.objects.filter(project=project).with_progress(request.user)
    members = project.memberships.select_related("user").order_by("user__username")
    context = {"member": member, "project": project, "articles": articles, "members": members}
    return respond(request, "claims/project_detail.html", context)
