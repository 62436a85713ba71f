"""PostgreSQL's search triggers on claims, paragraphs and citations rebuild a claim's rows
only when what is searched of them changes, as SQLite's already do.

SQLite's triggers name their columns (``AFTER UPDATE OF start, "end", ...``, 0010).
PostgreSQL does not allow a column list on a trigger with transition tables, so its
triggers rebuilt the rows of every claim an update touched: each piece of evidence moves
its claim's evidence clock (and that of the claims recurring with it), which rebuilt the
claim's three rows, 0.7 ms of every evidence write. Now the function compares the old and
new rows of the searched columns, those SQLite's triggers name, and does nothing when
none changed.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.db import migrations

search = import_module("claims.migrations.0010_search")
# 0020 did the same for verdicts, adjudications and evidence: its SQL builders serve here.
verdicts = import_module("claims.migrations.0020_search_skips_unsearched_changes")

# Trigger number (0010's order), table, the columns whose change changes a claim's rows,
# and the claims a changed row touches (``{rows}``: the changed rows of the new table).
SEARCHED = {
    13: ("claims_claim", ("start", '"end"', "retired_in", "article_id", "block_id"), "{rows}"),
    14: (
        "claims_block",
        ("words", "start"),
        "SELECT id FROM claims_claim WHERE block_id IN ({rows})",
    ),
    15: (
        "claims_citation",
        ("raw", "outlet"),
        "SELECT claim_id FROM claims_claim_citations WHERE citation_id IN ({rows})",
    ),
}


def _function(number: int, skip: bool) -> str:
    if skip:
        _table, columns, claims = SEARCHED[number]
        ids = claims.format(rows=f"SELECT n.id FROM {verdicts.changed(columns)}")
    else:
        _t, _e, ids = search._changes("", "", pg=True)[number]
    return verdicts.pg_function(number, ids)


def _replace(schema_editor: Any, skip: bool) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite's triggers fire on the searched columns only (0010)
    for number in SEARCHED:
        schema_editor.execute(_function(number, skip), params=None)


def forward(apps: Any, schema_editor: Any) -> None:
    _replace(schema_editor, skip=True)


def backward(apps: Any, schema_editor: Any) -> None:
    _replace(schema_editor, skip=False)


class Migration(migrations.Migration):
    dependencies = [("claims", "0020_search_skips_unsearched_changes")]

    operations: list = [migrations.RunPython(forward, backward)]
