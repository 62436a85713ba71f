"""The article and consensus screens as they stood at a past moment, folded from the log."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.models import AuditEvent, Claim, Member
from claims.tally import Tally, tally


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def moment_now() -> str:
    latest = AuditEvent.objects.latest("seq").created_at
    return latest.strftime("%Y-%m-%dT%H:%M:%S.%f")


def live_tally(article: Any, user: Any) -> Tally:
    member = Member.of(article.project, user)
    assert member is not None
    return tally(Claim.objects.filter(article=article), member)


def live_consensus(article: Any, user: Any) -> dict[int, tuple[dict[str, int], str]]:
    return {row.claim.pk: (row.counts, row.state) for row in live_tally(article, user).rows}


def test_consensus_as_of_equals_what_the_screen_showed_then(
    article: Any, bob: Any, carol: Any, rita: Any, victor: Any
) -> None:
    first, second, third = article.claims.order_by("start")[:3]
    first.set_verdict(bob, "supported")
    first.set_verdict(carol, "disputed")
    second.set_verdict(bob, "supported")
    then_moment = moment_now()
    then = live_consensus(article, victor)
    then_summary = live_tally(article, victor).summary

    second.set_verdict(carol, "supported")
    first.adjudicate(rita, "disputed", rationale="Checked.")
    third.set_verdict(bob, "outdated")

    client = client_for(victor)
    url = reverse("article-consensus", args=["demo", article.pk])
    past = client.get(url, {"as_of": then_moment})
    rows = {row.claim.pk: (row.counts, row.state) for row in past.context["rows"]}
    assert rows == then
    assert past.context["summary"].alpha == then_summary.alpha
    assert "rebuilt from the audit log" in past.content.decode()
    now = client.get(url).context["rows"]
    assert {row.claim.pk: (row.counts, row.state) for row in now} == live_consensus(article, victor)
    assert {row.claim.pk: (row.counts, row.state) for row in now} != then


def test_article_screen_as_of_shows_the_old_verdicts_and_spans(
    article: Any, bob: Any, rita: Any
) -> None:
    claim = article.claims.order_by("start").first()
    claim.set_verdict(bob, "supported", rationale="At first")
    before_split = moment_now()
    claims_then = article.claims.count()
    claim.set_verdict(bob, "disputed", rationale="Later", expected_version=1)
    claim.refresh_from_db()
    claim.split(rita, at=claim.start + claim.text.index(" ") + 1, expected_version=1)

    client = client_for(bob)
    url = reverse("article-detail", args=["demo", article.pk])
    response = client.get(url, {"as_of": before_split, "claim": claim.pk})
    content = response.content.decode()
    assert response.context["total"] == claims_then
    assert f'id="claim-{claim.pk}"' in content and "claim v-supported" in content
    assert "Nothing can be changed from here" in content
    assert 'id="verdict-form"' not in content  # read-only
    assert response.context["progress"].mine == 1
    live = client.get(url)
    assert live.context["total"] == claims_then + 1
    assert "claim v-disputed" in live.content.decode()


def test_as_of_before_anything_shows_an_empty_article(article: Any, bob: Any) -> None:
    response = client_for(bob).get(
        reverse("article-detail", args=["demo", article.pk]), {"as_of": "2000-01-01"}
    )
    assert response.status_code == 200
    assert response.context["total"] == 0


def test_an_unreadable_moment_says_so_instead_of_showing_the_present(
    article: Any, bob: Any
) -> None:
    response = client_for(bob).get(
        reverse("article-detail", args=["demo", article.pk]), {"as_of": "last tuesday"}
    )
    assert response.status_code == 400
    assert "“last tuesday” is not a moment" in response.content.decode()
    assert "rebuilt from the audit log" not in response.content.decode()


def test_as_of_respects_blind_review(article: Any, bob: Any, carol: Any) -> None:
    project = article.project
    project.blind = True
    project.save()
    claim = article.claims.first()
    claim.set_verdict(carol, "disputed", rationale="Carol-only reasoning")
    stamp = moment_now()
    client = client_for(bob)
    for name in ("article-detail", "article-consensus"):
        response = client.get(
            reverse(name, args=["demo", article.pk]), {"as_of": stamp, "claim": claim.pk}
        )
        assert "Carol-only reasoning" not in response.content.decode()


def test_as_of_is_404_for_outsiders(article: Any, mallory: Any) -> None:
    for name in ("article-detail", "article-consensus"):
        response = client_for(mallory).get(
            reverse(name, args=["demo", article.pk]), {"as_of": "2030-01-01"}
        )
        assert response.status_code == 404


def test_as_of_pages_fold_the_log_once_per_moment(article: Any, bob: Any) -> None:
    first = article.claims.order_by("start").first()
    first.set_verdict(bob, "supported")
    url = reverse("article-detail", args=["demo", article.pk])
    client = client_for(bob)
    moment = moment_now()
    assert client.get(url, {"as_of": moment}).status_code == 200
    first.set_verdict(bob, "disputed", expected_version=1)  # later: the moment is unchanged
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"as_of": moment, "claim": first.pk})
    assert response.status_code == 200
    assert response.context["view"].my_status == "supported"
    reads = [q["sql"] for q in queries if "claims_auditevent" in q["sql"] and "body" in q["sql"]]
    assert reads == []
