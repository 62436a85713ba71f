"""import_article: the command line and the importer. Bad input writes nothing."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from claims import importer
from claims.importer import ImportRejected, decode, import_article
from claims.models import Article, AuditEvent, Block, Citation, Claim
from tests.factories import SAMPLE_PATH, SAMPLE_PUBLISHED, SHORT_TEXT


def run(*args: str, stdin: bytes | None = None, monkeypatch: Any = None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    call_command("import_article", *args, stdout=out)
    return out.getvalue()


def snapshot() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Article, Block, Citation, Claim, AuditEvent))


def test_imports_the_sample_with_a_summary(project: Any) -> None:
    out = run(str(SAMPLE_PATH), "--project", "demo", "--published", "2021-10-22")
    article = Article.objects.get()
    assert "100 claims, 30 citations, 5 sections" in out
    assert article.title == "Russia and China: A Mutually Exaggerated Strategic Partnership?"
    assert article.text == SAMPLE_PATH.read_text(encoding="utf-8")
    assert article.sha256 == "7914c9639baa8e3dbe32a1697f656929eb0eda2458b9648ca7b9a5b3ef592cd3"
    for claim in article.claims.all():
        assert claim.text == article.text[claim.start : claim.end]
    event = json.loads(AuditEvent.objects.get(action="article.imported").body)
    assert event["after"]["sha256"] == article.sha256
    assert len(event["after"]["claims"]) == article.claims.count()


def test_importing_the_same_bytes_again_adds_nothing(project: Any) -> None:
    run(str(SAMPLE_PATH), "--project", "demo", "--published", "2021-10-22")
    before = snapshot()
    out = run(str(SAMPLE_PATH), "--project", "demo", "--published", "2021-10-22")
    assert "Already imported" in out
    assert "nothing was added" in out
    assert snapshot() == before


def test_imports_from_standard_input(project: Any, monkeypatch: Any) -> None:
    out = run(
        "-",
        "--project",
        "demo",
        "--published",
        "2022-01-05",
        "--title",
        "From stdin",
        stdin=SHORT_TEXT.encode(),
        monkeypatch=monkeypatch,
    )
    assert "Imported 'From stdin'" in out
    assert Article.objects.get().title == "From stdin"


def test_one_event_for_an_import_with_all_derived_rows(project: Any, alice: Any) -> None:
    before = AuditEvent.objects.count()
    article, created = import_article(
        project, SHORT_TEXT.encode(), filename="a.txt", published_on=SAMPLE_PUBLISHED, actor=alice
    )
    assert created
    assert AuditEvent.objects.count() == before + 1
    event = json.loads(AuditEvent.objects.latest("seq").body)
    assert event["action"] == "article.imported"
    assert event["actor"] == "alice"
    assert event["before"] is None
    assert event["after"]["claims"] == [
        [c.pk, c.start, c.end] for c in article.claims.order_by("start")
    ]
    assert article.citations.get().date.isoformat() == "2021-08-25"


def test_rows_written_in_batches_are_those_of_the_segmentation(
    project: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(importer, "BATCH_SIZE", 7)  # every table takes several batches
    data = SAMPLE_PATH.read_bytes()
    seg = importer.prepare(data, filename="s.txt", published_on=SAMPLE_PUBLISHED).segmentation
    article, _ = import_article(project, data, filename="s.txt", published_on=SAMPLE_PUBLISHED)
    blocks = list(article.blocks.order_by("ordinal"))
    assert [(b.kind, b.start, b.end) for b in blocks] == [
        (b.kind, b.start, b.end) for b in seg.blocks
    ]
    citations = list(article.citations.order_by("ordinal"))
    assert [(c.raw, c.start, c.date) for c in citations] == [
        (c.raw, c.start, c.date) for c in seg.citations
    ]
    claims = list(article.claims.order_by("ordinal").prefetch_related("citations"))
    assert [
        (c.start, c.end, c.sentence, c.block_id, {x.pk for x in c.citations.all()}) for c in claims
    ] == [
        (
            c.start,
            c.end,
            c.sentence,
            blocks[seg.sentences[c.sentence].block].pk,
            {citations[i].pk for i in c.citations},
        )
        for c in seg.claims
    ]
    event = json.loads(AuditEvent.objects.get(action="article.imported").body)
    assert event["after"]["claims"] == [[c.pk, c.start, c.end] for c in claims]


def test_crlf_text_is_stored_with_lf(project: Any) -> None:
    article, _ = import_article(
        project,
        SHORT_TEXT.replace("\n", "\r\n").encode(),
        filename="crlf.txt",
        published_on=SAMPLE_PUBLISHED,
    )
    assert "\r" not in article.text
    assert article.text == SHORT_TEXT


def test_html_keeps_text_only(project: Any) -> None:
    html = (
        b"<html><head><title>T</title><script>alert('x')</script></head><body>"
        b"<h1>Trade &amp; Power</h1><p>Moscow praised the talks&nbsp;again.</p>"
        b"<p onclick='evil()'>Beijing stayed silent.</p></body></html>"
    )
    article, _ = import_article(project, html, filename="a.html", published_on=SAMPLE_PUBLISHED)
    assert "alert" not in article.text
    assert "<" not in article.text
    assert "Trade & Power" in article.text
    assert "talks\xa0again." in article.text
    assert article.claims.count() == 2


def test_utf8_bom_is_accepted() -> None:
    assert decode(b"\xef\xbb\xbfHello world.") == "Hello world."


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (lambda tmp: tmp / "missing.txt", "no such file"),
        (lambda tmp: write(tmp / "empty.txt", b""), "The file is empty"),
        (lambda tmp: write(tmp / "blank.txt", b"  \n\n "), "The file is empty"),
        (lambda tmp: write(tmp / "bin.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00"), "binary"),
        (
            lambda tmp: write(tmp / "latin1.txt", "Café au lait.".encode("latin-1")),
            "not valid UTF-8",
        ),
        (lambda tmp: write(tmp / "u16.txt", "Hello.".encode("utf-16")), "UTF-16"),
        (lambda tmp: write(tmp / "big.txt", b"Word. " * 400), "larger than the import limit"),
        (lambda tmp: write(tmp / "nosent.txt", b"Introduction\n\nBackground\n"), "No sentences"),
        (lambda tmp: write(tmp / "a.rtf", b"{\\rtf1 Hello.}"), "cannot be imported"),
        (lambda tmp: write(tmp / "ctrl.txt", b"Hello\x07 world."), "control characters"),
        (lambda tmp: tmp, "not a regular file"),
    ],
)
def test_bad_input_says_why_and_writes_nothing(
    project: Any, tmp_path: Path, settings: Any, make_input: Any, message: str
) -> None:
    settings.CLAIMS_MAX_IMPORT_BYTES = 1000
    path = make_input(tmp_path)
    before = snapshot()
    with pytest.raises(CommandError, match=message) as caught:
        run(str(path), "--project", "demo", "--published", "2021-10-22")
    assert "\n" not in str(caught.value)
    assert snapshot() == before


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_oversized_stdin_is_refused_without_reading_it_all(
    project: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.CLAIMS_MAX_IMPORT_BYTES = 100
    stream = io.BytesIO(b"Sentence here. " * 1000)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(stream))
    before = snapshot()
    with pytest.raises(CommandError, match="larger than the import limit"):
        call_command("import_article", "-", "--project", "demo", "--published", "2021-10-22")
    assert stream.tell() <= 101 + io.DEFAULT_BUFFER_SIZE
    assert snapshot() == before


@pytest.mark.parametrize("date", ["2021-13-01", "22/10/2021", "yesterday", ""])
def test_bad_date_is_refused(project: Any, date: str) -> None:
    before = snapshot()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        run(str(SAMPLE_PATH), "--project", "demo", "--published", date)
    assert snapshot() == before


def test_unknown_project_is_refused(db: Any) -> None:
    with pytest.raises(CommandError, match="no project with the slug 'nope'"):
        run(str(SAMPLE_PATH), "--project", "nope", "--published", "2021-10-22")
    assert snapshot() == (0, 0, 0, 0, 0)


def test_unknown_actor_is_refused(project: Any) -> None:
    before = snapshot()
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        run(str(SAMPLE_PATH), "--project", "demo", "--published", "2021-10-22", "--as", "ghost")
    assert snapshot() == before


def test_importer_rejects_without_the_command(project: Any) -> None:
    with pytest.raises(ImportRejected, match="No sentences"):
        import_article(project, b"Heading\n", filename="x.md", published_on=SAMPLE_PUBLISHED)
    assert snapshot()[0] == 0
