"""Geometry for the server-side SVG charts: plain numbers for templates to draw.

No JavaScript chart library: the consensus screen's charts are SVG rects and text,
coloured by CSS classes, with every value also written out as text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from claims.models import Status

LABEL_WIDTH = 190
BAR_WIDTH = 300
ROW_HEIGHT = 26
BAR_HEIGHT = 16


@dataclass(frozen=True)
class Segment:
    status: str
    value: int
    x: float
    width: float


@dataclass(frozen=True)
class StackedBar:
    label: str
    y: int
    total: int
    segments: list[Segment]


def stacked_bars(rows: list[tuple[str, dict[str, int]]]) -> dict[str, object]:
    """Horizontal bars, one per row, stacked by status and scaled to the largest total."""
    largest = max((sum(counts.values()) for _label, counts in rows), default=0) or 1
    bars = []
    for index, (label, counts) in enumerate(rows):
        x = float(LABEL_WIDTH)
        segments = []
        for status in Status.values:
            value = counts.get(status, 0)
            if value:
                width = BAR_WIDTH * value / largest
                segments.append(Segment(status, value, round(x, 1), round(width, 1)))
                x += width
        bars.append(StackedBar(label, index * ROW_HEIGHT, sum(counts.values()), segments))
    return _frame(bars, len(rows))


@dataclass(frozen=True)
class PercentBar:
    label: str
    y: int
    width: float
    text: str


def percent_bars(rows: list[tuple[str, float | None, str]]) -> dict[str, object]:
    """One bar per (label, share 0..1 or None when undefined, text shown beside it)."""
    bars = [
        PercentBar(label, i * ROW_HEIGHT, round(BAR_WIDTH * (share or 0.0), 1), text)
        for i, (label, share, text) in enumerate(rows)
    ]
    return _frame(bars, len(rows))


def _frame(bars: Sequence[object], count: int) -> dict[str, object]:
    return {
        "bars": bars,
        "width": LABEL_WIDTH + BAR_WIDTH + 90,
        "height": max(count, 1) * ROW_HEIGHT + 4,
        "label_width": LABEL_WIDTH,
        "label_x": LABEL_WIDTH - 8,
        "bar_height": BAR_HEIGHT,
        "bar_end": LABEL_WIDTH + BAR_WIDTH,
    }


def claim_bar(counts: dict[str, int], width: int = 120) -> list[Segment]:
    """A small stacked bar for one claim's verdicts (all claims share the same width)."""
    total = sum(counts.values())
    segments, x = [], 0.0
    for status in Status.values:
        value = counts.get(status, 0)
        if value and total:
            share = width * value / total
            segments.append(Segment(status, value, round(x, 1), round(share, 1)))
            x += share
    return segments


# A claim's life: one lane per analyst, the text and the ruling, over time --------------

TIMELINE_WIDTH = 420


@dataclass(frozen=True)
class Moment:
    """Something that happened to a claim: in ``lane`` (an analyst's name, "Text" or
    "Ruling"), at ``at``, leaving ``status`` (a verdict's, blank when cleared or
    withdrawn; for the text "imported", "edited" or "retired"), told by ``label``."""

    lane: str
    at: dt.datetime
    status: str
    label: str


@dataclass(frozen=True)
class Mark:
    x: float
    status: str
    label: str


@dataclass(frozen=True)
class Lane:
    label: str
    y: int
    spans: list[Segment]  # a status held from one mark to the next (or to now)
    marks: list[Mark]


def claim_timeline(moments: Sequence[Moment], now: dt.datetime) -> dict[str, object]:
    """Lanes of marks and held statuses, on one time axis from the first moment to ``now``:
    the text first, then each analyst (in order of their first verdict), then the ruling."""
    if not moments:
        return _frame([], 0) | {"lanes": [], "start": None, "end": now}
    ordered = sorted(moments, key=lambda m: m.at)
    start = ordered[0].at
    scale = TIMELINE_WIDTH / max((now - start).total_seconds(), 1.0)

    def x(at: dt.datetime) -> float:
        return round(LABEL_WIDTH + (at - start).total_seconds() * scale, 1)

    names = list(dict.fromkeys(m.lane for m in ordered if m.lane not in ("Text", "Ruling")))
    order = ["Text", *names, "Ruling"]
    lanes: list[Lane] = []
    for lane in order:
        mine = [m for m in ordered if m.lane == lane]
        if not mine:
            continue
        spans = []
        if lane != "Text":
            for held, after in zip(mine, [*mine[1:], None], strict=True):
                end = x(after.at) if after else x(now)
                if held.status:
                    spans.append(Segment(held.status, 0, x(held.at), round(end - x(held.at), 1)))
        marks = [Mark(x(m.at), m.status or "cleared", m.label) for m in mine]
        lanes.append(Lane(lane, len(lanes) * ROW_HEIGHT, spans, marks))
    return _frame(lanes, len(lanes)) | {
        "lanes": lanes,
        "width": LABEL_WIDTH + TIMELINE_WIDTH + 20,
        "start": start,
        "end": now,
    }
