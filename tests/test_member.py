"""Who is asking: roles compared in one place, ``Member``, and the verbs taking one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.models import AuditEvent, Member, Project, Role, Verdict
from tests.factories import make_project


def last_event() -> dict[str, Any]:
    return json.loads(AuditEvent.objects.latest("seq").body)


def test_each_role_is_at_least_itself_and_those_before_it() -> None:
    order = [Role.VIEWER, Role.ANALYST, Role.REVIEWER, Role.ADMIN]
    for i, role in enumerate(order):
        assert [role.at_least(other) for other in order] == [j <= i for j in range(len(order))]
    assert Role.REVIEWER.at_least("analyst")


@pytest.mark.parametrize(
    ("blind", "role", "sees"),
    [
        (False, Role.VIEWER, True),
        (False, Role.ANALYST, True),
        (True, Role.VIEWER, False),
        (True, Role.ANALYST, False),
        (True, Role.REVIEWER, True),
        (True, Role.ADMIN, True),
    ],
)
def test_blind_projects_show_everything_to_reviewers_and_admins_only(
    project: Project, bob: Any, blind: bool, role: Role, sees: bool
) -> None:
    project.blind = blind
    assert Member(bob, project, role).sees_everything is sees


def test_template_flags_follow_the_role(project: Project, bob: Any) -> None:
    flags = [
        (Member(bob, project, role).at_least_reviewer, Member(bob, project, role).is_admin)
        for role in Role
    ]
    assert flags == [(False, False), (False, False), (True, False), (True, True)]


def test_member_of_reads_the_role_and_is_none_for_outsiders(
    project: Project, rita: Any, mallory: Any
) -> None:
    assert Member.of(project, rita) == Member(rita, project, Role.REVIEWER)
    assert Member.of(project, mallory) is None


def queries(action: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


def test_a_verb_given_a_member_reads_no_role(article: Any, bob: Any) -> None:
    project = article.project
    first, second = article.claims.order_by("start")[:2]
    as_user = queries(lambda: first.set_verdict(bob, "supported"))
    as_member = queries(lambda: second.set_verdict(Member(bob, project, Role.ANALYST), "supported"))
    assert as_member == as_user - 1  # the role, which the member carries
    assert Verdict.objects.get(claim=second, analyst=bob).status == "supported"
    assert last_event()["actor"] == "bob"


def test_a_verb_refuses_a_member_below_the_role(claim: Any, victor: Any, rita: Any) -> None:
    project = claim.article.project
    with pytest.raises(PermissionDenied, match="analyst role"):
        claim.set_verdict(Member(victor, project, Role.VIEWER), "supported")
    with pytest.raises(PermissionDenied, match="reviewer role"):
        claim.adjudicate(Member(rita, project, Role.ANALYST), "supported", rationale="No.")
    assert not Verdict.objects.filter(claim=claim).exists()


def test_a_verb_refuses_a_member_of_another_project(claim: Any, bob: Any, alice: Any) -> None:
    elsewhere = make_project("elsewhere", admin=alice)
    with pytest.raises(PermissionDenied):
        claim.set_verdict(Member(bob, elsewhere, Role.ADMIN), "supported")
    assert not Verdict.objects.filter(claim=claim).exists()


def test_evidence_is_removed_by_its_analyst_or_an_admin_member(
    claim: Any, bob: Any, carol: Any, alice: Any
) -> None:
    project = claim.article.project
    own = claim.add_evidence(
        Member(bob, project, Role.ANALYST), url="https://a.example/", stance="context"
    )
    other = claim.add_evidence(bob, url="https://b.example/", stance="context")
    assert own.added_by == bob
    with pytest.raises(PermissionDenied, match="admin role"):
        other.remove(Member(carol, project, Role.ANALYST))
    own.remove(Member(bob, project, Role.ANALYST))
    other.remove(Member(alice, project, Role.ADMIN))
    assert last_event()["actor"] == "alice"
    assert claim.evidence.filter(removed_at__isnull=True).count() == 0


def test_membership_changes_take_the_acting_member(project: Project, alice: Any, bob: Any) -> None:
    admin = Member(alice, project, Role.ADMIN)
    project.set_member(bob, Role.REVIEWER, actor=admin)
    assert last_event()["actor"] == "alice"
    project.remove_member(bob, actor=admin)
    assert last_event()["action"] == "member.removed"
    assert last_event()["actor"] == "alice"
