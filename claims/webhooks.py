"""Webhooks: which endpoints an event goes to, how a delivery is signed and sent, and what
a failed attempt leads to (a retry after a back-off, then giving up; an endpoint that keeps
failing is paused).

A delivery is a POST of JSON: the event's canonical body with its project, seq and hash::

    {"event": {...the event's body...}, "hash": "...", "project": "demo", "seq": 42}

signed as Stripe signs its webhooks, in two headers::

    Claims-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>
    Claims-Delivery: <uuid>

A receiver recomputes the HMAC over the timestamp and the raw body with its secret
(``verify_signature`` does), refuses a timestamp older than a few minutes, and remembers
the delivery ids it has handled: a retry carries the same id (handle it once), and a
replayed request is either too old or an id already seen.

The address rules are the fetcher's (``claims.fetching``): the host is resolved and every
address checked (no private, loopback or link-local address unless
``CLAIMS_FETCH_ALLOW_PRIVATE`` allows it), and the connection goes to the checked address
(``fetching.pinned_connection``). Plain http is taken only for such allowed addresses (tests
on 127.0.0.1).

An attempt is taken by one run (``take``) and lasts at most ``CLAIMS_WEBHOOK_TIMEOUT``; a
worker killed while sending leaves the delivery pending past that time, and
``claims.tasks.recover`` queues it again (``overdue``, ``again``), so it is never lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from claims import fetching
from claims.log.actions import Action, Group
from claims.log.verify_export import canonical_json
from claims.models import AuditEvent, Delivery, DeliveryStatus, Webhook

SIGNATURE_HEADER = "Claims-Signature"
DELIVERY_HEADER = "Claims-Delivery"
EXCERPT = 500  # characters of an answer or an error kept on the delivery
HTTPS_ONLY = "A webhook address must start with https://."
TOLERANCE = 300  # seconds: the age of a signature a receiver should still accept


class WebhookRefused(ValueError):
    """The address cannot take webhooks; the message says why."""


def event_kinds() -> list[tuple[str, str]]:
    """What an endpoint can ask for: each group of actions, then each action in none."""
    grouped = [(group.value, f"Every {group.value} event ({group.value}.*)") for group in Group]
    alone = [
        (action.value, action.value)
        for action in Action
        if not any(action.value.startswith(f"{group.value}.") for group in Group)
    ]
    return grouped + alone


def check_url(url: str) -> str:
    """The address as given, or ``WebhookRefused``: https, or http to an address that
    ``CLAIMS_FETCH_ALLOW_PRIVATE`` allows; a private address only if allowed."""
    if not url.strip().lower().startswith(("https://", "http://")):
        raise WebhookRefused(HTTPS_ONLY)
    try:
        target = fetching.Target.parse(url)
        # A literal address is checked as it would be sent (nothing is opened); a name is
        # resolved and checked when sending, as DNS answers then.
        literal = _literal(target.host)
        timeout = settings.CLAIMS_WEBHOOK_TIMEOUT
        address = fetching.pinned_connection(url, timeout).address if literal else None
    except fetching.FetchRefused as exc:
        raise WebhookRefused(exc.message) from None
    if target.scheme == "http" and (address is None or fetching.is_public(address)):
        raise WebhookRefused(HTTPS_ONLY)
    return url.strip()


def _literal(host: str) -> bool:
    """Whether the host is an IP address (checked now; a name is checked when sending)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Claims-Signature`` header's value."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str, header: str, body: bytes, *, now: float | None = None, tolerance: int = TOLERANCE
) -> bool:
    """What a receiver does: the header's HMAC matches the body and its time is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    timestamp = int(parts["t"])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts["v1"])


def payload(event: AuditEvent, project_slug: str) -> bytes:
    """The body of a delivery: canonical JSON, so its bytes are the same on every attempt."""
    body = {
        "event": json.loads(event.body),
        "hash": event.hash,
        "project": project_slug,
        "seq": event.seq,
    }
    return canonical_json(body).encode()


def deliveries_for(event: AuditEvent) -> list[Delivery]:
    """The deliveries of a committed event: one per active endpoint of its project that
    wants its action (``claims.tasks.enqueue_deliveries`` hands each to the worker)."""
    project_id = event.chain.project_id
    made = []
    for webhook in Webhook.objects.filter(project_id=project_id, active=True):
        if not webhook.wants(event.action):
            continue
        try:
            with transaction.atomic():
                made.append(
                    Delivery.objects.create(
                        webhook=webhook,
                        event_id=event.pk,
                        seq=event.seq,
                        action=event.action,
                        next_attempt_at=timezone.now(),
                    )
                )
        except IntegrityError:
            continue  # made already (the constraint delivery_once)
    return made


def attempt(delivery: Delivery) -> bool:
    """Send one attempt of a pending delivery that is due and record its outcome: delivered,
    or retried after the next back-off, or given up; the endpoint paused after too many
    failures. Whether an attempt was made (not when the delivery is not due, or another run
    has taken it: ``take``)."""
    webhook = delivery.webhook
    if delivery.status != DeliveryStatus.PENDING:
        return False
    if not webhook.active:
        _record(delivery, status=DeliveryStatus.CANCELLED, error="The endpoint is paused.")
        return False
    if not take(delivery):
        return False
    event = AuditEvent.objects.select_related("chain__project").get(pk=delivery.event_id)
    body = payload(event, event.chain.project.slug)
    now = timezone.now()
    code, excerpt, error = post(webhook.url, body, webhook.secret, str(delivery.uid))
    attempts = delivery.attempts + 1
    fields: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": now,
        "status_code": code,
        "response_excerpt": excerpt,
        "error": error,
    }
    if code is not None and 200 <= code < 300:
        _record(delivery, **fields, status=DeliveryStatus.DELIVERED, delivered_at=now)
        Webhook.objects.filter(pk=webhook.pk).update(failures=0)
        return True
    backoff = settings.CLAIMS_WEBHOOK_BACKOFF
    if attempts <= len(backoff):
        fields["next_attempt_at"] = now + dt.timedelta(seconds=backoff[attempts - 1])
    else:
        fields |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    _record(delivery, **fields)
    # Counted in the database: deliveries to one endpoint may run in several workers.
    Webhook.objects.filter(pk=webhook.pk).update(failures=F("failures") + 1)
    failures = Webhook.objects.values_list("failures", flat=True).get(pk=webhook.pk)
    if failures >= settings.CLAIMS_WEBHOOK_PAUSE_AFTER:
        webhook.pause(None, f"Paused after {failures} failed attempts in a row; last: {error}")
    return True


def take(delivery: Delivery) -> bool:
    """Take a due attempt for this run: its ``next_attempt_at`` moves on to when the attempt
    must be over (``CLAIMS_WEBHOOK_TIMEOUT`` from now; ``post`` holds to it), by an update
    conditional on the time read. Two tasks of one delivery (one queued again by
    ``claims.tasks.recover`` beside one that was only late) send it once: the second finds
    it taken, or not due. A worker killed while sending leaves it pending with that time
    passed, which is how ``overdue`` finds it."""
    now = timezone.now()
    due = delivery.next_attempt_at
    if due is None or due > now:
        return False
    until = now + dt.timedelta(seconds=settings.CLAIMS_WEBHOOK_TIMEOUT)
    taken = Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, next_attempt_at=due
    ).update(next_attempt_at=until)
    delivery.next_attempt_at = until if taken else due
    return taken == 1


def overdue() -> QuerySet[Delivery]:
    """Pending deliveries overdue by more than ``CLAIMS_WEBHOOK_STALE_SECONDS``: their task
    went with a worker that died (django-tasks-db leaves a dead worker's task running for
    good), or a worker busy that long has not come to it yet (``again`` makes either due)."""
    limit = timezone.now() - dt.timedelta(seconds=settings.CLAIMS_WEBHOOK_STALE_SECONDS)
    return Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lt=limit)


def again(delivery: Delivery) -> bool:
    """Make an overdue delivery due now, once: whether this call did (then its caller queues
    its task). The update is conditional on the time read, so that of two recovers that
    read the same overdue delivery one moves it and the other does nothing."""
    moved = Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.PENDING, next_attempt_at=delivery.next_attempt_at
    ).update(next_attempt_at=timezone.now())
    return moved == 1


def _record(delivery: Delivery, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(delivery, name, value)
    delivery.save(update_fields=list(fields))


def post(url: str, body: bytes, secret: str, delivery_id: str) -> tuple[int | None, str, str]:
    """POST a signed body: the status code (None if there was no answer), the start of the
    answer, and what went wrong in words ("" for a 2xx answer). Redirects are not followed:
    an endpoint answers where it was registered. ``CLAIMS_WEBHOOK_TIMEOUT`` bounds the whole
    attempt, resolving the host included, so that a worker is never held longer (the lease
    of ``claim_attempt`` counts on it)."""
    timeout = settings.CLAIMS_WEBHOOK_TIMEOUT
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "claims-webhooks/1.0",
        SIGNATURE_HEADER: sign(secret, body, int(time.time())),
        DELIVERY_HEADER: delivery_id,
    }
    too_slow = f"The endpoint took longer than {timeout:g} seconds to answer."
    deadline = time.monotonic() + timeout
    try:
        connection = fetching.pinned_connection(url, timeout)
        if connection.target.scheme == "http" and fetching.is_public(connection.address):
            return None, "", HTTPS_ONLY
        with connection:
            connection.request("POST", connection.target.path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read(EXCERPT * 4).decode("utf-8", "replace")[:EXCERPT]
    except fetching.TooSlow:
        return None, "", too_slow
    except fetching.FetchRefused as exc:
        return None, "", exc.message[:EXCERPT]
    except (OSError, ValueError, http.client.HTTPException) as exc:
        if time.monotonic() >= deadline - 0.01:
            return None, "", too_slow
        return None, "", f"No answer: {exc}"[:EXCERPT]
    code = response.status
    error = "" if 200 <= code < 300 else f"The endpoint answered {code}."
    return code, answer, error
