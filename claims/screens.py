"""What the article screen, its claim panel and the queue's items show, as template context.

Views turn these into responses with ``http.respond``. The article view and the claim
actions both show the screen (a refused plain form post shows it again), and the claim
actions and the verdict show parts of the panel, so all of them build it here.

Forms on these screens show what stands now: a refused one comes back as typed, with its
errors, over the version now current (``fields.shown_again``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from urllib.parse import urlencode

from django.http import QueryDict

from claims import reading
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
from claims.models import Adjudication, Article, Claim, Member, Status


def article_screen(
    query: QueryDict,
    member: Member,
    article: Article,
    *,
    selected: Claim | None = None,
    **panel_extra: Any,
) -> dict[str, Any]:
    """The whole screen; ``selected`` (or ``?claim=``) opens that claim's panel, with
    ``panel_extra`` (see ``panel``). At ``?as_of=`` the screen as it stood then.

    Raises ``past.BadMoment`` for an ``as_of`` that names no past moment."""
    filters = reading.Filters.from_query(query)
    moment = past.parse_moment(query.get("as_of", ""))
    if moment is not None:
        return past_screen(query, member, article, filters, moment)
    views, progress = reading.reading_claims(article, member)
    wanted = selected.pk if selected else query_int(query.get("claim"))
    context, current = _screen(member, article, views, filters, wanted)
    context["progress"] = progress
    if current is not None:
        context |= panel(current.claim, member, **panel_extra)
    return context


def _screen(
    member: Member,
    article: Article,
    views: list[reading.ClaimView],
    filters: reading.Filters,
    wanted: int | None,
    **link: str,
) -> tuple[dict[str, Any], reading.ClaimView | None]:
    """The screen's context around its claims, and the selected claim's view if any."""
    matching = reading.apply_filters(views, filters)
    current = next((v for v in views if v.claim.pk == wanted), None)
    # The links differ only in the claim: the rest of the query string is made once.
    before, after = filters.query(), urlencode({k: v for k, v in link.items() if v})
    for view in views:
        view.href = "?" + "&".join(p for p in (before, f"claim={view.claim.pk}", after) if p)
        view.selected = view is current
    context = {
        "member": member,
        "project": article.project,
        "article": article,
        "blocks": reading.reading_blocks(article, views),
        "filters": filters,
        "show_choices": reading.SHOW_CHOICES,
        "sections": reading.sections(views),
        "matching": matching,
        "total": len(views),
    }
    return context, current


def past_screen(
    query: QueryDict,
    member: Member,
    article: Article,
    filters: reading.Filters,
    moment: dt.datetime,
) -> dict[str, Any]:
    """The screen as it stood at ``moment``, folded from the log: read-only."""
    then = past.Past(article, moment)
    by_claim: dict[int, list[Any]] = {}
    for verdict in then.verdicts(current_only=False):
        by_claim.setdefault(verdict.claim_id, []).append(verdict)
    views = [reading.claim_view(claim, by_claim.get(claim.pk, []), member) for claim in then.claims]
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S")
    wanted = query_int(query.get("claim"))
    context, current = _screen(member, article, views, filters, wanted, as_of=stamp)
    context |= {
        "progress": then.progress(member.user, article.project.min_verdicts),
        "as_of": moment,
        "as_of_stamp": stamp,
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
    return context


def verdict_form(view: reading.ClaimView, refused: VerdictForm | None = None) -> VerdictForm:
    """The verdict form over the member's verdict as it stands, or a refused one as typed."""
    standing = {"status": view.my_status, "version": view.my_version}
    if refused is not None:
        return shown_again(refused, **standing)
    mine = view.mine
    written = {"rationale": mine.rationale, "as_of": mine.as_of} if mine else {}
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
    verdicts = list(claim.verdicts.select_related("analyst"))
    view = reading.claim_view(claim, verdicts, member)
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
        context |= {"view": selected(view, filters), "history": history.claim_history(claim.pk)}
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
