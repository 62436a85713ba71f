"""The vocabulary of the audit log: one Action per kind of event, one rule per Action, and
every part a rule names exists. A typo in an action fails here or in the writer, never in
the chain."""

from __future__ import annotations

import string
from typing import Any

import pytest

from claims.log import revert, state, verify_export
from claims.log.actions import RULES, Action, Group, RevertBy, Undo
from claims.log.chain import writing
from claims.log.history import Words
from claims.models import AuditEvent

# Hashed into every event already written: a value never changes once events carry it.
VALUES = {
    "project.created",
    "member.added",
    "member.role_changed",
    "member.removed",
    "article.imported",
    "verdict.set",
    "verdict.changed",
    "verdict.cleared",
    "claim.unlinked",
    "claim.unmerged",
    "claim.linked",
    "article.revised",
    "verdict.confirmed",
    "project.freshness_changed",
    "evidence.added",
    "evidence.removed",
    "evidence.restored",
    "evidence.page_changed",
    "claim.span_corrected",
    "claim.split",
    "claim.merged",
    "claim.same_confirmed",
    "claim.same_rejected",
    "claim.same_reopened",
    "adjudication.set",
    "adjudication.changed",
    "adjudication.withdrawn",
    "audit.exported",
    "token.created",
    "token.revoked",
    "webhook.added",
    "webhook.changed",
    "webhook.paused",
    "webhook.resumed",
    "webhook.removed",
}


def test_the_action_values_are_the_ones_existing_events_carry() -> None:
    assert {action.value for action in Action} == VALUES


def test_every_action_has_one_rule() -> None:
    assert list(RULES) == list(Action)
    assert all(type(action) is Action for action in RULES)


def test_every_rule_folds_through_a_change_of_the_state_or_changes_nothing() -> None:
    for action, rule in RULES.items():
        if rule.fold is not None:
            assert getattr(state, rule.fold.__name__, None) is rule.fold, action
    no_change = {action for action, rule in RULES.items() if rule.fold is None}
    # An export changes nothing it describes; webhooks are not part of the project's
    # state that the fold holds and verify_audit checks.
    webhooks = {a for a in Action if a.startswith("webhook.")}
    # A page found changed makes verdicts due; the fold holds no pages.
    pages = {Action.EVIDENCE_PAGE_CHANGED}
    # API tokens change nothing the fold holds either.
    tokens = {Action.TOKEN_CREATED, Action.TOKEN_REVOKED}
    # Same-claim links are derived data or a reviewer's reading of it (claims.recurring).
    same = {a for a in Action if a.startswith("claim.same_")}
    assert no_change == {Action.AUDIT_EXPORTED} | webhooks | pages | tokens | same


def test_every_rule_reads_in_words_the_history_can_render() -> None:
    for action, rule in RULES.items():
        fields = [f for f in string.Formatter().parse(rule.words) if f[1] is not None]
        assert rule.words and fields, action
        for _text, name, spec, conversion in fields:
            root = name.split("[", 1)[0].split(".", 1)[0]
            assert root in Words.FIELDS, (action, name)
            assert spec == "" or spec in Words.SPECS, (action, spec)
            assert conversion is None, action


def test_every_revertable_rule_has_a_plan_and_a_reverter() -> None:
    assert set(revert.PLANS) == set(Undo)
    for action, rule in RULES.items():
        if rule.revert is not None:
            assert rule.revert.undo in revert.PLANS, action
            assert isinstance(rule.revert.by, RevertBy), action


def test_each_group_holds_the_actions_its_filter_matches() -> None:
    """The activity filter selects a group by the prefix of the action column."""
    for action, rule in RULES.items():
        if rule.group is not None:
            assert action.startswith(rule.group + "."), action
    assert {rule.group for rule in RULES.values()} - {None} == set(Group)


def test_the_offline_verifier_names_the_export_action_as_the_table_does() -> None:
    assert verify_export.EXPORT_ACTION == Action.AUDIT_EXPORTED


def test_a_misspelt_action_is_not_an_action() -> None:
    with pytest.raises(ValueError):
        Action("verdict.sett")


@pytest.mark.parametrize("action", ["verdict.sett", "verdict.set"])
def test_the_writer_refuses_an_action_that_is_not_an_action(project: Any, action: str) -> None:
    """A bare string, even a right one, never reaches the chain: nothing is written."""
    project.chain.refresh_from_db()
    head = project.chain.head_seq
    with pytest.raises(TypeError, match="is not an audit action"), writing(project) as writer:
        writer.append(action=action, actor=None, target={"type": "project"})  # type: ignore[arg-type]
    project.chain.refresh_from_db()
    assert project.chain.head_seq == head
    assert AuditEvent.objects.filter(chain__project=project).count() == head
