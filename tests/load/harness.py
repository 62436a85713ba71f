"""The load and fault tests' harness: real gunicorn servers on 127.0.0.1, logged-in HTTP
clients (standard library only), runs of many clients with their figures, and the check
that matches acknowledged writes to audit events by the client's operation id.

All traffic goes to 127.0.0.1, and every loop here is bounded in count and in time.
"""

from __future__ import annotations

import http.client
import http.cookies
import itertools
import json
import math
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claims.bench.serving import Gunicorn, loopback_env
from tests.load.databases import PROJECT, Database

ROOT = Path(__file__).resolve().parents[2]
ANALYSTS = [f"loadtester{i:02d}" for i in range(16)]
STATUSES = ("supported", "disputed", "outdated")
STANCES = ("supports", "contradicts", "supersedes", "context")
# What templates/503.html promises when the database is down or full.
UNAVAILABLE = "Nothing you sent was saved"
Server = Gunicorn  # the benchmark's server, shared: gunicorn on a free port of 127.0.0.1
VERDICT_VERSION = re.compile(r'id="verdict-form".*?name="version" value="(\d+)"', re.DOTALL)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


LOAD_SECONDS = env_int("LOAD_SECONDS", 8)
CRASH_ROUNDS = env_int("CRASH_ROUNDS", 5)


def emit(summary: dict[str, Any]) -> None:
    """The one-line JSON summary each test prints (quoted in the closing note)."""
    print(json.dumps(summary, sort_keys=False), flush=True)


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


# -- Processes ----------------------------------------------------------------------------


def app_env(**extra: str) -> dict[str, str]:
    """The environment of a production process: our settings only, never the caller's
    DEBUG or database (the test suite itself runs with DEBUG=1 and maybe DATABASE_URL)."""
    return loopback_env(ALLOWED_HOSTS="127.0.0.1", **extra)


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    """Run a management command with ``env``; its stdout, or an error with its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def chain_verified(env: dict[str, str]) -> bool:
    """``manage.py verify_audit --project russia-china`` exits 0."""
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_audit", "--project", PROJECT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        print(result.stdout, result.stderr, file=sys.stderr, flush=True)
    return result.returncode == 0


# -- Clients ------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str  # verdict, evidence, article, consensus, panel
    status: int | str  # an HTTP status, "timeout" or "error:<exception>"
    ms: float
    started: float  # time.monotonic() when sent
    op: str | None = None

    @property
    def write(self) -> bool:
        return self.op is not None

    @property
    def acknowledged(self) -> bool:
        # Writes go as htmx sends them, so success is a 200; a redirect would be to the
        # login page (a lost session), which acknowledges nothing.
        return isinstance(self.status, int) and 200 <= self.status < 300

    @property
    def server_error(self) -> bool:
        return isinstance(self.status, int) and self.status >= 500

    @property
    def connection_error(self) -> bool:
        return isinstance(self.status, str)


class Client:
    """One analyst's browser stand-in: a keep-alive connection, cookies, CSRF headers, and
    the versions of its own verdicts (optimistic locking, as the verdict form does)."""

    def __init__(
        self,
        port: int,
        username: str,
        cookies: dict[str, str] | None = None,
        *,
        timeout: float = 15,
        seed: int = 0,
    ) -> None:
        self.port = port
        self.username = username
        self.cookies = dict(cookies or {})
        self.timeout = timeout
        self.rng = random.Random(seed)
        self.versions: dict[int, int] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0
        self.last_body = ""  # of the last timed request

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        # gunicorn drops keep-alive connections idle for 5 s: reconnect before that, so a
        # connection error always means the server failed, never that it tidied up.
        if self.conn is not None and time.monotonic() - self.last_used > 3:
            self.close()
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "POST":
            body = urllib.parse.urlencode(form or {})
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            sent["Origin"] = self.origin
            sent["Referer"] = self.origin + "/"
        try:
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        finally:
            self.last_used = time.monotonic()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
            jar.load(header)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        if response.will_close:
            self.close()
        return response.status, data.decode("utf-8", "replace")

    def timed(
        self,
        kind: str,
        method: str,
        path: str,
        form: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        op: str | None = None,
    ) -> tuple[Result, str]:
        started = time.monotonic()
        body = ""
        try:
            status, body = self.request(method, path, form, headers)
            outcome: int | str = status
        except TimeoutError:
            outcome = "timeout"
        except (OSError, http.client.HTTPException) as error:
            outcome = f"error:{type(error).__name__}"
        ms = (time.monotonic() - started) * 1000
        self.last_body = body
        return Result(kind, outcome, ms, started, op), body

    def login(self, password: str) -> None:
        """The real login form: its CSRF cookie, then the POST that makes a session."""
        self.request("GET", "/login/")
        token = self.cookies["csrftoken"]
        form = {"username": self.username, "password": password, "csrfmiddlewaretoken": token}
        status, _ = self.request("POST", "/login/", form)
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"{self.username} could not log in (HTTP {status})")

    def post_verdict(self, claim_id: int, op: str, headers: dict[str, str] | None = None) -> Result:
        """One verdict change against the version this client last saw, as htmx sends it.
        The rationale names the operation, so every request really changes something."""
        version = self.versions.get(claim_id, 0)
        status = self.rng.choice(STATUSES)
        as_of = "2024-01-15" if status == "outdated" and self.rng.random() < 0.5 else ""
        form = {"status": status, "rationale": f"{status}, op {op}", "as_of": as_of}
        form["version"] = version
        sent = {"HX-Request": "true", "X-Operation-Id": op} | (headers or {})
        path = f"/p/{PROJECT}/c/{claim_id}/verdict/"
        result, _ = self.timed("verdict", "POST", path, form, sent, op)
        if result.acknowledged:
            self.versions[claim_id] = version + 1
        return result

    def refresh_version(self, claim_id: int) -> Result:
        """Re-read the claim panel for the current version of this client's verdict."""
        path = f"/p/{PROJECT}/c/{claim_id}/"
        result, body = self.timed("panel", "GET", path, headers={"HX-Request": "true"})
        found = VERDICT_VERSION.search(body)
        if result.status == 200 and found:
            self.versions[claim_id] = int(found.group(1))
        return result

    def change_verdict(self, claim_id: int, ops: Iterator[str]) -> list[Result]:
        """A verdict change; on 409 (the version moved on) re-read the panel, retry once."""
        results = [self.post_verdict(claim_id, next(ops))]
        if results[0].status == 409:
            results.append(self.refresh_version(claim_id))
            results.append(self.post_verdict(claim_id, next(ops)))
        return results

    def add_evidence(self, claim_id: int, op: str, quote: str = "") -> Result:
        """Evidence titled with its operation id, so a test can look for the row."""
        form = {
            "evidence-url": f"https://example.org/source/{op}",
            "evidence-title": op,
            "evidence-stance": self.rng.choice(STANCES),
            "evidence-quote": quote or f"Quoted for {op}.",
            "evidence-note": quote,
        }
        sent = {"HX-Request": "true", "X-Operation-Id": op}
        result, _ = self.timed(
            "evidence", "POST", f"/p/{PROJECT}/c/{claim_id}/evidence/", form, sent, op
        )
        return result

    def read(self, article_id: int) -> Result:
        """The article screen or its consensus page, as a person opens them."""
        if self.rng.random() < 0.5:
            return self.timed("article", "GET", f"/p/{PROJECT}/a/{article_id}/")[0]
        return self.timed("consensus", "GET", f"/p/{PROJECT}/a/{article_id}/consensus/")[0]


# -- Runs ---------------------------------------------------------------------------------


@dataclass
class Run:
    results: list[Result]
    seconds: float

    @property
    def acknowledged(self) -> set[str]:
        return {r.op for r in self.results if r.write and r.acknowledged and r.op}

    def statuses(self, results: Iterable[Result] | None = None) -> dict[str, int]:
        counts = Counter(str(r.status) for r in (self.results if results is None else results))
        return dict(sorted(counts.items()))

    def figures(self) -> dict[str, Any]:
        ms = [r.ms for r in self.results]
        return {
            "requests": len(self.results),
            "seconds": round(self.seconds, 2),
            "throughput_rps": round(len(self.results) / self.seconds, 1) if self.seconds else 0,
            "latency_ms": {f"p{q}": round(percentile(ms, q), 1) for q in (50, 95, 99)},
            "status": self.statuses(),
            "writes_acknowledged": len(self.acknowledged),
        }


def run_clients(
    clients: list[Client],
    claims: list[int],
    articles: list[int],
    *,
    seconds: float,
    verdicts: float = 0.8,
    evidence: float = 0.1,
    prefix: str = "op",
    stop: threading.Event | None = None,
    max_requests: int = 100_000,
) -> Run:
    """Each client in its own thread until ``seconds`` pass (or ``stop`` is set): verdict
    changes on its own verdicts, evidence adds, and article or consensus reads."""
    deadline = time.monotonic() + seconds
    per_client: list[list[Result]] = [[] for _ in clients]
    crashed: list[BaseException] = []

    def work(index: int, client: Client) -> None:
        results = per_client[index]
        ops = (f"{prefix}-{index:02d}-{n}" for n in itertools.count())
        try:
            while time.monotonic() < deadline and not (stop and stop.is_set()):
                if len(results) >= max_requests:
                    break
                roll = client.rng.random()
                if roll < verdicts:
                    results += client.change_verdict(client.rng.choice(claims), ops)
                elif roll < verdicts + evidence:
                    results.append(client.add_evidence(client.rng.choice(claims), next(ops)))
                else:
                    results.append(client.read(client.rng.choice(articles)))
        except BaseException as error:  # a bug in the harness must fail the test, not hide
            crashed.append(error)
        finally:
            client.close()

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=pair) for pair in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0, deadline - time.monotonic()) + 120)
    if crashed or any(thread.is_alive() for thread in threads):
        raise RuntimeError(f"a client thread failed or hung: {crashed[:1]}")
    elapsed = time.monotonic() - started
    return Run([r for results in per_client for r in results], elapsed)


def match_events(
    db: Database, acknowledged: set[str], results: Iterable[Result] = ()
) -> dict[str, Any]:
    """Acknowledged writes against the audit events that carry an operation id; for an
    orphan event, what its request was answered (from ``results``)."""
    events = db.event_ops()
    orphans = sorted(op for op in events if op not in acknowledged)
    answers = {r.op: r.status for r in results if r.op in orphans}
    return {
        "audit_events": sum(events.values()),
        "missing_events": sorted(op for op in acknowledged if events[op] == 0),
        "duplicate_events": sorted(op for op in acknowledged if events[op] > 1),
        "orphan_events": [f"{op} (answered {answers.get(op, '?')})" for op in orphans],
    }


def wait_until(check: Any, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return False
