"""The same claim elsewhere: the panel's section (loaded after the panel, so that the
panel's own queries stay as they are), a reviewer's decision on a link, and adopting a
linked claim's verdict. Each works as a plain form post (redirect) and under htmx."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import reswap, retarget

from claims import reading, recurring, screens
from claims.access import claim_for, member_for
from claims.http import MAX_ID, AuthedRequest, respond
from claims.models import Claim, ClaimLink, Conflict, LinkState, Member, Role, Verdict

PAGE = "claims/same_claim.html"


class DecideForm(forms.Form):
    state = forms.ChoiceField(choices=[(s, s) for s in (LinkState.CONFIRMED, LinkState.REJECTED)])
    version = forms.IntegerField(min_value=0, max_value=2**31 - 1, widget=forms.HiddenInput)
    claim = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)


class AdoptForm(forms.Form):
    source = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)
    version = forms.IntegerField(min_value=0, max_value=2**31 - 1, widget=forms.HiddenInput)


def section(member: Member, claim: Claim, **extra: Any) -> dict[str, Any]:
    """What the section shows this member of ``claim``: its links and the claims citing
    the same sources and dates, and the version of their verdict here (to adopt over)."""
    mine = Verdict.objects.filter(claim=claim, analyst=member.user).values_list("version")
    return {
        "member": member,
        "project": member.project,
        "claim": claim,
        "linked": recurring.links_of(claim, member),
        "same_source": recurring.same_source(claim, member),
        "my_version": next(iter(mine), (0,))[0],
        "can_adopt": member.at_least(Role.ANALYST),
        **extra,
    }


def back_to(claim: Claim) -> str:
    url = reverse("article-detail", args=[claim.article.project.slug, claim.article_id])
    return f"{url}?claim={claim.pk}#claim-{claim.pk}"


@require_safe
@login_required
def claim_same(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    """The section (htmx), or a page of its own (no JavaScript)."""
    member, claim = claim_for(request, slug, claim_id)
    partial = "same-claim" if request.htmx else ""
    return respond(request, PAGE, section(member, claim), partial=partial)


@require_POST
@login_required
def link_decide(request: AuthedRequest, slug: str, link_id: int) -> HttpResponse:
    """A reviewer confirms or rejects a proposed link: one audited event."""
    member = member_for(request, slug, Role.REVIEWER)
    link = (
        ClaimLink.objects.select_related("claim_a__article")
        .filter(pk=link_id, claim_a__article__project=member.project)
        .first()
        if link_id <= MAX_ID
        else None
    )
    if link is None:
        raise Http404("No such link.")
    link.claim_a.article.project = member.project
    form = DecideForm(request.POST)
    shown = link.claim_a_id
    if form.is_valid() and form.cleaned_data["claim"] in (link.claim_a_id, link.claim_b_id):
        shown = form.cleaned_data["claim"]
    _member, claim = claim_for(request, slug, shown)
    if not form.is_valid():
        return answer(request, member, claim, "Choose to confirm or reject the link.", 422)
    data = form.cleaned_data
    try:
        link.decide(member, data["state"], expected_version=data["version"])
    except Conflict as conflict:
        return answer(request, member, claim, str(conflict), 409)
    return answer(request, member, claim, f"Link {data['state']}.", 200)


@require_POST
@login_required
def claim_adopt(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    """An analyst takes the verdict of the same claim elsewhere: one verdict event that
    names its source. Under htmx the whole panel comes back, as the verdict changed."""
    member, claim = claim_for(request, slug, claim_id, Role.ANALYST)
    form = AdoptForm(request.POST)
    if not form.is_valid():
        return answer(request, member, claim, "Choose a linked claim to adopt from.", 422)
    data = form.cleaned_data
    try:
        recurring.adopt(claim, member, data["source"], expected_version=data["version"])
    except (Conflict, ValidationError) as refusal:
        message = refusal.messages[0] if isinstance(refusal, ValidationError) else str(refusal)
        return answer(request, member, claim, message, 409)
    if not request.htmx:
        messages.success(request, "Verdict adopted from the same claim elsewhere.")
        return HttpResponseRedirect(back_to(claim))
    filters = reading.Filters.from_query(request.GET)
    context = screens.panel(claim, member) | {"project": member.project, "filters": filters}
    screens.selected(context["view"], filters)
    response = respond(
        request,
        "claims/article_detail.html",
        context,
        partial="claim-panel",
        oob=["claim-span"],
        trigger="verdict-changed",
        detail={"claim": claim.pk},
    )
    return reswap(retarget(response, "#claim-panel"), "outerHTML")


def answer(
    request: AuthedRequest, member: Member, claim: Claim, message: str, status: int
) -> HttpResponse:
    """The section again with what happened (htmx), or back to the claim (no JavaScript:
    a refusal is shown on the section's own page)."""
    if not request.htmx:
        if status == 200:
            messages.success(request, message)
            return HttpResponseRedirect(back_to(claim))
        return respond(request, PAGE, section(member, claim, notice=message), status=status)
    context = section(member, claim, notice="" if status == 200 else message)
    response = respond(
        request, PAGE, context, partial="same-claim", status=status, trigger="links-changed"
    )
    return reswap(retarget(response, "#same-claim"), "outerHTML")
