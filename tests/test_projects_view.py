"""People and projects in the browser: a site administrator creates a project; a project's
admins invite new people with a one-time set-password link and see who did what last."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.models import AuditEvent, Membership, Project, Role
from tests.base import HTMX_HEADERS as HTMX
from tests.base import client_for, html
from tests.factories import add_member, make_article, make_user

CREATE = reverse("project-create")
MEMBERS = reverse("project-members", args=["demo"])
INVITE = reverse("member-invite", args=["demo"])
LINK = re.compile(r"http://testserver(/set-password/[^/]+/[^/]+/)")


def state() -> tuple[list[Any], list[Any], list[str], int]:
    """Everything creating a project or inviting someone may change."""
    return (
        list(Project.objects.order_by("slug").values_list("slug", "name", "blind", "min_verdicts")),
        list(Membership.objects.order_by("pk").values_list("project__slug", "user__username")),
        list(get_user_model().objects.order_by("username").values_list("username", flat=True)),
        AuditEvent.objects.count(),
    )


def only_new_event(before: int) -> dict[str, Any]:
    """The one event written since there were ``before``, as its body."""
    assert AuditEvent.objects.count() == before + 1
    return json.loads(AuditEvent.objects.order_by("pk").last().body)


def site_admin(username: str = "sam") -> Any:
    """Someone given the permission to create projects (not a superuser)."""
    user = make_user(username)
    user.user_permissions.add(Permission.objects.get(codename="add_project"))
    return get_user_model().objects.get(pk=user.pk)  # permissions are cached per object


def new_project(**changes: str) -> dict[str, str]:
    return {"name": "Research desk", "slug": "desk", "min_verdicts": "3", "blind": "on"} | changes


# Creating a project -------------------------------------------------------------------------


def test_a_site_administrator_creates_a_project_and_becomes_its_admin(db: Any) -> None:
    sam = site_admin()
    before = AuditEvent.objects.count()
    response = client_for(sam).post(CREATE, new_project())
    assert response.status_code == 302
    assert response["Location"] == reverse("project-members", args=["desk"])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Created Research desk. Add or invite its members here."
    ]
    project = Project.objects.get(slug="desk")
    assert (project.name, project.blind, project.min_verdicts) == ("Research desk", True, 3)
    assert project.role_of(sam) == Role.ADMIN
    event = only_new_event(before)
    assert (event["action"], event["actor"], event["project"]) == ("project.created", "sam", "desk")
    assert event["after"] == {
        "name": "Research desk",
        "blind": True,
        "min_verdicts": 3,
        "admin": "sam",
    }


def test_an_unticked_blind_box_makes_an_open_project(db: Any) -> None:
    data = new_project(min_verdicts="2")
    del data["blind"]
    client_for(site_admin()).post(CREATE, data)
    assert Project.objects.get(slug="desk").blind is False


def test_a_superuser_may_create_projects(db: Any) -> None:
    root = get_user_model().objects.create_superuser("root", password="root-pw")
    assert client_for(root).post(CREATE, new_project()).status_code == 302
    assert Project.objects.get(slug="desk").role_of(root) == Role.ADMIN


def test_the_form_shows_its_fields_to_a_site_administrator(db: Any) -> None:
    response = client_for(site_admin()).get(CREATE)
    assert response.status_code == 200
    page = html(response.content.decode())
    names = {node.attrs["name"] for node in page.select("input") if node.attrs.get("name")}
    assert names == {"csrfmiddlewaretoken", "name", "slug", "blind", "min_verdicts"}
    (minimum,) = page.select("input", name="min_verdicts")
    assert (minimum.attrs["min"], minimum.attrs["value"]) == ("1", "2")


def test_only_site_administrators_see_the_new_project_link(project: Any, alice: Any) -> None:
    link = f'href="{CREATE}"'
    assert link not in client_for(alice).get(reverse("project-list")).content.decode()
    assert link in client_for(site_admin()).get(reverse("project-list")).content.decode()


@pytest.mark.parametrize("who", ["alice", "bob", "victor", "mallory"])
def test_anyone_else_gets_403_and_nothing_is_created(project: Any, who: str, request: Any) -> None:
    """Being a project's admin is not enough: creating projects is the site's to grant."""
    client = client_for(request.getfixturevalue(who))
    before = state()
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, new_project()).status_code == 403
    assert state() == before


def test_anonymous_visitors_are_sent_to_log_in(db: Any) -> None:
    before = state()
    for response in (Client().get(CREATE), Client().post(CREATE, new_project())):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert state() == before


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_method_gets_405(db: Any, method: str) -> None:
    assert getattr(client_for(site_admin()), method)(CREATE).status_code == 405


BAD_PROJECTS = [
    pytest.param(
        new_project(slug="demo"),
        "slug",
        "A project with this short name exists already; choose another.",
        id="slug-taken",
    ),
    pytest.param(
        new_project(slug="no spaces!"),
        "slug",
        "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
        id="slug-characters",
    ),
    pytest.param(new_project(slug=""), "slug", "This field is required.", id="no-slug"),
    pytest.param(new_project(name="  "), "name", "This field is required.", id="blank-name"),
    pytest.param(
        new_project(min_verdicts="0"),
        "min_verdicts",
        "Ensure this value is greater than or equal to 1.",
        id="min-verdicts-zero",
    ),
    pytest.param(
        new_project(min_verdicts="many"), "min_verdicts", "Enter a whole number.", id="not-a-number"
    ),
    pytest.param(
        new_project(name="x" * 201),
        "name",
        "Ensure this value has at most 200 characters (it has 201).",
        id="name-too-long",
    ),
]


@pytest.mark.parametrize(("data", "field", "message"), BAD_PROJECTS)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    project: Any, data: dict[str, str], field: str, message: str
) -> None:
    client = client_for(site_admin())
    before = state()
    response = client.post(CREATE, data)
    assert response.status_code == 422
    page = html(response.content.decode())
    (error,) = page.select("span", id=f"id_{field}_error")
    assert error.content() == message
    assert "Nothing was created" in page.content()
    assert state() == before


def test_a_slug_taken_between_the_form_and_the_write_is_refused(
    project: Any, monkeypatch: Any
) -> None:
    """Two administrators racing for one short name: the loser gets the form back."""
    monkeypatch.setattr("claims.forms.ProjectForm.validate_unique", lambda self: None)
    client = client_for(site_admin())
    before = state()
    response = client.post(CREATE, new_project(slug="demo"))
    assert response.status_code == 422
    assert "exists already" in response.content.decode()
    assert state() == before


# Inviting someone new --------------------------------------------------------------------


def invite(username: str = "erin", role: str = "analyst") -> dict[str, str]:
    return {"invite-username": username, "invite-role": role}


def test_an_admin_invites_someone_and_sees_the_link_once(project: Any, alice: Any) -> None:
    before = AuditEvent.objects.count()
    client = client_for(alice)
    response = client.post(INVITE, invite(role="reviewer"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Invited erin as reviewer." in content
    (code,) = html(content).select("code", id="invite-link")
    assert LINK.fullmatch(code.content())
    assert "no-store" in response["Cache-Control"]
    erin = get_user_model().objects.get(username="erin")
    assert not erin.has_usable_password()
    assert project.role_of(erin) == Role.REVIEWER
    event = only_new_event(before)
    assert (event["action"], event["actor"]) == ("member.added", "alice")
    assert event["after"] == {"user": "erin", "role": "reviewer"}
    # Shown in this answer only: not kept for a later page, nor in the session.
    assert list(get_messages(response.wsgi_request)) == []
    token = code.content().rstrip("/").rsplit("/", 1)[-1]
    assert token not in json.dumps(dict(client.session.items()))
    later = client.get(MEMBERS).content.decode()
    assert token not in later and "invite-link" not in later
    names = [" ".join(th.content().split()) for th in html(later).select("th", scope="row")]
    assert "erin (invited; no password yet)" in names and "bob" in names


def test_the_link_sets_a_password_once_and_the_person_logs_in(project: Any, alice: Any) -> None:
    content = client_for(alice).post(INVITE, invite()).content.decode()
    path = LINK.search(content).group(1)  # type: ignore[union-attr]
    person = Client()
    form = person.get(path, follow=True)
    assert "Set your password" in form.content.decode()
    data = {"new_password1": "a long passphrase 42", "new_password2": "a long passphrase 42"}
    assert person.post(form.redirect_chain[-1][0], data).status_code == 302
    again = Client().get(path, follow=True).content.decode()
    assert "This link is invalid" in again
    login = {"username": "erin", "password": "a long passphrase 42"}
    assert person.post(reverse("login"), login).status_code == 302
    assert person.get(MEMBERS).status_code == 200


def test_inviting_under_htmx_returns_the_table_with_the_link(project: Any, alice: Any) -> None:
    response = client_for(alice).post(INVITE, invite(), headers=HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Trigger"] == "members-changed"
    assert content.lstrip().startswith('<div id="members-table">')
    assert "<html" not in content
    assert LINK.search(content)
    assert "erin" in [th.content().split()[0] for th in html(content).select("th", scope="row")]


BAD_INVITES = [
    pytest.param(
        invite("bob"),
        "There is already an account named 'bob'; add them under 'Add a member' instead.",
        id="member-already",
    ),
    pytest.param(
        invite("Mallory"),
        "There is already an account named 'Mallory'; add them under 'Add a member' instead.",
        id="account-elsewhere-other-case",
    ),
    pytest.param(
        invite("erin smith"),
        "Enter a valid username. This value may contain only letters, numbers, and "
        "@/./+/-/_ characters.",
        id="bad-characters",
    ),
    pytest.param(invite(""), "Give the new account a username.", id="no-username"),
    pytest.param(
        invite("erin", "owner"), "'owner' is not a role; choose one from the list.", id="bad-role"
    ),
    pytest.param(
        invite("e" * 151),
        "Ensure this value has at most 150 characters (it has 151).",
        id="too-long",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_INVITES)
def test_a_bad_invitation_says_why_and_changes_nothing(
    project: Any, alice: Any, mallory: Any, data: dict[str, str], message: str
) -> None:
    before = state()
    response = client_for(alice).post(INVITE, data, headers=HTMX)
    assert response.status_code == 422
    content = response.content.decode()
    errors = [node.content() for node in html(content).select("span", class_="error")]
    assert errors == [message]
    assert "Nobody was invited" in content
    assert not LINK.search(content)
    assert state() == before


def test_a_name_taken_meanwhile_is_refused(project: Any, alice: Any, monkeypatch: Any) -> None:
    """Two admins inviting the same new name at once: one account, one event."""
    monkeypatch.setattr("claims.forms.InviteForm.clean_username", lambda self: "bob")
    before = state()
    response = client_for(alice).post(INVITE, invite("bob"))
    assert response.status_code == 422
    assert "There is already an account named &#x27;bob&#x27;." in response.content.decode()
    assert state() == before


@pytest.mark.parametrize("who", ["bob", "rita", "victor"])
def test_members_below_admin_get_403_and_nothing_changes(
    project: Any, who: str, request: Any
) -> None:
    before = state()
    response = client_for(request.getfixturevalue(who)).post(INVITE, invite())
    assert response.status_code == 403
    assert state() == before


def test_outsiders_get_404_and_anonymous_visitors_log_in(project: Any, mallory: Any) -> None:
    before = state()
    assert client_for(mallory).post(INVITE, invite()).status_code == 404
    response = Client().post(INVITE, invite())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert state() == before


def test_inviting_takes_a_post(project: Any, alice: Any) -> None:
    assert client_for(alice).get(INVITE).status_code == 405


# Who did what last, and deactivating ------------------------------------------------------


def test_admins_see_each_members_latest_activity(project: Any, alice: Any, bob: Any) -> None:
    claim = make_article(project, actor=alice).claims.order_by("start").first()
    claim.set_verdict(bob, "supported")
    claim.set_verdict(bob, "disputed", expected_version=1)
    page = html(client_for(alice).get(MEMBERS).content.decode())
    rows = {
        row.select("th", scope="row")[0].content().split()[0]: row for row in page.select("tr")[1:]
    }
    bob_cells = [td.content() for td in rows["bob"].select("td")]
    assert bob_cells[1].startswith("changed their verdict from supported to disputed")
    assert bob_cells[1].strip().endswith("just now")  # within the minute
    (link,) = rows["bob"].select("a")
    assert link.attrs["href"] == reverse("project-activity", args=["demo"]) + "?actor=bob"
    assert "imported" in [td.content() for td in rows["alice"].select("td")][1]
    assert "nothing yet" in [td.content() for td in rows["carol"].select("td")][1]


def test_others_do_not_see_the_activity_column(project: Any, alice: Any, bob: Any) -> None:
    """In a blind project the latest event may be someone's verdict."""
    make_article(project, actor=alice).claims.first().set_verdict(bob, "supported")
    content = client_for(victor_of(project)).get(MEMBERS).content.decode()
    assert "Last activity" not in content and "their verdict" not in content


def victor_of(project: Project) -> Any:
    return project.memberships.get(role=Role.VIEWER).user


@pytest.mark.parametrize("extra", [0, 5])
def test_the_activity_column_costs_no_query(project: Any, alice: Any, extra: int) -> None:
    article = make_article(project, actor=alice)
    for i in range(extra):
        analyst = make_user(f"extra{i}")
        add_member(project, analyst, Role.ANALYST)
        article.claims.first().set_verdict(analyst, "supported")
    client = client_for(alice)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(MEMBERS).status_code == 200
    assert len(queries) == 4  # session, user, membership with project, members with activity


def test_the_page_says_what_removing_someone_keeps(project: Any, alice: Any) -> None:
    page = html(client_for(alice).get(MEMBERS).content.decode())
    (note,) = page.select("p", id="removing")
    assert "everything they did stays" in note.content()
    (remove,) = page.select("button", aria_label="Remove bob")
    form = next(f for f in page.select("form") if remove in f.find(lambda n: n is remove))
    assert "their verdicts, evidence and history stay" in form.attrs["hx-confirm"]
