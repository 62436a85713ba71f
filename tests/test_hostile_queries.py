"""Hostile query values on every URL: a member can never trigger a 500.

Each URL is requested with every parameter the views read, set to values that have
broken parsers before: Unicode digits (``isdigit()`` accepts ``²``, ``int()`` does not),
integers past 64 bits, moments whose offset leaves years 1-9999, and plain garbage.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from claims.models import AuditEvent

PARAMS = [
    "before",
    "article",
    "claim",
    "as_of",
    "page",
    "show",
    "section",
    "q",
    "actor",
    "action",
    "since",
    "until",
    "state",
    "analyst",
    "version",
    "format",
    "next",
]
VALUES = [
    "²",
    "١٢",
    "99999999999999999999",
    "-1",
    "0",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31",
    "2021-02-30",
    "\x00",
    "%",
    "x" * 5000,
]


def url_names() -> list[str]:
    return [p.name for p in get_resolver().url_patterns if isinstance(p, URLPattern) and p.name]


def kwargs_for(name: str, claim: Any) -> dict[str, Any] | None:
    """Real ids for the pattern's arguments (None: the pattern is not a page of ours)."""
    pattern = next(p for p in get_resolver().url_patterns if getattr(p, "name", None) == name)
    wanted = set(pattern.pattern.converters)
    values = {
        "slug": "demo",
        "article_id": claim.article_id,
        "claim_id": claim.pk,
        "evidence_id": 1,
        "seq": AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first(),
        "fmt": "csv",
    }
    if not wanted <= set(values):
        return None
    return {k: values[k] for k in wanted}


@pytest.mark.parametrize("name", url_names())
def test_hostile_query_values_never_give_a_500(name: str, claim: Any, alice: Any) -> None:
    kwargs = kwargs_for(name, claim)
    if kwargs is None:
        return
    url = reverse(name, kwargs=kwargs)
    client = Client()
    client.force_login(alice)
    for value in VALUES:
        for param in PARAMS:
            query = urlencode({param: value})
            assert client.get(f"{url}?{query}").status_code != 500, (name, "GET", param, value)
            response = client.post(f"{url}?{query}", {param: value})
            assert response.status_code != 500, (name, "POST", param, value)


def get(user: Any, url: str) -> Any:
    client = Client()
    client.force_login(user)
    return client.get(url)


@pytest.mark.parametrize("screen", ["article-detail", "article-consensus"])
@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("yesterday", "is not a moment"),
        ("2021-13-01", "is not a moment"),
        ("0001-01-01T00:00:00+01:00", "is not a moment"),
        ("9999-12-31T23:59:59-01:00", "is not a moment"),
        ("2999-01-01", "is in the future"),
    ],
)
def test_a_bad_as_of_is_refused_with_a_reason(
    claim: Any, bob: Any, screen: str, value: str, says: str
) -> None:
    url = reverse(screen, args=["demo", claim.article_id])
    response = get(bob, f"{url}?{urlencode({'as_of': value})}")
    assert response.status_code == 400
    assert says in response.content.decode()


def test_as_of_today_shows_now(claim: Any, bob: Any) -> None:
    from django.utils import timezone

    url = reverse("article-detail", args=["demo", claim.article_id])
    response = get(bob, f"{url}?as_of={timezone.now().date().isoformat()}")
    assert response.status_code == 200
    assert "as it stood at" in response.content.decode()


@pytest.mark.parametrize("value", ["²", "99999999999999999999", "١"])
def test_unicode_digits_and_huge_ids_are_ignored(claim: Any, rita: Any, value: str) -> None:
    assert get(rita, reverse("queue", args=["demo"]) + f"?article={value}").status_code == 200
    activity = reverse("project-activity", args=["demo"])
    assert get(rita, f"{activity}?before={value}").status_code == 200
