"""Importing from a link, a PDF or a DOCX: the browser's form and the command line.

Pages are served on 127.0.0.1 by the tests (tests/webpages.py); the fetcher may reach
127.0.0.1 only, as ``CLAIMS_FETCH_ALLOW_PRIVATE`` says. A refusal says why (by the field it
is about, or on the job's page for a fetch) and writes nothing.

In the browser a link is fetched by the worker: here ``tasks.run_import.call`` does the
worker's part in this process (tests/test_tasks.py runs a real worker), then the import
page previews what it fetched (``?job=``) and the confirm step imports it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import docx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from claims import tasks
from claims.models import Article, AuditEvent, Block, Citation, Claim, Job
from tests.base import HTMX, HTMX_HEADERS, body, client_for, html, url
from tests.factories import make_project
from tests.pdfs import Line, paragraph, pdf
from tests.test_import_view import URL, confirm_fields
from tests.webpages import ARTICLE_PAGE, Page, redirect, serve

TITLE = "Harbour dredging doubled the port's traffic"


@pytest.fixture(autouse=True)
def loopback_only(settings: Any) -> None:
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = ["127.0.0.1/32"]


@pytest.fixture
def site() -> Any:
    undated = ARTICLE_PAGE.replace(
        b'<meta property="article:published_time" content="2024-03-05T08:00:00Z">', b""
    ).replace(b", 5 March 2024", b"")
    pages = {
        "/story": Page(ARTICLE_PAGE),
        "/old-link": redirect("/story", 301),
        "/undated": Page(undated),
        "/report.pdf": Page(report_pdf(), headers={"Content-Type": "application/pdf"}),
        "/logo.png": Page(b"\x89PNG", headers={"Content-Type": "image/png"}),
    }
    with serve(pages) as server:
        yield server


def snapshot() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Article, Block, Citation, Claim, AuditEvent))


def report_pdf() -> bytes:
    return pdf(
        [
            [
                Line(72, 760, "Harbour report", 20),
                *paragraph(72, 720, ["Published: 5 March 2024"]),
                *paragraph(
                    72,
                    690,
                    [
                        "The harbour authority said that container traf-",
                        "fic doubled in the year after the dredging.",
                    ],
                ),
                *paragraph(72, 640, ["Critics argue that the traffic was diverted."]),
            ]
        ],
        title="Harbour report",
        author="Dana Whitfield",
    )


def report_docx() -> bytes:
    document = docx.Document()
    document.core_properties.title = "Harbour memo"
    document.core_properties.author = "Sam Keel"
    document.add_heading("Harbour memo", level=0)
    document.add_paragraph("The harbour authority said that container traffic doubled.")
    document.add_paragraph("Critics argue that the traffic was diverted from elsewhere.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def preview(client: Any, **fields: Any) -> Any:
    return client.post(URL, {"step": "preview", **fields})


# The browser: a link is fetched by the worker, then previewed ----------------------------


def give_link(client: Any, capture: Any = None, **fields: Any) -> Any:
    """Step one with a link; with ``capture`` (django_capture_on_commit_callbacks), its job
    is queued for the worker as the request's commit does."""
    if capture is None:
        return preview(client, **fields)
    with capture(execute=True):
        return preview(client, **fields)


def fetch(client: Any, address: str, capture: Any = None, **fields: Any) -> Job:
    """Give the link, then do the worker's part (fetch and keep the page): its job."""
    response = give_link(client, capture, url=address, **fields)
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == url("job-detail", job.pk)
    if capture is None:
        tasks.run_import.call(job.pk)
    else:
        with capture(execute=True):
            tasks.run_import.call(job.pk)
    job.refresh_from_db()
    return job


def review(client: Any, job: Job, **kwargs: Any) -> Any:
    """The import page's preview of what the job fetched, as "Review the import" opens it."""
    return client.get(f"{URL}?job={job.pk}", **kwargs)


def test_a_link_starts_a_background_fetch_and_fetches_nothing_in_the_request(
    project: Any, alice: Any, site: Any, django_capture_on_commit_callbacks: Any
) -> None:
    before = snapshot()
    response = give_link(
        client_for(alice), django_capture_on_commit_callbacks, url=site.url("/story")
    )
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("job-detail", job.pk)
    assert (job.kind, job.status, job.params["url"], job.params["preview"]) == (
        "import",
        "queued",
        site.url("/story"),
        True,
    )
    queued = DBTaskResult.objects.get(id=job.task_id)
    assert (queued.task_path, queued.args_kwargs["args"]) == ("claims.tasks.run_import", [job.pk])
    assert site.requests == []
    assert snapshot() == before


def test_the_job_page_shows_the_fetch_then_opens_the_preview(
    project: Any, alice: Any, site: Any
) -> None:
    client = client_for(alice)
    give_link(client, url=site.url("/story"))
    job = Job.objects.get()
    waiting = html(client.get(url("job-detail", job.pk))).by_id("job-status")
    assert waiting.attrs["hx-trigger"] == "every 1s"  # polls while the worker fetches
    assert "Refresh" in waiting.content()  # without JavaScript, a link to look again
    tasks.run_import.call(job.pk)
    job.refresh_from_db()
    assert (job.status, job.phase, job.result["page"]["title"]) == ("done", "done", TITLE)
    done = html(client.get(url("job-detail", job.pk), **HTMX)).by_id("job-status")
    assert "hx-trigger" not in done.attrs
    [button] = done.select("a", href=f"{URL}?job={job.pk}")
    assert button.content() == "Review the import"
    assert "Nothing is imported until you have reviewed it" in done.content()


def test_the_fetched_page_is_previewed_with_its_metadata_prefilled_and_nothing_written(
    project: Any, alice: Any, site: Any
) -> None:
    client = client_for(alice)
    before = snapshot()
    job = fetch(client, site.url("/old-link"))
    response = review(client, job)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {}
    assert form.found == {
        "title": TITLE,
        "author": "Dana Whitfield",
        "date": dt.date(2024, 3, 5),
        "source_url": site.url("/story"),
    }
    content = response.content.decode()
    assert "Read from" in content and "5 March 2024" in content
    for name, value in [
        ("title", TITLE.replace("'", "&#x27;")),
        ("author", "Dana Whitfield"),
        ("published_on", "2024-03-05"),
        ("source_url", site.url("/story")),
    ]:
        assert f'name="{name}" value="{value}"' in content.replace(' maxlength="500"', "")
    assert "212 vessels called at the port" in content
    assert "SuperPhone" not in content.split('id="preview-h"')[1]
    # Previewing again posts to the job's preview: the page is not fetched again.
    [form_tag] = html(content).select("form", action=f"{URL}?job={job.pk}")
    assert form_tag.attrs["hx-post"] == f"{URL}?job={job.pk}"
    assert snapshot() == before


def test_a_link_is_imported_with_its_source_and_fetch_time(
    project: Any, alice: Any, site: Any
) -> None:
    client = client_for(alice)
    before = snapshot()
    started = timezone.now()
    job = fetch(client, site.url("/story"))
    response = client.post(URL, confirm_fields(review(client, job)))
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/a/{article.pk}/")
    assert (article.title, article.author, article.published_on) == (
        TITLE,
        "Dana Whitfield",
        dt.date(2024, 3, 5),
    )
    assert article.source_url == site.url("/story")
    assert article.fetched_at is not None and started <= article.fetched_at <= timezone.now()
    assert article.fetched_at.isoformat() == job.result["page"]["fetched_at"]
    assert article.filename == "story"
    assert article.text.startswith(f"# {TITLE}\n\n")
    events = AuditEvent.objects.order_by("pk")[before[-1] :]
    assert [e.action for e in events] == ["article.imported"]
    page = body(client.get(url("article-detail", article.pk)))
    assert f'href="{site.url("/story")}"' in page
    assert "fetched " + article.fetched_at.strftime("%-d %B %Y %H:%M") + " UTC" in page
    # Imported: the job keeps no copy of the page, and its page links to the article.
    job.refresh_from_db()
    assert job.payload is None
    assert (job.result["article"], job.result["created"]) == (article.pk, True)
    status = html(client.get(url("job-detail", job.pk))).by_id("job-status")
    assert status.select("a", href=url("article-detail", article.pk))
    again = html(review(client, job)).by_id("fetch-job")
    assert "This page was imported as" in again.content()
    assert again.select("a", href=url("article-detail", article.pk))


def test_the_export_names_the_source_and_fetch_time(project: Any, alice: Any, site: Any) -> None:
    client = client_for(alice)
    client.post(URL, confirm_fields(review(client, fetch(client, site.url("/story")))))
    article = Article.objects.get()
    exported = json.loads(body(client.get(url("article-consensus-export", article.pk, "json"))))
    row = exported["claims"][0]
    assert row["article_source_url"] == site.url("/story")
    assert row["article_fetched_at"] == article.fetched_at.isoformat()


def test_a_forged_fetch_record_is_refused(project: Any, alice: Any, site: Any) -> None:
    client = client_for(alice)
    job = fetch(client, site.url("/story"))
    fields = confirm_fields(review(client, job))
    before = snapshot()
    response = client.post(URL, {**fields, "fetched": fields["fetched"][:-2] + "xx"})
    assert response.status_code == 200
    assert "The record of the fetch is not the one the preview made" in body(response)
    assert snapshot() == before
    job.refresh_from_db()
    assert job.payload is not None  # not imported: the page is still there to preview


def test_what_was_typed_with_the_link_wins_over_what_the_page_says(
    project: Any, alice: Any, site: Any
) -> None:
    client = client_for(alice)
    job = fetch(client, site.url("/story"), title="Given title", published_on="2024-03-06")
    form = review(client, job).context["form"]
    assert form.errors == {}
    assert (form.data["title"], form.data["published_on"], form.data["author"]) == (
        "Given title",
        "2024-03-06",
        "Dana Whitfield",
    )
    # What is typed in the preview's own form wins too, and nothing is fetched again.
    changed = client.post(
        f"{URL}?job={job.pk}", {"step": "preview", "title": "Changed", "published_on": ""}
    )
    assert changed.context["form"].cleaned_data["title"] == "Changed"
    assert changed.context["form"].cleaned_data["published_on"] == dt.date(2024, 3, 5)
    client.post(URL, confirm_fields(changed))
    assert Article.objects.get().title == "Changed"
    assert len(site.requests) == 1


def test_a_page_without_a_date_asks_for_it_with_the_rest_prefilled(
    project: Any, alice: Any, site: Any
) -> None:
    client = client_for(alice)
    before = snapshot()
    job = fetch(client, site.url("/undated"))
    form = review(client, job).context["form"]
    assert form.errors["published_on"] == [
        "The text does not say when it was published; give the publication date."
    ]
    assert form.data["title"] == TITLE and form.data["author"] == "Dana Whitfield"
    assert snapshot() == before
    dated = client.post(
        f"{URL}?job={job.pk}",
        {"step": "preview", "published_on": "2024-03-07", "title": TITLE, "author": "D. W."},
    )
    assert dated.context["form"].errors == {}
    client.post(URL, confirm_fields(dated))
    article = Article.objects.get()
    assert (article.published_on, article.author) == (dt.date(2024, 3, 7), "D. W.")
    assert article.source_url == site.url("/undated") and article.fetched_at is not None
    assert len(site.requests) == 1  # fetched once, by the worker


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/gone", "The page answered 404 Not Found."),
        (
            "/logo.png",
            "The page is image/png, not application/pdf, application/vnd.openxmlformats-"
            "officedocument.wordprocessingml.document, application/xhtml+xml, text/html.",
        ),
    ],
)
def test_a_link_that_cannot_be_fetched_fails_its_job_with_why(
    project: Any, alice: Any, site: Any, path: str, message: str
) -> None:
    client = client_for(alice)
    before = snapshot()
    job = fetch(client, site.url(path))
    assert (job.status, job.error) == ("failed", message)
    status = html(client.get(url("job-detail", job.pk))).by_id("job-status")
    [alert] = status.select("div", role="alert")
    assert alert.content() == message
    assert status.select("a", href=URL)  # import again
    # Its preview says why too, with the link in the form to try again.
    response = review(client, job)
    assert response.status_code == 200
    assert message in html(response).by_id("fetch-job").content()
    assert response.context["form"].initial == {"url": site.url(path)}
    assert snapshot() == before


def test_a_link_to_a_private_address_is_refused_by_default(
    project: Any, alice: Any, site: Any, settings: Any
) -> None:
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = False
    before = snapshot()
    job = fetch(client_for(alice), site.url("/story"))
    assert (job.status, job.error) == (
        "failed",
        "127.0.0.1 is a private or local address (127.0.0.1); "
        "only public web pages can be fetched.",
    )
    assert site.requests == []
    assert snapshot() == before


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"url": "ftp://example.org/a"},
            {"url": ["Enter a web address that starts with http:// or https://."]},
        ),
        (
            {"url": "https://example.org/a", "text": "Some text here."},
            {"__all__": ["Give a link, a file or a pasted text: only one."]},
        ),
        (
            {"url": "https://example.org/a", "published_on": "5 March"},
            {"published_on": ["Enter the publication date as YYYY-MM-DD."]},
        ),
    ],
)
def test_a_bad_link_is_refused_without_a_fetch(
    project: Any, alice: Any, fields: dict[str, str], errors: dict[str, list[str]]
) -> None:
    before = snapshot()
    response = preview(client_for(alice), **fields)
    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert not Job.objects.exists()
    assert snapshot() == before


def test_a_link_beside_a_big_text_is_refused_not_imported_without_it(
    project: Any, alice: Any, settings: Any
) -> None:
    """Regression: a text above the background size went to the worker with the link
    ignored, instead of being refused as a link beside a text is."""
    settings.CLAIMS_IMPORT_BACKGROUND_BYTES = 10
    response = preview(
        client_for(alice),
        url="https://example.org/a",
        text="The port grew by a third last year, the authority said.",
        published_on="2024-03-05",
    )
    assert response.context["form"].errors == {
        "__all__": ["Give a link, a file or a pasted text: only one."]
    }
    assert not Job.objects.exists()


def test_a_link_under_htmx_sends_the_page_to_its_job(project: Any, alice: Any, site: Any) -> None:
    response = client_for(alice).post(
        URL, {"step": "preview", "url": site.url("/story")}, headers=HTMX_HEADERS
    )
    job = Job.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == url("job-detail", job.pk)


def test_a_fetched_page_previewed_again_under_htmx_answers_the_fragment(
    project: Any, alice: Any, site: Any
) -> None:
    client = client_for(alice)
    job = fetch(client, site.url("/story"))
    response = client.post(
        f"{URL}?job={job.pk}", {"step": "preview", "title": "Changed"}, headers=HTMX_HEADERS
    )
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="import-preview">')
    assert "212 vessels called at the port" in content
    assert 'value="Changed"' in content


@pytest.mark.parametrize("who", ["bob", "rita", "victor", "mallory"])
def test_only_admins_may_import_from_a_link_and_nothing_is_fetched(
    project: Any, site: Any, who: str, request: Any
) -> None:
    before = snapshot()
    response = preview(client_for(request.getfixturevalue(who)), url=site.url("/story"))
    assert response.status_code == (404 if who == "mallory" else 403)
    assert not Job.objects.exists()
    assert site.requests == []
    assert snapshot() == before


@pytest.mark.parametrize(
    ("starter", "who", "status"),
    [
        ("alice", "alice", 200),
        ("carol", "alice", 200),  # an admin opens anyone's, as on the job's page
        ("alice", "bob", 404),  # someone else's
        ("alice", "rita", 404),
        ("alice", "mallory", 404),  # not in the project
        ("bob", "bob", 403),  # their own, but only admins import
    ],
)
def test_only_the_starter_or_an_admin_may_open_a_preview(
    project: Any, site: Any, starter: str, who: str, status: int, request: Any
) -> None:
    job = fetch(client_for(request.getfixturevalue("alice")), site.url("/story"))
    job.user = request.getfixturevalue(starter)
    job.save(update_fields=["user"])
    before = snapshot()
    response = review(client_for(request.getfixturevalue(who)), job)
    assert response.status_code == status
    assert ("212 vessels called at the port" in body(response)) is (status == 200)
    assert snapshot() == before


def test_a_job_that_is_not_a_fetch_of_this_project_is_404(
    project: Any, alice: Any, site: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(alice)
    other = make_project("other", admin=alice)
    elsewhere = tasks.start_import(other, alice, None, url=site.url("/story"), preview=True)
    tasks.run_import.call(elsewhere.pk)
    settings.CLAIMS_IMPORT_BACKGROUND_BYTES = 10
    text = "The port grew by a third last year, the authority said."
    post_text = {"text": text, "published_on": "2024-03-05"}
    give_link(client, django_capture_on_commit_callbacks, **post_text)  # a text's own import
    text_job = Job.objects.get(project=project)
    for job_id in [str(elsewhere.pk), str(text_job.pk), "999999", "x", "", str(2**64)]:
        response = client.get(f"{URL}?job={job_id}")
        assert response.status_code == 404, job_id
    assert body(client.get(url("job-detail", text_job.pk)))  # that job is there, though


def test_the_preview_of_a_job_still_fetching_says_so(project: Any, alice: Any, site: Any) -> None:
    client = client_for(alice)
    give_link(client, url=site.url("/story"))
    job = Job.objects.get()
    for response in (review(client, job), client.post(f"{URL}?job={job.pk}", {"title": "x"})):
        assert response.status_code == 200
        notice = html(response).by_id("fetch-job")
        assert "The page is still being fetched" in notice.content()
        assert notice.select("a", href=url("job-detail", job.pk))
        assert "preview" not in response.context
    assert not Job.objects.exclude(pk=job.pk).exists() and site.requests == []


def test_a_fetched_page_is_dropped_after_a_day(
    project: Any, alice: Any, site: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(alice)
    job = fetch(client, site.url("/story"), django_capture_on_commit_callbacks)
    assert job.payload is not None
    [forget] = DBTaskResult.objects.filter(task_path="claims.tasks.forget_page")
    assert forget.args_kwargs["args"] == [job.pk]
    assert job.finished_at is not None
    kept = forget.run_after - job.finished_at
    assert tasks.KEEP_PAGE <= kept <= tasks.KEEP_PAGE + dt.timedelta(minutes=1)
    # A day on, before the worker has dropped it, the preview counts it gone already...
    Job.objects.filter(pk=job.pk).update(finished_at=job.finished_at - tasks.KEEP_PAGE)
    gone = review(client, job)
    assert "was kept for a day and is gone" in html(gone).by_id("fetch-job").content()
    assert gone.context["form"].initial == {"url": site.url("/story")}
    # ... and the worker drops it then.
    assert tasks.forget_page.call(job.pk) is True
    job.refresh_from_db()
    assert job.payload is None
    assert tasks.forget_page.call(job.pk) is False
    assert not Article.objects.exists()


def upload(data: bytes, name: str, kind: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=kind)


def test_a_pdf_upload_is_previewed_and_imported(project: Any, alice: Any) -> None:
    client = client_for(alice)
    shown = preview(client, file=upload(report_pdf(), "report.pdf", "application/pdf"))
    form = shown.context["form"]
    assert form.errors == {}
    assert (form.data["title"], form.data["author"]) == ("Harbour report", "Dana Whitfield")
    assert "container traffic doubled in the year" in body(shown)
    client.post(URL, confirm_fields(shown))
    article = Article.objects.get()
    assert (article.filename, article.title, article.published_on) == (
        "report.pdf",
        "Harbour report",
        dt.date(2024, 3, 5),
    )
    assert (article.source_url, article.fetched_at) == ("", None)
    assert "container traffic doubled" in article.text


def test_a_docx_upload_is_previewed_with_its_metadata(project: Any, alice: Any) -> None:
    kind = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    client = client_for(alice)
    shown = preview(
        client, file=upload(report_docx(), "memo.docx", kind), published_on="2024-04-01"
    )
    assert shown.context["form"].errors == {}
    assert (shown.context["form"].data["title"], shown.context["form"].data["author"]) == (
        "Harbour memo",
        "Sam Keel",
    )
    client.post(URL, confirm_fields(shown))
    assert Article.objects.get().filename == "memo.docx"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("broken.pdf", b"%PDF-1.4 nothing", "The PDF is damaged and cannot be read."),
        (
            "scan.pdf",
            pdf([[]]),
            "The PDF has no text to read (it may be scanned images); "
            "import a PDF with a text layer, or the text itself.",
        ),
        ("memo.docx", b"not a zip", "The file is not a Word document (.docx)."),
    ],
)
def test_a_document_that_cannot_be_read_says_why_and_writes_nothing(
    project: Any, alice: Any, name: str, data: bytes, message: str
) -> None:
    before = snapshot()
    response = preview(client_for(alice), file=upload(data, name, "application/octet-stream"))
    assert response.context["form"].errors == {"file": [message]}
    assert snapshot() == before


def test_a_text_upload_still_needs_its_date(project: Any, alice: Any) -> None:
    response = preview(client_for(alice), text="The port grew by a third last year.")
    assert response.context["form"].errors == {
        "published_on": ["Give the date the article was published."]
    }


# The command line ------------------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_article", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_imports_a_link(project: Any, site: Any) -> None:
    before = snapshot()
    out = run("--url", site.url("/old-link"), "--project", "demo")
    article = Article.objects.get()
    assert f"Imported {TITLE!r}" in out
    assert (article.source_url, article.author, article.published_on) == (
        site.url("/story"),
        "Dana Whitfield",
        dt.date(2024, 3, 5),
    )
    assert article.fetched_at is not None
    assert snapshot()[-1] == before[-1] + 1


def test_the_command_takes_what_is_given_over_what_the_page_says(project: Any, site: Any) -> None:
    run(
        "--url",
        site.url("/story"),
        "--project",
        "demo",
        "--title",
        "Given",
        "--published",
        "2024-03-06",
    )
    article = Article.objects.get()
    assert (article.title, article.published_on) == ("Given", dt.date(2024, 3, 6))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "/gone"], "The page answered 404 Not Found."),
        (["--url", "/undated"], "The text does not say when it was published"),
        (["--url", "file:///etc/passwd"], "Only http and https addresses can be fetched"),
        (["--url", "/story", "some.txt"], "Give a file to import, or --url ADDRESS"),
        ([], "Give a file to import, or --url ADDRESS"),
    ],
)
def test_the_command_refuses_a_link_it_cannot_import_and_writes_nothing(
    project: Any, site: Any, args: list[str], message: str
) -> None:
    args = [site.url(a) if a.startswith("/") else a for a in args]
    before = snapshot()
    with pytest.raises(CommandError, match=message):
        run(*args, "--project", "demo")
    assert snapshot() == before


def test_a_page_title_longer_than_ours_is_cut_to_fit_as_the_preview_cuts_it(
    project: Any,
) -> None:
    page = ARTICLE_PAGE.replace(TITLE.encode(), b"Harbour " * 80)
    with serve({"/long": Page(page)}) as server:
        run("--url", server.url("/long"), "--project", "demo")
    assert Article.objects.get().title == ("Harbour " * 80)[:500]


@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_the_command_imports_a_pdf_or_a_docx(project: Any, tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"report.{kind}"
    path.write_bytes(report_pdf() if kind == "pdf" else report_docx())
    run(str(path), "--project", "demo", "--published", "2024-03-05")
    article = Article.objects.get()
    assert article.filename == f"report.{kind}"
    assert article.title == ("Harbour report" if kind == "pdf" else "Harbour memo")
    assert "container traffic doubled" in article.text


def test_the_command_refuses_a_damaged_pdf(project: Any, tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4 nothing")
    before = snapshot()
    with pytest.raises(CommandError, match="broken.pdf: The PDF is damaged and cannot be read."):
        run(str(path), "--project", "demo", "--published", "2024-03-05")
    assert snapshot() == before
