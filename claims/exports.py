"""Row generators and writers for the exports (no HTTP here).

Writers yield text chunks so that views can stream them: memory stays flat however many
rows there are.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from claims.models import Status
from claims.tally import Row, Tally

# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def consensus_record(row: Row, raters: list[str]) -> dict[str, Any]:
    """One claim of a consensus export; nothing of the team's for a claim hidden by blind
    review."""
    claim = row.claim
    final = claim.final if row.visible else None
    return {
        "article": claim.article_id,
        "article_title": claim.article.title,
        "claim": claim.pk,
        "ordinal": claim.ordinal,
        "section": claim.section,
        "text": claim.text,
        "start": claim.start,
        "end": claim.end,
        "citations": [
            {"outlet": c.outlet, "date": c.date.isoformat(), "raw": c.raw}
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


def consensus_json(result: Tally) -> Iterator[str]:
    yield '{"raters":' + json.dumps(result.raters) + ',"claims":['
    for index, row in enumerate(result.rows):
        record = json.dumps(consensus_record(row, result.raters), ensure_ascii=False)
        yield ("," if index else "") + "\n" + record
    yield "\n]}\n"


def consensus_csv(result: Tally) -> Iterator[str]:
    raters = result.raters
    header = [
        "article",
        "article_title",
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
        "changed after seeing the team",
    ]

    def lines() -> Iterator[list[Any]]:
        for row in result.rows:
            r = consensus_record(row, raters)
            adj = r["adjudication"] or {}
            yield [
                r["article"],
                r["article_title"],
                r["claim"],
                r["ordinal"],
                r["section"],
                r["text"],
                "; ".join(f"{c['outlet']}, {c['date']}" for c in r["citations"]),
                *[r["verdicts"].get(name, {}).get("status", "") for name in raters],
                *(r["counts"] or dict.fromkeys(Status.values, "")).values(),
                r["state"] or "hidden",
                adj.get("status", ""),
                adj.get("rationale", ""),
                adj.get("reviewer", ""),
                "; ".join(
                    [n for n, v in r["verdicts"].items() if v["after_seeing_team"]]
                    + [f"{n} (cleared)" for n in r["cleared_after_seeing_team"]]
                ),
            ]

    return csv_lines(header, lines())
