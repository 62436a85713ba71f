"""SQLite: an import indexes its claims for search in one pass, not one claim at a time.

SQLite's triggers run once per row: an import of 15,000 claims ran the four statements
that rebuild a claim's search rows 15,000 times, and again for each of its 20,000 citation
links (3 s of a 1 MB import, where storing the rows takes 0.1 s). An import now pauses
the row triggers of its own article's claim and citation-link inserts by a row in
``claims_search_paused`` (``claims.search.indexed_at_once``), and deleting that row runs
the same rebuild once, over all the article's claims: the index is still kept by the
database, in the import's transaction, by the SQL of these migrations.

A pause row lives only inside the importing transaction (the writer deletes it before
committing; a failed import rolls it back), so no other writer ever sees one: every other
write, however it is made, is indexed row by row as before. PostgreSQL's triggers already
run once per statement: nothing changes there.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.db import migrations

search = import_module("claims.migrations.0010_search")
covered = import_module("claims.migrations.0017_search_reads_article_by_index")

RESUME = (
    "CREATE TRIGGER claims_search_resume AFTER DELETE ON claims_search_paused BEGIN "
    + "; ".join(
        search._refresh(
            "SELECT id FROM claims_claim WHERE article_id = OLD.article_id", covered.COVERED
        )
    )
    + "; END"
)


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(
        "CREATE TABLE claims_search_paused (article_id integer PRIMARY KEY)", params=None
    )
    covered.replace_triggers(schema_editor, search._sqlite_triggers(covered.COVERED, True))
    schema_editor.execute(RESUME, params=None)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    # claims_search_resume goes with its table.
    schema_editor.execute("DROP TABLE claims_search_paused", params=None)
    covered.replace_triggers(schema_editor, search._sqlite_triggers(covered.COVERED))


class Migration(migrations.Migration):
    dependencies = [("claims", "0018_claimterm_copies_unchecked")]

    operations: list = [migrations.RunPython(forward, backward)]
