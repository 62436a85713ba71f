"""People and projects in the browser: a site administrator creates a project and invites
someone, who sets a password through the one-time link and logs in."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from playwright.sync_api import Browser, Page, expect

from claims.models import AuditEvent, Project, Role
from tests.browser.conftest import VIEWPORT
from tests.browser.screens import settled
from tests.factories import make_user

PASSPHRASE = "a long passphrase 42"


@pytest.mark.browser
def test_admin_creates_a_project_and_invites_someone_who_sets_a_password(
    login_as: Callable[[Any], Page],
    screenshot: Callable[[Page], Path],
    browser: Browser,
    live_server: Any,
) -> None:
    sam = make_user("sam")
    sam.user_permissions.add(Permission.objects.get(codename="add_project"))
    page = login_as(sam)

    page.get_by_role("link", name="New project").click()
    expect(page).to_have_url(re.compile(r"/projects/new/$"))
    page.get_by_label("Name", exact=True).fill("Research desk")
    page.get_by_label("Short name (in its address)").fill("desk")
    page.get_by_label("Blind review").check()
    page.get_by_label("Minimum verdicts").fill("3")
    page.get_by_role("button", name="Create project").click()

    expect(page).to_have_url(re.compile(r"/p/desk/members/$"))
    expect(page.locator("ul.messages")).to_have_text(
        "Created Research desk. Add or invite its members here."
    )
    project = Project.objects.get(slug="desk")
    assert (project.blind, project.min_verdicts, project.role_of(sam)) == (True, 3, Role.ADMIN)

    invite = page.locator("form[aria-labelledby=invite-member-h]")
    invite.get_by_label("Username").fill("erin")
    invite.get_by_label("Role").select_option("analyst")
    settled(page)
    invite.get_by_role("button", name="Invite").click()
    expect(page.locator("#members-table [role=status]")).to_have_text("Invited erin as analyst.")
    expect(page.locator("#members-table th[scope=row]").nth(0)).to_contain_text(
        "erin (invited; no password yet)"
    )
    link = page.locator("#invite-link").inner_text()
    assert link.startswith(live_server.url + "/set-password/")
    screenshot(page)
    page.reload()  # the link was in that answer only
    expect(page.locator("#invite-link")).to_have_count(0)

    # erin, in a browser of her own, follows the link, sets a password and logs in.
    erins = browser.new_context(base_url=live_server.url, viewport=VIEWPORT).new_page()
    try:
        erins.goto(link)
        expect(erins.get_by_role("heading", name="Set your password")).to_be_visible()
        erins.get_by_label("New password", exact=True).fill(PASSPHRASE)
        erins.get_by_label("New password confirmation").fill(PASSPHRASE)
        erins.get_by_role("button", name="Set password").click()
        expect(erins.get_by_role("heading", name="Password set")).to_be_visible()
        erins.get_by_role("link", name="Log in").click()
        erins.fill("#id_username", "erin")
        erins.fill("#id_password", PASSPHRASE)
        erins.click("button[type=submit]")
        expect(erins.locator("header.site .who")).to_have_text("erin")
        erins.get_by_role("link", name="Research desk").click()
        expect(erins.locator("h1")).to_have_text("Research desk")
        expect(erins.locator("main")).to_contain_text("You are analyst here.")

        erins.goto(link)  # once only
        expect(erins.get_by_role("alert")).to_contain_text("This link is invalid")
    finally:
        erins.context.close()

    erin = get_user_model().objects.get(username="erin")
    assert erin.has_usable_password() and project.role_of(erin) == Role.ANALYST
    events = AuditEvent.objects.filter(chain__project=project).order_by("seq")
    assert list(events.values_list("action", "actor__username")) == [
        ("project.created", "sam"),
        ("member.added", "sam"),
    ]
