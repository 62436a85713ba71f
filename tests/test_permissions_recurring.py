"""Every role × the recurring-claim and sources endpoints × this project's ids and another
project's ids, with tests/test_permissions_matrix.py's harness: each case checks the
status code, and that a refused action changed nothing (links included)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import Claim, ClaimLink, LinkState, Role
from tests.factories import add_member, make_article, make_user
from tests.test_permissions_matrix import (
    ROLES,
    Action,
    build_world,
    call,
    check_foreign_ids,
    check_in_own_project,
    fingerprint,
)

REPEAT = "Repeat\n\nMoscow agreed to the talks in Geneva, and Beijing declined them.\n"

ACTIONS = [
    Action(
        "same claim section",
        "GET",
        lambda i: reverse("claim-same", args=[i["slug"], i["claim"]]),
        htmx=True,
    ),
    Action("same claim page", "GET", lambda i: reverse("claim-same", args=[i["slug"], i["claim"]])),
    Action(
        "adopt a linked verdict",
        "POST",
        lambda i: reverse("claim-adopt", args=[i["slug"], i["claim"]]),
        lambda i: {"source": i["twin"], "version": 0},
        least="analyst",
        ok=(302,),
    ),
    Action(
        "decide a link",
        "POST",
        lambda i: reverse("link-decide", args=[i["slug"], i["link"]]),
        lambda i: {"state": "rejected", "version": 1, "claim": i["claim"]},
        least="reviewer",
        ok=(302,),
    ),
    Action("sources page", "GET", lambda i: reverse("sources", args=[i["slug"]])),
]


def linked_world(slug: str, admin: Any) -> dict[str, Any]:
    """The matrix's world, with a second article repeating its first claim, the link
    between them confirmed, and a verdict on the twin to adopt."""
    ids = build_world(slug, admin)
    project = ids["project"]
    repeat = make_article(project, REPEAT, filename="repeat.txt")
    twin = repeat.claims.order_by("start").first()
    claim = Claim.objects.get(pk=ids["claim"])
    a, b = sorted((claim.pk, twin.pk))
    link, _created = ClaimLink.objects.get_or_create(
        claim_a_id=a, claim_b_id=b, defaults={"score": 90}
    )
    link.decide(admin, LinkState.CONFIRMED, expected_version=link.version)
    twin.set_verdict(admin, "disputed", rationale="Geneva denied it.")
    return ids | {"twin": twin.pk, "link": link.pk}


def links_too() -> str:
    rows = list(ClaimLink.objects.order_by("pk").values_list("pk", "state", "version"))
    return fingerprint() + hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.fixture
def worlds(db: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    owner = make_user("owner")
    mine = linked_world("mine", owner)
    theirs = linked_world("theirs", make_user("stranger"))
    people = {"outsider": make_user("outsider")}
    for role in ROLES[1:]:
        people[role] = make_user(f"the-{role}")
        add_member(mine["project"], people[role], Role(role))
    return mine, theirs, people


CASES = [(role, action) for action in ACTIONS for role in ROLES]


@pytest.mark.parametrize(
    ("role", "action"), CASES, ids=[f"{role}-{action.name}" for role, action in CASES]
)
def test_role_and_action_in_own_project(worlds: Any, role: str, action: Action) -> None:
    check_in_own_project(worlds, role, action, links_too)


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_another_projects_ids_are_404_for_every_role(worlds: Any, action: Action) -> None:
    check_foreign_ids(worlds, action, links_too)


def test_adopting_from_another_projects_claim_is_refused(worlds: Any) -> None:
    """This project's claim, the other project's twin: nothing to adopt, nothing written."""
    mine, theirs, people = worlds
    client = Client()
    client.force_login(people["analyst"])
    before = links_too()
    response = client.post(
        reverse("claim-adopt", args=[mine["slug"], mine["claim"]]),
        {"source": theirs["twin"], "version": 0},
    )
    assert response.status_code == 409
    assert links_too() == before


def test_a_link_is_decided_only_through_a_claim_of_its_own(worlds: Any) -> None:
    """A claim id that is not one of the link's own falls back to the link's first claim."""
    mine, theirs, people = worlds
    client = Client()
    client.force_login(people["reviewer"])
    response = client.post(
        reverse("link-decide", args=[mine["slug"], mine["link"]]),
        {"state": "rejected", "version": 1, "claim": theirs["claim"]},
    )
    assert response.status_code == 302
    assert f"claim={min(mine['claim'], mine['twin'])}" in response["Location"]


def test_anonymous_visitors_are_sent_to_log_in(worlds: Any) -> None:
    mine, _theirs, _people = worlds
    before = links_too()
    for action in ACTIONS:
        response = call(Client(), action, mine)
        assert response.status_code == 302, action.name
        assert response["Location"].startswith(reverse("login"))
    assert links_too() == before
