"""Audit exports: the export page and public key, every format, the export event, the
export_audit command, the signing key, and a small bench_audit run."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.log import signing, verify_export
from claims.log.export import (
    CSV_HEADER,
    HASH_DOMAIN,
    Filters,
    event_csv,
    event_lines,
    selected_events,
    start_export,
)
from claims.models import AuditEvent, Role
from tests.base import client_for
from tests.factories import SHORT_TEXT, add_member, make_article, make_project, make_user

KEY = Ed25519PrivateKey.generate()


def raw_key(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode("ascii")


@pytest.fixture(autouse=True)
def signing_key(monkeypatch: Any) -> Ed25519PrivateKey:
    monkeypatch.setenv(signing.ENV_KEY, raw_key(KEY))
    monkeypatch.delenv(signing.ENV_KEY_FILE, raising=False)
    return KEY


@pytest.fixture
def public_key(tmp_path: Path) -> Path:
    path = tmp_path / "public.pem"
    path.write_text(signing.public_key_pem(KEY))
    return path


def export_url() -> str:
    return reverse("audit-export", args=["demo"])


def content(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


def exports_of(project: Any) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(chain__project=project, action="audit.exported")
    return [json.loads(e.body) for e in events.order_by("seq")]


def verifies(text: str, tmp_path: Path, public_key: Path, *extra: str) -> int:
    path = tmp_path / "export.jsonl"
    path.write_text(text, encoding="utf-8", newline="")
    return verify_export.main([str(path), "--public-key", str(public_key), *extra])


@pytest.fixture
def tagged(article: Any, bob: Any, carol: Any, rita: Any) -> Any:
    """bob and carol tag the first two claims; rita adjudicates the first."""
    first, second = article.claims.order_by("start")[:2]
    first.set_verdict(bob, "supported", rationale='=HYPERLINK("http://x")')
    first.set_verdict(carol, "outdated", rationale="Superseded.", as_of=article.published_on)
    second.set_verdict(bob, "disputed", rationale="Other sources disagree.")
    first.adjudicate(rita, "outdated", rationale="It no longer holds.")
    return first


# Who may export ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "rita"])
def test_admins_and_reviewers_see_the_export_page(project: Any, who: str, request: Any) -> None:
    response = client_for(request.getfixturevalue(who)).get(export_url())
    assert response.status_code == 200
    assert "Export the audit trail" in response.text
    assert signing.key_id(KEY.public_key()) in response.text
    assert reverse("audit-public-key", args=["demo"]) in response.text


@pytest.mark.parametrize("who", ["bob", "victor"])
def test_analysts_and_viewers_get_403(project: Any, who: str, request: Any) -> None:
    client = client_for(request.getfixturevalue(who))
    assert client.get(export_url()).status_code == 403
    assert client.post(export_url(), {"format": "jsonl"}).status_code == 403
    assert exports_of(project) == []


def test_outsider_gets_404(project: Any, mallory: Any) -> None:
    client = client_for(mallory)
    assert client.get(export_url()).status_code == 404
    assert client.post(export_url(), {"format": "csv"}).status_code == 404
    assert client.get(reverse("audit-public-key", args=["demo"])).status_code == 404


def test_anonymous_is_sent_to_log_in(project: Any) -> None:
    response = Client().get(export_url())
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_wrong_method_gets_405(project: Any, rita: Any) -> None:
    assert client_for(rita).put(export_url()).status_code == 405
    url = reverse("audit-public-key", args=["demo"])
    assert client_for(rita).post(url).status_code == 405


def test_a_get_with_parameters_only_fills_in_the_form(project: Any, rita: Any) -> None:
    response = client_for(rita).get(export_url() + "?format=csv&actor=bob")
    assert response.status_code == 200
    assert not response.streaming
    assert response.context["form"]["actor"].value() == "bob"
    assert exports_of(project) == []


# The signed chain ----------------------------------------------------------------------


def test_the_jsonl_export_streams_a_verifiable_chain(
    tagged: Any, rita: Any, tmp_path: Path, public_key: Path
) -> None:
    response = client_for(rita).post(export_url(), {"format": "jsonl"})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("application/jsonl")
    assert response["Content-Disposition"].startswith('attachment; filename="demo-audit-jsonl-')
    text = content(response)
    assert verifies(text, tmp_path, public_key) == 0
    lines = [json.loads(line) for line in text.splitlines()]
    header, events, manifest = lines[0], lines[1:-1], lines[-1]
    assert header["project"] == "demo" and header["contiguous"] is True
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    stored = AuditEvent.objects.filter(chain__project=tagged.article.project).order_by("seq")
    assert events[0]["body"] == stored[0].body  # verbatim
    assert manifest["previous_manifest_hash"] is None


def test_an_export_writes_exactly_one_event_that_it_does_not_cover(tagged: Any, rita: Any) -> None:
    project = tagged.article.project
    project.chain.refresh_from_db()
    before = project.chain.head_seq
    text = content(client_for(rita).post(export_url(), {"format": "jsonl", "actor": "bob"}))
    project.chain.refresh_from_db()
    assert project.chain.head_seq == before + 1
    (event,) = exports_of(project)
    manifest = json.loads(text.splitlines()[-1])
    assert event["actor"] == "rita" and event["seq"] == before + 1
    assert event["target"] == {"type": "export", "format": "jsonl"}
    assert event["after"] == {
        "format": "jsonl",
        "filters": {"article": None, "since": None, "until": None, "actor": "bob"},
        "count": manifest["count"],
        "chain_head_seq": before,
        "chain_head_hash": AuditEvent.objects.get(chain__project=project, seq=before).hash,
        "manifest_hash": verify_export.manifest_hash(manifest),
        "key_id": signing.key_id(KEY.public_key()),
    }
    assert manifest["head_seq"] < event["seq"]


def test_exports_chain_their_manifests(
    tagged: Any, rita: Any, tmp_path: Path, public_key: Path
) -> None:
    client = client_for(rita)
    first = content(client.post(export_url(), {"format": "jsonl"}))
    client.post(export_url(), {"format": "csv"})  # unsigned: not a link in the chain
    second = content(client.post(export_url(), {"format": "jsonl"}))
    first_manifest = json.loads(first.splitlines()[-1])
    second_manifest = json.loads(second.splitlines()[-1])
    assert second_manifest["previous_manifest_hash"] == verify_export.manifest_hash(first_manifest)
    anchor = tmp_path / "anchor.json"
    anchor.write_text(first.splitlines()[-1])
    assert verifies(second, tmp_path, public_key, "--anchor", str(anchor)) == 0


def test_filters_by_article_and_actor_leave_a_non_contiguous_export(
    tagged: Any, rita: Any, alice: Any, tmp_path: Path, public_key: Path
) -> None:
    other = make_article(tagged.article.project, SHORT_TEXT.replace("2022", "2023"))
    other.claims.first().set_verdict(make_member("dave", tagged), "supported")
    data = {"format": "jsonl", "article": tagged.article_id}
    text = content(client_for(rita).post(export_url(), data))
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["contiguous"] is False and lines[-1]["contiguous"] is False
    bodies = [json.loads(line["body"]) for line in lines[1:-1]]
    assert bodies and all(b["target"].get("article") == tagged.article_id for b in bodies)
    assert verifies(text, tmp_path, public_key) == 0
    text = content(client_for(alice).post(export_url(), {"format": "jsonl", "actor": "carol"}))
    actors = {json.loads(json.loads(line)["body"])["actor"] for line in text.splitlines()[1:-1]}
    assert actors == {"carol"}
    assert verifies(text, tmp_path, public_key) == 0


def make_member(name: str, claim: Any) -> Any:
    user = make_user(name)
    add_member(claim.article.project, user, Role.ANALYST)
    return user


def test_a_date_range_with_no_events_is_an_empty_signed_export(
    tagged: Any, rita: Any, tmp_path: Path, public_key: Path
) -> None:
    data = {"format": "jsonl", "since": "2999-01-01", "until": "2999-12-31"}
    text = content(client_for(rita).post(export_url(), data))
    manifest = json.loads(text.splitlines()[-1])
    assert (manifest["count"], manifest["head_seq"]) == (0, None)
    assert verifies(text, tmp_path, public_key) == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"format": "csv", "since": "2022-02-02", "until": "2022-01-01"}, "until"),
        ({"format": "csv", "actor": "nobody"}, "actor"),
        ({"format": "csv", "since": "yesterday"}, "since"),
        ({"format": "csv", "article": "999999"}, "article"),
    ],
)
def test_invalid_input_is_refused_and_nothing_is_recorded(
    project: Any, rita: Any, data: dict[str, str], field: str
) -> None:
    response = client_for(rita).post(export_url(), data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert exports_of(project) == []


def test_another_projects_article_cannot_be_chosen(project: Any, rita: Any, alice: Any) -> None:
    elsewhere = make_article(make_project("other", admin=alice))
    response = client_for(rita).post(export_url(), {"format": "csv", "article": elsewhere.pk})
    assert response.status_code == 422


def test_without_a_key_and_debug_off_the_signed_export_fails_clearly(
    project: Any, rita: Any, monkeypatch: Any, settings: Any
) -> None:
    settings.DEBUG = False
    monkeypatch.delenv(signing.ENV_KEY)
    response = client_for(rita).post(export_url(), {"format": "jsonl"})
    assert response.status_code == 503
    assert "No signing key: set CLAIMS_SIGNING_KEY" in response.text
    assert exports_of(project) == []
    # Unsigned formats still work.
    assert client_for(rita).post(export_url(), {"format": "csv"}).status_code == 200


def test_export_queries_do_not_grow_with_the_log(article: Any, bob: Any, rita: Any) -> None:
    project = article.project
    claim = article.claims.first()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            export = start_export(project, "jsonl", actor=rita)
            "".join(export.chunks)
        return len(captured)

    small = queries()
    for version in range(40):
        claim.set_verdict(bob, ("supported", "disputed")[version % 2], expected_version=version)
    assert queries() == small


# CSV for people --------------------------------------------------------------------------


def test_the_csv_lists_every_event_with_formulas_escaped(
    tagged: Any, rita: Any, alice: Any
) -> None:
    eve = make_user("@eve")
    add_member(tagged.article.project, eve, Role.ANALYST)
    tagged.set_verdict(eve, "disputed", rationale="no")
    response = client_for(rita).post(export_url(), {"format": "csv"})
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(content(response))))
    assert rows[0] == [
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
    project = tagged.article.project
    stored = AuditEvent.objects.filter(chain__project=project).exclude(action="audit.exported")
    assert [int(r[0]) for r in rows[1:]] == list(stored.values_list("seq", flat=True))
    eve_rows = [r for r in rows if r[3] == "verdict.set" and "eve" in r[2]]
    assert eve_rows[0][2] == "'@eve"  # would be read as a formula
    bob_row = next(r for r in rows if r[2] == "bob")
    assert 'rationale: =HYPERLINK("http://x")' in bob_row[9].splitlines()  # inside the cell
    assert bob_row[10] == stored.get(seq=int(bob_row[0])).hash


def test_chunk_boundaries_change_nothing(
    tagged: Any, monkeypatch: Any, tmp_path: Path, public_key: Path
) -> None:
    """The JSON Lines and CSV streams are made a chunk of events at a time."""
    chain = tagged.article.project.chain
    chain.refresh_from_db()
    events = selected_events(chain, chain.head_seq, Filters())
    lines, tables = set(), set()
    for size in (1, 3, 1000):
        monkeypatch.setattr("claims.log.export.CHUNK_LINES", size)
        lines.add("".join(text for _rows, text in event_lines(events)))
        tables.add("".join(event_csv(events)))
        export = "".join(start_export(tagged.article.project, "jsonl", actor=None).chunks)
        assert verifies(export, tmp_path, public_key) == 0
    assert len(lines) == 1 and len(tables) == 1
    rows = list(csv.reader(io.StringIO(tables.pop())))
    assert rows[0] == CSV_HEADER and len(rows) == 1 + events.count() > 4
    assert "".join(event_csv(events.none())) == ",".join(CSV_HEADER) + "\r\n"


# W3C Web Annotation ----------------------------------------------------------------------


def test_annotations_give_one_annotation_per_current_verdict(
    tagged: Any, rita: Any, bob: Any
) -> None:
    article = tagged.article
    response = client_for(rita).post(export_url(), {"format": "annotations"})
    assert response["Content-Type"].startswith("application/ld+json")
    collection = json.loads(content(response))
    assert collection["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert collection["type"] == "AnnotationCollection"
    items = collection["first"]["items"]
    assert len(items) == 3
    mine = next(a for a in items if a["creator"]["nickname"] == "carol")
    assert mine["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert (mine["type"], mine["motivation"]) == ("Annotation", "assessing")
    assert mine["body"]["type"] == "TextualBody"
    assert mine["body"]["value"] == "outdated since 2021-10-22: Superseded."
    assert mine["created"] <= mine["modified"]
    target = mine["target"]
    assert target["source"] == f"urn:sha256:{article.sha256}"
    quote, position = target["selector"]
    assert quote["type"] == "TextQuoteSelector" and position["type"] == "TextPositionSelector"
    assert (position["start"], position["end"]) == (tagged.start, tagged.end)
    assert quote["exact"] == tagged.text == article.text[position["start"] : position["end"]]
    assert article.text[: tagged.start].endswith(quote["prefix"])
    assert len(quote["prefix"]) == min(32, tagged.start) and len(quote["suffix"]) == 32
    assert article.text[tagged.end :].startswith(quote["suffix"])
    (event,) = exports_of(article.project)
    assert event["after"]["count"] == 3 and event["after"]["manifest_hash"] is None


def test_annotations_use_the_article_url_and_follow_the_actor_filter(
    project: Any, bob: Any, carol: Any, rita: Any
) -> None:
    article = make_article(project, source_url="https://example.org/piece")
    claim = article.claims.first()
    claim.set_verdict(bob, "supported")
    claim.set_verdict(carol, "disputed")
    data = {"format": "annotations", "actor": "bob"}
    items = json.loads(content(client_for(rita).post(export_url(), data)))["first"]["items"]
    assert [a["creator"]["nickname"] for a in items] == ["bob"]
    assert items[0]["target"]["source"] == "https://example.org/piece"


# schema.org ClaimReview ------------------------------------------------------------------


def test_claimreview_describes_adjudicated_claims(tagged: Any, rita: Any) -> None:
    article = tagged.article
    response = client_for(rita).post(export_url(), {"format": "claimreview"})
    reviews = json.loads(content(response))
    assert len(reviews) == 1
    (review,) = reviews
    assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == tagged.text
    assert review["reviewRating"]["alternateName"] == "outdated"
    assert review["reviewRating"]["ratingExplanation"] == "It no longer holds."
    assert review["author"]["alternateName"] == "rita"
    assert review["datePublished"] == tagged.adjudication.decided_at.date().isoformat()
    appearance = review["itemReviewed"]["appearance"]
    assert review["itemReviewed"]["@type"] == "Claim"
    assert appearance["@type"] == "CreativeWork"
    assert appearance["headline"] == article.title
    assert appearance["datePublished"] == "2021-10-22"


def test_a_withdrawn_adjudication_is_not_reviewed(tagged: Any, rita: Any) -> None:
    tagged.withdraw_adjudication(rita, expected_version=1)
    response = client_for(rita).post(export_url(), {"format": "claimreview"})
    assert json.loads(content(response)) == []


# The public key --------------------------------------------------------------------------


def test_any_member_may_download_the_public_key(project: Any, victor: Any) -> None:
    response = client_for(victor).get(reverse("audit-public-key", args=["demo"]))
    assert response.status_code == 200
    key_id = signing.key_id(KEY.public_key())
    assert response["Content-Disposition"] == f'attachment; filename="claims-signing-{key_id}.pem"'
    public = serialization.load_pem_public_key(response.content)
    assert verify_export.key_id(public) == key_id  # type: ignore[arg-type]


def test_without_a_key_the_public_key_is_unavailable(
    project: Any, victor: Any, monkeypatch: Any, settings: Any
) -> None:
    settings.DEBUG = False
    monkeypatch.delenv(signing.ENV_KEY)
    response = client_for(victor).get(reverse("audit-public-key", args=["demo"]))
    assert response.status_code == 503


# The signing key -------------------------------------------------------------------------


def test_the_key_id_is_the_start_of_the_public_keys_sha256() -> None:
    raw = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert signing.key_id(KEY.public_key()) == hashlib.sha256(raw).hexdigest()[:16]


def test_the_key_may_be_pem_text_or_a_file(monkeypatch: Any, tmp_path: Path) -> None:
    pem = KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    monkeypatch.setenv(signing.ENV_KEY, pem)
    assert signing.public_key_pem() == signing.public_key_pem(KEY)
    monkeypatch.delenv(signing.ENV_KEY)
    (tmp_path / "key.pem").write_text(pem)
    monkeypatch.setenv(signing.ENV_KEY_FILE, str(tmp_path / "key.pem"))
    assert signing.public_key_pem() == signing.public_key_pem(KEY)
    monkeypatch.setenv(signing.ENV_KEY_FILE, str(tmp_path / "missing.pem"))
    with pytest.raises(signing.SigningKeyMissing, match="Cannot read"):
        signing.private_key()


@pytest.mark.parametrize("value", ["not a key", base64.b64encode(b"short").decode(), "-----BEGIN"])
def test_a_bad_key_is_refused_clearly(monkeypatch: Any, value: str) -> None:
    monkeypatch.setenv(signing.ENV_KEY, value)
    with pytest.raises(signing.SigningKeyMissing):
        signing.private_key()


def test_with_debug_on_a_key_is_generated_once(
    monkeypatch: Any, settings: Any, tmp_path: Path
) -> None:
    monkeypatch.delenv(signing.ENV_KEY)
    settings.DEBUG, settings.VAR_DIR = True, tmp_path / "var"
    first = signing.public_key_pem()
    path = tmp_path / "var" / "signing-key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing.public_key_pem() == first


def test_with_debug_off_and_no_key_signing_fails(monkeypatch: Any, settings: Any) -> None:
    monkeypatch.delenv(signing.ENV_KEY)
    settings.DEBUG = False
    with pytest.raises(signing.SigningKeyMissing, match="CLAIMS_SIGNING_KEY_FILE"):
        signing.private_key()


# export_audit ----------------------------------------------------------------------------


def run_command(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_exports_to_a_file_with_the_public_key(tagged: Any, tmp_path: Path) -> None:
    output, key = tmp_path / "demo.jsonl", tmp_path / "key.pem"
    _out, err = run_command(
        "--project", "demo", "--output", str(output), "--public-key-out", str(key)
    )
    assert "Exported" in err and "recorded as event" in err
    assert verify_export.main([str(output), "--public-key", str(key)]) == 0
    (event,) = exports_of(tagged.article.project)
    assert event["actor"] is None  # the command line


def test_the_command_streams_csv_to_stdout_with_filters(tagged: Any) -> None:
    out, _err = run_command(
        "--project", "demo", "--format", "csv", "--actor", "carol", "--since", "2000-01-01"
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][0] == "seq" and {r[2] for r in rows[1:]} == {"carol"}
    (event,) = exports_of(tagged.article.project)
    assert event["after"]["filters"]["actor"] == "carol"
    assert event["after"]["filters"]["since"] == "2000-01-01"


@pytest.mark.parametrize("fmt", ["annotations", "claimreview"])
def test_the_command_writes_the_json_ld_formats(tagged: Any, fmt: str) -> None:
    out, _err = run_command(
        "--project", "demo", "--format", fmt, "--article", str(tagged.article_id)
    )
    assert json.loads(out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "nope"], "no project"),
        (["--project", "demo", "--article", "999999"], "has no article"),
        (["--project", "demo", "--actor", "nobody"], "no user called"),
        (["--project", "demo", "--since", "22/10/2021"], "not a date"),
        (["--project", "demo", "--since", "2022-01-02", "--until", "2022-01-01"], "before"),
    ],
)
def test_the_command_refuses_bad_arguments(project: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run_command(*args)
    assert exports_of(project) == []


def test_the_command_without_a_key_fails_clearly(
    project: Any, monkeypatch: Any, settings: Any
) -> None:
    settings.DEBUG = False
    monkeypatch.delenv(signing.ENV_KEY)
    with pytest.raises(CommandError, match="No signing key"):
        run_command("--project", "demo")
    assert exports_of(project) == []


def test_start_export_refuses_an_unknown_format(project: Any) -> None:
    with pytest.raises(ValueError, match="Unknown export format"):
        start_export(project, "xml", Filters(), actor=None)


def test_verifier_and_write_path_share_the_hash_domain() -> None:
    assert verify_export.HASH_DOMAIN == HASH_DOMAIN


# bench_audit -----------------------------------------------------------------------------


def test_bench_audit_prints_one_json_object() -> None:
    out = io.StringIO()
    call_command("bench_audit", "--events", "2000", stdout=out)
    result = json.loads(out.getvalue())
    assert result["events"] == 2000
    for key in (
        "cpu_count",
        "database",
        "build_events_per_s",
        "export_events_per_s",
        "csv_export_events_per_s",
        "verify_events_per_s",
        "export_peak_rss_mb",
        "csv_export_peak_rss_mb",
        "verify_peak_rss_mb",
    ):
        assert key in result
    assert result["verify_summary"].startswith("OK: project bench, 2000 events")
    # Each process's own peak (VmHWM), not one inherited from its parent: the verifier,
    # without Django, needs far less than an export.
    assert 0 < result["verify_peak_rss_mb"] < result["export_peak_rss_mb"]


@pytest.mark.parametrize("name", ["mallory", "ghost"])
def test_the_actor_filter_does_not_tell_whether_an_account_exists_elsewhere(
    project: Any, rita: Any, mallory: Any, name: str
) -> None:
    response = client_for(rita).post(export_url(), {"format": "csv", "actor": name})
    assert response.status_code == 422
    assert f"No one called {name} has done anything in this project." in response.content.decode()
    assert exports_of(project) == []
