"""Who an API request speaks for, and what they may do in a project.

Two ways in: a personal access token (``Authorization: Bearer clm_…``), for reading and
writing, counted against its rate limits; or the browser's session, for reading only (a
person trying the API from /api/v1/docs). Writes need a token, so that every write's
event names one, and no cross-site form can make a write with the session's cookie: the
API needs no CSRF token at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from claims import access, tokens
from claims.api.problems import RateLimited
from claims.http import AuthedRequest
from claims.log.chain import api_token
from claims.models import ApiToken, Article, Claim, Evidence, Member, Role

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    """``request.auth``: the user, and the token they came with (None: the session)."""

    user: Any
    token: ApiToken | None


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        found = tokens.found(token.strip())
        if found is None:
            return None
        limited = tokens.count_request(found, write=request.method not in SAFE_METHODS)
        if limited is not None:
            raise RateLimited(limited.limit, limited.retry_after)
        tokens.touch(found)
        request.user = found.owner  # what the access helpers read
        api_token.set(found.prefix)  # named by the event of any write (log.chain)
        return Caller(found.owner, found)


class ReadingSession(APIKeyCookie):
    """The browser's session, for safe methods only (see the module's docstring)."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        user = getattr(request, "user", None)
        if request.method in SAFE_METHODS and user is not None and user.is_authenticated:
            return Caller(user, None)
        return None


def caller(request: HttpRequest) -> Caller:
    auth: Caller = request.auth  # type: ignore[attr-defined]
    return auth


def member(request: HttpRequest, slug: str, needed: Role = Role.VIEWER) -> Member:
    """The caller's membership of the project, as far as their token lets them act: 404
    outside it (a token's other projects are outside it too), 403 below ``needed``."""
    who = caller(request)
    if who.token is not None and who.token.project.slug != slug:
        raise Http404("No such project.")
    found = access.member_for(_authed(request), slug)
    if who.token is not None:
        found = tokens.effective(who.token, found)
    if not found.at_least(needed):
        raise PermissionDenied(f"This needs the {needed.label.lower()} role.")
    return found


def article(
    request: HttpRequest, slug: str, article_id: int, needed: Role = Role.VIEWER
) -> tuple[Member, Article]:
    """As ``access.article_for``, with the membership ``member`` has read already."""
    acting = member(request, slug, needed)
    found = Article.objects.filter(project=acting.project, pk=article_id).first()
    if found is None:
        raise Http404("No such article.")
    found.project = acting.project
    return acting, found


def claim(
    request: HttpRequest,
    slug: str,
    claim_id: int,
    needed: Role = Role.VIEWER,
    *,
    retired: bool = False,
) -> tuple[Member, Claim]:
    acting = member(request, slug, needed)
    _member, found = access.claim_for(_authed(request), slug, claim_id, retired=retired)
    return acting, found


def evidence(
    request: HttpRequest, slug: str, evidence_id: int, needed: Role = Role.VIEWER
) -> tuple[Member, Evidence]:
    acting = member(request, slug, needed)
    _member, found = access.evidence_for(_authed(request), slug, evidence_id)
    return acting, found


def _authed(request: HttpRequest) -> AuthedRequest:
    return request  # type: ignore[return-value]  # request.user is set: by Django or above
