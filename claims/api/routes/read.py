"""Reading: projects, articles and their versions, claims with citations, verdicts (mine
and, as blind review allows, the team's), adjudications, evidence, consensus and agreement
figures, a claim's history."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse

from claims import reading
from claims.api import auth, present
from claims.api.routes.common import after_param, answers, id_param, limit_param, router, slug_param
from claims.api.schemas import (
    AdjudicationOut,
    ArticleDetail,
    ArticlePage,
    ClaimOut,
    ClaimPage,
    ConsensusOut,
    EventPage,
    EvidenceOut,
    ProjectOut,
    ProjectPage,
    TeamOut,
    VerdictOut,
    VerdictPage,
)
from claims.log import history
from claims.models import Adjudication, Article, Claim, Member, Membership, Role, Verdict
from claims.tally import Tally, tally
from claims.tokens import effective


@router.get("/projects", response=answers(ProjectPage))
def projects(
    request: HttpRequest, after: str | None = after_param(), limit: int = limit_param()
) -> dict[str, Any]:
    """The projects the caller belongs to (a token: its own project only)."""
    who = auth.caller(request)
    rows = Membership.objects.select_related("project").filter(user=who.user)
    if who.token is not None:
        rows = rows.filter(project_id=who.token.project_id)
    start = present.after(after)
    if start is not None:
        rows = rows.filter(project_id__gt=start)
    found = list(rows.order_by("project_id")[: limit + 1])
    members = [Member(who.user, m.project, Role(m.role)) for m in found]
    if who.token is not None:
        members = [effective(who.token, m) for m in members]
    listed = present.page(request, members, limit, lambda m: m.project.pk)
    listed["items"] = [present.project(m) for m in listed["items"]]
    return listed


@router.get("/projects/{slug}", response=answers(ProjectOut))
def project(request: HttpRequest, slug: str = slug_param()) -> dict[str, Any]:
    return present.project(auth.member(request, slug))


@router.get("/projects/{slug}/articles", response=answers(ArticlePage))
def articles(
    request: HttpRequest,
    slug: str = slug_param(),
    after: str | None = after_param(),
    limit: int = limit_param(),
) -> dict[str, Any]:
    member = auth.member(request, slug)
    rows = Article.objects.filter(project=member.project).defer("text").order_by("pk")
    listed = present.by_pk(request, rows, after, limit)
    listed["items"] = [present.article(a) for a in listed["items"]]
    return listed


@router.get("/projects/{slug}/articles/{article_id}", response=answers(ArticleDetail))
def article(
    request: HttpRequest, slug: str = slug_param(), article_id: int = id_param()
) -> dict[str, Any]:
    """The article, its current text, and every version of its text."""
    _member, found = auth.article(request, slug, article_id)
    versions = found.versions.order_by("number").values("number", "title", "sha256", "imported_at")
    return present.article(found) | {"text": found.text, "versions": list(versions)}


@router.get("/projects/{slug}/articles/{article_id}/claims", response=answers(ClaimPage))
def article_claims(
    request: HttpRequest,
    slug: str = slug_param(),
    article_id: int = id_param(),
    after: str | None = after_param(),
    limit: int = limit_param(),
) -> dict[str, Any]:
    """The article's current claims, in the order they were made, each as the caller
    sees it (blind review: the team's counts only once the caller gave their own)."""
    member, found = auth.article(request, slug, article_id)
    rows = Claim.objects.filter(article=found).select_related("adjudication__reviewer")
    listed = present.by_pk(request, rows, after, limit)
    views = reading.claim_views(found, member, listed["items"])
    listed["items"] = [present.claim(view) for view in views]
    return listed


@router.get("/projects/{slug}/claims/{claim_id}", response=answers(ClaimOut))
def claim(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = slug_param(),
    claim_id: int = id_param(),
) -> dict[str, Any]:
    """A claim with its citations; its ETag is its version (If-Match of claim edits)."""
    member, found = auth.claim(request, slug, claim_id)
    response["ETag"] = present.etag(found.version)
    return present.claim(present.visible_claim(found, member))


@router.get("/projects/{slug}/claims/{claim_id}/verdicts", response=answers(TeamOut))
def team_verdicts(
    request: HttpRequest, slug: str = slug_param(), claim_id: int = id_param()
) -> dict[str, Any]:
    """The team's current verdicts on the claim; in a blind project an analyst sees them
    only after giving their own (``visible``)."""
    member, found = auth.claim(request, slug, claim_id)
    return present.team(present.visible_claim(found, member))


@router.get("/projects/{slug}/claims/{claim_id}/verdicts/mine", response=answers(VerdictOut))
def my_verdict(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = slug_param(),
    claim_id: int = id_param(),
) -> dict[str, Any]:
    """The caller's verdict (version 0: none yet); its ETag is the If-Match of the next
    write."""
    member, found = auth.claim(request, slug, claim_id)
    mine = Verdict.objects.filter(claim=found, analyst=member.user).first()
    response["ETag"] = present.etag(mine.version if mine else 0)
    return present.verdict(found.pk, member.user.get_username(), mine)


@router.get("/projects/{slug}/verdicts/mine", response=answers(VerdictPage))
def my_verdicts(
    request: HttpRequest,
    slug: str = slug_param(),
    after: str | None = after_param(),
    limit: int = limit_param(),
) -> dict[str, Any]:
    """The caller's current verdicts in the project, in the order first given."""
    member = auth.member(request, slug)
    rows = Verdict.objects.filter(
        analyst=member.user,
        claim__article__project=member.project,
        claim__retired_in__isnull=True,
    ).exclude(status="")
    listed = present.by_pk(request, rows, after, limit)
    name = member.user.get_username()
    listed["items"] = [present.verdict(v.claim_id, name, v) for v in listed["items"]]
    return listed


@router.get("/projects/{slug}/claims/{claim_id}/adjudication", response=answers(AdjudicationOut))
def adjudication(
    request: HttpRequest,
    response: HttpResponse,
    slug: str = slug_param(),
    claim_id: int = id_param(),
) -> dict[str, Any]:
    """The reviewer's final status (version 0: never given; a withdrawn one keeps its
    row and version, with an empty status)."""
    _member, found = auth.claim(request, slug, claim_id)
    try:
        ruling: Adjudication | None = found.adjudication
    except Adjudication.DoesNotExist:
        ruling = None
    response["ETag"] = present.etag(ruling.version if ruling else 0)
    return present.adjudication(found.pk, ruling)


@router.get("/projects/{slug}/claims/{claim_id}/evidence", response=answers(list[EvidenceOut]))
def evidence(
    request: HttpRequest, slug: str = slug_param(), claim_id: int = id_param()
) -> list[dict[str, Any]]:
    """The claim's evidence in place (blind review: only the caller's own before their
    verdict)."""
    member, found = auth.claim(request, slug, claim_id)
    view = present.visible_claim(found, member)
    shown = reading.evidence_and_history(view, member)["evidence"]
    return [present.evidence(e) for e in shown]


@router.get("/projects/{slug}/claims/{claim_id}/history", response=answers(EventPage))
def claim_history(
    request: HttpRequest,
    slug: str = slug_param(),
    claim_id: int = id_param(),
    after: str | None = after_param(),
    limit: int = limit_param(),
) -> dict[str, Any]:
    """The claim's events, newest first, as the history page shows them (blind review:
    others' events only once the caller tagged the claim)."""
    member, found = auth.claim(request, slug, claim_id, retired=True)
    events = history.visible_events(member).filter(
        Q(claim_id=found.pk) | Q(other_claim_id=found.pk)
    )
    start = present.after(after)
    if start is not None:
        events = events.filter(seq__lt=start)
    rows = list(events.order_by("-seq")[: limit + 1])
    listed = present.page(request, rows, limit, lambda e: e.seq)
    listed["items"] = [present.event(e) for e in listed["items"]]
    return listed


@router.get("/projects/{slug}/articles/{article_id}/consensus", response=answers(ConsensusOut))
def article_consensus(
    request: HttpRequest, slug: str = slug_param(), article_id: int = id_param()
) -> dict[str, Any]:
    """Per claim, the team's state, and the agreement figures, as the consensus screen
    shows them to the caller."""
    member, found = auth.article(request, slug, article_id)
    return _figures(tally(Claim.objects.filter(article=found), member))


@router.get("/projects/{slug}/consensus", response=answers(ConsensusOut))
def project_consensus(request: HttpRequest, slug: str = slug_param()) -> dict[str, Any]:
    member = auth.member(request, slug)
    return _figures(tally(Claim.objects.filter(article__project=member.project), member))


def _figure(figure: Any) -> dict[str, Any]:
    return {
        "value": figure.value,
        "reason": figure.reason,
        "units": figure.units,
        "pairs": figure.pairs,
    }


def _figures(result: Tally) -> dict[str, Any]:
    summary = result.summary
    return {
        "blind_limited": result.blind_limited,
        "percent": _figure(summary.percent),
        "alpha": _figure(summary.alpha),
        "fleiss": _figure(summary.fleiss),
        "with_consensus": {name: _figure(f) for name, f in summary.with_consensus.items()},
        "units": summary.units,
        "raters": summary.raters,
        "verdicts": summary.verdicts,
        "rows": [
            {
                "claim": row.claim.pk,
                "article": row.claim.article_id,
                "visible": row.visible,
                "state": row.state,
                "counts": row.counts,
                "consensus": row.consensus_status if row.visible else None,
            }
            for row in result.rows
        ],
    }
