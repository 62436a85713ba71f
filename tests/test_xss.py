"""Nothing anyone types becomes markup or script: a corpus of payloads goes in through every
form, and every page, fragment and export is parsed (not regex-matched) for active content."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import Evidence
from tests.base import body
from tests.factories import make_article

TEXT_PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<a href="javascript:alert(1)">click</a>',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    "<base href=//evil.example/>",
    "<meta http-equiv=refresh content=0;url=javascript:alert(1)>",
    '" onmouseover="alert(1)',
    "' onfocus='alert(1)' autofocus='",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "{{ 7|add:7 }} {% debug %}",
    "<!-- <script>alert(1)</script> -->",
    "<style>body{display:none}</style>",
    '=HYPERLINK("https://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "<svg><script>alert(1)</script></svg>",
]

URL_PAYLOADS = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "javascript&colon;alert(1)",
    "jav&#x09;ascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.org/file",
    "//evil.example/",
    "/relative/path",
    "http:/evil.example",
    "https:evil.example",
    "mailto:someone@example.org",
    "tel:+123456",
    "about:blank",
    "chrome://settings",
    "view-source:https://example.org",
    'https://example.org/"><script>alert(1)</script>',
    "https://example.org/<script>alert(1)</script>",
    "https://example.org/?q=<img src=x onerror=alert(1)>",
    'https://example.org/" onmouseover="alert(1)',
    "https://exa mple.org/",
    "https://example.org/\nSet-Cookie:x=1",
    "https://user:pass@example.org/",
    "https://example.org/" + "a" * 2100,
    "",
    "https://",
    "http://[::1",
    "https://example.org/ok-link",
]

ALLOWED_SCRIPTS = ("/static/",)
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "xlink:href"}
FORBIDDEN_TAGS = {"iframe", "object", "embed", "base", "frame", "frameset", "applet"}


class ActiveContent(HTMLParser):
    """Collects anything in a document that could run script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "") for name, value in attrs}
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "script" and not values.get("src", "").startswith(ALLOWED_SCRIPTS):
            self.problems.append(f"inline or foreign script {values}")
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            self.problems.append("meta refresh")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            squashed = "".join(value.split()).lower()
            if name in URL_ATTRIBUTES and squashed.startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")


def active_content(html: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(html)
    parser.close()
    return parser.problems


@pytest.fixture
def loaded(project: Any, alice: Any, bob: Any, carol: Any, rita: Any) -> Any:
    """Every payload stored through the real forms and verbs, in every free-text field."""
    title = " ".join(TEXT_PAYLOADS[:3])
    text = "Safe Title\n\n" + "\n\n".join(
        f"Claim {i} says {payload} plainly." for i, payload in enumerate(TEXT_PAYLOADS)
    )
    article = make_article(project, text + "\n", title=title, actor=alice)
    claims = list(article.claims.order_by("start"))
    client = Client()
    client.force_login(bob)
    for i, payload in enumerate(TEXT_PAYLOADS):
        claim = claims[i % len(claims)]
        claim.set_verdict(bob, "supported", rationale=payload, expected_version=0)
        claim.set_verdict(carol, "disputed", rationale=payload, expected_version=0)
        client.post(
            reverse("evidence-add", args=["demo", claim.pk]),
            {
                "evidence-url": "https://example.org/e",
                "evidence-title": payload[:300],
                "evidence-stance": "supports",
                "evidence-quote": payload,
                "evidence-note": payload,
            },
        )
    claims[0].adjudicate(rita, "disputed", rationale=TEXT_PAYLOADS[0])
    return article


def pages(article: Any, user: Any) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    claim = article.claims.order_by("start")[1]
    htmx = {"HTTP_HX_REQUEST": "true"}
    urls = {
        "project": (reverse("project-detail", args=["demo"]), {}),
        "article": (
            reverse("article-detail", args=["demo", article.pk]) + f"?claim={claim.pk}",
            {},
        ),
        "panel": (reverse("claim-panel", args=["demo", claim.pk]), htmx),
        "consensus": (reverse("article-consensus", args=["demo", article.pk]), {}),
        "project consensus": (reverse("project-consensus", args=["demo"]), {}),
        "queue": (reverse("queue", args=["demo"]), {}),
        "history": (reverse("claim-history", args=["demo", claim.pk]), {}),
        "activity": (reverse("project-activity", args=["demo"]), {}),
        "search": (
            reverse("article-detail", args=["demo", article.pk]) + "?q=%3Cscript%3Ealert(1)",
            {},
        ),
    }
    return {name: body(client.get(url, **headers)) for name, (url, headers) in urls.items()}


def test_the_corpus_is_big_enough() -> None:
    assert len(TEXT_PAYLOADS) >= 20
    assert len(URL_PAYLOADS) >= 30


def test_text_payloads_render_as_text_everywhere(loaded: Any, rita: Any) -> None:
    for name, html in pages(loaded, rita).items():
        assert active_content(html) == [], name
    panel = pages(loaded, rita)["panel"]  # claim 1 carries payload 1, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in panel


def test_exports_carry_payloads_inertly(loaded: Any, rita: Any) -> None:
    client = Client()
    client.force_login(rita)
    response = client.get(reverse("article-consensus-export", args=["demo", loaded.pk, "csv"]))
    assert response["Content-Type"].startswith("text/csv")
    for row in csv.reader(io.StringIO(body(response))):
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    as_json = client.get(reverse("article-consensus-export", args=["demo", loaded.pk, "json"]))
    assert as_json["Content-Type"] == "application/json"
    assert as_json["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("url", URL_PAYLOADS)
def test_url_payloads_never_become_links(claim: Any, bob: Any, url: str) -> None:
    client = Client()
    client.force_login(bob)
    response = client.post(
        reverse("evidence-add", args=["demo", claim.pk]),
        {"evidence-url": url, "evidence-title": "t", "evidence-stance": "supports"},
    )
    stored = Evidence.objects.filter(claim=claim).first()
    if stored is not None:  # accepted: it must be a plain web address
        assert response.status_code == 302
        assert stored.url.startswith(("http://", "https://"))
        assert "<" not in stored.url and '"' not in stored.url and " " not in stored.url
    else:
        assert response.status_code == 422
    panel = body(
        client.get(reverse("claim-panel", args=["demo", claim.pk]), HTTP_HX_REQUEST="true")
    )
    assert active_content(panel) == []
    assert active_content(body(response)) == []
