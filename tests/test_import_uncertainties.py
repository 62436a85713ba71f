"""What the importer stores when the text does not say everything, and how it says so:
no citation is dated by a guess, no article date is made up, and every uncertainty reaches
the caller (``Prepared.uncertainties``) and the command's output."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from claims import importer, segmenter
from claims.importer import ImportRejected, import_article, import_prepared, prepare
from claims.models import Article, AuditEvent, Block, BlockKind, Citation, Claim

CORPUS = Path(__file__).parent / "data" / "corpus"
UNDATED = b"""Sanctions and Their Limits

By Thomas Hale

Oil still flows (Kommersant, March 12). Exports rose (Eurostat, 2024), and imports fell.
"""


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("import_article", *args, stdout=out)
    return out.getvalue()


def test_a_text_without_a_date_is_refused_rather_than_dated_by_a_guess() -> None:
    with pytest.raises(ImportRejected, match="does not say when it was published"):
        prepare(UNDATED, filename="oped.txt")
    prepared = prepare(UNDATED, filename="oped.txt", published_on=dt.date(2024, 5, 1))
    # With a publication date the year is known; a text without one is refused above.
    assert [c.date for c in prepared.segmentation.citations] == [
        dt.date(2024, 3, 12),
        dt.date(2024, 1, 1),
    ]
    assert [c.precision for c in prepared.segmentation.citations] == ["day", "year"]
    # A year is a year, not a guessed first of January: nothing here is uncertain.
    assert prepared.uncertainties == ()


def test_a_citation_that_names_no_date_is_stored_undated(project: Any) -> None:
    data = b"A Title\n\nOil still flows (Kommersant, n.d.). Exports rose (Eurostat, 2024)."
    prepared = prepare(data, filename="a.txt", published_on=dt.date(2024, 5, 1))
    assert [(n.kind, prepared.text[n.start : n.end]) for n in prepared.uncertainties] == [
        ("undated_citation", "Kommersant, n.d."),
    ]
    article, created = import_prepared(project, prepared)
    assert created
    stored = article.citations.order_by("ordinal")
    assert [(c.raw, c.date, c.precision, c.year_source, c.when) for c in stored] == [
        ("Kommersant, n.d.", None, "none", "none", "undated"),
        ("Eurostat, 2024", dt.date(2024, 1, 1), "year", "explicit", "2024"),
    ]
    claims = article.claims.order_by("ordinal").prefetch_related("citations")
    assert [[x.raw for x in c.citations.all()] for c in claims] == [
        ["Kommersant, n.d."],
        ["Eurostat, 2024"],
    ]
    event = json.loads(AuditEvent.objects.get(action="article.imported").body)
    assert event["after"]["citations"] == 2 == Citation.objects.count()


def test_the_article_date_is_read_from_the_text_when_not_given(project: Any) -> None:
    data = b"A Title\n\nBy Jane Doe\n\nMarch 5, 2024\n\nTalks failed (Reuters, March 3)."
    article, _ = import_article(project, data, filename="a.txt")
    assert article.published_on == dt.date(2024, 3, 5)
    assert article.author == "Jane Doe"
    assert article.citations.get().date == dt.date(2024, 3, 3)


def test_a_given_date_that_differs_from_the_text_s_is_stored_and_reported() -> None:
    data = b"A Title\n\nMarch 5, 2024\n\nTalks failed (Reuters, March 3)."
    prepared = prepare(data, filename="a.txt", published_on=dt.date(2024, 3, 6))
    assert prepared.published_on == dt.date(2024, 3, 6)
    ((kind, where),) = [(n.kind, prepared.text[n.start : n.end]) for n in prepared.uncertainties]
    assert (kind, where) == ("date_mismatch", "March 5, 2024")


def test_every_block_kind_is_stored_as_found(project: Any) -> None:
    data = (CORPUS / "blog-ports.md").read_bytes()
    prepared = prepare(data, filename="blog-ports.md")
    article, _ = import_prepared(project, prepared)
    kinds = [b.kind for b in prepared.segmentation.blocks]
    stored = list(article.blocks.order_by("ordinal").values_list("kind", flat=True))
    assert stored == kinds
    assert {"list_item", "quote"} <= set(stored) <= set(BlockKind.values)
    # Claims sit in body paragraphs, list items and quotes, where the reading view shows them.
    holders = Block.objects.filter(claims__isnull=False).values_list("kind", flat=True)
    assert set(holders) == {"body", "list_item", "quote"}
    assert Claim.objects.count() == len(prepared.segmentation.claims)


def test_every_corpus_article_imports_with_its_own_date(project: Any) -> None:
    for path, date in [
        ("brief-arctic.txt", dt.date(2024, 4, 16)),
        ("blog-ports.md", dt.date(2024, 3, 12)),
        ("cms-pipeline.html", dt.date(2024, 5, 21)),
    ]:
        article, _ = import_article(project, (CORPUS / path).read_bytes(), filename=path)
        assert article.published_on == date
    titles = set(Article.objects.values_list("title", flat=True))
    assert "Power of Siberia 2 stalls as Moscow and Beijing haggle over price" in titles


# ------------------------------------------------------------------------------ command


def test_the_command_reports_what_it_was_not_sure_of(project: Any, tmp_path: Path) -> None:
    path = tmp_path / "oped.txt"
    path.write_bytes(UNDATED.replace(b"March 12", b"n.d."))
    out = _run(str(path), "--project", "demo", "--published", "2024-05-01")
    assert "Imported 'Sanctions and Their Limits'" in out
    assert "1 thing to check:" in out
    text = path.read_text(encoding="utf-8")
    notes = [line for line in out.splitlines() if line.startswith("  - ")]
    at = text.index("Kommersant, n.d.")
    assert notes == [
        f"  - undated_citation at {at}-{at + 16} “Kommersant, n.d.”: "
        + next(
            n.message
            for n in prepare(
                path.read_bytes(), filename="o.txt", published_on=dt.date(2024, 5, 1)
            ).uncertainties
        )
    ]


def test_every_kind_of_note_has_a_label_and_a_description() -> None:
    kinds = set(segmenter.UNCERTAINTY_KINDS) | set(importer.IMPORT_NOTES)
    assert set(importer.NOTE_LABELS) == kinds


def test_the_command_reads_the_date_from_the_text(project: Any) -> None:
    out = _run(str(CORPUS / "brief-arctic.txt"), "--project", "demo")
    assert Article.objects.get().published_on == dt.date(2024, 4, 16)
    assert "Imported 'Chilly Returns: The Northern Sea Route After Sanctions'" in out


def test_a_wire_dateline_without_a_year_says_why_the_date_is_unknown(project: Any) -> None:
    with pytest.raises(CommandError) as refused:
        _run(str(CORPUS / "wire-wheat.txt"), "--project", "demo")
    assert str(refused.value).endswith(
        "wire-wheat.txt: The text does not say when it was published (the dateline gives "
        "April 9 without a year, so the article's date is not known from the text); give the "
        "publication date."
    )


def test_the_command_refuses_a_text_without_a_date(project: Any) -> None:
    with pytest.raises(CommandError, match="give the publication date"):
        _run(str(CORPUS / "oped-sanctions.txt"), "--project", "demo")
    assert Article.objects.count() == 0
