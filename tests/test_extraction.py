"""claims.extraction on PDFs built by tests/pdfs.py and DOCX files built with python-docx."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import docx
import pytest

from claims.extraction import extract_docx, extract_html, extract_pdf, prepare_document
from claims.fetching import Fetched
from claims.importer import ImportRejected
from tests.pdfs import Line, paragraph, pdf

HEADER = "The Coastal Review · Spring 2024"


def journal_page(number: int, body: list[Line]) -> list[Line]:
    """A page with the journal's running header and its number at the foot."""
    return [Line(72, 800, HEADER, 9), Line(290, 40, str(number), 9), *body]


def two_columns() -> list[Line]:
    """A full-width title over two columns of two paragraphs each (columns 72-300 and
    320-548: Helvetica 11 sets about 45 characters in 220 points)."""
    return [
        Line(72, 740, "Harbour dredging and the town", 20),
        *paragraph(
            72,
            700,
            [
                "The harbour authority said that traffic dou-",
                "bled in the year after the dredging was fin-",
                "ished, according to its annual report.",
            ],
        ),
        *paragraph(
            72,
            640,
            [
                "The mayor claimed that the works created",
                "four hundred jobs in the town last year.",
            ],
        ),
        *paragraph(
            320,
            700,
            ["Critics argue that most of the traffic was", "diverted from a neighbouring port."],
        ),
        *paragraph(
            320, 640, ["The chamber of commerce disputed the", "figure in a statement on Friday."]
        ),
    ]


def blocks(text: str) -> list[str]:
    return text.strip().split("\n\n")


def test_a_two_column_page_is_read_column_by_column() -> None:
    extracted = extract_pdf(pdf([two_columns()]))
    assert blocks(extracted.text) == [
        "# Harbour dredging and the town",
        "The harbour authority said that traffic doubled in the year after the "
        "dredging was finished, according to its annual report.",
        "The mayor claimed that the works created four hundred jobs in the town last year.",
        "Critics argue that most of the traffic was diverted from a neighbouring port.",
        "The chamber of commerce disputed the figure in a statement on Friday.",
    ]


def test_running_headers_and_page_numbers_are_dropped() -> None:
    pages = [
        journal_page(1, paragraph(72, 700, ["The first page says the port grew."])),
        journal_page(2, paragraph(72, 700, ["The second page says the town did not."])),
        journal_page(3, paragraph(72, 700, ["The third page says nobody agrees."])),
    ]
    text = extract_pdf(pdf(pages)).text
    assert HEADER not in text
    assert blocks(text) == [
        "The first page says the port grew.",
        "The second page says the town did not.",
        "The third page says nobody agrees.",
    ]


def test_a_line_in_the_margin_of_one_page_only_is_kept() -> None:
    pages = [
        [
            Line(72, 800, "A note at the top of the first page.", 9),
            *paragraph(72, 700, ["The first page says the port grew."]),
        ],
        paragraph(72, 700, ["The second page says the town did not."]),
    ]
    assert "A note at the top of the first page." in extract_pdf(pdf(pages)).text


def test_a_paragraph_running_on_to_the_next_page_is_one_paragraph() -> None:
    pages = [
        journal_page(
            1,
            paragraph(
                72,
                700,
                [
                    "The report found that traffic rose by a",
                    "third while the number of jobs in the har-",
                ],
            ),
        ),
        journal_page(2, paragraph(72, 760, ["bour stayed the same for five years."])),
    ]
    assert blocks(extract_pdf(pdf(pages)).text) == [
        "The report found that traffic rose by a third while the number of jobs in the "
        "harbour stayed the same for five years."
    ]


def test_a_hyphen_before_a_capital_stays() -> None:
    lines = paragraph(72, 700, ["The treaty was an Anglo-", "Saxon affair, historians say."])
    assert "Anglo- Saxon affair" in extract_pdf(pdf([lines])).text


def test_headings_by_size_and_bold_short_lines() -> None:
    page = [
        Line(72, 760, "Ports in figures", 22),
        *paragraph(72, 720, ["Traffic at the port doubled in a year, the authority said."]),
        Line(72, 680, "Method", 11, bold=True),
        *paragraph(72, 650, ["The figures come from the harbour's shipping records."]),
    ]
    assert blocks(extract_pdf(pdf([page])).text) == [
        "# Ports in figures",
        "Traffic at the port doubled in a year, the authority said.",
        "## Method",
        "The figures come from the harbour's shipping records.",
    ]


def test_title_and_author_come_from_the_document_info() -> None:
    extracted = extract_pdf(pdf([two_columns()], title="Harbour report", author="Dana Whitfield"))
    assert (extracted.title, extracted.author, extracted.date) == (
        "Harbour report",
        "Dana Whitfield",
        None,
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Hello, this is text.", "The file is not a PDF."),
        (b"%PDF-1.4\nnothing else", "The PDF is damaged and cannot be read."),
        (
            pdf([[]]),
            "The PDF has no text to read (it may be scanned images); import a PDF "
            "with a text layer, or the text itself.",
        ),
        (
            pdf([two_columns()], encrypted=True),
            "The PDF is encrypted or protected; save an unprotected copy and import that.",
        ),
    ],
    ids=["not-pdf", "damaged", "scanned", "encrypted"],
)
def test_a_pdf_that_cannot_be_read_is_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(ImportRejected) as refused:
        extract_pdf(data)
    assert str(refused.value) == message


def test_a_pdf_becomes_claims_with_its_file_name() -> None:
    data = pdf([journal_page(1, two_columns())])
    prepared, extracted = prepare_document(
        data, filename="harbour.pdf", published_on=dt.date(2024, 3, 5)
    )
    assert extracted is not None
    assert prepared.filename == "harbour.pdf"
    texts = [prepared.text[c.start : c.end] for c in prepared.segmentation.claims]
    assert texts[0].startswith("The harbour authority said that traffic doubled in the year")
    assert len(texts) == 4


def word_document(**core: Any) -> bytes:
    document = docx.Document()
    for key, value in core.items():
        setattr(document.core_properties, key, value)
    document.add_heading("Harbour dredging and the town", level=0)
    document.add_paragraph("The harbour authority said that container traffic doubled.")
    document.add_heading("What the figures show", level=1)
    document.add_paragraph("Shipping records show 212 vessels called at the port.")
    document.add_paragraph("Lower tariffs", style="List Bullet")
    document.add_paragraph("")
    document.add_heading("Detail", level=2)
    document.add_paragraph("Critics argue most of the traffic was diverted.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_word_document_keeps_headings_lists_and_paragraphs() -> None:
    extracted = extract_docx(word_document(title="Harbour", author="Dana Whitfield"))
    assert (extracted.title, extracted.author) == ("Harbour", "Dana Whitfield")
    assert blocks(extracted.text) == [
        "# Harbour dredging and the town",
        "The harbour authority said that container traffic doubled.",
        "## What the figures show",
        "Shipping records show 212 vessels called at the port.",
        "- Lower tariffs",
        "### Detail",
        "Critics argue most of the traffic was diverted.",
    ]


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def empty_document() -> bytes:
    out = io.BytesIO()
    docx.Document().save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Hello, this is text.", "The file is not a Word document (.docx)."),
        (
            zip_of({"hello.txt": b"Hello."}),
            "The file is not a Word document (.docx) that can be read.",
        ),
        (
            zip_of({"word/document.xml": b" " * 50_000_000}),
            "The Word document expands to far more than its size; it is refused as unsafe.",
        ),
        (empty_document(), "The Word document has no text."),
    ],
    ids=["not-zip", "not-docx", "zip-bomb", "empty"],
)
def test_a_word_document_that_cannot_be_read_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(ImportRejected) as refused:
        extract_docx(data)
    assert str(refused.value) == message


def page(body: bytes, charset: str | None = None) -> Fetched:
    return Fetched(
        url="https://example.org/a",
        final_url="https://example.org/a",
        status=200,
        content_type="text/html",
        charset=charset,
        body=body,
        fetched_at=dt.datetime.now(dt.UTC),
    )


def test_a_page_is_read_in_the_charset_its_server_names() -> None:
    body = "<html><body><article><p>Le caf\xe9 du port a ferm\xe9 ses portes en mars, selon "
    body += "la mairie, qui cite la baisse du trafic.</p></article></body></html>"
    extracted = extract_html(page(body.encode("latin-1"), "iso-8859-1"))
    assert "Le café du port a fermé ses portes" in extracted.text


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body></body></html>", b"\x00\xff" * 50],
    ids=["empty", "no-body", "binary"],
)
def test_a_page_without_an_article_is_refused(body: bytes) -> None:
    with pytest.raises(ImportRejected) as refused:
        extract_html(page(body))
    assert str(refused.value) in (
        "No article text was found on the page.",
        "The page could not be read as HTML.",
    )
