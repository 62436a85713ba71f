"""Build ``<article>.gold.json`` from the hand annotation ``<article>.ann``.

The annotation is the truth and is edited by hand; the JSON is derived from it and holds
the offsets, in the format of ``tests/data/seed_gold.json``. Run from the repository root:

    .venv/bin/python tests/data/corpus/build_gold.py

Annotation format, one item a line, in the order of the article:

    % key: value              header: file (beside the annotation), style, publication_date,
                              given_publication_date
    [kind] text               a block that holds no claim (title, byline, heading, ...)
    {kind} sentence           a sentence opening a claim-bearing block (list_item, quote)
    sentence                  a sentence; it continues the current block, or opens a body
                              block after a blank line or a [kind] line
    @ raw | outlet | date | precision | year_source [| claims=1,2]
                              a citation of the sentence above; date as YYYY-MM-DD, YYYY-MM,
                              YYYY or none; by default it supports every claim of the sentence
    (blank line)              ends the current block

In a sentence, ``⟨...⟩`` marks a separator (", but", ";"): the text between separators is
one claim each, the separators belong to none. ``\\n`` in a line stands for a line break.
Every snippet is searched in the article from where the previous one ended, so the
annotation never states an offset. HTML articles are annotated on the text the importer
stores, ``html_to_text(page)``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from claims.segmenter import html_to_text, normalise_newlines  # noqa: E402

CORPUS = Path(__file__).resolve().parent

GUIDELINE = """\
Corpus guideline (the seed guideline, extended to other house styles):
  * Blocks. Claims come only from body paragraphs, block quotes (what someone is quoted
    as saying is checked like any other statement) and list items that are full sentences
    (a finite verb: "Ukraine shipped 28 million tonnes ..."); list items that are bare
    phrases are list_item blocks without claims. No claims in: title, subtitle (standfirst),
    byline, dateline (a date line, or a wire dateline such as "MOSCOW, April 9 (Reuters) -"),
    metadata (publication lines, kickers, currency notes, "Reporting by ..."), headings
    (Markdown or short plain lines, and a short lead-in such as "What each side wants:"
    that asserts nothing), captions and images, footnote definitions, references sections,
    author bios and page chrome. A block's span leaves out list, quote and heading markers
    ("- ", "1. ", "> ", "#") and wrapping emphasis.
  * Sentences: every sentence of a claim-bearing block; a sentence holds quoted or
    bracketed inner sentences; footnote markers after the stop belong to the sentence.
    Questions are sentences and claims, as every sentence of the body is.
  * Claims: split as the seed guideline says, also at ", yet", ", nor" and ", for" when
    both sides are independent clauses (the separator, conjunction included, is in no
    claim); subordinate and purpose clauses ("so that") stay whole.
  * Citations: a parenthetical group anywhere in a sentence whose ";"-separated parts
    name an outlet and a date (day, month or year precision), or a URL (the outlet is its
    host), or "ibid." (the outlet and date of the citation before it). A year left out is
    the latest that puts the date on or before the publication date (given, or read from
    the article's own dateline or byline), year_source "publication_date"; with no
    publication date the citation is undated: date none, precision none, year_source none.
    A wire credit such as "(Reuters)" in a dateline is no citation. A group inside a
    clause supports that clause's claim; a group closing the sentence supports every claim
    of the sentence (the text does not say which).
"""


def _parse(path: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    header: dict[str, str] = {}
    lines: list[tuple[str, str]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip().replace("\\n", "\n")
        if line.startswith("% "):
            key, _, value = line[2:].partition(":")
            header[key.strip()] = value.strip()
        elif not line.strip():
            lines.append(("blank", ""))
        elif line.startswith("@ "):
            lines.append(("cite", line[2:]))
        elif match := re.fullmatch(r"\[(\w+)\] (.+)", line, re.DOTALL):
            lines.append((f"block:{match.group(1)}", match.group(2)))
        elif match := re.fullmatch(r"\{(\w+)\} (.+)", line, re.DOTALL):
            lines.append((f"open:{match.group(1)}", match.group(2)))
        else:
            lines.append(("sentence", line))
    return header, lines


def _none(value: str) -> str | None:
    return None if value == "none" else value


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.cursor = 0
        self.section = ""
        self.blocks: list[dict[str, Any]] = []
        self.sentences: list[dict[str, Any]] = []
        self.claims: list[dict[str, Any]] = []
        self.open: dict[str, Any] | None = None

    def find(self, snippet: str) -> int:
        at = self.text.find(snippet, self.cursor)
        if at < 0:
            raise SystemExit(f"not found after offset {self.cursor}: {snippet!r}")
        self.cursor = at + len(snippet)
        return at

    def close(self) -> None:
        if self.open is not None:
            self.blocks.append(self.open)
            self.open = None

    def block(self, kind: str, snippet: str) -> None:
        self.close()
        start = self.find(snippet)
        self.blocks.append({"kind": kind, "start": start, "end": self.cursor, "text": snippet})
        if kind == "heading":
            self.section = snippet

    def sentence(self, kind: str | None, annotated: str) -> None:
        if kind is not None:
            self.close()
        plain = annotated.replace("⟨", "").replace("⟩", "")
        start = self.find(plain)
        number = len(self.sentences) + 1
        sentence = {
            "id": f"s{number:03d}",
            "start": start,
            "end": self.cursor,
            "section": self.section,
            "text": plain,
            "citations": [],
            "claim_ids": [],
        }
        pieces = re.split(r"(⟨[^⟩]*⟩)", annotated)
        offset = start
        parts = [p for p in pieces if p and not p.startswith("⟨")]
        for piece in pieces:
            if piece and not piece.startswith("⟨"):
                lead = len(piece) - len(piece.lstrip())
                claim_start, claim_end = offset + lead, offset + len(piece.rstrip())
                claim = {
                    "id": f"c{len(self.claims) + 1:03d}",
                    "sentence_id": sentence["id"],
                    "section": self.section,
                    "start": claim_start,
                    "end": claim_end,
                    "text": self.text[claim_start:claim_end],
                    "split": len(parts) > 1,
                    "citations": [],
                }
                self.claims.append(claim)
                sentence["claim_ids"].append(claim["id"])
            offset += len(piece.replace("⟨", "").replace("⟩", ""))
        self.sentences.append(sentence)
        if self.open is None:
            self.open = {"kind": kind or "body", "start": start, "end": self.cursor, "text": ""}
        self.open["end"] = self.cursor
        self.open["text"] = self.text[self.open["start"] : self.open["end"]]

    def citation(self, spec: str) -> None:
        fields = [f.strip() for f in spec.split(" | ")]
        raw, outlet, date, precision, year_source = fields[:5]
        sentence = self.sentences[-1]
        start = self.text.find(raw, sentence["start"], sentence["end"])
        if start < 0:
            raise SystemExit(f"citation not in its sentence: {raw!r}")
        citation = {
            "outlet": outlet,
            "date": _none(date),
            "precision": precision,
            "year_source": year_source,
            "raw": raw,
            "start": start,
            "end": start + len(raw),
        }
        sentence["citations"].append(citation)
        ids = sentence["claim_ids"]
        chosen = ids
        if len(fields) > 5:
            numbers = fields[5].removeprefix("claims=").split(",")
            chosen = [ids[int(n) - 1] for n in numbers]
        for claim in self.claims:
            if claim["id"] in chosen:
                claim["citations"].append(citation)


def build(annotation: Path) -> dict[str, Any]:
    header, lines = _parse(annotation)
    article = annotation.parent / header["file"]
    data = article.read_bytes()
    text = normalise_newlines(data.decode("utf-8"))
    if article.suffix in (".html", ".htm"):
        text = normalise_newlines(html_to_text(text))
    builder = _Builder(text)
    for kind, value in lines:
        if kind == "blank":
            builder.close()
        elif kind == "cite":
            builder.citation(value)
        elif kind.startswith("block:"):
            builder.block(kind.removeprefix("block:"), value)
        elif kind.startswith("open:"):
            builder.sentence(kind.removeprefix("open:"), value)
        else:
            builder.sentence(None, value)
    builder.close()
    claim_kinds = ("body", "list_item", "quote")
    return {
        "source": {
            "file": header["file"],
            "style": header.get("style", ""),
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "chars": len(text),
            "offset_unit": "Unicode code points of the text the importer stores (for HTML, "
            "html_to_text of the page); end exclusive",
            "publication_date": _none(header["publication_date"]),
            "given_publication_date": _none(header["given_publication_date"]),
            "annotation": annotation.name,
        },
        "guideline": GUIDELINE,
        "blocks": builder.blocks,
        "non_claims": [b for b in builder.blocks if b["kind"] not in claim_kinds],
        "claims": builder.claims,
        "sentences": builder.sentences,
    }


def main() -> None:
    failed = False
    # held-out/: articles annotated after the segmenter was tuned, to measure it on text it
    # has not seen; they are measured apart (manage.py import_quality --corpus ...held-out).
    for annotation in sorted(CORPUS.glob("*.ann")) + sorted(CORPUS.glob("held-out/*.ann")):
        try:
            gold = build(annotation)
        except SystemExit as exc:
            print(f"{annotation.name}: {exc}", file=sys.stderr)
            failed = True
            continue
        target = annotation.with_suffix(".gold.json")
        target.write_text(json.dumps(gold, indent=1, ensure_ascii=False) + "\n", "utf-8")
        print(
            f"{target.name}: {len(gold['blocks'])} blocks, {len(gold['sentences'])} sentences, "
            f"{len(gold['claims'])} claims, "
            f"{sum(len(s['citations']) for s in gold['sentences'])} citations"
        )
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
