"""Values that make no sense are refused with a clear message, and nothing is written:
"since" dates far from now, web addresses that hide their host behind a user name. And
evidence always shows the host its link really goes to."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.utils import timezone

from claims.models import Adjudication, AuditEvent, Evidence, Verdict
from claims.templatetags.claims_tags import web_host
from tests.base import HTMX, client_for, html, url

ABSURD_DATES = ["9999-12-31", "0001-01-01", "1899-12-31"]
HIDDEN_HOSTS = [
    "https://google.com@evil.example/",
    "https://user:secret@example.org/report",
    "http://@example.org/",
]
MIXED = "раypal.com"  # "ра" is Cyrillic, "ypal" Latin: looks like paypal.com
MIXED_PUNYCODE = "xn--ypal-43d9g.com"


def events() -> int:
    return AuditEvent.objects.count()


# "Since" dates ----------------------------------------------------------------------------


@pytest.mark.parametrize("since", ABSURD_DATES)
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_outdated_verdict_with_an_absurd_since_date_is_refused(
    claim: Any, bob: Any, since: str, headers: dict
) -> None:
    before = events()
    data = {"status": "outdated", "rationale": "Old news.", "as_of": since, "version": 0}
    response = client_for(bob).post(url("claim-verdict", claim.pk), data, **headers)
    assert response.status_code == 422
    content = response.content.decode()
    assert "between 1900-01-01 and" in content  # the bounds are said
    assert "Old news." in content  # what was typed is kept
    assert events() == before
    assert not Verdict.objects.exists()


def test_since_date_bounds_are_enforced_by_the_verbs_too(claim: Any, bob: Any, rita: Any) -> None:
    far = dt.date(9999, 12, 31)
    before = events()
    with pytest.raises(ValidationError, match="between 1900-01-01 and"):
        claim.set_verdict(bob, "outdated", as_of=far)
    with pytest.raises(ValidationError, match="between 1900-01-01 and"):
        claim.adjudicate(rita, "outdated", rationale="Old.", as_of=dt.date(1, 1, 1))
    assert events() == before
    assert not Verdict.objects.exists() and not Adjudication.objects.exists()


def test_since_dates_from_1900_to_tomorrow_are_accepted(claim: Any, bob: Any, carol: Any) -> None:
    claim.set_verdict(bob, "outdated", as_of=dt.date(1900, 1, 1))
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    claim.set_verdict(carol, "outdated", as_of=tomorrow)
    assert Verdict.objects.filter(status="outdated").count() == 2


@pytest.mark.parametrize("since", ABSURD_DATES)
def test_adjudication_with_an_absurd_since_date_is_refused(
    claim: Any, rita: Any, since: str
) -> None:
    before = events()
    data = {"status": "outdated", "rationale": "Superseded.", "as_of": since, "version": 0}
    client = client_for(rita)
    response = client.post(url("adjudicate", claim.pk), data, **HTMX)
    assert response.status_code == 422
    assert "between 1900-01-01 and" in response.content.decode()
    response = client.post(url("adjudicate", claim.pk), data, follow=True)
    assert "between 1900-01-01 and" in response.content.decode()  # the message, after a redirect
    assert events() == before
    assert not Adjudication.objects.exists()


# Web addresses that hide their host ---------------------------------------------------------


@pytest.mark.parametrize("link", HIDDEN_HOSTS)
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_evidence_url_with_a_user_name_is_refused(
    claim: Any, bob: Any, link: str, headers: dict
) -> None:
    before = events()
    data = {"evidence-url": link, "evidence-title": "Official", "evidence-stance": "supports"}
    response = client_for(bob).post(url("evidence-add", claim.pk), data, **headers)
    assert response.status_code == 422
    assert "before an @" in response.content.decode()
    assert events() == before
    assert not Evidence.objects.exists()


def test_the_evidence_verb_refuses_a_user_name_too(claim: Any, bob: Any) -> None:
    before = events()
    with pytest.raises(ValidationError, match="before an @"):
        claim.add_evidence(bob, url="https://google.com@evil.example/", stance="supports")
    assert events() == before
    assert not Evidence.objects.exists()


def test_an_at_sign_in_the_path_is_fine(claim: Any, bob: Any) -> None:
    claim.add_evidence(bob, url="https://example.org/people/@someone", stance="context")
    assert Evidence.objects.count() == 1


# The host beside each title -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "host"),
    [
        ("https://www.Example.org:8443/a?b#c", "www.example.org"),
        (f"https://{MIXED}/login", MIXED_PUNYCODE),  # Latin and Cyrillic: shown as punycode
        ("https://аррӏе.com/", "xn--80ak6aa92e.com"),  # all Cyrillic, under .com: mixed too
        ("https://пример.рф/", "пример.рф"),  # one script throughout: readable as it is
        ("https://bücher.de/", "bücher.de"),  # Latin with accents is one script
        ("https://例え.jp/", "例え.jp"),  # Han and kana with Latin: Japanese as written
        ("https://xn--80ak6aa92e.com/", "xn--80ak6aa92e.com"),
        ("javascript:alert(1)", ""),
        ("not a url", ""),
    ],
)
def test_web_host_is_the_host_a_link_really_goes_to(link: str, host: str) -> None:
    assert web_host(link) == host


def test_panel_shows_the_real_host_beside_each_title(claim: Any, bob: Any) -> None:
    claim.add_evidence(bob, url=f"https://{MIXED}/login", stance="supports", title="PayPal")
    claim.add_evidence(bob, url="https://www.example.org/r", stance="context", title="Report")
    response = client_for(bob).get(url("claim-panel", claim.pk), **HTMX)
    content = response.content.decode()
    hosts = [span.content() for span in html(content).select("span", class_="host")]
    assert MIXED_PUNYCODE in hosts and "www.example.org" in hosts
    assert f">{MIXED}<" not in content  # the look-alike host never shows as such


def test_queue_shows_the_real_host_beside_each_title(claim: Any, bob: Any, carol: Any) -> None:
    claim.set_verdict(bob, "supported")
    claim.set_verdict(carol, "disputed")
    claim.add_evidence(bob, url=f"https://{MIXED}/login", stance="supports", title="PayPal")
    page = html(client_for(bob).get(url("queue")))
    assert MIXED_PUNYCODE in [span.content() for span in page.select("span", class_="host")]


def test_claim_history_names_the_host_beside_the_title(claim: Any, bob: Any) -> None:
    claim.add_evidence(bob, url=f"https://{MIXED}/login", stance="supports", title="PayPal")
    content = client_for(bob).get(url("claim-history", claim.pk)).content.decode()
    assert f"PayPal ({MIXED_PUNYCODE})" in content


def test_web_host_filter_escapes_like_any_other_value() -> None:
    rendered = Template("{% load claims_tags %}{{ link|web_host }}").render(
        Context({"link": "https://exa<mple.org/"})
    )
    assert "<" not in rendered.replace("&lt;", "")
