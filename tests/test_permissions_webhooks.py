"""The webhook pages and the job page in the permissions matrix: every role × every
endpoint × this project's ids and another project's, each refused request changing
nothing (tests/test_permissions_matrix.py's harness, with webhooks and jobs added)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import Claim, Delivery, Job, JobKind, Role, Webhook
from tests.factories import add_member, make_user
from tests.test_permissions_matrix import (
    ROLES,
    Action,
    build_world,
    call,
    check_foreign_ids,
    check_in_own_project,
)
from tests.test_permissions_matrix import fingerprint as matrix_fingerprint

WEBHOOK = {"url": "https://hooks.example.com/in", "events": ["verdict"]}

ACTIONS = [
    Action(
        "webhooks page", "GET", lambda i: reverse("webhook-list", args=[i["slug"]]), least="admin"
    ),
    Action(
        "register a webhook",
        "POST",
        lambda i: reverse("webhook-list", args=[i["slug"]]),
        lambda i: WEBHOOK,
        least="admin",
    ),
    Action(
        "register a webhook (htmx)",
        "POST",
        lambda i: reverse("webhook-list", args=[i["slug"]]),
        lambda i: WEBHOOK,
        least="admin",
        htmx=True,
    ),
    Action(
        "webhook page",
        "GET",
        lambda i: reverse("webhook-detail", args=[i["slug"], i["webhook"]]),
        least="admin",
    ),
    Action(
        "edit a webhook",
        "POST",
        lambda i: reverse("webhook-detail", args=[i["slug"], i["webhook"]]),
        lambda i: {"url": "https://elsewhere.example.com/in", "events": ["evidence"]},
        least="admin",
        ok=(302,),
    ),
    *(
        Action(
            f"{verb} a webhook",
            "POST",
            lambda i, verb=verb: reverse("webhook-action", args=[i["slug"], i[verb], verb]),
            least="admin",
            ok=(302,),
        )
        for verb in ("pause", "resume", "delete")
    ),
]


def build(slug: str, admin: Any) -> dict[str, Any]:
    """A world of the matrix, with an active webhook (to pause and delete), a paused one
    (to resume), a delivery, and an import job its admin started."""
    ids = build_world(slug, admin)
    project = ids["project"]
    active = Webhook.register(project, admin, url="https://a.example.com/in", events=["verdict"])
    paused = Webhook.register(project, admin, url="https://b.example.com/in", events=["claim"])
    paused.pause(admin)
    Delivery.objects.create(webhook=active, event_id=1, seq=1, action="verdict.set")
    job = Job.objects.create(project=project, user=admin, kind=JobKind.IMPORT)
    return ids | {
        "webhook": active.pk,
        "pause": active.pk,
        "delete": active.pk,
        "resume": paused.pk,
        "job": job.pk,
    }


def fingerprint() -> str:
    rows = [
        matrix_fingerprint(),
        list(Webhook.objects.order_by("pk").values_list("pk", "url", "events", "active", "secret")),
        list(Delivery.objects.order_by("pk").values_list("pk", "status", "attempts")),
        list(Job.objects.order_by("pk").values_list("pk", "status")),
    ]
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


@pytest.fixture
def worlds(db: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    owner = make_user("owner")
    mine = build("mine", owner)
    theirs = build("theirs", make_user("stranger"))
    people = {"outsider": make_user("outsider"), "admin": owner}
    for role in ROLES[1:-1]:
        people[role] = make_user(f"the-{role}")
        add_member(mine["project"], people[role], Role(role))
    assert Claim.objects.exists()
    return mine, theirs, people


CASES = [(role, action) for action in ACTIONS for role in ROLES]


@pytest.mark.parametrize(
    ("role", "action"), CASES, ids=[f"{role}-{action.name}" for role, action in CASES]
)
def test_role_and_action_in_own_project(worlds: Any, role: str, action: Action) -> None:
    check_in_own_project(worlds, role, action, fingerprint)


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_another_projects_ids_are_404_for_every_role(worlds: Any, action: Action) -> None:
    check_foreign_ids(worlds, action, fingerprint)


@pytest.mark.parametrize("role", ROLES)
def test_a_job_is_seen_by_who_started_it_and_by_admins(worlds: Any, role: str) -> None:
    mine, theirs, people = worlds
    client = Client()
    client.force_login(people[role])
    before = fingerprint()
    page = reverse("job-detail", args=[mine["slug"], mine["job"]])
    assert client.get(page).status_code == (200 if role == "admin" else 404)
    if role != "outsider":
        own = Job.objects.create(project=mine["project"], user=people[role], kind=JobKind.IMPORT)
        assert client.get(reverse("job-detail", args=["mine", own.pk])).status_code == 200
        own.delete()
    for slug, job in (("mine", theirs["job"]), ("theirs", theirs["job"]), ("mine", 2**63)):
        assert client.get(reverse("job-detail", args=[slug, job])).status_code == 404
    assert fingerprint() == before


def test_anonymous_visitors_are_sent_to_log_in(worlds: Any) -> None:
    mine, _theirs, _people = worlds
    before = fingerprint()
    for action in [
        *ACTIONS,
        Action("job", "GET", lambda i: reverse("job-detail", args=[i["slug"], i["job"]])),
    ]:
        response = call(Client(), action, mine)
        assert response.status_code == 302, action.name
        assert response["Location"].startswith(reverse("login"))
    assert fingerprint() == before


def test_wrong_methods_are_405(worlds: Any) -> None:
    mine, _theirs, people = worlds
    client = Client()
    client.force_login(people["admin"])
    job = reverse("job-detail", args=[mine["slug"], mine["job"]])
    assert client.post(job).status_code == 405
    for verb in ("pause", "resume", "delete"):
        assert (
            client.get(reverse("webhook-action", args=["mine", mine[verb], verb])).status_code
            == 405
        )
