"""Long work in the background: a real ``manage.py db_worker`` process runs an import job;
a worker killed in the middle of the import's transaction leaves no article, and the job
is run again (then stores the whole article once) or, after its last attempt, reported
failed. The import page hands big texts to the worker and its job page shows progress,
then the result; a link is fetched by the worker, then previewed and confirmed in the
browser. The long commands show a progress bar.

The worker tests run against a database of their own that every process can reach: a
SQLite file, or a fresh PostgreSQL database beside the test one. Each step in there runs
in a subprocess (``in_db``), as the worker and the app would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from claims import tasks, webhooks
from claims.models import Article, Job, JobStatus, Project
from tests.base import HTMX, client_for, html, url
from tests.factories import SAMPLE_PATH, SAMPLE_PUBLISHED, make_article

WAIT = 300  # seconds a step may take on a busy machine before the test gives up


# Steps run inside the worker's database (each in a fresh interpreter) -----------------------


def queue_import(slug: str, project: Project | None = None) -> dict[str, Any]:
    """A project and an import job of the sample article, queued for the worker."""
    from django.contrib.auth import get_user_model

    alice = get_user_model().objects.get_or_create(username="alice")[0]
    project = project or Project.create(slug, slug.title(), admin=alice)
    job = tasks.start_import(
        project,
        alice,
        SAMPLE_PATH.read_bytes(),
        filename=SAMPLE_PATH.name,
        published_on=SAMPLE_PUBLISHED,
    )
    return {"job": job.pk}


def hook_and_queue_import(slug: str, address: str) -> dict[str, Any]:
    """As ``queue_import``, in a project with a webhook for article events at ``address``."""
    from django.contrib.auth import get_user_model

    from claims.models import Webhook

    alice = get_user_model().objects.get_or_create(username="alice")[0]
    project = Project.create(slug, slug.title(), admin=alice)
    hook = Webhook.register(project, alice, url=address, events=["article"])
    return queue_import(project.slug, project) | {"secret": hook.secret}


def describe(job_id: int, recover: bool = False) -> dict[str, Any]:
    """The job and the project's articles as they stand (after ``tasks.recover`` when
    asked, as polling the job's page does)."""
    from claims.log.integrity import verify_project

    recovered = tasks.recover() if recover else 0
    job = Job.objects.get(pk=job_id)
    articles = Article.objects.filter(project=job.project)
    return {
        "recovered": recovered,
        "status": job.status,
        "attempts": job.attempts,
        "error": job.error,
        "result": job.result,
        "payload": job.payload is not None,
        "articles": [(a.pk, a.claims.count()) for a in articles],
        "intact": verify_project(job.project).problem is None,
    }


def browser(slug: str) -> Any:
    """A test client logged in as the project's admin, as a browser would be."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    alice = get_user_model().objects.get_or_create(username="alice")[0]
    if not Project.objects.filter(slug=slug).exists():
        Project.create(slug, slug.title(), admin=alice)
    client = Client(SERVER_NAME="127.0.0.1")  # an allowed host outside the test runner
    client.force_login(alice)
    return client


def give_link(slug: str, address: str) -> dict[str, Any]:
    """The admin gives a link on the import page: the request only starts the fetch."""
    from django.urls import reverse

    response = browser(slug).post(
        reverse("article-import", args=[slug]), {"step": "preview", "url": address}
    )
    job = Job.objects.get(project__slug=slug)
    return {
        "job": job.pk,
        "status": response.status_code,
        "location": response["Location"],
        "job_page": reverse("job-detail", args=[slug, job.pk]),
        "articles": Article.objects.filter(project=job.project).count(),
    }


def review_and_confirm(slug: str, job_id: int) -> dict[str, Any]:
    """The job's page links to the preview; the preview's confirm imports the article."""
    from django.urls import reverse

    from claims.log.integrity import verify_project
    from tests.test_import_view import confirm_fields

    client = browser(slug)
    status = html(client.get(reverse("job-detail", args=[slug, job_id]))).by_id("job-status")
    [review] = [a for a in status.select("a") if a.content() == "Review the import"]
    shown = client.get(review.attrs["href"])
    shown_form = html(shown)
    prefilled = {
        name: shown_form.select("input", id=f"id_{name}")[0].attrs.get("value")
        for name in ("title", "author", "published_on")
    }
    confirmed = client.post(reverse("article-import", args=[slug]), confirm_fields(shown))
    article = Article.objects.get(project__slug=slug)
    job = Job.objects.get(pk=job_id)
    [forget] = DBTaskResult.objects.filter(task_path="claims.tasks.forget_page")
    assert job.finished_at is not None
    return {
        "review": review.attrs["href"],
        "prefilled": prefilled,
        "confirmed": confirmed["Location"],
        "article": reverse("article-detail", args=[slug, article.pk]),
        "source_url": article.source_url,
        "fetched_at": article.fetched_at.isoformat() if article.fetched_at else None,
        "page": job.result["page"],
        "job_article": job.result.get("article") == article.pk,
        "payload": job.payload is not None,
        "forget_after": (forget.run_after - job.finished_at).total_seconds(),
        "forget_args": forget.args_kwargs["args"],
        "intact": verify_project(article.project).problem is None,
    }


# Runs a real worker whose import stops inside its transaction, with the rows written but
# not committed, and says so in a file: the test's own hook, installed in that process.
SLOW_WORKER = """
import sys, time
from pathlib import Path
import django
django.setup()
from django.core.management import call_command
from claims import importer
stored = importer._store_derived
def store_and_hang(*args, **kwargs):
    result = stored(*args, **kwargs)
    Path(sys.argv[1]).write_text("rows written, not committed")
    time.sleep(600)
    return result
importer._store_derived = store_and_hang
call_command("db_worker", reload=False, startup_delay=False, interval=0.1, verbosity=0)
"""

STEP = """
import json, sys
import django
django.setup()
from tests import test_tasks
print(json.dumps(getattr(test_tasks, sys.argv[1])(*json.loads(sys.argv[2]))))
"""


@pytest.fixture(scope="module")
def worker_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a process using the worker tests' database, migrated."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "claims.settings", "DEBUG": "1"}
    dropped = None
    if connection.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(tmp_path_factory.mktemp("worker") / "worker.sqlite3")
    else:
        name = f"{connection.settings_dict['NAME']}_worker"[:60]
        server(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
        dropped = name
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, timeout=300)
    yield env
    if dropped is not None:
        server(f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')


def server(*statements: str) -> None:
    """Run statements on the PostgreSQL server outside any transaction (as CREATE DATABASE
    must be), on a connection of their own: a module fixture has no test database access."""
    import psycopg

    params = connection.settings_dict
    with psycopg.connect(
        host=params["HOST"],
        port=params["PORT"] or 5432,
        user=params["USER"] or "postgres",
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as link:
        for statement in statements:
            link.execute(statement)  # type: ignore[arg-type]  # names built here, not input


def in_db(env: dict[str, str], step: str, *args: Any, **extra: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", STEP, step, json.dumps(args)],
        cwd=settings.BASE_DIR,
        env=env | extra,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_worker(env: dict[str, str]) -> None:
    """A real worker that runs what is queued, then exits."""
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    done = subprocess.run(
        [*manage, "db_worker", "--batch", "--no-reload", "--no-startup-delay", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode == 0, done.stderr


def kill_mid_import(env: dict[str, str], tmp_path: Path) -> None:
    """Start a worker on the queued job and kill -9 it once the import's rows are written
    but not committed."""
    marker = tmp_path / "mid-import"
    worker = subprocess.Popen(
        [sys.executable, "-c", SLOW_WORKER, str(marker)], cwd=settings.BASE_DIR, env=env
    )
    try:
        deadline = time.monotonic() + WAIT
        while not marker.exists():
            assert worker.poll() is None, "the worker exited before the import"
            assert time.monotonic() < deadline, "the worker never reached the import"
            time.sleep(0.05)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=WAIT)


def expected_claims() -> int:
    from claims.importer import prepare

    prepared = prepare(
        SAMPLE_PATH.read_bytes(), filename=SAMPLE_PATH.name, published_on=SAMPLE_PUBLISHED
    )
    return len(prepared.segmentation.claims)


def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_runs_again(
    worker_db: dict[str, str], tmp_path: Path
) -> None:
    job = queue_import_in(worker_db, "killed")
    kill_mid_import(worker_db, tmp_path)

    # Nothing of the article: its one transaction died with the worker.
    seen = in_db(worker_db, "describe", job)
    assert (seen["status"], seen["attempts"], seen["articles"]) == ("running", 1, [])
    # Polling its page finds the worker silent and queues the job again (a live worker
    # would have said something within CLAIMS_JOB_STALE_SECONDS; here that is 0).
    seen = in_db(worker_db, "describe", job, True, CLAIMS_JOB_STALE_SECONDS="0")
    assert (seen["recovered"], seen["status"], seen["articles"]) == (1, "queued", [])

    run_worker(worker_db)
    seen = in_db(worker_db, "describe", job)
    assert (seen["status"], seen["attempts"], seen["error"]) == ("done", 2, "")
    [(article, claims)] = seen["articles"]
    assert claims == expected_claims()
    assert seen["result"] == {
        "article": article,
        "created": True,
        "title": seen["result"]["title"],
        "claims": claims,
    }
    assert seen["payload"] is False  # the text is not kept once imported
    assert seen["intact"]  # verify_audit: the log and the tables agree


def test_a_job_killed_on_its_last_attempt_is_reported_failed(
    worker_db: dict[str, str], tmp_path: Path
) -> None:
    job = queue_import_in(worker_db, "given-up")
    kill_mid_import(worker_db, tmp_path)
    seen = in_db(
        worker_db,
        "describe",
        job,
        True,
        CLAIMS_JOB_STALE_SECONDS="0",
        CLAIMS_JOB_ATTEMPTS="1",
    )
    assert (seen["recovered"], seen["status"], seen["articles"]) == (1, "failed", [])
    assert seen["error"] == (
        "The worker stopped while running this job 1 times; nothing was imported."
    )
    assert seen["payload"] is False
    assert seen["intact"]
    run_worker(worker_db)  # nothing is left queued for it
    assert in_db(worker_db, "describe", job)["articles"] == []


def test_the_worker_imports_then_sends_the_webhook_of_its_event(
    worker_db: dict[str, str],
) -> None:
    """The whole path: the import's event commits in the worker, which enqueues its
    delivery (claims.log.chain), and runs it: a signed POST to a receiver on 127.0.0.1."""
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), raw))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = worker_db | {"CLAIMS_FETCH_ALLOW_PRIVATE": "1"}
        address = f"http://127.0.0.1:{server.server_port}/in"
        queued = in_db(env, "hook_and_queue_import", "hooked", address)
        run_worker(env)
    finally:
        server.shutdown()
        server.server_close()
    [(headers, raw)] = received
    assert webhooks.verify_signature(queued["secret"], headers["Claims-Signature"], raw)
    sent = json.loads(raw)
    assert (sent["project"], sent["event"]["action"]) == ("hooked", "article.imported")
    assert in_db(worker_db, "describe", queued["job"])["status"] == "done"


def test_a_link_goes_through_the_worker_to_the_preview_and_is_imported_on_confirm(
    worker_db: dict[str, str],
) -> None:
    """The browser's import from a link, whole: the import page starts a job and fetches
    nothing, a real worker fetches the page (served on 127.0.0.1) and keeps it, the job's
    page links to the preview, and the preview's confirm imports the article with its
    source address and fetch time; the job keeps no copy of the page after."""
    from tests.test_import_url import TITLE
    from tests.webpages import ARTICLE_PAGE, Page, serve

    env = worker_db | {"CLAIMS_FETCH_ALLOW_PRIVATE": "1"}
    with serve({"/story": Page(ARTICLE_PAGE)}) as site:
        given = in_db(env, "give_link", "linked", site.url("/story"))
        assert (given["status"], given["location"]) == (302, given["job_page"])
        assert site.requests == [] and given["articles"] == 0
        run_worker(env)
        assert [path for path, _ in site.requests] == ["/story"]
        seen = in_db(env, "describe", given["job"])
        assert (seen["status"], seen["articles"], seen["payload"]) == ("done", [], True)
        done = in_db(env, "review_and_confirm", "linked", given["job"])
    assert done["review"] == f"/p/linked/import/?job={given['job']}"
    assert done["prefilled"] == {
        "title": TITLE,
        "author": "Dana Whitfield",
        "published_on": "2024-03-05",
    }
    assert done["confirmed"] == done["article"]
    assert done["source_url"] == site.url("/story")
    assert done["fetched_at"] is not None and done["fetched_at"] == done["page"]["fetched_at"]
    assert done["job_article"] and done["payload"] is False
    # Had nobody confirmed, the worker would have dropped the page a day on.
    assert done["forget_args"] == [given["job"]]
    assert 86400 <= done["forget_after"] <= 86400 + 60
    assert done["intact"]
    assert len(site.requests) == 1  # fetched once, by the worker


def queue_import_in(env: dict[str, str], slug: str) -> int:
    job: int = in_db(env, "queue_import", slug)["job"]
    return job


# The import page and the job page, in this process ------------------------------------------


@pytest.fixture
def small_threshold(settings: Any) -> None:
    settings.CLAIMS_IMPORT_BACKGROUND_BYTES = 1000


def post_big_import(client: Any, django_capture_on_commit_callbacks: Any, **extra: Any) -> Any:
    data = {"step": "preview", "published_on": "2021-10-22", **extra}
    if "file" not in data:
        data["text"] = SAMPLE_PATH.read_text(encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(url("article-import"), data)


def test_a_big_import_runs_in_the_background_and_its_page_follows_it(
    project: Project, alice: Any, small_threshold: None, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(alice)
    response = post_big_import(client, django_capture_on_commit_callbacks, title="Big one")
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("job-detail", job.pk)
    assert not project.articles.filter(title="Big one").exists()
    # Queued for the worker, with the job's id as its argument.
    queued = DBTaskResult.objects.get(id=job.task_id)
    assert (queued.task_path, queued.args_kwargs["args"]) == ("claims.tasks.run_import", [job.pk])

    page = html(client.get(url("job-detail", job.pk)))
    [polling] = page.select("div", id="job-status")
    assert polling.attrs["hx-trigger"] == "every 1s"
    assert polling.attrs["hx-get"] == url("job-detail", job.pk)
    assert page.select("progress", id="job-progress")

    tasks.run_import.call(job.pk)  # what the worker does with it
    fragment = client.get(url("job-detail", job.pk), **HTMX)
    root = html(fragment)
    [done] = root.select("div", id="job-status")
    assert "hx-trigger" not in done.attrs  # polling stops
    article = project.articles.get(title="Big one")
    [link] = done.select("a", href=url("article-detail", article.pk))
    assert link.content() == "Big one"
    assert not root.select("h1")  # the fragment alone


def test_a_refused_background_import_says_why_on_its_page(
    project: Project, alice: Any, small_threshold: None, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    binary = SimpleUploadedFile("big.txt", b"\x00" * 5000, content_type="text/plain")
    client = client_for(alice)
    head = project.chain.events.count()
    post_big_import(client, django_capture_on_commit_callbacks, file=binary)
    job = Job.objects.get()
    tasks.run_import.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    page = html(client.get(url("job-detail", job.pk)))
    [alert] = page.select("div", id="job-status")[0].select("div", role="alert")
    assert "The file is binary (it contains NUL bytes), not text." in alert.content()
    assert project.chain.events.count() == head


def test_a_small_import_still_previews_in_the_request(
    project: Project, alice: Any, settings: Any
) -> None:
    settings.CLAIMS_IMPORT_BACKGROUND_BYTES = 10 * 1024 * 1024
    response = client_for(alice).post(
        url("article-import"),
        {
            "step": "preview",
            "published_on": "2021-10-22",
            "text": SAMPLE_PATH.read_text(encoding="utf-8"),
        },
    )
    assert response.status_code == 200
    assert not Job.objects.exists()


def test_an_import_job_checks_its_starter_is_still_an_admin(
    project: Project,
    alice: Any,
    bob: Any,
    small_threshold: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    post_big_import(client_for(alice), django_capture_on_commit_callbacks)
    job = Job.objects.get()
    job.user = bob  # as if alice had lost the role since
    job.save(update_fields=["user"])
    tasks.run_import.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "Only a project admin can import articles; nothing was imported."


def test_a_job_is_run_once_even_if_its_task_comes_twice(
    project: Project, alice: Any, small_threshold: None, django_capture_on_commit_callbacks: Any
) -> None:
    post_big_import(client_for(alice), django_capture_on_commit_callbacks)
    job = Job.objects.get()
    assert tasks.run_import.call(job.pk) is not None
    assert tasks.run_import.call(job.pk) is None
    assert project.articles.count() == 1


def test_a_big_document_upload_is_extracted_by_the_worker(
    project: Project, alice: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_import_url import report_docx

    settings.CLAIMS_IMPORT_BACKGROUND_BYTES = 100
    memo = SimpleUploadedFile("memo.docx", report_docx())
    response = post_big_import(client_for(alice), django_capture_on_commit_callbacks, file=memo)
    job = Job.objects.get()
    assert response["Location"] == url("job-detail", job.pk)
    tasks.run_import.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    article = project.articles.get(pk=job.result["article"])
    # What the document says of itself fills the metadata left blank, as the preview does.
    assert (article.title, article.author, article.filename) == (
        "Harbour memo",
        "Sam Keel",
        "memo.docx",
    )
    assert "container traffic doubled" in article.text


def test_a_page_is_fetched_and_imported_by_the_worker(
    project: Project, alice: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.test_import_url import TITLE
    from tests.webpages import ARTICLE_PAGE, Page, redirect, serve

    settings.CLAIMS_FETCH_ALLOW_PRIVATE = ["127.0.0.1/32"]
    pages = {"/story": Page(ARTICLE_PAGE), "/old-link": redirect("/story", 301)}
    with serve(pages) as site:
        with django_capture_on_commit_callbacks(execute=True):
            job = tasks.start_import(project, alice, None, url=site.url("/old-link"))
        tasks.run_import.call(job.pk)
        story = site.url("/story")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    article = project.articles.get(pk=job.result["article"])
    assert (article.title, article.source_url) == (TITLE, story)
    assert article.fetched_at is not None
    heading = html(client_for(alice).get(url("job-detail", job.pk))).select("h1")[0]
    assert heading.content() == f"Import of {job.params['url']}"


def test_a_refused_fetch_fails_the_job_with_the_fetchers_reason(
    project: Project, alice: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.webpages import Page, serve

    settings.CLAIMS_FETCH_ALLOW_PRIVATE = ["127.0.0.1/32"]
    pages = {"/logo.png": Page(b"\x89PNG", headers={"Content-Type": "image/png"})}
    with serve(pages) as site:
        with django_capture_on_commit_callbacks(execute=True):
            job = tasks.start_import(project, alice, None, url=site.url("/logo.png"))
        tasks.run_import.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "image/png" in job.error
    assert not project.articles.exists()


# Progress on the command line --------------------------------------------------------------


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_import_article_shows_its_steps_in_a_log(project: Project) -> None:
    err = StringIO()
    call_command(
        "import_article",
        str(SAMPLE_PATH),
        project="demo",
        published=SAMPLE_PUBLISHED.isoformat(),
        stdout=StringIO(),
        stderr=err,
    )
    lines = err.getvalue().splitlines()
    name = f"Importing {SAMPLE_PATH}"
    claims = expected_claims()
    assert lines == [
        f"{name}: 0% 0/3 steps",
        f"{name}: 33% 1/3 steps segmenting the text",
        f"{name}: 67% 2/3 steps storing {claims} claims",
        f"{name}: 100% 3/3 steps stored",
        f"{name}: done, 3/3 steps",
    ]


def test_on_a_terminal_the_bar_is_redrawn_in_place(project: Project) -> None:
    err = Terminal()
    call_command(
        "import_article",
        str(SAMPLE_PATH),
        project="demo",
        published=SAMPLE_PUBLISHED.isoformat(),
        stdout=StringIO(),
        stderr=err,
    )
    shown = err.getvalue()
    assert shown.startswith("\r\x1b[2K")
    assert f"\r\x1b[2KImporting {SAMPLE_PATH}: done, 3/3 steps\n" in shown
    assert shown.count("\n") == 1  # one line, redrawn


def test_export_and_verify_show_their_progress(
    project: Project, alice: Any, tmp_path: Path
) -> None:
    make_article(project, actor=alice)
    err = StringIO()
    call_command(
        "export_audit",
        project="demo",
        output=str(tmp_path / "audit.csv"),
        format="csv",
        stdout=StringIO(),
        stderr=err,
    )
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("Exporting demo: 0% 0/")
    assert lines[-2].startswith("Exporting demo: done")
    err = StringIO()
    call_command("verify_audit", stdout=StringIO(), stderr=err)
    assert err.getvalue().splitlines()[-1] == "Verifying: done, 1/1 projects"
