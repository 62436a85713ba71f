"""The members page: every member sees who is in the project; admins change it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from claims.models import AuditEvent, Membership, Project, Role
from claims.templatetags.claims_tags import ago
from tests.base import HTMX_HEADERS as HTMX
from tests.base import client_for, html
from tests.factories import add_member, make_user

URL = reverse("project-members", args=["demo"])


def snapshot() -> tuple[list[tuple[str, str]], int]:
    members = Membership.objects.order_by("user__username").values_list("user__username", "role")
    return list(members), AuditEvent.objects.count()


def new_event(before: int) -> dict[str, Any]:
    """The one event written since ``before`` events, as its body."""
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("seq")
    return {"action": event.action, **json.loads(event.body)}


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def row_headers(content: str) -> list[str]:
    """The member named at the head of each row of the members table."""
    return [th.content().split()[0] for th in html(content).select("th", scope="row")]


def add(username: str, role: str = "analyst") -> dict[str, str]:
    return {"action": "add", "username": username, "role": role}


# Seeing the members ------------------------------------------------------------------


def test_any_member_sees_the_members_and_their_roles(project: Any, victor: Any) -> None:
    response = client_for(victor).get(URL)
    content = response.content.decode()
    assert response.status_code == 200
    for name in ("alice", "bob", "carol", "rita", "victor"):
        assert name in row_headers(content)
    assert "<td>Reviewer</td>" in content
    assert 'name="action"' not in content  # no controls for a viewer


def test_last_activity_says_how_long_ago(project: Any, claim: Any, alice: Any, bob: Any) -> None:
    claim.set_verdict(bob, "supported")
    page = html(client_for(alice).get(URL))
    (row,) = [tr for tr in page.select("tr") if tr.content().split()[:1] == ["bob"]]
    (when,) = row.select("time")
    assert when.content() == "just now"  # not "0 minutes ago"
    now = timezone.now()
    assert ago(now - dt.timedelta(seconds=59)) == "just now"
    assert ago(now - dt.timedelta(minutes=3, seconds=5)) == "3\xa0minutes ago"
    assert ago(now - dt.timedelta(days=2, hours=1)) == "2\xa0days ago"


def test_admin_sees_the_controls(project: Any, alice: Any) -> None:
    content = client_for(alice).get(URL).content.decode()
    assert 'aria-label="Role for bob"' in content
    assert 'aria-label="Remove bob"' in content
    assert "Add a member" in content
    assert 'hx-target="#members-table"' in content and f'action="{URL}"' in content
    assert "<script>" not in content and "style=" not in content


def test_outsider_gets_404(project: Any, mallory: Any) -> None:
    client = client_for(mallory)
    before = snapshot()
    assert client.get(URL).status_code == 404
    assert client.post(URL, add("mallory", "admin")).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("who", ["bob", "rita", "victor"])
def test_members_below_admin_who_post_get_403(project: Any, who: str, request: Any) -> None:
    client = client_for(request.getfixturevalue(who))
    before = snapshot()
    assert client.post(URL, add("mallory")).status_code == 403
    data = {"action": "role", "username": who, "role": "admin"}
    assert client.post(URL, data, headers=HTMX).status_code == 403
    assert client.post(URL, {"action": "remove", "username": "alice"}).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_method_gets_405(project: Any, alice: Any, method: str) -> None:
    assert getattr(client_for(alice), method)(URL).status_code == 405


@pytest.mark.parametrize("extra", [0, 6])
def test_members_page_query_count_does_not_grow(project: Any, alice: Any, extra: int) -> None:
    for i in range(extra):
        add_member(project, make_user(f"extra{i}"), Role.ANALYST)
    client = client_for(alice)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    assert len(queries) == 4  # session, user, membership with project, members


# Adding ------------------------------------------------------------------------------


def test_admin_adds_a_member_and_is_redirected(project: Any, alice: Any, mallory: Any) -> None:
    before = AuditEvent.objects.count()
    response = client_for(alice).post(URL, add("mallory", "reviewer"))
    assert response.status_code in (302, 303)
    assert response["Location"] == URL
    assert messages_of(response) == ["Added mallory as reviewer."]
    assert project.role_of(mallory) == Role.REVIEWER
    event = new_event(before)
    assert event["action"] == "member.added"
    assert event["actor"] == "alice"
    assert event["before"] is None
    assert event["after"] == {"user": "mallory", "role": "reviewer"}


def test_adding_under_htmx_returns_the_table_and_triggers_members_changed(
    project: Any, alice: Any, mallory: Any
) -> None:
    response = client_for(alice).post(URL, add("mallory"), headers=HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Trigger"] == "members-changed"
    assert content.lstrip().startswith('<div id="members-table">')
    assert "<html" not in content
    assert "mallory" in row_headers(content)
    assert "Added mallory as analyst." in content
    assert list(get_messages(response.wsgi_request)) == []  # said in the fragment instead


# Changing a role -------------------------------------------------------------------


def test_admin_changes_a_role(project: Any, alice: Any, bob: Any) -> None:
    before = AuditEvent.objects.count()
    data = {"action": "role", "username": "bob", "role": "reviewer"}
    response = client_for(alice).post(URL, data)
    assert response["Location"] == URL
    assert messages_of(response) == ["bob is now reviewer."]
    assert project.role_of(bob) == Role.REVIEWER
    event = new_event(before)
    assert event["action"] == "member.role_changed"
    assert event["before"] == {"user": "bob", "role": "analyst"}
    assert event["after"] == {"user": "bob", "role": "reviewer"}


def test_changing_a_role_under_htmx_returns_the_table(project: Any, alice: Any) -> None:
    data = {"action": "role", "username": "victor", "role": "analyst"}
    response = client_for(alice).post(URL, data, headers=HTMX)
    content = response.content.decode()
    assert response["HX-Trigger"] == "members-changed"
    assert content.lstrip().startswith('<div id="members-table">')
    assert "victor is now analyst." in content


def test_choosing_the_same_role_writes_nothing(project: Any, alice: Any) -> None:
    before = snapshot()
    data = {"action": "role", "username": "bob", "role": "analyst"}
    response = client_for(alice).post(URL, data)
    assert messages_of(response) == ["bob is already analyst; nothing changed."]
    assert snapshot() == before


def test_an_admin_who_steps_down_loses_the_controls(project: Any, alice: Any, bob: Any) -> None:
    project.set_member(bob, Role.ADMIN, actor=alice)
    data = {"action": "role", "username": "alice", "role": "viewer"}
    response = client_for(alice).post(URL, data, headers=HTMX)
    assert "alice is now viewer." in response.content.decode()
    assert 'name="action"' not in response.content.decode()


# Removing --------------------------------------------------------------------------


def test_admin_removes_a_member(project: Any, alice: Any, victor: Any) -> None:
    before = AuditEvent.objects.count()
    response = client_for(alice).post(URL, {"action": "remove", "username": "victor"})
    assert response["Location"] == URL
    assert messages_of(response) == ["Removed victor from Demo project."]
    assert project.role_of(victor) is None
    event = new_event(before)
    assert event["action"] == "member.removed"
    assert event["before"] == {"user": "victor", "role": "viewer"}
    assert event["target"] == {"type": "membership", "user": "victor"}


def test_removing_under_htmx_returns_the_table(project: Any, alice: Any) -> None:
    data = {"action": "remove", "username": "victor"}
    response = client_for(alice).post(URL, data, headers=HTMX)
    content = response.content.decode()
    assert response["HX-Trigger"] == "members-changed"
    assert content.lstrip().startswith('<div id="members-table">')
    assert "victor" not in row_headers(content)


def test_an_admin_who_removes_themselves_goes_to_the_project_list(
    project: Any, alice: Any, bob: Any
) -> None:
    project.set_member(bob, Role.ADMIN, actor=alice)
    client = client_for(alice)
    response = client.post(URL, {"action": "remove", "username": "alice"})
    assert response["Location"] == reverse("project-list")
    project.set_member(alice, Role.ADMIN, actor=bob)
    response = client.post(URL, {"action": "remove", "username": "alice"}, headers=HTMX)
    assert response["HX-Redirect"] == reverse("project-list")


# Refusals: said plainly, nothing written -------------------------------------------------


REFUSED = [
    pytest.param(add("nobody"), "There is no user named 'nobody'.", id="unknown-user"),
    pytest.param(add(""), "This field is required.", id="no-username"),
    pytest.param(
        add("mallory", "owner"), "'owner' is not a role; choose one from the list.", id="bad-role"
    ),
    pytest.param(
        add("bob", "viewer"),
        "bob is already a member (analyst); change their role in the table instead.",
        id="already-a-member",
    ),
    pytest.param(
        {"action": "role", "username": "bob", "role": "owner"},
        "'owner' is not a role; choose one from the list.",
        id="bad-role-change",
    ),
    pytest.param({"action": "role", "username": "bob", "role": ""}, "Choose a role.", id="no-role"),
    pytest.param(
        {"action": "role", "username": "alice", "role": "analyst"},
        "A project must keep at least one admin.",
        id="demote-last-admin",
    ),
    pytest.param(
        {"action": "remove", "username": "alice"},
        "A project must keep at least one admin.",
        id="remove-last-admin",
    ),
    pytest.param(
        {"action": "remove", "username": "mallory"},
        "mallory is not a member of this project.",
        id="remove-non-member",
    ),
    pytest.param(
        {"action": "role", "username": "mallory", "role": "admin"},
        "mallory is not a member of this project.",
        id="re-role-non-member",
    ),
    # An account elsewhere on the site and no account at all get the same answer.
    pytest.param(
        {"action": "remove", "username": "ghost"},
        "ghost is not a member of this project.",
        id="remove-unknown-user",
    ),
    pytest.param(
        {"action": "role", "username": "ghost", "role": "admin"},
        "ghost is not a member of this project.",
        id="re-role-unknown-user",
    ),
    pytest.param(
        {"action": "promote", "username": "bob"},
        "Select a valid choice. promote is not one of the available choices.",
        id="unknown-action",
    ),
]


@pytest.mark.parametrize(("data", "message"), REFUSED)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_refusals_are_told_plainly_and_write_nothing(
    project: Any, alice: Any, mallory: Any, data: dict[str, str], message: str, htmx: bool
) -> None:
    before = snapshot()
    response = client_for(alice).post(URL, data, headers=HTMX if htmx else {})
    content = response.content.decode()
    assert response.status_code == 200
    assert escape(message) in content
    assert "HX-Trigger" not in response
    assert content.lstrip().startswith('<div id="members-table">') == htmx
    assert snapshot() == before


def test_a_failed_add_keeps_what_was_typed(project: Any, alice: Any) -> None:
    response = client_for(alice).post(URL, add("nobody", "reviewer"))
    content = response.content.decode()
    assert 'value="nobody"' in content
    assert html(content).select("option", value="reviewer", selected=True)
    assert html(content).select("input", name="username", aria_describedby="id_username_error")


def test_removing_someone_removed_meanwhile_is_a_conflict(
    project: Any, alice: Any, mallory: Any, monkeypatch: Any
) -> None:
    # The page was loaded while mallory was a member; another admin removed her since.
    monkeypatch.setattr(Project, "role_of", lambda self, user: Role.VIEWER)
    before = snapshot()
    response = client_for(alice).post(URL, {"action": "remove", "username": "mallory"})
    assert response.status_code == 200
    assert "mallory is not a member any more." in response.content.decode()
    assert snapshot() == before
