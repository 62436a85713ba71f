"""The state of a project folded from its audit events: what it was at any past moment.

``fold(bodies)`` replays event bodies in seq order, each through its action's rule
(``claims.log.actions.RULES``), and is pure (no Django). Folding the whole log must give
exactly what the database holds now: ``verify_audit`` compares the two
(``claims.log.integrity``), so a write that bypassed the write path shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from claims.log.actions import RULES
from claims.log.state import State


def apply(state: State, body: dict[str, Any]) -> None:
    """Fold one more event (its parsed body) into ``state``."""
    rule = RULES.get(body["action"])
    if rule is not None and rule.fold is not None:
        rule.fold(state, body)
    state.seq = body["seq"]


def fold(bodies: Iterable[dict[str, Any]]) -> State:
    state = State()
    for body in bodies:
        apply(state, body)
    return state
