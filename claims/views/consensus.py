"""Team consensus: the consensus screen, the project summary, the disagreement queue and
adjudication, and the consensus exports."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from claims import charts, exports, screens
from claims.access import article_for, claim_for, member_for
from claims.forms import AdjudicationForm
from claims.http import AuthedRequest, bad_request, query_int, respond
from claims.log import past
from claims.models import Article, Claim, Conflict, Evidence, Member, Role
from claims.tally import Row, Said, Tally, tally, tally_of

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
    claims = Claim.objects.filter(article__project=project)
    article_id = query_int(request.GET.get("article"))
    if article_id is not None:
        claims = claims.filter(article_id=article_id)
    rows = tally(claims, member).queue()
    attach_evidence(rows)
    can_adjudicate = member.at_least(Role.REVIEWER)
    context = {
        "project": project,
        "rows": rows,
        # Each claim beside its adjudication form, for those who may adjudicate.
        "queue": [
            (row, screens.adjudication_form(row.claim) if can_adjudicate else None) for row in rows
        ],
        "can_adjudicate": can_adjudicate,
        "articles": Article.objects.filter(project=project).only("pk", "title"),
        "article_id": article_id,
    }
    return respond(request, "claims/queue.html", context)


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
    result = tally(Claim.objects.filter(pk=claim.pk), member)
    rows = result.rows
    attach_evidence(rows)
    context = {
        "project": claim.article.project,
        "row": rows[0],
        "can_adjudicate": True,
        "notice": notice,
        "form": screens.adjudication_form(rows[0].claim, form if status != 200 else None),
    }
    return respond(
        request,
        "claims/queue.html",
        context,
        partial="queue-item",
        status=status,
        trigger="claim-adjudicated" if status == 200 else "",
        detail={"claim": claim.pk},
    )


@require_safe
@login_required
def consensus_export(
    request: AuthedRequest, slug: str, fmt: str, article_id: int | None = None
) -> StreamingHttpResponse:
    if fmt not in ("csv", "json"):
        raise Http404("Exports come as .csv or .json.")
    if article_id is not None:
        member, article = article_for(request, slug, article_id)
        claims, name = Claim.objects.filter(article=article), f"article-{article.pk}"
    else:
        member = member_for(request, slug)
        claims = Claim.objects.filter(article__project=member.project)
        name = member.project.slug
    result = tally(claims, member, citations=True)
    if fmt == "csv":
        body, content_type = exports.consensus_csv(result), "text/csv; charset=utf-8"
    else:
        body, content_type = exports.consensus_json(result), "application/json"
    response = StreamingHttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="consensus-{name}.{fmt}"'
    return response
