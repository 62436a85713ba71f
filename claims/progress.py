"""A progress bar for long management commands (import, export, verify, bench).

On a terminal it is one line on stderr redrawn in place; otherwise (a log, a pipe, CI) it
writes a plain line at each tenth of the way, or every ``every`` items when the total is
unknown, so that a log shows the work advancing without a line per item. stdout is left
to the command's output (an export streams there).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, TextIO

WIDTH = 30  # characters of the bar
REDRAW = 0.1  # seconds between two redraws on a terminal: drawing costs more than counting


class Progress:
    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        stream: TextIO | Any = None,
        unit: str = "",
        every: int = 1000,
    ) -> None:
        self.label, self.total, self.unit, self.every = label, total, unit, every
        stream = stream if stream is not None else sys.stderr
        # A command's self.stderr ends every write with a newline: draw on what it wraps.
        self.stream: TextIO = getattr(stream, "_out", stream)
        self.tty = self.stream.isatty()
        self.done = 0
        self.note = ""
        self._drawn = 0.0
        self._step = -1  # the last tenth (or the last ``every``) a plain line was written for

    def __enter__(self) -> Progress:
        self._show(force=True)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close(failed=kind is not None)

    def each[T](self, items: Iterable[T], name: Callable[[T], str] = str) -> Iterator[T]:
        """The items, each shown by name as the one under way, then counted as done."""
        with self:
            for item in items:
                self.note = name(item)
                self._show(force=self.tty)
                yield item
                self.done += 1

    def advance(self, count: int = 1, note: str = "") -> None:
        self.done += count
        if note:
            self.note = note
        self._show()

    def phase(self, note: str) -> None:
        """A step of work whose size is not counted: say what it is, one step further."""
        self.advance(1, note)

    def close(self, *, failed: bool = False) -> None:
        end = "stopped" if failed else "done"
        line = f"{self.label}: {end}, {self._amount()}"
        if self.tty:
            self.stream.write("\r\x1b[2K" + line + "\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _amount(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.total:
            return f"{self.done:,}/{self.total:,}{unit}"
        return f"{self.done:,}{unit}"

    def _fraction(self) -> float | None:
        return min(self.done / self.total, 1.0) if self.total else None

    def _show(self, *, force: bool = False) -> None:
        fraction = self._fraction()
        note = f" {self.note}" if self.note else ""
        if self.tty:
            now = time.monotonic()
            if not force and now - self._drawn < REDRAW:
                return
            self._drawn = now
            if fraction is None:
                bar = ""
            else:
                filled = int(WIDTH * fraction)
                bar = f" [{'#' * filled}{'-' * (WIDTH - filled)}] {fraction:4.0%}"
            self.stream.write(f"\r\x1b[2K{self.label}{bar} {self._amount()}{note}")
            self.stream.flush()
            return
        step = int(fraction * 10) if fraction is not None else self.done // self.every
        if step == self._step and not (note and self.total and self.total <= 10):
            return
        self._step = step
        share = f" {fraction:.0%}" if fraction is not None else ""
        self.stream.write(f"{self.label}:{share} {self._amount()}{note}\n")
        self.stream.flush()
