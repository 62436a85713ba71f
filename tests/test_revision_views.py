"""Import a revision in the browser's terms: the form, the preview of the alignment, the
confirmation, the versions on the article screen; who may, and what bad input does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from claims.models import Article, AuditEvent, Claim, Project
from tests.base import HTMX, body, client_for, html, url
from tests.factories import SAMPLE_PATH, SHORT_TEXT, make_article

REVISIONS = Path(__file__).parent / "data" / "revisions"
R2 = (REVISIONS / "china-brief.r2-update.txt").read_text(encoding="utf-8")


@pytest.fixture
def article(project: Project, alice: Any) -> Article:
    return make_article(project, SAMPLE_PATH.read_bytes(), actor=alice)


def revise_url(article: Article) -> str:
    return url("article-revise", article.pk)


def preview(client: Any, article: Article, **data: Any) -> Any:
    return client.post(revise_url(article), {"step": "preview", **data})


def confirm_fields(response: Any) -> dict[str, str]:
    tree = html(body(response))
    form = tree.select("form", **{"aria-label": "Confirm the revision"})[0]
    return {i.attrs["name"]: i.attrs.get("value", "") for i in form.select("input")}


def test_admins_see_the_link_and_the_form(article: Article, alice: Any, bob: Any) -> None:
    page = body(client_for(alice).get(url("article-detail", article.pk)))
    assert revise_url(article) in page
    assert revise_url(article) not in body(client_for(bob).get(url("article-detail", article.pk)))
    response = client_for(alice).get(revise_url(article))
    assert response.status_code == 200
    assert "The new text becomes version 2" in body(response)


@pytest.mark.parametrize("who", ["bob", "rita", "victor"])
def test_members_below_admin_get_403_and_nothing_changes(
    article: Article, who: str, request: Any
) -> None:
    client = client_for(request.getfixturevalue(who))
    events = AuditEvent.objects.count()
    assert client.get(revise_url(article)).status_code == 403
    assert client.post(revise_url(article), {"step": "confirm", "text": R2}).status_code == 403
    assert AuditEvent.objects.count() == events


def test_outsiders_get_404_and_anonymous_go_to_login(article: Article, mallory: Any) -> None:
    assert client_for(mallory).get(revise_url(article)).status_code == 404
    response = Client().get(revise_url(article))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_preview_shows_the_alignment_and_writes_nothing(article: Article, alice: Any) -> None:
    events = AuditEvent.objects.count()
    response = preview(client_for(alice), article, text=R2)
    assert response.status_code == 200
    content = body(response)
    counts = re.search(r"(\d+) unchanged, (\d+) edited, (\d+) removed, (\d+) added", content)
    assert counts is not None
    assert [int(n) for n in counts.groups()] != [0, 0, 0, 0]
    tree = html(content)
    assert len(tree.select("ol", **{"class": "revision edited"})[0].select("li")) == int(
        counts.group(2)
    )
    assert tree.select("ins") and tree.select("del")  # the word diffs
    # Claim numbers, never database ids.
    numbers = {c.ordinal for c in Claim.objects.filter(article=article)}
    shown = {int(n) for n in re.findall(r"Claim (\d+):", content)}
    assert shown and shown <= numbers
    assert AuditEvent.objects.count() == events
    # Under htmx only the partial comes back.
    partial = client_for(alice).post(revise_url(article), {"step": "preview", "text": R2}, **HTMX)
    assert "<html" not in body(partial) and 'id="revision-preview"' in body(partial)


def test_confirm_applies_it_and_the_article_says_which_version(
    article: Article, alice: Any
) -> None:
    client = client_for(alice)
    fields = confirm_fields(preview(client, article, text=R2))
    response = client.post(revise_url(article), fields)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="article.revised").count() == 1
    page = body(client.get(url("article-detail", article.pk)))
    assert "Version 2 of 2 · revised on" in page
    old = body(client.get(url("article-detail", article.pk) + "?version=1"))
    assert "Version 1 of 2" in old
    assert "rebuilt from the audit log" in old
    first = Claim.all_objects.filter(article=article, retired_in=2).first()
    assert first is not None and first.text[:40] in old.replace("\n", " ")
    missing = client.get(url("article-detail", article.pk) + "?version=7")
    assert missing.status_code == 400
    assert "there is no version “7”" in body(missing)


def test_a_stale_confirmation_is_refused_and_changes_nothing(
    article: Article, alice: Any, rita: Any
) -> None:
    client = client_for(alice)
    fields = confirm_fields(preview(client, article, text=R2))
    claim = next(c for c in Claim.objects.filter(article=article) if c.next_in_sentence())
    claim.split(rita, at=claim.start + (claim.end - claim.start) // 2, expected_version=1)
    events = AuditEvent.objects.count()
    response = client.post(revise_url(article), fields)
    assert response.status_code == 409
    assert "preview the revision again" in body(response)
    assert AuditEvent.objects.count() == events


def test_identical_and_unrelated_texts(article: Article, alice: Any) -> None:
    client = client_for(alice)
    same = preview(client, article, text=article.text)
    assert "current version: there is nothing to revise" in body(same)
    assert not html(body(same)).select("form", **{"aria-label": "Confirm the revision"})
    other = (Path(__file__).parent / "data" / "corpus" / "oped-sanctions.txt").read_text()
    response = preview(client, article, text=other)
    assert "no claim in common" in body(response)
    fields = confirm_fields(response)
    refused = client.post(revise_url(article), fields)  # the box was not ticked
    assert refused.status_code == 409
    assert not AuditEvent.objects.filter(action="article.revised").exists()
    assert client.post(revise_url(article), {**fields, "unrelated": "on"}).status_code == 302
    assert AuditEvent.objects.filter(action="article.revised").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Upload a file or paste the revised text."),
        ({"text": "   "}, "Upload a file or paste the revised text."),
        ({"file": SimpleUploadedFile("x.pdf", b"%PDF-1.4")}, "Files of type .pdf cannot"),
        ({"file": SimpleUploadedFile("x.txt", b"\xff\xfe\x00")}, "UTF-16"),
    ],
)
def test_bad_input_is_told_plainly_and_writes_nothing(
    article: Article, alice: Any, data: dict[str, Any], message: str
) -> None:
    events = AuditEvent.objects.count()
    response = preview(client_for(alice), article, **data)
    assert response.status_code == 200
    assert message in body(response)
    assert AuditEvent.objects.count() == events


def test_an_edited_claim_shows_its_old_and_new_words_in_the_panel(
    article: Article, alice: Any, bob: Any
) -> None:
    client = client_for(alice)
    client.post(revise_url(article), confirm_fields(preview(client, article, text=R2)))
    edited = Claim.objects.filter(article=article, revised_in=2).first()
    assert edited is not None
    panel = body(client_for(bob).get(url("claim-panel", edited.pk), **HTMX))
    tree = html(panel)
    (line,) = tree.select("p", id="revised-wording")
    assert "Wording changed in version 2" in line.content()
    assert line.select("del") or line.select("ins")
    unchanged = Claim.objects.filter(article=article, revised_in__isnull=True).first()
    assert unchanged is not None
    other = body(client_for(bob).get(url("claim-panel", unchanged.pk), **HTMX))
    assert not html(other).select("p", id="revised-wording")


def test_a_retired_claim_keeps_its_history_and_takes_no_more_verdicts(
    article: Article, alice: Any, bob: Any
) -> None:
    claims = {c.pk: c.text for c in Claim.objects.filter(article=article)}
    for pk in claims:
        Claim.objects.get(pk=pk).set_verdict(bob, "supported")
    client = client_for(alice)
    client.post(revise_url(article), confirm_fields(preview(client, article, text=R2)))
    retired = Claim.all_objects.filter(article=article, retired_in=2).first()
    assert retired is not None
    assert retired.text == claims[retired.pk]  # the words it had, from version 1
    history = client_for(bob).get(url("claim-history", retired.pk))
    assert history.status_code == 200
    assert claims[retired.pk] in body(history)
    events = AuditEvent.objects.count()
    posted = client_for(bob).post(
        url("claim-verdict", retired.pk), {"status": "disputed", "version": 1}
    )
    assert posted.status_code == 404
    assert AuditEvent.objects.count() == events
    assert client_for(bob).get(url("claim-panel", retired.pk)).status_code == 404


def test_the_history_draws_the_claim_s_life(
    article: Article, alice: Any, bob: Any, carol: Any, rita: Any
) -> None:
    client = client_for(alice)
    claim = Claim.objects.filter(article=article).order_by("ordinal")[3]
    claim.set_verdict(bob, "supported")
    claim.set_verdict(carol, "disputed")
    claim.set_verdict(bob, "disputed", expected_version=1)
    claim.adjudicate(rita, "disputed", rationale="two agree")
    client.post(revise_url(article), confirm_fields(preview(client, article, text=R2)))
    page = html(body(client_for(rita).get(url("claim-history", claim.pk))))
    (svg,) = page.select("svg", class_="chart")
    lanes = [t.content() for t in svg.select("text")]
    assert lanes == ["Text", "bob", "carol", "Ruling"]
    marks = [c.content() for c in svg.select("circle")]
    assert marks[:1] == ["imported"]
    assert "bob: supported" in marks and "bob: disputed" in marks
    assert "carol: disputed" in marks and "ruling: disputed" in marks
    held = [r.attrs["class"] for r in svg.select("rect")]
    assert held.count("fill-disputed") == 3  # bob's second verdict, carol's, the ruling
    assert held.count("fill-supported") == 1


def test_exports_keep_retired_claims_marked_with_the_version_that_removed_them(
    article: Article, alice: Any, bob: Any
) -> None:
    words = {c.pk: c.text for c in Claim.objects.filter(article=article)}
    client = client_for(alice)
    client.post(revise_url(article), confirm_fields(preview(client, article, text=R2)))
    exported = json.loads(body(client.get(url("article-consensus-export", article.pk, "json"))))
    rows = {row["claim"]: row for row in exported["claims"]}
    retired = Claim.all_objects.filter(article=article, retired_in=2)
    assert retired.exists()
    for claim in retired:
        assert rows[claim.pk]["retired_in"] == 2
        assert rows[claim.pk]["text"] == words[claim.pk]
    current = Claim.objects.filter(article=article)
    assert all(rows[c.pk]["retired_in"] is None for c in current)
    assert len(rows) == retired.count() + current.count()


def test_reviewers_unlink_and_link_from_the_panel(
    article: Article, alice: Any, bob: Any, rita: Any
) -> None:
    client = client_for(alice)
    client.post(revise_url(article), confirm_fields(preview(client, article, text=R2)))
    edited = Claim.objects.filter(article=article, revised_in=2).order_by("start").first()
    assert edited is not None
    panel = html(body(client_for(rita).get(url("claim-panel", edited.pk), **HTMX)))
    assert panel.select("form", **{"aria-label": "Unlink from the revision"})
    assert not html(body(client_for(bob).get(url("claim-panel", edited.pk), **HTMX))).select(
        "form", **{"aria-label": "Unlink from the revision"}
    )
    events = AuditEvent.objects.count()
    # Analysts may not; a stale version is refused; neither writes anything.
    assert client_for(bob).post(url("claim-unlink", edited.pk), {"version": 1}).status_code == 403
    stale = client_for(rita).post(url("claim-unlink", edited.pk), {"version": 99})
    assert stale.status_code == 302
    assert AuditEvent.objects.count() == events
    done = client_for(rita).post(url("claim-unlink", edited.pk), {"version": edited.version})
    assert done.status_code == 302
    assert AuditEvent.objects.filter(action="claim.unlinked").count() == 1
    fresh = Claim.objects.get(article=article, start=edited.start)
    # The fresh claim, unassessed, can be linked back to the removed one.
    panel = html(body(client_for(rita).get(url("claim-panel", fresh.pk), **HTMX)))
    (form,) = panel.select("form", **{"aria-label": "Link to a removed claim"})
    options = [o.attrs["value"] for o in form.select("option")]
    assert str(edited.pk) in options
    refused = client_for(rita).post(
        url("claim-link", fresh.pk), {"version": fresh.version, "removed": 999999}
    )
    assert refused.status_code == 302
    assert AuditEvent.objects.count() == events + 1
    linked = client_for(rita).post(
        url("claim-link", fresh.pk), {"version": fresh.version, "removed": edited.pk}, **HTMX
    )
    assert linked.status_code == 200 and linked["HX-Redirect"].endswith(f"#claim-{edited.pk}")
    assert Claim.objects.get(pk=edited.pk).retired_in is None


def _queries(client: Any, path: str, **headers: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, **headers).status_code == 200
    return len(captured)


def test_a_revised_article_costs_the_same_queries_at_two_sizes(
    project: Project, alice: Any, bob: Any
) -> None:
    """The screens of a revised article, an earlier version and the revision preview make
    the same number of queries for a 5-claim article as for the 100-claim sample."""
    counts = []
    for text, revised_text in [
        (SHORT_TEXT, SHORT_TEXT.replace("little change", "some change")),
        (SAMPLE_PATH.read_text(encoding="utf-8"), R2),
    ]:
        article = make_article(project, text, actor=alice)
        client = client_for(alice)
        client.post(
            revise_url(article), confirm_fields(preview(client, article, text=revised_text))
        )
        claim = Claim.objects.filter(article=article).order_by("start").first()
        assert claim is not None
        reader = client_for(bob)
        counts.append(
            (
                _queries(reader, url("article-detail", article.pk)),
                _queries(reader, url("article-detail", article.pk) + "?version=1"),
                _queries(reader, url("claim-panel", claim.pk), **HTMX),
                _queries(client, revise_url(article)),
            )
        )
    assert counts[0] == counts[1], counts
