"""The same claim in other articles: proposed on import and revision (no event of their own),
confirmed or rejected by a reviewer (one event each, revertable), shown in the panel's
section under blind review's rules, a verdict adopted from a linked claim, and a change on
one flagging the other for re-check."""

from __future__ import annotations

import datetime as dt
import json
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims import recurring
from claims.log.revert import plan
from claims.management.commands.recurring_quality import PRECISION_TARGET, RECALL_TARGET
from claims.models import (
    AuditEvent,
    Claim,
    ClaimLink,
    ClaimTerm,
    LinkState,
    Member,
    Project,
    Role,
    Verdict,
)
from claims.recheck import Freshness, Reason, verdict_due
from claims.revising import apply_revision, prepare_revision
from tests.base import HTMX, body, client_for, html, url
from tests.factories import make_article

ENERGY = (
    "Energy Notes\n\n"
    "Russia has joined forces with Saudi Arabia to curtail the oil output through the OPEC+ "
    "mechanism. Trade between the two countries grew last year.\n"
)
OIL = (
    "Oil Politics\n\n"
    "Russia has teamed up with Saudi Arabia to restrict oil production through the OPEC+ "
    "mechanism. Turkey remains an important partner of Moscow.\n"
)
UNRELATED = "Farm Notes\n\nWheat harvests in Kansas were larger than expected this summer.\n"


def events(project: Project) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(chain__project=project).order_by("seq"))


def first_claim(article: Any) -> Claim:
    claim: Claim = article.claims.order_by("start").first()
    return claim


@pytest.fixture
def pair(project: Project, alice: Any) -> tuple[Claim, Claim, ClaimLink]:
    """Two articles that say one thing in other words, and the link proposed between them."""
    energy = make_article(project, ENERGY, filename="energy.txt", actor=alice)
    oil = make_article(project, OIL, filename="oil.txt", actor=alice)
    first, second = first_claim(energy), first_claim(oil)
    link = ClaimLink.objects.get(claim_a=first, claim_b=second)
    first.article.project = second.article.project = project
    return first, second, link


def confirmed(link: ClaimLink, reviewer: Any) -> ClaimLink:
    return link.decide(reviewer, LinkState.CONFIRMED, expected_version=link.version)


# Proposals ------------------------------------------------------------------------------


def test_an_import_proposes_the_same_claim_elsewhere_in_its_one_event(
    project: Project, alice: Any
) -> None:
    energy = make_article(project, ENERGY, filename="energy.txt", actor=alice)
    before = events(project)
    oil = make_article(project, OIL, filename="oil.txt", actor=alice)
    after = events(project)
    assert [e.action for e in after[len(before) :]] == ["article.imported"]
    (link,) = ClaimLink.objects.filter(Q(claim_a__article=oil) | Q(claim_b__article=oil))
    assert (link.claim_a_id, link.claim_b_id) == (first_claim(energy).pk, first_claim(oil).pk)
    assert link.state == LinkState.PROPOSED and link.score >= recurring.CUTOFF
    # The other claims are not the same claim, and claims of one article are never paired.
    assert ClaimLink.objects.count() == 1
    assert ClaimTerm.objects.filter(claim=first_claim(oil), term="saudi").exists()


def test_an_unrelated_import_proposes_nothing(project: Project, alice: Any) -> None:
    make_article(project, ENERGY, filename="energy.txt", actor=alice)
    make_article(project, UNRELATED, filename="farm.txt", actor=alice)
    assert not ClaimLink.objects.exists()


def test_projects_never_link_to_each_other(project: Project, alice: Any) -> None:
    other = Project.create("other", "Other", admin=alice)
    make_article(project, ENERGY, filename="energy.txt", actor=alice)
    make_article(other, OIL, filename="oil.txt", actor=alice)
    assert not ClaimLink.objects.exists()


def test_a_revision_proposes_for_its_reworded_and_added_claims_in_its_one_event(
    project: Project, alice: Any
) -> None:
    energy = make_article(project, ENERGY, filename="energy.txt", actor=alice)
    farm = make_article(project, UNRELATED, filename="farm.txt", actor=alice)
    assert not ClaimLink.objects.exists()
    before = len(events(project))
    revised = UNRELATED + (
        "\nRussia has teamed up with Saudi Arabia to restrict oil production through the "
        "OPEC+ mechanism.\n"
    )
    apply_revision(prepare_revision(farm, revised.encode(), filename="farm-2.txt"), actor=alice)
    assert [e.action for e in events(project)[before:]] == ["article.revised"]
    (link,) = ClaimLink.objects.all()
    assert link.claim_a_id == first_claim(energy).pk
    added = Claim.objects.get(pk=link.claim_b_id)
    assert added.article_id == farm.pk and "teamed up" in added.text


def test_a_decided_pair_is_never_proposed_again(
    pair: tuple[Claim, Claim, ClaimLink], rita: Any, alice: Any
) -> None:
    first, second, link = pair
    link.decide(rita, LinkState.REJECTED, expected_version=0)
    project = first.article.project
    recurring.propose(project, second.article, [(second.pk, second.start, second.end)])
    link.refresh_from_db()
    assert link.state == LinkState.REJECTED and ClaimLink.objects.count() == 1


def test_candidates_are_the_claims_sharing_words_in_other_articles(
    project: Project, alice: Any
) -> None:
    energy = make_article(project, ENERGY, filename="energy.txt", actor=alice)
    oil = make_article(project, OIL, filename="oil.txt", actor=alice)
    texts = [recurring.Text(c.pk, oil.pk, c.text) for c in oil.claims.order_by("start")]
    found = recurring.candidates(project, oil.pk, texts)
    assert found == {texts[0].claim: [first_claim(energy).pk], texts[1].claim: []}


# Deciding: one event each, revertable -------------------------------------------------


def test_confirming_writes_one_event_with_the_pair(
    pair: tuple[Claim, Claim, ClaimLink], rita: Any
) -> None:
    first, second, link = pair
    project = first.article.project
    before = len(events(project))
    response = client_for(rita).post(
        url("link-decide", link.pk), {"state": "confirmed", "version": 0, "claim": second.pk}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"?claim={second.pk}#claim-{second.pk}")
    (event,) = events(project)[before:]
    data = json.loads(event.body)
    assert event.action == "claim.same_confirmed" and data["actor"] == "rita"
    assert data["target"] == {
        "type": "same_claim",
        "link": link.pk,
        "claim": first.pk,
        "article": first.article_id,
        "other": second.pk,
    }
    assert data["before"] == {"state": "proposed", "score": link.score}
    assert data["after"] == {"state": "confirmed", "score": link.score}
    assert (event.claim_id, event.other_claim_id, event.article_id) == (
        first.pk,
        second.pk,
        first.article_id,
    )
    link.refresh_from_db()
    assert (link.state, link.version, link.decided_by) == ("confirmed", 1, rita)


def test_rejecting_under_htmx_answers_the_section_and_an_event(
    pair: tuple[Claim, Claim, ClaimLink], rita: Any
) -> None:
    first, second, link = pair
    response = client_for(rita).post(
        url("link-decide", link.pk),
        {"state": "rejected", "version": 0, "claim": first.pk},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "links-changed"
    assert response["HX-Retarget"] == "#same-claim"
    section = html(response).by_id("same-claim")
    assert "No other article has this claim" in section.content()
    assert AuditEvent.objects.filter(action="claim.same_rejected").count() == 1


def test_a_confirmation_reverts_to_a_proposal(
    pair: tuple[Claim, Claim, ClaimLink], rita: Any
) -> None:
    first, _second, link = pair
    project = first.article.project
    confirmed(link, rita)
    event = AuditEvent.objects.get(action="claim.same_confirmed")
    planned = plan(project, event)
    assert (planned.current, planned.restores, planned.changed_since) == (
        {"state": "confirmed"},
        {"state": "proposed"},
        False,
    )
    planned.apply(Member(rita, project, Role.REVIEWER), planned.version)
    link.refresh_from_db()
    assert (link.state, link.decided_by, link.version) == ("proposed", None, 2)
    last = events(project)[-1]
    data = json.loads(last.body)
    assert last.action == "claim.same_reopened" and data["reverts"] == event.seq
    assert data["before"]["state"] == "confirmed" and data["after"]["state"] == "proposed"


def test_the_revert_page_reverts_a_rejection(
    pair: tuple[Claim, Claim, ClaimLink], rita: Any
) -> None:
    _first, _second, link = pair
    link.decide(rita, LinkState.REJECTED, expected_version=0)
    event = AuditEvent.objects.get(action="claim.same_rejected")
    response = client_for(rita).post(url("event-revert", event.seq), {"version": 1})
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.state == LinkState.PROPOSED


def test_a_stale_decision_is_a_conflict_and_changes_nothing(
    pair: tuple[Claim, Claim, ClaimLink], rita: Any, alice: Any
) -> None:
    first, _second, link = pair
    confirmed(link, alice)
    before = len(events(first.article.project))
    response = client_for(rita).post(
        url("link-decide", link.pk), {"state": "rejected", "version": 0, "claim": first.pk}, **HTMX
    )
    assert response.status_code == 409
    assert "decided this link first" in body(response)
    link.refresh_from_db()
    assert link.state == LinkState.CONFIRMED
    assert len(events(first.article.project)) == before


@pytest.mark.parametrize(
    "data",
    [
        {"state": "maybe", "version": 0},
        {"state": "confirmed", "version": "x"},
        {"state": "proposed", "version": 0},  # only a revert puts a link back
        {"version": 0},
    ],
)
def test_a_bad_decision_is_refused_with_a_message(
    pair: tuple[Claim, Claim, ClaimLink], rita: Any, data: dict[str, Any]
) -> None:
    first, _second, link = pair
    response = client_for(rita).post(url("link-decide", link.pk), {**data, "claim": first.pk})
    assert response.status_code == 422
    assert "Choose to confirm or reject the link." in body(response)
    link.refresh_from_db()
    assert link.state == LinkState.PROPOSED
    assert not AuditEvent.objects.filter(action__startswith="claim.same").exists()


def test_analysts_may_not_decide(pair: tuple[Claim, Claim, ClaimLink], bob: Any) -> None:
    first, _second, link = pair
    response = client_for(bob).post(
        url("link-decide", link.pk), {"state": "confirmed", "version": 0, "claim": first.pk}
    )
    assert response.status_code == 403
    link.refresh_from_db()
    assert link.state == LinkState.PROPOSED


# The panel's section ----------------------------------------------------------------------


def test_the_panel_loads_the_section_after_itself(pair: tuple[Claim, Claim, ClaimLink], bob: Any):
    _first, second, _link = pair
    response = client_for(bob).get(url("claim-panel", second.pk), **HTMX)
    (lazy,) = html(response).select("section", id="same-claim")
    assert lazy.attrs["hx-get"] == url("claim-same", second.pk)
    assert lazy.attrs["hx-trigger"] == "load"
    (link,) = lazy.select("a", href=url("claim-same", second.pk))  # and without JavaScript


def test_reviewers_see_proposals_with_buttons_and_analysts_do_not(
    pair: tuple[Claim, Claim, ClaimLink], bob: Any, rita: Any
) -> None:
    first, second, link = pair
    shown = html(client_for(rita).get(url("claim-same", second.pk), **HTMX))
    item = shown.by_id(f"link-{link.pk}")
    assert "Proposed" in item.content() and first.text in item.content()
    assert {b.attrs["value"] for b in item.select("button", name="state")} == {
        "confirmed",
        "rejected",
    }
    hidden = html(client_for(bob).get(url("claim-same", second.pk), **HTMX))
    assert not hidden.find(lambda n: n.attrs.get("id") == f"link-{link.pk}")


def test_a_confirmed_link_shows_the_other_claims_verdicts_ruling_and_evidence(
    pair: tuple[Claim, Claim, ClaimLink], bob: Any, carol: Any, rita: Any
) -> None:
    first, second, link = pair
    confirmed(link, rita)
    first.set_verdict(carol, "disputed", rationale="Output rose.")
    first.adjudicate(rita, "disputed", rationale="Ruled.")
    first.add_evidence(carol, url="https://example.org/opec", stance="contradicts", title="OPEC")
    response = client_for(bob).get(url("claim-same", second.pk), **HTMX)
    item = html(response).by_id(f"link-{link.pk}")
    text = item.content()
    assert "carol" in text and "Output rose." in text and "Ruled." in text and "OPEC" in text
    assert first.article.title in text
    (adopt,) = item.select("button", data_key="a")
    assert "Adopt this verdict" in adopt.content()


def test_the_section_has_a_page_of_its_own_without_javascript(
    pair: tuple[Claim, Claim, ClaimLink], victor: Any
) -> None:
    _first, second, _link = pair
    response = client_for(victor).get(url("claim-same", second.pk))
    assert response.status_code == 200
    page = html(response)
    assert page.select("h1") and page.by_id("same-claim")
    assert not page.select("button", data_key="a")  # viewers adopt nothing


def test_claims_citing_the_same_source_and_date_are_listed(project: Project, bob: Any) -> None:
    one = make_article(
        project, "One\n\nWheat prices rose in May (Reuters, May 3, 2021).\n", filename="1.txt"
    )
    two = make_article(
        project, "Two\n\nCorn exports fell sharply (Reuters, May 3, 2021).\n", filename="2.txt"
    )
    three = make_article(
        project, "Three\n\nRice stocks were low (Reuters, June 3, 2021).\n", filename="3.txt"
    )
    response = client_for(bob).get(url("claim-same", first_claim(one).pk), **HTMX)
    text = html(response).by_id("same-claim").content()
    assert first_claim(two).text in text
    assert first_claim(three).text not in text


# Adopting a verdict ------------------------------------------------------------------------


def test_adopting_writes_one_verdict_event_that_names_its_source(
    pair: tuple[Claim, Claim, ClaimLink], bob: Any, carol: Any, rita: Any
) -> None:
    first, second, link = pair
    confirmed(link, rita)
    first.set_verdict(carol, "outdated", rationale="Old deal.", as_of=dt.date(2021, 1, 1))
    project = first.article.project
    before = len(events(project))
    response = client_for(bob).post(
        url("claim-adopt", second.pk), {"source": first.pk, "version": 0}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#claim-panel"
    assert json.loads(response["HX-Trigger"]) == {"verdict-changed": {"claim": second.pk}}
    (event,) = events(project)[before:]
    data = json.loads(event.body)
    assert event.action == "verdict.set" and event.claim_id == second.pk
    assert data["target"]["adopted_from"] == first.pk
    assert data["after"] == {"status": "outdated", "rationale": "Old deal.", "as_of": "2021-01-01"}
    verdict = Verdict.objects.get(claim=second, analyst=bob)
    assert (verdict.status, verdict.rationale, verdict.as_of) == (
        "outdated",
        "Old deal.",
        dt.date(2021, 1, 1),
    )


def test_adopting_without_javascript_redirects_to_the_claim(
    pair: tuple[Claim, Claim, ClaimLink], bob: Any, carol: Any, rita: Any
) -> None:
    first, second, link = pair
    confirmed(link, rita)
    first.adjudicate(rita, "supported", rationale="Confirmed by OPEC.")
    response = client_for(bob).post(
        url("claim-adopt", second.pk), {"source": first.pk, "version": 0}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"?claim={second.pk}#claim-{second.pk}")
    # No verdict of their own there: the ruling is what they adopt.
    assert Verdict.objects.get(claim=second, analyst=bob).rationale == "Confirmed by OPEC."


def test_adopting_from_a_proposal_only_is_refused(
    pair: tuple[Claim, Claim, ClaimLink], bob: Any, carol: Any
) -> None:
    first, second, _link = pair
    first.set_verdict(carol, "disputed")
    response = client_for(bob).post(
        url("claim-adopt", second.pk), {"source": first.pk, "version": 0}, **HTMX
    )
    assert response.status_code == 409
    assert "not confirmed as the same claim" in body(response)
    assert not Verdict.objects.filter(claim=second).exists()


@pytest.mark.parametrize("data", [{"source": "", "version": 0}, {"source": "1", "version": "-1"}])
def test_a_bad_adoption_is_refused(
    pair: tuple[Claim, Claim, ClaimLink], bob: Any, data: dict[str, Any]
) -> None:
    _first, second, _link = pair
    before = AuditEvent.objects.count()
    response = client_for(bob).post(url("claim-adopt", second.pk), data, **HTMX)
    assert response.status_code == 422
    assert "Choose a linked claim" in body(response)
    assert AuditEvent.objects.count() == before


def test_a_stale_adoption_is_a_conflict(
    pair: tuple[Claim, Claim, ClaimLink], bob: Any, carol: Any, rita: Any
) -> None:
    first, second, link = pair
    confirmed(link, rita)
    first.set_verdict(carol, "disputed")
    second.set_verdict(bob, "supported")
    response = client_for(bob).post(
        url("claim-adopt", second.pk), {"source": first.pk, "version": 0}, **HTMX
    )
    assert response.status_code == 409
    assert Verdict.objects.get(claim=second, analyst=bob).status == "supported"


# Re-check, and blind review -------------------------------------------------------------


def test_a_verdict_change_flags_the_confirmed_twin_for_recheck(
    pair: tuple[Claim, Claim, ClaimLink], bob: Any, carol: Any, rita: Any
) -> None:
    first, second, link = pair
    mine = second.set_verdict(bob, "supported")
    first.set_verdict(carol, "supported")  # a proposal flags nothing
    second.refresh_from_db()
    assert second.evidence_changed_at is None
    confirmed(link, rita)
    first.set_verdict(carol, "disputed", expected_version=1)
    second.refresh_from_db()
    assert second.evidence_changed_at is not None and second.evidence_changed_at > mine.checked_at
    due = verdict_due(mine, second, Freshness(), timezone.localdate())
    assert Reason.NEW_EVIDENCE in due.reasons
    # carol's own verdict on the twin, given before: she knows what she said on the other.
    hers = second.set_verdict(carol, "supported")
    Verdict.objects.filter(pk=hers.pk).update(checked_at=mine.checked_at)
    first.set_verdict(carol, "supported", expected_version=2)
    second.refresh_from_db()
    hers.refresh_from_db()
    assert not verdict_due(hers, second, Freshness(), timezone.localdate()).new_evidence
    assert verdict_due(mine, second, Freshness(), timezone.localdate()).new_evidence


def test_the_flag_reaches_a_confirmed_twin_from_either_side_and_nothing_else(
    pair: tuple[Claim, Claim, ClaimLink], bob: Any, carol: Any, rita: Any
) -> None:
    """``flag_same_claims`` is one hand-written UPDATE: the twin on either side of a
    confirmed link, and no claim that a rejected link or no link ties to the claim."""
    first, second, link = pair  # first is the link's claim_a
    confirmed(link, rita)
    second.set_verdict(bob, "supported")  # from the link's claim_b side
    first.refresh_from_db()
    assert first.evidence_changed_at is not None
    rejected = ClaimLink.objects.get(pk=link.pk)
    rejected.decide(rita, LinkState.REJECTED, expected_version=rejected.version)
    Claim.all_objects.update(evidence_changed_at=None)
    second.set_verdict(bob, "disputed", expected_version=1)
    first.set_verdict(carol, "disputed")
    assert not Claim.all_objects.filter(evidence_changed_at__isnull=False).exists()


def test_flagging_the_twins_reads_them_by_index_not_every_claim(
    pair: tuple[Claim, Claim, ClaimLink], carol: Any, rita: Any
) -> None:
    """Every verdict and ruling flags the claim's confirmed twins (``flag_same_claims``).
    The UPDATE must find them through the links and the claims' primary key: written as
    ``id IN (...) OR id IN (...)``, PostgreSQL read every claim of every project for each
    verdict (7.6 ms at 105,000 claims). The plan is read with sequential scans made as
    dear as they go, so that a tiny table's cheap scan does not hide a missing path."""
    first, second, link = pair
    confirmed(link, rita)
    with CaptureQueriesContext(connection) as captured:
        first.set_verdict(carol, "disputed")
    second.refresh_from_db()
    assert second.evidence_changed_at is not None  # the twin was flagged
    (flag,) = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('UPDATE "claims_claim" SET "evidence_changed_at"')
    ]
    claim_id = str(first.pk)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {flag}")
            plan = [line for (line,) in cursor.fetchall()]
            scans = [line for line in plan if "Seq Scan on claims_claim " in line + " "]
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {flag}")
            plan = [row[-1] for row in cursor.fetchall()]
            scans = [line for line in plan if line.startswith("SCAN claims_claim")]
    assert claim_id in flag and scans == [], plan


def test_a_ruling_flags_the_twin_too(
    pair: tuple[Claim, Claim, ClaimLink], bob: Any, rita: Any
) -> None:
    first, second, link = pair
    confirmed(link, rita)
    second.adjudicate(rita, "supported", rationale="Clear.")
    first.refresh_from_db()
    assert first.evidence_changed_at is not None


@pytest.fixture
def blind(pair: tuple[Claim, Claim, ClaimLink], rita: Any, carol: Any) -> tuple[Claim, Claim]:
    first, second, link = pair
    Project.objects.filter(pk=first.article.project.pk).update(blind=True)
    confirmed(link, rita)
    first.set_verdict(carol, "disputed", rationale="Carol's secret.")
    first.add_evidence(carol, url="https://example.org/secret", stance="contradicts")
    return first, second


def test_blind_review_hides_the_twins_verdicts_until_ones_own_there(
    blind: tuple[Claim, Claim], bob: Any, rita: Any
) -> None:
    first, second = blind
    page = html(client_for(bob).get(url("claim-same", second.pk), **HTMX))
    text = page.by_id("same-claim").content()
    assert "Carol's secret." not in text and "example.org/secret" not in text
    assert "Blind review" in text and not page.select("button", data_key="a")
    first.set_verdict(bob, "supported")
    text = html(client_for(bob).get(url("claim-same", second.pk), **HTMX)).content()
    assert "Carol's secret." in text
    assert "Carol's secret." in html(client_for(rita).get(url("claim-same", second.pk))).content()


def test_blind_review_refuses_adopting_what_one_may_not_see(
    blind: tuple[Claim, Claim], bob: Any
) -> None:
    first, second = blind
    before = AuditEvent.objects.count()
    response = client_for(bob).post(
        url("claim-adopt", second.pk), {"source": first.pk, "version": 0}, **HTMX
    )
    assert response.status_code == 409
    assert "Carol" not in body(response) and "secret" not in body(response)
    assert AuditEvent.objects.count() == before
    # Their own verdict there is theirs to adopt.
    first.set_verdict(bob, "outdated", as_of=dt.date(2020, 5, 1))
    client_for(bob).post(url("claim-adopt", second.pk), {"source": first.pk, "version": 0})
    assert Verdict.objects.get(claim=second, analyst=bob).status == "outdated"


def test_wrong_methods_are_405(pair: tuple[Claim, Claim, ClaimLink], alice: Any) -> None:
    _first, second, link = pair
    client = client_for(alice)
    assert client.post(url("claim-same", second.pk)).status_code == 405
    assert client.get(url("claim-adopt", second.pk)).status_code == 405
    assert client.get(url("link-decide", link.pk)).status_code == 405


# How well it finds them -------------------------------------------------------------------


def test_the_quality_command_meets_its_targets(db: Any) -> None:
    out = StringIO()
    call_command("recurring_quality", stdout=out)
    printed = out.getvalue()
    recall, precision = (
        float(n) / 100 for n in re.findall(r"(?:recall|precision) ([\d.]+)%", printed)
    )
    assert recall >= RECALL_TARGET and precision >= PRECISION_TARGET, printed
    assert not Project.objects.filter(slug="recurring-quality").exists()  # rolled back
