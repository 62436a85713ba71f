"""Personal access tokens: made in the browser and shown once, stored hashed, for one
project and a role no higher than the owner's (now, not only when made), expiring,
revocable, their last use recorded, their rate limits answered with 429 and Retry-After."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from claims.log.verify_export import parse_body
from claims.models import ApiToken, AuditEvent, Claim, Member, Project, Role, Verdict
from tests.api_client import Api, data, issue
from tests.base import client_for, html


def last_event(project: Project) -> dict[str, Any]:
    body = AuditEvent.objects.filter(chain__project=project).order_by("-seq").first().body
    found: dict[str, Any] = parse_body(body)
    return found


def verdict_put(api: Api, claim: Claim, version: int = 0) -> Any:
    return api.put(
        f"/projects/demo/claims/{claim.pk}/verdicts/mine", {"status": "supported"}, if_match=version
    )


# Made in the browser, shown once --------------------------------------------------------


def test_a_new_token_is_shown_once_and_stored_hashed(project: Project, bob: Any) -> None:
    client = client_for(bob)
    page = reverse("token-list", args=["demo"])
    response = client.post(page, {"name": "nightly", "role": "analyst", "days": "30"})
    assert response.status_code == 302  # reloading the page makes no second token
    response = client.get(response["Location"])
    assert "no-store" in response["Cache-Control"]
    secret = html(response).by_id("token-value").content()
    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(f"clm_{token.prefix}_")
    assert (token.owner, token.role, token.name) == (bob, "analyst", "nightly")
    assert dt.timedelta(days=29) < token.expires_at - timezone.now() <= dt.timedelta(days=30)
    shown_again = client.get(page).content.decode()
    assert secret not in shown_again and token.prefix in shown_again
    event = last_event(project)
    assert event["action"] == "token.created" and secret not in str(event)
    assert event["target"] == {"type": "token", "token": token.prefix, "owner": "bob"}
    # The token works.
    assert Api(secret).get("/projects/demo").status_code == 200


def test_a_token_above_the_owners_role_is_refused(project: Project, victor: Any) -> None:
    client = client_for(victor)
    response = client.post(
        reverse("token-list", args=["demo"]), {"name": "x", "role": "analyst", "days": "30"}
    )
    assert response.status_code == 422
    assert not ApiToken.objects.exists()
    with pytest.raises(ValidationError):
        ApiToken.issue(Member.of(project, victor), name="x", role=Role.ADMIN, days=30)


@pytest.mark.parametrize("days", ["0", "366", "", "forever"])
def test_every_token_expires_within_a_year(project: Project, bob: Any, days: str) -> None:
    response = client_for(bob).post(
        reverse("token-list", args=["demo"]), {"name": "x", "role": "viewer", "days": days}
    )
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_outsiders_have_no_token_page(project: Project, mallory: Any) -> None:
    assert client_for(mallory).get(reverse("token-list", args=["demo"])).status_code == 404


# Refused tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    ["", "clm_", "clm_0000000_x", "Basic abc", "clm_deadbeef_" + "A" * 43],
)
def test_anything_but_a_live_token_is_401(project: Project, sent: str) -> None:
    response = Api(sent or None).get("/projects/demo")
    assert response.status_code == 401


def test_a_token_with_one_character_changed_is_401(project: Project, bob: Any) -> None:
    raw = issue(bob, project)
    forged = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert Api(forged).get("/projects/demo").status_code == 401


def test_an_expired_token_is_401(project: Project, bob: Any) -> None:
    raw = issue(bob, project)
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert Api(raw).get("/projects/demo").status_code == 401


def test_a_revoked_token_is_401_and_its_revocation_one_event(project: Project, bob: Any) -> None:
    raw = issue(bob, project)
    token = ApiToken.objects.get()
    client = client_for(bob)
    response = client.post(reverse("token-revoke", args=["demo", token.pk]))
    assert response.status_code == 302
    assert Api(raw).get("/projects/demo").status_code == 401
    event = last_event(project)
    assert event["action"] == "token.revoked" and event["actor"] == "bob"
    before = AuditEvent.objects.count()
    client.post(reverse("token-revoke", args=["demo", token.pk]))  # already revoked
    assert AuditEvent.objects.count() == before


def test_an_admin_revokes_anyones_token_others_cannot(
    project: Project, alice: Any, bob: Any, carol: Any
) -> None:
    issue(bob, project)
    token = ApiToken.objects.get()
    revoke = reverse("token-revoke", args=["demo", token.pk])
    assert client_for(carol).post(revoke).status_code == 403
    assert ApiToken.objects.get().revoked_at is None
    assert client_for(alice).post(revoke).status_code == 302
    assert ApiToken.objects.get().revoked_at is not None
    assert last_event(project)["actor"] == "alice"


# What a token may do: its project, and the lower of its role and the owner's, now ----------


def test_a_token_opens_only_its_own_project(project: Project, alice: Any, bob: Any) -> None:
    other = Project.create("other", "Other", admin=alice)
    other.set_member(bob, Role.ANALYST, actor=alice)
    api = Api(issue(bob, project))
    assert api.get("/projects/other").status_code == 404
    assert api.get("/projects/demo").status_code == 200


def test_a_token_acts_with_its_own_role(project: Project, claim: Claim, alice: Any) -> None:
    api = Api(issue(alice, project, Role.VIEWER))
    assert data(api.get("/projects/demo"))["role"] == "viewer"
    assert verdict_put(api, claim).status_code == 403
    assert not Verdict.objects.exists()


def test_a_token_loses_what_its_owner_loses(
    project: Project, claim: Claim, bob: Any, alice: Any
) -> None:
    api = Api(issue(bob, project))  # an analyst's token
    project.set_member(bob, Role.VIEWER, actor=alice)
    assert data(api.get("/projects/demo"))["role"] == "viewer"
    assert verdict_put(api, claim).status_code == 403
    project.remove_member(bob, actor=alice)
    assert api.get("/projects/demo").status_code == 404
    project.set_member(bob, Role.ANALYST, actor=alice)
    assert verdict_put(api, claim).status_code == 200


def test_a_token_never_rises_with_its_owner(
    project: Project, claim: Claim, bob: Any, alice: Any
) -> None:
    api = Api(issue(bob, project))
    project.set_member(bob, Role.ADMIN, actor=alice)
    assert data(api.get("/projects/demo"))["role"] == "analyst"


def test_an_inactive_owners_token_is_401(project: Project, bob: Any) -> None:
    api = Api(issue(bob, project))
    bob.is_active = False
    bob.save()
    assert api.get("/projects/demo").status_code == 401


# Last use, and rate limits -------------------------------------------------------------------


def test_last_use_is_written_at_most_once_a_minute(project: Project, bob: Any) -> None:
    api = Api(issue(bob, project))
    assert ApiToken.objects.get().last_used_at is None
    api.get("/projects/demo")
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    api.get("/projects/demo")
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - dt.timedelta(minutes=2))
    api.get("/projects/demo")
    assert ApiToken.objects.get().last_used_at > first


def statuses(calls: int, make: Any) -> list[Any]:
    return [make() for _ in range(calls)]


def test_requests_over_the_limit_are_429_with_retry_after(
    project: Project, bob: Any, settings: Any
) -> None:
    settings.CLAIMS_API_RATE = 3
    api = Api(issue(bob, project))
    answers = statuses(8, lambda: api.get("/projects/demo"))
    codes = [a.status_code for a in answers]
    # A minute may begin during the test: then the count starts again, once.
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
    refused = answers[codes.index(429)]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert data(refused)["status"] == 429


def test_writes_have_a_lower_limit_and_a_refused_write_changes_nothing(
    project: Project, claim: Claim, bob: Any, settings: Any
) -> None:
    settings.CLAIMS_API_WRITE_RATE = 1
    api = Api(issue(bob, project))
    url = f"/projects/demo/claims/{claim.pk}/verdicts/mine"
    assert api.put(url, {"status": "supported"}, if_match=0).status_code == 200
    before = AuditEvent.objects.count()
    codes = [api.put(url, {"status": "disputed"}, if_match=1).status_code for _ in range(3)]
    assert 429 in codes
    if 200 not in codes:  # no new minute began meanwhile
        assert AuditEvent.objects.count() == before
        assert Verdict.objects.get().status == "supported"
    assert api.get(url).status_code == 200  # reads are still allowed


def test_each_token_has_its_own_limit(
    project: Project, bob: Any, carol: Any, settings: Any
) -> None:
    settings.CLAIMS_API_RATE = 2
    bobs, carols = Api(issue(bob, project)), Api(issue(carol, project))
    codes = [bobs.get("/projects/demo").status_code for _ in range(5)]
    assert 429 in codes
    assert carols.get("/projects/demo").status_code == 200


@pytest.fixture
def committed(transactional_db: Any) -> Any:
    yield
    # The flush after a transactional test would hit the append-only triggers.
    from tests.tampering import purge_audit_events

    purge_audit_events()


def test_the_limit_holds_across_concurrent_workers(
    committed: Any, project: Project, bob: Any, settings: Any
) -> None:
    """Four workers, each with its own database connection (as gunicorn's processes have),
    count one token's requests at once: exactly the limit gets through, not one more."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import OperationalError, connection

    from claims import tokens

    settings.CLAIMS_API_RATE = 25
    issue(bob, project)
    token = ApiToken.objects.get()

    def counted() -> bool:
        # The test database on SQLite is in memory, shared between threads, where a busy
        # table fails at once instead of waiting (production's file waits): try again.
        while True:
            try:
                return tokens.count_request(token, write=False) is None
            except OperationalError as busy:
                if "locked" not in str(busy):
                    raise

    def worker(_n: int) -> list[bool]:
        try:
            return [counted() for _ in range(10)]
        finally:
            connection.close()

    for _attempt in range(2):  # once more if a minute began meanwhile
        minute = timezone.now().replace(second=0, microsecond=0)
        with ThreadPoolExecutor(4) as pool:
            allowed = sum(sum(passed) for passed in pool.map(worker, range(4)))
        if timezone.now().replace(second=0, microsecond=0) == minute:
            break
    assert allowed == 25


def test_a_request_whose_window_clearing_fails_is_not_counted(
    project: Project, bob: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first request of a minute clears the token's spent windows; if that fails (a busy
    table), the request is not counted either, so trying it again counts it once."""
    from django.db import OperationalError
    from django.db.models import QuerySet

    from claims import tokens
    from claims.models import ApiRequestWindow

    issue(bob, project)
    token = ApiToken.objects.get()
    clear = QuerySet.delete

    def busy_once(queryset: QuerySet[Any]) -> Any:
        if queryset.model is ApiRequestWindow:
            monkeypatch.setattr(QuerySet, "delete", clear)
            raise OperationalError("database table is locked")
        return clear(queryset)

    monkeypatch.setattr(QuerySet, "delete", busy_once)
    with pytest.raises(OperationalError):
        tokens.count_request(token, write=False)
    assert not ApiRequestWindow.objects.filter(token=token).exists()

    assert tokens.count_request(token, write=False) is None
    assert ApiRequestWindow.objects.get(token=token, kind="all").count == 1
