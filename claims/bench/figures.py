"""What the benchmarks measure and how their samples become figures: the sizes of a full
and a quick run, ``{"median", "p95", "n"}``, and a process's own peak memory."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from claims.progress import Progress

MB = 1024 * 1024


@dataclass(frozen=True)
class Sizes:
    texts: tuple[int, ...]  # bytes of each generated text to import
    screens: tuple[tuple[int, int], ...]  # (claims, analysts) of each article screen
    statistics: tuple[int, int]  # (claims, analysts) for agreement.summarise alone
    round_trip_claims: int  # claims each round-trip client cycles through
    clients: int  # concurrent clients of the round trip
    window_s: float  # each round-trip phase's timed window
    warmup: int  # requests per client and view before the round-trip runs
    audit_events: int
    alignment_claims: int  # claims of the article whose revision is aligned
    long_articles: tuple[int, ...]  # claims of the articles whose first screen is timed


FULL = Sizes(
    (MB, 10 * MB),
    ((100, 3), (2000, 10)),
    (10_000, 10),
    100,
    4,
    3.0,
    50,
    1_000_000,
    2000,
    (5000, 100_000),
)
QUICK = Sizes(
    (16 * 1024, 64 * 1024),
    ((20, 3), (60, 10)),
    (500, 10),
    10,
    4,
    0.3,
    3,
    5_000,
    200,
    (500, 2000),
)


# The parent's bar while ``shown_as_bar`` is open on a terminal; None: plain lines.
_bar: Progress | None = None


@contextmanager
def shown_as_bar(steps: int) -> Iterator[bool]:
    """On a terminal, ``progress`` moves one bar of ``steps`` steps (claims.progress)
    instead of printing a line each; elsewhere (a log, CI) the lines stay. Whether a bar
    is shown, so that the parent keeps its children's lines off it."""
    global _bar
    if not sys.stderr.isatty():
        yield False
        return
    with Progress("bench", steps, stream=sys.stderr, unit="steps") as bar:
        _bar = bar
        try:
            yield True
        finally:
            _bar = None


def progress(message: str) -> None:
    if _bar is not None:
        _bar.phase(message)
        return
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def figure(samples: list[float], digits: int = 2) -> dict[str, Any]:
    """The median and the nearest-rank p95 (with five samples, the largest)."""
    ordered = sorted(samples)
    rank = max(0, -(-95 * len(ordered) // 100) - 1)
    return {
        "median": round(statistics.median(ordered), digits),
        "p95": round(ordered[rank], digits),
        "n": len(ordered),
    }


def per_second(count: int, seconds: float) -> int:
    return round(count / seconds) if seconds > 0 else 0


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ``ru_maxrss``: on Linux a child
    started by fork and exec inherits its parent's high-water mark there, so a small
    child of a large parent would report the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc/self/status")


# Runs a script as ``python script args`` would, then reports its peak memory on stderr.
PEAK_WRAPPER = """
import runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
    print("VmHWM", hwm[0].split()[1], file=sys.stderr)
"""
