"""Personal access tokens for the JSON API, per project: create one (its secret shown once,
on the answer to the post that made it), list them, revoke one."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from claims.access import member_for
from claims.http import MAX_ID, AuthedRequest, respond
from claims.models import ApiToken, Conflict, Member, Role
from claims.tokens import TokenForm

NEW_TOKEN = "claims-new-api-token"  # the session key of a token made and not yet shown


@require_http_methods(["GET", "POST"])
@login_required
def token_list(request: AuthedRequest, slug: str) -> HttpResponse:
    """Every member may make tokens for themselves (up to their role); admins see and may
    revoke everyone's."""
    member = member_for(request, slug)
    posted = request.method == "POST"
    form = TokenForm(member, request.POST if posted else None)
    if posted and form.is_valid():
        _token, secret = form.issue()
        # POST/redirect/GET, so that reloading the page makes no second token: the secret
        # waits in the session for the one page that shows it, and leaves it there.
        request.session[NEW_TOKEN] = secret
        return redirect("token-list", slug)
    secret = request.session.pop(NEW_TOKEN, "") if not posted else ""
    response = _page(request, member, form, secret, status=422 if posted else 200)
    if secret:
        add_never_cache_headers(response)  # the secret must stay in no cache
    return response


@require_POST
@login_required
def token_revoke(request: AuthedRequest, slug: str, token_id: int) -> HttpResponse:
    member = member_for(request, slug)
    # Any token of the project: whether this member may revoke it is the verb's to say (403).
    tokens = ApiToken.objects.filter(project=member.project)
    token = tokens.filter(pk=token_id).first() if token_id <= MAX_ID else None
    if token is None:
        raise Http404("No such token.")
    try:
        token.revoke(member)
    except Conflict as conflict:
        messages.info(request, str(conflict))
    else:
        messages.success(request, f"Token {token.prefix} revoked: it opens nothing any more.")
    return redirect("token-list", slug)


def _visible(member: Member) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.filter(project=member.project).select_related("owner")
    return tokens if member.at_least(Role.ADMIN) else tokens.filter(owner=member.user)


def _page(
    request: AuthedRequest, member: Member, form: TokenForm, secret: str, *, status: int
) -> HttpResponse:
    context = {
        "member": member,
        "project": member.project,
        "form": form,
        "secret": secret,
        "tokens": _visible(member),
    }
    return respond(request, "claims/tokens.html", context, status=status)
