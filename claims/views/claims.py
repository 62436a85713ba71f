"""The claim panel and its actions. Each action works as a plain form post (redirect)
and under htmx (the changed fragments plus an event that other regions listen to)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from claims import reading, screens
from claims.access import claim_for, evidence_for
from claims.forms import (
    ConfirmForm,
    EvidenceForm,
    MergeForm,
    SpanForm,
    SplitForm,
    VerdictForm,
)
from claims.http import AuthedRequest, bad_request, respond
from claims.log import past
from claims.models import NO_EVIDENCE_CHANGE, Claim, Conflict, EvidenceClock, Member, Role

PAGE = "claims/article_detail.html"


def screen_url(claim: Claim, request: AuthedRequest, *, anchor: bool = True) -> str:
    filters = reading.Filters.from_query(request.GET)
    url = reverse("article-detail", args=[claim.article.project.slug, claim.article_id])
    url = f"{url}?{filters.query(claim=claim.pk)}"
    return f"{url}#claim-{claim.pk}" if anchor else url


def panel_response(
    request: AuthedRequest,
    member: Member,
    claim: Claim,
    *,
    event: str = "",
    message: str = "",
    status: int = 200,
    highlight: bool = False,
    **extra: Any,
) -> HttpResponse:
    """The panel fragment (htmx) or the whole screen / a redirect (no JavaScript)."""
    if not request.htmx:
        if status == 200:
            if message:
                messages.success(request, message)
            return HttpResponseRedirect(screen_url(claim, request))
        return whole_screen(request, member, claim, status=status, **extra)
    filters = reading.Filters.from_query(request.GET)
    context = screens.panel(claim, member, **extra)
    context |= {"project": claim.article.project, "filters": filters}
    if highlight:
        # The claim's highlight, swapped out of band so the text shows the new state.
        screens.selected(context["view"], filters)
    return respond(
        request,
        PAGE,
        context,
        partial="claim-panel",
        oob=["claim-span"] if highlight else [],
        status=status,
        trigger=event,
        detail={"claim": claim.pk},
    )


def whole_screen(
    request: AuthedRequest, member: Member, claim: Claim, *, status: int, **extra: Any
) -> HttpResponse:
    """The article screen with the claim's panel open: a refused plain form post."""
    try:
        context = screens.article_screen(
            request.GET, member, claim.article, selected=claim, **extra
        )
    except past.BadMoment as refusal:
        return bad_request(request, str(refusal))
    return respond(request, PAGE, context, status=status)


@require_safe
@login_required
def claim_panel(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    member, claim = claim_for(request, slug, claim_id)
    if not request.htmx:
        return HttpResponseRedirect(screen_url(claim, request))
    return panel_response(request, member, claim)


@require_POST
@login_required
def claim_verdict(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    member, claim = claim_for(request, slug, claim_id, Role.ANALYST)
    form = VerdictForm(request.POST)
    if not form.is_valid():
        return verdict_changed(request, member, claim, verdict_form=form, status=422)
    data = form.cleaned_data
    try:
        if data["status"] == "clear":
            claim.clear_verdict(member, expected_version=data["version"])
        else:
            claim.set_verdict(
                member,
                data["status"],
                rationale=data["rationale"],
                as_of=data["as_of"],
                recheck_by=data["recheck_by"],
                expected_version=data["version"],
            )
    except Conflict as conflict:
        return verdict_changed(
            request, member, claim, verdict_form=form, conflict=conflict, status=409
        )
    except ValidationError as error:
        form.add_error(None, error)
        return verdict_changed(request, member, claim, verdict_form=form, status=422)
    label = "cleared" if data["status"] == "clear" else f"saved as {data['status']}"
    return verdict_changed(request, member, claim, message=f"Verdict {label}.")


@require_POST
@login_required
def claim_confirm(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    """The member's verdict "still holds": it stands as it is, and its re-check clock
    restarts. Posted by a button of the verdict form, with the form's version."""
    member, claim = claim_for(request, slug, claim_id, Role.ANALYST)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        notice = "There is no verdict of yours here to confirm yet."
        return verdict_changed(request, member, claim, recheck_notice=notice, status=422)
    try:
        claim.confirm_verdict(member, expected_version=form.cleaned_data["version"])
    except Conflict as conflict:
        return verdict_changed(request, member, claim, conflict=conflict, status=409)
    except ValidationError as error:
        notice = " ".join(error.messages)
        return verdict_changed(request, member, claim, recheck_notice=notice, status=422)
    return verdict_changed(request, member, claim, message="Verdict confirmed: it still holds.")


def verdict_changed(
    request: AuthedRequest,
    member: Member,
    claim: Claim,
    *,
    message: str = "",
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """After a verdict (or a conflict over one), htmx gets only what a verdict changes: the
    verdict form, and out of band the team's verdicts, the recent history and the claim's
    highlight; a refused form (422) gets the form alone.

    Where the viewer's own verdict decides what they may see (blind review), the whole
    panel changes with it, so it is sent whole, in place of the panel."""
    if not request.htmx:
        return panel_response(request, member, claim, message=message, status=status, **extra)
    event = "verdict-changed" if status == 200 else ""
    if status != 422 and not member.sees_everything:
        response = panel_response(
            request, member, claim, event=event, status=status, highlight=True, **extra
        )
        return reswap(retarget(response, "#claim-panel"), "outerHTML")
    filters = reading.Filters.from_query(request.GET)
    refused = status == 422
    context = screens.verdict_changed(claim, member, filters, refused=refused, **extra)
    oob = [] if refused else ["team-section", "history-section", "claim-span"]
    return respond(
        request,
        PAGE,
        context,
        partial="verdict-section",
        oob=oob,
        status=status,
        trigger=event,
        detail={"claim": claim.pk},
    )


@require_POST
@login_required
def evidence_add(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    member, claim = claim_for(request, slug, claim_id, Role.ANALYST)
    form = EvidenceForm(request.POST)
    if not form.is_valid():
        return evidence_changed(request, member, claim, evidence_form=form, status=422)
    since = claim.evidence_clock
    claim.add_evidence(member, **form.cleaned_data)
    return evidence_changed(request, member, claim, since=since, message="Evidence added.")


@require_POST
@login_required
def evidence_remove(request: AuthedRequest, slug: str, evidence_id: int) -> HttpResponse:
    member, evidence = evidence_for(request, slug, evidence_id, Role.ANALYST)
    claim = evidence.claim
    since = claim.evidence_clock
    try:
        evidence.remove(member)
    except Conflict as conflict:
        return evidence_changed(request, member, claim, notice=str(conflict), status=409)
    return evidence_changed(request, member, claim, since=since, message="Evidence removed.")


def evidence_changed(
    request: AuthedRequest,
    member: Member,
    claim: Claim,
    *,
    since: EvidenceClock = NO_EVIDENCE_CHANGE,
    message: str = "",
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """After evidence was added or removed, htmx gets only what that changes: the evidence
    and its form, and out of band the recent history and, when it made the member's own
    verdict due, its re-check line and the claim's highlight. A refused form (422) comes
    back alone, as typed; a conflict (409) shows the whole panel with its notice."""
    if not request.htmx or status == 409:
        response = panel_response(request, member, claim, message=message, status=status, **extra)
        return reswap(retarget(response, "#claim-panel"), "outerHTML") if request.htmx else response
    filters = reading.Filters.from_query(request.GET)
    refused = status == 422
    context = screens.evidence_changed(
        claim, member, filters, since=since, changed=not refused, **extra
    )
    oob = [] if refused else ["history-section"]
    if context["due_changed"]:
        oob += ["due-section", "claim-span"]
    return respond(
        request,
        PAGE,
        context,
        partial="evidence-section",
        oob=oob,
        status=status,
        trigger="" if refused else "evidence-changed",
        detail={"claim": claim.pk},
    )


@require_POST
@login_required
def claim_span(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    member, claim = claim_for(request, slug, claim_id, Role.REVIEWER)
    form = SpanForm(request.POST)
    if not form.is_valid():
        return panel_response(request, member, claim, span_form=form, status=422)
    change = lambda: correct_to_text(claim, member, form)  # noqa: E731
    return edit(request, member, claim, change, "Span corrected.", span_form=form)


def correct_to_text(claim: Claim, member: Member, form: SpanForm) -> list[Claim]:
    wanted = form.cleaned_data["text"].strip()
    block = claim.block
    text = claim.article.text
    found = _occurrences(text, wanted, block.start, block.end)
    if not wanted or not found:
        raise ValidationError("That text is not in the claim's paragraph; copy it exactly.")
    start = min(found, key=lambda i: abs(i - claim.start))
    edited = claim.correct_span(
        member,
        start=start,
        end=start + len(wanted),
        expected_version=form.cleaned_data["version"],
    )
    return [edited]


def _occurrences(text: str, needle: str, start: int, end: int) -> list[int]:
    found, at = [], text.find(needle, start, end) if needle else -1
    while at != -1:
        found.append(at)
        at = text.find(needle, at + 1, end)
    return found


@require_POST
@login_required
def claim_split(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    member, claim = claim_for(request, slug, claim_id, Role.REVIEWER)
    form = SplitForm(request.POST)
    if not form.is_valid():
        return panel_response(request, member, claim, split_form=form, status=422)
    data = form.cleaned_data

    def split() -> list[Claim]:
        return list(claim.split(member, at=data["at"], expected_version=data["version"]))

    return edit(request, member, claim, split, "Claim split in two.")


@require_POST
@login_required
def claim_merge(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    member, claim = claim_for(request, slug, claim_id, Role.REVIEWER)
    form = MergeForm(request.POST)
    if not form.is_valid():
        notice = "The form was incomplete; reload."
        return panel_response(request, member, claim, status=422, notice=notice)
    version = form.cleaned_data["version"]
    merged = lambda: [claim.merge_next(member, expected_version=version)]  # noqa: E731
    return edit(request, member, claim, merged, "Claims merged.")


def edit(
    request: AuthedRequest,
    member: Member,
    claim: Claim,
    change: Any,
    message: str,
    *,
    span_form: SpanForm | None = None,
) -> HttpResponse:
    """Run a reviewer's claim edit; the text changed, so htmx refreshes the whole screen.

    A refused span correction shows its form again as typed, with the reason beside it,
    and on a conflict the claim's current text too, as a verdict conflict does."""
    try:
        change()
    except Conflict as conflict:
        if span_form is not None and conflict.current is not None:
            return panel_response(
                request,
                member,
                claim,
                span_form=span_form,
                span_conflict=conflict.current,
                status=409,
            )
        notice = (
            str(conflict)
            if conflict.current is None
            else (
                "Someone edited this claim first; here is how it stands now. Nothing was changed."
            )
        )
        return panel_response(
            request, member, claim, notice=notice, span_form=span_form, status=409
        )
    except ValidationError as error:
        if span_form is not None:
            span_form.add_error(None, error)
            return panel_response(request, member, claim, span_form=span_form, status=422)
        return panel_response(request, member, claim, notice=" ".join(error.messages), status=422)
    if not request.htmx:
        messages.success(request, message)
        return HttpResponseRedirect(screen_url(claim, request))
    # No #fragment: a redirect that differs from the current address only by its fragment
    # would scroll instead of reloading the changed text. 204: nothing to swap meanwhile.
    return HttpResponseClientRedirect(screen_url(claim, request, anchor=False), status=204)
