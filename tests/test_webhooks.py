"""Webhooks against a receiver on 127.0.0.1: the signature verifies as documented, failed
deliveries are retried after their back-off, an endpoint that keeps failing is paused, a
replayed delivery is detectable, and every admin change is one audit event.

Deliveries run here by calling the task's function (``deliver.call``) where the worker
would run it; tests/test_tasks.py runs a real worker process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from claims import tasks, webhooks
from claims.log.actions import Action
from claims.models import AuditEvent, Delivery, DeliveryStatus, Project, Webhook
from tests.base import HTMX, body, client_for, html, url


@dataclass
class Receiver:
    """An endpoint on 127.0.0.1 that answers with the statuses queued (200 once they run
    out) and records each request: its headers and raw body."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            state.requests.append((dict(self.headers), self.rfile.read(length)))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"boom")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hook"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def loopback_allowed(settings: Any) -> None:
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = ["127.0.0.1/32"]


def register(project: Project, admin: Any, address: str, events: list[str]) -> Webhook:
    return Webhook.register(project, admin, url=address, events=events)


def deliveries_of(event_making: Any, django_capture_on_commit_callbacks: Any) -> list[Delivery]:
    """Make the event(s) and run what their commit runs; the deliveries it made."""
    before = set(Delivery.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        event_making()
    return list(Delivery.objects.exclude(pk__in=before).order_by("pk"))


def send(delivery: Delivery) -> Delivery:
    """What the worker does with the delivery's task at its time (the test does not wait a
    back-off out: the time comes forward to now)."""
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, next_attempt_at__gt=now).update(next_attempt_at=now)
    tasks.deliver.call(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def test_a_delivery_is_signed_as_documented(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    hook = register(project, alice, receiver.url, ["verdict"])
    [delivery] = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    delivery = send(delivery)
    assert (delivery.status, delivery.status_code, delivery.attempts) == ("delivered", 200, 1)
    [(headers, raw)] = receiver.requests
    # The documented scheme, computed by hand: HMAC-SHA256(secret, f"{t}.{body}").
    parts = dict(p.split("=", 1) for p in headers["Claims-Signature"].split(","))
    expected = hmac.new(
        hook.secret.encode(), parts["t"].encode() + b"." + raw, hashlib.sha256
    ).hexdigest()
    assert parts["v1"] == expected
    assert webhooks.verify_signature(hook.secret, headers["Claims-Signature"], raw)
    assert not webhooks.verify_signature("whsec_wrong", headers["Claims-Signature"], raw)
    assert headers["Claims-Delivery"] == str(delivery.uid)
    sent = json.loads(raw)
    event = AuditEvent.objects.get(pk=delivery.event_id)
    assert sent == {
        "event": json.loads(event.body),
        "hash": event.hash,
        "project": "demo",
        "seq": event.seq,
    }
    assert sent["event"]["action"] == "verdict.set"


def test_only_the_chosen_kinds_of_event_are_sent(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    register(project, alice, receiver.url, ["evidence", "member.removed"])
    made = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    assert made == []
    made = deliveries_of(
        lambda: claim.add_evidence(bob, url="https://example.org/a", stance="supports"),
        django_capture_on_commit_callbacks,
    )
    assert [d.action for d in made] == ["evidence.added"]


def test_a_project_without_webhooks_enqueues_nothing(
    project: Project, bob: Any, claim: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The chain head says so: no callback, so no query after the write."""
    with django_capture_on_commit_callbacks() as callbacks:
        claim.set_verdict(bob, "supported")
    assert callbacks == []
    project.chain.refresh_from_db()
    assert project.chain.webhooks is False


def test_a_failed_delivery_is_retried_after_its_backoff_with_the_same_id(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    hook = register(project, alice, receiver.url, ["verdict"])
    receiver.statuses = [500, 503]
    [delivery] = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    waits = []
    for _attempt in range(3):
        sent_at = timezone.now()
        delivery = send(delivery)
        if delivery.status == DeliveryStatus.PENDING:
            waits.append(delivery.next_attempt_at - sent_at)
            # The next attempt is queued for the worker at that time, not before.
            queued = DBTaskResult.objects.filter(
                task_path="claims.tasks.deliver", run_after=delivery.next_attempt_at
            )
            assert queued.count() == 1
    assert [round(w.total_seconds() / 60) for w in waits] == [1, 5]
    assert (delivery.status, delivery.attempts, delivery.status_code) == ("delivered", 3, 200)
    ids = {headers["Claims-Delivery"] for headers, _body in receiver.requests}
    assert ids == {str(delivery.uid)}
    hook.refresh_from_db()
    assert hook.failures == 0  # a success ends the run of failures


def test_a_delivery_gives_up_after_the_last_backoff(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    receiver: Receiver,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CLAIMS_WEBHOOK_BACKOFF = [60, 300]
    register(project, alice, receiver.url, ["verdict"])
    receiver.statuses = [500, 500, 500, 500]
    [delivery] = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    for _attempt in range(3):
        delivery = send(delivery)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert delivery.error == "The endpoint answered 500."
    assert delivery.response_excerpt == "boom"
    send(delivery)
    assert len(receiver.requests) == 3  # given up: no fourth attempt


def test_an_endpoint_that_keeps_failing_is_paused_and_says_why(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    receiver: Receiver,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CLAIMS_WEBHOOK_PAUSE_AFTER = 3
    hook = register(project, alice, receiver.url, ["verdict"])
    receiver.statuses = [500] * 10
    [first] = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    [second] = deliveries_of(
        lambda: claim.set_verdict(bob, "disputed", expected_version=1),
        django_capture_on_commit_callbacks,
    )
    send(first)
    send(second)
    head = project.chain.events.count()
    send(first)  # the third failure in a row
    hook.refresh_from_db()
    assert hook.active is False
    assert hook.paused_reason.startswith("Paused after 3 failed attempts in a row")
    paused = AuditEvent.objects.filter(chain__project=project).order_by("-seq").first()
    assert project.chain.events.count() == head + 1
    assert (paused.action, paused.actor) == (Action.WEBHOOK_PAUSED, None)
    assert json.loads(paused.body)["after"]["reason"] == hook.paused_reason
    # A paused endpoint gets nothing more, and its new events are not even enqueued.
    assert send(second).status == DeliveryStatus.CANCELLED
    assert len(receiver.requests) == 3
    project.chain.refresh_from_db()
    assert project.chain.webhooks is False
    page = client_for(alice).get(url("webhook-detail", hook.pk))
    assert hook.paused_reason in body(page)


def test_a_replayed_delivery_is_detectable(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A receiver keeps the delivery ids it handled and refuses old signatures: a captured
    request sent again is caught by its id, and later by its age; a body changed under a
    captured signature never verifies."""
    hook = register(project, alice, receiver.url, ["verdict"])
    [delivery] = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    send(delivery)
    [(headers, raw)] = receiver.requests
    seen = {headers["Claims-Delivery"]}
    signature = headers["Claims-Signature"]
    stamp = int(dict(p.split("=", 1) for p in signature.split(","))["t"])
    # The same request again, at once: the signature verifies, but the id was seen.
    assert webhooks.verify_signature(hook.secret, signature, raw, now=stamp + 1)
    assert headers["Claims-Delivery"] in seen
    # Later than the tolerance: refused by its timestamp, whatever the id.
    late = stamp + webhooks.TOLERANCE + 1
    assert not webhooks.verify_signature(hook.secret, signature, raw, now=late)
    # A changed body, or a new timestamp pasted on the old MAC, never verifies.
    assert not webhooks.verify_signature(hook.secret, signature, raw.replace(b"}", b" }", 1))
    forged = signature.replace(f"t={stamp}", f"t={stamp + 60}")
    assert not webhooks.verify_signature(hook.secret, forged, raw, now=stamp + 60)


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("http://hooks.example.com/in", "must start with https://"),
        ("https://10.1.2.3/in", "private or local address"),
        ("https://169.254.169.254/latest", "private or local address"),
        ("ftp://hooks.example.com/in", "must start with https://"),
    ],
)
def test_an_address_that_cannot_take_webhooks_is_refused_and_nothing_changes(
    project: Project, alice: Any, address: str, message: str
) -> None:
    head = project.chain.events.count()
    response = client_for(alice).post(url("webhook-list"), {"url": address, "events": ["verdict"]})
    assert response.status_code == 422
    assert message in body(response)
    assert not Webhook.objects.exists()
    assert project.chain.events.count() == head


def test_loopback_over_http_needs_the_setting(project: Project, alice: Any, settings: Any) -> None:
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = False
    response = client_for(alice).post(
        url("webhook-list"), {"url": "http://127.0.0.1:9/in", "events": ["verdict"]}
    )
    assert response.status_code == 422
    assert "private or local address" in body(response)


def test_the_secret_is_shown_once(project: Project, alice: Any) -> None:
    client = client_for(alice)
    response = client.post(
        url("webhook-list"), {"url": "https://hooks.example.com/in", "events": ["verdict"]}
    )
    hook = Webhook.objects.get()
    assert response.status_code == 200
    assert html(response).select("code", id="webhook-secret")[0].content() == hook.secret
    assert "no-store" in response["Cache-Control"]
    assert hook.secret not in body(client.get(url("webhook-list")))
    assert hook.secret not in body(client.get(url("webhook-detail", hook.pk)))


def test_registering_with_htmx_answers_the_list_fragment(project: Project, alice: Any) -> None:
    response = client_for(alice).post(
        url("webhook-list"), {"url": "https://hooks.example.com/in", "events": ["verdict"]}, **HTMX
    )
    assert response.status_code == 200
    root = html(response)
    assert root.select("div", id="webhooks")
    assert not root.select("h1")


def test_each_admin_change_is_one_audit_event(project: Project, alice: Any) -> None:
    client = client_for(alice)

    def last_event() -> dict[str, Any]:
        event = AuditEvent.objects.filter(chain__project=project).order_by("-seq").first()
        assert event is not None
        return json.loads(event.body)

    head = project.chain.events.count()
    client.post(url("webhook-list"), {"url": "https://a.example.com/in", "events": ["verdict"]})
    hook = Webhook.objects.get()
    added = last_event()
    assert (added["action"], added["actor"], added["before"]) == ("webhook.added", "alice", None)
    assert added["after"] == {
        "url": "https://a.example.com/in",
        "events": ["verdict"],
        "active": True,
    }
    assert added["target"] == {"type": "webhook", "webhook": hook.pk}
    assert "secret" not in json.dumps(added) and hook.secret not in json.dumps(added)

    edit = {"url": "https://b.example.com/in", "events": ["verdict", "evidence"]}
    assert client.post(url("webhook-detail", hook.pk), edit).status_code == 302
    changed = last_event()
    assert changed["action"] == "webhook.changed"
    assert changed["before"]["url"] == "https://a.example.com/in"
    assert changed["after"] == {**edit, "active": True}
    # Saving it unchanged writes nothing.
    client.post(url("webhook-detail", hook.pk), edit)
    assert project.chain.events.count() == head + 2

    for verb, action, active in (
        ("pause", "webhook.paused", False),
        ("resume", "webhook.resumed", True),
    ):
        response = client.post(url("webhook-action", hook.pk, verb))
        assert response.status_code == 302
        event = last_event()
        assert (event["action"], event["before"]["active"], event["after"]["active"]) == (
            action,
            not active,
            active,
        )
        project.chain.refresh_from_db()
        assert project.chain.webhooks is active

    response = client.post(url("webhook-action", hook.pk, "delete"))
    assert response["Location"] == url("webhook-list")
    removed = last_event()
    assert (removed["action"], removed["after"]) == ("webhook.removed", None)
    assert removed["before"]["url"] == "https://b.example.com/in"
    assert not Webhook.objects.exists()
    assert project.chain.events.count() == head + 5
    project.chain.refresh_from_db()
    assert project.chain.webhooks is False


def test_an_unknown_verb_is_404_and_changes_nothing(project: Project, alice: Any) -> None:
    hook = register(project, alice, "https://hooks.example.com/in", ["verdict"])
    head = project.chain.events.count()
    assert client_for(alice).post(url("webhook-action", hook.pk, "explode")).status_code == 404
    assert project.chain.events.count() == head


def test_the_attempts_are_visible_per_endpoint(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    hook = register(project, alice, receiver.url, ["verdict"])
    receiver.statuses = [500]
    [delivery] = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    send(delivery)
    page = html(client_for(alice).get(url("webhook-detail", hook.pk)))
    [row] = page.select("table", id="deliveries")[0].select("tr")[1:]
    text = " ".join(row.content().split())
    assert "verdict.set" in text and str(delivery.uid) in text
    assert "Pending" in text and "500" in text and "The endpoint answered 500." in text
    assert (delivery.next_attempt_at - timezone.now()) < dt.timedelta(minutes=2)


# A delivery whose worker died is sent again, once -------------------------------------------


def left_by_a_dead_worker(delivery: Delivery, minutes: int = 30) -> Delivery:
    """The delivery as a worker killed while sending it leaves it: taken (its time moved on
    to the attempt's deadline), never recorded, its task gone; that time long past."""
    assert webhooks.take(delivery)
    past = timezone.now() - dt.timedelta(minutes=minutes)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=past)
    delivery.refresh_from_db()
    return delivery


def queued_deliveries(delivery: Delivery) -> int:
    return DBTaskResult.objects.filter(
        task_path="claims.tasks.deliver", args_kwargs__args=[delivery.pk]
    ).count()


def test_a_delivery_left_by_a_dead_worker_is_queued_again_once_and_sent(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    register(project, alice, receiver.url, ["verdict"])
    [delivery] = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    delivery = left_by_a_dead_worker(delivery)
    assert queued_deliveries(delivery) == 1  # its first task, taken by the dead worker
    assert tasks.recover() == 1
    assert tasks.recover() == 0  # queued already: not again
    assert queued_deliveries(delivery) == 2
    delivery = send(delivery)
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    [(headers, _raw)] = receiver.requests
    assert headers["Claims-Delivery"] == str(delivery.uid)


def test_two_recovers_that_read_the_same_overdue_delivery_queue_it_once(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    register(project, alice, receiver.url, ["verdict"])
    [delivery] = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    left_by_a_dead_worker(delivery)
    # Both have read it as overdue before either moves it (two requests polling at once).
    first, second = list(webhooks.overdue()), list(webhooks.overdue())
    assert [d.pk for d in first] == [d.pk for d in second] == [delivery.pk]
    assert (webhooks.again(first[0]), webhooks.again(second[0])) == (True, False)


def test_a_delivery_late_by_less_than_the_grace_period_is_left_to_its_task(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    receiver: Receiver,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.CLAIMS_WEBHOOK_STALE_SECONDS = 600
    register(project, alice, receiver.url, ["verdict"])
    [delivery] = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    left_by_a_dead_worker(delivery, minutes=5)  # or a busy worker, not yet come to it
    assert tasks.recover() == 0
    assert queued_deliveries(delivery) == 1


def test_two_tasks_of_one_delivery_send_it_once(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A task queued again beside one that was only late: the first to run sends it, the
    other finds it taken (or delivered) and sends nothing, nor queues anything."""
    register(project, alice, receiver.url, ["verdict"])
    receiver.statuses = [500]
    [delivery] = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    tasks.deliver.call(delivery.pk)
    tasks.deliver.call(delivery.pk)  # the other task: the retry is not due yet
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == ("pending", 1, 1)
    assert queued_deliveries(delivery) == 2  # its first task and one retry, not two


@pytest.fixture
def dribbling_endpoint() -> Iterator[str]:
    """An endpoint on 127.0.0.1 that answers a byte at a time, each well within a per-read
    timeout, for longer than the whole: only a limit on the whole attempt stops it."""
    stopping = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            try:
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                    if stopping.wait(0.1):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:
                pass  # the sender hung up, as it should

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/in"
    stopping.set()
    server.shutdown()
    server.server_close()


def test_an_endpoint_that_answers_too_slowly_is_given_up_on_at_the_time_limit(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    settings: Any,
    dribbling_endpoint: str,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The whole attempt is bounded, not each read: a worker is never held past it (and a
    delivery it took is not overdue before then)."""
    settings.CLAIMS_WEBHOOK_TIMEOUT = 0.5
    register(project, alice, dribbling_endpoint, ["verdict"])
    [delivery] = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    delivery = send(delivery)
    assert (delivery.status, delivery.attempts, delivery.status_code) == ("pending", 1, None)
    assert delivery.error == "The endpoint took longer than 0.5 seconds to answer."


def test_a_host_that_resolves_too_slowly_fails_the_attempt_in_time(
    project: Project,
    alice: Any,
    bob: Any,
    claim: Any,
    settings: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """As the fetcher's: the lookup is given up at the time limit (the resolver replaced,
    as tests/test_fetching.py's slow_resolver explains)."""
    import socket
    import threading

    answer = threading.Event()
    real = socket.getaddrinfo

    def resolve(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.example":
            answer.wait(30)
        return real("127.0.0.1" if host == "hooks.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    settings.CLAIMS_WEBHOOK_TIMEOUT = 0.5
    register(project, alice, "https://hooks.example/in", ["verdict"])
    [delivery] = deliveries_of(
        lambda: claim.set_verdict(bob, "supported"), django_capture_on_commit_callbacks
    )
    try:
        delivery = send(delivery)
    finally:
        answer.set()
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.error == "The endpoint took longer than 0.5 seconds to answer."
