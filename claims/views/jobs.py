"""A background job's page: its progress while the worker runs it (htmx polls its status
every second; without JavaScript, a link refreshes it), then its result (a link to the
imported article, the audit export's file to download, or for a link given in the browser
"Review the import", which opens the import page's preview of the page fetched) or why it
failed."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from claims import tasks
from claims.access import member_for
from claims.http import MAX_ID, AuthedRequest, export_download, respond
from claims.models import Job, JobKind, JobStatus, Member, Role


@require_GET
@login_required
def job_detail(request: AuthedRequest, slug: str, job_id: int) -> HttpResponse:
    member = member_for(request, slug)
    # A job whose worker died is run again or reported failed here: polling is how anyone
    # comes to look at it (claims.tasks.recover). An export past its days expires as it is
    # looked at; the other exports are pruned as new ones are written.
    tasks.recover(prune=False)
    job = tasks.expire_if_due(_job(member, job_id))
    context = {"project": member.project, "job": job, "member": member}
    partial = "job-status" if request.htmx else ""
    return respond(request, "claims/job_detail.html", context, partial=partial)


@require_GET
@login_required
def job_download(request: AuthedRequest, slug: str, job_id: int) -> HttpResponseBase:
    """The file of a finished audit export job: for whoever may export (reviewers and
    admins), and only their own job unless they are an admin, as its page."""
    member = member_for(request, slug, Role.REVIEWER)
    job = tasks.expire_if_due(_job(member, job_id))
    if job.kind != JobKind.EXPORT or job.status != JobStatus.DONE:
        raise Http404("This job has no file to download.")
    path = tasks.export_path(job)
    if tasks.export_expired(job):
        # Gone for good (kept CLAIMS_EXPORT_KEEP_DAYS): its page, which says so, as a 410.
        context = {"project": member.project, "job": job, "member": member}
        return respond(request, "claims/job_detail.html", context, status=410)
    if not path.is_file():
        raise Http404("The export's file is gone; start a new export.")
    return export_download(job)


def _job(member: Member, job_id: int) -> Job:
    job = (
        Job.objects.filter(project=member.project, pk=job_id).defer("payload").first()
        if job_id <= MAX_ID
        else None
    )
    # Someone else's job is theirs, unless you are an admin.
    if job is None or (job.user_id != member.user.pk and not member.is_admin):
        raise Http404("No such job.")
    return job
