"""Exports people open: evidence in the consensus CSV and JSON and in the Web Annotation
export, CSV files that Excel reads as UTF-8, and an audit CSV with readable columns."""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.log import signing
from claims.log.export import CSV_HEADER, event_csv_row
from claims.models import AuditEvent, Role
from tests.base import client_for, html, url
from tests.factories import add_member, make_article, make_user

BOM = b"\xef\xbb\xbf"
TEXT = "Café Title\n\nMoscow agreed to talks in Zürich. Beijing declined them.\n"


@pytest.fixture(autouse=True)
def signing_key(monkeypatch: Any) -> None:
    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv(signing.ENV_KEY, base64.b64encode(raw).decode("ascii"))
    monkeypatch.delenv(signing.ENV_KEY_FILE, raising=False)


@pytest.fixture
def argued(project: Any, alice: Any, bob: Any, carol: Any) -> Any:
    """The first claim: bob supports it with two links (and one he took back), carol
    disputes it with one."""
    article = make_article(project, TEXT, actor=alice)
    claim = article.claims.order_by("start").first()
    claim.set_verdict(bob, "supported", rationale="Fits the record.")
    claim.set_verdict(carol, "disputed")
    claim.add_evidence(
        bob,
        url="https://example.org/talks",
        title="Talks in Zürich",
        stance="supports",
        quote="Both sides met in Zürich.",
        note="Dated the same week.",
    )
    claim.add_evidence(bob, url="https://example.org/bare", stance="context")
    gone = claim.add_evidence(bob, url="https://example.org/withdrawn", stance="supports")
    gone.remove(bob)
    claim.add_evidence(carol, url="https://example.org/denial", stance="contradicts")
    return claim


def raw(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# Consensus CSV and JSON ------------------------------------------------------------------


def test_the_consensus_csv_opens_in_excel_as_utf8(argued: Any, victor: Any) -> None:
    data = raw(client_for(victor).get(url("article-consensus-export", argued.article_id, "csv")))
    assert data.startswith(BOM) and not data.startswith(BOM * 2)
    rows = rows_of(data)
    assert list(rows[0])[0] == "article"  # the mark is not part of the first heading
    assert rows[0]["article_title"] == "Café Title"
    assert "Zürich" in rows[0]["text"]


def test_the_consensus_csv_lists_each_piece_of_evidence_on_its_own_line(
    argued: Any, victor: Any
) -> None:
    data = raw(client_for(victor).get(url("project-consensus-export", "csv")))
    row = next(r for r in rows_of(data) if r["claim"] == str(argued.pk))
    assert row["evidence"].splitlines() == [
        "bob: supports https://example.org/talks — Talks in Zürich — “Both sides met in "
        "Zürich.” — note: Dated the same week.",
        "bob: context https://example.org/bare",
        "carol: contradicts https://example.org/denial",
    ]
    others = [r["evidence"] for r in rows_of(data) if r["claim"] != str(argued.pk)]
    assert set(others) == {""}


def test_the_consensus_json_carries_every_field_of_the_evidence(argued: Any, victor: Any) -> None:
    export = json.loads(raw(client_for(victor).get(url("project-consensus-export", "json"))))
    record = next(c for c in export["claims"] if c["claim"] == argued.pk)
    first, bare, carols = record["evidence"]
    added_at = first.pop("added_at")
    assert first == {
        "url": "https://example.org/talks",
        "title": "Talks in Zürich",
        "stance": "supports",
        "quote": "Both sides met in Zürich.",
        "note": "Dated the same week.",
        "added_by": "bob",
    }
    assert added_at == argued.evidence.get(url=first["url"]).added_at.isoformat()
    assert (bare["url"], bare["quote"], bare["note"]) == ("https://example.org/bare", "", "")
    assert (carols["added_by"], carols["stance"]) == ("carol", "contradicts")
    assert "https://example.org/withdrawn" not in json.dumps(export)


def test_evidence_cells_that_look_like_formulas_are_escaped(argued: Any, alice: Any) -> None:
    eve = make_user("@eve")
    add_member(argued.article.project, eve, Role.ANALYST)
    argued.set_verdict(eve, "outdated")
    argued.add_evidence(eve, url="https://example.org/e", stance="context", note="=cmd()")
    data = raw(client_for(alice).get(url("article-consensus-export", argued.article_id, "csv")))
    row = next(r for r in rows_of(data) if r["claim"] == str(argued.pk))
    assert not row["evidence"].startswith(("=", "+", "-", "@"))
    assert "@eve: context https://example.org/e — note: =cmd()" in row["evidence"]


def test_blind_review_hides_the_evidence_of_a_claim_not_yet_tagged(argued: Any, alice: Any) -> None:
    project = argued.article.project
    project.blind = True
    project.save()
    dana = make_user("dana")
    add_member(project, dana, Role.ANALYST)
    client = client_for(dana)
    csv_url = url("article-consensus-export", argued.article_id, "csv")
    json_url = url("article-consensus-export", argued.article_id, "json")
    for response in (client.get(csv_url), client.get(json_url)):
        assert b"example.org" not in raw(response)
    argued.set_verdict(dana, "supported")
    record = next(c for c in json.loads(raw(client.get(json_url)))["claims"])
    assert len(record["evidence"]) == 3
    assert "example.org/denial" in raw(client.get(csv_url)).decode()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_evidence_costs_one_query_however_much_there_is(
    project: Any, alice: Any, bob: Any, fmt: str
) -> None:
    def queries() -> int:
        client = client_for(bob)
        client.get(reverse("project-list"))  # the session, read
        with CaptureQueriesContext(connection) as captured:
            raw(client.get(url("project-consensus-export", fmt)))
        return len(captured)

    make_article(project, TEXT, actor=alice)
    small = queries()
    for number in range(3):
        article = make_article(project, f"Title {number}\n\nOne claim. Two claims here.\n")
        for claim in article.claims.all():
            claim.set_verdict(bob, "supported")
            claim.add_evidence(bob, url=f"https://example.org/{claim.pk}", stance="supports")
    assert queries() == small


# Web Annotations ---------------------------------------------------------------------------


def annotations(client: Any, **filters: str) -> list[dict[str, Any]]:
    data = {"format": "annotations", **filters}
    response = client.post(reverse("audit-export", args=["demo"]), data)
    items: list[dict[str, Any]] = json.loads(raw(response))["first"]["items"]
    return items


def test_each_analysts_evidence_is_a_body_of_their_annotation(argued: Any, rita: Any) -> None:
    items = {a["creator"]["nickname"]: a for a in annotations(client_for(rita))}
    bobs = items["bob"]
    assert bobs["@context"][0] == "http://www.w3.org/ns/anno.jsonld"
    verdict, talks, bare = bobs["body"]
    assert verdict == {
        "type": "TextualBody",
        "purpose": "assessing",
        "format": "text/plain",
        "value": "supported: Fits the record.",
    }
    created = talks.pop("created")
    assert talks == {
        "type": "SpecificResource",
        "purpose": "linking",
        "source": "https://example.org/talks",
        "selector": {"type": "TextQuoteSelector", "exact": "Both sides met in Zürich."},
        "stance": "supports",
        "title": "Talks in Zürich",
        "note": "Dated the same week.",
        "creator": {"type": "Person", "nickname": "bob"},
    }
    assert created.endswith("Z") and created <= bare["created"]
    assert set(bare) == {"type", "purpose", "source", "stance", "creator", "created"}
    (_anno, terms) = bobs["@context"]
    assert set(terms) == {"title", "note", "stance"}
    carols = items["carol"]
    assert [b.get("source") for b in carols["body"][1:]] == ["https://example.org/denial"]


def test_an_annotation_without_evidence_keeps_a_single_body(argued: Any, rita: Any) -> None:
    claim = argued.article.claims.order_by("start")[1]
    claim.set_verdict(argued.verdicts.get(analyst__username="bob").analyst, "outdated")
    items = annotations(client_for(rita))
    plain = next(a for a in items if a["target"]["selector"][1]["start"] == claim.start)
    assert plain["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert plain["body"]["type"] == "TextualBody"


def test_annotation_evidence_costs_one_query_per_article(
    argued: Any, rita: Any, bob: Any, carol: Any
) -> None:
    client = client_for(rita)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            annotations(client)
        return len(captured)

    small = queries()
    for claim in argued.article.claims.exclude(pk=argued.pk):
        for analyst in (bob, carol):
            claim.set_verdict(analyst, "supported")
            claim.add_evidence(analyst, url=f"https://example.org/{claim.pk}", stance="context")
    assert queries() == small


# The audit CSV -------------------------------------------------------------------------------


def audit_csv(client: Any, **data: str) -> bytes:
    response = client.post(reverse("audit-export", args=["demo"]), {"format": "csv", **data})
    assert response.status_code == 200
    return raw(response)


def test_the_export_page_offers_the_excel_csv_by_default(project: Any, rita: Any) -> None:
    page = html(client_for(rita).get(reverse("audit-export", args=["demo"])).content.decode())
    (box,) = page.select("input", name="excel")
    assert box.attrs["type"] == "checkbox" and "checked" in box.attrs


def test_the_excel_choice_adds_a_byte_order_mark_and_nothing_else(argued: Any, rita: Any) -> None:
    client = client_for(rita)
    excel, plain = audit_csv(client, excel="on"), audit_csv(client)
    assert excel.startswith(BOM) and not plain.startswith(BOM)
    # The second export's file holds the first export's event as well.
    assert rows_of(excel) == rows_of(plain)[:-1]


def test_the_audit_csv_reads_as_columns_not_json(argued: Any, rita: Any, bob: Any) -> None:
    argued.set_verdict(bob, "disputed", rationale="Fits the record.", expected_version=1)
    rows = rows_of(audit_csv(client_for(rita)))
    assert list(rows[0]) == [
        "seq",
        "time",
        "actor",
        "action",
        "description",
        "article",
        "claim",
        "changed",
        "before",
        "after",
        "hash",
    ]
    changed = next(r for r in rows if r["action"] == "verdict.changed")
    assert changed["description"] == "changed their verdict from supported to disputed"
    assert changed["changed"] == "status"
    assert changed["before"].splitlines() == ["rationale: Fits the record.", "status: supported"]
    assert changed["after"].splitlines() == ["rationale: Fits the record.", "status: disputed"]
    assert changed["claim"] == str(argued.pk) and changed["actor"] == "bob"
    added = next(r for r in rows if r["action"] == "member.added" and "carol" in r["after"])
    assert added["after"].splitlines() == ["role: analyst", "user: carol"]
    assert (added["before"], added["changed"]) == ("", "")
    evidence = next(r for r in rows if r["action"] == "evidence.removed")
    assert "url: https://example.org/withdrawn" in evidence["before"].splitlines()
    for row in rows:
        for cell in (row["before"], row["after"]):
            assert not cell.startswith(("{", "[")), cell
    stored = AuditEvent.objects.filter(chain__project=argued.article.project)
    hashes = dict(stored.values_list("seq", "hash"))
    assert all(hashes[int(r["seq"])] == r["hash"] for r in rows)


def test_a_body_the_write_path_would_not_write_still_gets_its_row() -> None:
    """A damaged or rebuilt chain is what one exports to look at: no row may stop it."""
    body = json.dumps({"action": "verdict.changed", "actor": "bob", "before": {}, "after": 7})
    row = dict(zip(CSV_HEADER, event_csv_row(9, "h" * 64, body, None, 3), strict=True))
    assert (row["description"], row["before"], row["after"]) == ("verdict.changed", "", "value: 7")
    assert (row["seq"], row["claim"], row["article"]) == (9, 3, "")
