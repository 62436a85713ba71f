"""The keys of the article screen and of the disagreement queue, as a page: the `?` help
works without JavaScript too (with it, each screen shows its list in a dialog, from this
page's partials)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_safe

from claims.http import AuthedRequest, respond


@require_safe
@login_required
def keys(request: AuthedRequest) -> HttpResponse:
    return respond(request, "claims/help.html", {})
