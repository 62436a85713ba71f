"""Row generators and writers for the exports (no HTTP here).

Writers yield text chunks so that views can stream them: memory stays flat however many
rows there are. CSV files for people start with a UTF-8 byte-order mark, which is how
Excel knows to read them as UTF-8 (other spreadsheets and Python's ``utf-8-sig`` skip it).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from claims.models import Evidence, Status
from claims.tally import Row, Tally

# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The UTF-8 byte-order mark: the first character of a CSV file meant for Excel.
BOM = "\ufeff"


def safe_cell(value: Any) -> Any:
    """Escape a text cell that a spreadsheet would otherwise evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def evidence_of(result: Tally) -> dict[int, list[dict[str, Any]]]:
    """The current evidence of each claim the viewer may see, by claim id, in the order it
    was added (one query). A claim hidden by blind review has none here: who found what on
    it is the team's, like its verdicts."""
    visible = {row.claim.pk for row in result.rows if row.visible}
    articles = {row.claim.article_id for row in result.rows if row.visible}
    found: dict[int, list[dict[str, Any]]] = {}
    if not visible:
        return found
    current = Evidence.objects.filter(claim__article_id__in=articles, removed_at__isnull=True)
    rows = current.order_by("added_at", "pk").values_list(
        "claim_id", "url", "title", "stance", "quote", "note", "added_by__username", "added_at"
    )
    for claim_id, url, title, stance, quote, note, who, added_at in rows.iterator():
        if claim_id in visible:
            found.setdefault(claim_id, []).append(
                {
                    "url": url,
                    "title": title,
                    "stance": stance,
                    "quote": quote,
                    "note": note,
                    "added_by": who,
                    "added_at": added_at.isoformat(),
                }
            )
    return found


def evidence_line(item: dict[str, Any]) -> str:
    """One piece of evidence as a line of a CSV cell: who, stance, link, title, quote, note."""
    parts = [f"{item['added_by']}: {item['stance']} {item['url']}"]
    if item["title"]:
        parts.append(item["title"])
    if item["quote"]:
        parts.append(f"“{item['quote']}”")
    if item["note"]:
        parts.append(f"note: {item['note']}")
    return " — ".join(parts)


def consensus_record(
    row: Row, raters: list[str], evidence: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One claim of a consensus export; nothing of the team's for a claim hidden by blind
    review. ``evidence``: the claim's, from :func:`evidence_of`."""
    claim = row.claim
    final = claim.final if row.visible else None
    return {
        "article": claim.article_id,
        "article_title": claim.article.title,
        # Where the article's text came from, and when it was fetched (a URL import).
        "article_source_url": claim.article.source_url,
        "article_fetched_at": _iso(claim.article.fetched_at),
        "claim": claim.pk,
        "ordinal": claim.ordinal,
        "section": claim.section,
        "text": claim.text,
        "start": claim.start,
        "end": claim.end,
        # A claim a revision removed from the text: the version that removed it.
        "retired_in": claim.retired_in,
        "citations": [
            {
                "outlet": c.outlet,
                "date": c.date.isoformat() if c.date else None,
                "precision": c.precision,
                "raw": c.raw,
            }
            for c in claim.citations.all()
        ],
        "visible": row.visible,
        "verdicts": {
            name: {
                "status": v.status,
                "rationale": v.rationale,
                "as_of": v.as_of.isoformat() if v.as_of else None,
                "after_seeing_team": v.after_seeing_team,
            }
            for name, v in sorted(row.verdicts.items())
        },
        "evidence": (evidence or []) if row.visible else [],
        "cleared_after_seeing_team": row.cleared_after_seeing_team,
        "counts": {status: row.counts.get(status, 0) for status in Status.values}
        if row.visible
        else None,
        "state": row.state if row.visible else None,
        "adjudication": None
        if final is None
        else {
            "status": final.status,
            "rationale": final.rationale,
            "as_of": final.as_of.isoformat() if final.as_of else None,
            "reviewer": final.reviewer.get_username(),
        },
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def consensus_json(result: Tally) -> Iterator[str]:
    evidence = evidence_of(result)
    yield '{"raters":' + json.dumps(result.raters) + ',"claims":['
    for index, row in enumerate(result.rows):
        record = consensus_record(row, result.raters, evidence.get(row.claim.pk))
        text = json.dumps(record, ensure_ascii=False)
        yield ("," if index else "") + "\n" + text
    yield "\n]}\n"


def consensus_csv(result: Tally, *, bom: bool = True) -> Iterator[str]:
    """One row per claim; evidence in one cell, a line per piece. With ``bom`` (the
    default) the file starts with a byte-order mark, so that Excel reads it as UTF-8."""
    raters = result.raters
    evidence = evidence_of(result)
    header = [
        "article",
        "article_title",
        "article_source_url",
        "article_fetched_at",
        "claim",
        "ordinal",
        "section",
        "text",
        "citations",
        *[f"verdict:{name}" for name in raters],
        "supported",
        "disputed",
        "outdated",
        "state",
        "adjudication",
        "adjudication_rationale",
        "adjudicated_by",
        "evidence",
        "changed after seeing the team",
        "retired in version",
    ]

    def lines() -> Iterator[list[Any]]:
        for row in result.rows:
            r = consensus_record(row, raters, evidence.get(row.claim.pk))
            adj = r["adjudication"] or {}
            yield [
                r["article"],
                r["article_title"],
                r["article_source_url"],
                r["article_fetched_at"] or "",
                r["claim"],
                r["ordinal"],
                r["section"],
                r["text"],
                "; ".join(f"{c['outlet']}, {c['date'] or 'undated'}" for c in r["citations"]),
                *[r["verdicts"].get(name, {}).get("status", "") for name in raters],
                *(r["counts"] or dict.fromkeys(Status.values, "")).values(),
                r["state"] or "hidden",
                adj.get("status", ""),
                adj.get("rationale", ""),
                adj.get("reviewer", ""),
                "\n".join(evidence_line(item) for item in r["evidence"]),
                "; ".join(
                    [n for n, v in r["verdicts"].items() if v["after_seeing_team"]]
                    + [f"{n} (cleared)" for n in r["cleared_after_seeing_team"]]
                ),
                r["retired_in"] or "",
            ]

    chunks = csv_lines(header, lines())
    return itertools.chain([BOM], chunks) if bom else chunks
