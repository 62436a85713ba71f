"""An evidence page as it was read: its text with the quote marked, and what changed."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe

from claims import access, reading, snapshots
from claims.access import evidence_for
from claims.http import AuthedRequest, query_int, respond


@require_safe
@login_required
def evidence_snapshot(request: AuthedRequest, slug: str, evidence_id: int) -> HttpResponse:
    """Every check of the evidence's page, and one of them (the latest, or ``?check=``) in
    full. Blind review as in the claim panel: before their own verdict on the claim, an
    analyst sees only the evidence they added, and the snapshots of nothing else."""
    member, evidence = evidence_for(request, slug, evidence_id)
    claim = evidence.claim
    verdicts = access.claim_verdicts(claim)
    view = reading.claim_view(claim, verdicts, member, rechecks=False, cited=False)
    if not (view.team_visible or evidence.added_by_id == member.user.pk):
        raise Http404("No such evidence.")
    checks = list(evidence.snapshots.defer("text", "diff").order_by("-pk"))
    asked = request.GET.get("check")
    wanted = query_int(asked) if asked else (checks[0].pk if checks else None)
    shown = evidence.snapshots.filter(pk=wanted).first() if wanted is not None else None
    if asked and shown is None:
        raise Http404("No such check of this page.")
    context = {
        "member": member,
        "project": member.project,
        "claim": claim,
        "article": claim.article,
        "evidence": evidence,
        "checks": checks,
        "shown": shown,
        "reading": snapshots.reading_of(shown) if shown is not None else None,
    }
    return respond(request, "claims/snapshot.html", context)
