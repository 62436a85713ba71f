"""Every role × every action × this project's ids and another project's ids.

Each case checks the status code, and that a refused action changed nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from claims.models import (
    Adjudication,
    AuditEvent,
    Claim,
    Evidence,
    Membership,
    Project,
    Role,
    Verdict,
)
from tests.factories import add_member, make_article, make_project, make_user

ROLES = ["outsider", "viewer", "analyst", "reviewer", "admin"]
RANK = {role: i for i, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Action:
    name: str
    method: str
    url: Callable[[dict[str, Any]], str]  # from the ids of a world
    data: Callable[[dict[str, Any]], dict[str, Any]] = lambda ids: {}
    least: str = "viewer"  # the lowest role allowed
    ok: tuple[int, ...] = (200,)
    htmx: bool = False
    gate: str = ""  # the role checked before any id is looked up, when not ``least``

    @property
    def first_check(self) -> str:
        return self.gate or self.least


def verdict_data(ids: dict[str, Any]) -> dict[str, Any]:
    return {"status": "supported", "rationale": "", "as_of": "", "version": 0}


ACTIONS = [
    Action("project page", "GET", lambda i: reverse("project-detail", args=[i["slug"]])),
    Action("members page", "GET", lambda i: reverse("project-members", args=[i["slug"]])),
    Action(
        "article screen",
        "GET",
        lambda i: reverse("article-detail", args=[i["slug"], i["article"]]),
    ),
    Action(
        "progress fragment",
        "GET",
        lambda i: reverse("article-progress", args=[i["slug"], i["article"]]),
        htmx=True,
    ),
    Action(
        "claim panel",
        "GET",
        lambda i: reverse("claim-panel", args=[i["slug"], i["claim"]]),
        htmx=True,
    ),
    Action(
        "set verdict",
        "POST",
        lambda i: reverse("claim-verdict", args=[i["slug"], i["claim"]]),
        verdict_data,
        least="analyst",
        ok=(302,),
    ),
    Action(
        "confirm a verdict still holds",
        "POST",
        lambda i: reverse("claim-confirm", args=[i["slug"], i["confirmed"]]),
        lambda i: {"version": 1},  # each person's own verdict there (worlds)
        least="analyst",
        ok=(302,),
    ),
    Action(
        "add evidence",
        "POST",
        lambda i: reverse("evidence-add", args=[i["slug"], i["claim"]]),
        lambda i: {"evidence-url": "https://example.org/x", "evidence-stance": "supports"},
        least="analyst",
        ok=(302,),
    ),
    Action(
        "remove someone else's evidence",
        "POST",
        lambda i: reverse("evidence-remove", args=[i["slug"], i["evidence"]]),
        least="admin",
        ok=(302,),
        gate="analyst",  # analysts may remove their own: ownership is checked on the row
    ),
    Action(
        "correct span",
        "POST",
        lambda i: reverse("claim-span", args=[i["slug"], i["claim"]]),
        lambda i: {"text": i["shorter"], "version": 1},
        least="reviewer",
        ok=(302,),
    ),
    Action(
        "split claim",
        "POST",
        lambda i: reverse("claim-split", args=[i["slug"], i["claim"]]),
        lambda i: {"at": i["split_at"], "version": 1},
        least="reviewer",
        ok=(302,),
    ),
    Action(
        "merge claims",
        "POST",
        lambda i: reverse("claim-merge", args=[i["slug"], i["claim"]]),
        lambda i: {"version": 1},
        least="reviewer",
        ok=(302,),
    ),
    Action(
        "import a revision (form)",
        "GET",
        lambda i: reverse("article-revise", args=[i["slug"], i["article"]]),
        least="admin",
    ),
    Action(
        "unlink a claim from a revision",
        "POST",
        lambda i: reverse("claim-unlink", args=[i["slug"], i["claim"]]),
        lambda i: {"version": 1},
        least="reviewer",
        ok=(302,),
    ),
    Action(
        "link a claim to a removed one",
        "POST",
        lambda i: reverse("claim-link", args=[i["slug"], i["claim"]]),
        lambda i: {"version": 1, "removed": i["claim"]},
        least="reviewer",
        ok=(302,),
    ),
    Action(
        "adjudicate",
        "POST",
        lambda i: reverse("adjudicate", args=[i["slug"], i["claim"]]),
        lambda i: {"status": "disputed", "rationale": "Settled.", "version": 0},
        least="reviewer",
        ok=(302,),
    ),
    Action(
        "import page", "GET", lambda i: reverse("article-import", args=[i["slug"]]), least="admin"
    ),
    Action(
        "import preview",
        "POST",
        lambda i: reverse("article-import", args=[i["slug"]]),
        lambda i: {"step": "preview", "text": "Fresh text here.", "published_on": "2022-01-01"},
        least="admin",
    ),
    Action(
        "import confirm",
        "POST",
        lambda i: reverse("article-import", args=[i["slug"]]),
        lambda i: {"step": "confirm", "text": "Fresh text here.", "published_on": "2022-01-01"},
        least="admin",
        ok=(302,),
    ),
    Action(
        "add member",
        "POST",
        lambda i: reverse("project-members", args=[i["slug"]]),
        lambda i: {"action": "add", "username": "outsider", "role": "viewer"},
        least="admin",
        ok=(302,),
    ),
    Action(
        "invite member",
        "POST",
        lambda i: reverse("member-invite", args=[i["slug"]]),
        lambda i: {"invite-username": "newcomer", "invite-role": "viewer"},
        least="admin",
    ),
    Action(
        "consensus screen",
        "GET",
        lambda i: reverse("article-consensus", args=[i["slug"], i["article"]]),
    ),
    Action("project consensus", "GET", lambda i: reverse("project-consensus", args=[i["slug"]])),
    Action("queue", "GET", lambda i: reverse("queue", args=[i["slug"]])),
    Action("due queue", "GET", lambda i: reverse("due-queue", args=[i["slug"]])),
    Action(
        "due queue, the team's",
        "GET",
        lambda i: reverse("due-queue", args=[i["slug"]]) + "?whose=team",
    ),
    Action(
        "freshness settings page",
        "GET",
        lambda i: reverse("recheck-settings", args=[i["slug"]]),
        least="admin",
    ),
    Action(
        "set freshness",
        "POST",
        lambda i: reverse("recheck-settings", args=[i["slug"]]),
        lambda i: {"supported": "30", "disputed": "30", "outdated": ""},
        least="admin",
        ok=(302,),
    ),
    Action(
        "consensus export",
        "GET",
        lambda i: reverse("article-consensus-export", args=[i["slug"], i["article"], "csv"]),
    ),
    Action(
        "claim history",
        "GET",
        lambda i: reverse("claim-history", args=[i["slug"], i["claim"]]),
    ),
    Action(
        "article activity",
        "GET",
        lambda i: reverse("article-activity", args=[i["slug"], i["article"]]),
    ),
    Action("project activity", "GET", lambda i: reverse("project-activity", args=[i["slug"]])),
    Action(
        "revert an adjudication",
        "POST",
        lambda i: reverse("event-revert", args=[i["slug"], i["adjudication_seq"]]),
        least="reviewer",
        ok=(302,),
    ),
    Action(
        "audit export page",
        "GET",
        lambda i: reverse("audit-export", args=[i["slug"]]),
        least="reviewer",
    ),
    Action(
        "audit export",
        "POST",
        lambda i: reverse("audit-export", args=[i["slug"]]),
        lambda i: {"format": "csv"},
        least="reviewer",
    ),
]


def build_world(slug: str, admin: Any) -> dict[str, Any]:
    """A project with an article, someone else's evidence and an adjudication event."""
    project = make_project(slug, admin=admin)
    text = "Sized Title\n\nMoscow agreed to talks, and Beijing declined them. Trade grew.\n"
    article = make_article(project, text)
    claim, second, other = article.claims.order_by("start")
    evidence = claim.add_evidence(admin, url="https://example.org/e", stance="context")
    other.adjudicate(admin, "supported", rationale="Clear.")
    seq = AuditEvent.objects.filter(chain__project=project, action="adjudication.set").get().seq
    return {
        "project": project,
        "slug": slug,
        "article": article.pk,
        "claim": claim.pk,
        "confirmed": second.pk,
        "evidence": evidence.pk,
        "adjudication_seq": seq,
        "shorter": claim.text.rsplit(" ", 1)[0],
        "split_at": claim.start + claim.text.index(" ") + 1,
    }


def fingerprint() -> str:
    """Everything a refused action must leave alone."""
    rows = [
        list(get_user_model().objects.order_by("pk").values_list("pk", "username", "password")),
        list(AuditEvent.objects.order_by("pk").values_list("pk", "hash")),
        list(
            Verdict.objects.order_by("pk").values_list(
                "pk", "status", "version", "checked_at", "recheck_by"
            )
        ),
        list(Evidence.objects.order_by("pk").values_list("pk", "removed_at")),
        list(Claim.objects.order_by("pk").values_list("pk", "start", "end", "version")),
        list(Adjudication.objects.order_by("pk").values_list("pk", "status", "version")),
        list(Membership.objects.order_by("pk").values_list("pk", "role")),
        list(
            Project.objects.order_by("pk").values_list(
                "pk", "slug", "fresh_supported_days", "fresh_disputed_days", "fresh_outdated_days"
            )
        ),
    ]
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


@pytest.fixture
def worlds(db: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    owner = make_user("owner")
    mine = build_world("mine", owner)
    theirs = build_world("theirs", make_user("stranger"))
    people = {"outsider": make_user("outsider")}
    second = Claim.objects.get(pk=mine["confirmed"])
    for role in ROLES[1:]:
        people[role] = make_user(f"the-{role}")
        add_member(mine["project"], people[role], Role(role))
        if role != "viewer":  # a verdict of their own to confirm
            second.set_verdict(people[role], "supported")
    return mine, theirs, people


def call(client: Client, action: Action, ids: dict[str, Any]) -> Any:
    headers = {"HTTP_HX_REQUEST": "true"} if action.htmx else {}
    if action.method == "GET":
        return client.get(action.url(ids), **headers)
    return client.post(action.url(ids), action.data(ids), **headers)


CASES = [(role, action) for action in ACTIONS for role in ROLES]


@pytest.mark.parametrize(
    ("role", "action"), CASES, ids=[f"{role}-{action.name}" for role, action in CASES]
)
def test_role_and_action_in_own_project(worlds: Any, role: str, action: Action) -> None:
    check_in_own_project(worlds, role, action, fingerprint)


def check_in_own_project(worlds: Any, role: str, action: Action, state: Callable[[], str]) -> None:
    """``role`` doing ``action`` in its own project gets what its rank allows; a refusal
    (and any read) leaves ``state`` as it was. Shared by the feature matrices."""
    mine, _theirs, people = worlds
    client = Client()
    client.force_login(people[role])
    before = state()
    response = call(client, action, mine)
    if role == "outsider":
        expected: tuple[int, ...] = (404,)
    elif RANK[role] < RANK[action.least]:
        expected = (403,)
    else:
        expected = action.ok
    assert response.status_code in expected, response.content[:300]
    if response.status_code in (403, 404) or action.method == "GET":
        assert state() == before


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_another_projects_ids_are_404_for_every_role(worlds: Any, action: Action) -> None:
    check_foreign_ids(worlds, action, fingerprint)


def check_foreign_ids(worlds: Any, action: Action, state: Callable[[], str]) -> None:
    """Every role, with the other project's ids, finds nothing and changes nothing."""
    mine, theirs, people = worlds
    # This project's slug with the other project's ids, and the other project's slug.
    crossed = {**theirs, "slug": mine["slug"]}
    for role in ROLES:
        client = Client()
        client.force_login(people[role])
        before = state()
        for ids in (crossed, theirs):
            if ids is crossed and action.url(crossed) == action.url(mine):
                continue  # the action takes no id besides the slug
            response = call(client, action, ids)
            # With this project's slug, a role too low for the action is refused before
            # any id is looked at (403, the same for every id); otherwise nothing of
            # the other project is found (404).
            too_low = (
                ids is crossed and role != "outsider" and RANK[role] < RANK[action.first_check]
            )
            expected = 403 if too_low else 404
            assert response.status_code == expected, (role, action.name, ids["slug"])
        assert state() == before


def test_anonymous_visitors_are_sent_to_log_in(worlds: Any) -> None:
    mine, _theirs, _people = worlds
    before = fingerprint()
    for action in ACTIONS:
        response = call(Client(), action, mine)
        assert response.status_code == 302, action.name
        assert response["Location"].startswith(reverse("login"))
    assert fingerprint() == before


def test_wrong_methods_are_405(worlds: Any) -> None:
    mine, _theirs, people = worlds
    client = Client()
    client.force_login(people["admin"])
    for action in ACTIONS:
        if action.method == "GET" and action.name not in (
            "import page",
            "import a revision (form)",
            "members page",
            "audit export page",
            "freshness settings page",
        ):
            assert client.post(action.url(mine)).status_code == 405, action.name
        if action.method == "POST" and action.name not in (
            "import preview",
            "import confirm",
            "add member",
            "audit export",
            "set freshness",
        ):
            assert client.get(action.url(mine)).status_code == 405, action.name


# Creating a project is the site's to grant (the ``claims.add_project`` permission, or a
# superuser), not any project's: every project role is refused alike.


def test_only_site_administrators_create_projects(worlds: Any) -> None:
    _mine, _theirs, people = worlds
    create = reverse("project-create")
    data = {"name": "New", "slug": "new", "min_verdicts": "2"}
    before = fingerprint()
    for role in ROLES:
        client = Client()
        client.force_login(people[role])
        assert client.get(create).status_code == 403, role
        assert client.post(create, data).status_code == 403, role
    response = Client().post(create, data)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert fingerprint() == before
    people["viewer"].user_permissions.add(Permission.objects.get(codename="add_project"))
    client = Client()
    client.force_login(people["viewer"])
    assert client.get(create).status_code == 200
    assert client.post(create, data).status_code == 302
    assert Project.objects.get(slug="new").role_of(people["viewer"]) == Role.ADMIN
    assert client.put(create).status_code == 405
