"""A tiny PDF writer for the tests: pages of positioned text lines in standard Helvetica.

No dependency: a PDF of text is a handful of objects (catalog, pages, a font, one content
stream per page) and a cross-reference table of their byte offsets. Coordinates are in
points from the bottom left of an A4 page (595 x 842).

    pdf([[Line(72, 770, "Title", size=20), Line(72, 740, "Body text...")]])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 595, 842


@dataclass(frozen=True)
class Line:
    x: float
    y: float
    text: str
    size: float = 11
    bold: bool = False


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _content(lines: Iterable[Line]) -> bytes:
    ops = []
    for line in lines:
        font = b"/F2" if line.bold else b"/F1"
        ops.append(
            b"BT %s %g Tf %g %g Td (%s) Tj ET"
            % (font, line.size, line.x, line.y, _escape(line.text))
        )
    return b"\n".join(ops)


def pdf(
    pages: Sequence[Sequence[Line]],
    *,
    title: str = "",
    author: str = "",
    encrypted: bool = False,
) -> bytes:
    """The bytes of a PDF with one page per list of lines (a page may be empty)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the page tree's number is known
    tree = add(b"")
    regular = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    bold = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    )
    kids = []
    for lines in pages:
        stream = _content(lines)
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> >>"
                % (tree, WIDTH, HEIGHT, content, regular, bold)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    refs = b" ".join(b"%d 0 R" % k for k in kids)
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, len(kids))
    info = add(b"<< /Title (%s) /Author (%s) >>" % (_escape(title), _escape(author)))
    trailer_extra = b""
    if encrypted:
        # The standard security handler with a user password we do not know: a reader
        # must refuse it (the /U check fails for the empty password).
        encrypt = add(
            b"<< /Filter /Standard /V 1 /R 2 /P -44 /O <%s> /U <%s> >>" % (b"ab" * 32, b"cd" * 32)
        )
        trailer_extra = b" /Encrypt %d 0 R /ID [<%s> <%s>]" % (encrypt, b"01" * 16, b"01" * 16)

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R%s >>\n" % (
        len(objects) + 1,
        catalog,
        info,
        trailer_extra,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def paragraph(x: float, y: float, lines: Sequence[str], size: float = 11) -> list[Line]:
    """Lines of one paragraph from ``y`` down, at the usual leading (1.2 x size)."""
    return [Line(x, y - i * size * 1.2, text, size) for i, text in enumerate(lines)]
