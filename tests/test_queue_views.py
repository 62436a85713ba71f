"""Reviewers act from wherever they are: the queue shows each claim in its paragraph with a
link to it, its buttons name their keys, and a ruling can be set, changed and withdrawn
from the claim panel as from the queue."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from claims.models import Adjudication, AuditEvent
from tests.base import HTMX, Node, body, client_for, html, url

PANEL = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "claim-panel"}


@pytest.fixture
def disagreement(article: Any, bob: Any, carol: Any) -> Any:
    """bob and carol disagree on the first claim and on the third."""
    first, _second, third = article.claims.order_by("start")[:3]
    for claim in (first, third):
        claim.set_verdict(bob, "supported", rationale="Bob's reading")
        claim.set_verdict(carol, "disputed", rationale="Carol's reading")
    return first


def events() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def buttons(root: Node) -> dict[str, Node]:
    return {b.attrs["value"] or "": b for b in root.select("button", name="status")}


# The queue ------------------------------------------------------------------------------


def test_queue_shows_each_claim_in_its_paragraph_with_a_link_to_it(
    disagreement: Any, rita: Any
) -> None:
    item = html(client_for(rita).get(url("queue"))).by_id(f"queue-item-{disagreement.pk}")
    (paragraph,) = item.select("blockquote", class_="in-paragraph")
    (claim_text,) = paragraph.select("mark", class_="claim-text")
    block = disagreement.block
    assert claim_text.content() == disagreement.text
    assert paragraph.content() == disagreement.article.text[block.start : block.end]
    assert len(paragraph.content()) > len(disagreement.text)  # the words around it too
    (link,) = item.select("p", class_="open-claim")[0].select("a")
    article = url("article-detail", disagreement.article_id)
    assert link.attrs["href"] == f"{article}?claim={disagreement.pk}#claim-{disagreement.pk}"


def test_queue_buttons_name_the_keys_that_press_them_for_reviewers(
    disagreement: Any, rita: Any
) -> None:
    page = html(client_for(rita).get(url("queue")))
    (listing,) = page.select("ol", class_="queue")
    assert "data-keys" in listing.attrs
    found = buttons(page.by_id(f"queue-item-{disagreement.pk}"))
    keys = {value: button.attrs.get("data-key") for value, button in found.items()}
    assert keys == {"supported": "1", "disputed": "2", "outdated": "3"}  # nothing to withdraw
    assert [k.content() for k in found["disputed"].select("kbd")] == ["2"]
    # The `?` help of the queue is the keys page's list of the queue's keys.
    keys_page = html(client_for(rita).get("/keys/"))
    assert [d.content() for d in page.by_id("help").select("dt")] == [
        d.content() for d in keys_page.select("dl", class_="queue-keys")[0].select("dt")
    ]
    (help_link,) = page.select("a", data_help=True)
    assert help_link.attrs["href"] == "/keys/#queue-keys"


def test_queue_has_no_keys_or_forms_for_analysts(disagreement: Any, bob: Any) -> None:
    page = html(client_for(bob).get(url("queue")))
    (listing,) = page.select("ol", class_="queue")
    assert "data-keys" not in listing.attrs
    assert page.select("dialog") == [] and page.select("form", class_="adjudicate") == []
    assert page.select("mark", class_="claim-text")  # the paragraph is for everyone


def test_a_ruling_without_javascript_comes_back_to_the_next_claim(
    disagreement: Any, rita: Any
) -> None:
    client = client_for(rita)
    page = html(client.get(url("queue")))
    first, second = (item.attrs["data-claim"] for item in page.select("article"))
    (back,) = page.by_id(f"queue-item-{first}").select("input", name="next")
    assert back.attrs["value"] == f"{url('queue')}#queue-item-{second}"
    data = {
        "status": "disputed",
        "rationale": "The record.",
        "version": "0",
        "next": back.attrs["value"],
    }
    response = client.post(url("adjudicate", first), data)
    assert response.status_code == 302
    assert response["Location"] == f"{url('queue')}#queue-item-{second}"
    assert events()[-1] == "adjudication.set"


def test_the_queue_item_an_htmx_ruling_returns_keeps_its_paragraph_and_keys(
    disagreement: Any, rita: Any
) -> None:
    data = {"status": "supported", "rationale": "Checked.", "version": "0"}
    response = client_for(rita).post(url("adjudicate", disagreement.pk), data, **HTMX)
    assert response.status_code == 200
    item = html(response).by_id(f"queue-item-{disagreement.pk}")
    assert item.select("mark", class_="claim-text")[0].content() == disagreement.text
    assert buttons(item)["supported"].attrs["aria-pressed"] == "true"
    assert buttons(item)["withdraw"].attrs.get("data-key") == "0"
    assert "disabled" not in buttons(item)["withdraw"].attrs


def test_a_refused_queue_ruling_keeps_what_was_typed(disagreement: Any, rita: Any) -> None:
    disagreement.adjudicate(rita, "disputed", rationale="First.")
    before = events()
    data = {"status": "supported", "rationale": "Second thoughts.", "version": "0"}
    response = client_for(rita).post(url("adjudicate", disagreement.pk), data, **HTMX)
    assert response.status_code == 409
    item = html(response).by_id(f"queue-item-{disagreement.pk}")
    assert item.select("textarea")[0].content() == "Second thoughts."
    assert buttons(item)["disputed"].attrs["aria-pressed"] == "true"  # how it stands
    assert events() == before


# The claim panel ------------------------------------------------------------------------


def ruling(client: Client, claim: Any) -> Node | None:
    panel = html(client.get(url("claim-panel", claim.pk), **HTMX)).by_id("claim-panel")
    found = panel.find(lambda n: n.attrs.get("id") == "ruling")
    return found[0] if found else None


def test_an_adjudicated_claim_shows_its_ruling_in_the_panel_with_change_and_withdraw(
    disagreement: Any, rita: Any
) -> None:
    disagreement.adjudicate(rita, "disputed", rationale="The ministry's record.")
    section = ruling(client_for(rita), disagreement)
    assert section is not None
    assert section.by_id("ruling-h").content() == "Ruling: Disputed"
    (details,) = section.select("details")
    assert "open" in details.attrs
    assert "Change or withdraw" in details.select("summary")[0].content()
    (form,) = section.select("form")
    assert form.attrs["hx-post"] == form.attrs["action"] == url("adjudicate", disagreement.pk) + "?"
    assert form.attrs["hx-target"] == "#claim-panel"
    found = buttons(form)
    assert found["disputed"].attrs["aria-pressed"] == "true"
    assert "disabled" not in found["withdraw"].attrs
    assert "data-key" not in found["disputed"].attrs  # 1 2 3 press the verdict here
    assert form.select("textarea")[0].content() == "The ministry's record."
    assert form.select("input", name="version")[0].attrs["value"] == "1"


def test_a_reviewer_may_rule_from_the_panel_before_any_ruling(disagreement: Any, rita: Any) -> None:
    section = ruling(client_for(rita), disagreement)
    assert section is not None
    (details,) = section.select("details")
    assert "open" not in details.attrs
    assert details.select("summary")[0].content() == "Rule on this claim"
    assert set(buttons(section)) == {"supported", "disputed", "outdated"}  # nothing to withdraw


@pytest.mark.parametrize("who", ["bob", "victor"])
def test_analysts_and_viewers_see_the_ruling_but_no_form(
    disagreement: Any, rita: Any, who: str, request: pytest.FixtureRequest
) -> None:
    disagreement.adjudicate(rita, "disputed", rationale="The ministry's record.")
    client = client_for(request.getfixturevalue(who))
    assert ruling(client, disagreement) is None
    panel = body(client.get(url("claim-panel", disagreement.pk), **HTMX))
    assert "Adjudicated</strong> by rita" in panel


def test_the_panel_of_a_past_moment_has_no_ruling_form(disagreement: Any, rita: Any) -> None:
    moment = (timezone.now() + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
    screen = url("article-detail", disagreement.article_id)
    page = html(client_for(rita).get(f"{screen}?as_of={moment}&claim={disagreement.pk}"))
    assert page.by_id("claim-panel").attrs["data-claim"] == str(disagreement.pk)
    assert page.find(lambda n: n.attrs.get("id") == "ruling") == []


def test_a_ruling_from_the_panel_returns_the_panel_and_the_claims_highlight(
    disagreement: Any, rita: Any
) -> None:
    data = {"status": "supported", "rationale": "Checked.", "as_of": "", "version": "0"}
    target = url("adjudicate", disagreement.pk) + "?show=contested"
    response = client_for(rita).post(target, data, **PANEL)
    assert response.status_code == 200
    content = body(response)
    assert content.lstrip().startswith('<aside id="claim-panel"')
    page = html(response)
    assert page.by_id("ruling-h").content() == "Ruling: Supported"
    assert "Adjudicated</strong> by rita" in content
    highlight = page.by_id(f"claim-{disagreement.pk}")
    assert highlight.attrs["hx-swap-oob"] == "true"
    assert "selected" in highlight.classes()
    assert highlight.attrs["href"].startswith(f"?show=contested&claim={disagreement.pk}")
    assert page.select("span", class_="t-adjudicated")
    assert json.loads(response["HX-Trigger"]) == {"claim-adjudicated": {"claim": disagreement.pk}}
    assert events()[-1] == "adjudication.set"
    assert Adjudication.objects.get(claim=disagreement).status == "supported"


def test_change_then_withdraw_from_the_panel(disagreement: Any, rita: Any) -> None:
    client = client_for(rita)
    disagreement.adjudicate(rita, "disputed", rationale="First.")
    change = {"status": "outdated", "rationale": "Overtaken.", "as_of": "2021-09-01", "version": 1}
    assert client.post(url("adjudicate", disagreement.pk), change, **PANEL).status_code == 200
    withdraw = {"status": "withdraw", "rationale": "", "as_of": "", "version": 2}
    response = client.post(url("adjudicate", disagreement.pk), withdraw, **PANEL)
    assert response.status_code == 200
    assert html(response).by_id("ruling-h").content() == "Ruling"
    assert "Rule on this claim" in body(response)
    assert events()[-2:] == ["adjudication.changed", "adjudication.withdrawn"]
    disagreement.refresh_from_db()
    assert disagreement.final is None


def test_a_stale_ruling_from_the_panel_gets_a_conflict_there(
    disagreement: Any, rita: Any, alice: Any
) -> None:
    disagreement.adjudicate(rita, "disputed", rationale="First.")
    before = events()
    data = {"status": "supported", "rationale": "Mine instead.", "as_of": "", "version": 0}
    response = client_for(alice).post(url("adjudicate", disagreement.pk), data, **PANEL)
    assert response.status_code == 409
    panel = html(response).by_id("claim-panel")
    (notice,) = panel.select("p", role="alert")
    assert "changed the adjudication first" in notice.content()
    assert panel.by_id("ruling").select("textarea")[0].content() == "Mine instead."
    assert "open" in panel.by_id("ruling-form").attrs
    assert buttons(panel.by_id("ruling"))["disputed"].attrs["aria-pressed"] == "true"
    assert events() == before


@pytest.mark.parametrize("data", [{"rationale": ""}, {"status": "maybe"}, {"version": "v"}])
def test_an_invalid_ruling_from_the_panel_changes_nothing(
    disagreement: Any, rita: Any, data: dict[str, str]
) -> None:
    before = events()
    posted = {"status": "disputed", "rationale": "Why.", "as_of": "", "version": "0"} | data
    response = client_for(rita).post(url("adjudicate", disagreement.pk), posted, **PANEL)
    assert response.status_code == 422
    panel = html(response).by_id("claim-panel")
    assert panel.select("p", role="alert")
    assert "open" in panel.by_id("ruling-form").attrs  # no ruling stands: open to try again
    assert events() == before


def test_a_ruling_from_the_panel_without_javascript_lands_at_the_claim(
    disagreement: Any, rita: Any
) -> None:
    client = client_for(rita)
    screen = url("article-detail", disagreement.article_id)
    page = html(client.get(f"{screen}?show=contested&claim={disagreement.pk}"))
    (back,) = page.by_id("ruling").select("input", name="next")
    landing = f"{screen}?show=contested&claim={disagreement.pk}#claim-{disagreement.pk}"
    assert back.attrs["value"] == landing
    data = {"status": "supported", "rationale": "Checked.", "version": "0", "next": landing}
    response = client.post(url("adjudicate", disagreement.pk), data)
    assert (response.status_code, response["Location"]) == (302, landing)
    assert events()[-1] == "adjudication.set"


def test_analysts_cannot_rule_from_the_panel_either(disagreement: Any, bob: Any) -> None:
    before = events()
    data = {"status": "supported", "rationale": "Mine.", "as_of": "", "version": 0}
    assert (
        client_for(bob).post(url("adjudicate", disagreement.pk), data, **PANEL).status_code == 403
    )
    assert events() == before
