"""What the article screen, its claim panel and the queue's items show, as template context.

Views turn these into responses with ``http.respond``. The article view and the claim
actions both show the screen (a refused plain form post shows it again), and the claim
actions and the verdict show parts of the panel, so all of them build it here.

Forms on these screens show what stands now: a refused one comes back as typed, with its
errors, over the version now current (``fields.shown_again``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, cast
from urllib.parse import urlencode

from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone

from claims import access, charts, reading, recheck
from claims.fields import ButtonChoiceField, shown_again
from claims.forms import (
    AdjudicationForm,
    EvidenceForm,
    MergeForm,
    SpanForm,
    SplitForm,
    VerdictForm,
)
from claims.http import query_int
from claims.log import history, past
from claims.log.actions import Action
from claims.models import (
    NO_EVIDENCE_CHANGE,
    Adjudication,
    Article,
    Claim,
    EvidenceClock,
    Member,
    Role,
    Status,
)


def article_screen(
    query: QueryDict,
    member: Member,
    article: Article,
    *,
    selected: Claim | None = None,
    beside: bool = False,
    **panel_extra: Any,
) -> dict[str, Any]:
    """The whole screen; ``selected`` (or ``?claim=``) opens that claim's panel, with
    ``panel_extra`` (see ``panel``). At ``?as_of=`` the screen as it stood then. With
    ``beside``, only what a page asked for beside the one on screen shows (``?from=`` or
    ``?before=``: ``chunk`` says which): its paragraphs and its link onward.

    Raises ``past.BadMoment`` for an ``as_of`` that names no past moment."""
    filters = reading.Filters.from_query(query)
    asked = reading.Asked.from_query(query)
    moment = past.parse_moment(query.get("as_of", ""))
    if moment is None:
        moment = version_moment(article, query.get("version", ""))
    if moment is not None:
        context = past_screen(query, member, article, filters, moment)
        return context | {"chunk": asked.beside if beside else ""}
    wanted = selected.pk if selected else query_int(query.get("claim"))
    kept = query_int(query.get("keep"))
    page, matching, current = reading.reading_page(article, member, filters, asked, wanted, kept)
    context = _screen(member, article, page, filters, current)
    if beside:
        return context | {"chunk": asked.beside}
    # Counting progress reads every claim of the article: an article longer than a page
    # shows its text first and has htmx fetch the counts after (``article_progress``), so
    # that its first screen costs the same at 5,000 claims as at 100,000.
    progress = None if page.start or page.end else reading.progress(article, member.user)
    total = progress.total if progress else None
    if total is None and matching is not None:  # filtered: "4 of 12,000 claims match"
        total = article.claims.count()  # as long as the matching itself
    context |= {
        "progress": progress,
        "total": total,
        "matching": total if matching is None else matching,
        "sections": reading.sections(article),
        "versions": range(1, article.version + 1),
    }
    if current is not None:
        context |= panel(current.claim, member, **panel_extra)
    return context


def version_moment(article: Article, value: str) -> dt.datetime | None:
    """The last moment at which version ``value`` of the article was its current text:
    just before the next version replaced it. None for the current version (or none asked).

    Raises ``past.BadMoment`` for a version the article does not have."""
    if not value:
        return None
    number = query_int(value)
    if number is None or not 1 <= number <= article.version:
        raise past.BadMoment(
            f"This article has versions 1 to {article.version}; there is no version “{value}”."
        )
    if number == article.version:
        return None
    replaced = article.versions.filter(number=number + 1).values_list("imported_at", flat=True)
    return replaced.get() - dt.timedelta(microseconds=1)


def _screen(
    member: Member,
    article: Article,
    page: reading.Page,
    filters: reading.Filters,
    current: reading.ClaimView | None,
    **link: str,
) -> dict[str, Any]:
    """The screen's context around a page of its claims, ``current`` the one open: links
    to each claim and to the pages before and after, under the filters (and ``link``)."""
    # The links differ only in the claim: the rest of the query string is made once.
    before, after = filters.query(), urlencode({k: v for k, v in link.items() if v})
    for view in page.views:
        view.href = "?" + "&".join(p for p in (before, f"claim={view.claim.pk}", after) if p)
        view.selected = view is current
    return {
        "member": member,
        "project": article.project,
        "article": article,
        "page": page,
        "previous_href": "?" + filters.query(before=str(page.start), **link) if page.start else "",
        "next_href": "?" + filters.query(**{"from": str(page.end)}, **link) if page.end else "",
        "filters": filters,
        "show_choices": reading.SHOW_CHOICES,
    }


def past_screen(
    query: QueryDict,
    member: Member,
    article: Article,
    filters: reading.Filters,
    moment: dt.datetime,
) -> dict[str, Any]:
    """The screen as it stood at ``moment``, folded from the log: read-only. The whole
    article is rebuilt (the fold has no pages) and shown a page at a time."""
    then = past.Past(article, moment)
    by_claim: dict[int, list[Any]] = {}
    for verdict in then.verdicts(current_only=False):
        by_claim.setdefault(verdict.claim_id, []).append(verdict)
    views = []
    for claim in then.claims:
        view = reading.claim_view(
            claim, by_claim.get(claim.pk, []), member, rechecks=False, cited=False
        )
        view.citations = list(claim.citations.all())  # prefetched with the past's claims
        views.append(view)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S")
    # Links keep the moment to the microsecond: the next page shows the same moment.
    exact = moment.strftime("%Y-%m-%dT%H:%M:%S.%f") if moment.microsecond else stamp
    wanted, kept = query_int(query.get("claim")), query_int(query.get("keep"))
    asked = reading.Asked.from_query(query)
    page, matching, current = reading.held_page(then.article, views, filters, asked, wanted, kept)
    context = _screen(member, then.article, page, filters, current, as_of=exact)
    context |= {
        "progress": then.progress(member.user, article.project.min_verdicts),
        "total": len(views),
        "matching": matching,
        "sections": reading.sections_of(views),
        "as_of": moment,
        "as_of_stamp": stamp,
        "as_of_exact": exact,
        "versions": range(1, article.version + 1),
    }
    if current is not None:
        evidence = then.evidence(current.claim.pk)
        if not current.team_visible:
            evidence = [e for e in evidence if e.added_by == member.user]
        context |= {"view": current, "claim": current.claim, "evidence": evidence}
        context["citations"] = list(current.claim.citations.all())
    return context


def panel(claim: Claim, member: Member, **extra: Any) -> dict[str, Any]:
    """What the claim panel shows, with its forms. ``extra`` adds to it: a ``notice``, a
    ``conflict`` or ``span_conflict``, and refused forms (``verdict_form``,
    ``evidence_form``, ``span_form``, ``split_form``), shown again as typed."""
    context = reading.panel(claim, member) | extra
    if context["can_tag"]:
        context["verdict_form"] = verdict_form(context["view"], extra.get("verdict_form"))
    context.setdefault("evidence_form", EvidenceForm())
    if context["can_edit"]:
        context |= edit_forms(claim, context["split_choices"], **extra)
        # A reviewer rules here as from the queue: set, change or withdraw the ruling.
        context["ruling_form"] = adjudication_form(claim, extra.get("ruling_form"))
    return context


def verdict_form(view: reading.ClaimView, refused: VerdictForm | None = None) -> VerdictForm:
    """The verdict form over the member's verdict as it stands, or a refused one as typed."""
    standing = {"status": view.my_status, "version": view.my_version}
    if refused is not None:
        return shown_again(refused, **standing)
    mine = view.mine
    written = {"rationale": mine.rationale, "as_of": mine.as_of} if mine else {}
    if mine and mine.recheck_by and mine.recheck_by > timezone.localdate():
        # A re-check date that has come is spent: saving again is the re-check.
        written["recheck_by"] = mine.recheck_by
    return VerdictForm(initial=standing | written)


def edit_forms(
    claim: Claim,
    split_choices: list[tuple[int, str]],
    *,
    span_form: SpanForm | None = None,
    span_conflict: Claim | None = None,
    split_form: SplitForm | None = None,
    **_other: Any,
) -> dict[str, Any]:
    """A reviewer's forms: correct the span, split at a word start, merge with the next
    claim. After a conflict the span form carries the version of the text now current,
    which the panel shows beside what was typed."""
    version = claim.version
    if span_form is None:
        span_form = SpanForm(initial={"text": claim.text, "version": version})
    else:
        current = span_conflict.version if span_conflict is not None else version
        span_form = shown_again(span_form, version=current)
    if split_form is None:
        split_form = SplitForm(initial={"version": version})
    else:
        split_form = shown_again(split_form, version=version)
    split_form.fields["at"].widget.choices = split_choices
    return {
        "span_form": span_form,
        "split_form": split_form,
        "merge_form": MergeForm(initial={"version": version}),
    }


def selected(view: reading.ClaimView, filters: reading.Filters) -> reading.ClaimView:
    """The claim's highlight as the selected one, linking to itself under the filters."""
    view.href, view.selected = "?" + filters.query(claim=view.claim.pk), True
    return view


def verdict_changed(
    claim: Claim, member: Member, filters: reading.Filters, *, refused: bool, **extra: Any
) -> dict[str, Any]:
    """What a verdict changes on the screen: the verdict form, and unless it was refused
    (``refused``), the team's verdicts, the recent history and the claim's highlight."""
    view = reading.claim_view(claim, access.claim_verdicts(claim), member)
    context = {
        "member": member,
        "project": claim.article.project,
        "claim": claim,
        "view": view,
        "filters": filters,
        **extra,
        "verdict_form": verdict_form(view, extra.get("verdict_form")),
    }
    if not refused:
        context |= {"view": selected(view, filters), "history": reading.recent_history(claim)}
    return context


def evidence_changed(
    claim: Claim,
    member: Member,
    filters: reading.Filters,
    *,
    since: EvidenceClock = NO_EVIDENCE_CHANGE,
    changed: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """What adding or removing evidence changes on the screen: the claim's evidence with a
    new form (or a refused one as typed: ``extra``), the recent history, and whether the
    change made the member's own verdict due or not due (``due_changed``: ``since`` is the
    claim's ``evidence_clock`` before it; nothing ``changed`` when it was refused), for its
    re-check line and the claim's highlight. Three queries, four when that changed."""
    view = reading.claim_view(claim, access.claim_verdicts(claim), member, cited=False)
    context = {
        "member": member,
        "project": claim.article.project,
        "claim": claim,
        "view": view,
        "filters": filters,
        "can_tag": member.at_least(Role.ANALYST),
        "evidence_form": EvidenceForm(),
        **reading.evidence_and_history(view, member),
        **extra,
    }
    mine = view.mine
    context["due_changed"] = (
        changed
        and mine is not None
        and view.due
        != recheck.due(
            status=mine.status,
            checked_at=mine.checked_at,
            recheck_by=mine.recheck_by,
            freshness=recheck.Freshness.of(member.project),
            evidence_changed_at=since[0],
            evidence_changed_by=since[1],
            analyst=member.user.pk,
            revised_at=claim.revised_at,
            today=timezone.localdate(),
        )
    )
    if context["due_changed"]:
        view.citations = access.claim_citations(claim)  # the highlight shows them
        selected(view, filters)
    return context


def adjudication_form(claim: Claim, refused: AdjudicationForm | None = None) -> AdjudicationForm:
    """The queue's form for one claim, over its adjudication as it stands. A refused one
    keeps only its rationale (the reason for refusing is said above the form, and the
    rest shows how it stands); there is nothing to withdraw before an adjudication."""
    try:
        version = claim.adjudication.version  # a withdrawn adjudication keeps its row
    except Adjudication.DoesNotExist:
        version = 0
    final = claim.final
    initial: dict[str, Any] = {"version": version}
    if final is not None:
        initial |= {"status": final.status, "rationale": final.rationale, "as_of": final.as_of}
    if refused is not None:
        initial["rationale"] = refused.data.get("rationale", "")
    form = AdjudicationForm(initial=initial, auto_id=f"%s-{claim.pk}")
    form.fields["as_of"].widget.attrs["id"] = f"since-{claim.pk}"
    if final is None:
        cast(ButtonChoiceField, form.fields["status"]).choices = Status.choices
    return form


def ruling_changed(
    claim: Claim,
    member: Member,
    query: QueryDict,
    refused: AdjudicationForm | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The claim panel after a reviewer ruled from it (or was refused: ``refused``, shown
    again with its rationale), with the claim's highlight under the screen's filters."""
    filters = reading.Filters.from_query(query)
    context = panel(claim, member, ruling_form=refused, **extra)
    context |= {"project": claim.article.project, "filters": filters}
    context["ruling_refused"] = refused is not None  # its form stays open, as typed
    selected(context["view"], filters)
    return context


def claim_timeline(member: Member, claim: Claim) -> dict[str, Any]:
    """The claim's life for the history page's chart: each analyst's verdict over time,
    the text's import and revisions, the ruling; only what ``member`` may see (one query:
    the claim's events and its article's import and revisions)."""
    texts = [Action.ARTICLE_IMPORTED, Action.ARTICLE_REVISED]
    events = history.visible_events(member).filter(
        Q(claim_id=claim.pk)
        | Q(other_claim_id=claim.pk)
        | Q(article_id=claim.article_id, action__in=texts)
    )
    moments = []
    for at, action, raw in events.order_by("seq").values_list("created_at", "action", "body"):
        body = json.loads(raw)
        after = body.get("after") or {}
        if action == Action.ARTICLE_IMPORTED:
            moments.append(charts.Moment("Text", at, "imported", "imported"))
        elif action == Action.ARTICLE_REVISED:
            moments += _revised(claim, at, after)
        elif action.startswith("verdict."):
            status = after.get("status", "")
            who = body["target"].get("analyst", "")
            moments.append(charts.Moment(who, at, status, f"{who}: {status or 'cleared'}"))
        elif action.startswith("adjudication."):
            status = after.get("status", "")
            moments.append(charts.Moment("Ruling", at, status, f"ruling: {status or 'withdrawn'}"))
        elif action.startswith("claim."):
            moments.append(charts.Moment("Text", at, "edited", action.split(".")[1]))
    return charts.claim_timeline(moments, timezone.now())


def _revised(claim: Claim, at: dt.datetime, after: dict[str, Any]) -> list[charts.Moment]:
    """What a revision did to this claim, as a moment of its text (if anything)."""
    version = after["version"]
    if any(entry[0] == claim.pk for entry in after["edited"]):
        return [charts.Moment("Text", at, "edited", f"reworded in version {version}")]
    if claim.pk in after["removed"]:
        return [charts.Moment("Text", at, "retired", f"removed in version {version}")]
    if any(entry[0] == claim.pk for entry in after["added"]):
        return [charts.Moment("Text", at, "imported", f"added in version {version}")]
    return []
