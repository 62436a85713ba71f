"""The claim panel's actions, each as a plain form post and under htmx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from claims.models import AuditEvent, Claim, Evidence, Verdict
from tests.base import HTMX, client_for, html, url
from tests.factories import make_article, make_project

LONG = "x" * 5001


def events() -> int:
    return AuditEvent.objects.count()


def last_event() -> dict[str, Any]:
    return json.loads(AuditEvent.objects.latest("created_at", "seq").body)


def triggers(response: Any) -> dict[str, Any]:
    return json.loads(response["HX-Trigger"])


# The panel -----------------------------------------------------------------------


def test_panel_fragment_for_htmx(claim: Any, bob: Any) -> None:
    response = client_for(bob).get(url("claim-panel", claim.pk), **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<aside id="claim-panel"')
    assert f'data-claim="{claim.pk}"' in content
    assert "<html" not in content


def test_panel_without_htmx_redirects_to_the_screen(claim: Any, bob: Any) -> None:
    response = client_for(bob).get(url("claim-panel", claim.pk) + "?show=untagged")
    assert response.status_code == 302
    assert response["Location"].endswith(f"?show=untagged&claim={claim.pk}#claim-{claim.pk}")


def test_screen_opens_the_claim_from_the_url(claim: Any, bob: Any) -> None:
    response = client_for(bob).get(url("article-detail", claim.article_id) + f"?claim={claim.pk}")
    assert f'data-claim="{claim.pk}"' in response.content.decode()
    assert 'id="verdict-form"' in response.content.decode()


def test_viewer_sees_the_panel_without_verdict_form(claim: Any, victor: Any) -> None:
    content = client_for(victor).get(url("claim-panel", claim.pk), **HTMX).content.decode()
    assert 'id="verdict-form"' not in content
    assert "Edit claim" not in content


def test_panel_outsider_404_and_wrong_method_405(claim: Any, bob: Any, mallory: Any) -> None:
    assert client_for(mallory).get(url("claim-panel", claim.pk), **HTMX).status_code == 404
    assert client_for(bob).post(url("claim-panel", claim.pk)).status_code == 405


# Verdicts -----------------------------------------------------------------------------


def post_verdict(client: Client, claim: Any, **data: Any) -> Any:
    data = {"status": "supported", "rationale": "", "as_of": "", "version": 0} | data
    headers = HTMX if data.pop("htmx", False) else {}
    return client.post(url("claim-verdict", claim.pk), data, **headers)


def test_verdict_without_js_redirects_back_to_the_claim(claim: Any, bob: Any) -> None:
    response = post_verdict(client_for(bob), claim, rationale="Readout says so.")
    assert response.status_code == 302
    assert response["Location"].endswith(f"?claim={claim.pk}#claim-{claim.pk}")
    verdict = Verdict.objects.get(claim=claim, analyst=bob)
    assert (verdict.status, verdict.rationale, verdict.version) == (
        "supported",
        "Readout says so.",
        1,
    )
    assert last_event()["action"] == "verdict.set"


def test_verdict_with_htmx_returns_what_changed_and_an_event(
    claim: Any, bob: Any, carol: Any
) -> None:
    claim.set_verdict(carol, "supported", rationale="Carol reads it so")
    response = post_verdict(client_for(bob), claim, status="disputed", htmx=True)
    content = response.content.decode()
    assert response.status_code == 200
    assert "HX-Retarget" not in response
    # The verdict form in place, with the new version ...
    assert content.lstrip().startswith('<section id="verdict"')
    assert html(content).select("input", name="version", value="1")
    # ... and out of band the team (bob's verdict counted), the history and the highlight.
    assert html(content).select("section", id="team", hx_swap_oob="true")
    assert "1 supported" in content and "1 disputed" in content and "Carol reads it so" in content
    assert html(content).select("section", id="recent-history", hx_swap_oob="true")
    assert "bob</strong> set their verdict to disputed" in content
    assert f'id="claim-{claim.pk}"' in content and "claim v-disputed selected" in content
    # Nothing that a verdict leaves alone.
    assert 'id="claim-panel"' not in content and "Add evidence" not in content
    assert triggers(response) == {"verdict-changed": {"claim": claim.pk}}


def test_refused_verdict_with_htmx_returns_the_form_alone(claim: Any, bob: Any) -> None:
    response = post_verdict(client_for(bob), claim, status="maybe", htmx=True)
    content = response.content.decode()
    assert response.status_code == 422
    assert content.lstrip().startswith('<section id="verdict"')
    assert "hx-swap-oob" not in content and "HX-Trigger" not in response


def test_outdated_verdict_keeps_its_since_date(claim: Any, bob: Any) -> None:
    post_verdict(client_for(bob), claim, status="outdated", as_of="2022-02-24")
    assert last_event()["after"] == {"status": "outdated", "rationale": "", "as_of": "2022-02-24"}


def test_since_date_is_dropped_for_other_statuses(claim: Any, bob: Any) -> None:
    post_verdict(client_for(bob), claim, status="supported", as_of="2022-02-24")
    assert Verdict.objects.get(claim=claim, analyst=bob).as_of is None


def test_clearing_a_verdict(claim: Any, bob: Any) -> None:
    client = client_for(bob)
    post_verdict(client, claim)
    response = post_verdict(client, claim, status="clear", version=1, htmx=True)
    assert response.status_code == 200
    assert Verdict.objects.get(claim=claim, analyst=bob).status == ""
    assert last_event()["action"] == "verdict.cleared"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"status": "maybe"}, "Choose Supported, Disputed, Outdated or Clear."),
        ({"rationale": LONG}, "Ensure this value has at most 5000 characters"),
        ({"status": "outdated", "as_of": "24/02/2022"}, "Enter the date as YYYY-MM-DD."),
        ({"version": "x"}, "out of date; choose a verdict again"),
    ],
)
def test_invalid_verdict_says_why_and_writes_nothing(
    claim: Any, bob: Any, data: dict[str, Any], message: str
) -> None:
    before = events()
    for htmx in (True, False):
        response = post_verdict(client_for(bob), claim, htmx=htmx, **data)
        assert response.status_code == 422
        assert message in response.content.decode()
    assert events() == before
    assert not Verdict.objects.exists()


def test_stale_verdict_gets_a_conflict_and_keeps_what_was_typed(claim: Any, bob: Any) -> None:
    claim.set_verdict(bob, "supported", rationale="First tab.")
    before = events()
    response = post_verdict(
        client_for(bob),
        claim,
        status="disputed",
        rationale="Second tab text.",
        version=0,
        htmx=True,
    )
    content = response.content.decode()
    assert response.status_code == 409
    assert "changed elsewhere" in content
    assert "Second tab text." in content  # what the user typed is kept
    # Resubmitting is now a deliberate choice.
    assert html(response).select("input", name="version", value="1")
    assert events() == before
    assert Verdict.objects.get(claim=claim, analyst=bob).status == "supported"


def test_stale_verdict_without_js_shows_the_conflict_on_the_page(claim: Any, bob: Any) -> None:
    claim.set_verdict(bob, "supported")
    response = post_verdict(client_for(bob), claim, status="disputed", version=0)
    assert response.status_code == 409
    assert "changed elsewhere" in response.content.decode()


def test_viewer_cannot_tag_and_outsider_cannot_see(claim: Any, victor: Any, mallory: Any) -> None:
    before = events()
    assert post_verdict(client_for(victor), claim).status_code == 403
    assert post_verdict(client_for(mallory), claim).status_code == 404
    assert client_for(victor).get(url("claim-verdict", claim.pk)).status_code == 405
    assert events() == before


def test_claim_of_another_project_is_404(project: Any, bob: Any, mallory: Any) -> None:
    other = make_project("other", admin=mallory)
    foreign = make_article(other).claims.first()
    assert post_verdict(client_for(bob), foreign).status_code == 404
    assert not Verdict.objects.exists()


# Evidence -----------------------------------------------------------------------------


def evidence_data(**data: Any) -> dict[str, Any]:
    base = {"url": "https://example.org/report", "title": "Report", "stance": "supports"}
    return {f"evidence-{k}": v for k, v in (base | data).items()}


def test_adding_evidence_without_js(claim: Any, bob: Any) -> None:
    response = client_for(bob).post(url("evidence-add", claim.pk), evidence_data(quote="q"))
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert (evidence.url, evidence.quote, evidence.added_by) == (
        "https://example.org/report",
        "q",
        bob,
    )
    assert last_event()["action"] == "evidence.added"


def test_adding_evidence_with_htmx(claim: Any, bob: Any) -> None:
    response = client_for(bob).post(url("evidence-add", claim.pk), evidence_data(), **HTMX)
    assert response.status_code == 200
    assert "https://example.org/report" in response.content.decode()
    assert triggers(response) == {"evidence-changed": {"claim": claim.pk}}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "javascript:alert(1)"}, "starts with http:// or https://"),
        ({"url": "ftp://example.org/file"}, "starts with http:// or https://"),
        ({"url": "data:text/html,hi"}, "starts with http:// or https://"),
        ({"url": ""}, "This field is required"),
        ({"stance": "loves"}, "Select a valid choice"),
        ({"title": "t" * 301}, "at most 300 characters"),
        ({"note": LONG}, "at most 5000 characters"),
    ],
)
def test_invalid_evidence_says_why_and_writes_nothing(
    claim: Any, bob: Any, data: dict[str, Any], message: str
) -> None:
    before = events()
    for headers in (HTMX, {}):
        response = client_for(bob).post(
            url("evidence-add", claim.pk), evidence_data(**data), **headers
        )
        assert response.status_code == 422
        assert message in response.content.decode()
    assert events() == before
    assert not Evidence.objects.exists()


def test_removing_own_evidence_with_and_without_js(claim: Any, bob: Any) -> None:
    client = client_for(bob)
    first = claim.add_evidence(bob, url="https://example.org/1", stance="context")
    second = claim.add_evidence(bob, url="https://example.org/2", stance="context")
    response = client.post(url("evidence-remove", first.pk))
    assert response.status_code == 302
    response = client.post(url("evidence-remove", second.pk), **HTMX)
    assert response.status_code == 200
    assert triggers(response) == {"evidence-changed": {"claim": claim.pk}}
    assert 'href="https://example.org/2"' not in response.content.decode()
    assert Evidence.objects.filter(removed_at__isnull=True).count() == 0


def test_removing_evidence_twice_is_a_conflict(claim: Any, bob: Any) -> None:
    evidence = claim.add_evidence(bob, url="https://example.org/1", stance="context")
    evidence.remove(bob)
    before = events()
    response = client_for(bob).post(url("evidence-remove", evidence.pk), **HTMX)
    assert response.status_code == 409
    assert "already removed" in response.content.decode()
    assert events() == before


def test_others_evidence_is_refused(claim: Any, bob: Any, carol: Any, mallory: Any) -> None:
    evidence = claim.add_evidence(bob, url="https://example.org/1", stance="context")
    before = events()
    assert client_for(carol).post(url("evidence-remove", evidence.pk)).status_code == 403
    assert client_for(mallory).post(url("evidence-remove", evidence.pk)).status_code == 404
    assert client_for(bob).get(url("evidence-remove", evidence.pk)).status_code == 405
    assert events() == before


# Claim edits (reviewers) --------------------------------------------------------------


def sentence_claim(article: Any) -> Claim:
    """The first claim that shares its sentence with a following claim."""
    for claim in article.claims.order_by("start"):
        if claim.next_in_sentence():
            return claim
    raise AssertionError("no two-claim sentence")


def test_reviewer_splits_a_claim(claim: Any, rita: Any, bob: Any) -> None:
    claim.set_verdict(bob, "supported")
    claim.refresh_from_db()
    at = claim.start + claim.text.index(" ") + 1
    response = client_for(rita).post(url("claim-split", claim.pk), {"at": at, "version": 1}, **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"].endswith(f"?claim={claim.pk}")  # no fragment: a reload
    event = last_event()
    assert event["action"] == "claim.split"
    assert event["after"]["verdicts_copied"] == ["bob"]
    assert Verdict.objects.filter(analyst=bob, status="supported").count() == 2


def test_split_without_js_redirects(claim: Any, rita: Any) -> None:
    at = claim.start + claim.text.index(" ") + 1
    response = client_for(rita).post(url("claim-split", claim.pk), {"at": at, "version": 1})
    assert response.status_code == 302


def test_split_outside_the_claim_is_refused(claim: Any, rita: Any) -> None:
    before = events()
    response = client_for(rita).post(
        url("claim-split", claim.pk), {"at": claim.end + 5, "version": 1}, **HTMX
    )
    assert response.status_code == 422
    assert "words on both sides" in response.content.decode()
    assert events() == before


def test_stale_split_is_a_conflict(claim: Any, rita: Any) -> None:
    at = claim.start + claim.text.index(" ") + 1
    client = client_for(rita)
    client.post(url("claim-split", claim.pk), {"at": at, "version": 1}, **HTMX)
    before = events()
    response = client.post(url("claim-split", claim.pk), {"at": at + 2, "version": 1}, **HTMX)
    assert response.status_code == 409
    assert "edited this claim first" in response.content.decode()
    assert events() == before


def test_analyst_cannot_edit_claims(claim: Any, bob: Any, mallory: Any) -> None:
    before = events()
    data = {"at": claim.start + 3, "version": 1}
    assert client_for(bob).post(url("claim-split", claim.pk), data).status_code == 403
    assert client_for(mallory).post(url("claim-split", claim.pk), data).status_code == 404
    assert client_for(bob).post(url("claim-merge", claim.pk), {"version": 1}).status_code == 403
    span = {"text": claim.text, "version": 1}
    assert client_for(bob).post(url("claim-span", claim.pk), span).status_code == 403
    assert client_for(bob).get(url("claim-split", claim.pk)).status_code == 405
    assert events() == before


def test_reviewer_merges_claims_and_verdicts_go_somewhere_sensible(
    article: Any, rita: Any, bob: Any, carol: Any
) -> None:
    first = sentence_claim(article)
    second = first.next_in_sentence()
    first.set_verdict(bob, "supported")
    second.set_verdict(bob, "supported")
    first.set_verdict(carol, "supported")
    second.set_verdict(carol, "disputed")
    response = client_for(rita).post(url("claim-merge", first.pk), {"version": 1}, **HTMX)
    assert response.status_code == 204
    first.refresh_from_db()
    assert first.end == second.end
    assert not Claim.objects.filter(pk=second.pk).exists()
    event = last_event()
    assert event["action"] == "claim.merged"
    assert event["after"]["verdicts"] == {
        "bob": {"outcome": "agreed", "status": "supported"},
        "carol": {"outcome": "cleared", "status": "", "was": "supported and disputed"},
    }
    assert Verdict.objects.get(claim=first, analyst=carol).status == ""


def test_merge_without_a_next_claim_is_refused(article: Any, rita: Any) -> None:
    last = article.claims.order_by("-start").first()
    before = events()
    response = client_for(rita).post(url("claim-merge", last.pk), {"version": 1}, **HTMX)
    assert response.status_code == 422
    assert "no next claim" in response.content.decode()
    assert events() == before


def test_reviewer_corrects_a_span(claim: Any, rita: Any) -> None:
    shorter = claim.text.rsplit(" ", 1)[0]
    response = client_for(rita).post(url("claim-span", claim.pk), {"text": shorter, "version": 1})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.text == shorter
    event = last_event()
    assert (event["action"], event["after"]["text"]) == ("claim.span_corrected", shorter)


@pytest.mark.parametrize("text", ["Not in this paragraph at all.", "", LONG])
def test_span_correction_to_foreign_text_is_refused(claim: Any, rita: Any, text: str) -> None:
    before = events()
    response = client_for(rita).post(
        url("claim-span", claim.pk), {"text": text, "version": 1}, **HTMX
    )
    assert response.status_code == 422
    assert events() == before


# Progress -----------------------------------------------------------------------------


def test_progress_fragment_counts_mine_and_the_teams(claim: Any, bob: Any, carol: Any) -> None:
    claim.set_verdict(bob, "supported")
    claim.set_verdict(carol, "supported")
    total = claim.article.claims.count()
    response = client_for(bob).get(url("article-progress", claim.article_id), **HTMX)
    content = " ".join(response.content.decode().split())
    assert f"You: <strong>1</strong> of {total} tagged" in content
    assert f"Team: <strong>1</strong> of {total} with ≥ 2 verdicts" in content


@pytest.mark.parametrize("blind", [False, True])
def test_screen_progress_agrees_with_the_progress_fragment(
    claim: Any, bob: Any, carol: Any, rita: Any, blind: bool
) -> None:
    """The screen counts progress from the rows it reads anyway; the fragment counts in
    SQL. Cleared verdicts, other analysts' claims and blind review must not part them."""
    project = claim.article.project
    project.blind = blind
    project.save()
    first, second, third = claim.article.claims.order_by("start")[:3]
    first.set_verdict(bob, "supported")
    first.set_verdict(carol, "disputed")
    second.set_verdict(carol, "supported")
    second.set_verdict(rita, "outdated")
    third.set_verdict(bob, "supported")
    third.clear_verdict(bob, expected_version=1)
    third.set_verdict(carol, "disputed")
    total = claim.article.claims.count()
    client = client_for(bob)
    for name in ("article-detail", "article-progress"):
        content = " ".join(client.get(url(name, claim.article_id)).content.decode().split())
        assert f"You: <strong>1</strong> of {total} tagged" in content, name
        assert f"Team: <strong>2</strong> of {total} with ≥ 2 verdicts" in content, name


# Blind review -------------------------------------------------------------------------


def test_blind_project_hides_others_until_you_tag(claim: Any, bob: Any, carol: Any) -> None:
    project = claim.article.project
    project.blind = True
    project.save()
    claim.set_verdict(carol, "disputed", rationale="Secret reasoning of carol")
    client = client_for(bob)
    content = client.get(url("claim-panel", claim.pk), **HTMX).content.decode()
    assert "Secret reasoning of carol" not in content
    assert "carol" not in content
    assert "Blind review" in content
    response = post_verdict(client, claim, htmx=True)
    content = response.content.decode()
    assert "Secret reasoning of carol" in content
    # What bob may see changed with his verdict: the whole panel, in place of the panel.
    assert content.lstrip().startswith('<aside id="claim-panel"')
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#claim-panel", "outerHTML")
    assert triggers(response) == {"verdict-changed": {"claim": claim.pk}}


def test_reviewer_sees_everything_in_a_blind_project(claim: Any, rita: Any, carol: Any) -> None:
    project = claim.article.project
    project.blind = True
    project.save()
    claim.set_verdict(carol, "disputed", rationale="Reasoning of carol")
    content = client_for(rita).get(url("claim-panel", claim.pk), **HTMX).content.decode()
    assert "Reasoning of carol" in content


# Query counts do not grow with the article ----------------------------------------------


def article_of(project: Any, claims: int) -> Any:
    paragraphs = "\n\n".join(
        f"Claim {i} holds firmly (Kremlin.ru, August {i % 28 + 1})." for i in range(claims)
    )
    return make_article(project, f"Sized Article\n\n{paragraphs}\n", filename=f"{claims}.txt")


@pytest.mark.parametrize(("size", "screen_queries"), [(10, 17), (500, 16)])
def test_screen_and_verdict_query_counts_are_fixed(
    project: Any,
    bob: Any,
    carol: Any,
    django_assert_num_queries: Any,
    size: int,
    screen_queries: int,
) -> None:
    article = article_of(project, size)
    assert article.claims.count() == size
    claims = list(article.claims.order_by("start")[:3])
    for claim in claims:
        claim.set_verdict(carol, "supported")
    client = client_for(bob)
    client.get(url("article-detail", article.pk))  # warm the session
    screen = url("article-detail", article.pk) + f"?claim={claims[1].pk}"
    # The screen's ten (tests/test_views.py), the claim's place and half a page before it
    # (tests/test_article_pages.py), and its panel. An article longer than a page (500
    # claims) counts its progress after the screen shows: one query fewer.
    with django_assert_num_queries(screen_queries):
        assert client.get(screen).status_code == 200
    # Session, user, the claim with the member's role; the write (savepoint, chain head,
    # verdict, its update, the flag on the same claim elsewhere, the event, the head's
    # update, release); then what the response shows: the claim's verdicts, its
    # citations, its recent history.
    with django_assert_num_queries(14):
        assert post_verdict(client, claims[1], htmx=True).status_code == 200
