"""A project's webhooks, for its admins: register an endpoint (its secret shown once), edit,
pause, resume or remove it, and see each delivery's attempts. Each change is one event
(``models.Webhook``); the deliveries are sent by the worker (``claims.tasks.deliver``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from claims.access import member_for
from claims.http import MAX_ID, AuthedRequest, respond
from claims.models import Member, Role, Webhook
from claims.webhooks import WebhookRefused, check_url, event_kinds

DELIVERIES_SHOWN = 50


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="Endpoint address",
        max_length=500,
        assume_scheme="https",
        help_text="An https:// address on the public internet.",
    )
    events = forms.MultipleChoiceField(
        label="Events to send",
        choices=event_kinds,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one kind of event to send."},
    )

    def clean_url(self) -> str:
        try:
            return check_url(self.cleaned_data["url"])
        except WebhookRefused as exc:
            raise ValidationError(str(exc)) from None


@require_http_methods(["GET", "POST"])
@login_required
def webhook_list(request: AuthedRequest, slug: str) -> HttpResponse:
    member = member_for(request, slug, Role.ADMIN)
    posted = request.method == "POST"
    form = WebhookForm(request.POST if posted else None)
    created = None
    if posted and form.is_valid():
        created = Webhook.register(member.project, member, **form.cleaned_data)
        form = WebhookForm()
    context = {
        "project": member.project,
        "webhooks": member.project.webhooks.all(),
        "form": form,
        "created": created,  # its secret is shown in this answer only
    }
    status = 422 if posted and created is None else 200
    partial = "webhooks" if request.htmx and posted else ""
    response = respond(request, "claims/webhooks.html", context, partial=partial, status=status)
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
@login_required
def webhook_detail(request: AuthedRequest, slug: str, webhook_id: int) -> HttpResponse:
    member, webhook = _webhook_for(request, slug, webhook_id)
    posted = request.method == "POST"
    form = WebhookForm(request.POST if posted else None, initial=webhook.fields())
    if posted and form.is_valid():
        webhook.change(member, **form.cleaned_data)
        messages.success(request, "Saved the webhook.")
        return redirect("webhook-detail", slug, webhook.pk)
    context = _detail(member, webhook) | {"form": form}
    partial = "webhook-form" if request.htmx and posted else ""
    status = 422 if posted else 200
    return respond(request, "claims/webhook_detail.html", context, partial=partial, status=status)


@require_POST
@login_required
def webhook_action(request: AuthedRequest, slug: str, webhook_id: int, verb: str) -> HttpResponse:
    member, webhook = _webhook_for(request, slug, webhook_id)
    if verb == "pause":
        webhook.pause(member)
        messages.success(request, "Paused the webhook: nothing is sent to it until resumed.")
    elif verb == "resume":
        webhook.resume(member)
        messages.success(request, "Resumed the webhook: the next events are sent to it.")
    elif verb == "delete":
        webhook.remove(member)
        messages.success(request, f"Removed the webhook to {webhook.url}.")
        return redirect("webhook-list", slug)
    else:
        raise Http404("No such action.")
    return redirect("webhook-detail", slug, webhook.pk)


def _webhook_for(request: AuthedRequest, slug: str, webhook_id: int) -> tuple[Member, Webhook]:
    member = member_for(request, slug, Role.ADMIN)
    webhook = (
        member.project.webhooks.filter(pk=webhook_id).first() if webhook_id <= MAX_ID else None
    )
    if webhook is None:
        raise Http404("No such webhook.")
    webhook.project = member.project
    return member, webhook


def _detail(member: Member, webhook: Webhook) -> dict[str, Any]:
    return {
        "project": member.project,
        "webhook": webhook,
        "deliveries": webhook.deliveries.all()[:DELIVERIES_SHOWN],
        "shown": DELIVERIES_SHOWN,
    }
