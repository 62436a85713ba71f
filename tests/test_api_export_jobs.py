"""The API's audit export left to the worker: with ``Prefer: respond-async``, or above
``CLAIMS_EXPORT_BACKGROUND_EVENTS``, POST /projects/{slug}/audit/exports answers 202 with
the job (its address in ``Location``, the job resource imports use); once the worker has
made it, the job names the file and the API hands it out, to its exporter or an admin,
until it expires. Every answer is checked against the API's own OpenAPI document.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from claims import tasks
from claims.models import AuditEvent, Job, JobKind, JobStatus, Project, Role
from tests import test_audit_export as audit_tests
from tests.api_client import Api, data, issue
from tests.test_api import events, prefix
from tests.test_audit_export import exports_of, verifies

signing_key = audit_tests.signing_key  # autouse: the key the exports are signed with
public_key = audit_tests.public_key

PATH = "/projects/demo/audit/exports"
ASYNC = {"Prefer": "respond-async"}


@pytest.fixture(autouse=True)
def exports_folder(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def tagged(article: Any, bob: Any, carol: Any) -> Any:
    first = article.claims.order_by("start").first()
    first.set_verdict(bob, "supported", rationale="Checked.")
    first.set_verdict(carol, "disputed", rationale="Not so.")
    return first


def queued(api: Api, body: dict[str, Any], capture: Any, **headers: str) -> tuple[str, Job]:
    """The export sent, answered 202 with its job, its task handed to the backend."""
    with capture(execute=True):
        response = api.post(PATH, body, **headers)
    assert response.status_code == 202, response.content[:300]
    job = Job.objects.get(pk=data(response)["id"])
    assert response["Location"] == f"/api/v1/projects/demo/jobs/{job.pk}"
    assert (data(response)["kind"], data(response)["state"]) == ("export", "queued")
    assert data(response)["export"] is None and job.task_id
    return response["Location"], job


def test_an_export_sent_with_respond_async_is_made_by_the_worker_and_downloaded(
    tagged: Any,
    project: Project,
    rita: Any,
    tmp_path: Path,
    public_key: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    raw = issue(rita, project)
    api = Api(raw)
    location, job = queued(api, {"format": "jsonl"}, django_capture_on_commit_callbacks, **ASYNC)
    assert exports_of(project) == []  # recorded when the worker makes it
    assert data(api.get(location))["state"] == "queued"

    tasks.run_export.call(job.pk)
    followed = data(api.get(location))
    (event,) = exports_of(project)
    file = followed["export"]
    assert (followed["state"], followed["kind"], followed["error"]) == ("done", "export", "")
    assert file == {
        "download": f"/api/v1/projects/demo/jobs/{job.pk}/file",
        "filename": file["filename"],
        "content_type": "application/jsonl; charset=utf-8",
        "count": event["after"]["count"],
        "event": event["seq"],
    }
    assert file["filename"].startswith("demo-audit-jsonl-")
    assert events(project)[-1]["token"] == prefix(raw)  # the worker names the token too

    response = api.get(file["download"])
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{file["filename"]}"'
    text = b"".join(response.streaming_content).decode()
    assert verifies(text, tmp_path, public_key) == 0
    assert len(exports_of(project)) == 1  # downloading records nothing more


def test_an_export_above_the_background_size_goes_to_the_worker(
    tagged: Any, project: Project, rita: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CLAIMS_EXPORT_BACKGROUND_EVENTS = 2
    api = Api(issue(rita, project))
    location, job = queued(api, {"format": "csv"}, django_capture_on_commit_callbacks)
    tasks.run_export.call(job.pk)
    download = data(api.get(location))["export"]["download"]
    body = b"".join(api.get(download).streaming_content).decode()
    assert body.startswith("seq,") and "verdict.set" in body  # plain UTF-8: no BOM
    # Filters below the threshold still answer the file at once.
    small = api.post(PATH, {"format": "csv", "actor": "carol"})
    assert small.status_code == 200 and small["Content-Type"].startswith("text/csv")


def test_an_invalid_or_unsignable_export_makes_no_job(
    tagged: Any,
    project: Project,
    rita: Any,
    monkeypatch: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from claims.log import signing

    api = Api(issue(rita, project))
    head = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        bad = api.post(PATH, {"since": "2024-05-02", "until": "2024-05-01"}, **ASYNC)
    assert bad.status_code == 422
    monkeypatch.delenv(signing.ENV_KEY)
    settings.DEBUG = False
    with django_capture_on_commit_callbacks(execute=True):
        keyless = api.post(PATH, {"format": "jsonl"}, **ASYNC)
    assert keyless.status_code == 503
    assert not Job.objects.exists() and AuditEvent.objects.count() == head


@pytest.mark.parametrize(
    ("who", "status"),
    [("rita", 200), ("alice", 200), ("bob", 403), ("victor", 403), ("other_reviewer", 404)],
)
def test_only_its_exporter_or_an_admin_downloads_the_file(
    tagged: Any,
    project: Project,
    rita: Any,
    who: str,
    status: int,
    request: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.factories import add_member, make_user

    location, job = queued(
        Api(issue(rita, project)), {"format": "csv"}, django_capture_on_commit_callbacks, **ASYNC
    )
    tasks.run_export.call(job.pk)
    if who == "other_reviewer":
        caller = make_user("rex")
        add_member(project, caller, Role.REVIEWER)
    else:
        caller = request.getfixturevalue(who)
    api = Api(issue(caller, project))
    before = AuditEvent.objects.count()
    response = api.get(f"{location}/file")
    assert response.status_code == status
    assert AuditEvent.objects.count() == before


def test_a_job_without_a_file_is_404_and_an_expired_file_410(
    tagged: Any, project: Project, rita: Any, django_capture_on_commit_callbacks: Any
) -> None:
    api = Api(issue(rita, project))
    imported = Job.objects.create(
        project=project, user=rita, kind=JobKind.IMPORT, status=JobStatus.DONE, params={}
    )
    assert api.get(f"/projects/demo/jobs/{imported.pk}/file").status_code == 404
    location, job = queued(api, {"format": "csv"}, django_capture_on_commit_callbacks, **ASYNC)
    assert api.get(f"{location}/file").status_code == 404  # not made yet
    tasks.run_export.call(job.pk)
    old = timezone.now() - dt.timedelta(days=8)
    Job.objects.filter(pk=job.pk).update(finished_at=old)
    followed = data(api.get(location))  # looking at it prunes, as the browser's page does
    assert followed["export"]["download"] is None
    gone = api.get(f"{location}/file")
    assert gone.status_code == 410
    assert data(gone)["detail"] == "The export's file has expired; start a new export."
