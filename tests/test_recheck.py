"""Re-checks: when a verdict comes due (the pure computation, on a fixed ``today``, and the
same in SQL), the verbs that restart its clock or make it due, and the log that holds them
(the fold equals the database; a signed export of them verifies)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims import recheck
from claims.log import integrity, signing, verify_export
from claims.log.export import start_export
from claims.log.fold import fold
from claims.log.history import describe
from claims.log.state import DEFAULT_FRESHNESS
from claims.models import AuditEvent, Claim, Conflict, Project, Role, Verdict
from claims.recheck import NEVER, Due, Freshness, Reason, due
from tests.factories import add_member, make_article, make_project, make_user

UTC = dt.UTC
TODAY = dt.date(2026, 7, 1)
JAN_1 = dt.datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
ANALYST = 7  # the verdict's analyst, by id


def due_of(status: str = "supported", **given: Any) -> Due:
    """``due()`` of a verdict checked on 1 January 2026, as of ``TODAY`` unless told."""
    values: dict[str, Any] = {
        "status": status,
        "checked_at": JAN_1,
        "recheck_by": None,
        "freshness": Freshness(),
        "evidence_changed_at": None,
        "evidence_changed_by": None,
        "analyst": ANALYST,
        "revised_at": None,
        "today": TODAY,
    }
    return due(**(values | given))


# The pure computation ------------------------------------------------------------------


def test_a_supported_verdict_comes_due_after_the_projects_days_for_it() -> None:
    on = dt.date(2026, 6, 30)  # 1 January + 180 days
    assert due_of(today=on - dt.timedelta(days=1)) == Due(on, (), on)
    assert due_of(today=on) == Due(on, (Reason.OVERDUE,), on)
    assert due_of(today=on).is_due and not due_of(today=dt.date(2026, 6, 29)).is_due


def test_each_status_has_its_own_freshness() -> None:
    assert due_of("disputed").on == dt.date(2026, 4, 1)  # 90 days
    fresh = Freshness(supported=None, disputed=None, outdated=10)
    assert due_of("outdated", freshness=fresh).on == dt.date(2026, 1, 11)
    assert due_of("supported", freshness=fresh) == recheck.NOT_DUE


def test_an_outdated_verdict_never_comes_due_by_default() -> None:
    found = due_of("outdated", today=dt.date(2036, 1, 1))
    assert (found.on, found.reasons, found.ever) == (NEVER, (), False)


def test_a_cleared_verdict_is_never_due() -> None:
    assert due_of("", evidence_changed_at=JAN_1 + dt.timedelta(days=1)) == recheck.NOT_DUE


def test_the_analysts_own_date_overrides_the_projects_freshness() -> None:
    later, sooner = dt.date(2027, 3, 1), dt.date(2026, 2, 1)
    assert due_of(recheck_by=later) == Due(later, (), later)  # past 180 days, yet not due
    assert due_of(recheck_by=sooner) == Due(sooner, (Reason.RECHECK_DATE,), sooner)


def test_a_recheck_date_is_spent_once_the_analyst_stands_by_the_verdict_on_or_after_it() -> None:
    confirmed = dt.datetime(2026, 2, 1, 12, tzinfo=UTC)
    found = due_of(checked_at=confirmed, recheck_by=dt.date(2026, 2, 1))
    assert found.on == dt.date(2026, 7, 31)  # the project's 180 days again, from then
    assert not found.is_due


def test_new_evidence_makes_a_verdict_due_at_once() -> None:
    later = dt.datetime(2026, 3, 5, 8, tzinfo=UTC)
    found = due_of(evidence_changed_at=later, today=dt.date(2026, 3, 5))
    assert found == Due(dt.date(2026, 3, 5), (Reason.NEW_EVIDENCE,), dt.date(2026, 6, 30))
    assert found.new_evidence
    assert found.explained == ["new evidence since your verdict"]


def test_evidence_is_new_to_every_analyst_but_the_one_who_changed_it() -> None:
    later = dt.datetime(2026, 3, 4, 12, tzinfo=UTC)
    today = dt.date(2026, 3, 5)
    assert due_of(evidence_changed_at=later, evidence_changed_by=ANALYST + 1, today=today).is_due
    assert due_of(evidence_changed_at=later, evidence_changed_by=None, today=today).is_due
    own = due_of(evidence_changed_at=later, evidence_changed_by=ANALYST, today=today)
    assert not own.is_due and own == due_of(today=today)


def test_evidence_changed_before_the_verdict_was_given_is_not_new() -> None:
    earlier = JAN_1 - dt.timedelta(seconds=1)
    assert not due_of(evidence_changed_at=earlier, today=dt.date(2026, 2, 1)).is_due
    assert not due_of(evidence_changed_at=JAN_1, today=dt.date(2026, 2, 1)).is_due


def test_a_new_wording_makes_a_verdict_due() -> None:
    revised = dt.datetime(2026, 2, 2, tzinfo=UTC)
    found = due_of(revised_at=revised, today=dt.date(2026, 2, 3))
    assert (found.on, found.reasons) == (dt.date(2026, 2, 2), (Reason.WORDING,))


def test_every_reason_is_listed_and_the_earliest_day_is_when_it_became_due() -> None:
    found = due_of(
        "disputed",
        evidence_changed_at=dt.datetime(2026, 5, 1, tzinfo=UTC),
        revised_at=dt.datetime(2026, 6, 1, tzinfo=UTC),
    )
    assert found.reasons == (Reason.OVERDUE, Reason.NEW_EVIDENCE, Reason.WORDING)
    assert found.on == dt.date(2026, 4, 1)
    assert found.reasons_text == "overdue, new evidence, wording changed"


def test_the_fold_knows_the_models_default_freshness() -> None:
    defaults = {
        status: Project._meta.get_field(f"fresh_{status}_days").default
        for status in DEFAULT_FRESHNESS
    }
    assert defaults == DEFAULT_FRESHNESS == Freshness().__dict__
    assert Freshness().described == "supported 180 days, disputed 90 days, outdated never"


# The same in SQL ------------------------------------------------------------------------


def set_row(verdict: Verdict, **fields: Any) -> None:
    """Stored values set directly: timestamps in the past, as time would leave them."""
    Verdict.objects.filter(pk=verdict.pk).update(**fields)


def set_claim(claim: Claim, **fields: Any) -> None:
    Claim.objects.filter(pk=claim.pk).update(**fields)


@pytest.mark.parametrize(
    ("freshness", "zone"),
    [
        (Freshness(), "UTC"),
        (Freshness(supported=None, disputed=1, outdated=30), "UTC"),
        # Another zone, with summer time: the days are where the site is.
        (Freshness(supported=100, disputed=45, outdated=None), "Europe/Berlin"),
    ],
    ids=["defaults", "other days", "another zone"],
)
def test_sql_finds_and_orders_what_the_pure_computation_says(
    project: Project, bob: Any, carol: Any, freshness: Freshness, zone: str
) -> None:
    with timezone.override(zone):
        sql_agrees_with_python(project, bob, carol, freshness)


def sql_agrees_with_python(project: Project, bob: Any, carol: Any, freshness: Freshness) -> None:
    article = make_article(project)
    claims = list(article.claims.order_by("start"))
    now = timezone.now()
    day, hour = dt.timedelta(days=1), dt.timedelta(hours=1)
    statuses = ["supported", "disputed", "outdated"]
    for i, claim in enumerate(claims):
        for j, person in enumerate((bob, carol)):
            verdict = claim.set_verdict(person, statuses[(i + j) % 3])
            # Days apart, and hours apart: some near midnight, in one zone or another.
            set_row(verdict, checked_at=now - (40 * i + 70 * j) * day - (7 * i + 11 * j) * hour)
    mine = Verdict.objects.get(claim=claims[0], analyst=bob)
    set_row(mine, recheck_by=timezone.localdate() + 3 * day)  # the analyst's own date
    spent = Verdict.objects.get(claim=claims[1], analyst=carol)
    set_row(spent, recheck_by=timezone.localdate() - 200 * day)  # before it was checked
    set_claim(claims[2], evidence_changed_at=now - 60 * day)
    # Changed by bob: new to carol's verdict there, not to bob's.
    set_claim(claims[1], evidence_changed_at=now - 20 * day, evidence_changed_by=bob)
    set_claim(claims[3], revised_at=now - 5 * day)
    claims[3].clear_verdict(carol, expected_version=1)

    rows = {v.pk: v for v in Verdict.objects.select_related("claim")}
    today = timezone.localdate()
    for ahead in (0, 10, 400):
        until = today + ahead * day
        found = recheck.coming_due(recheck.project_verdicts(project), freshness, until)
        expected = sorted(
            (computed.on, pk)
            for pk, v in rows.items()
            if (computed := recheck.verdict_due(v, v.claim, freshness, today)).on <= until
        )
        assert [(due_on, pk) for pk, due_on in found] == expected, ahead
    assert mine.pk in {pk for pk, _ in recheck.coming_due(rows_of(project), freshness, NEVER)}


def rows_of(project: Project) -> Any:
    return recheck.project_verdicts(project)


def test_a_page_of_the_due_is_three_queries_however_many_verdicts(
    project: Project, bob: Any, carol: Any, django_assert_num_queries: Any
) -> None:
    text = "Sized\n\n" + " ".join(f"Claim {i} holds." for i in range(30)) + "\n"
    for claim in make_article(project, text).claims.all():
        claim.set_verdict(bob, "supported")
        claim.add_evidence(carol, url="https://example.org/e", stance="context")
    Verdict.objects.update(checked_at=timezone.now() - dt.timedelta(days=1))
    found = recheck.coming_due(rows_of(project), Freshness(), timezone.localdate())
    with django_assert_num_queries(3):  # how many; a page of ids; what the page shows
        assert found.count() == 30
        page = recheck.rows(found[:10], Freshness(), timezone.localdate())
    assert [row.due.reasons for row in page] == [(Reason.NEW_EVIDENCE,)] * 10


# The verbs ------------------------------------------------------------------------------


def events(project: Project) -> list[dict[str, Any]]:
    bodies = AuditEvent.objects.filter(chain__project=project).order_by("seq")
    return [json.loads(body) for body in bodies.values_list("body", flat=True)]


def latest(project: Project) -> dict[str, Any]:
    return events(project)[-1]


def test_a_verdict_restarts_its_clock_and_records_its_recheck_date(
    project: Project, claim: Claim, bob: Any
) -> None:
    before = timezone.now()
    verdict = claim.set_verdict(bob, "supported", recheck_by=dt.date(2031, 5, 1))
    assert before <= verdict.checked_at <= timezone.now()
    assert Verdict.objects.get(pk=verdict.pk).recheck_by == dt.date(2031, 5, 1)
    assert latest(project)["after"] == {
        "status": "supported",
        "rationale": "",
        "as_of": None,
        "recheck_by": "2031-05-01",
    }
    set_row(verdict, checked_at=before - dt.timedelta(days=300))
    changed = claim.set_verdict(bob, "disputed", expected_version=1)
    assert changed.checked_at >= before and changed.recheck_by is None
    body = latest(project)
    assert (body["action"], body["before"]["recheck_by"]) == ("verdict.changed", "2031-05-01")
    assert body["after"] == {"status": "disputed", "rationale": "", "as_of": None}
    assert describe(body) == (
        "changed their verdict from supported, to re-check by 2031-05-01 to disputed"
    )


def test_changing_only_the_recheck_date_is_a_change(
    project: Project, claim: Claim, bob: Any
) -> None:
    claim.set_verdict(bob, "supported")
    claim.set_verdict(bob, "supported", recheck_by=dt.date(2030, 1, 1), expected_version=1)
    body = latest(project)
    assert body["action"] == "verdict.changed"
    assert (body["before"].get("recheck_by"), body["after"]["recheck_by"]) == (None, "2030-01-01")
    count = len(events(project))
    claim.set_verdict(bob, "supported", recheck_by=dt.date(2030, 1, 1), expected_version=2)
    assert len(events(project)) == count  # the same again: nothing to write


def test_confirming_writes_one_event_and_restarts_the_clock(
    project: Project, claim: Claim, bob: Any
) -> None:
    verdict = claim.set_verdict(bob, "outdated", rationale="Old.", as_of=dt.date(2022, 1, 1))
    set_row(verdict, checked_at=timezone.now() - dt.timedelta(days=400))
    count = len(events(project))
    started = timezone.now()
    confirmed = claim.confirm_verdict(bob, expected_version=1)
    assert len(events(project)) == count + 1
    row = Verdict.objects.get(pk=verdict.pk)
    assert (row.version, row.status, row.rationale, row.as_of) == (
        2,
        "outdated",
        "Old.",
        dt.date(2022, 1, 1),
    )
    assert row.checked_at >= started and confirmed.checked_at == row.checked_at
    body = latest(project)
    held = {"status": "outdated", "rationale": "Old.", "as_of": "2022-01-01"}
    assert (body["action"], body["actor"], body["before"], body["after"]) == (
        "verdict.confirmed",
        "bob",
        held,
        held,
    )
    assert body["target"] == {
        "type": "verdict",
        "claim": claim.pk,
        "article": claim.article_id,
        "analyst": "bob",
    }
    assert describe(body) == "confirmed their verdict still holds: outdated, since 2022-01-01"


def test_a_stale_confirmation_is_refused_and_writes_nothing(
    project: Project, claim: Claim, bob: Any
) -> None:
    claim.set_verdict(bob, "supported")
    claim.set_verdict(bob, "disputed", expected_version=1)
    count, row = len(events(project)), Verdict.objects.get(claim=claim, analyst=bob)
    with pytest.raises(Conflict) as caught:
        claim.confirm_verdict(bob, expected_version=1)
    assert caught.value.current.version == 2
    assert len(events(project)) == count
    assert Verdict.objects.get(pk=row.pk).checked_at == row.checked_at


def test_there_is_nothing_to_confirm_without_a_standing_verdict(
    project: Project, claim: Claim, bob: Any, victor: Any
) -> None:
    count = len(events(project))
    with pytest.raises(ValidationError, match="no verdict on this claim to confirm"):
        claim.confirm_verdict(bob, expected_version=0)
    claim.set_verdict(bob, "supported")
    claim.clear_verdict(bob, expected_version=1)
    with pytest.raises(ValidationError, match="no verdict"):
        claim.confirm_verdict(bob, expected_version=2)
    with pytest.raises(PermissionDenied):
        claim.confirm_verdict(victor, expected_version=0)
    assert len(events(project)) == count + 2


def test_adding_removing_and_restoring_evidence_reopens_the_verdicts_given_before(
    project: Project, claim: Claim, bob: Any, carol: Any
) -> None:
    freshness, today = Freshness.of(project), timezone.localdate()

    def new_evidence(person: Any) -> bool:
        fresh = Claim.objects.get(pk=claim.pk)
        verdict = Verdict.objects.get(claim=claim, analyst=person)
        return recheck.verdict_due(verdict, fresh, freshness, today).new_evidence

    claim.set_verdict(bob, "supported")
    assert Claim.objects.get(pk=claim.pk).evidence_changed_at is None
    evidence = claim.add_evidence(carol, url="https://example.org/a", stance="contradicts")
    assert new_evidence(bob)
    claim.confirm_verdict(bob, expected_version=1)
    assert not new_evidence(bob)
    evidence.remove(carol)
    assert new_evidence(bob)
    claim.set_verdict(bob, "disputed", expected_version=2)  # changing it is looking again
    assert not new_evidence(bob)
    claim.set_verdict(carol, "disputed")
    evidence.restore(carol)  # new to bob; carol has seen the evidence she brought back
    assert new_evidence(bob) and not new_evidence(carol)
    stamped = Claim.objects.get(pk=claim.pk).evidence_changed_at
    assert stamped is not None and stamped > Verdict.objects.get(analyst=carol).checked_at


def test_evidence_an_analyst_changes_is_not_new_to_them(
    project: Project, claim: Claim, bob: Any, carol: Any
) -> None:
    """Tagging a claim and then adding the evidence for it is the daily round: it must not
    make the verdict just given due. The change is new to every other verdict before it,
    and the analyst who made it has seen the claim's evidence as it now stands."""
    freshness, today = Freshness.of(project), timezone.localdate()

    def new_to() -> set[str]:
        """Whose verdicts have new evidence: in Python, in the Due queue's SQL, and on the
        consensus screen's flags, which must agree."""
        fresh = Claim.objects.get(pk=claim.pk)
        verdicts = Verdict.objects.filter(claim=claim).select_related("analyst")
        python = {
            v.analyst.username
            for v in verdicts
            if recheck.verdict_due(v, fresh, freshness, today).new_evidence
        }
        due_now = recheck.coming_due(recheck.project_verdicts(project), freshness, today)
        sql = set(
            Verdict.objects.filter(pk__in=[pk for pk, _on in due_now]).values_list(
                "analyst__username", flat=True
            )
        )
        flags = {name for _claim, name in recheck.new_evidence_since([claim.pk])}
        assert python == sql == flags
        return python

    claim.set_verdict(bob, "supported")
    claim.set_verdict(carol, "disputed")
    bobs = claim.add_evidence(bob, url="https://example.org/a", stance="supports")
    assert new_to() == {"carol"}
    claim.confirm_verdict(carol, expected_version=1)
    assert new_to() == set()
    theirs = claim.add_evidence(carol, url="https://example.org/b", stance="contradicts")
    assert new_to() == {"bob"}
    bobs.remove(bob)  # bob looked at the evidence as it stands now
    assert new_to() == {"carol"}
    theirs.remove(carol)
    assert new_to() == {"bob"}


def test_a_split_copies_the_clocks_and_a_merge_keeps_the_newest_evidence(
    project: Project, article: Any, bob: Any, carol: Any, rita: Any
) -> None:
    first = article.claims.order_by("start").first()
    verdict = first.set_verdict(bob, "supported", recheck_by=dt.date(2031, 1, 1))
    set_row(verdict, checked_at=timezone.now() - dt.timedelta(days=10))
    first.add_evidence(carol, url="https://example.org/e", stance="context")
    first.refresh_from_db()
    left, right = first.split(rita, at=first.start + first.text.index(" ") + 1, expected_version=1)
    copy = Verdict.objects.get(claim=right, analyst=bob)
    original = Verdict.objects.get(pk=verdict.pk)
    assert (copy.checked_at, copy.recheck_by) == (original.checked_at, original.recheck_by)
    left_clock = Claim.objects.get(pk=left.pk).evidence_clock
    assert right.evidence_clock == left_clock and left_clock[1] == carol.pk
    added = right.add_evidence(carol, url="https://example.org/new", stance="supports")
    left.refresh_from_db()
    merged = left.merge_next(rita, expected_version=left.version)
    assert merged.evidence_clock == Claim.objects.get(pk=merged.pk).evidence_clock
    assert merged.evidence_changed_at >= added.added_at
    # Moved from another claim: new to every verdict here, carol's too.
    assert merged.evidence_changed_by is None
    assert integrity.verify_project(project).intact


def test_the_freshness_is_set_by_admins_in_one_event(
    project: Project, alice: Any, rita: Any
) -> None:
    wanted = {"supported": 365, "disputed": 30, "outdated": 730}
    with pytest.raises(PermissionDenied):
        project.set_freshness(rita, wanted)
    count = len(events(project))
    project.set_freshness(alice, wanted)
    assert Project.objects.get(pk=project.pk).freshness() == wanted
    body = latest(project)
    assert (body["action"], body["actor"], body["target"]) == (
        "project.freshness_changed",
        "alice",
        {"type": "project", "slug": "demo"},
    )
    assert (body["before"], body["after"]) == (DEFAULT_FRESHNESS, wanted)
    assert describe(body) == (
        "set how long verdicts stay fresh to supported 365 days, disputed 30 days, outdated "
        "730 days (was supported 180 days, disputed 90 days, outdated never)"
    )
    project.set_freshness(alice, dict(wanted))  # nothing changes: no event
    assert len(events(project)) == count + 1


@pytest.mark.parametrize(
    "wanted",
    [
        {"supported": 0, "disputed": 90, "outdated": None},
        {"supported": 3651, "disputed": 90, "outdated": None},
        {"supported": 180, "disputed": 90},
        {"supported": 180, "disputed": "90", "outdated": None},
    ],
)
def test_freshness_out_of_bounds_is_refused(project: Project, alice: Any, wanted: Any) -> None:
    count = len(events(project))
    with pytest.raises(ValidationError, match="from 1 to 3650"):
        project.set_freshness(alice, wanted)
    assert len(events(project)) == count
    assert Project.objects.get(pk=project.pk).freshness() == DEFAULT_FRESHNESS


def test_a_project_created_with_its_own_freshness_says_so(db: Any, alice: Any) -> None:
    plain = make_project("plain", admin=alice)
    assert "freshness" not in latest(plain)["after"]
    own = make_project("own", admin=alice, fresh_supported_days=30, fresh_outdated_days=365)
    assert latest(own)["after"]["freshness"] == {
        "supported": 30,
        "disputed": 90,
        "outdated": 365,
    }
    assert integrity.verify_project(own).intact


# The log --------------------------------------------------------------------------------


@pytest.fixture
def history(project: Project, article: Any, alice: Any, bob: Any, carol: Any) -> Project:
    """Every re-check event, among verdicts and evidence."""
    first, second = article.claims.order_by("start")[:2]
    first.set_verdict(bob, "supported", recheck_by=dt.date(2030, 6, 1))
    first.set_verdict(carol, "disputed")
    first.add_evidence(carol, url="https://example.org/x", stance="contradicts")
    first.confirm_verdict(bob, expected_version=1)
    second.set_verdict(bob, "outdated", recheck_by=dt.date(2029, 1, 1))
    second.set_verdict(bob, "outdated", expected_version=1)  # the date taken away
    project.set_freshness(alice, {"supported": 200, "disputed": None, "outdated": 400})
    return project


def test_the_fold_equals_the_database_after_the_recheck_events(history: Project) -> None:
    logged = fold(events(history))
    live = integrity.snapshot(history)
    assert integrity.table_rows(logged) == integrity.table_rows(live)
    assert logged.project is not None
    assert logged.project.freshness == {"supported": 200, "disputed": None, "outdated": 400}
    bobs = [v for (claim, name), v in logged.verdicts.items() if name == "bob"]
    assert sorted((v.recheck_by or "", v.version) for v in bobs) == [("", 2), ("2030-06-01", 2)]
    assert integrity.verify_project(history).intact


def test_a_recheck_date_changed_behind_the_logs_back_is_found(history: Project) -> None:
    Verdict.objects.filter(recheck_by__isnull=False).update(recheck_by=dt.date(2040, 1, 1))
    report = integrity.verify_project(history)
    assert report.difference is not None
    assert (report.difference.table, report.difference.field) == ("verdicts", "recheck_by")


def test_freshness_changed_behind_the_logs_back_is_found(history: Project) -> None:
    Project.objects.filter(pk=history.pk).update(fresh_disputed_days=7)
    report = integrity.verify_project(history)
    assert report.difference is not None
    assert (report.difference.table, report.difference.field) == ("projects", "freshness")


def test_a_confirmation_made_behind_the_logs_back_is_found(history: Project) -> None:
    Verdict.objects.filter(analyst__username="carol").update(version=2)
    report = integrity.verify_project(history)
    assert report.difference is not None and report.difference.field == "version"


def test_a_signed_export_of_the_recheck_events_verifies(
    history: Project, tmp_path: Any, monkeypatch: Any, capsys: Any
) -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv(signing.ENV_KEY, base64.b64encode(raw).decode("ascii"))
    monkeypatch.delenv(signing.ENV_KEY_FILE, raising=False)
    export = tmp_path / "audit.jsonl"
    export.write_text("".join(start_export(history, "jsonl", actor=None).chunks), newline="")
    public = tmp_path / "public.pem"
    public.write_text(signing.public_key_pem(key))
    text = export.read_text()
    assert "verdict.confirmed" in text and "project.freshness_changed" in text
    assert verify_export.main([str(export), "--public-key", str(public)]) == 0
    assert capsys.readouterr().out.startswith("OK: project demo, ")


def test_an_analyst_may_confirm_only_their_own_verdict(
    project: Project, claim: Claim, bob: Any, carol: Any
) -> None:
    claim.set_verdict(bob, "supported")
    with pytest.raises(ValidationError):
        claim.confirm_verdict(carol, expected_version=0)
    dana = make_user("dana")
    add_member(project, dana, Role.ANALYST)
    with pytest.raises(ValidationError):
        claim.confirm_verdict(dana, expected_version=0)
    assert Verdict.objects.get(claim=claim, analyst=bob).version == 1
