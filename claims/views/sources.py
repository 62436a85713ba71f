"""The sources page: every outlet the project's articles cite (``claims.sources``)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_safe

from claims import sources
from claims.access import member_for
from claims.http import AuthedRequest, respond


@require_safe
@login_required
def source_list(request: AuthedRequest, slug: str) -> HttpResponse:
    member = member_for(request, slug)
    outlets, years = sources.outlets(member)
    context = {
        "member": member,
        "project": member.project,
        "outlets": outlets,
        "years": years,
        "outcomes": sources.OUTCOMES,
        "spark": {"width": sources.SPARK_WIDTH, "height": sources.SPARK_HEIGHT},
    }
    return respond(request, "claims/sources.html", context)
