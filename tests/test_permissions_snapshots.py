"""Evidence snapshots in the permissions matrix: every role × the snapshot page (and an
earlier check of it) × this project's ids and another project's, and blind review.

The harness is the matrix's (``tests/test_permissions_matrix.py``): its worlds, people,
roles and fingerprint of everything a request must leave alone, with the snapshots added.
Snapshot rows come from ``EvidenceSnapshot.record``, as a fetched page would leave them,
so no page is fetched here.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import Claim, Evidence, EvidenceSnapshot, PageState, Role
from tests.factories import add_member, make_article, make_project, make_user
from tests.test_permissions_matrix import ROLES, fingerprint, worlds

__all__ = ["worlds"]  # the matrix's fixture, used here by name


def snapshot_of(evidence: Evidence, text: str = "The page as read.") -> EvidenceSnapshot:
    return EvidenceSnapshot.record(
        EvidenceSnapshot(
            evidence=evidence, state=PageState.OK, final_url=evidence.url, text=text, sha256=text
        )
    )


def everything() -> tuple[str, list[Any]]:
    """The matrix's fingerprint, and every snapshot row as it stands."""
    rows = EvidenceSnapshot.objects.order_by("pk").values_list("pk", "state", "flagged", "text")
    return fingerprint(), list(rows)


def page(ids: dict[str, Any], check: int | None = None) -> str:
    target = reverse("evidence-snapshot", args=[ids["slug"], ids["evidence"]])
    return target if check is None else f"{target}?check={check}"


@pytest.fixture
def snapshot_worlds(worlds: Any) -> Any:
    """The matrix's worlds, each one's evidence with two checks of its page."""
    mine, theirs, people = worlds
    for ids in (mine, theirs):
        evidence = Evidence.objects.get(pk=ids["evidence"])
        ids["first_check"] = snapshot_of(evidence).pk
        ids["check"] = snapshot_of(evidence, "The page changed.").pk
    return mine, theirs, people


PAGES = {
    "snapshot page": lambda ids: page(ids),
    "an earlier check": lambda ids: page(ids, ids["first_check"]),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(PAGES))
def test_every_member_reads_the_snapshots_of_an_open_project(
    snapshot_worlds: Any, role: str, name: str
) -> None:
    mine, _theirs, people = snapshot_worlds
    client = Client()
    client.force_login(people[role])
    before = everything()
    response = client.get(PAGES[name](mine))
    assert response.status_code == (404 if role == "outsider" else 200)
    if response.status_code == 200:
        assert "The page changed." in response.content.decode() or name == "an earlier check"
    assert everything() == before


@pytest.mark.parametrize("role", ROLES)
def test_another_projects_snapshots_are_404_for_every_role(snapshot_worlds: Any, role: str) -> None:
    mine, theirs, people = snapshot_worlds
    client = Client()
    client.force_login(people[role])
    before = everything()
    crossed = {**theirs, "slug": mine["slug"]}
    for name, target in PAGES.items():
        for ids in (crossed, theirs):
            assert client.get(target(ids)).status_code == 404, (role, name, ids["slug"])
    # This project's evidence with another project's check of its page.
    assert client.get(page(mine, theirs["check"])).status_code == 404, role
    assert everything() == before


def test_anonymous_visitors_are_sent_to_log_in(snapshot_worlds: Any) -> None:
    mine, _theirs, _people = snapshot_worlds
    for target in PAGES.values():
        response = Client().get(target(mine))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_the_snapshot_page_only_reads(snapshot_worlds: Any, method: str) -> None:
    mine, _theirs, people = snapshot_worlds
    client = Client()
    client.force_login(people["admin"])
    before = everything()
    assert getattr(client, method)(page(mine)).status_code == 405
    assert everything() == before


# Blind review: as the claim panel lists evidence, the snapshot page shows it -------------


@pytest.fixture
def blind(db: Any) -> dict[str, Any]:
    owner = make_user("owner")
    project = make_project("blind", admin=owner, blind=True)
    people = {"outsider": make_user("outsider"), "admin": owner}
    for role in ROLES[1:-1]:
        people[role] = make_user(f"the-{role}")
        add_member(project, people[role], Role(role))
    people["tagger"] = make_user("tagger")
    add_member(project, people["tagger"], Role.ANALYST)
    claim = make_article(project).claims.order_by("ordinal").first()
    assert claim is not None
    theirs = claim.add_evidence(owner, url="https://example.org/theirs", stance="supports")
    own = claim.add_evidence(people["analyst"], url="https://example.org/own", stance="context")
    claim.set_verdict(people["tagger"], "supported")
    for evidence in (theirs, own):
        snapshot_of(evidence)
    return {"people": people, "claim": claim, "theirs": theirs.pk, "own": own.pk}


# Who sees the admin's evidence on a claim: reviewers and admins, and an analyst who has
# given a verdict there; a viewer never gives one, so never does.
SEES_THEIRS = {"outsider": 404, "viewer": 404, "analyst": 404, "reviewer": 200, "admin": 200}


@pytest.mark.parametrize("role", [*ROLES, "tagger"])
def test_blind_review_shows_others_snapshots_only_to_whom_it_shows_their_evidence(
    blind: dict[str, Any], role: str
) -> None:
    client = Client()
    client.force_login(blind["people"][role])
    before = everything()
    theirs = client.get(reverse("evidence-snapshot", args=["blind", blind["theirs"]]))
    assert theirs.status_code == SEES_THEIRS.get(role, 200), role
    own = client.get(reverse("evidence-snapshot", args=["blind", blind["own"]]))
    # The analyst's own evidence is theirs to read before any verdict.
    expected = 404 if role in ("outsider", "viewer") else 200
    assert own.status_code == expected, role
    assert everything() == before


def test_an_analysts_own_verdict_opens_the_teams_snapshots(blind: dict[str, Any]) -> None:
    analyst = blind["people"]["analyst"]
    client = Client()
    client.force_login(analyst)
    target = reverse("evidence-snapshot", args=["blind", blind["theirs"]])
    assert client.get(target).status_code == 404
    Claim.objects.get(pk=blind["claim"].pk).set_verdict(analyst, "disputed")
    assert client.get(target).status_code == 200
