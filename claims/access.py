"""Access helpers: the first line of every project view fetches through membership."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
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
    project = membership.project
    _check_role(project, request, Role(membership.role), role)
    return project


def _check_role(project: Project, request: AuthedRequest, my_role: Role, needed: Role) -> None:
    """403 below the ``needed`` role; else the member's role is set on the project as
    ``my_role`` for the view and template."""
    if ROLE_RANK[my_role] < ROLE_RANK[needed]:
        raise PermissionDenied(f"This needs the {needed.label.lower()} role.")
    project.my_role = my_role
    project.known_roles = {request.user.pk: my_role}


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
    """The claim, its article (without the article's text), project and block, and the
    member's role, in one query: the claim panel and every claim action start here."""
    membership = Membership.objects.filter(project=OuterRef("article__project"), user=request.user)
    claim = (
        Claim.objects.with_text()
        .select_related("article__project", "adjudication__reviewer")
        .annotate(member_role=Subquery(membership.values("role")[:1]))
        .filter(article__project__slug=slug, pk=claim_id)
        .first()
    )
    if claim is None or claim.member_role is None:
        project_for(request, slug, role)  # 404 for outsiders, 403 below the role
        raise Http404("No such claim.")
    project = claim.article.project
    _check_role(project, request, Role(claim.member_role), role)
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
