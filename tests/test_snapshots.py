"""Evidence snapshots against pages served on 127.0.0.1 by the tests: a page read when its
evidence is added, with the quote found or reported missing; re-checks that find it
changed, moved or gone, reopen the verdicts resting on it and say so in one event; the
snapshot page and the panel's line beside the link.

Tasks run at once here (Django's ``ImmediateBackend``): these tests are about what a check
finds, not the worker (``tests/test_tasks.py`` runs a real one). Every connection and name
lookup is watched: nothing may leave 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.tasks.backends.base import BaseTaskBackend
from django.utils import timezone

from claims import recheck, snapshots
from claims.log.integrity import verify_project
from claims.models import AuditEvent, Claim, Evidence, EvidenceSnapshot, PageState, Role
from tests.base import HTMX, client_for, html, url
from tests.factories import add_member, make_article, make_project
from tests.webpages import ARTICLE_PAGE, Page, redirect, serve

LOOPBACK = ["127.0.0.1/32"]
QUOTE = "“Container traffic DOUBLED  in the year after the dredging”"
CHANGED_PAGE = ARTICLE_PAGE.replace(b"212 vessels", b"250 vessels")


@pytest.fixture(autouse=True)
def immediate_tasks_on_loopback(settings: Any) -> None:
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = LOOPBACK
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: Any) -> list[Any]:
    """Every connection and name lookup of the test, refused (and failing the test) unless
    it stays on 127.0.0.1."""
    outside: list[Any] = []
    connect, lookup = socket.socket.connect, socket.getaddrinfo

    def guarded_connect(sock: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "localhost"):
            outside.append(address)
            raise OSError("the tests stay on 127.0.0.1")
        return connect(sock, address)

    def guarded_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "localhost", None):
            outside.append(host)
            raise socket.gaierror("the tests stay on 127.0.0.1")
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_lookup)
    yield outside
    assert outside == [], f"the test reached beyond 127.0.0.1: {outside}"


def add(claim: Claim, who: Any, link: str, capture: Any, quote: str = QUOTE) -> Evidence:
    """Evidence added as a view adds it: its first snapshot is taken once it commits."""
    with capture(execute=True):
        return claim.add_evidence(who, url=link, stance="supports", quote=quote)


def checks(evidence: Evidence) -> list[EvidenceSnapshot]:
    return list(EvidenceSnapshot.objects.filter(evidence=evidence).order_by("pk"))


def page_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="evidence.page_changed").order_by("seq"))


def due_reasons(claim: Claim, who: Any) -> tuple[str, ...]:
    claim = Claim.objects.get(pk=claim.pk)
    verdict = claim.verdicts.get(analyst=who)
    freshness = recheck.Freshness.of(claim.article.project)
    return recheck.verdict_due(verdict, claim, freshness, timezone.localdate()).reasons


# The first snapshot ------------------------------------------------------------------------


def test_new_evidence_has_its_page_read_with_the_quote_found(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with serve({"/story": Page(ARTICLE_PAGE)}) as server:
        evidence = add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
    (check,) = checks(evidence)
    assert check.state == PageState.OK and not check.flagged
    assert check.title == "Harbour dredging doubled the port's traffic"
    assert (check.final_url, check.http_status) == (server.url("/story"), 200)
    assert "212 vessels called at the port" in check.text and "SuperPhone" not in check.text
    assert len(check.sha256) == 64
    assert check.quote_found is True
    assert check.text[check.quote_start : check.quote_end].lower() == (
        "container traffic doubled in the year after the dredging"
    )
    # Derived data from the web: adding the evidence is the only event.
    assert list(AuditEvent.objects.filter(claim_id=claim.pk).values_list("action", flat=True)) == [
        "evidence.added"
    ]


def test_a_quote_not_on_the_page_is_reported_missing(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with serve({"/story": Page(ARTICLE_PAGE)}) as server:
        evidence = add(
            claim, bob, server.url("/story"), django_capture_on_commit_callbacks, "400 new jobs"
        )
    (check,) = checks(evidence)
    assert (check.state, check.quote_found, check.quote_start) == (PageState.OK, False, None)
    panel = client_for(bob).get(url("claim-panel", claim.pk), **HTMX)
    line = html(panel).select("span", class_="snapshot")[0].content()
    assert "quote not found" in line and "Harbour dredging doubled" in line


def test_evidence_without_a_quote_has_none_to_find(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with serve({"/story": Page(ARTICLE_PAGE)}) as server:
        evidence = add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks, "")
    assert checks(evidence)[0].quote_found is None


def test_no_snapshot_is_taken_when_they_are_turned_off(
    claim: Claim, bob: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CLAIMS_SNAPSHOT_EVIDENCE = False
    with serve({"/story": Page(ARTICLE_PAGE)}) as server:
        evidence = add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
        assert server.requests == []
    assert checks(evidence) == []


def test_a_refused_evidence_write_queues_nothing(
    claim: Claim, victor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as queued, pytest.raises(Exception):  # noqa: B017
        claim.add_evidence(victor, url="https://example.org/", stance="supports")
    assert queued == [] and not EvidenceSnapshot.objects.exists()


class DownQueue(BaseTaskBackend):
    """A task queue whose database or broker is unreachable."""

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        raise ConnectionError("the queue is down")


def test_evidence_is_saved_when_the_queue_is_down(
    claim: Claim, bob: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "tests.test_snapshots.DownQueue"}}
    data = {"evidence-url": "https://example.org/a", "evidence-stance": "supports"}
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client_for(bob).post(url("evidence-add", claim.pk), data)
    assert response.status_code == 302 and len(queued) == 1
    (evidence,) = Evidence.objects.filter(claim=claim)
    assert checks(evidence) == []
    assert list(snapshots.stale_evidence()) == [evidence]  # the re-check reads it later


def test_the_quote_is_found_whatever_its_marks_spaces_and_case() -> None:
    text = "He said: ‘We will not\n  move’ — and left.\u00a0The ﬁnal word."
    start, end = snapshots.locate_quote('"we will not move" - AND LEFT', text) or (0, 0)
    assert text[start:end] == "We will not\n  move’ — and left"
    assert snapshots.locate_quote("the final word", text) is not None
    assert snapshots.locate_quote("we will move", text) is None
    assert snapshots.locate_quote(" “ ” ", text) is None


# Re-checks: changed, moved, gone ---------------------------------------------------------


def test_a_changed_page_reopens_the_verdicts_with_a_diff(
    claim: Claim, bob: Any, carol: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pages = {"/story": Page(ARTICLE_PAGE)}
    with serve(pages) as server:
        add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
        claim.set_verdict(bob, "supported")
        claim.set_verdict(carol, "disputed")
        assert due_reasons(claim, bob) == ()
        # Unchanged: a check, no flag, no event, nothing due.
        (same,) = snapshots.recheck(days=0)
        assert (same.state, same.flagged, same.diff) == (PageState.OK, False, "")
        assert page_events() == [] and due_reasons(claim, bob) == ()
        pages["/story"] = Page(CHANGED_PAGE)
        (changed,) = snapshots.recheck(days=0)
    assert (changed.state, changed.flagged) == (PageState.CHANGED, True)
    assert "-Shipping records show that 212 vessels" in changed.diff
    assert "+Shipping records show that 250 vessels" in changed.diff
    assert changed.sha256 != same.sha256
    assert due_reasons(claim, bob) == due_reasons(claim, carol) == (recheck.Reason.NEW_EVIDENCE,)
    (event,) = page_events()
    assert (event.actor, event.claim_id, event.article_id) == (None, claim.pk, claim.article_id)
    body = AuditEvent.objects.get(pk=event.pk).body
    assert f'"snapshot":{changed.pk}' in body and '"page":"changed"' in body
    assert verify_project(claim.article.project).problem is None
    history = client_for(bob).get(url("claim-history", claim.pk)).content.decode()
    assert "found that the page of evidence" in history and "changed" in history


def test_a_moved_page_is_flagged_with_where_it_went(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pages = {"/story": Page(ARTICLE_PAGE), "/archive/story": Page(ARTICLE_PAGE)}
    with serve(pages) as server:
        evidence = add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
        claim.set_verdict(bob, "supported")
        pages["/story"] = redirect("/archive/story", 301)
        (moved,) = snapshots.recheck(days=0)
        # Still there on the next check: read, not moved again, nothing new to look at.
        (stayed,) = snapshots.recheck(days=0)
    assert (moved.state, moved.flagged, moved.final_url) == (
        PageState.MOVED,
        True,
        server.url("/archive/story"),
    )
    assert moved.diff == "" and moved.sha256 == checks(evidence)[0].sha256
    assert (stayed.state, stayed.flagged) == (PageState.OK, False)
    assert due_reasons(claim, bob) == (recheck.Reason.NEW_EVIDENCE,)
    (event,) = page_events()
    assert f"moved to {server.url('/archive/story')}" in event.body
    panel = client_for(bob).get(url("claim-panel", claim.pk), **HTMX).content.decode()
    assert "Moved to 127.0.0.1</strong>; read" in " ".join(panel.split())


def test_a_page_that_dies_is_flagged_once(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pages = {"/story": Page(ARTICLE_PAGE)}
    with serve(pages) as server:
        evidence = add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
        del pages["/story"]  # the server answers 404
        (gone,) = snapshots.recheck(days=0)
        (still,) = snapshots.recheck(days=0)
    assert (gone.state, gone.http_status, gone.flagged) == (PageState.DEAD, 404, True)
    assert (still.state, still.flagged) == (PageState.DEAD, False)
    assert len(page_events()) == 1 and "is gone (404)" in page_events()[0].body
    panel = client_for(bob).get(url("claim-panel", claim.pk), **HTMX)
    assert "Page gone" in html(panel).select("span", class_="snapshot")[0].content()
    assert len(checks(evidence)) == 3


def test_a_page_whose_server_is_gone_is_dead(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with serve({"/story": Page(ARTICLE_PAGE)}) as server:
        evidence = add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
    # The server has stopped: its port refuses connections.
    (gone,) = snapshots.recheck(days=0)
    assert (gone.state, gone.http_status, gone.flagged) == (PageState.DEAD, None, True)
    assert "connection refused" in gone.error
    assert checks(evidence)[-1] == gone


def test_a_page_back_from_the_dead_unchanged_is_not_news(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pages = {"/story": Page(ARTICLE_PAGE)}
    with serve(pages) as server:
        add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
        pages["/story"] = Page(b"down for maintenance", status=503)
        snapshots.recheck(days=0).__next__()
        pages["/story"] = Page(ARTICLE_PAGE)
        (back,) = snapshots.recheck(days=0)
    assert (back.state, back.flagged) == (PageState.OK, False)
    assert len(page_events()) == 1  # the outage only


def test_refused_pages_are_kept_as_refused_and_never_flag(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any, only_loopback: list[Any]
) -> None:
    pages = {"/story": Page(ARTICLE_PAGE)}
    with serve(pages) as server:
        add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
        # A redirect inside a private network is refused before any connection is made.
        pages["/story"] = redirect("http://10.20.30.40/admin")
        (inside,) = snapshots.recheck(days=0)
        pages["/story"] = Page(b"%PDF-1.4", headers={"Content-Type": "application/pdf"})
        (pdf,) = snapshots.recheck(days=0)
    assert (inside.state, inside.flagged) == (PageState.REFUSED, False)
    assert "private or local address" in inside.error
    assert (pdf.state, pdf.http_status) == (PageState.REFUSED, 200)
    assert page_events() == [] and only_loopback == []
    assert [path for path, _host in server.requests] == ["/story", "/story", "/story"]


def test_a_page_without_text_is_an_error_not_a_change(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pages = {"/story": Page(ARTICLE_PAGE)}
    with serve(pages) as server:
        add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
        pages["/story"] = Page(b"<html><body></body></html>")
        (empty,) = snapshots.recheck(days=0)
    assert (empty.state, empty.flagged, empty.text) == (PageState.ERROR, False, "")
    assert empty.error


# Which evidence is re-checked -------------------------------------------------------------


def test_only_stale_evidence_in_place_is_rechecked(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.CLAIMS_RECHECK_EVIDENCE_DAYS = 30
    with serve({"/a": Page(ARTICLE_PAGE), "/b": Page(ARTICLE_PAGE)}) as server:
        fresh = add(claim, bob, server.url("/a"), django_capture_on_commit_callbacks)
        old = add(claim, bob, server.url("/b"), django_capture_on_commit_callbacks)
        removed = claim.add_evidence(bob, url=server.url("/c"), stance="context")  # never read
        never = claim.add_evidence(bob, url=server.url("/d"), stance="context")
        removed.remove(bob)
        EvidenceSnapshot.objects.filter(evidence=old).update(
            fetched_at=timezone.now() - dt.timedelta(days=31)
        )
        assert list(snapshots.stale_evidence()) == [never, old]
        assert [s.evidence_id for s in snapshots.recheck()] == [never.pk, old.pk]
        assert list(snapshots.stale_evidence()) == []
    assert len(checks(fresh)) == 1 and checks(removed) == []


def test_the_recheck_command_reports_each_page(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any, capsys: Any
) -> None:
    pages = {"/story": Page(ARTICLE_PAGE)}
    with serve(pages) as server:
        add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
        pages["/story"] = Page(CHANGED_PAGE)
        call_command("recheck_evidence", "--days", "0")
    out, err = capsys.readouterr()
    assert "Evidence " in out and "the page changed; its verdicts are due again." in out
    assert "Checked 1 pages (1 page changed); 1 flagged." in out
    assert "Re-checking evidence: done, 1/1 pages" in err
    call_command("recheck_evidence")  # checked just now: nothing is due
    assert "Checked 0 pages (none due); 0 flagged." in capsys.readouterr().out


def test_the_recheck_command_refuses_bad_numbers(db: Any) -> None:
    for option in (["--days", "-1"], ["--limit", "0"]):
        with pytest.raises(CommandError):
            call_command("recheck_evidence", *option)


def test_the_recheck_task_queues_one_check_per_stale_page(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with serve({"/a": Page(ARTICLE_PAGE), "/b": Page(CHANGED_PAGE)}) as server:
        first = add(claim, bob, server.url("/a"), django_capture_on_commit_callbacks)
        second = add(claim, bob, server.url("/b"), django_capture_on_commit_callbacks)
        result = snapshots.recheck_evidence.enqueue(0)
    assert result.return_value == 2
    assert len(checks(first)) == len(checks(second)) == 2


def test_evidence_removed_before_its_recheck_reopens_nothing(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pages = {"/story": Page(ARTICLE_PAGE)}
    with serve(pages) as server:
        evidence = add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
        pages["/story"] = Page(CHANGED_PAGE)
        observed = snapshots.observe(Evidence.objects.get(pk=evidence.pk))
    evidence.remove(bob)
    kept = EvidenceSnapshot.record(observed)
    assert (kept.state, kept.flagged) == (PageState.CHANGED, False)
    assert page_events() == []


def test_the_snapshot_task_of_deleted_evidence_does_nothing(db: Any) -> None:
    assert snapshots.snapshot_evidence.call(10**9) == "gone"


# The snapshot page -------------------------------------------------------------------------


def test_the_snapshot_page_shows_the_text_with_the_quote_marked_and_the_diff(
    claim: Claim, bob: Any, rita: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pages = {"/story": Page(ARTICLE_PAGE)}
    with serve(pages) as server:
        evidence = add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
        pages["/story"] = Page(CHANGED_PAGE)
        (changed,) = snapshots.recheck(days=0)
    first = checks(evidence)[0]
    client = client_for(rita)
    page = html(client.get(url("evidence-snapshot", evidence.pk)))
    (mark,) = page.select("mark", id="quote")
    assert mark.content().lower() == "container traffic doubled in the year after the dredging"
    diff = page.by_id("snapshot-diff")
    assert [n.content() for n in diff.select("del")] == [
        "-Shipping records show that 212 vessels called at the port last year, compared with "
        "105 the year before, while the average ship was a third larger than in 2022."
    ]
    assert "250 vessels" in diff.select("ins")[0].content()
    assert "Page changed" in page.by_id("snapshot").content()
    links = page.select("a", href=f"?check={first.pk}")
    assert links and page.select("a", href=f"?check={changed.pk}", aria_current="page")
    # An earlier check in full: its own text, no diff.
    earlier = html(client.get(url("evidence-snapshot", evidence.pk) + f"?check={first.pk}"))
    assert "212 vessels" in earlier.by_id("snapshot-text").content()
    assert not earlier.find(lambda n: n.attrs.get("id") == "snapshot-diff")


def test_the_panel_links_each_read_page_to_its_snapshot(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with serve({"/story": Page(ARTICLE_PAGE)}) as server:
        evidence = add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
    unread = claim.add_evidence(bob, url="https://example.org/later", stance="context")
    panel = html(client_for(bob).get(url("claim-panel", claim.pk), **HTMX))
    (line,) = panel.select("span", class_="snapshot")
    assert "Read “Harbour dredging doubled the port's traffic”, quote found" in " ".join(
        line.content().split()
    )
    assert panel.select("a", href=url("evidence-snapshot", evidence.pk))
    assert not panel.select("a", href=url("evidence-snapshot", unread.pk))


def test_a_snapshot_page_before_the_first_check_says_so(claim: Claim, bob: Any) -> None:
    evidence = claim.add_evidence(bob, url="https://example.org/later", stance="context")
    response = client_for(bob).get(url("evidence-snapshot", evidence.pk))
    assert response.status_code == 200 and "has not been read yet" in response.content.decode()


@pytest.mark.parametrize("check", ["abc", "99999999", "-1", "1" * 30])
def test_a_check_that_is_not_this_evidences_is_404(
    claim: Claim, bob: Any, check: str, django_capture_on_commit_callbacks: Any
) -> None:
    with serve({"/a": Page(ARTICLE_PAGE), "/b": Page(ARTICLE_PAGE)}) as server:
        evidence = add(claim, bob, server.url("/a"), django_capture_on_commit_callbacks)
        other = add(claim, bob, server.url("/b"), django_capture_on_commit_callbacks)
    client = client_for(bob)
    assert client.get(url("evidence-snapshot", evidence.pk) + f"?check={check}").status_code == 404
    foreign = checks(other)[0].pk
    target = url("evidence-snapshot", evidence.pk) + f"?check={foreign}"
    assert client.get(target).status_code == 404


def test_the_snapshot_page_refuses_writes(claim: Claim, bob: Any) -> None:
    evidence = claim.add_evidence(bob, url="https://example.org/later", stance="context")
    assert client_for(bob).post(url("evidence-snapshot", evidence.pk)).status_code == 405


def test_blind_review_hides_others_snapshots_until_you_tag(
    alice: Any, bob: Any, carol: Any, rita: Any, victor: Any, mallory: Any
) -> None:
    project = make_project("blind", admin=alice, blind=True)
    for person, role in ((bob, Role.ANALYST), (carol, Role.ANALYST), (rita, Role.REVIEWER)):
        add_member(project, person, role)
    add_member(project, victor, Role.VIEWER)
    claim = make_article(project).claims.order_by("ordinal").first()
    assert claim is not None
    evidence = claim.add_evidence(bob, url="https://example.org/a", stance="supports")
    EvidenceSnapshot.record(
        EvidenceSnapshot(evidence=evidence, state=PageState.OK, final_url=evidence.url, text="x")
    )
    target = f"/p/blind/evidence/{evidence.pk}/snapshot/"
    seen = {p.username: client_for(p).get(target).status_code for p in (bob, carol, rita, alice)}
    assert seen == {"bob": 200, "carol": 404, "rita": 200, "alice": 200}
    assert client_for(victor).get(target).status_code == 404
    assert client_for(mallory).get(target).status_code == 404
    claim.set_verdict(carol, "supported")
    assert client_for(carol).get(target).status_code == 200


def test_the_recheck_command_can_leave_the_pages_to_the_worker(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any, capsys: Any
) -> None:
    pages = {"/story": Page(ARTICLE_PAGE)}
    with serve(pages) as server:
        evidence = add(claim, bob, server.url("/story"), django_capture_on_commit_callbacks)
        call_command("recheck_evidence", "--days", "0", "--queue")
    assert "Queued the re-check" in capsys.readouterr().out
    assert len(checks(evidence)) == 2  # the immediate backend ran the task at once


def test_the_snapshot_page_query_count_does_not_grow(
    claim: Claim, rita: Any, django_assert_num_queries: Any
) -> None:
    client = client_for(rita)
    sizes = []
    for count in (1, 12):
        evidence = claim.add_evidence(rita, url=f"https://example.org/{count}", stance="context")
        for i in range(count):
            text = f"Version {i} of the page.\n" * 50
            EvidenceSnapshot.record(
                EvidenceSnapshot(
                    evidence=evidence,
                    state=PageState.OK,
                    final_url=evidence.url,
                    text=text,
                    sha256=str(i),
                )
            )
        client.get(url("evidence-snapshot", evidence.pk))
        # Session, user; the evidence, its claim with the role (evidence_for); the claim's
        # verdicts (blind review); every check; the one shown.
        with django_assert_num_queries(7):
            response = client.get(url("evidence-snapshot", evidence.pk))
        assert response.status_code == 200
        sizes.append(response.content.count(b"?check="))
    assert sizes == [1, 12]


def test_a_plain_text_page_is_read_as_it_is_and_shown_escaped(
    claim: Claim, bob: Any, django_capture_on_commit_callbacks: Any
) -> None:
    hostile = "Minutes of the meeting.\r\n<script>alert(1)</script> Trade grew by 4%.\r\n"
    page = Page(
        hostile.encode("cp1252") + "Zürich.".encode("cp1252"),
        headers={"Content-Type": "text/plain; charset=windows-1252"},
    )
    with serve({"/minutes.txt": page}) as server:
        evidence = add(
            claim, bob, server.url("/minutes.txt"), django_capture_on_commit_callbacks, "trade grew"
        )
    (check,) = checks(evidence)
    assert check.text.endswith("Trade grew by 4%.\nZürich.") and "\r" not in check.text
    assert (check.title, check.quote_found) == ("", True)
    content = client_for(bob).get(url("evidence-snapshot", evidence.pk)).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert '<mark id="quote">Trade grew</mark>' in content


def test_the_panels_query_count_does_not_grow_with_snapshots(
    project: Any, bob: Any, django_assert_num_queries: Any
) -> None:
    client = client_for(bob)
    for size in (1, 10):
        article = make_article(
            project, f"Size {size}\n\nIt rained. It poured.\n", filename=f"{size}"
        )
        claim = article.claims.order_by("ordinal").first()
        assert claim is not None
        for i in range(size):
            evidence = claim.add_evidence(bob, url=f"https://example.org/{i}", stance="context")
            for text in ("first", "second", "third"):
                EvidenceSnapshot.record(
                    EvidenceSnapshot(evidence=evidence, state=PageState.OK, text=text, sha256=text)
                )
        client.get(url("claim-panel", claim.pk), **HTMX)
        # As tests/test_round_trip.py pins it: the snapshots come with the evidence's row.
        with django_assert_num_queries(7):
            panel = html(client.get(url("claim-panel", claim.pk), **HTMX))
        assert len(panel.select("span", class_="p-changed")) == size
