"""The work that runs in the background: Django's tasks, run by ``manage.py db_worker``.

An import larger than ``CLAIMS_IMPORT_BACKGROUND_BYTES`` (a text, a PDF or a DOCX), or of
a page the worker fetches (``url``), is a ``Job`` (``start_import``) that ``run_import``
carries out, saying how far it got; the browser polls the job's page.
The import itself is one transaction (``importer.import_prepared``): a worker killed in
the middle leaves no article, only a running job with an old heartbeat, which ``recover``
queues again (up to ``CLAIMS_JOB_ATTEMPTS`` runs) or reports failed. django-tasks-db
leaves the task result of a dead worker running for good, hence this check: it runs when
a job's page is polled and when the demo starts its worker.

Webhook deliveries are tasks too: ``enqueue_deliveries`` runs after an event of a project
with a webhook is committed (``claims.log.chain.writing``), ``deliver`` sends one attempt
and queues the next one after its back-off.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from claims import extraction, importer, webhooks
from claims.exports import BOM
from claims.log import export as audit_export
from claims.log import signing
from claims.log.chain import api_token
from claims.log.export import Filters
from claims.models import (
    AuditEvent,
    Delivery,
    DeliveryStatus,
    Job,
    JobKind,
    JobStatus,
    Member,
    Project,
    Role,
)

GONE = "The worker stopped while running this job {attempts} times; nothing was imported."


def runs_in_background(size: int) -> bool:
    """Whether an import of ``size`` bytes is left to the worker."""
    return size > settings.CLAIMS_IMPORT_BACKGROUND_BYTES


def start_import(
    project: Project,
    user: Any,
    data: bytes | None,
    *,
    filename: str = "",
    url: str = "",
    published_on: dt.date | None = None,
    html: bool | None = None,
    metadata: dict[str, Any] | None = None,
    token: str | None = None,
) -> Job:
    """A queued import job of ``data`` (a text, a PDF, a DOCX), or of the page at ``url``
    (fetched by the worker); the worker takes it once this transaction commits. ``token``:
    the prefix of the API token that asked for it, which its event names as a request's."""
    params = {
        "url": url,
        "filename": filename,
        "published_on": published_on.isoformat() if published_on else None,
        "html": html,
        "metadata": {k: v for k, v in (metadata or {}).items() if v not in (None, "")},
        "token": token,
    }
    with transaction.atomic():
        job = Job.objects.create(
            project=project, user=user, kind=JobKind.IMPORT, params=params, payload=data
        )
        transaction.on_commit(lambda: _enqueue(job))
    return job


def _enqueue(job: Job) -> None:
    result = run_import.enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))


@task()
def run_import(job_id: int) -> dict[str, Any] | None:
    job = Job.objects.select_related("project", "user").filter(pk=job_id).first()
    if job is None or not job.claim():
        return None  # gone, or run by another worker already
    named = api_token.set(job.params.get("token"))  # as the request that started it would
    try:
        import_job(job)
    except importer.ImportRejected as exc:
        job.fail(str(exc))
    except Exception:
        job.fail("The import failed unexpectedly; nothing was imported. Try it again.")
        raise  # the task result keeps the traceback, for whoever runs the worker
    finally:
        api_token.reset(named)
    return job.result


def import_job(job: Job) -> None:
    """Prepare and store the job's import, saying so at each step; fails the job with the
    reason when the text is refused, as the import page would have."""
    member = Member.of(job.project, job.user) if job.user is not None else None
    if member is None or not member.at_least(Role.ADMIN):
        job.fail("Only a project admin can import articles; nothing was imported.")
        return
    params = job.params
    given = params["published_on"]
    published_on = dt.date.fromisoformat(given) if given else None
    found: dict[str, Any] = {}
    if params.get("url"):
        job.step("Fetching the page", 5)
        text, found = extraction.prepare_from_url(params["url"])
        job.step("Reading and segmenting the text", 20)
        prepared = extraction.prepare_text(
            text, filename=found.pop("filename"), published_on=published_on or found["published_on"]
        )
    else:
        job.step("Reading and segmenting the text", 10)
        data, filename = bytes(job.payload or b""), params["filename"]
        extracted = extraction.extract_file(data, filename)  # a PDF or DOCX; None for text
        if extracted is not None:
            found = {"title": extracted.title, "author": extracted.author}
            published_on = published_on or extracted.date
            prepared = extraction.prepare_text(
                extracted.text, filename=filename, published_on=published_on
            )
        else:
            prepared = importer.prepare(
                data, filename=filename, published_on=published_on, html=params["html"]
            )
    found.pop("published_on", None)
    # What the document says of itself fills what the person left blank, as in the preview.
    metadata = {k: v for k, v in found.items() if v} | params["metadata"]
    claims = len(prepared.segmentation.claims)
    job.step(f"Storing {claims} claims", 60)
    article, created = importer.import_prepared(job.project, prepared, actor=job.user, **metadata)
    job.finish(
        {"article": article.pk, "created": created, "title": article.title, "claims": claims}
    )


# Audit exports -----------------------------------------------------------------------------

EXPORT_STEPS = 20  # progress is said this many times over an export, not once per chunk
EXPORT_GONE = (
    "The worker stopped while writing this export, after event #{seq} recorded it; "
    "start a new export."
)


def export_runs_in_background(events: int) -> bool:
    """Whether an export selecting ``events`` events is left to the worker."""
    return events > settings.CLAIMS_EXPORT_BACKGROUND_EVENTS


def start_export(
    project: Project, user: Any, fmt: str, filters: Filters, *, excel: bool = False
) -> Job:
    """A queued audit export, written to a file by the worker once this transaction commits;
    its ``audit.exported`` event is written when the worker makes the export."""
    params = {"format": fmt, "filters": filters.as_dict(), "excel": excel}
    with transaction.atomic():
        job = Job.objects.create(project=project, user=user, kind=JobKind.EXPORT, params=params)
        transaction.on_commit(lambda: _enqueue_export(job))
    return job


def _enqueue_export(job: Job) -> None:
    result = run_export.enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))


def export_path(job: Job) -> Path:
    """Where the worker writes the job's file (``result["file"]``, a name under var/)."""
    return Path(settings.VAR_DIR) / "exports" / str((job.result or {})["file"])


@task()
def run_export(job_id: int) -> dict[str, Any] | None:
    job = Job.objects.select_related("project", "user").filter(pk=job_id).first()
    if job is None or not job.claim():
        return None
    if job.params.get("event"):
        # Its event was written by an earlier run that died while writing the file: another
        # run would write a second event for one export.
        job.fail(EXPORT_GONE.format(seq=job.params["event"]))
        return None
    try:
        export_job(job)
    except Exception:
        job.fail("The export failed unexpectedly. Try it again.")
        raise  # the task result keeps the traceback, for whoever runs the worker
    return job.result


def export_job(job: Job) -> None:
    """Make the export (its one event), then write its file under var/exports, saying how
    far it got; the file appears whole (written aside, then renamed) or not at all."""
    member = Member.of(job.project, job.user) if job.user is not None else None
    if member is None or not member.at_least(Role.REVIEWER):
        job.fail("Only reviewers and admins can export the audit trail; nothing was exported.")
        return
    params = job.params
    given = params["filters"]
    filters = Filters(
        given["article"],
        dt.date.fromisoformat(given["since"]) if given["since"] else None,
        dt.date.fromisoformat(given["until"]) if given["until"] else None,
        given["actor"],
    )
    job.step("Recording the export", 2)
    try:
        export = audit_export.start_export(job.project, params["format"], filters, actor=job.user)
    except signing.SigningKeyMissing as missing:
        job.fail(str(missing))
        return
    job.params = params | {"event": export.event.seq}
    job.save(update_fields=["params"])
    name = f"{job.pk}-{secrets.token_hex(8)}-{export.filename}"
    folder = Path(settings.VAR_DIR) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{name}.part"
    step = max(1, export.count // EXPORT_STEPS)
    done, said = 0, 0
    with partial.open("w", encoding="utf-8", newline="") as out:
        if export.format == "csv" and params["excel"]:
            out.write(BOM)
        for chunk in export.chunks:
            out.write(chunk)
            done += chunk.count("\n")
            if done - said >= step:
                said = done
                shown = min(done, export.count)
                percent = 5 + 90 * shown // max(export.count, 1)
                job.step(f"Writing {shown:,} of {export.count:,} events", percent)
    partial.rename(folder / name)
    job.finish(
        {
            "file": name,
            "filename": export.filename,
            "content_type": export.content_type,
            "count": export.count,
            "event": export.event.seq,
        }
    )


def recover() -> int:
    """Jobs whose worker died: queued again, or failed after their last attempt. How many."""
    count = 0
    for job in Job.objects.stale():
        still = Job.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, heartbeat_at=job.heartbeat_at
        )
        if job.attempts < settings.CLAIMS_JOB_ATTEMPTS:
            moved = still.update(
                status=JobStatus.QUEUED, phase="Waiting to run again (the worker stopped)"
            )
            if moved:
                enqueue = _enqueue_export if job.kind == JobKind.EXPORT else _enqueue
                enqueue(job)
        else:
            moved = still.update(
                status=JobStatus.FAILED,
                error=GONE.format(attempts=job.attempts),
                payload=None,
                finished_at=timezone.now(),
            )
        count += moved
    return count


def enqueue_deliveries(event: AuditEvent) -> None:
    """Hand each delivery of a committed event to the worker (``claims.log.chain.DELIVER``)."""
    for delivery in webhooks.deliveries_for(event):
        deliver.enqueue(delivery.pk)


@task()
def deliver(delivery_id: int) -> str | None:
    """One attempt of a delivery; a failed one is queued again after its back-off."""
    delivery = Delivery.objects.select_related("webhook__project").filter(pk=delivery_id).first()
    if delivery is None:
        return None  # its endpoint was removed
    webhooks.attempt(delivery)
    if delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None:
        deliver.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
    return str(delivery.status)
