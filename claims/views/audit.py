"""Audit exports: the export page (a form; POST streams the file) and the public key.

An export of more events than ``CLAIMS_EXPORT_BACKGROUND_EVENTS`` is made by the worker
instead: the POST answers with its job's page, which shows its progress and then offers
the file (``claims.tasks.run_export``, ``views.jobs.job_download``).

Who may export: reviewers and admins. An export hands out every analyst's verdicts and
rationales, which a blind project hides from analysts until they have given their own,
and reviewers already see them all to adjudicate. Analysts and viewers get 403,
outsiders 404. The public key is public: any member may download it.

An export writes an event, so it is a POST (with its CSRF token), never a GET that a
prefetching browser or a crawler could trigger; a GET with parameters only fills in
the form.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import HttpResponseClientRedirect

from claims import tasks
from claims.access import member_for
from claims.exports import BOM
from claims.http import AuthedRequest, respond
from claims.log import signing
from claims.log.actions import Action
from claims.log.export import FORMAT_LABELS, Filters, selected_events, start_export
from claims.models import Article, AuditChain, AuditEvent, Project, Role

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        choices=FORMAT_LABELS.items(), initial="jsonl", widget=forms.RadioSelect
    )
    article = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    since = forms.DateField(label="From", required=False, widget=DATE_WIDGET)
    until = forms.DateField(
        label="Until", required=False, widget=DATE_WIDGET, help_text="Inclusive; days in UTC."
    )
    actor = forms.CharField(label="Actor (username)", required=False, max_length=150)
    # Checked on the page, so that a person's CSV opens in Excel as UTF-8; a POST without
    # it (a script, the command line's equivalent) gets the plain UTF-8 file.
    excel = forms.BooleanField(
        label="CSV for Excel",
        required=False,
        initial=True,
        help_text="UTF-8 with a byte-order mark, which Excel needs to show accents and "
        "non-Latin text; other programs skip it.",
    )

    def __init__(self, project: Project, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        articles = Article.objects.filter(project=project).order_by("title").only("pk", "title")
        cast(forms.ChoiceField, self.fields["article"]).choices = [("", "All articles")] + [
            (a.pk, a.title) for a in articles
        ]

    def clean_actor(self) -> str | None:
        name = self.cleaned_data["actor"].strip()
        # Only people who acted in this project: whether an account of that name exists
        # elsewhere on the site is not this form's to say.
        acted = AuditEvent.objects.filter(chain__project=self.project, actor__username=name)
        if name and not acted.exists():
            raise forms.ValidationError(f"No one called {name} has done anything in this project.")
        return name or None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The range ends before it starts.")
        return data

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(data["article"], data["since"], data["until"], data["actor"])

    def selected_events(self) -> int:
        """How many events the export would cover: what decides whether the worker makes it."""
        chain = AuditChain.objects.get(project=self.project)
        return selected_events(chain, chain.head_seq, self.filters()).count()


@require_http_methods(["GET", "POST"])
@login_required
def audit_export(request: AuthedRequest, slug: str) -> HttpResponse | StreamingHttpResponse:
    project = member_for(request, slug, Role.REVIEWER).project
    posted = request.method == "POST"
    form = ExportForm(project, request.POST if posted else None, initial=request.GET.dict())
    if posted and form.is_valid():
        if tasks.export_runs_in_background(form.selected_events()):
            return _in_background(request, project, form)
        try:
            export = start_export(
                project, form.cleaned_data["format"], form.filters(), actor=request.user
            )
        except signing.SigningKeyMissing as error:
            return _page(request, project, form, str(error), status=503)
        chunks = export.chunks
        if export.format == "csv" and form.cleaned_data["excel"]:
            chunks = itertools.chain([BOM], chunks)
        response = StreamingHttpResponse(chunks, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
    return _page(request, project, form, status=422 if posted else 200)


def _in_background(request: AuthedRequest, project: Project, form: ExportForm) -> HttpResponse:
    """An export above ``CLAIMS_EXPORT_BACKGROUND_EVENTS``: a job whose page shows its
    progress, then the file to download (``claims.tasks.run_export``)."""
    data = form.cleaned_data
    if data["format"] == "jsonl":
        try:
            signing.private_key()  # refused now, not by the worker later
        except signing.SigningKeyMissing as error:
            return _page(request, project, form, str(error), status=503)
    job = tasks.start_export(
        project, request.user, data["format"], form.filters(), excel=data["excel"]
    )
    url = reverse("job-detail", args=[project.slug, job.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _page(
    request: AuthedRequest, project: Project, form: ExportForm, error: str = "", status: int = 200
) -> HttpResponse:
    try:
        key_id = signing.key_id(signing.private_key().public_key())
    except signing.SigningKeyMissing as missing:
        key_id, error = None, error or str(missing)
    recent = (
        AuditEvent.objects.filter(chain__project=project, action=Action.AUDIT_EXPORTED)
        .order_by("-seq")
        .values_list("seq", "body")[:10]
    )
    context = {
        "project": project,
        "form": form,
        "key_id": key_id,
        "error": error,
        "recent": [(seq, json.loads(body)) for seq, body in recent],
    }
    return respond(request, "claims/audit_export.html", context, status=status)


@require_safe
@login_required
def audit_public_key(request: AuthedRequest, slug: str) -> HttpResponse:
    member_for(request, slug)
    try:
        key = signing.private_key()
    except signing.SigningKeyMissing as error:
        return HttpResponse(str(error), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(signing.public_key_pem(key), content_type="application/x-pem-file")
    name = f"claims-signing-{signing.key_id(key.public_key())}.pem"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
