"""Importing from a link through the API: ``POST /projects/{slug}/articles`` with a ``url``.

Pages are served on 127.0.0.1 by the tests (tests/webpages.py); the fetcher may reach
127.0.0.1 only, as ``CLAIMS_FETCH_ALLOW_PRIVATE`` says. A refused fetch is a 422 problem
with the fetcher's own message and writes nothing. Every answer is checked against the
API's OpenAPI document (``tests.api_client``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from claims import tasks
from claims.models import Article, AuditEvent, Job, Project
from tests import test_import_url as url_import
from tests.api_client import Api, data, issue
from tests.test_api import events, prefix
from tests.test_import_url import TITLE, snapshot
from tests.webpages import ARTICLE_PAGE, Page, redirect, serve

PATH = "/projects/demo/articles"

# The browser's import-from-a-link fixtures: fetches may reach 127.0.0.1; its pages there.
loopback_only = url_import.loopback_only
site = url_import.site


@pytest.fixture
def token(project: Project, alice: Any) -> str:
    return issue(alice, project)


def refusal(response: Any) -> str:
    assert response.status_code == 422, response.content[:300]
    detail: str = data(response)["detail"]
    return detail


def test_an_admin_imports_a_page_with_its_source_and_fetch_time(
    project: Project, token: str, site: Any
) -> None:
    before = snapshot()
    started = timezone.now()
    response = Api(token).post(PATH, {"url": site.url("/old-link")})
    assert response.status_code == 201
    made = data(response)
    article = Article.objects.get()
    assert made["created"] is True and made["article"]["id"] == article.pk
    assert made["claims"] == article.claims.count() > 0
    assert (article.title, article.author, article.published_on) == (
        TITLE,
        "Dana Whitfield",
        dt.date(2024, 3, 5),
    )
    # The address the redirects ended at, as the browser keeps it.
    assert article.source_url == made["article"]["source_url"] == site.url("/story")
    assert article.fetched_at is not None and started <= article.fetched_at <= timezone.now()
    assert article.filename == "story"
    assert "212 vessels called at the port" in article.text
    assert "SuperPhone" not in article.text  # the page's advertising is not the article
    new = AuditEvent.objects.order_by("pk")[before[-1] :]
    assert [e.action for e in new] == ["article.imported"]
    assert events(project)[-1]["token"] == prefix(token)


def test_what_the_caller_gives_wins_over_what_the_page_says(
    project: Project, token: str, site: Any
) -> None:
    given = {
        "url": site.url("/story"),
        "published_on": "2024-03-06",
        "title": "Our own title",
        "publication": "The Coastal Ledger",
    }
    assert Api(token).post(PATH, given).status_code == 201
    article = Article.objects.get()
    assert (article.title, article.publication, article.published_on) == (
        "Our own title",
        "The Coastal Ledger",
        dt.date(2024, 3, 6),
    )
    assert article.author == "Dana Whitfield"


def test_the_same_page_twice_adds_nothing(project: Project, token: str, site: Any) -> None:
    api = Api(token)
    assert api.post(PATH, {"url": site.url("/story")}).status_code == 201
    before = snapshot()
    again = api.post(PATH, {"url": site.url("/story")})
    assert again.status_code == 200 and data(again)["created"] is False
    assert snapshot() == before


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
def test_a_page_that_cannot_be_fetched_is_422_saying_why(
    project: Project, token: str, site: Any, path: str, message: str
) -> None:
    before = snapshot()
    assert refusal(Api(token).post(PATH, {"url": site.url(path)})) == message
    assert snapshot() == before


def test_a_private_address_is_refused_by_default(
    project: Project, token: str, site: Any, settings: Any
) -> None:
    settings.CLAIMS_FETCH_ALLOW_PRIVATE = False
    before = snapshot()
    assert refusal(Api(token).post(PATH, {"url": site.url("/story")})) == (
        "127.0.0.1 is a private or local address (127.0.0.1); only public web pages can be fetched."
    )
    assert site.requests == []
    assert snapshot() == before


def test_a_redirect_to_a_private_address_is_refused(
    project: Project, token: str, site: Any, settings: Any
) -> None:
    # The page itself is reachable; where it sends the fetcher is not.
    with serve({"/story": Page(ARTICLE_PAGE)}, host="127.0.0.2") as inside:
        site.pages["/inside"] = redirect(inside.url("/story"))
        before = snapshot()
        message = refusal(Api(token).post(PATH, {"url": site.url("/inside")}))
        assert message.startswith("127.0.0.2 is a private or local address")
        assert inside.requests == []
    assert snapshot() == before


def test_a_page_without_a_date_needs_one(project: Project, token: str, site: Any) -> None:
    api = Api(token)
    before = snapshot()
    assert refusal(api.post(PATH, {"url": site.url("/undated")})) == (
        "The text does not say when it was published; give the publication date."
    )
    assert snapshot() == before
    dated = api.post(PATH, {"url": site.url("/undated"), "published_on": "2024-03-05"})
    assert dated.status_code == 201
    assert Article.objects.get().published_on == dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    "given",
    [
        {"url": "ftp://example.org/a"},
        {"url": "https://example.org/a", "text": "Some text here.", "published_on": "2024-01-01"},
        {"published_on": "2024-01-01"},
        {"url": "https://example.org/a", "source_url": "not a link"},
    ],
    ids=["not-http", "text-and-url", "neither", "bad-metadata"],
)
def test_bad_input_is_422_without_a_fetch(
    project: Project, token: str, site: Any, given: dict[str, str]
) -> None:
    before = snapshot()
    assert Api(token).post(PATH, given).status_code == 422
    assert site.requests == []
    assert snapshot() == before


def test_an_analyst_cannot_import_from_a_link(project: Project, bob: Any, site: Any) -> None:
    api = Api(issue(bob, project))  # issuing writes its own event
    before = snapshot()
    response = api.post(PATH, {"url": site.url("/story")})
    assert response.status_code == 403
    assert site.requests == []
    assert snapshot() == before


# Left to the worker: 202 and a job to follow ---------------------------------------------


def queued(api: Api, given: dict[str, Any], capture: Any, **headers: str) -> tuple[str, Job]:
    """The import sent, answered 202 with its job; the job's task handed to the backend."""
    with capture(execute=True):
        response = api.post(PATH, given, **headers)
    assert response.status_code == 202, response.content[:300]
    job = Job.objects.get(pk=data(response)["id"])
    assert response["Location"] == f"/api/v1/projects/demo/jobs/{job.pk}"
    assert data(response)["state"] == "queued" and job.task_id
    return response["Location"], job


ASYNC = {"Prefer": "respond-async"}


def test_a_link_sent_with_respond_async_is_imported_by_the_worker(
    project: Project,
    token: str,
    site: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    api = Api(token)
    before = snapshot()
    location, job = queued(
        api, {"url": site.url("/story")}, django_capture_on_commit_callbacks, **ASYNC
    )
    assert snapshot() == before and site.requests == []  # nothing fetched in the request
    tasks.run_import.call(job.pk)
    followed = data(api.get(location))
    article = Article.objects.get()
    assert followed | {"created_at": None, "finished_at": None} == {
        "id": job.pk,
        "kind": "import",
        "state": "done",
        "phase": "done",
        "percent": 100,
        "article": article.pk,
        "created": True,
        "export": None,  # an audit export's file, for export jobs
        "error": "",
        "created_at": None,
        "finished_at": None,
    }
    assert (article.title, article.source_url) == (TITLE, site.url("/story"))
    assert article.fetched_at is not None
    new = AuditEvent.objects.order_by("pk")[before[-1] :]
    assert [e.action for e in new] == ["article.imported"]
    assert events(project)[-1]["token"] == prefix(token)  # the worker names the token too


def test_a_text_above_the_background_size_goes_to_the_worker(
    project: Project, token: str, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CLAIMS_IMPORT_BACKGROUND_BYTES = 20
    text = "An API Title\n\nMoscow agreed to talks, and Beijing declined them. Trade grew.\n"
    given = {"text": text, "published_on": "2024-05-01", "filename": "big.txt"}
    api = Api(token)
    location, job = queued(api, given, django_capture_on_commit_callbacks)
    assert not Article.objects.exists()
    tasks.run_import.call(job.pk)
    followed = data(api.get(location))
    assert followed["state"] == "done" and followed["created"] is True
    article = Article.objects.get(pk=followed["article"])
    assert (article.title, article.filename, article.claims.count()) == (
        "An API Title",
        "big.txt",
        3,
    )
    assert events(project)[-1]["token"] == prefix(token)


def test_a_refused_fetch_fails_the_job_with_the_fetchers_reason(
    project: Project, token: str, site: Any, django_capture_on_commit_callbacks: Any
) -> None:
    api = Api(token)
    before = snapshot()
    location, job = queued(
        api, {"url": site.url("/gone")}, django_capture_on_commit_callbacks, **ASYNC
    )
    tasks.run_import.call(job.pk)
    followed = data(api.get(location))
    assert (followed["state"], followed["error"], followed["article"]) == (
        "failed",
        "The page answered 404 Not Found.",
        None,
    )
    assert snapshot() == before


def test_a_job_is_checked_before_it_is_queued(project: Project, token: str, site: Any) -> None:
    before = snapshot()
    api = Api(token)
    bad = [
        ({"url": site.url("/story"), "source_url": "not a link"}, ASYNC),
        ({"text": "Some text.", "filename": "a.txt"}, ASYNC),  # a text needs its date
        ({"text": "   ", "published_on": "2024-05-01"}, ASYNC),
    ]
    for given, headers in bad:
        assert api.post(PATH, given, **headers).status_code == 422, given
    assert not Job.objects.exists()
    assert snapshot() == before


def test_someone_elses_job_is_404_unless_you_are_an_admin(
    project: Project,
    token: str,
    site: Any,
    bob: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    location, job = queued(
        Api(token), {"url": site.url("/story")}, django_capture_on_commit_callbacks, **ASYNC
    )
    assert Api(issue(bob, project)).get(location).status_code == 404
    assert Api(issue(bob, project)).get(location.replace(str(job.pk), "99999")).status_code == 404


def test_the_worker_cuts_a_long_page_title_as_the_request_does(
    project: Project, token: str, django_capture_on_commit_callbacks: Any
) -> None:
    """One URL import for the request, the worker and the command
    (``extraction.prepare_page``): a page's title longer than ours is cut to fit."""
    page = ARTICLE_PAGE.replace(TITLE.encode(), b"Harbour " * 80)
    api = Api(token)
    with serve({"/long": Page(page)}) as server:
        now = api.post(PATH, {"url": server.url("/long")})
        location, job = queued(
            api, {"url": server.url("/long")}, django_capture_on_commit_callbacks, **ASYNC
        )
        tasks.run_import.call(job.pk)
    assert now.status_code == 201
    followed = data(api.get(location))
    assert (followed["state"], followed["created"]) == ("done", False)  # the same text
    assert Article.objects.get().title == ("Harbour " * 80)[:500]
