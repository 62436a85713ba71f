"""Team consensus: the consensus screen, the project summary, the disagreement queue and
adjudication, and the consensus exports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from claims import charts, exports, recheck, screens
from claims.access import article_for, claim_for, member_for
from claims.fields import SubmitButtons
from claims.forms import AdjudicationForm
from claims.http import AuthedRequest, bad_request, query_int, respond
from claims.log import past
from claims.models import Article, Claim, Conflict, Evidence, Member, Role
from claims.tally import Row, Said, Tally, tally, tally_of

# The keys that rule on the queue's claim in view (claims/static/claims/app.js).
RULING_KEYS = {"supported": "1", "disputed": "2", "outdated": "3", "withdraw": "0"}
STATES = ["unreviewed", "unanimous", "majority", "contested", "adjudicated"]
# The figures and charts cover every claim; the table shows them a page at a time.
ROWS_PER_PAGE = 100


def figures_context(result: Tally) -> dict[str, Any]:
    """The agreement figures and both charts, as the templates show them."""
    summary = result.summary
    agreement_rows = [
        (name, fig.value, fig.display()) for name, fig in summary.with_consensus.items()
    ]
    return {
        "tally": result,
        "summary": summary,
        "pairwise": [(a, b, summary.pairwise[(a, b)]) for a, b in summary.pairwise],
        "section_chart": charts.stacked_bars(result.by_section()),
        "analyst_chart": charts.percent_bars(agreement_rows),
    }


@require_safe
@login_required
def article_consensus(request: AuthedRequest, slug: str, article_id: int) -> HttpResponse:
    member, article = article_for(request, slug, article_id)
    try:
        moment = past.parse_moment(request.GET.get("as_of", ""))
    except past.BadMoment as refusal:
        return bad_request(request, str(refusal))
    if moment is None:
        result = tally(Claim.objects.filter(article=article), member)
    else:
        then = past.Past(article, moment)
        said = [Said.of(verdict) for verdict in then.verdicts()]
        result = tally_of(then.claims, said, member)
    state, section, analyst = (request.GET.get(k, "") for k in ("state", "section", "analyst"))
    rows = [
        row
        for row in result.rows
        if (not state or (row.visible and row.state == state))
        and (not section or row.claim.section == section)
        and (not analyst or analyst in row.verdicts)
    ]
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.bar = charts.claim_bar(row.counts)
    if moment is None:  # now: flag the shown verdicts that have new evidence since
        flagged = recheck.new_evidence_since(r.claim.pk for r in page.object_list if r.visible)
        for row in page.object_list:
            row.new_evidence = [name for name in row.verdicts if (row.claim.pk, name) in flagged]
    query = request.GET.copy()
    query.pop("page", None)
    context = figures_context(result) | {
        "project": article.project,
        "article": article,
        "rows": page.object_list,
        "page": page,
        "matching": len(rows),
        "page_query": query.urlencode(),
        "states": STATES,
        "sections": sorted({r.claim.section for r in result.rows if r.claim.section}),
        "chosen": {"state": state, "section": section, "analyst": analyst},
        "as_of": moment,
        "as_of_stamp": moment.strftime("%Y-%m-%dT%H:%M:%S") if moment else "",
    }
    return respond(request, "claims/consensus.html", context)


@require_safe
@login_required
def project_consensus(request: AuthedRequest, slug: str) -> HttpResponse:
    member = member_for(request, slug)
    project = member.project
    result = tally(Claim.objects.filter(article__project=project), member)
    articles = {a.pk: a for a in Article.objects.filter(project=project)}
    per_article: dict[int, dict[str, int]] = {pk: dict.fromkeys(STATES, 0) for pk in articles}
    for row in result.rows:
        if row.visible:
            per_article[row.claim.article_id][row.state] += 1
    context = figures_context(result) | {
        "project": project,
        "articles": [(articles[pk], counts) for pk, counts in per_article.items()],
        "states": STATES,
    }
    return respond(request, "claims/project_consensus.html", context)


@require_safe
@login_required
def queue(request: AuthedRequest, slug: str) -> HttpResponse:
    member = member_for(request, slug)
    project = member.project
    claims = Claim.objects.filter(article__project=project).select_related("block")
    article_id = query_int(request.GET.get("article"))
    if article_id is not None:
        claims = claims.filter(article_id=article_id)
    rows = tally(claims, member).queue()
    attach_evidence(rows)
    can_adjudicate = member.at_least(Role.REVIEWER)
    context = {
        "project": project,
        "rows": rows,
        "queue": queue_items(rows, can_adjudicate),
        "can_adjudicate": can_adjudicate,
        "articles": Article.objects.filter(project=project).only("pk", "title"),
        "article_id": article_id,
    }
    return respond(request, "claims/queue.html", context)


@dataclass
class QueueItem:
    row: Row
    form: AdjudicationForm | None  # for those who may rule
    before: str  # the words of the claim's paragraph before it, and after it
    after: str
    then: int | None = None  # the claim after it in the queue


def queue_items(rows: list[Row], can_adjudicate: bool) -> list[QueueItem]:
    """Each claim in its paragraph, with the adjudication form for those who may rule."""
    items = [
        QueueItem(row, queue_form(row.claim) if can_adjudicate else None, *in_paragraph(row.claim))
        for row in rows
    ]
    # A ruling made without JavaScript reloads the queue, at the claim after the ruled one.
    for item, following in zip(items, items[1:], strict=False):
        item.then = following.row.claim.pk
    return items


def in_paragraph(claim: Claim) -> tuple[str, str]:
    """The words of the claim's paragraph before it and after it (its block and article
    already loaded: no query)."""
    text, block = claim.article.text, claim.block
    return text[block.start : claim.start], text[claim.end : block.end]


def queue_form(claim: Claim, refused: AdjudicationForm | None = None) -> AdjudicationForm:
    """The adjudication form as the queue shows it: its buttons name the keys that press
    them there (app.js), which on the article screen press the verdict's instead."""
    form = screens.adjudication_form(claim, refused)
    widget = cast(SubmitButtons, form.fields["status"].widget)
    widget.buttons = {  # a new dict: the form's copy of the widget shares the declared one
        value: attrs | {"data-key": RULING_KEYS[value]} for value, attrs in widget.buttons.items()
    }
    return form


def attach_evidence(rows: list[Row]) -> None:
    """Each row's current evidence grouped by who added it: one query for the whole queue."""
    ids = [row.claim.pk for row in rows]
    grouped: dict[tuple[int, str], list[Evidence]] = {}
    evidence = Evidence.objects.filter(claim__in=ids, removed_at__isnull=True)
    for item in evidence.select_related("added_by"):
        grouped.setdefault((item.claim_id, item.added_by.get_username()), []).append(item)
    for row in rows:
        row.columns = [
            (name, verdict, grouped.get((row.claim.pk, name), []))
            for name, verdict in sorted(row.verdicts.items())
        ]


@require_POST
@login_required
def adjudicate(request: AuthedRequest, slug: str, claim_id: int) -> HttpResponse:
    member, claim = claim_for(request, slug, claim_id, Role.REVIEWER)
    form = AdjudicationForm(request.POST)
    notice, status = "", 200
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["status"] == "withdraw":
                claim.withdraw_adjudication(member, expected_version=data["version"])
            else:
                claim.adjudicate(
                    member,
                    data["status"],
                    rationale=data["rationale"],
                    as_of=data["as_of"],
                    expected_version=data["version"],
                )
        except Conflict as conflict:
            notice, status = f"{conflict} Nothing was changed; here is how it stands.", 409
        except ValidationError as error:
            notice, status = " ".join(error.messages), 422
    else:
        notice, status = "Choose a final status and say why.", 422
    return adjudication_response(request, member, claim, form, notice, status)


def adjudication_response(
    request: AuthedRequest,
    member: Member,
    claim: Claim,
    form: AdjudicationForm,
    notice: str,
    status: int,
) -> HttpResponse:
    """Without htmx, back where the form was (``next``); with it, the claim's queue item
    again, or the claim panel when the ruling came from there (``hx-target``)."""
    if not request.htmx:
        if status == 200:
            messages.success(request, f"Claim {claim.ordinal} adjudicated.")
        else:
            messages.error(request, notice)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = reverse("queue", args=[claim.article.project.slug])
        return HttpResponseRedirect(back)
    member, claim = claim_for(request, claim.article.project.slug, claim.pk, Role.REVIEWER)
    refused = form if status != 200 else None
    trigger = "claim-adjudicated" if status == 200 else ""
    if request.htmx.target == "claim-panel":
        context = screens.ruling_changed(claim, member, request.GET, refused, notice=notice)
        template, partial, oob = "claims/article_detail.html", "claim-panel", ["claim-span"]
    else:
        context = queue_item(claim, member, refused, notice)
        template, partial, oob = "claims/queue.html", "queue-item", []
    return respond(
        request,
        template,
        context,
        partial=partial,
        oob=oob,
        status=status,
        trigger=trigger,
        detail={"claim": claim.pk},
    )


def queue_item(
    claim: Claim, member: Member, refused: AdjudicationForm | None, notice: str
) -> dict[str, Any]:
    """One item of the queue, as it stands (after a ruling, or a refused one)."""
    [row] = tally(Claim.objects.filter(pk=claim.pk).select_related("block"), member).rows
    attach_evidence([row])
    item = QueueItem(row, queue_form(row.claim, refused), *in_paragraph(row.claim))
    return {
        "project": claim.article.project,
        "item": item,
        "can_adjudicate": True,
        "notice": notice,
    }


@require_safe
@login_required
def consensus_export(
    request: AuthedRequest, slug: str, fmt: str, article_id: int | None = None
) -> StreamingHttpResponse:
    if fmt not in ("csv", "json"):
        raise Http404("Exports come as .csv or .json.")
    # Claims a revision retired are exported too, marked with the version that retired them.
    if article_id is not None:
        member, article = article_for(request, slug, article_id)
        claims, name = Claim.all_objects.filter(article=article), f"article-{article.pk}"
    else:
        member = member_for(request, slug)
        claims = Claim.all_objects.filter(article__project=member.project)
        name = member.project.slug
    result = tally(claims, member, citations=True)
    if fmt == "csv":
        body, content_type = exports.consensus_csv(result), "text/csv; charset=utf-8"
    else:
        body, content_type = exports.consensus_json(result), "application/json"
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="consensus-{name}.{fmt}"'
    return response
