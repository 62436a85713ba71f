"""Verdict arithmetic: a claim's consensus state from its current verdicts.

Pure functions over plain values, so that they can be tested without a database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

ADJUDICATED = "adjudicated"
UNREVIEWED = "unreviewed"
UNANIMOUS = "unanimous"
MAJORITY = "majority"
CONTESTED = "contested"

STATE_LABELS = {
    ADJUDICATED: "Adjudicated",
    UNREVIEWED: "Unreviewed",
    UNANIMOUS: "Unanimous",
    MAJORITY: "Majority",
    CONTESTED: "Contested",
}


def consensus_state(statuses: Iterable[str], *, min_verdicts: int, adjudicated: bool) -> str:
    """One of the five states, from the statuses of a claim's current verdicts."""
    if adjudicated:
        return ADJUDICATED
    counts = Counter(statuses)
    total = sum(counts.values())
    if total == 0 or total < min_verdicts:
        return UNREVIEWED
    top = counts.most_common(1)[0][1]
    if top == total:
        return UNANIMOUS
    if top * 2 > total:
        return MAJORITY
    return CONTESTED
