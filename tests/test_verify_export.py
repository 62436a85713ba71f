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
from django.db import transaction

from claims import audit, signing, verify_export
from claims.audit_export import Filters, start_export
from claims.models import Project, Role, Verdict
from tests.factories import make_article

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
    signed = base64.b64encode(key.sign(audit.canonical_json(unsigned).encode())).decode()
    return audit.canonical_json(unsigned | {"signature": signed}).encode() + b"\n"


def rechain(lines: list[bytes], start: int) -> list[bytes]:
    """What someone holding the file but not the key would do: recompute every hash from
    line ``start`` on, so that the links hold again."""
    out = lines[:start]
    prev = json.loads(lines[start - 1])["hash"] if start > 1 else audit.GENESIS_HASH
    for line in lines[start:-1]:
        data = json.loads(line)
        data["prev_hash"] = prev
        data["hash"] = prev = audit.event_hash(prev, data["body"])
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
        data["body"] = audit.canonical_json(json.loads(data["body"]) | changes)

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
    assert first["seq"] > 1 and first["prev_hash"] != audit.GENESIS_HASH
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


def test_unreadable_inputs_exit_2(exports: Exports, capsys: Any) -> None:
    missing = str(exports.directory / "missing")
    assert verify_export.main([missing, "--public-key", str(exports.public_key)]) == 2
    assert run(exports, exports.older, key=exports.older) == 2
    assert run(exports, exports.older, "--anchor", str(exports.public_key)) == 2
    assert capsys.readouterr().err.count("error: ") == 3


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
    assert verify_export.HASH_DOMAIN == audit.HASH_DOMAIN
    assert verify_export.GENESIS_HASH == audit.GENESIS_HASH
    body = audit.canonical_json(sample)
    assert verify_export.canonical_json(sample) == body
    assert verify_export.event_hash(audit.GENESIS_HASH, body) == audit.event_hash(
        audit.GENESIS_HASH, body
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
    ],
)
def test_scanning_a_line_agrees_with_parsing_it(raw: bytes) -> None:
    scanned = verify_export.scan_line(raw)
    try:
        parsed = verify_export.parse_line(raw, 2)
    except verify_export.Bad:
        parsed = None
    assert scanned is None or scanned == parsed
    assert (scanned is not None) == (raw in (b'{"a":1}\n', b"{}\n"))


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
