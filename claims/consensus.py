"""Verdict arithmetic: a claim's consensus state from its current verdicts.

Pure functions over plain values, so that they can be tested without a database.
"""

from __future__ import annotations

from collections.abc import Mapping

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


def consensus_state(counts: Mapping[str, int], *, min_verdicts: int, adjudicated: bool) -> str:
    """One of the five states, from the counts of a claim's current verdicts per status."""
    if adjudicated:
        return ADJUDICATED
    total = sum(counts.values())
    if total == 0 or total < min_verdicts:
        return UNREVIEWED
    top = max(counts.values())
    if top == total:
        return UNANIMOUS
    if top * 2 > total:
        return MAJORITY
    return CONTESTED
