"""The claim register and its exports for every role, with this project's ids and another
project's (the harness of tests/test_permissions_matrix.py): who gets what, that nothing
of another project shows, and that looking changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import Claim
from tests.base import body
from tests.test_permissions_matrix import ROLES, Action, call, fingerprint, worlds

__all__ = ["worlds"]  # the fixture, used by name

ACTIONS = [
    Action("claim register", "GET", lambda i: reverse("claim-register", args=[i["slug"]])),
    Action(
        "claim register, one article",
        "GET",
        lambda i: reverse("claim-register", args=[i["slug"]]) + f"?article={i['article']}",
    ),
    Action(
        "claim register search",
        "GET",
        lambda i: reverse("claim-register", args=[i["slug"]]) + "?q=moscow",
        htmx=True,
    ),
    Action(
        "claim register CSV",
        "GET",
        lambda i: reverse("claim-register", args=[i["slug"]]) + "?format=csv",
    ),
    Action(
        "claim register JSON",
        "GET",
        lambda i: reverse("claim-register", args=[i["slug"]]) + "?q=moscow&format=json",
    ),
]
CASES = [(role, action) for action in ACTIONS for role in ROLES]


def login(person: Any) -> Client:
    client = Client()
    client.force_login(person)
    return client


@pytest.mark.parametrize(
    ("role", "action"), CASES, ids=[f"{role}-{action.name}" for role, action in CASES]
)
def test_every_member_reads_the_register_and_outsiders_get_404(
    worlds: Any, role: str, action: Action
) -> None:
    mine, theirs, people = worlds
    before = fingerprint()
    response = call(login(people[role]), action, mine)
    assert response.status_code == (404 if role == "outsider" else 200)
    if response.status_code == 200:
        text = body(response)
        others = Claim.objects.filter(article__project=theirs["project"])
        for claim in others:
            assert f'"claim": {claim.pk},' not in text
            assert f'id="claim-{claim.pk}"' not in text
    assert fingerprint() == before


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_another_projects_ids_find_nothing_for_every_role(worlds: Any, action: Action) -> None:
    mine, theirs, people = worlds
    crossed = {**theirs, "slug": mine["slug"]}
    for role in ROLES:
        client = login(people[role])
        before = fingerprint()
        response = call(client, action, theirs)
        assert response.status_code == 404, (role, action.name)
        if action.url(crossed) != action.url(mine):
            response = call(client, action, crossed)
            # Another project's article is no choice here: refused, said, nothing shown.
            expected = 404 if role == "outsider" else 422
            assert response.status_code == expected, (role, action.name)
        assert fingerprint() == before


def test_the_register_answers_no_post(worlds: Any) -> None:
    mine, _theirs, people = worlds
    before = fingerprint()
    for action in ACTIONS:
        assert login(people["admin"]).post(action.url(mine)).status_code == 405
    assert fingerprint() == before


def test_anonymous_visitors_are_sent_to_log_in(worlds: Any) -> None:
    mine, _theirs, _people = worlds
    for action in ACTIONS:
        response = Client().get(action.url(mine))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_an_export_holds_this_project_s_claims_only(worlds: Any) -> None:
    mine, _theirs, people = worlds
    response = login(people["viewer"]).get(
        reverse("claim-register", args=[mine["slug"]]), {"format": "json"}
    )
    exported = {c["claim"] for c in json.loads(body(response))["claims"]}
    assert exported == set(
        Claim.objects.filter(article_id=mine["article"]).values_list("pk", flat=True)
    )
