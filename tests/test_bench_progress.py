"""``manage.py bench`` on a terminal: one progress bar (claims.progress) for its steps;
elsewhere (a log, CI) its timestamped lines, as before."""

from __future__ import annotations

import io
from typing import Any

from claims.bench.figures import progress, shown_as_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_steps_move_one_bar(monkeypatch: Any) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    # A bench's steps take seconds; these take none, closer than the bar redraws.
    monkeypatch.setattr("claims.progress.REDRAW", 0.0)
    with shown_as_bar(2) as bar:
        assert bar is True
        progress("import of the sample article")
        progress("audit: building 200 events")
    written = terminal.getvalue()
    assert "[bench " not in written
    assert "audit: building 200 events" in written
    assert f"[{'#' * 30}] 100%" in written
    assert written.endswith("\rbench: done, 2/2 steps\n".replace("\r", "\r\x1b[2K"))


def test_elsewhere_each_step_is_a_line(monkeypatch: Any) -> None:
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    with shown_as_bar(2) as bar:
        assert bar is False
        progress("import of the sample article")
    lines = log.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("[bench ") and lines[0].endswith("] import of the sample article")
    progress("after the bar")  # the bar is gone: lines again
    assert log.getvalue().splitlines()[-1].endswith("] after the bar")
