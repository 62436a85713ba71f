"""Access helpers: the first line of every project view fetches through membership."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from claims.http import AuthedRequest
from claims.models import ROLE_RANK, Article, Claim, Evidence, Membership, Project, Role


def project_for(request: AuthedRequest, slug: str, role: Role = Role.VIEWER) -> Project:
    """The project if the user is a member: 404 for outsiders, 403 below ``role``.

    The member's role is set on the project as ``my_role`` for the view and template.
    """
    membership = (
        Membership.objects.select_related("project")
        .filter(project__slug=slug, user=request.user)
        .first()
    )
    if membership is None:
        raise Http404("No such project.")
    my_role = Role(membership.role)
    if ROLE_RANK[my_role] < ROLE_RANK[role]:
        raise PermissionDenied(f"This needs the {role.label.lower()} role.")
    project = membership.project
    project.my_role = my_role
    project.known_roles = {request.user.pk: my_role}
    return project


def article_for(
    request: AuthedRequest, slug: str, article_id: int, role: Role = Role.VIEWER
) -> Article:
    project = project_for(request, slug, role)
    article = Article.objects.filter(project=project, pk=article_id).first()
    if article is None:
        raise Http404("No such article.")
    article.project = project
    return article


def claim_for(request: AuthedRequest, slug: str, claim_id: int, role: Role = Role.VIEWER) -> Claim:
    project = project_for(request, slug, role)
    claim = (
        Claim.objects.select_related("article", "block", "adjudication__reviewer")
        .filter(article__project=project, pk=claim_id)
        .first()
    )
    if claim is None:
        raise Http404("No such claim.")
    claim.article.project = project
    return claim


def evidence_for(
    request: AuthedRequest, slug: str, evidence_id: int, role: Role = Role.VIEWER
) -> Evidence:
    project = project_for(request, slug, role)
    evidence = (
        Evidence.objects.select_related("claim__article", "added_by")
        .filter(claim__article__project=project, pk=evidence_id)
        .first()
    )
    if evidence is None:
        raise Http404("No such evidence.")
    evidence.claim.article.project = project
    return evidence
