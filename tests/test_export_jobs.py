"""Large audit exports as background jobs: an export of more events than
``CLAIMS_EXPORT_BACKGROUND_EVENTS`` is made by the worker, whose job page shows its progress
and then the file to download; the signed file verifies, and its ``audit.exported`` event
is exactly one, written when the worker makes the export. The threshold is lowered here;
the task runs as ``tests/test_tasks.py`` runs it (``.call`` after the commit has queued it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from claims import tasks
from claims.models import AuditEvent, Job, JobKind, JobStatus
from tests import test_audit_export as audit_tests
from tests.base import HTMX_HEADERS, client_for, url
from tests.test_audit_export import export_url, exports_of, verifies

signing_key = audit_tests.signing_key  # autouse: the key the exports are signed with
public_key = audit_tests.public_key


@pytest.fixture(autouse=True)
def small_threshold(settings: Any, tmp_path: Path) -> Path:
    settings.CLAIMS_EXPORT_BACKGROUND_EVENTS = 3
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def tagged(article: Any, bob: Any, carol: Any, rita: Any) -> Any:
    """More events than the threshold: bob and carol tag claims, rita adjudicates one."""
    first, second = article.claims.order_by("start")[:2]
    first.set_verdict(bob, "supported", rationale="Checked.")
    first.set_verdict(carol, "disputed", rationale="Not so.")
    second.set_verdict(bob, "disputed", rationale="Other sources disagree.")
    first.adjudicate(rita, "disputed", rationale="It does not hold.")
    return first


def posted(client: Any, capture: Any, fields: dict[str, str], **headers: Any) -> Any:
    with capture(execute=True):
        return client.post(export_url(), fields, **headers)


def test_a_large_export_becomes_a_job_whose_page_offers_the_signed_file(
    tagged: Any,
    rita: Any,
    tmp_path: Path,
    public_key: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    project = tagged.article.project
    client = client_for(rita)
    response = posted(client, django_capture_on_commit_callbacks, {"format": "jsonl"})
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("job-detail", job.pk)
    assert (job.kind, job.status, job.user, job.task_id != "") == (
        JobKind.EXPORT,
        JobStatus.QUEUED,
        rita,
        True,
    )
    assert exports_of(project) == []  # recorded when the worker makes it, not before
    page = client.get(url("job-detail", job.pk)).content.decode()
    assert "Audit export (jsonl)" in page and 'id="job-progress"' in page

    tasks.run_export.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    (event,) = exports_of(project)
    assert job.result["event"] == event["seq"]
    assert event["actor"] == "rita" and event["after"]["format"] == "jsonl"

    page = client.get(url("job-detail", job.pk)).content.decode()
    download = url("job-download", job.pk)
    assert f'href="{download}"' in page and f"event #{event['seq']}" in page
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/jsonl")
    assert response["Content-Disposition"].startswith('attachment; filename="demo-audit-jsonl-')
    text = b"".join(response.streaming_content).decode()
    assert verifies(text, tmp_path, public_key) == 0
    manifest = json.loads(text.splitlines()[-1])
    assert event["after"]["count"] == manifest["count"] == job.result["count"] > 3
    assert len(exports_of(project)) == 1  # downloading records nothing more


def test_progress_is_said_while_the_file_is_written(
    tagged: Any, rita: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    said: list[tuple[str, int]] = []
    step = Job.step

    def record(job: Job, phase: str, percent: int) -> None:
        said.append((phase, percent))
        step(job, phase, percent)

    monkeypatch.setattr(Job, "step", record)
    # A few events a chunk, so that this small log is written in several (as 200,000 are).
    monkeypatch.setattr("claims.log.export.CHUNK_LINES", 2)
    posted(client_for(rita), django_capture_on_commit_callbacks, {"format": "csv"})
    job = Job.objects.get()
    tasks.run_export.call(job.pk)
    job.refresh_from_db()
    count = job.result["count"]
    assert said[0] == ("Recording the export", 2)
    writing = [percent for phase, percent in said if phase.startswith("Writing")]
    assert writing == sorted(writing) and len(writing) >= 3 and writing[-1] == 95
    assert said[-1][0] == f"Writing {count:,} of {count:,} events"
    assert (job.phase, job.percent) == ("done", 100)


def test_an_excel_csv_keeps_its_byte_order_mark(
    tagged: Any, rita: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(rita)
    posted(client, django_capture_on_commit_callbacks, {"format": "csv", "excel": "on"})
    job = Job.objects.get()
    tasks.run_export.call(job.pk)
    response = client.get(url("job-download", job.pk))
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode()) and b"seq," in body[:20]


def test_a_small_export_still_streams_in_the_request(
    tagged: Any, rita: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CLAIMS_EXPORT_BACKGROUND_EVENTS = 1000
    response = posted(client_for(rita), django_capture_on_commit_callbacks, {"format": "csv"})
    assert response.status_code == 200 and response.streaming
    assert not Job.objects.exists()
    assert len(exports_of(tagged.article.project)) == 1


def test_filters_below_the_threshold_stream_in_the_request(
    tagged: Any, rita: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Only rita's one event is selected: under the threshold of 3.
    fields = {"format": "csv", "actor": "rita"}
    response = posted(client_for(rita), django_capture_on_commit_callbacks, fields)
    assert response.status_code == 200 and not Job.objects.exists()


def test_under_htmx_the_browser_is_sent_to_the_job(
    tagged: Any, rita: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(rita)
    response = posted(
        client, django_capture_on_commit_callbacks, {"format": "csv"}, headers=HTMX_HEADERS
    )
    assert response["HX-Redirect"] == url("job-detail", Job.objects.get().pk)


def test_invalid_input_makes_no_job(
    tagged: Any, rita: Any, django_capture_on_commit_callbacks: Any
) -> None:
    events = AuditEvent.objects.count()
    fields = {"format": "jsonl", "since": "2024-05-02", "until": "2024-05-01"}
    response = posted(client_for(rita), django_capture_on_commit_callbacks, fields)
    assert response.status_code == 422
    assert not Job.objects.exists() and AuditEvent.objects.count() == events


def test_without_a_key_the_signed_export_is_refused_before_a_job(
    tagged: Any, rita: Any, monkeypatch: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from claims.log import signing

    monkeypatch.delenv(signing.ENV_KEY)
    settings.DEBUG = False
    events = AuditEvent.objects.count()
    response = posted(client_for(rita), django_capture_on_commit_callbacks, {"format": "jsonl"})
    assert response.status_code == 503
    assert not Job.objects.exists() and AuditEvent.objects.count() == events


def test_a_run_after_the_export_was_recorded_fails_rather_than_record_it_twice(
    tagged: Any, rita: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # As after a worker killed while writing the file: the event exists, the file does not.
    posted(client_for(rita), django_capture_on_commit_callbacks, {"format": "csv"})
    job = Job.objects.get()
    tasks.run_export.call(job.pk)
    job.refresh_from_db()
    seq = job.result["event"]
    Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, result=None)
    tasks.run_export.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert f"after event #{seq} recorded it" in job.error
    assert len(exports_of(tagged.article.project)) == 1


@pytest.mark.parametrize("who", ["bob", "victor", "mallory", "carol"])
def test_only_its_exporter_or_an_admin_gets_the_file(
    tagged: Any,
    rita: Any,
    alice: Any,
    who: str,
    request: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    posted(client_for(rita), django_capture_on_commit_callbacks, {"format": "csv"})
    job = Job.objects.get()
    tasks.run_export.call(job.pk)
    download = url("job-download", job.pk)
    response = client_for(request.getfixturevalue(who)).get(download)
    # Analysts and viewers may not export (403); an outsider sees no project (404).
    assert response.status_code == {"bob": 403, "carol": 403, "victor": 403, "mallory": 404}[who]
    assert client_for(alice).get(download).status_code == 200
    assert client_for(rita).post(download).status_code == 405


def test_another_reviewers_job_and_an_import_job_have_no_file(
    tagged: Any, rita: Any, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    project = tagged.article.project
    theirs = Job.objects.create(project=project, user=alice, kind=JobKind.EXPORT, params={})
    imported = Job.objects.create(
        project=project, user=rita, kind=JobKind.IMPORT, status=JobStatus.DONE, params={}
    )
    client = client_for(rita)
    assert client.get(url("job-download", theirs.pk)).status_code == 404
    assert client.get(url("job-download", imported.pk)).status_code == 404
    assert client.get(url("job-download", 10**12)).status_code == 404


# Files are kept CLAIMS_EXPORT_KEEP_DAYS ------------------------------------------------------


def finished_export(client: Any, capture: Any) -> Job:
    posted(client, capture, {"format": "csv"})
    job = Job.objects.latest("pk")
    tasks.run_export.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    return job


def finished_days_ago(job: Job, days: float) -> None:
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - dt.timedelta(days=days))


def aged(path: Path, days: float) -> Path:
    stamp = time.time() - days * 86400
    os.utime(path, (stamp, stamp))
    return path


def left(path: Path, days: float) -> Path:
    path.write_text("seq,action\n")
    return aged(path, days)


def test_an_export_file_expires_after_the_keep_days_and_its_page_says_so(
    tagged: Any, rita: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CLAIMS_EXPORT_KEEP_DAYS = 2
    client = client_for(rita)
    old = finished_export(client, django_capture_on_commit_callbacks)
    recent = finished_export(client, django_capture_on_commit_callbacks)
    finished_days_ago(old, 3)
    finished_days_ago(recent, 1)
    old_file, recent_file = tasks.export_path(old), tasks.export_path(recent)
    assert old_file.is_file() and recent_file.is_file()

    page = client.get(url("job-detail", old.pk)).content.decode()  # polling prunes
    assert not old_file.exists() and recent_file.is_file()
    assert "the file has expired" in page
    assert url("job-download", old.pk) not in page
    gone = client.get(url("job-download", old.pk))
    assert gone.status_code == 410  # as the API's download says it
    assert "the file has expired" in gone.content.decode()
    recent_page = client.get(url("job-detail", recent.pk)).content.decode()
    assert "the file has expired" not in recent_page
    assert client.get(url("job-download", recent.pk)).status_code == 200


def test_looking_at_one_export_expires_it_alone_and_its_download_says_so(
    tagged: Any, rita: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A job's page polls every second: it expires its own export when that is past its
    days, and reads no other (pruning all of them is for new exports and recover_jobs)."""
    client = client_for(rita)
    looked_at = finished_export(client, django_capture_on_commit_callbacks)
    other = finished_export(client, django_capture_on_commit_callbacks)
    finished_days_ago(looked_at, 8)  # the default keeps a week
    finished_days_ago(other, 8)
    page = client.get(url("job-detail", looked_at.pk), headers=HTMX_HEADERS).content.decode()
    assert "the file has expired" in page and not tasks.export_path(looked_at).exists()
    other.refresh_from_db()
    assert not tasks.export_expired(other) and tasks.export_path(other).is_file()
    # Its download, looked at first, is gone as its page would say.
    assert client.get(url("job-download", other.pk)).status_code == 410
    other.refresh_from_db()
    assert tasks.export_expired(other) and not tasks.export_path(other).exists()


def test_a_new_export_removes_the_expired_ones(
    tagged: Any, rita: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(rita)
    old = finished_export(client, django_capture_on_commit_callbacks)
    finished_days_ago(old, 8)  # the default keeps a week
    new = finished_export(client, django_capture_on_commit_callbacks)
    old.refresh_from_db()
    assert tasks.export_expired(old) and not tasks.export_path(old).exists()
    assert not tasks.export_expired(new) and tasks.export_path(new).is_file()


def test_files_abandoned_for_a_day_are_removed_and_fresh_ones_kept(
    tagged: Any, rita: Any, small_threshold: Path, django_capture_on_commit_callbacks: Any
) -> None:
    kept = finished_export(client_for(rita), django_capture_on_commit_callbacks)
    aged(tasks.export_path(kept), 3)  # named by its job, which is not expired: kept
    folder = small_threshold / "exports"
    left(folder / "98-0123456789abcdef-demo-audit.csv.part", 1.5)  # its worker died
    writing = left(folder / "99-0123456789abcdef-demo-audit.csv.part", 0.5)  # still written
    left(folder / "97-0123456789abcdef-demo-audit.csv", 2)  # its job is gone
    assert tasks.prune_exports() == 2
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [writing.name, tasks.export_path(kept).name]
    )


def test_an_export_whose_worker_died_on_every_attempt_says_so_in_its_own_words(
    tagged: Any, rita: Any, settings: Any
) -> None:
    settings.CLAIMS_JOB_ATTEMPTS = 1
    project = tagged.article.project
    stale = timezone.now() - dt.timedelta(seconds=settings.CLAIMS_JOB_STALE_SECONDS + 60)
    running = {"status": JobStatus.RUNNING, "attempts": 1, "heartbeat_at": stale}
    before = Job.objects.create(
        project=project, user=rita, kind=JobKind.EXPORT, params={"format": "csv"}, **running
    )
    recorded = Job.objects.create(
        project=project,
        user=rita,
        kind=JobKind.EXPORT,
        params={"format": "csv", "event": 41},
        **running,
    )
    assert tasks.recover() == 2
    before.refresh_from_db()
    recorded.refresh_from_db()
    assert (before.status, before.error) == (
        JobStatus.FAILED,
        "The worker stopped while making this export 1 times; nothing was exported or "
        "recorded. Start a new export.",
    )
    assert "imported" not in before.error
    assert recorded.error == (
        "The worker stopped while writing this export, after event #41 recorded it; "
        "start a new export."
    )
    page = client_for(rita).get(url("job-detail", before.pk)).content.decode()
    assert "nothing was exported" in page and "Export again" in page
