"""The claim register: every current claim of a project, filtered, searched and sorted,
a page at a time, with the article screen's claim panel; and its exports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_safe

from claims import register
from claims.access import member_for
from claims.http import AuthedRequest, bad_request, respond
from claims.models import Member

PAGE = "claims/register.html"
EXPORTS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@require_safe
@login_required
def claim_register(request: AuthedRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    member = member_for(request, slug)
    form = register.RegisterForm(member, request.GET)
    fmt = request.GET.get("format", "")
    context = {"member": member, "project": member.project, "form": form, "rows": []}
    partial = "register-results" if request.htmx else ""
    if fmt and fmt not in EXPORTS:
        return bad_request(request, "Exports come as format=csv or format=json.")
    if not form.is_valid():
        return respond(request, PAGE, context, partial=partial, status=422)
    filters = form.filters()
    if fmt:
        return export(member, filters, fmt)
    try:
        found = register.page(member, filters, request.GET.get("after", ""))
    except register.BadCursor:
        return bad_request(request, "This page link is broken: start again from the first page.")
    query = request.GET.copy()
    for name in ("after", "format"):
        query.pop(name, None)
    context |= {"rows": found.rows, "filters": filters, "query": query.urlencode()}
    if found.after:
        context["next_query"] = query.urlencode() + ("&" if query else "") + f"after={found.after}"
    context["paged"] = "after" in request.GET
    return respond(request, PAGE, context, partial=partial)


def export(member: Member, filters: register.Filters, fmt: str) -> StreamingHttpResponse:
    """The filtered register as CSV or JSON, streamed a few hundred claims at a time."""
    rows = register.pages(member, filters)
    body = register.export_csv(rows) if fmt == "csv" else register.export_json(rows)
    response = StreamingHttpResponse(body, content_type=EXPORTS[fmt])
    response["Content-Disposition"] = f'attachment; filename="claims-{member.project.slug}.{fmt}"'
    return response
