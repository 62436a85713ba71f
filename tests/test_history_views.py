"""Revision history: claim timelines, activity pages, and revert."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from claims.log.integrity import snapshot, table_rows
from claims.models import Adjudication, AuditEvent, Claim, Evidence, Verdict
from tests.base import client_for, url
from tests.factories import make_article, make_user
from tests.test_fold import folded


def latest() -> dict[str, Any]:
    return json.loads(AuditEvent.objects.latest("seq").body)


def seq_of(action: str) -> int:
    return AuditEvent.objects.filter(action=action).latest("seq").seq


# Timeline -----------------------------------------------------------------------------


def test_timeline_says_who_did_what_with_diffs(claim: Any, bob: Any, victor: Any) -> None:
    claim.set_verdict(bob, "supported", rationale="The readout says so")
    claim.set_verdict(
        bob,
        "outdated",
        rationale="The readout no longer says so",
        as_of=dt.date(2022, 2, 24),
        expected_version=1,
    )
    content = client_for(victor).get(url("claim-history", claim.pk)).content.decode()
    assert (
        "<strong>bob</strong> changed their verdict from supported to outdated, since 2022-02-24"
        in content
    )
    assert "<strong>bob</strong> set their verdict to supported" in content
    assert "<ins>no longer</ins>" in content  # word diff of the rationale
    assert "<td>supported</td><td>outdated</td>" in " ".join(content.split()).replace("> <", "><")


def test_timeline_covers_the_new_part_of_a_split(claim: Any, rita: Any, victor: Any) -> None:
    _left, right = claim.split(rita, at=claim.start + claim.text.index(" ") + 1, expected_version=1)
    content = client_for(victor).get(url("claim-history", right.pk)).content.decode()
    assert "split the claim in two" in content


def test_history_pages_are_404_for_outsiders_and_405_for_posts(
    claim: Any, mallory: Any, bob: Any
) -> None:
    for target in (
        url("claim-history", claim.pk),
        url("article-activity", claim.article_id),
        url("project-activity"),
    ):
        assert client_for(mallory).get(target).status_code == 404
        assert client_for(bob).post(target).status_code == 405


def test_blind_analyst_sees_only_their_own_events_on_untagged_claims(
    claim: Any, bob: Any, carol: Any
) -> None:
    project = claim.article.project
    project.blind = True
    project.save()
    claim.set_verdict(carol, "disputed", rationale="Carol-only reasoning")
    client = client_for(bob)
    for target in (url("claim-history", claim.pk), url("project-activity")):
        assert "Carol-only reasoning" not in client.get(target).content.decode()
    claim.set_verdict(bob, "supported")
    assert "Carol-only reasoning" in client.get(url("claim-history", claim.pk)).content.decode()


# Activity -----------------------------------------------------------------------------


def test_activity_filters_by_actor_action_and_date(
    claim: Any, bob: Any, carol: Any, victor: Any
) -> None:
    claim.set_verdict(bob, "supported")
    claim.add_evidence(carol, url="https://example.org/x", stance="context")
    client = client_for(victor)
    by_bob = client.get(url("project-activity") + "?actor=bob").context["entries"]
    assert {e.actor for e in by_bob} == {"bob"}
    evidence = client.get(url("project-activity") + "?action=evidence").context["entries"]
    assert [e.action for e in evidence] == ["evidence.added"]
    today = dt.date.today().isoformat()
    assert client.get(url("project-activity") + f"?since={today}").context["entries"]
    assert not client.get(url("project-activity") + "?until=2000-01-01").context["entries"]
    bad = client.get(url("project-activity") + "?since=yesterday")
    assert bad.status_code == 200
    assert "an unreadable date was left out" in bad.content.decode()


def test_activity_pages_by_keyset(claim: Any, bob: Any, victor: Any) -> None:
    for i in range(60):
        claim.set_verdict(bob, ["supported", "disputed"][i % 2], expected_version=i)
    client = client_for(victor)
    first = client.get(url("article-activity", claim.article_id))
    entries = first.context["entries"]
    assert len(entries) == 50
    assert first.context["next_query"]
    second = client.get(
        url("article-activity", claim.article_id) + "?" + first.context["next_query"]
    )
    older = second.context["entries"]
    assert older and max(e.seq for e in older) < min(e.seq for e in entries)
    assert (
        len(entries) + len(older) == AuditEvent.objects.filter(article_id=claim.article_id).count()
    )


@pytest.mark.parametrize("events", [5, 200])
def test_activity_and_timeline_query_counts_are_fixed(
    claim: Any, bob: Any, victor: Any, django_assert_num_queries: Any, events: int
) -> None:
    for i in range(events):
        claim.set_verdict(bob, ["supported", "disputed"][i % 2], expected_version=i)
    client = client_for(victor)
    client.get(url("project-detail"))
    with django_assert_num_queries(5):
        assert client.get(url("project-activity")).status_code == 200
    with django_assert_num_queries(6):
        assert client.get(url("article-activity", claim.article_id)).status_code == 200
    # The claim and the member's role in one query; one more for the timeline.
    with django_assert_num_queries(6):
        assert client.get(url("claim-history", claim.pk)).status_code == 200


# Revert -------------------------------------------------------------------------------


def revert(client: Client, seq: int, **data: Any) -> Any:
    return client.post(url("event-revert", seq), data)


def test_reverting_a_verdict_change_reapplies_the_old_value(claim: Any, bob: Any) -> None:
    claim.set_verdict(bob, "supported", rationale="first")
    claim.set_verdict(bob, "disputed", rationale="second", expected_version=1)
    target = seq_of("verdict.changed")
    response = revert(client_for(bob), target)
    assert response.status_code == 302
    verdict = Verdict.objects.get(claim=claim, analyst=bob)
    assert (verdict.status, verdict.rationale, verdict.version) == ("supported", "first", 3)
    event = latest()
    assert (event["action"], event["reverts"], event["after"]["status"]) == (
        "verdict.changed",
        target,
        "supported",
    )


def test_reverting_a_first_verdict_clears_it(claim: Any, bob: Any) -> None:
    claim.set_verdict(bob, "supported")
    revert(client_for(bob), seq_of("verdict.set"))
    assert Verdict.objects.get(claim=claim, analyst=bob).status == ""
    assert latest()["action"] == "verdict.cleared"


def test_revert_after_a_later_change_asks_first(claim: Any, bob: Any) -> None:
    claim.set_verdict(bob, "supported")
    claim.set_verdict(bob, "disputed", expected_version=1)
    claim.set_verdict(bob, "outdated", expected_version=2)
    target = seq_of("verdict.changed")  # the change to outdated is the latest; revert the first
    first_change = AuditEvent.objects.filter(action="verdict.changed").earliest("seq").seq
    assert first_change != target
    before = AuditEvent.objects.count()
    client = client_for(bob)
    response = revert(client, first_change)
    assert response.status_code == 409
    assert "has changed since event" in response.content.decode()
    assert AuditEvent.objects.count() == before
    stale = revert(client, first_change, confirm="1", version="2")
    assert stale.status_code == 409
    assert "changed again" in stale.content.decode()
    assert AuditEvent.objects.count() == before
    done = revert(client, first_change, confirm="1", version="3")
    assert done.status_code == 302
    assert Verdict.objects.get(claim=claim, analyst=bob).status == "supported"
    assert latest()["reverts"] == first_change


def test_only_the_analyst_reverts_their_verdict(
    claim: Any, bob: Any, carol: Any, victor: Any
) -> None:
    claim.set_verdict(bob, "supported")
    target = seq_of("verdict.set")
    before = AuditEvent.objects.count()
    assert revert(client_for(carol), target).status_code == 403
    assert revert(client_for(victor), target).status_code == 403
    assert client_for(bob).get(url("event-revert", target)).status_code == 405
    assert AuditEvent.objects.count() == before


def test_reverting_evidence_added_removes_it_and_back(claim: Any, bob: Any) -> None:
    evidence = claim.add_evidence(bob, url="https://example.org/e", stance="supports")
    client = client_for(bob)
    revert(client, seq_of("evidence.added"))
    assert Evidence.objects.get(pk=evidence.pk).removed_at is not None
    revert(client, seq_of("evidence.removed"))
    assert Evidence.objects.get(pk=evidence.pk).removed_at is None
    assert latest()["action"] == "evidence.restored"


def test_reviewer_reverts_a_text_correction(claim: Any, rita: Any, bob: Any) -> None:
    original = (claim.start, claim.end)
    claim.correct_span(rita, start=claim.start, end=claim.end - 1, expected_version=1)
    target = seq_of("claim.span_corrected")
    assert revert(client_for(bob), target).status_code == 403
    assert revert(client_for(rita), target).status_code == 302
    claim.refresh_from_db()
    assert (claim.start, claim.end) == original


def test_reviewer_reverts_an_adjudication_change_and_a_first_one(
    claim: Any, rita: Any, bob: Any
) -> None:
    claim.adjudicate(rita, "supported", rationale="first ruling")
    claim.adjudicate(
        rita, "outdated", rationale="second", as_of=dt.date(2022, 2, 24), expected_version=1
    )
    changed = seq_of("adjudication.changed")
    assert revert(client_for(bob), changed).status_code == 403
    assert revert(client_for(rita), changed).status_code == 302
    adjudication = Adjudication.objects.get(claim=claim)
    assert (adjudication.status, adjudication.rationale, adjudication.as_of) == (
        "supported",
        "first ruling",
        None,
    )
    assert (latest()["action"], latest()["reverts"]) == ("adjudication.changed", changed)
    # The ruling stands as the first event left it, so reverting that one needs no
    # confirmation: it withdraws the ruling.
    first = seq_of("adjudication.set")
    assert revert(client_for(rita), first).status_code == 302
    assert Adjudication.objects.get(claim=claim).status == ""
    assert (latest()["action"], latest()["reverts"]) == ("adjudication.withdrawn", first)


def test_a_split_reverts_by_merging_the_parts_back(claim: Any, bob: Any, rita: Any) -> None:
    text, number = claim.text, claim.ordinal
    claim.set_verdict(bob, "supported")
    left, right = claim.split(rita, at=claim.start + claim.text.index(" ") + 1, expected_version=1)
    split = seq_of("claim.split")
    assert revert(client_for(bob), split).status_code == 403  # reviewers undo edits
    assert revert(client_for(rita), split).status_code == 302
    assert (latest()["action"], latest()["reverts"]) == ("claim.merged", split)
    back = Claim.objects.get(pk=claim.pk)
    assert (back.text, back.ordinal) == (text, number)
    assert not Claim.objects.filter(pk=right.pk).exists()
    assert back.verdicts.get(analyst=bob).status == "supported"  # the copies agreed


def test_a_merge_reverts_with_each_part_s_verdicts_and_evidence_as_they_were(
    article: Any, project: Any, bob: Any, carol: Any, rita: Any
) -> None:
    first = next(c for c in article.claims.order_by("start") if c.next_in_sentence())
    second = first.next_in_sentence()
    texts = (first.text, second.text)
    numbers = dict(article.claims.values_list("pk", "ordinal"))
    first.set_verdict(bob, "supported", rationale="first part holds")
    second.set_verdict(bob, "disputed", rationale="second part does not")
    second.set_verdict(carol, "outdated", rationale="only the second", as_of=dt.date(2022, 1, 1))
    evidence = second.add_evidence(carol, url="https://example.org/e", stance="contradicts")
    first.refresh_from_db()
    first.merge_next(rita, expected_version=first.version)
    assert first.verdicts.get(analyst=bob).status == ""  # they differed: cleared
    merged = seq_of("claim.merged")

    assert revert(client_for(bob), merged).status_code == 403
    assert revert(client_for(rita), merged).status_code == 302
    assert (latest()["action"], latest()["reverts"]) == ("claim.unmerged", merged)
    left = Claim.objects.get(pk=first.pk)
    right = left.next_in_sentence()
    assert right is not None
    assert (left.text, right.text) == texts
    assert right.ordinal == numbers[second.pk]  # its own number again
    assert dict(article.claims.values_list("pk", "ordinal")) == {
        **{pk: n for pk, n in numbers.items() if pk != second.pk},
        right.pk: numbers[second.pk],
    }
    mine = {
        (v.claim_id, v.analyst.username): (v.status, v.rationale) for v in Verdict.objects.all()
    }
    assert mine[(left.pk, "bob")] == ("supported", "first part holds")
    assert mine[(right.pk, "bob")] == ("disputed", "second part does not")
    assert mine[(right.pk, "carol")] == ("outdated", "only the second")
    assert (left.pk, "carol") not in mine or mine[(left.pk, "carol")][0] == ""
    assert Evidence.objects.get(pk=evidence.pk).claim_id == right.pk
    assert table_rows(folded(project)) == table_rows(snapshot(project))


def test_revert_of_another_projects_event_is_404(project: Any, bob: Any, mallory: Any) -> None:
    from tests.factories import make_project

    other = make_project("other", admin=mallory)
    make_article(other)
    seq = other.chain.events.latest("seq").seq + 100
    assert revert(client_for(bob), seq).status_code == 404
    dana = make_user("dana")
    assert revert(client_for(dana), 1).status_code == 404
