"""Evidence is never duplicated: not by a split followed by a merge, and not by the same
form submitted twice (a double click, a retried request, two at once)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from claims.models import AuditEvent, Claim, Evidence
from tests.base import HTMX, client_for, run_on_sqlite_file
from tests.factories import make_article, make_project, make_user
from tests.tampering import purge_audit_events
from tests.test_fold import as_database, database, folded


def events() -> int:
    return AuditEvent.objects.count()


def split_in_two(claim: Claim, rita: Any) -> tuple[Claim, Claim]:
    claim.refresh_from_db()
    at = claim.start + claim.text.index(" ") + 1
    return claim.split(rita, at=at, expected_version=claim.version)


def live(claim: Claim) -> list[tuple[str, str]]:
    rows = claim.evidence.filter(removed_at__isnull=True).order_by("url")
    return list(rows.values_list("url", "added_by__username"))


# Split, then merge ----------------------------------------------------------------------


def test_split_then_merge_keeps_each_evidence_once(
    project: Any, claim: Claim, bob: Any, carol: Any, rita: Any
) -> None:
    claim.add_evidence(bob, url="https://example.org/a", stance="supports", title="A")
    claim.add_evidence(carol, url="https://example.org/b", stance="context")
    left, right = split_in_two(claim, rita)
    right.add_evidence(bob, url="https://example.org/c", stance="contradicts")
    assert right.evidence.count() == 3  # the copies, and one of its own

    merged = left.merge_next(rita, expected_version=left.version)

    assert live(merged) == [
        ("https://example.org/a", "bob"),
        ("https://example.org/b", "carol"),
        ("https://example.org/c", "bob"),
    ]
    assert merged.evidence.count() == 3  # no hidden second copy either
    event = json.loads(AuditEvent.objects.latest("seq").body)
    assert event["action"] == "claim.merged"
    assert len(event["after"]["evidence_moved"]) == 1
    assert len(event["after"]["evidence_dropped"]) == 2
    assert as_database(folded(project)) == database(project)


def test_merge_keeps_the_copy_still_in_place_when_the_other_was_removed(
    project: Any, claim: Claim, bob: Any, rita: Any
) -> None:
    original = claim.add_evidence(bob, url="https://example.org/a", stance="supports")
    left, right = split_in_two(claim, rita)
    original.refresh_from_db()
    original.remove(bob)  # removed from the left part only; the right's copy stands

    merged = left.merge_next(rita, expected_version=left.version)

    assert live(merged) == [("https://example.org/a", "bob")]
    assert merged.evidence.count() == 1
    assert as_database(folded(project)) == database(project)


def test_merge_keeps_evidence_that_differs(project: Any, claim: Claim, bob: Any, rita: Any) -> None:
    claim.add_evidence(bob, url="https://example.org/a", stance="supports")
    left, right = split_in_two(claim, rita)
    right.add_evidence(bob, url="https://example.org/a", stance="contradicts")  # another stance

    merged = left.merge_next(rita, expected_version=left.version)

    stances = sorted(merged.evidence.values_list("stance", flat=True))
    assert stances == ["contradicts", "supports"]
    assert as_database(folded(project)) == database(project)


# One submission, one row ------------------------------------------------------------------


def test_the_same_submission_twice_adds_the_evidence_once(claim: Claim, bob: Any) -> None:
    data = {"url": "https://example.org/a", "stance": "supports", "submission": uuid.uuid4()}
    before = events()
    first = claim.add_evidence(bob, **data)
    again = claim.add_evidence(bob, **data)
    assert again.pk == first.pk
    assert Evidence.objects.count() == 1
    assert events() == before + 1


def test_two_submissions_add_two_rows(claim: Claim, bob: Any) -> None:
    for _ in range(2):
        claim.add_evidence(
            bob, url="https://example.org/a", stance="supports", submission=uuid.uuid4()
        )
    assert Evidence.objects.count() == 2


def test_the_database_refuses_a_second_row_for_one_submission(claim: Claim, bob: Any) -> None:
    data = {"url": "https://example.org/a", "stance": "supports", "submission": uuid.uuid4()}
    claim.add_evidence(bob, **data)
    with pytest.raises(IntegrityError), transaction.atomic():
        Evidence.objects.create(claim=claim, added_by=bob, **data)  # behind the verb's back


class Inputs(HTMLParser):
    """The value of every input by name, in the order they appear."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name"):
            self.values.setdefault(found["name"] or "", []).append(found.get("value") or "")


def submission_token(html: str) -> str:
    parser = Inputs()
    parser.feed(html)
    (token,) = parser.values["evidence-submission"]
    return token


def test_the_evidence_form_carries_a_fresh_token_each_time(claim: Claim, bob: Any) -> None:
    panel = reverse("claim-panel", args=["demo", claim.pk])
    first = submission_token(client_for(bob).get(panel, **HTMX).content.decode())
    second = submission_token(client_for(bob).get(panel, **HTMX).content.decode())
    assert uuid.UUID(first) != uuid.UUID(second)


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_a_form_posted_twice_adds_one_row_and_one_event(
    claim: Claim, bob: Any, headers: dict[str, str]
) -> None:
    token = str(uuid.uuid4())
    data = {
        "evidence-url": "https://example.org/report",
        "evidence-title": "Report",
        "evidence-stance": "supports",
        "evidence-submission": token,
    }
    add = reverse("evidence-add", args=["demo", claim.pk])
    client = client_for(bob)
    before = events()
    first = client.post(add, data, **headers)
    second = client.post(add, data, **headers)
    assert first.status_code == second.status_code == (200 if headers else 302)
    if headers:  # the replay answers as the first did: the panel and its event
        assert first["HX-Trigger"] == second["HX-Trigger"]
        assert "https://example.org/report" in second.content.decode()
    else:
        assert first["Location"] == second["Location"]
    assert Evidence.objects.count() == 1
    assert events() == before + 1


@pytest.fixture
def committed(transactional_db: Any) -> Iterator[None]:
    """Rows commit for real so that each thread's connection sees them."""
    yield
    purge_audit_events()


# Runs double_submit() in a fresh interpreter whose settings point at a SQLite file, as
# production's are (WAL, BEGIN IMMEDIATE): the test database for SQLite lives in memory.
SUBPROCESS_SCRIPT = """
import json
import django
django.setup()
from django.conf import settings
settings.DEBUG = False
from django.core.management import call_command
from tests.test_evidence_idempotency import double_submit
call_command("migrate", verbosity=0)
print(json.dumps(double_submit()))
"""


def double_submit(threads: int = 2) -> dict[str, Any]:
    """One evidence form posted by several threads at once, each on its own connection."""
    analyst = make_user("twin")
    project = make_project("twins", admin=analyst)
    claim = make_article(project).claims.order_by("start").first()
    assert claim is not None
    token = uuid.uuid4()
    before = AuditEvent.objects.count()
    barrier = threading.Barrier(threads)
    results: list[Any] = []

    def submit() -> None:
        try:
            mine = Claim.objects.select_related("article__project").get(pk=claim.pk)
            barrier.wait(timeout=10)
            added = mine.add_evidence(
                analyst, url="https://example.org/a", stance="supports", submission=token
            )
            results.append(added.pk)
        except Exception as exc:  # a failure must show, not vanish with the thread
            results.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    workers = [threading.Thread(target=submit) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {
        "vendor": connection.vendor,
        "transaction_mode": connection.settings_dict["OPTIONS"].get("transaction_mode"),
        "results": results,
        "rows": Evidence.objects.filter(claim=claim).count(),
        "events": AuditEvent.objects.count() - before,
    }


def double_submit_in_sqlite_file(path: Path) -> dict[str, Any]:
    return run_on_sqlite_file(SUBPROCESS_SCRIPT, path)


def test_identical_submissions_at_once_add_one_row_and_one_event(
    committed: Any, tmp_path: Path
) -> None:
    if connection.vendor == "sqlite":
        outcome = double_submit_in_sqlite_file(tmp_path / "twins.sqlite3")
        assert outcome["transaction_mode"] == "IMMEDIATE"
    else:
        outcome = double_submit(threads=4)
    results = outcome["results"]
    assert all(isinstance(pk, int) for pk in results), results
    assert len(set(results)) == 1  # every post is answered with the same evidence
    assert (outcome["rows"], outcome["events"]) == (1, 1)
