"""The re-check screens: the Due queue, the marks on due claims in the article, the claim
panel's line and its "Still holds" button, the consensus screen's flags, and the project's
freshness settings. Blind review holds throughout: flags go to the analyst concerned, and
others' only to those who have given their own verdict on the claim.

Time: stored timestamps are set in the past (``checked_at`` days ago), and what is due is
computed from today, as the views do."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims.models import AuditEvent, Claim, Project, Role, Verdict
from tests.base import HTMX, body, client_for, html, url
from tests.factories import add_member, make_article, make_project

DAY = dt.timedelta(days=1)


def days_ago(verdict: Verdict, days: int) -> None:
    """The analyst last stood by ``verdict`` this many days ago."""
    Verdict.objects.filter(pk=verdict.pk).update(checked_at=timezone.now() - days * DAY)


def events() -> list[dict[str, Any]]:
    return [json.loads(b) for b in AuditEvent.objects.order_by("pk").values_list("body", flat=True)]


@pytest.fixture
def claims(article: Any) -> list[Claim]:
    return list(article.claims.order_by("start"))


@pytest.fixture
def blind(alice: Any, bob: Any, carol: Any, rita: Any, victor: Any) -> Project:
    project = make_project("blind", admin=alice, name="Blind project", blind=True)
    for person, role in ((bob, Role.ANALYST), (carol, Role.ANALYST), (rita, Role.REVIEWER)):
        add_member(project, person, role)
    add_member(project, victor, Role.VIEWER)
    return project


def blind_url(name: str, *args: Any) -> str:
    from django.urls import reverse

    return reverse(name, args=["blind", *args])


# The Due queue ---------------------------------------------------------------------------


def test_my_due_verdicts_come_longest_due_first_then_the_soonest(
    project: Project, claims: list[Claim], bob: Any, carol: Any
) -> None:
    long_due = claims[0].set_verdict(bob, "disputed")
    days_ago(long_due, 200)  # due 110 days ago
    just_due = claims[1].set_verdict(bob, "supported")
    days_ago(just_due, 181)  # due yesterday
    soon = claims[2].set_verdict(bob, "supported")
    days_ago(soon, 170)  # due in ten days
    later = claims[3].set_verdict(bob, "supported")
    days_ago(later, 10)  # due in 170 days: not shown
    days_ago(claims[0].set_verdict(carol, "disputed"), 300)  # carol's: not bob's
    response = client_for(bob).get(url("due-queue"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.verdict_id for row in rows] == [long_due.pk, just_due.pk, soon.pk]
    assert [row.due.is_due for row in rows] == [True, True, False]
    assert rows[0].due.reasons == ("overdue",)
    assert response.context["due_now"] == 2
    page = html(response)
    first = page.by_id(f"due-{long_due.pk}")
    link = first.select("a")[0]
    assert link.attrs["href"] == (
        url("article-detail", claims[0].article_id) + f"?claim={claims[0].pk}#claim-{claims[0].pk}"
    )
    assert "since " in first.content() and "overdue" in first.content()
    assert "coming due" in page.by_id(f"due-{soon.pk}").content()


def test_new_evidence_and_an_own_date_show_as_reasons(
    project: Project, claims: list[Claim], bob: Any, carol: Any
) -> None:
    tagged = claims[0].set_verdict(bob, "supported")
    dated = claims[1].set_verdict(bob, "supported", recheck_by=timezone.localdate() + DAY)
    claims[0].add_evidence(carol, url="https://example.org/new", stance="contradicts")
    rows = client_for(bob).get(url("due-queue")).context["rows"]
    assert [(r.verdict_id, r.due.reasons) for r in rows] == [
        (tagged.pk, ("new evidence",)),
        (dated.pk, ()),
    ]
    days_ago(dated, 2)
    Verdict.objects.filter(pk=dated.pk).update(recheck_by=timezone.localdate())
    rows = client_for(bob).get(url("due-queue")).context["rows"]
    assert [r.due.reasons for r in rows] == [("new evidence",), ("re-check date reached",)]


def test_the_teams_view_shows_everyones_in_an_open_project(
    project: Project, claims: list[Claim], bob: Any, carol: Any, victor: Any
) -> None:
    days_ago(claims[0].set_verdict(carol, "disputed"), 100)
    days_ago(claims[1].set_verdict(bob, "disputed"), 100)
    assert [r.analyst for r in client_for(bob).get(url("due-queue")).context["rows"]] == ["bob"]
    team = client_for(bob).get(url("due-queue") + "?whose=team")
    assert sorted(r.analyst for r in team.context["rows"]) == ["bob", "carol"]
    # A viewer has no verdicts of their own: the team's is where they start.
    shown = client_for(victor).get(url("due-queue"))
    assert shown.context["whose"] == "team" and len(shown.context["rows"]) == 2


def test_in_a_blind_project_others_due_verdicts_show_only_where_i_gave_mine(
    blind: Project, bob: Any, carol: Any, rita: Any, victor: Any
) -> None:
    first, second, third = make_article(blind).claims.order_by("start")[:3]
    days_ago(first.set_verdict(carol, "disputed"), 100)
    days_ago(second.set_verdict(carol, "disputed"), 100)
    first.set_verdict(bob, "supported")  # bob has given his on the first claim only
    third.set_verdict(bob, "supported")
    third.add_evidence(carol, url="https://example.org/e", stance="context")
    team = client_for(bob).get(blind_url("due-queue") + "?whose=team")
    shown = sorted((r.analyst, r.claim_id) for r in team.context["rows"])
    assert shown == [("bob", third.pk), ("carol", first.pk)]
    content = body(team)
    assert f"claim={second.pk}" not in content
    assert "Blind review: you see others' verdicts only" in content
    assert client_for(victor).get(blind_url("due-queue") + "?whose=team").context["rows"] == []
    everything = client_for(rita).get(blind_url("due-queue") + "?whose=team").context["rows"]
    assert len(everything) == 3


def test_the_queue_pages_through_a_large_project(
    project: Project, bob: Any, django_assert_max_num_queries: Any
) -> None:
    text = "Many\n\n" + " ".join(f"Claim number {i} holds." for i in range(60)) + "\n"
    for claim in make_article(project, text, filename="many.txt").claims.all():
        claim.set_verdict(bob, "disputed")
    Verdict.objects.update(checked_at=timezone.now() - 100 * DAY)
    client = client_for(bob)
    first = client.get(url("due-queue"))
    assert len(first.context["rows"]) == 50 and first.context["page"].has_next()
    second = client.get(url("due-queue") + "?whose=mine&page=2")
    assert len(second.context["rows"]) == 10
    seen = {r.verdict_id for r in first.context["rows"]} | {
        r.verdict_id for r in second.context["rows"]
    }
    assert len(seen) == 60
    assert 'rel="next"' in body(first) and 'rel="prev"' in body(second)


def test_odd_query_values_fall_back_instead_of_failing(project: Project, bob: Any) -> None:
    client = client_for(bob)
    for query in ("?whose=nobody", "?page=-1", "?page=zz", "?page=99999999999999999999", "?whose="):
        response = client.get(url("due-queue") + query)
        assert response.status_code == 200, query


def test_the_project_page_links_the_due_queue(project: Project, victor: Any) -> None:
    nav = html(client_for(victor).get(url("project-detail"))).select("nav", aria_label="Project")
    assert url("due-queue") in [a.attrs["href"] for a in nav[0].select("a")]


# Marks in the article and the claim panel --------------------------------------------------


def test_due_claims_are_marked_for_their_analyst_alone(
    project: Project, claims: list[Claim], bob: Any, carol: Any
) -> None:
    days_ago(claims[0].set_verdict(bob, "disputed"), 95)
    claims[1].set_verdict(bob, "supported")
    days_ago(claims[1].set_verdict(carol, "disputed"), 95)
    page = html(client_for(bob).get(url("article-detail", claims[0].article_id)))
    due = page.select("a", class_="due")
    assert [a.attrs["id"] for a in due] == [f"claim-{claims[0].pk}"]
    assert "due for re-check: overdue" in due[0].select("span", class_="due-mark")[0].content()
    # carol's due verdict on the second claim is hers to see, not bob's.
    assert not page.by_id(f"claim-{claims[1].pk}").select("span", class_="due-mark")
    theirs = html(client_for(carol).get(url("article-detail", claims[0].article_id)))
    assert [a.attrs["id"] for a in theirs.select("a", class_="due")] == [f"claim-{claims[1].pk}"]


def test_the_due_filter_shows_my_due_claims(
    project: Project, claims: list[Claim], bob: Any
) -> None:
    days_ago(claims[2].set_verdict(bob, "disputed"), 95)
    response = client_for(bob).get(url("article-detail", claims[0].article_id) + "?show=due")
    assert response.context["matching"] == 1
    dimmed = html(response).select("a", class_="dim")
    assert f"claim-{claims[2].pk}" not in [a.attrs["id"] for a in dimmed]


def test_the_panel_says_why_and_offers_still_holds(
    project: Project, claims: list[Claim], bob: Any, carol: Any
) -> None:
    claim = claims[0]
    claim.set_verdict(bob, "supported")
    claim.add_evidence(carol, url="https://example.org/n", stance="contradicts")
    panel = html(client_for(bob).get(url("claim-panel", claim.pk), **HTMX))
    line = panel.by_id("due-line")
    assert line.content().startswith(f"Due for re-check since {timezone.localdate():%Y-%m-%d}")
    assert "new evidence since your verdict" in line.content()
    (button,) = panel.select("button", data_key="h")
    assert button.attrs["hx-post"].startswith(url("claim-confirm", claim.pk))
    assert button.attrs["formaction"].startswith(url("claim-confirm", claim.pk))
    assert button.attrs["hx-target"] == "#verdict"
    # carol's own verdict came after the evidence she added: nothing due, a date ahead.
    claim.set_verdict(carol, "disputed")
    theirs = html(client_for(carol).get(url("claim-panel", claim.pk), **HTMX))
    on = timezone.localdate() + 90 * DAY
    assert theirs.by_id("due-line").content() == f"Due for re-check on {on:%Y-%m-%d}."
    # No verdict: nothing to confirm, no button.
    rita_panel = html(
        client_for(project.memberships.get(role="reviewer").user).get(
            url("claim-panel", claim.pk), **HTMX
        )
    )
    assert not rita_panel.select("button", data_key="h")


def test_the_keys_help_lists_still_holds(db: Any, bob: Any) -> None:
    keys = html(client_for(bob).get("/keys/")).select("dl", class_="keys")[0]
    assert "h" in [k.content() for k in keys.select("kbd")]


# Still holds -------------------------------------------------------------------------------


def test_still_holds_under_htmx_confirms_and_clears_the_mark(
    project: Project, claims: list[Claim], bob: Any, carol: Any
) -> None:
    claim = claims[0]
    verdict = claim.set_verdict(bob, "supported")
    claim.add_evidence(carol, url="https://example.org/n", stance="contradicts")
    before = AuditEvent.objects.count()
    response = client_for(bob).post(url("claim-confirm", claim.pk), {"version": 1}, **HTMX)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"verdict-changed": {"claim": claim.pk}}
    assert AuditEvent.objects.count() == before + 1
    assert events()[-1]["action"] == "verdict.confirmed"
    assert Verdict.objects.get(pk=verdict.pk).version == 2
    page = html(response)
    assert page.by_id("verdict").select("input", name="version")[0].attrs["value"] == "2"
    span = page.by_id(f"claim-{claim.pk}")  # the highlight, out of band
    assert span.attrs.get("hx-swap-oob") == "true" and "due" not in span.classes()
    assert "Due for re-check since" not in page.content()


def test_still_holds_without_javascript_redirects_to_the_claim(
    project: Project, claims: list[Claim], bob: Any
) -> None:
    claim = claims[0]
    days_ago(claim.set_verdict(bob, "disputed"), 100)
    response = client_for(bob).post(url("claim-confirm", claim.pk), {"version": 1})
    assert response.status_code == 302
    assert response["Location"].endswith(f"?claim={claim.pk}#claim-{claim.pk}")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Verdict confirmed: it still holds."
    ]
    assert client_for(bob).get(url("due-queue")).context["rows"] == []


def test_a_stale_still_holds_is_a_conflict_that_writes_nothing(
    project: Project, claims: list[Claim], bob: Any
) -> None:
    claim = claims[0]
    claim.set_verdict(bob, "supported")
    claim.set_verdict(bob, "disputed", expected_version=1)
    before = AuditEvent.objects.count()
    response = client_for(bob).post(url("claim-confirm", claim.pk), {"version": 1}, **HTMX)
    assert response.status_code == 409
    assert "changed elsewhere" in body(response)
    assert AuditEvent.objects.count() == before
    assert Verdict.objects.get(claim=claim, analyst=bob).version == 2


@pytest.mark.parametrize("data", [{}, {"version": "x"}, {"version": 0}])
def test_still_holds_without_a_verdict_is_refused_plainly(
    project: Project, claims: list[Claim], bob: Any, data: Any
) -> None:
    before = AuditEvent.objects.count()
    response = client_for(bob).post(url("claim-confirm", claims[0].pk), data, **HTMX)
    assert response.status_code == 422
    assert "no verdict of yours here to confirm" in body(response)
    assert AuditEvent.objects.count() == before


def test_still_holds_on_a_cleared_verdict_is_refused_plainly(
    project: Project, claims: list[Claim], bob: Any
) -> None:
    claims[0].set_verdict(bob, "supported")
    claims[0].clear_verdict(bob, expected_version=1)
    before = AuditEvent.objects.count()
    response = client_for(bob).post(url("claim-confirm", claims[0].pk), {"version": 2})
    assert response.status_code == 422
    assert "You have no verdict on this claim to confirm." in body(response)
    assert AuditEvent.objects.count() == before


def test_in_a_blind_project_still_holds_answers_with_the_whole_panel(
    blind: Project, bob: Any
) -> None:
    claim = make_article(blind).claims.order_by("start").first()
    claim.set_verdict(bob, "supported")
    response = client_for(bob).post(blind_url("claim-confirm", claim.pk), {"version": 1}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#claim-panel"
    assert html(response).by_id("claim-panel")


# The verdict form's re-check date ---------------------------------------------------------


def verdict_post(claim: Claim, **data: Any) -> dict[str, Any]:
    return {"status": "supported", "rationale": "", "as_of": "", "version": 0} | data


def test_a_recheck_date_is_saved_with_the_verdict(
    project: Project, claims: list[Claim], bob: Any
) -> None:
    day = timezone.localdate() + 30 * DAY
    response = client_for(bob).post(
        url("claim-verdict", claims[0].pk), verdict_post(claims[0], recheck_by=day.isoformat())
    )
    assert response.status_code == 302
    assert Verdict.objects.get(claim=claims[0], analyst=bob).recheck_by == day
    assert events()[-1]["after"]["recheck_by"] == day.isoformat()
    form = html(client_for(bob).get(url("claim-panel", claims[0].pk), **HTMX)).by_id("verdict-form")
    (field,) = form.select("input", name="recheck_by")
    assert field.attrs["value"] == day.isoformat()
    assert field.attrs["min"] == (timezone.localdate() + DAY).isoformat()


@pytest.mark.parametrize(
    ("offset", "message"),
    [(0, "Choose a re-check date from tomorrow"), (3651, "to ten years ahead")],
)
def test_a_recheck_date_in_the_past_or_too_far_is_refused(
    project: Project, claims: list[Claim], bob: Any, offset: int, message: str
) -> None:
    before = AuditEvent.objects.count()
    day = timezone.localdate() + offset * DAY
    response = client_for(bob).post(
        url("claim-verdict", claims[0].pk),
        verdict_post(claims[0], recheck_by=day.isoformat()),
        **HTMX,
    )
    assert response.status_code == 422
    assert message in body(response)
    assert AuditEvent.objects.count() == before


def test_a_recheck_date_that_has_come_is_not_offered_again(
    project: Project, claims: list[Claim], bob: Any
) -> None:
    claims[0].set_verdict(bob, "supported", recheck_by=timezone.localdate() + DAY)
    Verdict.objects.update(recheck_by=timezone.localdate() - DAY)
    form = html(client_for(bob).get(url("claim-panel", claims[0].pk), **HTMX))
    (field,) = form.by_id("verdict-form").select("input", name="recheck_by")
    assert "value" not in field.attrs
    # So pressing a verdict key again (re-checking) is not refused for it.
    response = client_for(bob).post(
        url("claim-verdict", claims[0].pk), verdict_post(claims[0], status="disputed", version=1)
    )
    assert response.status_code == 302


# The consensus screen ---------------------------------------------------------------------


def test_the_consensus_screen_flags_verdicts_with_new_evidence_since(
    project: Project, claims: list[Claim], bob: Any, carol: Any, victor: Any
) -> None:
    claims[0].set_verdict(bob, "supported")
    claims[0].add_evidence(carol, url="https://example.org/n", stance="contradicts")
    claims[0].set_verdict(carol, "disputed")
    response = client_for(victor).get(url("article-consensus", claims[0].article_id))
    rows = {row.claim.pk: row for row in response.context["rows"]}
    assert rows[claims[0].pk].new_evidence == ["bob"]
    row = html(response).by_id(f"row-{claims[0].pk}")
    assert "New evidence since the verdict of bob" in row.content()
    flagged = [li.content() for li in row.select("li") if li.select("em", class_="new-evidence")]
    assert len(flagged) == 1 and flagged[0].startswith("bob: Supported")


def test_in_a_blind_project_consensus_flags_wait_for_my_own_verdict(
    blind: Project, bob: Any, carol: Any
) -> None:
    article = make_article(blind)
    claim = article.claims.order_by("start").first()
    claim.set_verdict(carol, "disputed")
    claim.add_evidence(bob, url="https://example.org/n", stance="supports")
    screen = blind_url("article-consensus", article.pk)
    response = client_for(bob).get(screen)
    row = next(r for r in response.context["rows"] if r.claim.pk == claim.pk)
    assert (row.visible, row.new_evidence) == (False, [])
    content = body(response)
    assert "New evidence since" not in content and "new-evidence" not in content
    claim.set_verdict(bob, "supported")
    response = client_for(bob).get(screen)
    row = next(r for r in response.context["rows"] if r.claim.pk == claim.pk)
    assert row.new_evidence == ["carol"]


def test_a_past_consensus_screen_has_no_flags(
    project: Project, claims: list[Claim], bob: Any, carol: Any, victor: Any
) -> None:
    hour_ago = timezone.now() - dt.timedelta(hours=1)
    with mock.patch("django.utils.timezone.now", return_value=hour_ago):
        claims[0].set_verdict(bob, "supported")
    with mock.patch("django.utils.timezone.now", return_value=hour_ago + dt.timedelta(minutes=1)):
        claims[0].add_evidence(carol, url="https://example.org/n", stance="contradicts")
    screen = url("article-consensus", claims[0].article_id)
    now = client_for(victor).get(screen).context["rows"]
    assert next(r for r in now if r.claim.pk == claims[0].pk).new_evidence == ["bob"]
    moment = (hour_ago + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S")
    then = client_for(victor).get(f"{screen}?as_of={moment}").context["rows"]
    row = next(r for r in then if r.claim.pk == claims[0].pk)
    assert list(row.verdicts) == ["bob"] and row.new_evidence == []


# Freshness settings -----------------------------------------------------------------------


def test_an_admin_sets_how_long_verdicts_stay_fresh(project: Project, alice: Any) -> None:
    client = client_for(alice)
    page = html(client.get(url("recheck-settings")))
    assert page.select("input", name="supported", value="180")
    assert page.select("input", name="outdated")[0].attrs.get("value") is None
    before = AuditEvent.objects.count()
    response = client.post(
        url("recheck-settings"), {"supported": "365", "disputed": "", "outdated": "30"}
    )
    assert response.status_code == 302 and response["Location"] == url("recheck-settings")
    assert Project.objects.get(pk=project.pk).freshness() == {
        "supported": 365,
        "disputed": None,
        "outdated": 30,
    }
    assert AuditEvent.objects.count() == before + 1
    event = events()[-1]
    assert (event["action"], event["actor"]) == ("project.freshness_changed", "alice")
    assert event["after"] == {"supported": 365, "disputed": None, "outdated": 30}
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Verdicts now stay fresh for: supported 365 days, disputed never, outdated 30 days."
    ]
    again = client.post(
        url("recheck-settings"), {"supported": "365", "disputed": "", "outdated": "30"}
    )
    assert [str(m) for m in get_messages(again.wsgi_request)][-1] == "Nothing changed."
    assert AuditEvent.objects.count() == before + 1


@pytest.mark.parametrize(
    "data",
    [
        {"supported": "0", "disputed": "90", "outdated": ""},
        {"supported": "3651", "disputed": "90", "outdated": ""},
        {"supported": "ninety", "disputed": "90", "outdated": ""},
    ],
)
def test_bad_freshness_is_refused_and_changes_nothing(
    project: Project, alice: Any, data: Any
) -> None:
    before = AuditEvent.objects.count()
    response = client_for(alice).post(url("recheck-settings"), data)
    assert response.status_code == 422
    assert "Nothing was changed" in body(response)
    assert AuditEvent.objects.count() == before
    assert Project.objects.get(pk=project.pk).freshness()["supported"] == 180


def test_new_freshness_changes_what_is_due(
    project: Project, claims: list[Claim], alice: Any, bob: Any
) -> None:
    days_ago(claims[0].set_verdict(bob, "supported"), 40)
    assert client_for(bob).get(url("due-queue")).context["due_now"] == 0
    client_for(alice).post(url("recheck-settings"), {"supported": "30", "disputed": "90"})
    response = client_for(bob).get(url("due-queue"))
    assert response.context["due_now"] == 1
    assert "supported 30 days" in body(response)


def test_in_a_blind_project_the_panel_tells_no_one_of_anothers_due_verdict(
    blind: Project, bob: Any, carol: Any
) -> None:
    claim = make_article(blind).claims.order_by("start").first()
    days_ago(claim.set_verdict(carol, "disputed"), 200)
    claim.add_evidence(carol, url="https://example.org/n", stance="contradicts")
    days_ago(claim.set_verdict(carol, "disputed", expected_version=1), 200)
    panel = html(client_for(bob).get(blind_url("claim-panel", claim.pk), **HTMX))
    content = panel.content()
    assert "Due for re-check" not in content and "new evidence" not in content.lower()
    assert not panel.select("button", data_key="h")
    page = html(client_for(bob).get(blind_url("article-detail", claim.article_id)))
    assert not page.select("a", class_="due") and not page.select("span", class_="due-mark")
    mine = html(client_for(carol).get(blind_url("claim-panel", claim.pk), **HTMX))
    assert "overdue" not in mine.by_id("due-line").content()  # worded for her
    assert mine.by_id("due-line").content().startswith("Due for re-check since")


@pytest.mark.parametrize("whose", ["mine", "team"])
def test_the_due_queue_query_count_does_not_grow(
    blind: Project, bob: Any, carol: Any, whose: str
) -> None:
    """A blind analyst (the team's view filters by their own verdicts, in SQL), at two
    sizes, every verdict due."""

    def grow(claims: int, name: str) -> None:
        text = f"{name}\n\n" + " ".join(f"Claim {i} of {name} holds." for i in range(claims))
        for i, claim in enumerate(make_article(blind, text + "\n", filename=name).claims.all()):
            claim.set_verdict(carol, "disputed")
            if i % 2:
                claim.set_verdict(bob, "disputed")
        Verdict.objects.update(checked_at=timezone.now() - 100 * DAY)

    client = client_for(bob)
    client.get(blind_url("project-detail"))  # the session, once
    target = blind_url("due-queue") + f"?whose={whose}"

    def measured() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(target)
        assert response.status_code == 200
        return len(queries), len(response.context["rows"])

    grow(4, "small")
    small, small_rows = measured()
    grow(120, "large")
    large, large_rows = measured()
    assert small == large, (small, large)
    assert 0 < small_rows < large_rows == 50
