"""An admin revises the sample; an analyst finds their verdict on a reworded claim flagged,
confirms it still holds with one key, and can still read the claim as it was: in the
previous version, and as of yesterday."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from claims.models import Article, AuditEvent, Claim, Project
from tests.browser.screens import article_path, claim_span, has_class, settled
from tests.factories import SAMPLE_PATH, make_article

REVISED = Path(__file__).parent.parent / "data" / "revisions" / "china-brief.r2-update.txt"


@pytest.mark.browser
def test_revise_preview_confirm_then_confirm_the_flagged_verdict_and_look_back(
    login_as: Callable[[Any], Page], project: Project, alice: Any, bob: Any
) -> None:
    # Yesterday: the sample was imported and bob tagged every claim.
    yesterday = timezone.now() - dt.timedelta(days=1)
    with mock.patch("django.utils.timezone.now", return_value=yesterday):
        article: Article = make_article(project, SAMPLE_PATH.read_bytes(), actor=alice)
        words = {c.pk: c.text for c in Claim.objects.filter(article=article)}
        for claim in Claim.objects.filter(article=article):
            claim.set_verdict(bob, "supported")

    admin = login_as(alice)
    admin.goto(article_path(article))
    admin.get_by_role("link", name="Import a revision").click()
    admin.fill("#id_text", REVISED.read_text(encoding="utf-8"))
    admin.get_by_role("button", name="Preview the revision").click()
    counts = admin.locator("#revision-counts")
    expect(counts).to_have_text(
        re.compile(r"^\d+ unchanged, \d+ edited, \d+ removed, \d+ added\.$")
    )
    expect(admin.locator("ol.revision.edited li").first).to_be_visible()
    expect(admin.locator("ol.revision.edited li ins").first).to_be_visible()
    assert not AuditEvent.objects.filter(action="article.revised").exists()
    admin.get_by_role("button", name="Apply as version 2").click()
    expect(admin.locator("nav.versions")).to_contain_text("Version 2 of 2 · revised on")
    assert AuditEvent.objects.filter(action="article.revised").count() == 1

    edited = Claim.objects.filter(article=article, revised_in=2).order_by("start").first()
    assert edited is not None
    analyst = login_as(bob)
    analyst.goto(article_path(article))
    span = claim_span(analyst, edited)
    expect(span).to_have_class(has_class("due"))
    span.click()
    settled(analyst)
    panel = analyst.locator("#claim-panel")
    expect(panel.locator("#revised-wording")).to_contain_text("Wording changed in version 2")
    expect(panel.locator("#due-line")).to_contain_text("Due for re-check")
    analyst.keyboard.press("h")  # it still holds
    expect(panel.locator("#due-line")).not_to_contain_text("Due for re-check since")
    expect(span).not_to_have_class(has_class("due"))
    assert AuditEvent.objects.filter(action="verdict.confirmed", actor=bob).count() == 1

    # The claim as it was: in version 1, and as the article stood yesterday.
    for query in ("?version=1", f"?as_of={yesterday.date().isoformat()}"):
        analyst.goto(article_path(article) + query)
        expect(analyst.locator(".asof")).to_contain_text("rebuilt from the audit log")
        expect(claim_span(analyst, edited)).to_contain_text(words[edited.pk][:50])
