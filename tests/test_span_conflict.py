"""A refused span correction keeps what the reviewer typed, as a refused verdict does:
the text stays in the field, the section stays open, and a conflict shows the claim's
current text beside it."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from claims.models import AuditEvent, Claim
from tests.base import HTMX, Node, client_for, html


def post_span(user: Any, claim: Claim, text: str, version: int, headers: dict) -> Any:
    path = reverse("claim-span", args=["demo", claim.pk])
    return client_for(user).post(path, {"text": text, "version": version}, **headers)


def span_section(response: Any) -> Node:
    return html(response).by_id("edit-span")


def typed_text(section: Node) -> str:
    (textarea,) = section.find(lambda n: n.tag == "textarea" and n.attrs.get("name") == "text")
    return textarea.content()


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_stale_span_correction_keeps_what_was_typed_beside_the_current_text(
    claim: Claim, rita: Any, alice: Any, headers: dict
) -> None:
    words = claim.text.split(" ")
    theirs = " ".join(words[:-1])  # another window shortened it from the end first
    claim.correct_span(alice, start=claim.start, end=claim.start + len(theirs), expected_version=1)
    mine = " ".join(words[1:])  # what rita typed against version 1
    before = AuditEvent.objects.count()

    response = post_span(rita, claim, mine, 1, headers)

    assert response.status_code == 409
    section = span_section(response)
    assert "open" in section.attrs  # the section stays open
    assert typed_text(section) == mine  # the field keeps what was typed
    (conflict,) = section.find(lambda n: "conflict" in n.classes())
    assert conflict.attrs.get("role") == "alert"
    (current,) = conflict.find(lambda n: "span-current" in n.classes())
    assert current.content() == theirs  # the current text, shown apart from the field
    assert "changed elsewhere" in conflict.content()
    # Saving again is a deliberate choice, made against the version now current.
    (version,) = section.find(lambda n: n.tag == "input" and n.attrs.get("name") == "version")
    assert version.attrs["value"] == "2"
    assert AuditEvent.objects.count() == before
    claim.refresh_from_db()
    assert claim.text == theirs


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_refused_span_correction_keeps_what_was_typed_and_says_why(
    claim: Claim, rita: Any, headers: dict
) -> None:
    typed = "Words that are not in this paragraph."
    before = AuditEvent.objects.count()
    response = post_span(rita, claim, typed, 1, headers)
    assert response.status_code == 422
    section = span_section(response)
    assert "open" in section.attrs
    assert typed_text(section) == typed
    assert "not in the claim's paragraph" in section.content()
    assert AuditEvent.objects.count() == before


def test_span_section_is_closed_with_the_claim_text_when_nothing_was_refused(
    claim: Claim, rita: Any
) -> None:
    response = client_for(rita).get(reverse("claim-panel", args=["demo", claim.pk]), **HTMX)
    section = span_section(response)
    assert "open" not in section.attrs
    assert typed_text(section) == claim.text
    assert not section.find(lambda n: "conflict" in n.classes())
