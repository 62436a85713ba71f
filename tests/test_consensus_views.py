"""The consensus screen, the project summary, the disagreement queue, adjudication and the
consensus exports."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.test import Client

from claims.models import Adjudication, AuditEvent, Verdict
from tests.base import HTMX, body, client_for, url
from tests.factories import make_article, make_user


@pytest.fixture
def disagreement(article: Any, bob: Any, carol: Any) -> Any:
    """bob and carol disagree on the first claim and agree on the second."""
    first, second = article.claims.order_by("start")[:2]
    first.set_verdict(bob, "supported", rationale="Bob's reading")
    first.set_verdict(carol, "disputed", rationale="Carol's reading")
    second.set_verdict(bob, "supported")
    second.set_verdict(carol, "supported")
    return first


# The consensus screen -----------------------------------------------------------------


def test_consensus_screen_shows_states_figures_and_charts(disagreement: Any, victor: Any) -> None:
    response = client_for(victor).get(url("article-consensus", disagreement.article_id))
    content = body(response)
    assert response.status_code == 200
    assert "Contested" in content and "Unanimous" in content
    assert "Krippendorff's alpha" in content
    assert content.count("<svg") >= 3  # two charts and the per-claim bars
    assert "Verdicts by section" in content
    rows = {r.claim.pk: r for r in response.context["rows"]}
    assert rows[disagreement.pk].counts == {"supported": 1, "disputed": 1}
    assert response.context["summary"].percent.value == 0.5


def test_consensus_screen_filters_by_state_section_and_analyst(
    disagreement: Any, rita: Any, bob: Any
) -> None:
    client = client_for(rita)
    base = url("article-consensus", disagreement.article_id)
    contested = client.get(base + "?state=contested").context["rows"]
    assert [r.claim.pk for r in contested] == [disagreement.pk]
    by_bob = client.get(base + "?analyst=bob").context["rows"]
    assert len(by_bob) == 2
    nowhere = client.get(base + "?section=Nowhere").context["rows"]
    assert nowhere == []


def test_undefined_figures_say_why(article: Any, bob: Any, victor: Any) -> None:
    article.claims.first().set_verdict(bob, "supported")
    content = body(client_for(victor).get(url("article-consensus", article.pk)))
    assert "undefined: Only one analyst has tagged claims." in content
    assert "NaN" not in content and ">nan<" not in content.lower()


def test_consensus_pages_are_404_for_outsiders(article: Any, mallory: Any) -> None:
    client = client_for(mallory)
    for target in (
        url("article-consensus", article.pk),
        url("project-consensus"),
        url("queue"),
        url("article-consensus-export", article.pk, "csv"),
        url("project-consensus-export", "json"),
    ):
        assert client.get(target).status_code == 404
    assert client_for(mallory).post(url("adjudicate", article.claims.first().pk)).status_code == 404


def test_project_summary_counts_states_per_article(disagreement: Any, victor: Any) -> None:
    response = client_for(victor).get(url("project-consensus"))
    [(article, counts)] = response.context["articles"]
    assert counts["contested"] == 1 and counts["unanimous"] == 1
    assert counts["unreviewed"] == article.claims.count() - 2


# The queue and adjudication -------------------------------------------------------------


def test_queue_lists_contested_first_with_every_verdict_side_by_side(
    disagreement: Any, rita: Any, bob: Any
) -> None:
    disagreement.add_evidence(bob, url="https://example.org/e", stance="supports", title="Proof")
    response = client_for(rita).get(url("queue"))
    content = body(response)
    [row] = response.context["rows"]
    assert row.claim.pk == disagreement.pk
    assert "Bob&#x27;s reading" in content and "Carol&#x27;s reading" in content
    assert "https://example.org/e" in content
    assert 'action="/p/demo/c/' in content  # the reviewer gets the form


def test_queue_orders_contested_before_majority(
    article: Any, bob: Any, carol: Any, rita: Any
) -> None:
    dana = make_user("dana")
    article.project.set_member(dana, "analyst", actor=None)
    first, second = article.claims.order_by("start")[:2]
    for user, status in ((bob, "supported"), (carol, "supported"), (dana, "disputed")):
        first.set_verdict(user, status)
    for user, status in ((bob, "supported"), (carol, "disputed"), (dana, "outdated")):
        second.set_verdict(user, status)
    rows = client_for(rita).get(url("queue")).context["rows"]
    assert [(r.claim.pk, r.state) for r in rows] == [
        (second.pk, "contested"),
        (first.pk, "majority"),
    ]


def adjudicate(client: Client, claim: Any, **data: Any) -> Any:
    data = {
        "status": "disputed",
        "rationale": "Sources disagree.",
        "as_of": "",
        "version": 0,
    } | data
    headers = HTMX if data.pop("htmx", False) else {}
    return client.post(url("adjudicate", claim.pk), data, **headers)


def test_reviewer_adjudicates_without_js(disagreement: Any, rita: Any) -> None:
    response = adjudicate(client_for(rita), disagreement, next="/p/demo/queue/?article=1")
    assert response.status_code == 302
    assert response["Location"] == "/p/demo/queue/?article=1"
    assert Adjudication.objects.get(claim=disagreement).status == "disputed"
    event = json.loads(AuditEvent.objects.latest("seq").body)
    assert (event["action"], event["actor"], event["after"]["status"]) == (
        "adjudication.set",
        "rita",
        "disputed",
    )


def test_adjudication_next_cannot_leave_the_site(disagreement: Any, rita: Any) -> None:
    response = adjudicate(client_for(rita), disagreement, next="https://evil.example/")
    assert response["Location"] == "/p/demo/queue/"


def test_reviewer_adjudicates_with_htmx(disagreement: Any, rita: Any) -> None:
    response = adjudicate(client_for(rita), disagreement, htmx=True)
    content = body(response)
    assert response.status_code == 200
    assert content.lstrip().startswith(f'<article id="queue-item-{disagreement.pk}"')
    assert "Adjudicated</strong> by rita" in content
    assert json.loads(response["HX-Trigger"]) == {"claim-adjudicated": {"claim": disagreement.pk}}


def test_change_and_withdraw_adjudication(disagreement: Any, rita: Any) -> None:
    client = client_for(rita)
    adjudicate(client, disagreement)
    adjudicate(client, disagreement, status="supported", version=1)
    adjudicate(client, disagreement, status="withdraw", rationale="", version=2)
    actions = list(
        AuditEvent.objects.filter(action__startswith="adjudication").values_list(
            "action", flat=True
        )
    )
    assert actions == ["adjudication.set", "adjudication.changed", "adjudication.withdrawn"]
    disagreement.refresh_from_db()
    assert disagreement.final is None


def test_stale_adjudication_gets_a_conflict(disagreement: Any, rita: Any, alice: Any) -> None:
    adjudicate(client_for(rita), disagreement)
    before = AuditEvent.objects.count()
    response = adjudicate(client_for(alice), disagreement, status="supported", htmx=True)
    assert response.status_code == 409
    assert "changed the adjudication first" in body(response)
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    "data",
    [{"rationale": ""}, {"status": "maybe"}, {"rationale": "x" * 5001}, {"version": "v"}],
)
def test_invalid_adjudication_writes_nothing(disagreement: Any, rita: Any, data: Any) -> None:
    before = AuditEvent.objects.count()
    response = adjudicate(client_for(rita), disagreement, htmx=True, **data)
    assert response.status_code == 422
    assert AuditEvent.objects.count() == before


def test_analysts_and_viewers_cannot_adjudicate(disagreement: Any, bob: Any, victor: Any) -> None:
    assert adjudicate(client_for(bob), disagreement).status_code == 403
    assert adjudicate(client_for(victor), disagreement).status_code == 403
    assert client_for(bob).get(url("adjudicate", disagreement.pk)).status_code == 405
    assert not Adjudication.objects.exists()
    assert 'action="/p/demo/c/' not in body(client_for(bob).get(url("queue")))


def test_article_screen_shows_the_adjudication(disagreement: Any, rita: Any, bob: Any) -> None:
    disagreement.adjudicate(rita, "disputed", rationale="Settled by the ministry record.")
    panel = client_for(bob).get(url("claim-panel", disagreement.pk), **HTMX)
    assert "Settled by the ministry record." in body(panel)
    assert "Adjudicated</strong> by rita" in body(panel)


# Blind review ---------------------------------------------------------------------------


@pytest.fixture
def blind(disagreement: Any) -> Any:
    project = disagreement.article.project
    project.blind = True
    project.save()
    return disagreement


def test_blind_analyst_sees_nothing_of_others_anywhere(blind: Any, bob: Any) -> None:
    dana = make_user("dana")
    blind.article.project.set_member(dana, "analyst", actor=None)
    client = client_for(dana)
    pages = [
        client.get(url("article-consensus", blind.article_id)),
        client.get(url("queue")),
        client.get(url("article-consensus-export", blind.article_id, "csv")),
        client.get(url("article-consensus-export", blind.article_id, "json")),
        client.get(url("project-consensus-export", "json")),
        client.get(url("claim-panel", blind.pk), **HTMX),
        client.get(url("article-detail", blind.article_id) + f"?claim={blind.pk}"),
    ]
    contents = [body(response) for response in pages]
    for response, content in zip(pages, contents, strict=True):
        assert response.status_code == 200
        for rationale in ("Bob's reading", "Carol's reading"):  # in HTML, CSV and JSON forms
            assert rationale not in content and rationale.replace("'", "&#x27;") not in content
        assert "bob" not in content and "carol" not in content
    export = json.loads(contents[3])
    assert all(c["verdicts"] == {} and c["state"] is None for c in export["claims"])


def test_blind_analyst_sees_a_claim_after_tagging_it(blind: Any) -> None:
    dana = make_user("dana")
    blind.article.project.set_member(dana, "analyst", actor=None)
    blind.set_verdict(dana, "outdated")
    client = client_for(dana)
    export = json.loads(body(client.get(url("article-consensus-export", blind.article_id, "json"))))
    tagged = next(c for c in export["claims"] if c["claim"] == blind.pk)
    assert set(tagged["verdicts"]) == {"bob", "carol", "dana"}
    others = [c for c in export["claims"] if c["claim"] != blind.pk]
    assert all(c["verdicts"] == {} for c in others)
    assert "Bob&#x27;s reading" in body(client.get(url("article-consensus", blind.article_id)))


def test_reviewers_see_everything_in_blind_projects(blind: Any, rita: Any) -> None:
    export = json.loads(body(client_for(rita).get(url("project-consensus-export", "json"))))
    tagged = next(c for c in export["claims"] if c["claim"] == blind.pk)
    assert set(tagged["verdicts"]) == {"bob", "carol"}


def test_a_verdict_changed_after_seeing_the_team_is_shown_as_such(
    blind: Any, bob: Any, carol: Any, rita: Any
) -> None:
    """bob gave a verdict (which showed him the team's), then cleared it; carol changed
    hers after seeing bob's. Both are marked on the consensus screen and in exports."""
    bob_version = blind.verdicts.get(analyst=bob).version
    carol_version = blind.verdicts.get(analyst=carol).version
    panel = client_for(bob).get(url("claim-panel", blind.pk), **HTMX)
    assert "Carol&#x27;s reading" in body(panel)  # he has seen the team's verdicts
    blind.set_verdict(carol, "supported", rationale="Changed", expected_version=carol_version)
    blind.clear_verdict(bob, expected_version=bob_version)
    event = json.loads(AuditEvent.objects.latest("seq").body)
    assert event["target"]["after_seeing_team"] is True

    screen = body(client_for(rita).get(url("article-consensus", blind.article_id)))
    assert "bob cleared a verdict after seeing the team's" in screen
    assert "changed after seeing the team" in screen
    export = json.loads(
        body(client_for(rita).get(url("article-consensus-export", blind.article_id, "json")))
    )
    tagged = next(c for c in export["claims"] if c["claim"] == blind.pk)
    assert tagged["verdicts"]["carol"]["after_seeing_team"] is True
    assert tagged["cleared_after_seeing_team"] == ["bob"]
    untouched = next(c for c in export["claims"] if c["claim"] != blind.pk and c["verdicts"])
    assert all(v["after_seeing_team"] is False for v in untouched["verdicts"].values())
    csv_text = body(client_for(rita).get(url("article-consensus-export", blind.article_id, "csv")))
    assert "after seeing the team" in csv_text.splitlines()[0]


def test_changes_in_an_open_project_are_not_marked(disagreement: Any, bob: Any) -> None:
    version = disagreement.verdicts.get(analyst=bob).version
    disagreement.set_verdict(bob, "disputed", expected_version=version)
    assert disagreement.verdicts.get(analyst=bob).after_seeing_team is False


# Exports ------------------------------------------------------------------------------


def test_csv_export_has_a_row_per_claim_and_escapes_formulas(
    project: Any, bob: Any, carol: Any, victor: Any
) -> None:
    article = make_article(project, "Title Here\n\n=SUM(A1) is a formula. Plain text here.\n")
    first = article.claims.order_by("start").first()
    first.set_verdict(bob, "supported", rationale="+cmd")
    first.set_verdict(carol, "supported")
    response = client_for(victor).get(url("article-consensus-export", article.pk, "csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert len(rows) == article.claims.count()
    assert rows[0]["text"].startswith("'=SUM(A1)")
    assert (rows[0]["verdict:bob"], rows[0]["supported"], rows[0]["state"]) == (
        "supported",
        "2",
        "unanimous",
    )


def test_json_export_carries_citations_counts_and_adjudication(
    disagreement: Any, rita: Any, victor: Any
) -> None:
    disagreement.adjudicate(rita, "disputed", rationale="Final.")
    export = json.loads(body(client_for(victor).get(url("project-consensus-export", "json"))))
    record = next(c for c in export["claims"] if c["claim"] == disagreement.pk)
    assert record["counts"] == {"supported": 1, "disputed": 1, "outdated": 0}
    assert record["state"] == "adjudicated"
    assert record["adjudication"]["reviewer"] == "rita"
    assert record["verdicts"]["bob"]["rationale"] == "Bob's reading"
    assert export["raters"] == ["bob", "carol"]


def test_unknown_export_format_is_404(article: Any, victor: Any) -> None:
    assert (
        client_for(victor).get(url("article-consensus-export", article.pk, "xml")).status_code
        == 404
    )


# Query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize(("claims", "analysts"), [(20, 3), (1000, 10)])
def test_consensus_screen_query_count_is_fixed(
    project: Any, victor: Any, django_assert_num_queries: Any, claims: int, analysts: int
) -> None:
    text = "Sized Article\n\n" + "\n\n".join(f"Claim {i} holds true." for i in range(claims)) + "\n"
    article = make_article(project, text)
    people = [make_user(f"analyst{i}") for i in range(analysts)]
    statuses = ["supported", "disputed", "outdated"]
    # Volume data for a query count only: created in bulk, not through the write path.
    Verdict.objects.bulk_create(
        Verdict(claim=claim, analyst=person, status=statuses[(i + j) % 3], version=1)
        for i, claim in enumerate(article.claims.all())
        for j, person in enumerate(people)
    )
    client = client_for(victor)
    client.get(url("project-detail"))
    # No citations (the screen does not show them); one query for the verdicts that have
    # new evidence since (claims/recheck.py).
    with django_assert_num_queries(8):
        response = client.get(url("article-consensus", article.pk))
    assert response.status_code == 200
    assert response.context["summary"].verdicts == claims * analysts
    assert response.context["matching"] == claims
    assert len(response.context["rows"]) == min(claims, 100)  # a page of the table
