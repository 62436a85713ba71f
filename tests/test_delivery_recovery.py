"""A webhook delivery whose worker was killed while sending it: a real ``manage.py
db_worker`` process takes the delivery's task and POSTs to a receiver on 127.0.0.1 that
holds the request open; the worker is killed there. The delivery stays pending, its task
gone with the worker; once it is overdue, ``tasks.recover`` (as polling a job's page runs
it) queues it again, once, and the next worker sends it, with the same delivery id.

The worker's database is tests/test_tasks.py's (``worker_db``): a SQLite file, or a fresh
PostgreSQL database beside the test one; each step in there runs in a subprocess.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.conf import settings

from claims import tasks, webhooks
from tests import test_tasks
from tests.test_tasks import WAIT, run_worker

worker_db = test_tasks.worker_db  # the worker tests' own database, migrated


# Steps run inside the worker's database (each in a fresh interpreter) -----------------------


def hook_and_event(slug: str, address: str) -> dict[str, Any]:
    """A project with a webhook for member events at ``address``, and one such event: its
    delivery is queued for the worker as the event commits."""
    from django.contrib.auth import get_user_model

    from claims.models import Delivery, Project, Role, Webhook

    users = get_user_model().objects
    alice = users.get_or_create(username="alice")[0]
    bob = users.get_or_create(username="bob")[0]
    project = Project.create(slug, slug.title(), admin=alice)
    hook = Webhook.register(project, alice, url=address, events=["member"])
    project.set_member(bob, Role.ANALYST, actor=alice)
    delivery = Delivery.objects.get(webhook=hook)
    return {"delivery": delivery.pk, "uid": str(delivery.uid), "secret": hook.secret}


def describe(delivery_id: int, recover: bool = False) -> dict[str, Any]:
    """The delivery and its tasks as they stand (after ``tasks.recover`` when asked)."""
    from django_tasks_db.models import DBTaskResult

    from claims.models import Delivery

    recovered = tasks.recover() if recover else 0
    delivery = Delivery.objects.get(pk=delivery_id)
    queued = DBTaskResult.objects.filter(task_path="claims.tasks.deliver")
    return {
        "recovered": recovered,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "error": delivery.error,
        "tasks": sorted(queued.values_list("status", flat=True)),
    }


STEP = """
import json, sys
import django
django.setup()
from tests import test_delivery_recovery
print(json.dumps(getattr(test_delivery_recovery, sys.argv[1])(*json.loads(sys.argv[2]))))
"""


def in_db(env: dict[str, str], step: str, *args: Any, **extra: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", STEP, step, json.dumps(args)],
        cwd=settings.BASE_DIR,
        env=env | extra,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# The receiver, in this process ------------------------------------------------------------


@dataclass
class Receiver:
    """Holds the first request open until the test ends (the worker dies meanwhile), and
    answers 204 to the ones after it; records each request's headers and body."""

    url: str = ""
    arrived: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append((dict(self.headers), raw))
            if len(state.requests) == 1:
                state.arrived.set()
                state.stopping.wait(WAIT)
                return
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/in"
    yield state
    state.stopping.set()
    server.shutdown()
    server.server_close()


def kill_mid_delivery(env: dict[str, str], receiver: Receiver) -> None:
    """Start a worker and kill -9 it while its POST is held open by the receiver."""
    worker = subprocess.Popen(
        [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "db_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.1",
            "-v",
            "0",
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    try:
        deadline = time.monotonic() + WAIT
        while not receiver.arrived.wait(0.1):
            assert worker.poll() is None, "the worker exited before sending"
            assert time.monotonic() < deadline, "the worker never sent the delivery"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=WAIT)


def test_a_delivery_whose_worker_died_sending_it_is_sent_again_once(
    worker_db: dict[str, str], receiver: Receiver
) -> None:
    # The attempt's time limit: long enough that the kill comes first on a busy machine.
    env = worker_db | {"CLAIMS_FETCH_ALLOW_PRIVATE": "1", "CLAIMS_WEBHOOK_TIMEOUT": "5"}
    made = in_db(env, "hook_and_event", "hooked-dead", receiver.url)
    kill_mid_delivery(env, receiver)

    # Pending, no attempt recorded, and its one task left running for good by the dead
    # worker: nothing would ever send it again.
    seen = in_db(env, "describe", made["delivery"])
    assert (seen["status"], seen["attempts"], seen["tasks"]) == ("pending", 0, ["RUNNING"])
    # Not overdue while the attempt it was taken for could still be under way.
    early = in_db(env, "describe", made["delivery"], True, CLAIMS_WEBHOOK_STALE_SECONDS="60")
    assert early["recovered"] == 0

    # Once that time is past (the grace period here 0), polling a job's page queues it again.
    deadline = time.monotonic() + WAIT
    while True:
        seen = in_db(env, "describe", made["delivery"], True, CLAIMS_WEBHOOK_STALE_SECONDS="0")
        if seen["recovered"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert (seen["recovered"], seen["status"]) == (1, "pending")
    assert seen["tasks"] == ["READY", "RUNNING"]
    # Queued again, it is due now, not overdue: a recover after that (within the grace
    # period, which a live worker's queue needs to come to it) leaves it to its task.
    again = in_db(env, "describe", made["delivery"], True, CLAIMS_WEBHOOK_STALE_SECONDS="60")
    assert (again["recovered"], again["tasks"]) == (0, ["READY", "RUNNING"])

    run_worker(env)
    seen = in_db(env, "describe", made["delivery"])
    assert (seen["status"], seen["attempts"], seen["error"]) == ("delivered", 1, "")
    (first, _), (second, raw) = receiver.requests
    assert first["Claims-Delivery"] == second["Claims-Delivery"] == made["uid"]
    assert webhooks.verify_signature(made["secret"], second["Claims-Signature"], raw)
    assert json.loads(raw)["event"]["action"] == "member.added"
