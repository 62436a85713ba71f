"""Evidence that holds no text (a link alone: no title, quote or note) leaves its claim's
search rows alone when it is added or deleted.

What is searched of evidence is its title, quote and note (0010); its address is not. Yet
each piece of evidence added rebuilt its claim's rows: on PostgreSQL its INSERT took
1.3-1.7 ms, under 0.55 ms without the rebuild, and the commonest evidence is a bare
link. Such a row
changes no searched word: the team's row gains only line breaks, and its adder's own row
would read as the public one, which a blind project's search falls back to
(``claims.search._viewer``). An update still rebuilds whenever a searched column changes
(0020): a title typed later, or the evidence removed.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.db import migrations

search = import_module("claims.migrations.0010_search")
covered = import_module("claims.migrations.0017_search_reads_article_by_index")
# 0020's builders: with ``skip``, its triggers count an inserted or deleted row that is
# not removed; this one asks for text too.
verdicts = import_module("claims.migrations.0020_search_skips_unsearched_changes")

KEPT = "{t}.removed_at IS NULL AND ({t}.title <> '' OR {t}.quote <> '' OR {t}.note <> '')"
TRIGGERS = {6: "INSERT", 8: "DELETE"}  # 0010's numbers of evidence's insert and delete


def _sqlite(number: int, event: str) -> str:
    _t, _e, ids = search._changes("NEW.", "OLD.", pg=False)[number]
    row = "NEW" if event == "INSERT" else "OLD"
    body = "; ".join(search._refresh(ids, covered.COVERED))
    return (
        f"CREATE TRIGGER claims_search_{number} AFTER {event} ON claims_evidence"
        f" WHEN {KEPT.format(t=row)} BEGIN {body}; END"
    )


def _pg(number: int, event: str) -> str:
    row = "n" if event == "INSERT" else "o"
    return verdicts.pg_function(number, f"SELECT claim_id FROM {row} WHERE {KEPT.format(t=row)}")


def forward(apps: Any, schema_editor: Any) -> None:
    for number, event in TRIGGERS.items():
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(_pg(number, event), params=None)
        else:
            schema_editor.execute(f"DROP TRIGGER claims_search_{number}", params=None)
            schema_editor.execute(_sqlite(number, event), params=None)


def backward(apps: Any, schema_editor: Any) -> None:
    for number, event in TRIGGERS.items():
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(verdicts._pg(number, "evidence", event, True), params=None)
        else:
            schema_editor.execute(f"DROP TRIGGER claims_search_{number}", params=None)
            schema_editor.execute(verdicts._sqlite(number, "evidence", event, True), params=None)


class Migration(migrations.Migration):
    dependencies = [("claims", "0023_search_import_in_one_pass_pg")]

    operations: list = [migrations.RunPython(forward, backward)]
