from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from claims.access import project_for
from claims.http import AuthedRequest
from claims.models import Article, Project


@require_safe
@login_required
def project_list(request: AuthedRequest) -> HttpResponse:
    projects = Project.objects.for_user(request.user).annotate(
        article_count=Count("articles", distinct=True)
    )
    return render(request, "claims/project_list.html", {"projects": projects})


@require_safe
@login_required
def project_detail(request: AuthedRequest, slug: str) -> HttpResponse:
    project = project_for(request, slug)
    articles = Article.objects.filter(project=project).with_progress(request.user)
    members = project.memberships.select_related("user").order_by("user__username")
    return render(
        request,
        "claims/project_detail.html",
        {"project": project, "articles": articles, "members": members},
    )
