"""The one write path: exactly one hash-chained event per change, with exact before/after."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from claims.log.chain import AuditError, writing
from claims.log.verify_export import GENESIS_HASH, canonical_json, event_hash
from claims.models import AuditEvent, Conflict, Evidence, Role, Verdict
from tests.tampering import triggers_off


def events_after(seq: int, project: Any) -> list[dict[str, Any]]:
    rows = AuditEvent.objects.filter(chain__project=project, seq__gt=seq).order_by("seq")
    return [json.loads(e.body) for e in rows]


def head(project: Any) -> int:
    project.chain.refresh_from_db()
    return project.chain.head_seq


def test_canonical_json_sorts_keys_and_is_compact() -> None:
    assert canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'


def test_canonical_json_refuses_floats() -> None:
    with pytest.raises(TypeError):
        canonical_json({"score": 0.5})


def test_event_hash_covers_previous_hash_and_body() -> None:
    one = event_hash(GENESIS_HASH, "{}")
    assert len(one) == 64
    assert event_hash("1" * 64, "{}") != one
    assert event_hash(GENESIS_HASH, '{"a":1}') != one


def test_project_creation_starts_the_chain(project: Any) -> None:
    first = AuditEvent.objects.get(chain__project=project, seq=1)
    body = json.loads(first.body)
    assert body["action"] == "project.created"
    assert body["after"]["admin"] == "alice"
    assert first.prev_hash == GENESIS_HASH
    assert first.hash == event_hash(first.prev_hash, first.body)


def test_setting_a_verdict_writes_one_event_with_exact_after(claim: Any, bob: Any) -> None:
    project = claim.article.project
    start = head(project)
    verdict = claim.set_verdict(bob, "supported", rationale="Matches the readout.")
    assert verdict.version == 1
    [event] = events_after(start, project)
    assert event["action"] == "verdict.set"
    assert event["actor"] == "bob"
    assert event["before"] is None
    assert event["after"] == {
        "status": "supported",
        "rationale": "Matches the readout.",
        "as_of": None,
    }
    assert event["target"] == {
        "type": "verdict",
        "claim": claim.pk,
        "article": claim.article_id,
        "analyst": "bob",
    }
    assert event["seq"] == start + 1


def test_changing_a_verdict_records_before_and_after(claim: Any, bob: Any) -> None:
    project = claim.article.project
    claim.set_verdict(bob, "supported", rationale="ok")
    start = head(project)
    import datetime as dt

    claim.set_verdict(
        bob, "outdated", rationale="Superseded.", as_of=dt.date(2022, 2, 24), expected_version=1
    )
    [event] = events_after(start, project)
    assert event["action"] == "verdict.changed"
    assert event["before"] == {"status": "supported", "rationale": "ok", "as_of": None}
    assert event["after"] == {
        "status": "outdated",
        "rationale": "Superseded.",
        "as_of": "2022-02-24",
    }


def test_clearing_a_verdict_keeps_its_version_moving(claim: Any, bob: Any) -> None:
    project = claim.article.project
    claim.set_verdict(bob, "disputed")
    start = head(project)
    verdict = claim.clear_verdict(bob, expected_version=1)
    assert (verdict.status, verdict.version) == ("", 2)
    [event] = events_after(start, project)
    assert event["action"] == "verdict.cleared"
    assert event["before"] == {"status": "disputed", "rationale": "", "as_of": None}
    assert event["after"] is None
    # Setting it again after a clear is a new "set", made against version 2.
    claim.set_verdict(bob, "supported", expected_version=2)
    assert events_after(start + 1, project)[0]["action"] == "verdict.set"


def test_stale_version_is_a_conflict_and_writes_nothing(claim: Any, bob: Any) -> None:
    project = claim.article.project
    claim.set_verdict(bob, "supported")
    start = head(project)
    with pytest.raises(Conflict) as caught:
        claim.set_verdict(bob, "disputed", expected_version=0)
    assert caught.value.current.status == "supported"
    assert head(project) == start
    assert Verdict.objects.get(claim=claim, analyst=bob).status == "supported"


def test_unchanged_verdict_writes_no_event(claim: Any, bob: Any) -> None:
    project = claim.article.project
    claim.set_verdict(bob, "supported", rationale="same")
    start = head(project)
    verdict = claim.set_verdict(bob, "supported", rationale="same", expected_version=1)
    assert verdict.version == 1
    assert head(project) == start


def test_since_date_only_on_outdated(claim: Any, bob: Any) -> None:
    import datetime as dt

    start = head(claim.article.project)
    with pytest.raises(ValidationError):
        claim.set_verdict(bob, "supported", as_of=dt.date(2022, 1, 1))
    assert head(claim.article.project) == start


def test_viewer_cannot_set_a_verdict(claim: Any, victor: Any, mallory: Any) -> None:
    start = head(claim.article.project)
    for user in (victor, mallory):
        with pytest.raises(PermissionDenied):
            claim.set_verdict(user, "supported")
    assert head(claim.article.project) == start
    assert not Verdict.objects.exists()


def test_adding_and_removing_evidence_are_one_event_each(claim: Any, bob: Any) -> None:
    project = claim.article.project
    start = head(project)
    evidence = claim.add_evidence(
        bob, url="https://example.org/a", stance="supports", title="Readout", quote="q"
    )
    expected = {
        "url": "https://example.org/a",
        "title": "Readout",
        "stance": "supports",
        "quote": "q",
        "note": "",
        "added_by": "bob",
    }
    evidence.remove(bob)
    added, removed = events_after(start, project)
    assert (added["action"], added["before"], added["after"]) == ("evidence.added", None, expected)
    assert (removed["action"], removed["before"], removed["after"]) == (
        "evidence.removed",
        expected,
        None,
    )
    assert Evidence.objects.get(pk=evidence.pk).removed_at is not None


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.org/x", "not a url", ""])
def test_evidence_url_must_be_http(claim: Any, bob: Any, url: str) -> None:
    start = head(claim.article.project)
    with pytest.raises(ValidationError):
        claim.add_evidence(bob, url=url, stance="supports")
    assert head(claim.article.project) == start
    assert not Evidence.objects.exists()


def test_analyst_cannot_remove_someone_elses_evidence(claim: Any, bob: Any, carol: Any) -> None:
    evidence = claim.add_evidence(bob, url="https://example.org/a", stance="context")
    start = head(claim.article.project)
    with pytest.raises(PermissionDenied):
        evidence.remove(carol)
    assert head(claim.article.project) == start


def test_adding_a_member_and_changing_role(project: Any, mallory: Any, alice: Any) -> None:
    start = head(project)
    project.set_member(mallory, Role.VIEWER, actor=alice)
    project.set_member(mallory, Role.ANALYST, actor=alice)
    project.set_member(mallory, Role.ANALYST, actor=alice)  # no change, no event
    added, changed = events_after(start, project)
    assert (added["action"], added["before"], added["after"]) == (
        "member.added",
        None,
        {"user": "mallory", "role": "viewer"},
    )
    assert (changed["action"], changed["before"], changed["after"]) == (
        "member.role_changed",
        {"user": "mallory", "role": "viewer"},
        {"user": "mallory", "role": "analyst"},
    )


def test_a_change_that_writes_no_event_is_rolled_back(project: Any) -> None:
    from claims.models import Membership

    before = Membership.objects.count()
    with pytest.raises(AuditError), writing(project):
        Membership.objects.filter(project=project).delete()
    assert Membership.objects.count() == before


def test_events_cannot_be_changed_or_deleted_through_the_model(project: Any) -> None:
    event = AuditEvent.objects.filter(chain__project=project).first()
    event.action = "tampered"
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()


def test_an_appended_event_is_stored_as_the_writer_returns_it(project: Any, bob: Any) -> None:
    """The writer's three statements are written by hand (``claims.log.chain``): the event
    it returns is the row stored, every column of it, and the head moved on to it."""
    from claims.log.actions import Action
    from claims.models import AuditChain

    with writing(project) as writer:
        event = writer.append(
            action=Action.MEMBER_ADDED,
            actor=bob,
            target={"type": "member", "user": "bob"},
            after={"role": "analyst"},
            article_id=7,
            claim_id=8,
            other_claim_id=9,
        )
    stored = AuditEvent.objects.get(pk=event.pk)
    for field in AuditEvent._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(event, field.attname), field.name
    assert (stored.chain.project, stored.actor) == (project, bob)
    chain = AuditChain.objects.get(project=project)
    assert (chain.head_seq, chain.head_hash) == (event.seq, event.hash)
    assert event.hash == event_hash(event.prev_hash, event.body)
    with pytest.raises(PermissionDenied):  # a stored event, as the ORM's would be
        event.save()


# verify_audit -------------------------------------------------------------------------


def tamper(sql: str, params: list[Any]) -> None:
    """Alter events behind the application's back, lifting the append-only triggers."""
    with triggers_off(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def chain_with_events(project: Any, claim: Any, bob: Any, carol: Any) -> int:
    claim.set_verdict(bob, "supported")
    claim.set_verdict(carol, "disputed")
    claim.set_verdict(bob, "outdated", expected_version=1)
    return head(project)


def test_verify_audit_passes_an_intact_chain(
    project: Any, claim: Any, bob: Any, carol: Any, capsys: Any
) -> None:
    count = chain_with_events(project, claim, bob, carol)
    call_command("verify_audit", project="demo")
    assert f"demo: intact, {count} events" in capsys.readouterr().out


def test_verify_audit_names_an_altered_body(project: Any, claim: Any, bob: Any, carol: Any) -> None:
    chain_with_events(project, claim, bob, carol)
    event = AuditEvent.objects.get(chain__project=project, action="verdict.changed")
    body = event.body.replace('"outdated"', '"supported"')
    tamper("UPDATE claims_auditevent SET body = %s WHERE id = %s", [body, event.pk])
    with pytest.raises(CommandError, match=f"at seq {event.seq}"):
        call_command("verify_audit")


def test_verify_audit_names_a_deleted_event(project: Any, claim: Any, bob: Any, carol: Any) -> None:
    last = chain_with_events(project, claim, bob, carol)
    middle = last - 1
    tamper(
        "DELETE FROM claims_auditevent WHERE chain_id = %s AND seq = %s", [project.chain.pk, middle]
    )
    with pytest.raises(CommandError, match=f"at seq {middle}"):
        call_command("verify_audit", project="demo")


def test_verify_audit_names_a_deleted_last_event(
    project: Any, claim: Any, bob: Any, carol: Any
) -> None:
    last = chain_with_events(project, claim, bob, carol)
    tamper(
        "DELETE FROM claims_auditevent WHERE chain_id = %s AND seq = %s", [project.chain.pk, last]
    )
    with pytest.raises(CommandError, match=f"at seq {last}"):
        call_command("verify_audit", project="demo")


def test_verify_audit_names_a_reordered_pair(
    project: Any, claim: Any, bob: Any, carol: Any
) -> None:
    last = chain_with_events(project, claim, bob, carol)
    a, b = last - 2, last - 1
    chain = project.chain.pk
    sql = "UPDATE claims_auditevent SET seq = %s WHERE chain_id = %s AND seq = %s"
    tamper(sql, [0, chain, a])
    tamper(sql, [a, chain, b])
    tamper(sql, [b, chain, 0])
    with pytest.raises(CommandError, match=f"at seq {a}"):
        call_command("verify_audit")


def test_verify_audit_names_a_rehashed_event(
    project: Any, claim: Any, bob: Any, carol: Any
) -> None:
    """Recomputing one event's hash after editing it still breaks the next link."""
    last = chain_with_events(project, claim, bob, carol)
    event = AuditEvent.objects.get(chain__project=project, seq=last - 1)
    body = event.body.replace('"disputed"', '"supported"')
    new_hash = event_hash(event.prev_hash, body)
    tamper(
        "UPDATE claims_auditevent SET body = %s, hash = %s WHERE id = %s",
        [body, new_hash, event.pk],
    )
    with pytest.raises(CommandError, match=f"at seq {last}"):
        call_command("verify_audit")


def test_verify_audit_unknown_project(db: Any) -> None:
    with pytest.raises(CommandError, match="no project"):
        call_command("verify_audit", project="nope")


def test_adjudication_set_change_and_withdraw_are_one_event_each(claim: Any, rita: Any) -> None:
    project = claim.article.project
    start = head(project)
    claim.adjudicate(rita, "disputed", rationale="Sources disagree.")
    claim.adjudicate(rita, "supported", rationale="Readout confirmed.", expected_version=1)
    withdrawn = claim.withdraw_adjudication(rita, expected_version=2)
    assert (withdrawn.status, withdrawn.version) == ("", 3)
    assert claim.final is None
    set_, changed, gone = events_after(start, project)
    assert (set_["action"], set_["before"], set_["after"]) == (
        "adjudication.set",
        None,
        {"status": "disputed", "rationale": "Sources disagree.", "as_of": None},
    )
    assert (changed["action"], changed["before"]["status"], changed["after"]["status"]) == (
        "adjudication.changed",
        "disputed",
        "supported",
    )
    assert (gone["action"], gone["before"]["status"], gone["after"]) == (
        "adjudication.withdrawn",
        "supported",
        None,
    )


def test_stale_adjudication_is_a_conflict(claim: Any, rita: Any, alice: Any) -> None:
    claim.adjudicate(rita, "disputed", rationale="First.")
    start = head(claim.article.project)
    with pytest.raises(Conflict):
        claim.adjudicate(alice, "supported", rationale="Second.", expected_version=0)
    assert head(claim.article.project) == start
    claim.refresh_from_db()
    assert claim.final.status == "disputed"


def test_analyst_cannot_adjudicate_and_rationale_is_required(
    claim: Any, bob: Any, rita: Any
) -> None:
    start = head(claim.article.project)
    with pytest.raises(PermissionDenied):
        claim.adjudicate(bob, "supported", rationale="Mine.")
    with pytest.raises(ValidationError):
        claim.adjudicate(rita, "supported", rationale="  ")
    assert head(claim.article.project) == start


def test_adjudicated_claim_cannot_be_split(claim: Any, rita: Any) -> None:
    claim.adjudicate(rita, "supported", rationale="Settled.")
    start = head(claim.article.project)
    with pytest.raises(ValidationError, match="withdraw the adjudication"):
        claim.split(rita, at=claim.start + claim.text.index(" ") + 1, expected_version=1)
    assert head(claim.article.project) == start
