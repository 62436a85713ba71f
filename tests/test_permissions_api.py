"""The API and the token pages in the permissions matrix: every role × every operation ×
this project's ids and another project's ids, with the harness of
tests/test_permissions_matrix.py (its worlds, people and fingerprint of what a refused
action must leave alone).

Each person calls with a token of their own role in the project ("mine"); the outsider
with a token of a project of their own, which opens nothing here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import ApiToken, Member, Project, Role
from tests import test_permissions_matrix as matrix
from tests.api_client import Api, issue
from tests.test_permissions_matrix import RANK, ROLES, fingerprint
from tests.test_permissions_matrix import Action as PageAction

worlds = matrix.worlds  # the matrix's fixture: its two projects and its people

IMPORT_TEXT = "Matrix Title\n\nWheat prices rose in spring. Exports fell.\n"


@dataclass(frozen=True)
class Op:
    name: str
    method: str
    path: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], Any] = lambda ids: None
    least: str = "viewer"
    ok: tuple[int, ...] = (200,)
    if_match: int | None = None  # the version the write is made against
    gate: str = ""  # checked before the object, when not ``least``

    @property
    def first_check(self) -> str:
        return self.gate or self.least


def p(rest: str) -> Callable[[dict[str, Any]], str]:
    return lambda ids: f"/projects/{ids['slug']}{rest.format(**ids)}"


OPS = [
    Op("project", "GET", p("")),
    Op("articles", "GET", p("/articles")),
    Op("article", "GET", p("/articles/{article}")),
    Op("article claims", "GET", p("/articles/{article}/claims")),
    Op("article consensus", "GET", p("/articles/{article}/consensus")),
    Op("project consensus", "GET", p("/consensus")),
    Op("claim", "GET", p("/claims/{claim}")),
    Op("team verdicts", "GET", p("/claims/{claim}/verdicts")),
    Op("my verdict", "GET", p("/claims/{claim}/verdicts/mine")),
    Op("my verdicts", "GET", p("/verdicts/mine")),
    Op("adjudication", "GET", p("/claims/{claim}/adjudication")),
    Op("evidence", "GET", p("/claims/{claim}/evidence")),
    Op("history", "GET", p("/claims/{claim}/history")),
    Op(
        "set verdict",
        "PUT",
        p("/claims/{claim}/verdicts/mine"),
        lambda ids: {"status": "supported"},
        least="analyst",
        if_match=0,
    ),
    Op(
        "clear verdict",
        "DELETE",
        p("/claims/{confirmed}/verdicts/mine"),
        least="analyst",
        if_match=1,  # each person's own verdict there (worlds)
    ),
    Op(
        "adjudicate",
        "PUT",
        p("/claims/{claim}/adjudication"),
        lambda ids: {"status": "disputed", "rationale": "Checked."},
        least="reviewer",
        if_match=0,
    ),
    Op(
        "withdraw adjudication",
        "DELETE",
        p("/claims/{claim}/adjudication"),
        least="reviewer",
        if_match=0,
    ),
    Op(
        "add evidence",
        "POST",
        p("/claims/{claim}/evidence"),
        lambda ids: {"url": "https://example.org/x", "stance": "supports"},
        least="analyst",
        ok=(201,),
    ),
    Op(
        "remove someone else's evidence",
        "DELETE",
        p("/evidence/{evidence}"),
        least="admin",
        gate="analyst",  # analysts may remove their own: ownership is checked on the row
    ),
    Op(
        "correct span",
        "POST",
        p("/claims/{claim}/span"),
        lambda ids: {"start": ids["start"], "end": ids["end"] - 1},
        least="reviewer",
        if_match=1,
    ),
    Op(
        "split claim",
        "POST",
        p("/claims/{claim}/split"),
        lambda ids: {"at": ids["split_at"]},
        least="reviewer",
        if_match=1,
    ),
    Op("merge claims", "POST", p("/claims/{claim}/merge"), least="reviewer", if_match=1),
    Op(
        "import an article",
        "POST",
        p("/articles"),
        lambda ids: {"text": IMPORT_TEXT, "published_on": "2024-01-01"},
        least="admin",
        ok=(201,),
    ),
    Op(
        "audit export",
        "POST",
        p("/audit/exports"),
        lambda ids: {"format": "csv"},
        least="reviewer",
    ),
]


@pytest.fixture
def apis(worlds: Any) -> dict[str, Api]:
    mine, _theirs, people = worlds
    found = {}
    for role in ROLES:
        if role == "outsider":
            own = Project.create("outsiders-own", "Own", admin=people[role])
            found[role] = Api(issue(people[role], own))
        else:
            found[role] = Api(issue(people[role], mine["project"]))
    return found


def with_spans(ids: dict[str, Any]) -> dict[str, Any]:
    from claims.models import Claim

    claim = Claim.all_objects.get(pk=ids["claim"])
    return {**ids, "start": claim.start, "end": claim.end}


def send(api: Api, op: Op, ids: dict[str, Any]) -> Any:
    ids = with_spans(ids)
    return api.call(op.method, op.path(ids), op.body(ids), if_match=op.if_match)


CASES = [(role, op) for op in OPS for role in ROLES]


@pytest.mark.parametrize(("role", "op"), CASES, ids=[f"{role}-{op.name}" for role, op in CASES])
def test_role_and_operation_in_own_project(worlds: Any, apis: Any, role: str, op: Op) -> None:
    mine, _theirs, _people = worlds
    before = fingerprint()
    response = send(apis[role], op, mine)
    if role == "outsider":
        expected: tuple[int, ...] = (404,)
    elif RANK[role] < RANK[op.least]:
        expected = (403,)
    else:
        expected = op.ok
    assert response.status_code in expected, response.content[:300]
    if response.status_code >= 400 or op.method == "GET":
        assert fingerprint() == before


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_another_projects_ids_are_404_for_every_role(worlds: Any, apis: Any, op: Op) -> None:
    mine, theirs, _people = worlds
    crossed = {**theirs, "slug": mine["slug"]}
    for role in ROLES:
        before = fingerprint()
        for ids in (crossed, theirs):
            if ids is crossed and op.path(crossed) == op.path(mine):
                continue  # the operation takes no id besides the slug
            response = send(apis[role], op, ids)
            too_low = ids is crossed and role != "outsider" and RANK[role] < RANK[op.first_check]
            expected = 403 if too_low else 404
            assert response.status_code == expected, (role, op.name, ids["slug"])
        assert fingerprint() == before


def test_no_token_is_401_for_every_operation(worlds: Any) -> None:
    mine, _theirs, _people = worlds
    before = fingerprint()
    for op in OPS:
        assert send(Api(), op, mine).status_code == 401, op.name
    assert fingerprint() == before


def test_a_session_reads_as_its_member_and_never_writes(worlds: Any) -> None:
    mine, _theirs, people = worlds
    before = fingerprint()
    for role in ROLES:
        client = Client()
        client.force_login(people[role])
        api = Api(client=client)
        for op in OPS:
            response = send(api, op, mine)
            if op.method != "GET":
                assert response.status_code == 401, (role, op.name)
            elif role == "outsider":
                assert response.status_code == 404, (role, op.name)
            else:
                assert response.status_code == 200, (role, op.name)
    assert fingerprint() == before


# The token pages ---------------------------------------------------------------------------


def someone_elses_token(ids: dict[str, Any]) -> int:
    project = ids["project"]
    owner = project.memberships.filter(role=Role.ADMIN).order_by("pk").first().user
    if not ApiToken.objects.filter(project=project, owner=owner, name="owner's").exists():
        ApiToken.issue(Member.of(project, owner), name="owner's", role=Role.VIEWER, days=1)
    return ApiToken.objects.get(project=project, owner=owner, name="owner's").pk


PAGES = [
    PageAction("token page", "GET", lambda i: reverse("token-list", args=[i["slug"]])),
    PageAction(
        "create a token",
        "POST",
        lambda i: reverse("token-list", args=[i["slug"]]),
        lambda i: {"name": "mine", "role": "viewer", "days": "7"},
        ok=(302,),
    ),
    PageAction(
        "revoke someone else's token",
        "POST",
        lambda i: reverse("token-revoke", args=[i["slug"], someone_elses_token(i)]),
        least="admin",
        ok=(302,),
        gate="viewer",
    ),
]
PAGE_CASES = [(role, action) for action in PAGES for role in ROLES]


@pytest.mark.parametrize(
    ("role", "action"), PAGE_CASES, ids=[f"{role}-{a.name}" for role, a in PAGE_CASES]
)
def test_token_pages_by_role(worlds: Any, role: str, action: PageAction) -> None:
    mine, _theirs, people = worlds
    client = Client()
    client.force_login(people[role])
    url = action.url(mine)  # makes the token to revoke, before the fingerprint
    before = fingerprint(), list(ApiToken.objects.values_list("pk", "revoked_at"))
    response = client.get(url) if action.method == "GET" else client.post(url, action.data(mine))
    if role == "outsider":
        expected: tuple[int, ...] = (404,)
    elif RANK[role] < RANK[action.least]:
        expected = (403,)
    else:
        expected = action.ok
    assert response.status_code in expected
    if response.status_code in (403, 404) or action.method == "GET":
        assert (fingerprint(), list(ApiToken.objects.values_list("pk", "revoked_at"))) == before


def test_another_projects_token_is_404_to_revoke(worlds: Any) -> None:
    mine, theirs, people = worlds
    foreign = someone_elses_token(theirs)
    client = Client()
    client.force_login(people["admin"])
    response = client.post(reverse("token-revoke", args=[mine["slug"], foreign]))
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=foreign).revoked_at is None
