"""Importing an article in the browser: upload or paste, preview, confirm. Admins only."""

from __future__ import annotations

import hashlib
import json
import re
from html import unescape
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from claims.models import Article, AuditEvent
from tests.base import HTMX_HEADERS as HTMX
from tests.base import client_for, html
from tests.factories import SAMPLE_PATH, SHORT_TEXT, make_article

URL = reverse("article-import", args=["demo"])
SAMPLE_SHA256 = "7914c9639baa8e3dbe32a1697f656929eb0eda2458b9648ca7b9a5b3ef592cd3"


def snapshot() -> tuple[int, int]:
    return Article.objects.count(), AuditEvent.objects.count()


def upload(content: bytes, name: str = "article.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def preview(client: Client, **fields: Any) -> Any:
    data = {"step": "preview", "published_on": "2021-10-22", **fields}
    return client.post(URL, data)


def confirm_fields(response: Any) -> dict[str, str]:
    """The hidden fields of the confirm form, as a browser would send them (CRLF lines)."""
    html = response.content.decode()
    form = html[html.index('name="step" value="confirm"') :]
    form = form[: form.index("</form>")]
    fields = {
        name: unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="(\w+)"(?: value="([^"]*)")?', form
        )
    }
    fields["text"] = fields["text"].replace("\n", "\r\n")
    return {**fields, "step": "confirm"}


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# The page --------------------------------------------------------------------------


def test_admin_sees_the_import_form(project: Any, alice: Any) -> None:
    response = client_for(alice).get(URL)
    content = response.content.decode()
    assert response.status_code == 200
    assert 'type="file"' in content
    assert 'type="date"' in content
    assert 'enctype="multipart/form-data"' in content
    assert f'hx-post="{URL}"' in content and 'hx-target="#import-preview"' in content
    assert "<script>" not in content and "style=" not in content


def test_only_what_may_be_left_empty_is_marked_optional(project: Any, alice: Any) -> None:
    """A link, a file or a pasted text: one of them is needed, so none is "(optional)",
    nor is the date a pasted text needs; the title and the author are."""
    page = html(client_for(alice).get(URL))
    labels = {label.attrs["for"]: label.content().strip() for label in page.select("label")}
    for name in ("id_url", "id_file", "id_text", "id_published_on"):
        assert "optional" not in labels[name], labels[name]
    assert labels["id_title"] == "Title (optional)"
    assert labels["id_author"] == "Author (optional)"
    assert "Needed for a pasted text" in page.content()


def test_outsider_gets_404(project: Any, mallory: Any) -> None:
    client = client_for(mallory)
    assert client.get(URL).status_code == 404
    assert preview(client, text=SHORT_TEXT).status_code == 404


@pytest.mark.parametrize("who", ["bob", "rita", "victor"])
def test_members_below_admin_get_403(project: Any, who: str, request: Any) -> None:
    client = client_for(request.getfixturevalue(who))
    before = snapshot()
    assert client.get(URL).status_code == 403
    assert preview(client, text=SHORT_TEXT).status_code == 403
    assert client.post(URL, {"step": "confirm", "text": SHORT_TEXT}).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_method_gets_405(project: Any, alice: Any, method: str) -> None:
    assert getattr(client_for(alice), method)(URL).status_code == 405


def test_anonymous_is_sent_to_login(project: Any) -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# Preview ---------------------------------------------------------------------------


def test_preview_of_pasted_text_shows_claims_and_citations_and_writes_nothing(
    project: Any, alice: Any
) -> None:
    before = snapshot()
    response = preview(client_for(alice), text=SHORT_TEXT)
    content = response.content.decode()
    assert response.status_code == 200
    assert "4 claims in 2 sections, 1 citation" in content
    assert "<h4>Introduction</h4>" in content and "<h4>Outlook</h4>" in content
    assert html(content).select("ol", start="4")  # numbering runs on across sections
    assert "<li>The ministry issued a statement on trade.</li>" in content
    assert '<p class="nonclaim title"><span class="kind">Title</span> A Short Test Article' in (
        content
    )
    assert "<td>Kremlin.ru, August 25</td><td>Kremlin.ru</td><td>2021-08-25</td>" in content
    assert "inferred from the publication date" in content
    assert html(content).select("input", name="step", value="confirm")
    assert snapshot() == before


def test_preview_of_an_uploaded_file(project: Any, alice: Any) -> None:
    response = preview(client_for(alice), file=upload(SAMPLE_PATH.read_bytes(), SAMPLE_PATH.name))
    content = response.content.decode()
    assert "100 claims in 5 sections, 30 citations" in content
    assert "<h4>Diverging Trajectories and Incongruent Interests</h4>" in content
    (artifact, *_) = html(content).select("p", class_="nonclaim artifact")
    assert artifact.select("span", class_="kind")[0].content() == "Capture artifact"
    assert 'class="nonclaim author_bio"' in content
    assert "given</td>" in content  # some years are written out in the sample


def test_preview_of_html_keeps_the_text_and_drops_the_markup(project: Any, alice: Any) -> None:
    page = (
        "<html><head><script>alert(1)</script><style>p{}</style></head><body>"
        "<h1>A Page</h1><p>Moscow praised the talks, but Beijing stayed silent.</p>"
        "</body></html>"
    )
    response = preview(client_for(alice), file=upload(page.encode(), "page.html"))
    content = response.content.decode()
    assert "<li>Moscow praised the talks</li>" in content
    assert "alert(1)" not in content


def test_preview_under_htmx_returns_only_the_partial(project: Any, alice: Any) -> None:
    data = {"step": "preview", "published_on": "2021-10-22", "text": SHORT_TEXT}
    response = client_for(alice).post(URL, data, headers=HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<div id="import-preview">')
    assert "<html" not in content and "<h1>" not in content
    assert "4 claims in 2 sections" in content


def test_invalid_preview_under_htmx_returns_the_form_with_its_errors(
    project: Any, alice: Any
) -> None:
    response = client_for(alice).post(URL, {"step": "preview"}, headers=HTMX)
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="import-preview">')
    assert "Upload a file or paste the text of the article." in content
    assert "Give the date the article was published." in content


def test_preview_warns_when_the_text_is_already_imported(
    project: Any, alice: Any, article: Any
) -> None:
    response = preview(client_for(alice), text=SHORT_TEXT)
    assert "already in the project" in response.content.decode()
    assert response.context["existing"] == article


# Invalid input: the reason by the field, nothing written ------------------------------


INVALID = [
    pytest.param({}, None, "Upload a file or paste the text of the article.", id="neither"),
    pytest.param(
        {"text": SHORT_TEXT, "file": SHORT_TEXT.encode()},
        None,
        "Upload a file or paste the text, not both.",
        id="both",
    ),
    pytest.param(
        {"text": "  \n\n  "}, None, "Upload a file or paste the text of the article.", id="blank"
    ),
    pytest.param({"file": b""}, "file", "The submitted file is empty.", id="empty-file"),
    pytest.param(
        {"text": SHORT_TEXT, "published_on": "2021-13-45"},
        "published_on",
        "Enter the publication date as YYYY-MM-DD.",
        id="bad-date",
    ),
    pytest.param(
        {"text": SHORT_TEXT, "published_on": ""},
        "published_on",
        "Give the date the article was published.",
        id="no-date",
    ),
    pytest.param(
        {"file": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"},
        "file",
        "The file is binary (it contains NUL bytes), not text.",
        id="binary",
    ),
    pytest.param(
        {"file": "Caf\xe9 au lait.".encode("latin-1")},
        "file",
        "The file is not valid UTF-8 (byte 0xe9 at position 3).",
        id="latin-1",
    ),
    pytest.param(
        {"file": ("report.rtf", b"{\\rtf1 Hello.}")},
        "file",
        "Files of type .rtf cannot be imported; use .txt, .md or .html.",
        id="rtf",
    ),
    pytest.param(
        {"text": SHORT_TEXT, "source_url": "javascript:alert(1)"},
        "source_url",
        "Enter a web address that starts with http:// or https://.",
        id="javascript-url",
    ),
    pytest.param(
        {"text": SHORT_TEXT, "source_url": "ftp://example.org/a.txt"},
        "source_url",
        "Enter a web address that starts with http:// or https://.",
        id="ftp-url",
    ),
    pytest.param(
        {"text": SHORT_TEXT, "title": "T" * 501},
        "title",
        "Ensure this value has at most 500 characters (it has 501).",
        id="long-title",
    ),
]


@pytest.mark.parametrize(("fields", "field", "message"), INVALID)
def test_invalid_input_is_told_plainly_and_writes_nothing(
    project: Any, alice: Any, fields: dict[str, Any], field: str | None, message: str
) -> None:
    if "file" in fields:
        name, content = (
            fields["file"] if isinstance(fields["file"], tuple) else ("a.txt", fields["file"])
        )
        fields = {**fields, "file": upload(content, name)}
    before = snapshot()
    response = preview(client_for(alice), **fields)
    assert response.status_code == 200
    assert response.context["form"].errors[field or "__all__"] == [message]
    assert escape(message) in response.content.decode()
    if field:  # announced with the field by screen readers
        assert re.search(f'aria-describedby="[^"]*id_{field}_error"', response.content.decode())
    assert "preview" not in response.context
    assert snapshot() == before


def test_over_size_upload_is_refused_before_it_is_read(
    project: Any, alice: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.CLAIMS_MAX_IMPORT_BYTES = 100

    def read_limited(*args: Any) -> bytes:
        raise AssertionError("read an upload that was known to be too large")

    monkeypatch.setattr("claims.importer.read_limited", read_limited)
    before = snapshot()
    response = preview(client_for(alice), file=upload(SHORT_TEXT.encode()))
    [error] = response.context["form"].errors["file"]
    assert "larger than the import limit of 100\xa0bytes" in error
    assert snapshot() == before


def test_over_size_pasted_text_is_refused(project: Any, alice: Any, settings: Any) -> None:
    settings.CLAIMS_MAX_IMPORT_BYTES = 100
    before = snapshot()
    response = preview(client_for(alice), text=SHORT_TEXT)
    assert response.context["form"].errors["text"] == [
        "The pasted text is larger than the import limit of 100 bytes."
    ]
    assert snapshot() == before


# Confirm ---------------------------------------------------------------------------


def test_confirm_imports_the_previewed_text_and_redirects_to_the_article(
    project: Any, alice: Any
) -> None:
    client = client_for(alice)
    fields = confirm_fields(
        preview(client, text=SHORT_TEXT, title="Talks", source_url="https://example.org/a")
    )
    before = snapshot()
    response = client.post(URL, fields)
    article = Article.objects.get()
    assert response.status_code in (302, 303)
    assert response["Location"] == reverse("article-detail", args=["demo", article.pk])
    assert messages_of(response) == ["Imported 4 claims and 1 citation."]
    assert article.text == SHORT_TEXT
    assert article.sha256 == hashlib.sha256(SHORT_TEXT.encode()).hexdigest()
    assert (article.title, article.source_url) == ("Talks", "https://example.org/a")
    assert article.imported_by == alice
    assert snapshot() == (before[0] + 1, before[1] + 1)
    event = AuditEvent.objects.latest("seq")
    assert event.action == "article.imported"
    assert json.loads(event.body)["actor"] == "alice"
    assert event.article_id == article.pk


def test_confirm_of_an_upload_stores_the_file_exactly(project: Any, alice: Any) -> None:
    client = client_for(alice)
    sample = upload(SAMPLE_PATH.read_bytes(), SAMPLE_PATH.name)
    response = client.post(URL, confirm_fields(preview(client, file=sample)))
    article = Article.objects.get()
    assert article.sha256 == SAMPLE_SHA256
    assert article.filename == SAMPLE_PATH.name
    assert article.title == "Russia and China: A Mutually Exaggerated Strategic Partnership?"
    assert messages_of(response) == ["Imported 100 claims and 30 citations."]
    assert AuditEvent.objects.filter(action="article.imported").count() == 1


def test_duplicate_confirm_adds_nothing_and_goes_to_the_existing_article(
    project: Any, alice: Any
) -> None:
    existing = make_article(project, title="First copy")
    client = client_for(alice)
    fields = confirm_fields(preview(client, text=SHORT_TEXT))
    before = snapshot()
    response = client.post(URL, fields)
    assert response["Location"] == reverse("article-detail", args=["demo", existing.pk])
    assert messages_of(response) == [
        "This text was already imported as 'First copy'; nothing was added."
    ]
    assert snapshot() == before


def test_confirm_with_a_bad_date_shows_the_form_again_and_writes_nothing(
    project: Any, alice: Any
) -> None:
    before = snapshot()
    data = {"step": "confirm", "text": SHORT_TEXT, "published_on": "yesterday"}
    response = client_for(alice).post(URL, data)
    assert response.status_code == 200
    assert response.context["form"].errors["published_on"] == [
        "Enter the publication date as YYYY-MM-DD."
    ]
    assert SHORT_TEXT.splitlines()[0] in response.content.decode()  # kept in the textarea
    assert snapshot() == before


def test_confirm_without_text_shows_the_form_again(project: Any, alice: Any) -> None:
    before = snapshot()
    response = client_for(alice).post(URL, {"step": "confirm", "published_on": "2021-10-22"})
    assert response.status_code == 200
    assert "Upload a file or paste the text of the article." in response.content.decode()
    assert snapshot() == before
