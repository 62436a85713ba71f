"""The JSON API: reading, writing through the model verbs against a version (If-Match, 412,
409), keyset pages, problem details, blind review, imports, the audit export, the docs.

Every answer is checked against the API's own OpenAPI document (``tests.api_client``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from claims.log.verify_export import parse_body
from claims.models import (
    Adjudication,
    ApiToken,
    Article,
    AuditEvent,
    Claim,
    Evidence,
    Project,
    Role,
    Verdict,
)
from tests.api_client import Api, data, issue
from tests.base import client_for
from tests.factories import make_article


def events(project: Project) -> list[dict[str, Any]]:
    rows = AuditEvent.objects.filter(chain__project=project).order_by("seq")
    return [parse_body(body) for body in rows.values_list("body", flat=True)]


def prefix(raw: str) -> str:
    return raw.split("_")[1]


@pytest.fixture
def bob_api(project: Project, bob: Any) -> Api:
    return Api(issue(bob, project))


# Reading ---------------------------------------------------------------------------------


def test_a_token_lists_only_its_own_project(project: Project, bob: Any, alice: Any) -> None:
    other = Project.create("other", "Other", admin=alice)
    other.set_member(bob, Role.ANALYST, actor=alice)
    listed = data(Api(issue(bob, project)).get("/projects"))
    assert [p["slug"] for p in listed["items"]] == ["demo"]
    assert listed["items"][0]["role"] == "analyst"
    assert listed["next"] is None


def test_a_browser_session_reads_every_project_of_its_user(project: Project, bob: Any) -> None:
    Project.create("other", "Other", admin=bob)
    response = Api(client=client_for(bob)).get("/projects?limit=1")
    first = data(response)
    assert [p["slug"] for p in first["items"]] == ["demo"]
    second = data(Api(client=client_for(bob)).get(first["next"]))
    assert [p["slug"] for p in second["items"]] == ["other"]
    assert second["next"] is None


def test_a_browser_session_cannot_write(project: Project, claim: Claim, bob: Any) -> None:
    response = Api(client=client_for(bob)).put(
        f"/projects/demo/claims/{claim.pk}/verdicts/mine", {"status": "supported"}, if_match=0
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Verdict.objects.exists()


def test_articles_come_a_page_at_a_time(project: Project, alice: Any, bob_api: Api) -> None:
    first = make_article(project, actor=alice)
    second = make_article(project, "Second Title\n\nTrade grew in 2020. Prices fell.\n")
    page = data(bob_api.get("/projects/demo/articles?limit=1"))
    assert [a["id"] for a in page["items"]] == [first.pk]
    assert page["next"] == f"/api/v1/projects/demo/articles?after={first.pk}&limit=1"
    page = data(bob_api.get(page["next"]))
    assert [a["id"] for a in page["items"]] == [second.pk]
    assert page["next"] is None


def test_an_article_comes_with_its_text_and_versions(article: Article, bob_api: Api) -> None:
    found = data(bob_api.get(f"/projects/demo/articles/{article.pk}"))
    assert found["text"] == article.text
    assert [v["number"] for v in found["versions"]] == [1]
    assert found["versions"][0]["sha256"] == article.sha256


def test_claims_come_with_citations_a_page_at_a_time(article: Article, bob_api: Api) -> None:
    claims = list(article.claims.order_by("pk"))
    page = data(bob_api.get(f"/projects/demo/articles/{article.pk}/claims?limit=2"))
    assert [c["id"] for c in page["items"]] == [c.pk for c in claims[:2]]
    assert page["items"][0]["text"] == claims[0].text
    assert page["items"][0]["citations"][0]["outlet"] == "Kremlin.ru"
    rest = data(bob_api.get(page["next"]))
    assert [c["id"] for c in rest["items"]] == [c.pk for c in claims[2:]]


def test_the_claims_page_reads_a_fixed_number_of_queries(
    article: Article, bob: Any, django_assert_num_queries: Any
) -> None:
    # Through the session: a token's requests also count against its rate limit, whose
    # queries depend on the minute (a new window starts a row).
    api = Api(client=client_for(bob))
    url = f"/projects/demo/articles/{article.pk}/claims"
    for limit in (1, 3):
        with django_assert_num_queries(7):
            assert len(data(api.get(f"{url}?limit={limit}"))["items"]) == limit


def test_a_cursor_that_is_no_number_of_ours_is_a_problem(article: Article, bob_api: Api) -> None:
    response = bob_api.get(f"/projects/demo/articles?after={'9' * 19}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "cursor" in data(response)["detail"]


def test_a_claim_carries_its_version_as_etag(claim: Claim, bob_api: Api) -> None:
    response = bob_api.get(f"/projects/demo/claims/{claim.pk}")
    assert response["ETag"] == '"1"'
    assert data(response)["version"] == 1


def test_consensus_and_agreement_figures(claim: Claim, bob: Any, carol: Any, bob_api: Api) -> None:
    claim.set_verdict(bob, "supported")
    claim.set_verdict(carol, "supported")
    figures = data(bob_api.get(f"/projects/demo/articles/{claim.article_id}/consensus"))
    row = next(r for r in figures["rows"] if r["claim"] == claim.pk)
    assert row["state"] == "unanimous" and row["consensus"] == "supported"
    assert figures["percent"]["value"] == 1.0
    assert figures["verdicts"] == 2
    whole = data(bob_api.get("/projects/demo/consensus"))
    assert whole["verdicts"] == 2


def test_my_verdicts(claim: Claim, bob: Any, carol: Any, bob_api: Api) -> None:
    claim.set_verdict(bob, "disputed", rationale="No.")
    claim.set_verdict(carol, "supported")
    mine = data(bob_api.get("/projects/demo/verdicts/mine"))["items"]
    assert [(v["analyst"], v["status"], v["rationale"]) for v in mine] == [
        ("bob", "disputed", "No.")
    ]


def test_history_newest_first_with_the_token_that_made_it(
    claim: Claim, project: Project, bob: Any
) -> None:
    raw = issue(bob, project)
    api = Api(raw)
    api.put(f"/projects/demo/claims/{claim.pk}/verdicts/mine", {"status": "supported"}, if_match=0)
    api.put(f"/projects/demo/claims/{claim.pk}/verdicts/mine", {"status": "disputed"}, if_match=1)
    page = data(api.get(f"/projects/demo/claims/{claim.pk}/history?limit=1"))
    assert [e["action"] for e in page["items"]] == ["verdict.changed"]
    assert page["items"][0]["token"] == prefix(raw)
    older = data(api.get(page["next"]))
    assert [e["action"] for e in older["items"]] == ["verdict.set"]


# Writing against a version -----------------------------------------------------------------


def test_a_verdict_without_if_match_is_412_and_changes_nothing(claim: Claim, bob_api: Api) -> None:
    before = AuditEvent.objects.count()
    response = bob_api.put(
        f"/projects/demo/claims/{claim.pk}/verdicts/mine", {"status": "supported"}
    )
    assert response.status_code == 412
    assert "If-Match" in data(response)["detail"]
    assert AuditEvent.objects.count() == before and not Verdict.objects.exists()


def test_a_verdict_is_one_event_naming_the_token(claim: Claim, project: Project, bob: Any) -> None:
    raw = issue(bob, project)
    before = len(events(project))
    response = Api(raw).put(
        f"/projects/demo/claims/{claim.pk}/verdicts/mine",
        {"status": "outdated", "rationale": "Old.", "as_of": "2020-01-01"},
        if_match=0,
    )
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    written = events(project)[before:]
    assert len(written) == 1
    assert written[0]["action"] == "verdict.set"
    assert written[0]["token"] == prefix(raw)
    assert written[0]["after"] == {"status": "outdated", "rationale": "Old.", "as_of": "2020-01-01"}
    verdict = Verdict.objects.get()
    assert (verdict.status, verdict.version) == ("outdated", 1)


def test_a_stale_if_match_is_412(claim: Claim, bob: Any, bob_api: Api) -> None:
    claim.set_verdict(bob, "supported")  # version 1, elsewhere
    before = AuditEvent.objects.count()
    response = bob_api.put(
        f"/projects/demo/claims/{claim.pk}/verdicts/mine", {"status": "disputed"}, if_match=0
    )
    assert response.status_code == 412
    assert AuditEvent.objects.count() == before
    assert Verdict.objects.get().status == "supported"


def test_an_unreadable_if_match_is_412(claim: Claim, bob_api: Api) -> None:
    url = f"/projects/demo/claims/{claim.pk}/verdicts/mine"
    assert bob_api.put(url, {"status": "disputed"}, if_match="*").status_code == 412


def test_a_weak_etag_is_read_as_its_version(claim: Claim, bob_api: Api) -> None:
    url = f"/projects/demo/claims/{claim.pk}/verdicts/mine"
    assert bob_api.put(url, {"status": "disputed"}, if_match='W/"0"').status_code == 200


def test_clearing_a_verdict(claim: Claim, bob: Any, bob_api: Api) -> None:
    claim.set_verdict(bob, "supported")
    url = f"/projects/demo/claims/{claim.pk}/verdicts/mine"
    etag = bob_api.get(url)["ETag"]
    response = bob_api.delete(url, if_match=etag)
    assert response.status_code == 200
    assert data(response)["status"] == "" and response["ETag"] == '"2"'
    assert AuditEvent.objects.order_by("-pk").first().action == "verdict.cleared"


def test_a_refused_verdict_is_422_with_the_reason(claim: Claim, bob_api: Api) -> None:
    before = AuditEvent.objects.count()
    response = bob_api.put(
        f"/projects/demo/claims/{claim.pk}/verdicts/mine",
        {"status": "supported", "recheck_by": "2000-01-01"},
        if_match=0,
    )
    assert response.status_code == 422
    problem = data(response)
    assert problem["errors"][0]["loc"] == ["body", "recheck_by"]
    assert AuditEvent.objects.count() == before


def test_a_body_of_the_wrong_shape_is_422(claim: Claim, bob_api: Api) -> None:
    response = bob_api.put(
        f"/projects/demo/claims/{claim.pk}/verdicts/mine", {"status": "maybe"}, if_match=0
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert data(response)["errors"][0]["loc"][-1] == "status"


def test_json_that_does_not_parse_is_a_problem(claim: Claim, bob_api: Api) -> None:
    response = bob_api.client.put(
        f"/api/v1/projects/demo/claims/{claim.pk}/verdicts/mine",
        data="{not json",
        content_type="application/json",
        headers={**bob_api.headers, "If-Match": '"0"'},
    )
    assert response.status_code in (400, 422)
    assert response["Content-Type"] == "application/problem+json"


def test_adjudication_set_and_withdrawn(claim: Claim, project: Project, rita: Any) -> None:
    api = Api(issue(rita, project))
    url = f"/projects/demo/claims/{claim.pk}/adjudication"
    assert api.get(url)["ETag"] == '"0"'
    no_reason = api.put(url, {"status": "supported", "rationale": " "}, if_match=0)
    assert no_reason.status_code == 422
    ruled = api.put(url, {"status": "supported", "rationale": "Sourced."}, if_match=0)
    assert ruled.status_code == 200 and data(ruled)["reviewer"] == "rita"
    assert data(api.get(f"/projects/demo/claims/{claim.pk}"))["final"]["status"] == "supported"
    withdrawn = api.delete(url, if_match=ruled["ETag"])
    assert data(withdrawn)["status"] == "" and withdrawn["ETag"] == '"2"'
    assert [e["action"] for e in events(project)[-2:]] == [
        "adjudication.set",
        "adjudication.withdrawn",
    ]


def test_evidence_added_once_per_submission_and_removed_once(
    claim: Claim, project: Project, bob_api: Api
) -> None:
    url = f"/projects/demo/claims/{claim.pk}/evidence"
    given = {
        "url": "https://example.org/a",
        "stance": "supports",
        "submission": "7a0c3c5e-5d3f-4c4e-8d8e-1f2a3b4c5d6e",
    }
    first = bob_api.post(url, given)
    again = bob_api.post(url, given)
    assert first.status_code == again.status_code == 201
    assert data(first)["id"] == data(again)["id"]
    assert Evidence.objects.count() == 1
    assert [e["action"] for e in events(project)].count("evidence.added") == 1
    listed = data(bob_api.get(url))
    assert [e["url"] for e in listed] == ["https://example.org/a"]
    removed = bob_api.delete(f"/projects/demo/evidence/{data(first)['id']}")
    assert removed.status_code == 200 and data(removed)["removed_at"] is not None
    twice = bob_api.delete(f"/projects/demo/evidence/{data(first)['id']}")
    assert twice.status_code == 409
    assert "already removed" in data(twice)["detail"]


def test_evidence_with_a_bad_url_is_422(claim: Claim, bob_api: Api) -> None:
    response = bob_api.post(
        f"/projects/demo/claims/{claim.pk}/evidence",
        {"url": "https://google.com@evil.example/", "stance": "supports"},
    )
    assert response.status_code == 422
    assert data(response)["errors"][0]["loc"] == ["body", "url"]
    assert not Evidence.objects.exists()


def test_span_split_and_merge_against_the_claims_version(
    claim: Claim, project: Project, rita: Any
) -> None:
    api = Api(issue(rita, project))
    base = f"/projects/demo/claims/{claim.pk}"
    corrected = api.post(f"{base}/span", {"start": claim.start, "end": claim.end - 1}, if_match=1)
    assert corrected.status_code == 200 and corrected["ETag"] == '"2"'
    stale = api.post(f"{base}/split", {"at": claim.start + 7}, if_match=1)
    assert stale.status_code == 412
    left, right = data(api.post(f"{base}/split", {"at": claim.start + 7}, if_match=2))
    assert left["text"] == "Moscow" and right["text"].startswith("praised")
    merged = api.post(f"{base}/merge", if_match=3)
    assert merged.status_code == 200
    assert data(merged)["text"].startswith("Moscow praised")
    assert [e["action"] for e in events(project)[-3:]] == [
        "claim.span_corrected",
        "claim.split",
        "claim.merged",
    ]


def test_an_edit_the_model_refuses_is_422(claim: Claim, project: Project, rita: Any) -> None:
    api = Api(issue(rita, project))
    response = api.post(
        f"/projects/demo/claims/{claim.pk}/span", {"start": 0, "end": 3}, if_match=1
    )
    assert response.status_code == 422
    assert "paragraph" in data(response)["detail"]


# Imports --------------------------------------------------------------------------------


TEXT = "An API Title\n\nMoscow agreed to talks, and Beijing declined them. Trade grew.\n"


def test_an_admin_imports_an_article_from_text(project: Project, alice: Any) -> None:
    raw = issue(alice, project)
    api = Api(raw)
    given = {"text": TEXT, "published_on": "2024-05-01", "filename": "api.txt"}
    response = api.post("/projects/demo/articles", given)
    assert response.status_code == 201
    made = data(response)
    assert made["created"] is True and made["claims"] == 3
    assert made["article"]["title"] == "An API Title"
    assert events(project)[-1]["action"] == "article.imported"
    assert events(project)[-1]["token"] == prefix(raw)
    again = api.post("/projects/demo/articles", given)
    assert again.status_code == 200 and data(again)["created"] is False
    assert Article.objects.filter(project=project).count() == 1


def test_an_import_that_is_not_text_is_422(project: Project, alice: Any) -> None:
    api = Api(issue(alice, project))
    response = api.post("/projects/demo/articles", {"text": "", "published_on": "2024-05-01"})
    assert response.status_code == 422
    assert not Article.objects.exists()


# Blind review --------------------------------------------------------------------------


@pytest.fixture
def blind(project: Project, claim: Claim, carol: Any) -> Claim:
    project.blind = True
    project.save()
    claim.set_verdict(carol, "disputed", rationale="Carol's reason.")
    claim.add_evidence(carol, url="https://example.org/carol", stance="contradicts")
    return claim


def test_blind_analyst_sees_nothing_of_others_before_their_own(blind: Claim, bob_api: Api) -> None:
    base = f"/projects/demo/claims/{blind.pk}"
    team = data(bob_api.get(f"{base}/verdicts"))
    assert team == {
        "claim": blind.pk,
        "visible": False,
        "counts": {},
        "state": "unreviewed",
        "verdicts": [],
    }
    seen = data(bob_api.get(base))
    assert seen["team_visible"] is False and seen["counts"] == {}
    listed = data(bob_api.get(f"/projects/demo/articles/{blind.article_id}/claims"))
    assert all(c["counts"] == {} for c in listed["items"])
    assert data(bob_api.get(f"{base}/evidence")) == []
    assert data(bob_api.get(f"{base}/history"))["items"] == []
    figures = data(bob_api.get(f"/projects/demo/articles/{blind.article_id}/consensus"))
    assert figures["blind_limited"] is True and figures["verdicts"] == 0
    assert "Carol" not in json.dumps([team, seen, listed, figures])


def test_blind_analyst_sees_the_team_after_their_own(blind: Claim, bob_api: Api) -> None:
    base = f"/projects/demo/claims/{blind.pk}"
    bob_api.put(f"{base}/verdicts/mine", {"status": "supported"}, if_match=0)
    team = data(bob_api.get(f"{base}/verdicts"))
    assert team["visible"] is True
    assert sorted((v["analyst"], v["status"]) for v in team["verdicts"]) == [
        ("bob", "supported"),
        ("carol", "disputed"),
    ]
    assert [e["url"] for e in data(bob_api.get(f"{base}/evidence"))] == [
        "https://example.org/carol"
    ]


def test_reviewer_sees_everything_in_a_blind_project(
    blind: Claim, project: Project, rita: Any
) -> None:
    api = Api(issue(rita, project))
    team = data(api.get(f"/projects/demo/claims/{blind.pk}/verdicts"))
    assert team["visible"] is True and [v["analyst"] for v in team["verdicts"]] == ["carol"]


# The audit export and the docs ------------------------------------------------------------


def test_a_reviewer_exports_the_audit_trail(project: Project, article: Article, rita: Any) -> None:
    raw = issue(rita, project)
    response = Api(raw).post("/projects/demo/audit/exports", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "article.imported" in b"".join(response.streaming_content).decode()
    assert events(project)[-1]["action"] == "audit.exported"
    assert events(project)[-1]["token"] == prefix(raw)


def test_events_naming_a_token_verify_offline(
    claim: Claim, project: Project, bob: Any, rita: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    """The signed export of a chain with API writes in it passes the offline verifier."""
    from claims.log import signing, verify_export
    from tests.test_audit_export import KEY, raw_key

    monkeypatch.setenv(signing.ENV_KEY, raw_key(KEY))
    raw = issue(bob, project)
    Api(raw).put(
        f"/projects/demo/claims/{claim.pk}/verdicts/mine", {"status": "supported"}, if_match=0
    )
    exported = Api(issue(rita, project)).post("/projects/demo/audit/exports", {"format": "jsonl"})
    assert exported.status_code == 200
    path, key = tmp_path / "audit.jsonl", tmp_path / "key.pem"
    path.write_bytes(b"".join(exported.streaming_content))
    key.write_text(signing.public_key_pem(KEY))
    assert f'\\"token\\":\\"{prefix(raw)}\\"'.encode() in path.read_bytes()
    assert verify_export.main([str(path), "--public-key", str(key)]) == 0


def test_the_docs_load_nothing_from_elsewhere(db: Any) -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui-bundle" in s for s in sources)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    assert "cdn" not in page.lower()


def test_the_schema_is_openapi_3(db: Any) -> None:
    document = json.loads(Client().get("/api/v1/openapi.json").content)
    assert document["openapi"].startswith("3.")
    assert "/api/v1/projects/{slug}/claims/{claim_id}/verdicts/mine" in document["paths"]


# Problem details for what no operation answers ------------------------------------------


def test_an_unknown_address_is_a_problem(bob_api: Api) -> None:
    response = bob_api.get("/nothing-here")
    assert response.status_code == 404
    assert data(response)["title"] == "Not Found"


def test_a_method_the_address_does_not_take_is_405(bob_api: Api) -> None:
    response = bob_api.post("/projects")
    assert response.status_code == 405
    assert "GET" in response["Allow"]
    assert data(response)["status"] == 405


def test_tokens_are_never_stored_whole(project: Project, bob: Any) -> None:
    raw = issue(bob, project)
    stored = ApiToken.objects.get()
    assert raw not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert stored.digest != raw and len(stored.digest) == 64
    assert raw not in "".join(AuditEvent.objects.values_list("body", flat=True))


def test_a_claim_of_another_project_is_404(project: Project, alice: Any, bob_api: Api) -> None:
    other = Project.create("other", "Other", admin=alice)
    foreign = make_article(other).claims.first()
    response = bob_api.get(f"/projects/demo/claims/{foreign.pk}")
    assert response.status_code == 404
    assert data(response)["detail"] == "No such claim."


def test_adjudication_rows_are_untouched_by_a_refused_ruling(claim: Claim, bob_api: Api) -> None:
    response = bob_api.put(
        f"/projects/demo/claims/{claim.pk}/adjudication",
        {"status": "supported", "rationale": "x"},
        if_match=0,
    )
    assert response.status_code == 403
    assert not Adjudication.objects.exists()
