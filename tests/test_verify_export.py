"""The offline verifier: tamper probes against a real export of over 1,000 events.

The events are made through the real write path (verdict changes), exported once per
module, and rolled back; each probe then edits a copy of the file and must be rejected,
while the untouched exports are accepted.
"""

from __future__ import annotations

import ast
import base64
import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from claims.log import chain, signing, verify_export
from claims.log.export import Filters, start_export
from claims.models import AuditEvent, Project, Role, Verdict
from tests.factories import make_article, make_user
from tests.tampering import triggers_off

KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
VERDICT_EVENTS = 1020
STATUSES = ("supported", "disputed", "outdated")
DAY_TWO = dt.date(2024, 1, 2)

# The marker makes pytest-django create the test database, which the module's export
# fixture uses (and rolls back) before any test's own transaction.
pytestmark = pytest.mark.django_db


def raw_key(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class Exports:
    directory: Path
    public_key: Path
    other_public_key: Path
    older: Path  # the project's chain, first export
    newer: Path  # a later export of the same chain (holds the first export's event)
    other_project: Path
    by_actor: Path  # filtered by actor: not contiguous
    from_day_two: Path  # a date range starting mid-chain

    def lines(self, path: Path | None = None) -> list[bytes]:
        return (path or self.older).read_bytes().splitlines(keepends=True)


class Clock:
    """A minute passes at every reading, from 2024-01-01: events fall on several days."""

    def __init__(self) -> None:
        self.now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


def export_to(path: Path, project: Project, filters: Filters | None = None) -> Path:
    export = start_export(project, "jsonl", filters, actor=None)
    path.write_text("".join(export.chunks), encoding="utf-8", newline="")
    return path


def toggle_verdicts(project: Project, analysts: list[Any], count: int) -> None:
    """``count`` verdict events, each a real change through ``Claim.set_verdict``."""
    claims = list(project.articles.get().claims.order_by("start"))
    versions = {
        (v.claim_id, v.analyst_id): v.version
        for v in Verdict.objects.filter(claim__in=claims, analyst__in=analysts)
    }
    for i in range(count):
        claim, analyst = claims[i % len(claims)], analysts[(i // len(claims)) % len(analysts)]
        version = versions.get((claim.pk, analyst.pk), 0)
        claim.set_verdict(analyst, STATUSES[version % 3], expected_version=version)
        versions[(claim.pk, analyst.pk)] = version + 1


@pytest.fixture(scope="module")
def exports(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Exports:
    directory = tmp_path_factory.mktemp("exports")
    public, other_public = directory / "public.pem", directory / "other.pem"
    public.write_text(signing.public_key_pem(KEY))
    other_public.write_text(signing.public_key_pem(OTHER_KEY))
    with (
        pytest.MonkeyPatch.context() as env,
        mock.patch("django.utils.timezone.now", Clock()),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        env.setenv(signing.ENV_KEY, raw_key(KEY))
        env.delenv(signing.ENV_KEY_FILE, raising=False)
        users = [get_user_model().objects.create(username=f"probe{i}") for i in range(4)]
        project = Project.create("probe", "Probe", admin=users[0])
        for user in users[1:]:
            project.set_member(user, Role.ANALYST, actor=users[0])
        make_article(project, actor=users[0])
        toggle_verdicts(project, users[1:], VERDICT_EVENTS)
        older = export_to(directory / "older.jsonl", project)
        toggle_verdicts(project, users[1:2], 5)
        newer = export_to(directory / "newer.jsonl", project)
        by_actor = export_to(directory / "actor.jsonl", project, Filters(actor="probe2"))
        day_two = export_to(directory / "day2.jsonl", project, Filters(since=DAY_TWO))
        other = Project.create("elsewhere", "Elsewhere", admin=users[0])
        make_article(other, actor=users[0])
        other_path = export_to(directory / "other.jsonl", other)
        transaction.set_rollback(True)
    return Exports(directory, public, other_public, older, newer, other_path, by_actor, day_two)


def run(exports: Exports, path: Path, *extra: str, key: Path | None = None) -> int:
    return verify_export.main([str(path), "--public-key", str(key or exports.public_key), *extra])


def write(exports: Exports, name: str, lines: list[bytes]) -> Path:
    path = exports.directory / name
    path.write_bytes(b"".join(lines))
    return path


def edit(line: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    data = json.loads(line)
    change(data)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def flip(line: bytes, field: str) -> bytes:
    """Flip one character of a string field (a hex digit stays a hex digit)."""

    def change(data: dict[str, Any]) -> None:
        value = data[field]
        i = len(value) // 2
        new = "0" if value[i] != "0" else "1"
        data[field] = value[:i] + new + value[i + 1 :]

    return edit(line, change)


def resign(manifest: bytes, key: Ed25519PrivateKey, **changes: Any) -> bytes:
    data = json.loads(manifest) | changes
    unsigned = {k: v for k, v in data.items() if k != "signature"}
    signed = base64.b64encode(key.sign(chain.canonical_json(unsigned).encode())).decode()
    return chain.canonical_json(unsigned | {"signature": signed}).encode() + b"\n"


def rechain(lines: list[bytes], start: int) -> list[bytes]:
    """What someone holding the file but not the key would do: recompute every hash from
    line ``start`` on, so that the links hold again."""
    out = lines[:start]
    prev = json.loads(lines[start - 1])["hash"] if start > 1 else chain.GENESIS_HASH
    for line in lines[start:-1]:
        data = json.loads(line)
        data["prev_hash"] = prev
        data["hash"] = prev = chain.event_hash(prev, data["body"])
        out.append(json.dumps(data, separators=(",", ":")).encode() + b"\n")
    return [*out, lines[-1]]


def insert_renumbered(lines: list[bytes], at: int) -> list[bytes]:
    """A forged event before line ``at``; the seqs after it are moved on and rehashed."""
    first = json.loads(lines[at])["seq"]
    moved = [set_body(lines[at], action="verdict.set"), *lines[at:-1]]
    renumbered = [
        edit(set_body(line, seq=first + n), lambda d, n=n: d.update(seq=first + n))
        for n, line in enumerate(moved)
    ]
    return rechain([*lines[:at], *renumbered, lines[-1]], at)


def set_body(line: bytes, **changes: Any) -> bytes:
    def change(data: dict[str, Any]) -> None:
        data["body"] = chain.canonical_json(json.loads(data["body"]) | changes)

    return edit(line, change)


# Each probe edits the lines of the older export (line 0 is the header, -1 the manifest).
PROBES: dict[str, Callable[[list[bytes], Exports], list[bytes]]] = {
    "flipped byte in a body": lambda ls, e: [
        *ls[:500],
        ls[500].replace(b"supported", b"supportes", 1)
        if b"supported" in ls[500]
        else ls[500].replace(b"disputed", b"disputes", 1),
        *ls[501:],
    ],
    "flipped byte in a hash": lambda ls, e: [*ls[:300], flip(ls[300], "hash"), *ls[301:]],
    "flipped byte in a prev hash": lambda ls, e: [
        *ls[:300],
        flip(ls[300], "prev_hash"),
        *ls[301:],
    ],
    "deleted event": lambda ls, e: [*ls[:400], *ls[401:]],
    "deleted first event": lambda ls, e: [ls[0], *ls[2:]],
    "deleted last event": lambda ls, e: [*ls[:-2], ls[-1]],
    "swapped events": lambda ls, e: [*ls[:200], ls[201], ls[200], *ls[202:]],
    "duplicated event": lambda ls, e: [*ls[:200], ls[200], *ls[200:]],
    "inserted event": lambda ls, e: [*ls[:600], set_body(ls[600], action="verdict.set"), *ls[600:]],
    "inserted event, renumbered and rechained": lambda ls, e: insert_renumbered(ls, 600),
    "body rewritten and chain rehashed": lambda ls, e: rechain(
        [*ls[:600], set_body(ls[600], actor="probe3"), *ls[601:]], 600
    ),
    "body keys reordered": lambda ls, e: [
        *ls[:50],
        edit(ls[50], lambda d: d.update(body=json.dumps(json.loads(d["body"])))),
        *ls[51:],
    ],
    "body names another seq": lambda ls, e: rechain(
        [*ls[:70], set_body(ls[70], seq=71), *ls[71:]], 70
    ),
    "truncated tail (no manifest)": lambda ls, e: ls[:-1],
    "truncated in the middle of a line": lambda ls, e: [*ls[:-1], ls[-1][:40]],
    "truncated after 900 events": lambda ls, e: ls[:900],
    "changed count": lambda ls, e: [*ls[:-1], edit(ls[-1], lambda d: d.update(count=1))],
    "changed head hash": lambda ls, e: [*ls[:-1], flip(ls[-1], "head_hash")],
    "changed head seq": lambda ls, e: [
        *ls[:-1],
        edit(ls[-1], lambda d: d.update(head_seq=d["head_seq"] - 1)),
    ],
    "changed previous manifest hash": lambda ls, e: [
        *ls[:-1],
        edit(ls[-1], lambda d: d.update(previous_manifest_hash="0" * 64)),
    ],
    "signature from another key": lambda ls, e: [*ls[:-1], resign(ls[-1], OTHER_KEY)],
    "tail rewritten and re-signed by another key": lambda ls, e: (
        lambda body: [*body[:-1], resign(body[-1], OTHER_KEY, **manifest_ends(body))]
    )(rechain([*ls[:600], set_body(ls[600], actor="probe3"), *ls[601:]], 600)),
    "another project's event spliced in": lambda ls, e: [
        *ls[:5],
        e.lines(e.other_project)[1],
        *ls[6:],
    ],
    "another project's events appended": lambda ls, e: [
        *ls[:-1],
        *e.lines(e.other_project)[1:-1],
        ls[-1],
    ],
    "another project's export renamed as this one": lambda ls, e: [
        edit(e.lines(e.other_project)[0], lambda d: d.update(project="probe")),
        *e.lines(e.other_project)[1:],
    ],
    "header names another key": lambda ls, e: [
        edit(ls[0], lambda d: d.update(key_id="0123456789abcdef")),
        *ls[1:],
    ],
    "header names another project": lambda ls, e: [
        edit(ls[0], lambda d: d.update(project="elsewhere")),
        *ls[1:],
    ],
    "header says not contiguous": lambda ls, e: [
        edit(ls[0], lambda d: d.update(contiguous=False)),
        *ls[1:],
    ],
    "header filters changed": lambda ls, e: [
        edit(ls[0], lambda d: d["filters"].update(actor="probe1")),
        *ls[1:],
    ],
    "header time changed": lambda ls, e: [
        edit(ls[0], lambda d: d.update(created_at="2020-01-01T00:00:00.000000Z")),
        *ls[1:],
    ],
    "header missing": lambda ls, e: ls[1:],
    "line endings converted to CRLF": lambda ls, e: [line[:-1] + b"\r\n" for line in ls],
    "something after the manifest": lambda ls, e: [*ls, ls[1]],
    "empty file": lambda ls, e: [],
}


def manifest_ends(lines: list[bytes]) -> dict[str, Any]:
    """Count, head and digests that match rewritten event lines."""
    events = lines[1:-1]
    last = json.loads(events[-1])
    return {
        "head_hash": last["hash"],
        "events_digest": hashlib.sha256(b"".join(events)).hexdigest(),
    }


def test_the_exports_hold_over_a_thousand_events(exports: Exports) -> None:
    assert len(exports.lines()) - 2 > 1000
    assert len(PROBES) >= 20


def test_the_untouched_exports_are_accepted(exports: Exports, capsys: Any) -> None:
    for path in (exports.older, exports.newer, exports.other_project, exports.by_actor):
        assert run(exports, path) == 0, capsys.readouterr().err
    summary = capsys.readouterr().out.splitlines()
    assert summary[0].startswith("OK: project probe, ")
    assert "contiguous" in summary[0]
    assert "filtered (links not checked)" in summary[3]


@pytest.mark.parametrize("probe", list(PROBES))
def test_a_tampered_export_is_rejected(exports: Exports, probe: str, capsys: Any) -> None:
    tampered = write(exports, "tampered.jsonl", PROBES[probe](exports.lines(), exports))
    assert run(exports, tampered) == 1
    error = capsys.readouterr().err
    assert error.startswith("FAILED at line "), error


def test_the_first_bad_line_is_named(exports: Exports, capsys: Any) -> None:
    lines = exports.lines()
    run(exports, write(exports, "t.jsonl", [*lines[:300], flip(lines[300], "hash"), *lines[301:]]))
    assert "line 301: seq 300: hash does not match" in capsys.readouterr().err
    run(exports, write(exports, "t.jsonl", [*lines[:400], *lines[401:]]))
    assert "line 401: seq 401 follows seq 399: seq 400 missing" in capsys.readouterr().err
    run(exports, write(exports, "t.jsonl", lines[:-1]))
    assert f"line {len(lines)}: the export ends without a manifest" in capsys.readouterr().err


def test_a_wrong_public_key_is_rejected(exports: Exports, capsys: Any) -> None:
    assert run(exports, exports.older, key=exports.other_public_key) == 1
    assert "line 1: the export says it is signed by key" in capsys.readouterr().err


def test_a_filtered_export_checks_each_event_but_not_the_links(
    exports: Exports, capsys: Any
) -> None:
    lines = exports.lines(exports.by_actor)
    header = json.loads(lines[0])
    assert header["contiguous"] is False and header["filters"]["actor"] == "probe2"
    assert all(json.loads(json.loads(line)["body"])["actor"] == "probe2" for line in lines[1:-1])
    assert run(exports, write(exports, "f.jsonl", [*lines[:3], *lines[4:]])) == 1
    tampered = [*lines[:3], flip(lines[3], "hash"), *lines[4:]]
    assert run(exports, write(exports, "f.jsonl", tampered)) == 1
    assert "hash does not match" in capsys.readouterr().err


def test_a_date_range_export_is_contiguous_from_its_first_seq(
    exports: Exports, capsys: Any
) -> None:
    lines = exports.lines(exports.from_day_two)
    first = json.loads(lines[1])
    assert first["seq"] > 1 and first["prev_hash"] != chain.GENESIS_HASH
    assert json.loads(first["body"])["at"] >= "2024-01-02"
    assert json.loads(lines[-1])["first_prev_hash"] == first["prev_hash"]
    assert run(exports, exports.from_day_two) == 0
    assert run(exports, write(exports, "d.jsonl", [*lines[:3], *lines[4:]])) == 1
    capsys.readouterr()


# Anchors: an earlier manifest kept elsewhere -------------------------------------------


def anchor_file(exports: Exports, path: Path, name: str = "anchor.json") -> Path:
    anchor = exports.directory / name
    anchor.write_bytes(exports.lines(path)[-1])
    return anchor


def test_a_newer_export_extends_an_older_anchor(exports: Exports, capsys: Any) -> None:
    anchor = anchor_file(exports, exports.older)
    assert run(exports, exports.newer, "--anchor", str(anchor)) == 0
    out = capsys.readouterr().out
    assert "extends the anchor at seq" in out
    assert "whose export is recorded at seq" in out  # the older export's own event
    # The whole older export file serves as an anchor too.
    assert run(exports, exports.newer, "--anchor", str(exports.older)) == 0


def test_the_newer_manifest_chains_to_the_older(exports: Exports) -> None:
    older = json.loads(exports.lines(exports.older)[-1])
    newer = json.loads(exports.lines(exports.newer)[-1])
    assert newer["previous_manifest_hash"] == verify_export.manifest_hash(older)


def test_an_older_export_against_a_newer_anchor_is_rejected(exports: Exports, capsys: Any) -> None:
    anchor = anchor_file(exports, exports.newer)
    assert run(exports, exports.older, "--anchor", str(anchor)) == 1
    assert "it is older than the anchor" in capsys.readouterr().err


def test_a_rewritten_chain_is_caught_by_the_anchor(exports: Exports, capsys: Any) -> None:
    anchor = anchor_file(exports, exports.older)
    # Someone with the database and the key could rebuild the chain and sign it: here,
    # the anchor's head event in the new export no longer has the anchor's hash.
    lines = exports.lines(exports.newer)
    rebuilt = rechain([*lines[:10], set_body(lines[10], actor="probe3"), *lines[11:]], 10)
    rebuilt[-1] = resign(rebuilt[-1], KEY, **manifest_ends(rebuilt))
    path = write(exports, "rebuilt.jsonl", rebuilt)
    assert run(exports, path) == 0  # signed by the real key: only the anchor exposes it
    assert run(exports, path, "--anchor", str(anchor)) == 1
    assert "differs from the anchor's head: the chain was rewritten" in capsys.readouterr().err


def test_an_anchor_from_another_project_is_rejected(exports: Exports, capsys: Any) -> None:
    anchor = anchor_file(exports, exports.other_project)
    assert run(exports, exports.newer, "--anchor", str(anchor)) == 1
    assert "the anchor is from project 'elsewhere'" in capsys.readouterr().err


def test_a_tampered_anchor_is_rejected(exports: Exports, capsys: Any) -> None:
    anchor = exports.directory / "bad-anchor.json"
    anchor.write_bytes(flip(exports.lines(exports.older)[-1], "head_hash"))
    assert run(exports, exports.newer, "--anchor", str(anchor)) == 1
    assert "anchor" in capsys.readouterr().err


# An EC public key on a curve that cryptography does not support (secp112r1).
UNSUPPORTED_KEY = """-----BEGIN PUBLIC KEY-----
MDIwEAYHKoZIzj0CAQYFK4EEAAYDHgAE1Hkef4KvihgjLcXNd70nKhzGXqoeUlmu
04RAVQ==
-----END PUBLIC KEY-----
"""


def test_unreadable_inputs_exit_2(exports: Exports, capsys: Any) -> None:
    missing = str(exports.directory / "missing")
    assert verify_export.main([missing, "--public-key", str(exports.public_key)]) == 2
    assert run(exports, exports.older, key=exports.older) == 2
    assert run(exports, exports.older, "--anchor", str(exports.public_key)) == 2
    unsupported = exports.directory / "unsupported.pem"
    unsupported.write_text(UNSUPPORTED_KEY)
    assert run(exports, exports.older, key=unsupported) == 2
    assert capsys.readouterr().err.count("error: ") == 4


# What a filtered or a date-range export can prove against an anchor ----------------------


def signed_file(header: dict[str, Any], events: list[bytes]) -> list[bytes]:
    """An export as the holder of the signing key could write it: any header and event
    lines, with a manifest that matches them, signed by the real key."""
    header_line = chain.canonical_json(header).encode() + b"\n"
    first = json.loads(events[0]) if events else {}
    last = json.loads(events[-1]) if events else {}
    manifest = {
        "type": "manifest",
        "project": header["project"],
        "contiguous": header["contiguous"],
        "count": len(events),
        "first_prev_hash": first.get("prev_hash"),
        "head_seq": last.get("seq"),
        "head_hash": last.get("hash"),
        "events_digest": hashlib.sha256(b"".join(events)).hexdigest(),
        "header_digest": hashlib.sha256(header_line).hexdigest(),
        "created_at": header["created_at"],
        "key_id": header["key_id"],
        "previous_manifest_hash": None,
    }
    return [header_line, *events, resign(json.dumps(manifest).encode(), KEY)]


def head_seq(path: Path) -> int:
    return json.loads(path.read_bytes().splitlines()[-1])["head_seq"]


def events_after(exports: Exports, path: Path, seq: int) -> list[bytes]:
    return [line for line in exports.lines(path)[1:-1] if json.loads(line)["seq"] > seq]


def test_a_filtered_export_cannot_vouch_for_an_anchor_after_a_rewrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Someone holding the database and the key rewrites an event before the anchor's head.
    An export of the whole chain shows the broken link; one filtered by actor or article
    shows no links, yet holds the anchor's head unchanged: it must not be said to extend
    the anchor."""
    monkeypatch.setenv(signing.ENV_KEY, raw_key(KEY))
    monkeypatch.delenv(signing.ENV_KEY_FILE, raising=False)
    alice, bob, carol = (make_user(name) for name in ("alice", "bob", "carol"))
    project = Project.create("anchored", "Anchored", admin=alice)
    for analyst in (bob, carol):
        project.set_member(analyst, Role.ANALYST, actor=alice)
    first, second = make_article(project, actor=alice).claims.order_by("start")[:2]
    first.set_verdict(bob, "supported")
    first.set_verdict(carol, "disputed")
    second.set_verdict(bob, "supported")  # the anchor's head
    anchor = export_to(tmp_path / "anchor.jsonl", project)
    rewritten = AuditEvent.objects.get(chain__project=project, actor=bob, claim_id=first.pk)
    assert rewritten.seq < head_seq(anchor)
    body = json.loads(rewritten.body)
    body["after"]["status"] = "outdated"
    forged = chain.canonical_json(body)
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE claims_auditevent SET body = %s, hash = %s WHERE id = %s",
            [forged, chain.event_hash(rewritten.prev_hash, forged), rewritten.pk],
        )
    whole = export_to(tmp_path / "whole.jsonl", project)
    by_bob = export_to(tmp_path / "bob.jsonl", project, Filters(actor="bob"))
    by_article = export_to(tmp_path / "article.jsonl", project, Filters(article=first.article_id))
    key = tmp_path / "public.pem"
    key.write_text(signing.public_key_pem(KEY))

    def verify(path: Path, *extra: str) -> int:
        return verify_export.main([str(path), "--public-key", str(key), *extra])

    assert verify(whole, "--anchor", str(anchor)) == 1
    assert "prev_hash is not the hash of seq" in capsys.readouterr().err
    assert verify(by_bob) == 0  # each event's own hash holds: a filtered file shows no links
    assert b'"status\\":\\"outdated\\"' in by_bob.read_bytes()
    capsys.readouterr()
    for path in (by_bob, by_article):
        assert verify(path, "--anchor", str(anchor)) == 1
        out, err = capsys.readouterr()
        assert "extends the anchor" not in out + err
        assert err.startswith(
            "FAILED at line 1: an export filtered by actor or article cannot prove "
            "that it extends an anchor"
        ), err


def test_a_filtered_export_with_an_anchor_is_refused(exports: Exports, capsys: Any) -> None:
    for anchor in (anchor_file(exports, exports.older), exports.older):
        assert run(exports, exports.by_actor, "--anchor", str(anchor)) == 1
        out, err = capsys.readouterr()
        assert not out
        assert "filtered by actor or article cannot prove" in err
        assert "export the whole chain, or a date range" in err


def test_a_date_range_holding_the_anchors_head_extends_it_from_its_first_seq(
    exports: Exports, capsys: Any
) -> None:
    first = json.loads(exports.lines(exports.from_day_two)[1])["seq"]
    anchor_head = head_seq(exports.older)
    assert 1 < first <= anchor_head
    anchor = anchor_file(exports, exports.older)
    assert run(exports, exports.from_day_two, "--anchor", str(anchor)) == 0
    out = capsys.readouterr().out
    assert f"extends the anchor at seq {anchor_head}, " in out
    assert f"(a date range from seq {first}: events before it are not in this export)" in out


def test_a_date_range_rewritten_before_the_anchors_head_is_caught(
    exports: Exports, capsys: Any
) -> None:
    lines = exports.lines(exports.from_day_two)
    assert json.loads(lines[10])["seq"] < head_seq(exports.older)
    rebuilt = rechain([*lines[:10], set_body(lines[10], actor="probe3"), *lines[11:]], 10)
    rebuilt = signed_file(json.loads(lines[0]), rebuilt[1:-1])
    path = write(exports, "rebuilt-range.jsonl", rebuilt)
    assert run(exports, path) == 0  # signed by the real key: only the anchor exposes it
    assert run(exports, path, "--anchor", str(anchor_file(exports, exports.older))) == 1
    assert "differs from the anchor's head: the chain was rewritten" in capsys.readouterr().err


def test_a_date_range_starting_right_after_the_anchors_head_extends_it(
    exports: Exports, capsys: Any
) -> None:
    anchor_head = head_seq(exports.older)
    header = json.loads(exports.lines(exports.from_day_two)[0])
    path = write(
        exports,
        "after-anchor.jsonl",
        signed_file(header, events_after(exports, exports.newer, anchor_head)),
    )
    anchor = anchor_file(exports, exports.older)
    assert run(exports, path, "--anchor", str(anchor)) == 0
    out = capsys.readouterr().out
    assert f"extends the anchor at seq {anchor_head}, " in out
    assert (
        "(a date range whose first event follows the anchor's head: "
        f"events up to seq {anchor_head} are not in this export)"
    ) in out
    # The same range from a chain rewritten before the anchor's head no longer follows it.
    lines = exports.lines(exports.newer)
    rebuilt = rechain([*lines[:10], set_body(lines[10], actor="probe3"), *lines[11:]], 10)
    later = [line for line in rebuilt[1:-1] if json.loads(line)["seq"] > anchor_head]
    path = write(exports, "after-anchor.jsonl", signed_file(header, later))
    assert run(exports, path, "--anchor", str(anchor)) == 1
    assert "does not follow the anchor's head: the chain was rewritten" in capsys.readouterr().err


def test_a_date_range_ending_before_the_anchors_head_is_refused(
    exports: Exports, capsys: Any
) -> None:
    anchor_head = head_seq(exports.older)
    header = json.loads(exports.lines(exports.from_day_two)[0])
    header["filters"]["until"] = "2024-01-02"
    events = [
        line
        for line in exports.lines(exports.from_day_two)[1:-1]
        if json.loads(line)["seq"] < anchor_head - 5
    ]
    path = write(exports, "before-anchor.jsonl", signed_file(header, events))
    assert run(exports, path) == 0
    capsys.readouterr()
    assert run(exports, path, "--anchor", str(anchor_file(exports, exports.older))) == 1
    out, err = capsys.readouterr()
    assert not out
    assert f"before the anchor's head at seq {anchor_head}: a date range must reach" in err


def test_a_date_range_starting_after_the_anchors_head_is_refused(
    exports: Exports, capsys: Any
) -> None:
    anchor_head = head_seq(exports.older)
    header = json.loads(exports.lines(exports.from_day_two)[0])
    events = events_after(exports, exports.newer, anchor_head + 1)
    path = write(exports, "past-anchor.jsonl", signed_file(header, events))
    assert run(exports, path) == 0
    capsys.readouterr()
    assert run(exports, path, "--anchor", str(anchor_file(exports, exports.older))) == 1
    out, err = capsys.readouterr()
    assert "extends the anchor" not in out + err
    assert err.startswith(
        f"FAILED at line 2: this export starts at seq {anchor_head + 2}, after the "
        f"anchor's head at seq {anchor_head}"
    ), err


# Malformed input: one FAILED line naming the line, never a traceback ---------------------

DEEP = "[" * 100_000 + "]" * 100_000
READABLE_DEEP = "[" * 5_000 + "]" * 5_000  # parsed by the C scanner, too deep for Python code


def ascii_line(data: dict[str, Any]) -> bytes:
    """A line of JSON with every non-ASCII character escaped, lone surrogates included."""
    return json.dumps(data, separators=(",", ":")).encode() + b"\n"


def with_body(line: bytes, body: str) -> bytes:
    return ascii_line(json.loads(line) | {"body": body})


def body_with(line: bytes, **changes: Any) -> bytes:
    """The event with its body changed but still canonical (a lone surrogate stays one)."""
    body = json.loads(json.loads(line)["body"]) | changes
    return with_body(line, chain.canonical_json(body))


def number_as(field: str, text: str) -> Callable[[bytes], bytes]:
    """The line with the number in ``field`` written as ``text`` (NaN, a huge integer)."""
    pattern = re.compile(rb'"' + field.encode() + rb'":\d+')
    return lambda line: pattern.sub(b'"' + field.encode() + b'":' + text.encode(), line, count=1)


def body_number_as(field: str, text: str) -> Callable[[bytes], bytes]:
    def change(line: bytes) -> bytes:
        body = json.loads(line)["body"]
        return with_body(line, re.sub(rf'"{field}":\d+', f'"{field}":{text}', body, count=1))

    return change


def repeated(key: str, value: str) -> Callable[[bytes], bytes]:
    """The line with ``key`` written twice: first as ``value``, then as it was."""
    return lambda line: b'{"' + key.encode() + b'":' + value.encode() + b"," + line[1:]


HEADER, EVENT, MANIFEST = 0, 5, -1
HUGE = "1" + "0" * 5000  # past Python's limit on converting digits to an int
# Each: (the line changed, how, and a phrase the reason must hold).
MALFORMED: dict[str, tuple[int, Callable[[bytes], bytes], str]] = {
    "a lone surrogate in a body": (EVENT, lambda ln: body_with(ln, actor="\ud800"), "surrogate"),
    "a lone surrogate in the header": (
        HEADER,
        lambda ln: ascii_line(json.loads(ln) | {"created_at": "\ud800"}),
        "surrogate",
    ),
    "a lone surrogate in the manifest": (
        MANIFEST,
        lambda ln: ascii_line(json.loads(ln) | {"previous_manifest_hash": "\udfff"}),
        "surrogate",
    ),
    "invalid UTF-8 in an event line": (
        EVENT,
        lambda ln: ln.replace(b'"body":"', b'"body":"\xff', 1),
        "not valid UTF-8",
    ),
    "a surrogate as raw bytes in an event line": (
        EVENT,
        lambda ln: ln.replace(b'"body":"', b'"body":"\xed\xa0\x80', 1),
        "not valid UTF-8",
    ),
    "invalid UTF-8 in the header": (HEADER, lambda ln: b"\xc3" + ln, "not valid UTF-8"),
    "deep nesting as an event line": (EVENT, lambda ln: DEEP.encode() + b"\n", "nested"),
    "deep nesting as the header": (HEADER, lambda ln: DEEP.encode() + b"\n", "nested"),
    "deep nesting as the manifest": (MANIFEST, lambda ln: DEEP.encode() + b"\n", "nested"),
    "deep nesting in an event's field": (
        EVENT,
        lambda ln: b'{"seq":' + DEEP.encode() + b"}\n",
        "nested",
    ),
    "deep nesting in a body": (EVENT, lambda ln: with_body(ln, DEEP), "nested"),
    "readable deep nesting in the manifest": (
        MANIFEST,
        lambda ln: ln[:-2] + b',"note":' + READABLE_DEEP.encode() + b"}\n",
        "nested",
    ),
    "an event line that is a list": (EVENT, lambda ln: b"[1]\n", "not a JSON object"),
    "an event line that is a string": (EVENT, lambda ln: b'"seq"\n', "not a JSON object"),
    "a manifest that is null": (MANIFEST, lambda ln: b"null\n", "not a JSON object"),
    "NaN in an event line": (EVENT, number_as("seq", "NaN"), "NaN, which is not"),
    "Infinity in the manifest": (MANIFEST, number_as("count", "Infinity"), "Infinity"),
    "-Infinity in the header": (HEADER, number_as("version", "-Infinity"), "Infinity"),
    "NaN in a body": (EVENT, body_number_as("seq", "NaN"), "not canonical JSON"),
    "a huge integer in an event line": (EVENT, number_as("seq", HUGE), "digits"),
    "a huge integer in the header": (HEADER, number_as("version", HUGE), "digits"),
    "a huge integer in the manifest": (MANIFEST, number_as("head_seq", HUGE), "digits"),
    "a huge integer in a body": (EVENT, body_number_as("seq", HUGE), "not canonical JSON"),
    "a repeated key in an event line": (EVENT, repeated("seq", "1"), "repeats a key"),
    "a repeated key in the header": (HEADER, repeated("project", '"elsewhere"'), "repeats a key"),
    "a repeated key in the manifest": (MANIFEST, repeated("count", "0"), "repeats a key"),
    "a huge value in the manifest": (
        MANIFEST,
        lambda ln: ascii_line(json.loads(ln) | {"head_hash": "f" * 1_000_000}),
        "head_hash",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_input_fails_on_one_line_naming_the_line(
    exports: Exports, case: str, capsys: Any
) -> None:
    at, change, reason = MALFORMED[case]
    lines = exports.lines()
    number = at + 1 if at >= 0 else len(lines)
    lines[at] = change(lines[at])
    assert run(exports, write(exports, "malformed.jsonl", lines)) == 1
    out, err = capsys.readouterr()
    assert not out
    assert err.startswith(f"FAILED at line {number}: "), err[:300]
    assert reason in err, err[:300]
    assert err.count("\n") == 1 and len(err) < 400, err[:300]


def test_a_line_too_long_to_be_an_event_fails_without_reading_it_whole(
    exports: Exports, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(verify_export, "MAX_LINE_BYTES", 100_000)
    too_long = "the line is longer than 100,000 bytes: not an export"
    for at, change, reason in (
        (EVENT, lambda ln: b"[" * 300_000 + ln, too_long),
        (HEADER, lambda ln: b" " * 10**6 + ln, too_long),
        (MANIFEST, lambda ln: b" " * 100_000 + ln, too_long),
        # A line of exactly the limit, its newline included, is still read.
        (EVENT, lambda ln: b" " * 99_999 + b"\n", "the line is not valid JSON (Expecting value"),
    ):
        lines = exports.lines()
        number = at + 1 if at >= 0 else len(lines)
        lines[at] = change(lines[at])
        assert run(exports, write(exports, "long.jsonl", lines)) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"FAILED at line {number}: {reason}"), err[:300]
        assert err.count("\n") == 1


def anchor_text(change: dict[str, Any]) -> Callable[[dict[str, Any]], str]:
    return lambda manifest: json.dumps(manifest | change)


MALFORMED_ANCHORS: dict[str, Callable[[dict[str, Any]], str]] = {
    "a lone surrogate": anchor_text({"note": "\ud800"}),
    "a float": anchor_text({"note": 0.5}),
    "NaN": anchor_text({"note": float("nan")}),
    "a head seq of true": anchor_text({"head_seq": True}),
    "deep nesting": lambda manifest: DEEP,
    "deep nesting in the last line of an export": lambda manifest: "{}\n" + DEEP,
}


@pytest.mark.parametrize("case", list(MALFORMED_ANCHORS))
def test_a_malformed_anchor_cannot_be_read(exports: Exports, case: str, capsys: Any) -> None:
    anchor = exports.directory / "malformed-anchor.json"
    anchor.write_text(MALFORMED_ANCHORS[case](json.loads(exports.lines(exports.older)[-1])))
    assert run(exports, exports.newer, "--anchor", str(anchor)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err[:300]
    assert str(anchor) in err


def test_malformed_lines_fail_cleanly_in_a_process_of_their_own(
    exports: Exports, tmp_path: Path
) -> None:
    copy = tmp_path / "verify_export.py"
    shutil.copy(verify_export.__file__, copy)
    for case in ("deep nesting as an event line", "a lone surrogate in a body"):
        at, change, _reason = MALFORMED[case]
        bad = exports.lines()
        bad[at] = change(bad[at])
        path = write(exports, "malformed.jsonl", bad)
        done = subprocess.run(
            [sys.executable, "-I", str(copy), str(path), "--public-key", str(exports.public_key)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        assert done.returncode == 1, done.stderr[-2000:]
        assert done.stderr.startswith(f"FAILED at line {at + 1}: "), done.stderr[-2000:]
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


# The verifier stands alone ---------------------------------------------------------------


def test_the_verifier_runs_copied_out_of_the_project(exports: Exports, tmp_path: Path) -> None:
    copy = tmp_path / "verify_export.py"
    shutil.copy(verify_export.__file__, copy)
    command = [sys.executable, "-I", str(copy), str(exports.newer)]
    done = subprocess.run(
        [*command, "--public-key", str(exports.public_key)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK: project probe, ") and done.stdout.count("\n") == 1
    bad = write(exports, "bad.jsonl", exports.lines()[:-1])
    done = subprocess.run(
        [sys.executable, "-I", str(copy), str(bad), "--public-key", str(exports.public_key)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 1 and "without a manifest" in done.stderr


def test_the_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(Path(verify_export.__file__).read_text())
    modules = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert modules - set(sys.stdlib_module_names) == {"cryptography"}


SAMPLES = [
    {},
    {"b": 1, "a": ["é", None, True]},
    {"text": 'line\nbreak \u2028 and "quotes"', "nested": {"z": [1, {"y": "ü"}]}},
    {"big": 2**70, "neg": -5, "empty": ""},
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_verifier_agrees_with_the_write_path(sample: dict[str, Any]) -> None:
    # One copy of the arithmetic: the write path hashes with the verifier's own.
    assert chain.canonical_json is verify_export.canonical_json
    assert chain.event_hash is verify_export.event_hash
    assert verify_export.GENESIS_HASH == chain.GENESIS_HASH
    body = chain.canonical_json(sample)
    assert verify_export.canonical_json(sample) == body
    assert verify_export.event_hash(chain.GENESIS_HASH, body) == chain.event_hash(
        chain.GENESIS_HASH, body
    )
    assert verify_export.parse_canonical(body) == sample
    with pytest.raises(TypeError):
        verify_export.canonical_json({"x": 0.5})


@pytest.mark.parametrize(
    "body", ['{"x":0.5}', '{"x":NaN}', '{"x":1e3}', '{"b":1,"a":2}', '{"a": 1}', '{"a":"\\u00e9"}']
)
def test_the_verifier_refuses_what_the_write_path_would_not_write(body: str) -> None:
    with pytest.raises(ValueError):
        verify_export.parse_canonical(body)


def test_the_verifier_derives_the_same_key_id() -> None:
    assert verify_export.key_id(KEY.public_key()) == signing.key_id(KEY.public_key())


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":1}\n',
        b"{}\n",
        b' {"a":1}\n',
        b'{"a":1} \n',
        b'{"a":1}\r\n',
        b'{"a":1}',
        b"[1]\n",
        b'\xef\xbb\xbf{"a":1}\n',
        b'{"a":"\xff"}\n',
        b'{"a":1}x\n',
        b'{"a":1\n',
        b'{"a":1,"a":2}\n',
        b'{"a":NaN}\n',
        b'{"a":-Infinity}\n',
        b'{"a":' + b"1" * 5000 + b"}\n",
        b'{"a":' + DEEP.encode() + b"}\n",
        b'{"a":"\\ud800"}\n',
    ],
)
def test_scanning_a_line_agrees_with_parsing_it(raw: bytes) -> None:
    scanned = verify_export.scan_line(raw)
    try:
        parsed = verify_export.parse_line(raw, 2)
    except verify_export.Bad:
        parsed = None
    assert scanned is None or scanned == parsed
    assert (scanned is not None) == (raw in (b'{"a":1}\n', b"{}\n", b'{"a":"\\ud800"}\n'))


@pytest.mark.parametrize(
    "bodies",
    [
        ['{"a":1}', '{"b":[2,"é",{"c":null}]}', "{}"],
        ['{"a":[1', "2]}"],  # one value split across two bodies
        ['{"a":[1', '2]},{"b":3}'],  # ... with the number of values made up
        ['{"a":1} ', '{"b":2}'],
        ['{"b":1,"a":2}'],
        ['{"a":1,"a":1}'],
        ['{"a":1}', '{"a":-0}'],
        ['{"a":"\\u00e9"}', '{"a":"\\/"}'],
        ['{"a":0.5}'],
    ],
)
def test_bodies_checked_a_block_at_a_time_get_the_verdict_of_one_at_a_time(
    bodies: list[str],
) -> None:
    lines = [{"body": body} for body in bodies] + [None, {"type": "manifest"}]
    try:
        expected = [verify_export.parse_canonical(body) for body in bodies] + [None, None]
    except ValueError:
        expected = None
    assert verify_export.canonical_bodies(lines) == expected
