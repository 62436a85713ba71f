"""Serving and HTTP for ``manage.py bench`` (see ``claims.bench.run``): gunicorn on
127.0.0.1, logged-in keep-alive clients, timed phases of one or several concurrent clients,
the app's resident memory, and a fresh clone's way to its first page.

Standard library only, nothing of Django: the client processes are forked from the bench
and do nothing but HTTP, as a browser would.
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookies
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STATUSES = ("supported", "disputed")  # alternated, so every post really changes the verdict
VERDICT_VERSION = re.compile(rb'id="verdict-form".*?name="version" value="(\d+)"', re.DOTALL)
MINIMAL_PATH = "/bench/write/"  # served by claims.bench.settings only


# The caller's settings that a served app must not inherit: its DEBUG, its database, and
# test-only or deployment-specific switches (the test suite runs with DEBUG=1, and maybe
# DATABASE_URL).
NOT_INHERITED = {"DEBUG", "DATABASE_URL", "SQLITE_PATH", "SQLITE_EXTRA_PRAGMAS"}
NOT_INHERITED |= {"TEST_DATABASE_NAME", "CLAIMS_SIGNING_KEY_FILE"}
NOT_INHERITED |= {"CSRF_TRUSTED_ORIGINS"}


def loopback_env(**extra: str) -> dict[str, str]:
    """The environment of an app process served on plain-HTTP loopback with production
    settings: this environment without the caller's settings, plus ``extra`` (the bench
    passes ``DJANGO_SETTINGS_MODULE="claims.bench.settings"`` for its one-row view)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in NOT_INHERITED and not k.startswith(("GUNICORN_", "SECURE_"))
    }
    loopback = {
        "DJANGO_SETTINGS_MODULE": "claims.settings",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback only
        "SECURE_COOKIES": "0",
        "CLAIMS_ENV_FILE": os.devnull,  # not the development .env (DEBUG=1) either
    }
    return env | loopback | extra


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]  # an AF_INET address: (host, port)
        return port


# -- The server ---------------------------------------------------------------------------


class Gunicorn:
    """gunicorn with ``claims.gunicorn_conf`` on a free port of 127.0.0.1, logging to
    ``log_path``; a context manager that always stops it, and any worker it left behind.
    The load and fault tests (``tests/load``) serve through it too."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        workers: int | None = None,
        threads: int | None = None,
    ) -> None:
        self.env = dict(env)
        if workers is not None:
            self.env["GUNICORN_WORKERS"] = str(workers)
        if threads is not None:
            self.env["GUNICORN_THREADS"] = str(threads)
        self.log_path = log_path
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 60) -> None:
        self.port = free_port()
        env = self.env | {"GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        command = [sys.executable, "-m", "gunicorn", "-c", "python:claims.gunicorn_conf"]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*command, "claims.wsgi"], cwd=ROOT, env=env, stdout=log, stderr=log
            )
        try:
            self.wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise

    def healthy(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def wait_healthy(self, timeout: float) -> float:
        """Seconds until /healthz answers 200; an error with the log after ``timeout``."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            if self.healthy():
                return time.perf_counter() - started
            time.sleep(0.02)
        raise RuntimeError(f"gunicorn not healthy after {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None:
            return
        workers = self.workers()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for pid in workers:  # a worker stuck past the graceful stop must not outlive us
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc = None

    def workers(self) -> list[int]:
        """The worker pids: the master's children."""
        if self.proc is None:
            return []
        pids: list[int] = []
        for children in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pids += [int(pid) for pid in children.read_text().split()]
        return pids

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def memory(self) -> dict[str, float]:
        """Resident memory in MB: the largest worker's RSS, and the RSS and PSS (shared
        pages counted once) of all app processes together, master included."""
        assert self.proc is not None
        workers = [process_memory(pid) for pid in self.workers()]
        master = process_memory(self.proc.pid)
        everything = [master, *workers]
        return {
            "worker_rss_mb": max(rss for rss, _pss in workers),
            "app_rss_mb": sum(rss for rss, _pss in everything),
            "app_pss_mb": sum(pss for _rss, pss in everything),
        }


def process_memory(pid: int) -> tuple[float, float]:
    """(VmRSS, Pss) of a process in MB, from /proc."""
    return _proc_kb(f"/proc/{pid}/status", "VmRSS:") / 1024, _proc_kb(
        f"/proc/{pid}/smaps_rollup", "Pss:"
    ) / 1024


def _proc_kb(path: str, label: str) -> int:
    for line in Path(path).read_text().splitlines():
        if line.startswith(label):
            return int(line.split()[1])
    raise RuntimeError(f"{label} not found in {path}")


def wait_for(port: int, path: str, proc: subprocess.Popen[bytes], timeout: float) -> float:
    """Poll GET ``path`` until it answers 200; the seconds it took."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before serving")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return time.perf_counter() - started
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.01)
    raise RuntimeError(f"no 200 from {path} after {timeout} s")


# -- Clients ------------------------------------------------------------------------------


@dataclass
class Analyst:
    """One analyst's browser stand-in, carried from phase to phase (it is pickled into
    each client process and back): cookies, and the version of each of its verdicts."""

    username: str
    slug: str
    claims: list[int]
    cookies: dict[str, str]
    versions: dict[int, int] = field(default_factory=dict)
    turn: int = 0


class Connection:
    """A keep-alive connection that keeps cookies and sends what a browser's htmx POST
    carries: the CSRF token header, Origin and Referer."""

    def __init__(self, port: int, analyst: Analyst) -> None:
        self.origin = f"http://127.0.0.1:{port}"
        self.analyst = analyst
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def close(self) -> None:
        self.conn.close()

    def request(
        self, method: str, path: str, form: dict[str, Any] | None = None, htmx: bool = False
    ) -> tuple[int, bytes]:
        cookies = self.analyst.cookies
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        if htmx:
            headers["HX-Request"] = "true"
        body = None
        if method == "POST":
            body = urllib.parse.urlencode(form or {})
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": cookies.get("csrftoken", ""),
                "Origin": self.origin,
                "Referer": self.origin + "/",
            }
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
            jar.load(header)
            cookies.update({name: morsel.value for name, morsel in jar.items()})
        return response.status, data

    def open_panels(self) -> None:
        """GET each claim's panel, as the analyst opening it: it sets the CSRF cookie and
        says the current version of the analyst's verdict."""
        for claim in self.analyst.claims:
            status, body = self.request("GET", f"/p/{self.analyst.slug}/c/{claim}/", htmx=True)
            found = VERDICT_VERSION.search(body)
            if status != 200 or not found:
                raise RuntimeError(f"claim panel {claim}: HTTP {status}")
            self.analyst.versions[claim] = int(found.group(1))

    def change_verdict(self) -> None:
        """The next claim's verdict flipped between supported and disputed, as htmx posts it
        from the verdict form, against the version this analyst last saw."""
        analyst = self.analyst
        claim = analyst.claims[analyst.turn % len(analyst.claims)]
        analyst.turn += 1
        version = analyst.versions[claim]
        form = {"status": STATUSES[version % 2], "rationale": "", "as_of": "", "version": version}
        status, body = self.request(
            "POST", f"/p/{analyst.slug}/c/{claim}/verdict/", form, htmx=True
        )
        found = VERDICT_VERSION.search(body)
        if status != 200 or not found or int(found.group(1)) != version + 1:
            raise RuntimeError(
                f"verdict on claim {claim}: HTTP {status}, not version {version + 1}"
            )
        analyst.versions[claim] = version + 1

    def annotate(self) -> None:
        """An annotation as the browser makes it: the verdict, then an evidence link with a
        fresh form token (the evidence section the answer brings has the next one)."""
        self.change_verdict()
        analyst = self.analyst
        claim = analyst.claims[(analyst.turn - 1) % len(analyst.claims)]
        link = f"https://example.org/source/{claim}/{analyst.turn}"
        form = {
            "evidence-url": link,
            "evidence-title": "",
            "evidence-stance": "supports",
            "evidence-quote": "",
            "evidence-note": "",
            "evidence-submission": str(uuid.uuid4()),
        }
        status, body = self.request(
            "POST", f"/p/{analyst.slug}/c/{claim}/evidence/", form, htmx=True
        )
        if status != 200 or link.encode() not in body:  # the section lists it
            raise RuntimeError(f"evidence on claim {claim}: HTTP {status}")

    def write_one_row(self) -> None:
        status, _body = self.request("POST", MINIMAL_PATH)
        if status != 204:
            raise RuntimeError(f"the minimal view answered HTTP {status}")


ACTIONS: dict[str, Callable[[Connection], None]] = {
    "verdict": Connection.change_verdict,
    "annotate": Connection.annotate,
    "minimal": Connection.write_one_row,
}


@dataclass
class Phase:
    """What the clients of one phase did inside the timed window."""

    latencies_ms: list[float]
    per_second: float  # the sum of each client's rate


def _client(
    port: int,
    analyst: Analyst,
    action: str,
    warmup: int,
    seconds: float,
    barrier: Any,
    results: Any,
    index: int,
) -> None:
    """One client process: warm up, wait for the others, then act until the window ends."""
    try:
        conn = Connection(port, analyst)
        act = ACTIONS[action]
        if not analyst.versions:
            conn.open_panels()
        for _ in range(warmup):
            act(conn)
        barrier.wait(timeout=120)
        latencies: list[float] = []
        started = time.perf_counter()
        deadline = started + seconds
        while (now := time.perf_counter()) < deadline:
            act(conn)
            latencies.append((time.perf_counter() - now) * 1000)
        elapsed = time.perf_counter() - started
        conn.close()
        results.put((index, analyst, latencies, elapsed, ""))
    except BaseException as error:  # the parent must hear of it, not wait forever
        with contextlib.suppress(Exception):
            barrier.abort()
        results.put((index, analyst, [], 0.0, f"{type(error).__name__}: {error}"))


def run_phase(
    port: int, analysts: list[Analyst], action: str, *, warmup: int, seconds: float
) -> Phase:
    """``len(analysts)`` clients, each in its own process, each warming up with ``warmup``
    requests, then all acting at once for ``seconds``. The analysts' state is updated."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(analysts))
    results = context.Queue()
    processes = [
        context.Process(
            target=_client,
            args=(port, analyst, action, warmup, seconds, barrier, results, index),
        )
        for index, analyst in enumerate(analysts)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    errors = [error for *_rest, error in outcomes if error]
    if errors:
        raise RuntimeError(f"{action} clients failed: {'; '.join(errors)}")
    latencies: list[float] = []
    per_second = 0.0
    for index, analyst, client_latencies, elapsed, _error in outcomes:
        vars(analysts[index]).update(vars(analyst))  # the caller's objects carry on
        latencies += client_latencies
        per_second += len(client_latencies) / elapsed if elapsed > 0 else 0.0
    return Phase(latencies, per_second)


def round_trips(
    port: int,
    analysts: list[Analyst],
    *,
    runs: int,
    seconds: float,
    warmup: int,
    memory: Callable[[], dict[str, float]],
    progress: Callable[[str], None],
) -> dict[str, list[float]]:
    """Samples of every round-trip figure: per-request latencies (ms) pooled over the runs,
    and one throughput (per second) and one memory reading per run."""
    concurrent = len(analysts)
    progress(f"warming up with {warmup * concurrent * 2} requests")
    for action in ACTIONS:
        run_phase(port, analysts, action, warmup=warmup, seconds=0)
    samples: dict[str, list[float]] = {}
    again = min(warmup, 5)  # each new client process's own warm-up (its connection)

    def add(name: str, values: list[float]) -> None:
        samples.setdefault(name, []).extend(values)

    for run in range(runs):
        progress(f"round trips, run {run + 1} of {runs}")
        # Interleaved, so that a drift of the machine's speed touches both alike.
        for action in ACTIONS:
            one = run_phase(port, analysts[:1], action, warmup=again, seconds=seconds)
            add(f"{action}_one_client_ms", one.latencies_ms)
            add(f"{action}_one_client_per_s", [one.per_second])
            many = run_phase(port, analysts, action, warmup=again, seconds=seconds)
            add(f"{action}_{concurrent}_clients_ms", many.latencies_ms)
            add(f"{action}_{concurrent}_clients_per_s", [many.per_second])
        for name, value in memory().items():
            add(name, [value])
    return samples


# -- A fresh clone ------------------------------------------------------------------------


def fresh_clone(
    tmp: Path, runs: int, progress: Callable[[str], None]
) -> tuple[dict[str, Any], list[dict[str, float]]]:
    """Clone the repository (the working tree's uncommitted changes laid over it), time
    ``make setup`` once (a new venv; pip's cache is warm), then ``runs`` times from an
    empty ``var/``: ``manage.py migrate``, and ``manage.py demo`` (the README's ``make
    demo``) until GET /login/ answers 200."""
    clone = tmp / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=300)
    _overlay_working_tree(clone)
    env = _fresh_env()
    progress("fresh clone: make setup (creates .venv, pip install with a warm cache)")
    started = time.perf_counter()
    _run(["make", "setup"], clone, env, timeout=1800)
    setup_s = time.perf_counter() - started
    python = str(clone / ".venv" / "bin" / "python")
    timings: list[dict[str, float]] = []
    for run in range(runs):
        progress(f"fresh clone: migrate, demo, first page, run {run + 1} of {runs}")
        shutil.rmtree(clone / "var", ignore_errors=True)  # the settings make it again
        started = time.perf_counter()
        _run([python, "manage.py", "migrate", "--verbosity", "0"], clone, env, timeout=600)
        migrated = time.perf_counter()
        port = free_port()
        with (tmp / "demo.log").open("ab") as log:
            demo = subprocess.Popen(
                [python, "manage.py", "demo", f"127.0.0.1:{port}"],
                cwd=clone,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,  # runserver and its children, stopped together
            )
        try:
            wait_for(port, "/login/", demo, timeout=600)
            served = time.perf_counter()
        finally:
            os.killpg(demo.pid, signal.SIGTERM)
            demo.wait(timeout=30)
        timings.append({"migrate_s": migrated - started, "demo_first_page_s": served - migrated})
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True
    ).stdout.strip()
    source = f"{head} with the working tree's uncommitted changes"
    return {"setup_s": setup_s, "pip_cache": "warm", "source": source}, timings


def _overlay_working_tree(clone: Path) -> None:
    """Bring the clone to the working tree as it stands, uncommitted work included (what
    the next commit would hold): the timing is of this code, and while several people
    work at once a commit can name a file that is not committed yet. Ignored files
    (.venv, var) stay out, as in a real clone."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listed.split(b"\0")):
        source, target = ROOT / os.fsdecode(name), clone / os.fsdecode(name)
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif not source.exists():
            target.unlink(missing_ok=True)  # deleted in the working tree


def _fresh_env() -> dict[str, str]:
    """A developer's shell on a fresh machine: none of this venv, database or settings."""
    dropped = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "DATABASE_URL", "SQLITE_PATH"}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in dropped and not k.startswith(("CLAIMS_", "GUNICORN_", "SECURE_", "DJANGO_"))
    }
    path = [p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix)]
    return env | {"PATH": os.pathsep.join(path), "DEBUG": "1"}


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> None:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise RuntimeError(f"{' '.join(command)} failed:\n" + "\n".join(tail))
