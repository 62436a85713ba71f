"""The text of a web page, a PDF or a DOCX, in the form the importer reads.

The importer (and its segmenter) read plain text with Markdown structure: paragraphs
separated by a blank line, ``#`` headings, ``- `` list items. Each extractor returns an
``Extracted``: that text, and the title, author and date the document gives (which prefill
the import's metadata form, and are never more than a suggestion).

- HTML: trafilatura, the reference for main-text extraction (navigation, ads, footers and
  comments left out), with its metadata (htmldate for the date).
- PDF: pdfminer.six's layout analysis for lines and their boxes; the reading order (columns
  read one after the other, full-width blocks between them), headings (by font size),
  paragraphs, de-hyphenation and the dropping of page numbers and running headers and
  footers are ours, below.
- DOCX: python-docx; headings by paragraph style, list items by style.

Bad input is an ``ImportRejected`` with a sentence saying why; nothing is written.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import statistics
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any, cast
from urllib.parse import urlsplit

from django.db.models import CharField

from claims import fetching, importer
from claims.importer import ImportRejected
from claims.models import Article

DOCUMENT_SUFFIXES = {".pdf", ".docx"}
PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# What a URL import takes: a page, or a document served as itself.
URL_TYPES = fetching.HTML_TYPES | {PDF_TYPE, DOCX_TYPE}
# A PDF past this many pages is refused rather than laid out page by page for minutes.
MAX_PDF_PAGES = 1000


@dataclass(frozen=True)
class Extracted:
    text: str
    title: str = ""
    author: str = ""
    date: dt.date | None = None
    url: str = ""


def extract_html(fetched: fetching.Fetched) -> Extracted:
    """The main text of a fetched page, as Markdown-like text, with its metadata."""
    # Imported here: trafilatura loads its models and lxml, which only URL imports need.
    import trafilatura
    from trafilatura.settings import set_date_params
    from trafilatura.xml import xmltotxt

    try:
        document = trafilatura.bare_extraction(
            _decoded(fetched),
            url=fetched.final_url,
            with_metadata=True,
            include_formatting=True,  # headings as "#" lines, which the segmenter reads
            include_comments=False,
            include_tables=False,
            include_links=False,
            # The page's own date (its markup and metadata) only: the extensive search takes
            # a date cited in the text ("a statement on 2 March") for the article's.
            date_extraction_params=set_date_params(extensive=False),
        )
    except Exception:  # noqa: BLE001 -- hostile markup can fail anywhere in the parser
        raise ImportRejected("The page could not be read as HTML.") from None
    text = xmltotxt(document.body, True) if document is not None else ""  # type: ignore[union-attr]
    if document is None or not text.strip():
        raise ImportRejected("No article text was found on the page.")
    title = (document.title or "").strip()  # type: ignore[union-attr]
    text = _normalise(text)
    if title and not text.startswith("#"):
        text = f"# {title}\n\n{text}"
    return Extracted(
        text=text,
        title=title,
        author=(document.author or "").strip(),  # type: ignore[union-attr]
        date=_date(document.date),  # type: ignore[union-attr]
        url=fetched.final_url,
    )


def _decoded(fetched: fetching.Fetched) -> str | bytes:
    """The page as text when the server named its charset; else the bytes, for
    trafilatura to read the charset from the markup (or guess it)."""
    if fetched.charset:
        try:
            return fetched.body.decode(fetched.charset, errors="replace")
        except LookupError:
            pass  # a charset Python does not know: let the markup say
    return fetched.body


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _normalise(text: str) -> str:
    """LF line ends, no trailing spaces, single blank lines between blocks."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


# --- PDF ---


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool


@dataclass
class _Box:
    lines: list[_Line]
    x0: float
    x1: float
    top: float
    bottom: float


def extract_pdf(data: bytes) -> Extracted:
    """The text of a PDF in reading order, without page numbers and running headers."""
    if not data.startswith(b"%PDF-"):
        raise ImportRejected("The file is not a PDF.")
    pages, info = _pdf_pages(data)
    pages = _drop_running(pages)
    boxes = [box for page in pages for box in _reading_order(page[0])]
    if not any(line.text.strip() for box in boxes for line in box.lines):
        raise ImportRejected(
            "The PDF has no text to read (it may be scanned images); "
            "import a PDF with a text layer, or the text itself."
        )
    text = _normalise("\n\n".join(_blocks(boxes)))
    return Extracted(text=text, title=info.get("Title", ""), author=info.get("Author", ""))


def _pdf_pages(data: bytes) -> tuple[list[tuple[list[_Box], float]], dict[str, str]]:
    """Each page's text boxes and its height, and the document's info strings."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTTextBox
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage, PDFTextExtractionNotAllowed
    from pdfminer.pdfparser import PDFParser
    from pdfminer.utils import decode_text

    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        info: dict[str, str] = {}
        for entry in document.info[:1]:
            for key in ("Title", "Author"):
                value = entry.get(key)
                if isinstance(value, bytes):
                    info[key] = decode_text(value).strip()
        manager = PDFResourceManager(caching=True)
        device = PDFPageAggregator(manager, laparams=LAParams())
        interpreter = PDFPageInterpreter(manager, device)
        pages = []
        for number, page in enumerate(PDFPage.create_pages(document), start=1):
            if number > MAX_PDF_PAGES:
                raise ImportRejected(f"The PDF has more than {MAX_PDF_PAGES} pages.")
            interpreter.process_page(page)
            layout = device.get_result()
            boxes = [_box(item) for item in layout if isinstance(item, LTTextBox)]
            pages.append(([b for b in boxes if b.lines], layout.height))
    except (PDFPasswordIncorrect, PDFEncryptionError, PDFTextExtractionNotAllowed):
        raise ImportRejected(
            "The PDF is encrypted or protected; save an unprotected copy and import that."
        ) from None
    except ImportRejected:
        raise
    except Exception:  # noqa: BLE001 -- a damaged file can fail anywhere in the parser
        raise ImportRejected("The PDF is damaged and cannot be read.") from None
    return pages, info


def _box(item: Any) -> _Box:
    from pdfminer.layout import LTChar, LTTextLine

    lines = []
    for line in item:
        if not isinstance(line, LTTextLine):
            continue
        chars = [c for c in line if isinstance(c, LTChar)]
        text = " ".join(line.get_text().split())
        if not text or not chars:
            continue
        lines.append(
            _Line(
                text=text,
                x0=line.x0,
                x1=line.x1,
                top=line.y1,
                bottom=line.y0,
                size=round(statistics.median(c.size for c in chars), 1),
                bold=all("bold" in c.fontname.lower() for c in chars if c.get_text().strip()),
            )
        )
    return _Box(lines, item.x0, item.x1, item.y1, item.y0)


# A line that is only a page number: "7", "- 7 -", "Page 7", "7 of 12", "vii".
PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?[-–—(\[]?\s*(?:\d{1,4}|[ivxlcdm]{1,6})\s*[-–—)\]]?(?:\s+of\s+\d{1,4})?$",
    re.IGNORECASE,
)
# The share of the page's height at its top and bottom where running lines sit.
MARGIN = 0.12


def _drop_running(
    pages: list[tuple[list[_Box], float]],
) -> list[tuple[list[_Box], float]]:
    """Drop page numbers, and lines in the top or bottom margin that repeat (numbers
    aside) on most pages: running headers and footers."""

    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", line.text.lower())

    def in_margin(line: _Line, height: float) -> bool:
        return line.bottom > height * (1 - MARGIN) or line.top < height * MARGIN

    seen: Counter[str] = Counter()
    for boxes, height in pages:
        seen.update({key(line) for b in boxes for line in b.lines if in_margin(line, height)})
    most = max(2, (len(pages) + 1) // 2)
    running = {k for k, n in seen.items() if n >= most}
    kept = []
    for boxes, height in pages:
        page_boxes = []
        for box in boxes:
            lines = [
                line
                for line in box.lines
                if not (
                    in_margin(line, height)
                    and (PAGE_NUMBER.match(line.text) or key(line) in running)
                )
            ]
            if lines:
                page_boxes.append(replace(box, lines=lines))
        kept.append((page_boxes, height))
    return kept


def _reading_order(boxes: list[_Box]) -> list[_Box]:
    """Top to bottom in bands; bands laid out in columns are read column by column, and
    consecutive bands with the same columns are one multi-column stretch."""
    ordered: list[_Box] = []
    stretch: list[_Box] = []
    columns = 0
    for band in _split(boxes, vertical=False):
        count = len(_split(band, vertical=True))
        if count > 1 and count == columns:
            stretch += band
            continue
        ordered += _by_columns(stretch)
        stretch, columns = band, count
    return ordered + _by_columns(stretch)


def _by_columns(boxes: list[_Box]) -> list[_Box]:
    return [
        box
        for column in _split(boxes, vertical=True)
        for box in sorted(column, key=lambda b: (-b.top, b.x0))
    ]


def _split(boxes: list[_Box], *, vertical: bool) -> list[list[_Box]]:
    """Groups of boxes separated by a gap no box crosses: left to right (``vertical``,
    a gutter between columns) or top to bottom (space between bands)."""
    if not boxes:
        return []

    def span(b: _Box) -> tuple[float, float]:
        return (b.x0, b.x1) if vertical else (-b.top, -b.bottom)

    groups: list[list[_Box]] = []
    end = float("-inf")
    for box in sorted(boxes, key=lambda b: span(b)[0]):
        start, stop = span(box)
        if groups and start < end + (4 if vertical else 1):
            groups[-1].append(box)
        else:
            groups.append([box])
        end = max(end, stop)
    return groups


SENTENCE_END = re.compile(r"[.!?:;\"”’)\]]$")


def _blocks(boxes: list[_Box]) -> Iterator[str]:
    """Headings and paragraphs: a larger font is a heading (the largest ``#``); a box
    holds paragraphs split where a short line ends a sentence; a paragraph that goes on
    in the next box (a column or a page later, mid-sentence) is joined to it."""
    sizes: Counter[float] = Counter()
    for box in boxes:
        for line in box.lines:
            sizes[line.size] += len(line.text)
    body = sizes.most_common(1)[0][0]
    larger = sorted({s for s in sizes if s >= body * 1.15}, reverse=True)
    levels = {size: min(i + 1, 3) for i, size in enumerate(larger)}
    pending = ""
    for box in boxes:
        size = max(line.size for line in box.lines)
        short = len(box.lines) <= 2 and not SENTENCE_END.search(box.lines[-1].text)
        if size in levels or (short and all(line.bold for line in box.lines)):
            if pending:
                yield pending
                pending = ""
            level = levels.get(size, len(levels) + 1)
            yield "#" * min(level, 4) + " " + " ".join(line.text for line in box.lines)
            continue
        for paragraph in _paragraphs(box):
            if pending and not SENTENCE_END.search(pending) and paragraph[:1].islower():
                pending = _join([pending, paragraph])
                continue
            if pending:
                yield pending
            pending = paragraph
    if pending:
        yield pending


def _paragraphs(box: _Box) -> Iterable[str]:
    width = box.x1 - box.x0
    current: list[str] = []
    for line in box.lines:
        current.append(line.text)
        if SENTENCE_END.search(line.text) and line.x1 - box.x0 < width * 0.85:
            yield _join(current)
            current = []
    if current:
        yield _join(current)


def _join(lines: list[str]) -> str:
    """Lines of a paragraph joined; a word split with a hyphen at a line end is mended
    ("dou-" + "bled" is "doubled"), a hyphen before a capital stays ("Anglo-" "Saxon")."""
    text = lines[0]
    for line in lines[1:]:
        if re.search(r"[^\W\d_]-$", text) and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}"
    return text


# --- DOCX ---

# A DOCX is a zip: refused past these, so that a small file cannot expand without limit.
DOCX_MAX_ENTRIES = 2000
DOCX_MAX_RATIO = 100


def extract_docx(data: bytes) -> Extracted:
    """Headings (by style), list items and paragraphs of a Word document."""
    _check_zip(data)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        parts = []
        for paragraph in document.paragraphs:
            text = " ".join(paragraph.text.split())
            if not text:
                continue
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            parts.append(_docx_block(style.lower(), text))
        core = document.core_properties
        title, author = (core.title or "").strip(), (core.author or "").strip()
    except Exception:  # noqa: BLE001 -- a damaged file can fail anywhere in the parser
        raise ImportRejected("The file is not a Word document (.docx) that can be read.") from None
    if not parts:
        raise ImportRejected("The Word document has no text.")
    return Extracted(text=_normalise("\n\n".join(parts)), title=title, author=author)


def _docx_block(style: str, text: str) -> str:
    if style == "title":
        return f"# {text}"
    heading = re.fullmatch(r"heading (\d)", style)
    if heading:
        return "#" * min(int(heading.group(1)) + 1, 4) + " " + text
    if style.startswith("list"):
        return f"- {text}"
    return text


def _check_zip(data: bytes) -> None:
    limit = importer.max_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportRejected("The file is not a Word document (.docx).") from None
    expanded = sum(e.file_size for e in entries)
    if len(entries) > DOCX_MAX_ENTRIES or expanded > max(limit, len(data) * DOCX_MAX_RATIO):
        raise ImportRejected(
            "The Word document expands to far more than its size; it is refused as unsafe."
        )
    if expanded > limit * 4:
        raise ImportRejected("The Word document is larger than the import limit.")


# --- one entry for every source ---


def is_document(filename: str) -> bool:
    """A PDF or a DOCX, which ``extract_file`` reads (rather than the importer itself)."""
    return PurePath(filename).suffix.lower() in DOCUMENT_SUFFIXES


def extract_file(data: bytes, filename: str) -> Extracted | None:
    """A PDF's or a DOCX's text by its name; None for the text formats the importer reads."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".pdf":
        return extract_pdf(data)
    if suffix == ".docx":
        return extract_docx(data)
    return None


def prepare_text(
    text: str, *, filename: str, published_on: dt.date | None = None
) -> importer.Prepared:
    """``importer.prepare`` for text already extracted (from a page, a PDF, a DOCX): read
    as it is, never as HTML, under the name of what it came from ("report.pdf")."""
    prepared = importer.prepare(
        text.encode("utf-8"), filename="", published_on=published_on, html=False
    )
    return replace(prepared, filename=PurePath(filename).name[:255])


def prepare_document(
    data: bytes, *, filename: str, published_on: dt.date | None = None
) -> tuple[importer.Prepared, Extracted | None]:
    """``importer.prepare`` for any file: a PDF or DOCX is extracted first (its name kept
    as the article's filename); text formats go through unchanged."""
    limit = importer.max_bytes()
    if len(data) > limit:
        raise ImportRejected(f"The file is larger than the import limit of {_size(limit)}.")
    extracted = extract_file(data, filename)
    if extracted is None:
        return importer.prepare(data, filename=filename, published_on=published_on), None
    return prepare_text(extracted.text, filename=filename, published_on=published_on), extracted


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n} bytes"


def prepare_from_url(url: str) -> tuple[str, dict[str, Any]]:
    """Fetch ``url`` and extract its text: the text, as the importer takes it, and the
    metadata found (title, author, published_on, source_url, fetched_at, filename).

    Raises ``ImportRejected`` (a fetch refused, or nothing to extract). One function, so
    that a background task can run the same fetch and extraction as the browser."""
    try:
        fetched = fetching.fetch(url, accept=frozenset(URL_TYPES))
    except fetching.FetchRefused as exc:
        raise ImportRejected(exc.message) from None
    if fetched.content_type == PDF_TYPE:
        extracted = replace(extract_pdf(fetched.body), url=fetched.final_url)
    elif fetched.content_type == DOCX_TYPE:
        extracted = replace(extract_docx(fetched.body), url=fetched.final_url)
    else:
        extracted = extract_html(fetched)
    return extracted.text, {
        "title": extracted.title,
        "author": extracted.author,
        "published_on": extracted.date,
        "source_url": fetched.final_url,
        "fetched_at": fetched.fetched_at,
        "filename": _url_filename(fetched.final_url),
    }


def prepare_page(
    url: str,
    *,
    published_on: dt.date | None = None,
    given: Mapping[str, Any] | None = None,
    step: Callable[[str, int], None] | None = None,
) -> tuple[importer.Prepared, dict[str, Any]]:
    """Fetch and extract the page at ``url`` and prepare its text for import; with the
    article's metadata for ``import_prepared``: what the caller gave (``given``, a date in
    ``published_on``) wins, what the page says of itself (title, author, the address the
    fetch ended at) fills what was left blank, cut to the article's fields as the preview
    cuts it, and the fetch time is kept. The one URL import of the command, the API and the
    worker. ``step(phase, percent)`` is told when the fetch is done."""
    text, found = prepare_from_url(url)
    if step is not None:
        step("Reading and segmenting the text", 20)
    prepared = prepare_text(
        text, filename=found["filename"], published_on=published_on or found["published_on"]
    )
    read = {
        name: str(found[name] or "")[: cast(CharField, Article._meta.get_field(name)).max_length]
        for name in ("title", "author", "source_url")
    }
    metadata = {k: v for k, v in read.items() if v} | {k: v for k, v in (given or {}).items() if v}
    return prepared, metadata | {"fetched_at": found["fetched_at"]}


def _url_filename(url: str) -> str:
    """A name for the article's file: the last part of the page's path, or its host."""
    parts = urlsplit(url)
    name = PurePath(parts.path).name or parts.hostname or "page"
    return name[:255]
