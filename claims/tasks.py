"""The work that runs in the background: Django's tasks, run by ``manage.py db_worker``.

An import larger than ``CLAIMS_IMPORT_BACKGROUND_BYTES`` (a text, a PDF or a DOCX), or of
a page the worker fetches (``url``), is a ``Job`` (``start_import``) that ``run_import``
carries out, saying how far it got; the browser polls the job's page.
The browser's import from a link stops short of importing: its worker fetches the page and
keeps it on the job (``keep_page``) for the import page's preview, and nothing is imported
until the person confirms it there; the page is dropped once imported (``page_imported``)
or after ``KEEP_PAGE`` (``forget_page``).
The import itself is one transaction (``importer.import_prepared``): a worker killed in
the middle leaves no article, only a running job with an old heartbeat, which ``recover``
queues again (up to ``CLAIMS_JOB_ATTEMPTS`` runs) or reports failed. django-tasks-db
leaves the task result of a dead worker running for good, hence this check: it runs when
a job's page is polled and when the demo starts its worker.

Webhook deliveries are tasks too: ``enqueue_deliveries`` runs after an event of a project
with a webhook is committed (``claims.log.chain.writing``), ``deliver`` sends one attempt
and queues the next one after its back-off. A delivery whose worker died while sending it
stays pending past its time; ``recover`` queues it again, once.

An audit export above ``CLAIMS_EXPORT_BACKGROUND_EVENTS`` is a job too (``start_export``),
whose file waits under var/exports for ``CLAIMS_EXPORT_KEEP_DAYS`` (``prune_exports``).
"""

from __future__ import annotations

import datetime as dt
import secrets
import stat
from dataclasses import dataclass
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
    Article,
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
    preview: bool = False,
) -> Job:
    """A queued import job of ``data`` (a text, a PDF, a DOCX), or of the page at ``url``
    (fetched by the worker); the worker takes it once this transaction commits. ``token``:
    the prefix of the API token that asked for it, which its event names as a request's.
    ``preview``: the job only fetches the page at ``url`` and keeps it for the import
    page's preview (``keep_page``), as the browser's import from a link does."""
    params = {
        "url": url,
        "preview": preview,
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
    if params.get("preview"):
        keep_page(job)
        return
    given = params["published_on"]
    published_on = dt.date.fromisoformat(given) if given else None
    found: dict[str, Any] = {}
    if params.get("url"):
        job.step("Fetching the page", 5)
        prepared, found = extraction.prepare_page(
            params["url"], published_on=published_on, given=params["metadata"], step=job.step
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


# Pages fetched for the browser's preview -----------------------------------------------------

# How long a fetched page waits on its job for the person to confirm its preview: as long as
# the preview's signed record of the fetch is accepted (forms.ConfirmImportForm).
KEEP_PAGE = dt.timedelta(days=1)


@dataclass(frozen=True)
class FetchedPage:
    """A page a job fetched for the import page's preview: its text as the importer takes
    it, and what it says of itself (``extraction.prepare_from_url``'s ``found``)."""

    job: int
    text: str
    found: dict[str, Any]


def keep_page(job: Job) -> None:
    """Fetch and extract the job's page and keep it on the job, for the person to preview
    and confirm on the import page (``?job=``): nothing is imported here. A refused fetch
    raises ``ImportRejected``, which fails the job with the fetcher's reason."""
    job.step("Fetching the page …", 5)
    text, found = extraction.prepare_from_url(job.params["url"])
    published_on = found["published_on"]
    page = {
        "title": found["title"],
        "author": found["author"],
        "published_on": published_on.isoformat() if published_on else None,
        "source_url": found["source_url"],
        "fetched_at": found["fetched_at"].isoformat(),
        "filename": found["filename"],
    }
    with transaction.atomic():
        job.finish({"preview": True, "page": page, "characters": len(text)})
        job.payload = text.encode("utf-8")  # the job's output here, not an input to drop
        job.save(update_fields=["payload"])
        forget_at = timezone.now() + KEEP_PAGE
        transaction.on_commit(lambda: forget_page.using(run_after=forget_at).enqueue(job.pk))


def kept_page(job: Job) -> FetchedPage | None:
    """The page a job fetched, for its preview; None while it is fetched, when the fetch
    failed, once it is imported and after ``KEEP_PAGE`` (even before ``forget_page`` ran)."""
    result = job.result or {}
    if job.status != JobStatus.DONE or "page" not in result or job.payload is None:
        return None
    if job.finished_at is None or job.finished_at < timezone.now() - KEEP_PAGE:
        return None
    page = result["page"]
    found = page | {
        "published_on": dt.date.fromisoformat(page["published_on"])
        if page["published_on"]
        else None,
        "fetched_at": dt.datetime.fromisoformat(page["fetched_at"]),
    }
    return FetchedPage(job.pk, bytes(job.payload).decode("utf-8"), found)


def page_imported(project: Project, job_id: int, article: Article, created: bool) -> None:
    """The job's page is an article now (or was one already): its text is not kept any
    longer, and the job's page links to the article as an import's does."""
    jobs = Job.objects.filter(project=project, pk=job_id, kind=JobKind.IMPORT)
    job = jobs.defer("payload").first()
    if job is None or "page" not in (job.result or {}):
        return
    job.payload = None
    job.result = (job.result or {}) | {
        "article": article.pk,
        "created": created,
        "title": article.title,
        "claims": article.claims.count(),
    }
    job.save(update_fields=["payload", "result"])


@task()
def forget_page(job_id: int) -> bool:
    """Drop a fetched page nobody imported within ``KEEP_PAGE``; its preview then says so,
    and the link can be given again. Whether there was one to drop."""
    return Job.objects.filter(pk=job_id, payload__isnull=False).update(payload=None) == 1


# Audit exports -----------------------------------------------------------------------------

EXPORT_STEPS = 20  # progress is said this many times over an export, not once per chunk
EXPORT_GONE = (
    "The worker stopped while writing this export, after event #{seq} recorded it; "
    "start a new export."
)
EXPORT_DIED = (
    "The worker stopped while making this export {attempts} times; nothing was exported "
    "or recorded. Start a new export."
)


def export_runs_in_background(events: int) -> bool:
    """Whether an export selecting ``events`` events is left to the worker."""
    return events > settings.CLAIMS_EXPORT_BACKGROUND_EVENTS


def start_export(
    project: Project,
    user: Any,
    fmt: str,
    filters: Filters,
    *,
    excel: bool = False,
    token: str | None = None,
) -> Job:
    """A queued audit export, written to a file by the worker once this transaction commits;
    its ``audit.exported`` event is written when the worker makes the export (naming
    ``token``, the prefix of the API token that asked for it, as a request's would)."""
    params = {"format": fmt, "filters": filters.as_dict(), "excel": excel, "token": token}
    with transaction.atomic():
        job = Job.objects.create(project=project, user=user, kind=JobKind.EXPORT, params=params)
        transaction.on_commit(lambda: _enqueue_export(job))
    return job


def _enqueue_export(job: Job) -> None:
    result = run_export.enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))


def export_path(job: Job) -> Path:
    """Where the worker writes the job's file (``result["file"]``, a name under var/)."""
    return _exports_folder() / str((job.result or {})["file"])


def _exports_folder() -> Path:
    return Path(settings.VAR_DIR) / "exports"


def export_expired(job: Job) -> bool:
    """Whether a finished export's file was removed after ``CLAIMS_EXPORT_KEEP_DAYS``."""
    return bool((job.result or {}).get("expired"))


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
    named = api_token.set(job.params.get("token"))  # as the request that started it would
    try:
        export_job(job)
    except Exception:
        job.fail("The export failed unexpectedly. Try it again.")
        raise  # the task result keeps the traceback, for whoever runs the worker
    finally:
        api_token.reset(named)
    prune_exports()  # a new file in, the expired ones out
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
    folder = _exports_folder()
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


ABANDONED = dt.timedelta(days=1)  # no export is written for longer than this


def prune_exports() -> int:
    """Remove the export files kept longer than ``CLAIMS_EXPORT_KEEP_DAYS`` (their jobs say
    "the file has expired" from then on), and, once a day old, any other file no finished
    export names: a ``.part`` left by a worker that died writing it, a file whose job is
    gone. How many files were removed.

    Runs when an export is written and with ``manage.py recover_jobs``, so that
    var/exports holds about ``CLAIMS_EXPORT_KEEP_DAYS`` of exports, not every export ever
    made; an export someone looks at expires on its own (``expire_if_due``). A file just
    renamed into place, whose job is not yet marked done, is younger than a day: it stays."""
    now = timezone.now()
    done = Job.objects.filter(kind=JobKind.EXPORT, status=JobStatus.DONE).defer("payload")
    removed = 0
    for job in done.filter(finished_at__lt=_kept_since(now)).exclude(result__has_key="expired"):
        removed += _expire(job)
    folder = _exports_folder()
    if not folder.is_dir():
        return removed
    kept = {
        str(result["file"])
        for result in done.exclude(result__has_key="expired").values_list("result", flat=True)
        if result and "file" in result
    }
    for path in folder.iterdir():
        try:
            found = path.stat()
        except FileNotFoundError:
            continue  # removed by another prune meanwhile
        age = now - dt.datetime.fromtimestamp(found.st_mtime, dt.UTC)
        if stat.S_ISREG(found.st_mode) and path.name not in kept and age > ABANDONED:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _kept_since(now: dt.datetime) -> dt.datetime:
    """Exports finished before this have expired."""
    return now - dt.timedelta(days=settings.CLAIMS_EXPORT_KEEP_DAYS)


def _expire(job: Job) -> int:
    """Mark a finished export expired, then remove its file: 1 if there was one."""
    # Said before the file goes: a download that finds no file meets a job saying why.
    job.result = (job.result or {}) | {"expired": True}
    Job.objects.filter(pk=job.pk).update(result=job.result)
    path = export_path(job)
    if path.is_file():
        path.unlink(missing_ok=True)
        return 1
    return 0


def expire_if_due(job: Job) -> Job:
    """The job, its export expired first if it is older than ``CLAIMS_EXPORT_KEEP_DAYS``
    and not yet marked so: what its page and its download say when someone looks, without
    reading every other export (``prune_exports``) on each second's poll."""
    if (
        job.kind == JobKind.EXPORT
        and job.status == JobStatus.DONE
        and job.finished_at is not None
        and job.finished_at < _kept_since(timezone.now())
        and not export_expired(job)
    ):
        _expire(job)
    return job


def recover(*, prune: bool = True) -> int:
    """Jobs whose worker died: queued again, or failed after their last attempt; webhook
    deliveries whose worker died sending them: queued again (``webhooks.overdue``). How
    many. Expired export files are removed on the way (``prune_exports``) unless ``prune``
    is false: a job's page polls every second, and looks after its own export's expiry."""
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
                error=_gone(job),
                payload=None,
                finished_at=timezone.now(),
            )
        count += moved
    for delivery in webhooks.overdue().only("pk", "next_attempt_at"):
        if webhooks.again(delivery):
            deliver.enqueue(delivery.pk)
            count += 1
    if prune:
        prune_exports()
    return count


def _gone(job: Job) -> str:
    """Why a job whose worker died on its every attempt failed, in the words of its kind."""
    if job.kind != JobKind.EXPORT:
        return GONE.format(attempts=job.attempts)
    if job.params.get("event"):  # recorded, but the file never came
        return EXPORT_GONE.format(seq=job.params["event"])
    return EXPORT_DIED.format(attempts=job.attempts)


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
    attempted = webhooks.attempt(delivery)  # not when another task of it came first
    if attempted and delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at:
        deliver.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
    return str(delivery.status)
