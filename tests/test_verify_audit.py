"""verify_audit: the hash chain, the indexed event columns against the signed bodies, and
the live tables against the fold of the log.

Every tamper here is made behind the application's back, as someone holding the database
could: raw SQL on the tables, and on the event table with its append-only triggers lifted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from claims.log import integrity
from claims.log.actions import Action
from claims.log.export import Filters, start_export
from claims.log.history import describe
from claims.log.revert import plan
from claims.log.state import State, VerdictState
from claims.log.verify_export import GENESIS_HASH, canonical_json, event_hash
from claims.models import (
    ApiToken,
    AuditEvent,
    Claim,
    ClaimLink,
    Evidence,
    EvidenceSnapshot,
    Member,
    Project,
    Role,
    Verdict,
    Webhook,
)
from claims.revising import apply_revision, prepare_revision, unlink
from tests.base import run_on_sqlite_file
from tests.factories import make_article, make_project, make_user
from tests.tampering import execute, purge_audit_events, triggers_off

TWO_CLAIM_TEXT = (
    "Report Title\n\nMoscow agreed, and Beijing declined. Trade grew, but talks stalled.\n"
)
NOTES_TEXT = (
    "Port Notes\n\nThe port reopened to grain ships in early May after the long closure. "
    "Grain exports rose by 10 percent over the quarter. Insurers stayed away.\n"
)
NOTES_REVISED = (
    "Port Notes\n\nThe port reopened to grain ships in early June after the long closure. "
    "Grain exports rose by 10 percent over the quarter. Shipping lines returned quickly.\n"
)


@dataclass
class Story:
    """An honest history holding every action, and the rows the tamper tests alter."""

    project: Project
    tagged: Claim  # bob's verdict on it was changed to outdated
    evidence: Evidence  # added by bob, removed by alice
    adjudicated: Claim  # adjudicated, withdrawn, and the withdrawal reverted
    corrected: Claim  # its span corrected, and the correction reverted
    merged: Claim  # the first part of a merge

    def event(self, action: str) -> AuditEvent:
        """The latest event of this kind."""
        return AuditEvent.objects.filter(chain__project=self.project, action=action).latest("seq")


def undo(project: Project, action: str, user: Any) -> None:
    """Revert the latest event of this kind, as the revert page does."""
    event = AuditEvent.objects.filter(chain__project=project, action=action).latest("seq")
    planned = plan(project, event)
    planned.apply(user, planned.version)


def two_claim_sentence(article: Any) -> Claim:
    for claim in article.claims.order_by("start"):
        if claim.next_in_sentence():
            return claim
    raise AssertionError("the text has two-claim sentences")


@pytest.fixture
def story(project: Project, article: Any, alice: Any, bob: Any, carol: Any, rita: Any) -> Story:
    first, second, third, fourth = article.claims.order_by("start")
    # Verdicts: set, changed, cleared, and a clearing reverted.
    first.set_verdict(bob, "supported", rationale="Readout.")
    first.set_verdict(bob, "outdated", as_of=dt.date(2022, 2, 24), expected_version=1)
    first.set_verdict(carol, "disputed", rationale="Denied.")
    second.set_verdict(bob, "supported")
    second.clear_verdict(bob, expected_version=1)
    undo(project, "verdict.cleared", bob)
    # Re-checks: a verdict with its own re-check date, confirmed; the project's freshness.
    third.set_verdict(carol, "disputed", recheck_by=dt.date(2031, 1, 1))
    third.confirm_verdict(carol, expected_version=1)
    project.set_freshness(alice, {"supported": 365, "disputed": 30, "outdated": None})
    # Evidence: added, removed, restored, removed, the removal reverted; and removed by an
    # admin, not its author.
    evidence = first.add_evidence(bob, url="https://example.org/a", stance="supports", title="A")
    other = first.add_evidence(
        carol, url="https://example.org/b", stance="contradicts", quote="Q", note="N"
    )
    other.remove(carol)
    other.restore(carol)
    other.remove(carol)
    undo(project, "evidence.removed", carol)
    # Adjudications: set, changed by an admin, withdrawn, the withdrawal reverted.
    fourth.adjudicate(rita, "disputed", rationale="Checked.")
    fourth.adjudicate(
        alice, "outdated", rationale="Old.", as_of=dt.date(2023, 1, 1), expected_version=1
    )
    fourth.withdraw_adjudication(rita, expected_version=2)
    undo(project, "adjudication.withdrawn", rita)
    # Claims: a span corrected and the correction reverted; a split merged back (both parts
    # hold the same evidence); a merge of parts whose verdicts disagree.
    third.correct_span(rita, start=third.start, end=third.end - 1, expected_version=1)
    undo(project, "claim.span_corrected", rita)
    first.refresh_from_db()
    first.split(rita, at=first.start + first.text.index(" ") + 1, expected_version=first.version)
    first.refresh_from_db()
    first.merge_next(rita, expected_version=first.version)
    undo(project, "claim.merged", rita)  # apart again, as the log says they were
    first.refresh_from_db()
    first.merge_next(rita, expected_version=first.version)
    evidence.remove(alice)
    later = make_article(project, TWO_CLAIM_TEXT, filename="second.txt", actor=alice)
    left = two_claim_sentence(later)
    right = left.next_in_sentence()
    left.set_verdict(bob, "supported")
    right.set_verdict(bob, "supported")
    left.set_verdict(carol, "supported")
    right.set_verdict(carol, "disputed")
    right.set_verdict(alice, "outdated")
    page = right.add_evidence(carol, url="https://example.org/c", stance="context")
    # Evidence snapshots: its page read, then found changed (the re-check's one event).
    for text in ("as read", "as changed"):
        EvidenceSnapshot.record(EvidenceSnapshot(evidence=page, state="ok", text=text, sha256=text))
    left.merge_next(rita, expected_version=left.version)
    # Revisions: a text revised (edited, removed and added claims); an edited claim
    # unlinked, and the unlink reverted (which links it again).
    notes = make_article(project, NOTES_TEXT, filename="third.txt", actor=alice)
    apply_revision(
        prepare_revision(notes, NOTES_REVISED.encode(), filename="third-v2.txt"), actor=alice
    )
    edited = Claim.objects.filter(article=notes, revised_in=2).first()
    assert edited is not None
    unlink(edited, rita, expected_version=edited.version)
    undo(project, "claim.unlinked", rita)
    # Recurring claims: a link between two articles' claims confirmed, the confirmation
    # reverted (the link proposed again), then rejected.
    a, b = sorted((left.pk, notes.claims.order_by("start").first().pk))
    link, _new = ClaimLink.objects.get_or_create(claim_a_id=a, claim_b_id=b, defaults={"score": 70})
    link.decide(rita, "confirmed", expected_version=link.version)
    undo(project, "claim.same_confirmed", rita)
    link.refresh_from_db()
    link.decide(rita, "rejected", expected_version=link.version)
    # API tokens: one made, and revoked.
    token, _secret = ApiToken.issue(Member.of(project, bob), name="script", role="viewer", days=7)
    token.revoke(bob)
    # Webhooks: registered, changed, paused, resumed and removed.
    hook = Webhook.register(project, alice, url="https://hooks.example.com/a", events=["verdict"])
    hook.change(alice, url="https://hooks.example.com/b", events=["claim"])
    hook.pause(alice)
    hook.resume(alice)
    hook.remove(alice)
    # Members: added, role changed, removed.
    dana = make_user("dana")
    project.set_member(dana, "viewer", actor=alice)
    project.set_member(dana, "analyst", actor=alice)
    project.remove_member(dana, actor=alice)
    # Exports: one of the whole project, one filed under an article.
    "".join(start_export(project, "csv", actor=alice).chunks)
    "".join(start_export(project, "csv", Filters(article=later.pk), actor=rita).chunks)
    return Story(project, first, evidence, fourth, third, left)


def verify(*options: str) -> str:
    out = StringIO()
    call_command("verify_audit", *options, stdout=out)
    return out.getvalue()


def refused(*expected: str) -> str:
    """verify_audit fails, and its message names every one of ``expected``."""
    with pytest.raises(CommandError) as caught:
        verify()
    message = str(caught.value)
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    return message


def head(project: Project) -> int:
    project.chain.refresh_from_db()
    return project.chain.head_seq


# An honest history ---------------------------------------------------------------------


def test_an_honest_history_with_every_action_is_intact(story: Story) -> None:
    actions = set(
        AuditEvent.objects.filter(chain__project=story.project).values_list("action", flat=True)
    )
    assert actions >= set(Action)
    assert AuditEvent.objects.filter(body__contains='"reverts":').count() == 7
    out = verify("--project", "demo")
    assert f"demo: intact, {head(story.project)} events" in out


def test_every_action_in_an_honest_log_is_an_action_with_a_rule(story: Story) -> None:
    """Columns and signed bodies alike name only members of Action; each reads in words
    through its own rule."""
    events = AuditEvent.objects.filter(chain__project=story.project).order_by("seq")
    for column, body in events.values_list("action", "body"):
        parsed = json.loads(body)
        assert Action(column) == Action(parsed["action"])
        assert describe(parsed)  # in the rule's words, every field it names present


def test_every_project_is_checked_and_only_the_tampered_one_named(story: Story, alice: Any) -> None:
    other = make_project("other", admin=alice)
    execute("UPDATE claims_membership SET role = %s WHERE project_id = %s", ["viewer", other.pk])
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit", stdout=out)
    assert "demo: intact" in out.getvalue()
    assert "other" in str(caught.value)
    assert "demo" not in str(caught.value)


# Live rows changed without an event ----------------------------------------------------


def test_a_verdict_changed_without_an_event_is_found(story: Story, bob: Any) -> None:
    claim = story.tagged
    execute(
        "UPDATE claims_verdict SET status = %s WHERE claim_id = %s AND analyst_id = %s",
        ["supported", claim.pk, bob.pk],
    )
    refused("verdicts", f"claim {claim.pk}, analyst bob", "status", "'supported'", "'outdated'")


def test_a_verdict_marked_after_seeing_the_team_is_checked_against_the_log(
    story: Story, bob: Any, carol: Any
) -> None:
    project = story.project
    project.blind = True
    project.save(update_fields=["blind"])  # no event: put it back in the log's terms below
    # Read afresh: the claim's project must be the one just made blind.
    claim = (
        Claim.objects.filter(article_id=story.tagged.article_id)
        .exclude(pk=story.tagged.pk)
        .order_by("start")
        .last()
    )
    claim.set_verdict(bob, "supported")
    claim.set_verdict(carol, "disputed")
    claim.set_verdict(bob, "disputed", expected_version=1)
    assert claim.verdicts.get(analyst=bob).after_seeing_team
    execute("UPDATE claims_project SET blind = %s WHERE id = %s", [False, project.pk])
    assert "demo: intact" in verify("--project", "demo")
    execute(
        "UPDATE claims_verdict SET after_seeing_team = %s WHERE claim_id = %s AND analyst_id = %s",
        [False, claim.pk, bob.pk],
    )
    refused("verdicts", f"claim {claim.pk}, analyst bob", "after_seeing_team")


def test_a_verdict_inserted_without_an_event_is_found(story: Story, victor: Any) -> None:
    claim = story.tagged
    Verdict.objects.create(claim=claim, analyst=victor, status="supported", version=1)
    refused("verdicts", f"claim {claim.pk}, analyst victor", "the table has this row")


def test_an_evidence_changed_without_an_event_is_found(story: Story) -> None:
    evidence = story.evidence
    execute(
        "UPDATE claims_evidence SET url = %s WHERE id = %s", ["https://evil.example/", evidence.pk]
    )
    refused("evidence", f"evidence {evidence.pk}", "url", "https://evil.example/")


def test_a_removed_evidence_brought_back_without_an_event_is_found(story: Story) -> None:
    evidence = story.evidence
    execute(
        "UPDATE claims_evidence SET removed_at = NULL, removed_by_id = NULL WHERE id = %s",
        [evidence.pk],
    )
    refused("evidence", f"evidence {evidence.pk}", "removed")


def test_an_adjudication_changed_without_an_event_is_found(story: Story) -> None:
    claim = story.adjudicated
    execute(
        "UPDATE claims_adjudication SET status = %s WHERE claim_id = %s", ["supported", claim.pk]
    )
    refused("adjudications", f"claim {claim.pk}", "status", "'supported'", "'outdated'")


def test_a_membership_changed_without_an_event_is_found(story: Story, victor: Any) -> None:
    execute("UPDATE claims_membership SET role = %s WHERE user_id = %s", ["admin", victor.pk])
    refused("memberships", "user victor", "role", "'admin'", "'viewer'")


def test_a_membership_deleted_without_an_event_is_found(story: Story, carol: Any) -> None:
    execute("DELETE FROM claims_membership WHERE user_id = %s", [carol.pk])
    refused("memberships", "user carol", "the log has this row")


def test_a_claim_span_changed_without_an_event_is_found(story: Story) -> None:
    claim = story.corrected
    execute('UPDATE claims_claim SET "end" = %s WHERE id = %s', [claim.end - 3, claim.pk])
    refused("claims", f"claim {claim.pk}", "end", str(claim.end - 3), str(claim.end))


def test_a_claim_moved_to_another_article_without_an_event_is_found(story: Story) -> None:
    claim = story.corrected
    other = story.merged.article_id
    execute("UPDATE claims_claim SET article_id = %s WHERE id = %s", [other, claim.pk])
    refused("claims", f"claim {claim.pk}", "article")


def test_an_article_text_changed_without_an_event_is_found(story: Story) -> None:
    article = story.corrected.article
    text = article.text.replace("Moscow", "Madrid")
    execute("UPDATE claims_article SET text = %s WHERE id = %s", [text, article.pk])
    refused("articles", f"article {article.pk}", "sha256")


def test_a_project_made_open_without_an_event_is_found(story: Story) -> None:
    execute("UPDATE claims_project SET blind = %s WHERE id = %s", [True, story.project.pk])
    refused("projects", "project demo", "blind", "True", "False")


# Event columns rewritten (the body, and so the chain, untouched) ----------------------


def rewrite(event: AuditEvent, column: str, value: Any) -> None:
    with triggers_off():
        execute(f"UPDATE claims_auditevent SET {column} = %s WHERE id = %s", [value, event.pk])


def test_an_event_claim_id_rewritten_is_found(story: Story) -> None:
    event = story.event("verdict.changed")
    rewrite(event, "claim_id", story.corrected.pk)
    refused(f"seq {event.seq}", "claim_id", str(story.corrected.pk), str(story.tagged.pk))


def test_an_event_action_rewritten_is_found(story: Story) -> None:
    event = story.event("verdict.changed")
    rewrite(event, "action", "verdict.set")
    refused(f"seq {event.seq}", "action", "'verdict.set'", "'verdict.changed'")


def test_an_event_actor_rewritten_is_found(story: Story, carol: Any) -> None:
    event = story.event("verdict.changed")
    rewrite(event, "actor_id", carol.pk)
    refused(f"seq {event.seq}", "actor_id", "carol", "bob")


def test_an_event_actor_removed_is_found(story: Story) -> None:
    event = story.event("verdict.changed")
    rewrite(event, "actor_id", None)
    refused(f"seq {event.seq}", "actor_id", "bob")


def test_an_event_time_rewritten_is_found(story: Story) -> None:
    event = story.event("verdict.changed")
    rewrite(event, "created_at", event.created_at - dt.timedelta(days=30))
    refused(f"seq {event.seq}", "created_at")


def test_an_event_article_id_rewritten_is_found(story: Story) -> None:
    event = story.event("audit.exported")
    rewrite(event, "article_id", None)
    refused(f"seq {event.seq}", "article_id", str(story.merged.article_id))


def test_an_event_other_claim_id_rewritten_is_found(story: Story) -> None:
    event = story.event("claim.merged")
    rewrite(event, "other_claim_id", story.corrected.pk)
    refused(f"seq {event.seq}", "other_claim_id", str(story.corrected.pk))


def test_the_first_rewritten_event_is_named(story: Story) -> None:
    events = AuditEvent.objects.filter(chain__project=story.project)
    early, late = events.earliest("seq"), events.latest("seq")
    rewrite(late, "action", "claim.split")
    rewrite(early, "action", "verdict.cleared")
    refused(f"seq {early.seq}", "'verdict.cleared'")


# The comparisons themselves (pure) ----------------------------------------------------


def test_differences_name_each_field_that_differs_and_each_missing_row() -> None:
    logged, live = State(), State()
    logged.verdicts[(7, "bob")] = VerdictState("supported", "Readout.", None, 2)
    live.verdicts[(7, "bob")] = VerdictState("disputed", "Readout.", None, 3)
    live.members["mallory"] = "admin"
    assert list(integrity.differences(logged, live)) == [
        integrity.Difference("memberships", "user mallory", "row", True, False),
        integrity.Difference("verdicts", "claim 7, analyst bob", "status", "disputed", "supported"),
        integrity.Difference("verdicts", "claim 7, analyst bob", "version", 3, 2),
    ]
    assert list(integrity.differences(logged, logged)) == []


def test_a_rebuilt_chain_whose_bodies_cannot_be_replayed_is_broken() -> None:
    """Someone who rehashes the chain can write any body; one that refers to evidence that
    was never added cannot come from the write path."""
    body = canonical_json(
        {
            "action": "evidence.removed",
            "actor": "bob",
            "after": None,
            "at": "2024-01-01T00:00:00.000000Z",
            "before": None,
            "project": "demo",
            "seq": 1,
            "target": {"type": "evidence", "claim": 1, "article": 1, "evidence": 99},
        }
    )
    digest = event_hash(GENESIS_HASH, body)
    row = integrity.EventRow(
        1,
        GENESIS_HASH,
        digest,
        body,
        "evidence.removed",
        5,
        "bob",
        1,
        1,
        None,
        dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    )
    count, problem, _state = integrity.check_log([row], head_seq=1, head_hash=digest)
    assert problem is not None
    assert (problem.seq, problem.reason.startswith("body cannot be replayed")) == (1, True)


# Efficiency ---------------------------------------------------------------------------


def test_verification_queries_do_not_grow_with_the_history(
    project: Project,
    article: Any,
    alice: Any,
    bob: Any,
    carol: Any,
    rita: Any,
    django_assert_num_queries: Any,
) -> None:
    claims = list(article.claims.order_by("start"))
    claims[0].set_verdict(alice, "supported")
    # The chain head, the events, and one query for each of nine tables.
    with django_assert_num_queries(11):
        assert integrity.verify_project(project).intact
    later = make_article(project, TWO_CLAIM_TEXT, filename="second.txt", actor=alice)
    for claim in [*claims, *later.claims.all()]:
        claim.set_verdict(bob, "supported")
        claim.set_verdict(carol, "disputed", rationale="No.")
        claim.add_evidence(carol, url="https://example.org/x", stance="context")
    claims[-1].adjudicate(rita, "supported", rationale="Checked.")
    with django_assert_num_queries(11):
        assert integrity.verify_project(project).intact


# A write committing during verification is not tampering ------------------------------


SUBPROCESS_SCRIPT = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from tests.test_verify_audit import verify_during_a_write
call_command("migrate", verbosity=0)
print(json.dumps(verify_during_a_write(isolated=sys.argv[1] == "isolated")))
"""


def verify_during_a_write(*, isolated: bool = True) -> dict[str, Any]:
    """Verify a project while a verdict commits, from another connection, after the log
    was read and before the tables are. With ``isolated`` off, the reads are not kept to
    one snapshot (the control: the write must then look like tampering)."""
    users = get_user_model().objects
    admin, analyst = users.create(username="admin"), users.create(username="analyst")
    project = Project.create("race", "Race", admin=admin)
    project.set_member(analyst, Role.ANALYST, actor=admin)
    claim = make_article(project, actor=admin).claims.order_by("start").first()
    errors: list[str] = []

    def tag() -> None:
        try:
            claim.set_verdict(analyst, "supported")
        except Exception as exc:  # reported, never swallowed
            errors.append(repr(exc))
        finally:
            connection.close()

    read_tables, one_snapshot = integrity.snapshot, integrity.one_snapshot

    def tables_after_a_write(project: Project) -> State:
        writer = threading.Thread(target=tag)
        writer.start()
        writer.join()
        return read_tables(project)

    integrity.snapshot = tables_after_a_write
    if not isolated:
        integrity.one_snapshot = lambda: contextlib.nullcontext()
    try:
        during = str(integrity.verify_project(project))
    finally:
        integrity.snapshot, integrity.one_snapshot = read_tables, one_snapshot
    return {
        "vendor": connection.vendor,
        "errors": errors,
        "verdicts": Verdict.objects.filter(claim=claim).count(),
        "during": during,
        "after": str(integrity.verify_project(project)),
    }


def verify_during_a_write_on(tmp_path: Path, *, isolated: bool) -> dict[str, Any]:
    """PostgreSQL in this process; SQLite in a subprocess, on a file configured as in
    production (WAL, IMMEDIATE transactions), since the test database lives in memory."""
    if connection.vendor == "postgresql":
        return verify_during_a_write(isolated=isolated)
    mode = "isolated" if isolated else "shared"
    return run_on_sqlite_file(SUBPROCESS_SCRIPT, tmp_path / "race.sqlite3", mode)


@pytest.fixture
def committed(transactional_db: Any) -> Iterator[None]:
    """Rows commit for real, so that the writer's own connection sees them; the events are
    purged before pytest-django's flush, which the append-only triggers refuse."""
    yield
    purge_audit_events()


def test_a_write_committed_during_verification_is_not_tampering(
    committed: Any, tmp_path: Path
) -> None:
    outcome = verify_during_a_write_on(tmp_path, isolated=True)
    assert (outcome["errors"], outcome["verdicts"]) == ([], 1)  # the writer was not held up
    assert outcome["during"].startswith("intact, ")
    assert outcome["after"].startswith("intact, ")
    assert outcome["during"] != outcome["after"]  # one event more


def test_without_one_snapshot_the_same_write_would_look_like_tampering(
    committed: Any, tmp_path: Path
) -> None:
    """The control: it is the snapshot that keeps the test above from failing."""
    outcome = verify_during_a_write_on(tmp_path, isolated=False)
    assert (outcome["errors"], outcome["verdicts"]) == ([], 1)
    assert outcome["during"].startswith("TAMPERED: verdicts (claim ")
    assert outcome["after"].startswith("intact, ")
