"""Access helpers: the first line of every project view fetches through membership.

Each returns the ``Member`` (who is asking, where, with which role), and with it the object
asked for: ``member, claim = claim_for(...)``. Views hand the member on, explicitly.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import Http404

from claims.http import AuthedRequest
from claims.models import Article, Claim, Evidence, Member, Membership, Project, Role


def member_for(request: AuthedRequest, slug: str, role: Role = Role.VIEWER) -> Member:
    """The user's membership of the project: 404 for outsiders, 403 below ``role``."""
    membership = (
        Membership.objects.select_related("project")
        .filter(project__slug=slug, user=request.user)
        .first()
    )
    if membership is None:
        raise Http404("No such project.")
    return _admitted(request, membership.project, Role(membership.role), role)


def _admitted(request: AuthedRequest, project: Project, role: Role, needed: Role) -> Member:
    """The member, or 403 below the ``needed`` role."""
    if not role.at_least(needed):
        raise PermissionDenied(f"This needs the {needed.label.lower()} role.")
    return Member(request.user, project, role)


def article_for(
    request: AuthedRequest, slug: str, article_id: int, role: Role = Role.VIEWER
) -> tuple[Member, Article]:
    member = member_for(request, slug, role)
    article = Article.objects.filter(project=member.project, pk=article_id).first()
    if article is None:
        raise Http404("No such article.")
    article.project = member.project
    return member, article


def claim_for(
    request: AuthedRequest,
    slug: str,
    claim_id: int,
    role: Role = Role.VIEWER,
    *,
    retired: bool = False,
) -> tuple[Member, Claim]:
    """The claim, its article (without the article's text), project and block, and the
    member's role, in one query: the claim panel and every claim action start here.

    A claim a revision retired is found only with ``retired`` (its history): nothing acts
    on it any more."""
    membership = Membership.objects.filter(project=OuterRef("article__project"), user=request.user)
    claims = Claim.all_objects.all() if retired else Claim.objects.all()
    claim = (
        claims.with_text()
        .select_related("article__project", "adjudication__reviewer")
        .annotate(member_role=Subquery(membership.values("role")[:1]))
        .filter(article__project__slug=slug, pk=claim_id)
        .first()
    )
    if claim is None or claim.member_role is None:
        member_for(request, slug, role)  # 404 for outsiders, 403 below the role
        raise Http404("No such claim.")
    return _admitted(request, claim.article.project, Role(claim.member_role), role), claim


def evidence_for(
    request: AuthedRequest, slug: str, evidence_id: int, role: Role = Role.VIEWER
) -> tuple[Member, Evidence]:
    member = member_for(request, slug, role)
    evidence = (
        Evidence.objects.select_related("claim__article", "added_by")
        .filter(claim__article__project=member.project, pk=evidence_id)
        .first()
    )
    if evidence is None:
        raise Http404("No such evidence.")
    evidence.claim.article.project = member.project
    return member, evidence
