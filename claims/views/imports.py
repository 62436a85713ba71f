"""Import an article in the browser: upload or paste, preview what the importer sees, confirm.

A link is fetched in the background: the form is checked here and a job started, whose page
follows the fetch and then opens this page's preview of what it fetched (``?job=``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat, pluralize
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from claims import tasks
from claims.access import member_for
from claims.forms import ConfirmImportForm, ImportForm
from claims.http import AuthedRequest, query_int, respond
from claims.importer import NOTE_LABELS, ImportRejected, Prepared, max_bytes
from claims.models import (
    CLAIM_KINDS,
    BlockKind,
    Job,
    JobKind,
    Member,
    Project,
    Role,
    cited_date,
)
from claims.uploads import LimitedUploadHandler

TEMPLATE = "claims/article_import.html"


@csrf_exempt  # the upload handler goes in before CSRF reads the body; checked below
@require_http_methods(["GET", "POST"])
@login_required
def article_import(request: AuthedRequest, slug: str) -> HttpResponse:
    limiter = LimitedUploadHandler(request)
    request.upload_handlers.insert(0, limiter)
    return _article_import(request, slug, limiter)


@csrf_protect
def _article_import(
    request: AuthedRequest, slug: str, limiter: LimitedUploadHandler
) -> HttpResponse:
    project, job = _importer(request, slug)
    if job is not None:
        return _fetched(request, project, job)
    if request.method == "GET":
        return _page(request, project, ImportForm())
    request.POST  # noqa: B018 -- parse the body now, through the limiting handler
    if limiter.exceeded:
        refused = f"The file is larger than the import limit of {_limit()}."
        form = ImportForm(request.POST, upload_refused=refused)
        form.is_valid()
        return _page(request, project, form, status=413)
    if request.POST.get("step") == "confirm":
        return _confirm(request, project)
    if request.POST.get("url", "").strip():
        return _fetch_in_background(request, project)
    if tasks.runs_in_background(_given_size(request)):
        return _in_background(request, project)
    form = ImportForm(request.POST, request.FILES)
    form.is_valid()
    return _page(request, project, form)


def _confirm(request: AuthedRequest, project: Project) -> HttpResponse:
    confirm = ConfirmImportForm(request.POST)
    try:
        if confirm.is_valid():
            article, created = confirm.import_into(project, request.user)
            if confirm.fetch_job is not None:
                tasks.page_imported(project, confirm.fetch_job, article, created)
            if created:
                claims, citations = article.claims.count(), article.citations.count()
                messages.success(
                    request,
                    f"Imported {claims} claim{pluralize(claims)} "
                    f"and {citations} citation{pluralize(citations)}.",
                )
            else:
                messages.info(
                    request,
                    f"This text was already imported as '{article.title}'; nothing was added.",
                )
            return redirect("article-detail", project.slug, article.pk)
    except ImportRejected as exc:
        confirm.add_error(None, str(exc))
    # Back to step one with the text pasted in, and the reasons by the fields.
    form = ImportForm(request.POST)
    form.is_valid()
    for message in confirm.non_field_errors():
        form.add_error(None, message)
    return _page(request, project, form)


# Background imports (claims/tasks.py) ---------------------------------------------------


class BackgroundImportForm(ImportForm):
    """Step one for a text above ``CLAIMS_IMPORT_BACKGROUND_BYTES``: read and checked here,
    segmented and stored by the worker (no preview: preparing it is the slow part)."""

    source: tuple[bytes, str] | None = None

    def clean(self) -> dict[str, Any]:
        forms.Form.clean(self)  # not ImportForm's: it would segment the text here

        def keep(data: bytes, filename: str) -> None:
            self.source = (data, filename)

        self.read_source(keep)
        return self.cleaned_data


def _given_size(request: AuthedRequest) -> int:
    upload = request.FILES.get("file")
    return upload.size or 0 if upload is not None else len(request.POST.get("text", ""))


def _in_background(request: AuthedRequest, project: Project) -> HttpResponse:
    form = BackgroundImportForm(request.POST, request.FILES)
    if not form.is_valid() or form.source is None:
        return _page(request, project, form)
    data, filename = form.source
    job = tasks.start_import(
        project,
        request.user,
        data,
        filename=filename,
        published_on=form.cleaned_data["published_on"],
        html=None if filename else False,  # as the preview's confirm step imports pasted text
        metadata=form.metadata(),
    )
    return _to_job(request, job)


def _to_job(request: AuthedRequest, job: Job) -> HttpResponse:
    url = reverse("job-detail", args=[job.project.slug, job.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# Imports from a link: fetched by the worker, then previewed here ---------------------------


def _importer(request: AuthedRequest, slug: str) -> tuple[Project, Job | None]:
    """The admin's project, and the job whose fetched page is to be previewed (``?job=``).

    The job is looked up before the role is checked, as on the job's own page
    (views/jobs.py): someone else's job (unless you are an admin) or another project's is
    404 to anyone; then the import page is for admins only."""
    if "job" not in request.GET:
        return member_for(request, slug, Role.ADMIN).project, None
    member = member_for(request, slug)
    job = _fetch_job(member, request.GET["job"])
    if not member.is_admin:
        raise PermissionDenied("This needs the admin role.")
    return member.project, job


def _fetch_job(member: Member, given: str) -> Job:
    job_id = query_int(given)
    job = (
        Job.objects.select_related("project")
        .filter(project=member.project, pk=job_id, kind=JobKind.IMPORT, params__preview=True)
        .first()
        if job_id is not None
        else None
    )
    if job is None or (job.user_id != member.user.pk and not member.is_admin):
        raise Http404("No such job.")
    return job


def _fetch_in_background(request: AuthedRequest, project: Project) -> HttpResponse:
    """A link: checked here (an address, and the only thing given), fetched by the worker,
    whose job's page then opens the preview."""
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, project, form)
    job = tasks.start_import(
        project,
        request.user,
        None,
        url=form.cleaned_data["url"],
        published_on=form.cleaned_data["published_on"],
        metadata=form.metadata(),
        preview=True,
    )
    return _to_job(request, job)


def _fetched(request: AuthedRequest, project: Project, job: Job) -> HttpResponse:
    """The preview of the page the job fetched. What the person typed wins over what the
    page says: first what they gave with the link, then what they change here. A job still
    fetching, failed, imported already or past its day says so instead."""
    page = tasks.kept_page(job)
    if page is None:
        form = ImportForm(initial={"url": job.params["url"]})
        return _page(request, project, form, fetch_job=job)
    given = {"published_on": job.params["published_on"] or "", **job.params["metadata"]}
    form = ImportForm(request.POST if request.method == "POST" else given, page=page)
    form.is_valid()
    return _page(request, project, form)


def _limit() -> str:
    return filesizeformat(max_bytes())


def _page(
    request: AuthedRequest,
    project: Project,
    form: ImportForm,
    status: int = 200,
    fetch_job: Job | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {"project": project, "form": form, "fetch_job": fetch_job}
    if form.prepared is not None and form.is_valid():
        context["preview"] = preview(form.prepared)
        context["confirm"] = form.confirm_form()
        context["existing"] = project.articles.filter(sha256=form.prepared.sha256).first()
    partial = "import-preview" if request.htmx and form.is_bound else ""
    return respond(request, TEMPLATE, context, partial=partial, status=status)


def preview(prepared: Prepared) -> dict[str, Any]:
    """What the import would store, shaped for reading: blocks, claims by section, citations."""
    seg, text = prepared.segmentation, prepared.text
    kinds = dict(BlockKind.choices)
    blocks = [
        {
            "kind": b.kind,
            "label": kinds.get(b.kind, b.kind),
            "text": text[b.start : b.end],
            "holds_claims": b.kind in CLAIM_KINDS,
        }
        for b in seg.blocks
    ]
    citations = [{"c": c, "when": cited_date(c.date, c.precision)} for c in seg.citations]
    sections: dict[str, list[dict[str, Any]]] = {}
    for number, claim in enumerate(seg.claims, start=1):
        sections.setdefault(claim.section, []).append(
            {
                "number": number,
                "text": text[claim.start : claim.end],
                "citations": [citations[i] for i in claim.citations],
            }
        )
    return {
        "blocks": blocks,
        "kind_counts": {kinds.get(k, k): sum(b.kind == k for b in seg.blocks) for k in kinds},
        "sections": [{"name": name, "claims": claims} for name, claims in sections.items()],
        "claim_count": len(seg.claims),
        "section_count": sum(1 for name in sections if name),
        "citations": citations,
        "undated": sum(c.date is None for c in seg.citations),
        "notes": [
            {
                "kind": note.kind,
                "label": NOTE_LABELS.get(note.kind, note.kind),
                "text": text[note.start : note.end],
                "message": note.message,
            }
            for note in prepared.uncertainties
        ],
    }
