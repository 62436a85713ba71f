"""Hostile input: oversized and compressed uploads, URLs that are not web links."""

from __future__ import annotations

import gzip
import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from claims.importer import ImportRejected, decode
from claims.models import Article, AuditEvent, Evidence


def admin_client(alice: Any) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def upload(client: Client, name: str, data: bytes) -> Any:
    return client.post(
        reverse("article-import", args=["demo"]),
        {"step": "preview", "published_on": "2021-10-22", "file": SimpleUploadedFile(name, data)},
    )


def test_oversized_upload_is_stopped_while_reading(project: Any, alice: Any, settings: Any) -> None:
    settings.CLAIMS_MAX_IMPORT_BYTES = 10_000
    before = (Article.objects.count(), AuditEvent.objects.count())
    response = upload(admin_client(alice), "big.txt", b"A sentence here. " * 100_000)
    assert response.status_code == 413
    assert "larger than the import limit" in response.content.decode()
    assert (Article.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("a.txt", gzip.compress(b"A sentence here. " * 1000), "gzip"),
        ("a.txt", b"BZh91AY&SY" + b"\x00" * 20, "bzip2"),
        ("a.txt", b"\xfd7zXZ\x00" + b"\x00" * 20, "xz"),
    ],
)
def test_compressed_uploads_are_refused(name: str, data: bytes, kind: str) -> None:
    with pytest.raises(ImportRejected, match=f"compressed \\({kind}\\)"):
        decode(data)


def test_zip_upload_is_refused_in_the_browser(project: Any, alice: Any) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("article.txt", "A sentence here. " * 1000)
    response = upload(admin_client(alice), "article.txt", buffer.getvalue())
    assert "compressed (zip)" in response.content.decode()
    assert not Article.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<b>x</b>",
        "vbscript:x",
        "//evil",
    ],
)
def test_a_stored_non_web_url_is_never_a_link(claim: Any, bob: Any, url: str) -> None:
    evidence = claim.add_evidence(bob, url="https://example.org/ok", stance="supports", title="T")
    # Defence in depth: a value that got past input checks some other way (an old row,
    # a restore) must still not become a link on output.
    Evidence.objects.filter(pk=evidence.pk).update(url=url)
    client = Client()
    client.force_login(bob)
    content = client.get(
        reverse("claim-panel", args=["demo", claim.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "(not a web link)" in content
    assert 'href="' + url not in content
