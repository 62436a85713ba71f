#!/usr/bin/env python3
"""Verify a claims audit export offline: no server, no database, no Django.

    python verify_export.py export.jsonl --public-key KEY.pem [--anchor older-manifest.json]

Needs only the Python standard library and the ``cryptography`` package, so this one file
can be copied out of the project and run anywhere. It checks:

- the header (format, version, project, hash domain, key id);
- every event: seqs contiguous (or, for a filtered export, increasing), every prev-hash
  link (contiguous exports), every recomputed hash, each body in canonical form, naming
  its own seq and the header's project;
- the manifest: the header digest, the events digest, the count, the first prev hash, the
  head seq and hash, and the Ed25519 signature by the key whose id the export names;
- with ``--anchor`` (the manifest of an earlier export of the same project, or that whole
  export file), that this export extends it: same project, a head at or after the
  anchor's, and the anchor's head event unchanged, or (a date range that starts right
  after it) the first event linked to it. Only a contiguous export can show that: one
  filtered by actor or article is refused with an anchor.

Exit 0 with a one-line summary; 1 naming the first bad line (1-based) and why, for any
malformed input too (never a traceback); 2 when the files or the key cannot be read.

What it proves: the file is exactly what the holder of the signing key exported, and
the events link up from ``first_prev_hash`` to the head. It is tamper-*evident*, not
tamper-proof: someone holding both the database and the signing key could rebuild a
whole chain and sign it. An earlier manifest kept somewhere else exposes that, which is
what ``--anchor`` is for.

The chain's arithmetic (``canonical_json``, ``event_hash``, ``HASH_DOMAIN``) lives here
and only here: the application's write path (``claims.log.chain``) imports it from this
file, so what the server hashes and what this verifier recomputes cannot drift apart.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import reprlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "claims-audit-export"
VERSION = 1
# Domain separation: a hash made for this chain can never be confused with the sha256 of
# some other document that happens to have the same bytes. Hashed into every event.
HASH_DOMAIN = b"claims.audit.v1\n"
GENESIS_HASH = "0" * 64
# The action of the event that records an export (``claims.log.actions.Action``; this file
# imports nothing of the application, and a test keeps the two equal).
EXPORT_ACTION = "audit.exported"
HEX64 = re.compile(r"[0-9a-f]{64}")
EVENT_KEYS = {"seq", "prev_hash", "hash", "body"}
BLOCK_BYTES = 64 * 1024  # lines read, and their bodies checked, at a time
# No event is near this long (bodies hold no article text); it keeps memory flat when a
# file is not an export at all.
MAX_LINE_BYTES = 64 * 1024 * 1024
MANIFEST_KEYS = {
    "type",
    "project",
    "contiguous",
    "count",
    "first_prev_hash",
    "head_seq",
    "head_hash",
    "events_digest",
    "header_digest",
    "created_at",
    "key_id",
    "previous_manifest_hash",
    "signature",
}


class Bad(Exception):
    """The first problem found, at a 1-based line of the export."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class Unreadable(Exception):
    """A file or key could not be read at all (exit 2)."""


class Refused(ValueError):
    """JSON that Python would read but an export never holds: a repeated key, NaN or
    Infinity. A repeated key would let two readers see two different files."""


_shown = reprlib.Repr()  # values from a file, shown in one short line whatever their size
_shown.maxstring = _shown.maxother = 80
_shown.maxlevel = 2


def shown(value: Any) -> str:
    try:
        return _shown.repr(value)
    except (ValueError, RecursionError):
        return "(a value too large to show)"


def lone_surrogate(value: Any) -> str | None:
    """The first lone surrogate (as U+D800) in a parsed value, which UTF-8 cannot encode
    (JSON's ``\\ud800`` escape makes one); None if there is none."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"U+{ord(error.object[error.start]):04X}"
    return None


# The chain's arithmetic: the one copy, which the write path imports ----------------------


def canonical_json(data: Any) -> str:
    """Sorted keys, compact separators, UTF-8 text, and no floats (their text is not unique)."""
    _reject_floats(data)
    return encode_canonical(data)


def _reject_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("Audit bodies may not hold floats; store numbers as integers or strings.")
    if isinstance(value, dict):
        for item in value.values():
            _reject_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_floats(item)


def _refuse_number(text: str) -> Any:
    raise ValueError(f"{text} is not allowed: bodies hold no floats")


# ``JSONDecoder.scan_once(text, index)``: the value that starts at ``index`` and the index
# after it; StopIteration if no value starts there. Set by ``JSONDecoder.__init__`` but
# undocumented, so typeshed leaves it out: each use below ignores ``attr-defined``.
Scanner = Callable[[str, int], tuple[Any, int]]

_strict = json.JSONDecoder(parse_float=_refuse_number, parse_constant=_refuse_number)
_scan_strict: Scanner = _strict.scan_once  # type: ignore[attr-defined]  # see Scanner
# A stored body, parsed; ValueError for a float (or NaN, Infinity), which no canonical body
# holds. Refusing them while parsing spares walking the parsed body for them.
parse_body = _strict.decode
# Canonical text of a value known to hold no floats (one parsed by ``parse_body``). JSON
# values hold no cycles: without the check the encoder starts sooner, same output.
encode_canonical = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False
).encode


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise Refused("repeats a key")
    return value


def _refuse_constant(name: str) -> Any:
    raise Refused(f"holds {name}, which is not a JSON number")


# Lines: objects with unique keys and no NaN or Infinity.
_lines = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_refuse_constant)
_scan_line: Scanner = _lines.scan_once  # type: ignore[attr-defined]  # see Scanner


def parse_canonical(body: str) -> Any:
    """The parsed body if it is canonical JSON, else ValueError. Same result as comparing
    ``canonical_json(json.loads(body))`` with the body, but refusing floats (and NaN)
    while parsing instead of walking the result. (:func:`canonical_bodies` does the same
    for a block of bodies at once; this checks them one by one when that fails.)"""
    parsed = parse_body(body)
    if encode_canonical(parsed) != body:
        raise ValueError("not in canonical form")
    return parsed


def event_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256(
        HASH_DOMAIN + prev_hash.encode("ascii") + body.encode("utf-8")
    ).hexdigest()


def manifest_hash(manifest: dict[str, Any]) -> str:
    """sha256 of the manifest's canonical JSON, signature included: what exports chain by."""
    return hashlib.sha256(canonical_json(manifest).encode("utf-8")).hexdigest()


def signed_bytes(manifest: dict[str, Any]) -> bytes:
    """The bytes the signature covers: the canonical manifest without its signature."""
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    return canonical_json(unsigned).encode("utf-8")


# Keys ------------------------------------------------------------------------------------


def load_public_key(path: str) -> Ed25519PublicKey:
    """A PEM public key, or base64 of the 32 raw bytes."""
    try:
        data = Path(path).read_bytes().strip()
    except OSError as error:
        raise Unreadable(f"cannot read the public key {path}: {error.strerror}") from None
    if data.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            raise Unreadable(f"{path} is not a readable PEM public key: {error}") from None
    else:
        try:
            raw = base64.b64decode(data, validate=True)
            key = Ed25519PublicKey.from_public_bytes(raw)
        except (binascii.Error, ValueError):
            raise Unreadable(f"{path} is neither PEM nor base64 of a 32-byte key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise Unreadable(f"{path} is not an Ed25519 public key")
    return key


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signature_ok(public: Ed25519PublicKey, manifest: dict[str, Any]) -> bool:
    signature = manifest.get("signature")
    if not isinstance(signature, str):
        return False
    try:
        public.verify(base64.b64decode(signature, validate=True), signed_bytes(manifest))
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        return False
    return True


# Reading ---------------------------------------------------------------------------------


def scan_line(raw: bytes) -> dict[str, Any] | None:
    """``parse_line``'s result for a line that is one JSON object and its newline, from the
    scanner alone (``json.loads`` wraps it in several Python calls); None for anything
    else, for ``parse_line`` to decide, errors included."""
    try:
        text = raw.decode("utf-8")
        value, end = _scan_line(text, 0)
    except (UnicodeDecodeError, StopIteration, ValueError, RecursionError):
        return None
    if end != len(text) - 1 or not raw.endswith(b"\n") or type(value) is not dict:
        return None
    return value


def canonical_bodies(lines: list[dict[str, Any] | None]) -> list[Any] | None:
    """The parsed body of each line (None where it has none) if every body among ``lines``
    is canonical JSON, checked with one call of the encoder instead of one per body; None
    if any is not (each is then checked on its own, to name the first bad one).

    Each body is parsed on its own, and canonical text is never longer than any other JSON
    text of the same value: it drops whitespace and repeated keys, writes each character in
    its shortest form and 0 without a minus, and the order of keys does not change the
    length. So if the canonical texts, joined, equal the bodies, joined, each canonical text
    has its own body's length and is that body: the verdict of comparing them one by one."""
    parsed, values, texts = [], [], []
    try:
        for line in lines:
            body = line.get("body") if line is not None else None
            value = None
            if isinstance(body, str):
                value, end = _scan_strict(body, 0)  # canonical text has no whitespace
                if end != len(body):
                    return None
                values.append(value)
                texts.append(body)
            parsed.append(value)
        canonical = encode_canonical(values)
    except (StopIteration, ValueError, RecursionError):
        return None
    return parsed if canonical == "[" + ",".join(texts) + "]" else None


def parse_line(raw: bytes, number: int) -> dict[str, Any]:
    if len(raw) >= MAX_LINE_BYTES and not raw.endswith(b"\n"):
        raise Bad(number, f"the line is longer than {MAX_LINE_BYTES:,} bytes: not an export")
    if not raw.endswith(b"\n"):
        raise Bad(number, "the line does not end with a newline: the file is truncated")
    try:
        value = parse_json(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise Bad(number, f"the line is not valid UTF-8 (byte {error.start + 1})") from None
    except ValueError as error:
        raise Bad(number, f"the line {error}") from None
    if not isinstance(value, dict):
        raise Bad(number, "the line is not a JSON object")
    return value


def parse_json(text: str) -> Any:
    """``json.loads``, but refusing repeated keys, NaN and Infinity. Every way it fails is
    a ValueError whose text finishes the sentence "the line ..."."""
    try:
        return _lines.decode(text)
    except Refused:
        raise
    except json.JSONDecodeError as error:
        raise ValueError(f"is not valid JSON ({error.msg} at column {error.colno})") from None
    except ValueError:  # the only other: Python's limit on the digits of an int
        raise ValueError("holds an integer with too many digits to read") from None
    except RecursionError:
        raise ValueError("is nested too deeply to read") from None


def load_anchor(path: str) -> dict[str, Any]:
    """An earlier manifest: a JSON file holding it, or the whole earlier export."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise Unreadable(f"cannot read the anchor {path}: {error}") from None
    try:
        anchor = parse_json(text)
    except ValueError:
        lines = [line for line in text.splitlines() if line.strip()]
        try:
            anchor = parse_json(lines[-1]) if lines else None
        except ValueError:
            anchor = None
    if not (
        isinstance(anchor, dict)
        and anchor.get("type") == "manifest"
        and isinstance(anchor.get("project"), str)
        and type(anchor.get("head_seq")) is int
        and isinstance(anchor.get("head_hash"), str)
        and HEX64.fullmatch(anchor["head_hash"])
    ):
        raise Unreadable(f"{path} holds no export manifest with a project and a head")
    try:
        manifest_hash(anchor)
    except (TypeError, ValueError, RecursionError):
        raise Unreadable(
            f"{path} holds a manifest that is not canonical JSON (a float or a lone surrogate)"
        ) from None
    return anchor


class Verifier:
    """Reads an export a block of lines at a time: memory stays flat however many events
    it holds."""

    def __init__(self, public: Ed25519PublicKey, anchor: dict[str, Any] | None) -> None:
        self.public = public
        self.key_id = key_id(public)
        self.anchor = anchor
        self.header: dict[str, Any] = {}
        self.header_digest = ""
        self.digest = hashlib.sha256()
        self.count = 0
        self.first_seq: int | None = None
        self.first_prev: str | None = None
        self.last_seq: int | None = None
        self.last_hash: str | None = None
        # How the anchor was met: "holds" its head event, or "follows" it (the first event).
        self.anchor_checked: str | None = None
        self.anchor_recorded_at: int | None = None
        self.manifest: dict[str, Any] | None = None

    def run(self, handle: Any) -> str:
        number = 0
        for block in blocks(handle):
            lines = [scan_line(raw) for raw in block]
            bodies = canonical_bodies(lines) or [None] * len(block)
            for raw, scanned, body in zip(block, lines, bodies, strict=True):
                number += 1
                try:
                    self.read_line(raw, scanned, number, body)
                except RecursionError:
                    # A value nested deeper than Python's stack, anywhere: one more way
                    # for a line to be malformed, named like every other.
                    raise Bad(number, "the line is nested too deeply to read") from None
        if number == 0:
            raise Bad(1, "the file is empty: no header")
        if self.manifest is None:
            raise Bad(number + 1, "the export ends without a manifest: the file is truncated")
        return self.summary()

    def read_line(self, raw: bytes, scanned: dict[str, Any] | None, number: int, body: Any) -> None:
        if self.manifest is not None:
            raise Bad(number, "there is more after the manifest")
        if number == 1:
            self.read_header(raw)
            return
        line = scanned or parse_line(raw, number)
        if line.get("type") == "manifest":
            self.read_manifest(line, number)
        else:
            self.read_event(line, raw, number, body)

    # The header ------------------------------------------------------------------------

    def read_header(self, raw: bytes) -> None:
        header = parse_line(raw, 1)
        if surrogate := lone_surrogate(header):
            raise Bad(1, f"the header holds a lone surrogate ({surrogate}), which is not text")
        if header.get("type") != "header" or header.get("format") != FORMAT:
            raise Bad(1, f"not a header of a {FORMAT} file")
        if header.get("version") != VERSION:
            raise Bad(
                1, f"unsupported version {shown(header.get('version'))} (this reads {VERSION})"
            )
        if not isinstance(header.get("project"), str) or not header["project"]:
            raise Bad(1, "the header names no project")
        if not isinstance(header.get("contiguous"), bool):
            raise Bad(1, "the header does not say whether the export is contiguous")
        if not isinstance(header.get("filters"), dict):
            raise Bad(1, "the header has no filters object")
        if header.get("hash_domain") != HASH_DOMAIN.decode("ascii"):
            raise Bad(1, "the header names another hash domain than this verifier's")
        if header.get("key_id") != self.key_id:
            raise Bad(
                1,
                f"the export says it is signed by key {shown(header.get('key_id'))}, "
                f"but the public key given has id {self.key_id}",
            )
        if self.anchor is not None and self.anchor["project"] != header["project"]:
            raise Bad(
                1,
                f"the anchor is from project {shown(self.anchor['project'])}, "
                f"this export from {shown(header['project'])}",
            )
        if self.anchor is not None and not header["contiguous"]:
            # Its events do not link up, so nothing ties those before the anchor's head to
            # the anchor: whoever holds the key could rewrite them and keep the head.
            raise Bad(
                1,
                "an export filtered by actor or article cannot prove that it extends an "
                "anchor, as its events do not link up; export the whole chain, or a date "
                "range that starts at or before the anchor's head, to check it against one",
            )
        self.header = header
        self.header_digest = hashlib.sha256(raw).hexdigest()

    # Events ----------------------------------------------------------------------------

    def read_event(
        self, line: dict[str, Any], raw: bytes, number: int, checked_body: Any = None
    ) -> None:
        """One event line; ``checked_body`` is its body, parsed, if already found canonical."""
        if line.keys() != EVENT_KEYS:
            raise Bad(number, "an event line must have exactly seq, prev_hash, hash and body")
        seq, prev, stored, body = line["seq"], line["prev_hash"], line["hash"], line["body"]
        if type(seq) is not int or seq < 1:
            raise Bad(number, "seq is not a positive integer")
        if not (isinstance(prev, str) and HEX64.fullmatch(prev)):
            raise Bad(number, f"seq {seq}: prev_hash is not 64 hex digits")
        if not (isinstance(stored, str) and HEX64.fullmatch(stored)):
            raise Bad(number, f"seq {seq}: hash is not 64 hex digits")
        if not isinstance(body, str):
            raise Bad(number, f"seq {seq}: body is not a string")
        if self.last_seq is None:
            self.check_start(seq, prev, number)
        self.check_order(seq, prev, number)
        self.check_body(seq, body, number, checked_body)
        try:
            recomputed = event_hash(prev, body)
        except UnicodeEncodeError:
            raise Bad(
                number,
                f"seq {seq}: body holds a lone surrogate ({lone_surrogate(body)}), "
                "which is not text and has no hash",
            ) from None
        if recomputed != stored:
            raise Bad(number, f"seq {seq}: hash does not match prev_hash and body")
        self.check_anchor_event(seq, prev, stored, number)
        if self.first_seq is None:
            self.first_seq, self.first_prev = seq, prev
        self.last_seq, self.last_hash = seq, stored
        self.count += 1
        self.digest.update(raw)

    def check_start(self, seq: int, prev: str, number: int) -> None:
        """An export of a whole project, not limited by date, starts at the genesis."""
        if (
            self.header["contiguous"]
            and not self.header["filters"].get("since")
            and (seq != 1 or prev != GENESIS_HASH)
        ):
            raise Bad(number, f"seq {seq}: an export of the whole chain must start at seq 1")

    def check_order(self, seq: int, prev: str, number: int) -> None:
        last = self.last_seq
        if last is None:
            return
        if self.header["contiguous"]:
            if seq > last + 1:
                missing = f"seq {last + 1}" if seq == last + 2 else f"seqs {last + 1}-{seq - 1}"
                raise Bad(number, f"seq {seq} follows seq {last}: {missing} missing")
            if seq <= last:
                raise Bad(number, f"seq {seq} follows seq {last}: out of order or duplicated")
            if prev != self.last_hash:
                raise Bad(number, f"seq {seq}: prev_hash is not the hash of seq {last}")
        elif seq <= last:
            raise Bad(number, f"seq {seq} follows seq {last}: out of order or duplicated")

    def check_body(self, seq: int, body: str, number: int, checked: Any = None) -> None:
        try:
            parsed = checked if checked is not None else parse_canonical(body)
        except ValueError:
            raise Bad(number, f"seq {seq}: body is not canonical JSON") from None
        except RecursionError:
            raise Bad(number, f"seq {seq}: body is nested too deeply to read") from None
        if not isinstance(parsed, dict) or parsed.get("seq") != seq:
            raise Bad(number, f"seq {seq}: body names another seq")
        if parsed.get("project") != self.header["project"]:
            raise Bad(
                number,
                f"seq {seq}: the event belongs to project {shown(parsed.get('project'))}, "
                f"not {shown(self.header['project'])}",
            )
        if (
            self.anchor is not None
            and parsed.get("action") == EXPORT_ACTION
            and isinstance(parsed.get("after"), dict)
            and parsed["after"].get("manifest_hash") == manifest_hash(self.anchor)
        ):
            self.anchor_recorded_at = seq

    def check_anchor_event(self, seq: int, prev: str, stored: str, n: int) -> None:
        """The export is contiguous here (see ``read_header``): an event that matches the
        anchor's head, or a first event linked to it, ties the whole export to the anchor."""
        anchor = self.anchor
        if anchor is None:
            return
        head = anchor["head_seq"]
        if seq == head:
            if stored != anchor["head_hash"]:
                raise Bad(n, f"seq {seq} differs from the anchor's head: the chain was rewritten")
            self.anchor_checked = "holds"
        elif self.first_seq is None and seq > head:
            if seq > head + 1:
                raise Bad(
                    n,
                    f"this export starts at seq {seq}, after the anchor's head at seq {head}, "
                    "so nothing links it to the anchor; export from a date at or before the "
                    "anchor's head",
                )
            if prev != anchor["head_hash"]:
                raise Bad(
                    n, f"seq {seq} does not follow the anchor's head: the chain was rewritten"
                )
            self.anchor_checked = "follows"

    # The manifest ----------------------------------------------------------------------

    def read_manifest(self, manifest: dict[str, Any], n: int) -> None:
        missing = MANIFEST_KEYS - set(manifest)
        if missing:
            raise Bad(n, "the manifest lacks " + ", ".join(sorted(missing)))
        if surrogate := lone_surrogate(manifest):
            raise Bad(n, f"the manifest holds a lone surrogate ({surrogate}), which is not text")
        header = self.header
        for field in ("project", "contiguous", "created_at", "key_id"):
            if manifest[field] != header.get(field):
                raise Bad(n, f"the manifest's {field} differs from the header's")
        if manifest["header_digest"] != self.header_digest:
            raise Bad(n, "the header digest does not match line 1: the header was changed")
        if type(manifest["count"]) is not int or manifest["count"] != self.count:
            raise Bad(
                n, f"the manifest counts {shown(manifest['count'])} events; there are {self.count}"
            )
        if manifest["events_digest"] != self.digest.hexdigest():
            raise Bad(n, "the events digest does not match the event lines")
        actual_ends = {
            "first_prev_hash": self.first_prev,
            "head_seq": self.last_seq,
            "head_hash": self.last_hash,
        }
        for name, actual in actual_ends.items():
            claimed = manifest[name]
            if actual != claimed or type(actual) is not type(claimed):
                raise Bad(
                    n, f"the manifest's {name} is {shown(claimed)}; the events give {shown(actual)}"
                )
        if not signature_ok(self.public, manifest):
            raise Bad(n, f"the signature is not valid for key {self.key_id}")
        self.manifest = manifest
        if self.anchor is not None:
            self.check_anchor(n)

    def check_anchor(self, n: int) -> None:
        anchor = self.anchor
        assert anchor is not None and self.manifest is not None
        if anchor.get("key_id") == self.key_id and not signature_ok(self.public, anchor):
            raise Bad(n, "the anchor's signature is not valid for this key")
        head = self.manifest["head_seq"] or 0
        if anchor["head_seq"] > head and self.header["filters"].get("until"):
            raise Bad(
                n,
                f"this export ends at seq {head}, before the anchor's head at seq "
                f"{anchor['head_seq']}: a date range must reach the anchor's head to be "
                "checked against it",
            )
        if anchor["head_seq"] > head:
            raise Bad(
                n,
                f"this export ends at seq {head}, before the anchor's head at seq "
                f"{anchor['head_seq']}: it is older than the anchor, not an extension of it",
            )
        if not self.anchor_checked:
            raise Bad(
                n,
                f"the export does not hold seq {anchor['head_seq']} (the anchor's head), "
                "so it cannot be checked against the anchor",
            )

    def summary(self) -> str:
        manifest = self.manifest
        assert manifest is not None
        kind = "contiguous" if manifest["contiguous"] else "filtered (links not checked)"
        span = f", seq {self.first_seq}-{self.last_seq}" if self.count else ""
        head = f", head {manifest['head_hash'][:12]}" if manifest["head_hash"] else ""
        text = (
            f"OK: project {manifest['project']}, {self.count} events{span}, {kind}{head}, "
            f"signed by key {self.key_id} at {manifest['created_at']}"
        )
        if self.anchor is not None:
            head = self.anchor["head_seq"]
            text += f"; extends the anchor at seq {head}"
            if self.anchor.get("key_id") != self.key_id:
                text += f" (anchor signed by key {shown(self.anchor.get('key_id'))}, not checked)"
            if self.anchor_recorded_at is not None:
                text += f", whose export is recorded at seq {self.anchor_recorded_at}"
            # A date range shows only its own events: say which were checked.
            if self.anchor_checked == "follows":
                text += (
                    " (a date range whose first event follows the anchor's head: "
                    f"events up to seq {head} are not in this export)"
                )
            elif self.first_seq != 1:
                text += (
                    f" (a date range from seq {self.first_seq}: "
                    "events before it are not in this export)"
                )
        return text


def blocks(handle: Any) -> Iterator[list[bytes]]:
    """Lists of lines of some ``BLOCK_BYTES`` in all, each line read whole but never past
    ``MAX_LINE_BYTES`` (``parse_line`` refuses a line cut there)."""
    readline, limit = handle.readline, MAX_LINE_BYTES
    while True:
        block, size = [], 0
        while size < BLOCK_BYTES and (raw := readline(limit)):
            block.append(raw)
            size += len(raw)
        if not block:
            return
        yield block


def verify(path: str, public_key: str, anchor: str | None = None) -> str:
    """The one-line summary of a good export; raises :class:`Bad` or :class:`Unreadable`."""
    public = load_public_key(public_key)
    anchor_manifest = load_anchor(anchor) if anchor else None
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, after a streaming read
    except OSError as error:
        raise Unreadable(f"cannot read {path}: {error.strerror}") from None
    with handle:
        try:
            return Verifier(public, anchor_manifest).run(handle)
        except OSError as error:
            raise Unreadable(f"cannot read {path}: {error.strerror}") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Verify a claims audit export (JSON Lines) offline."
    )
    parser.add_argument("export", help="the .jsonl export file")
    parser.add_argument("--public-key", required=True, help="the signer's public key (PEM)")
    parser.add_argument("--anchor", help="the manifest of an earlier export of the same project")
    args = parser.parse_args(argv)
    try:
        print(verify(args.export, args.public_key, args.anchor))
    except Unreadable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Bad as error:
        print(f"FAILED at {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
