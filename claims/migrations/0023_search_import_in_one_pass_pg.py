"""PostgreSQL: an import indexes its claims for search in one pass, as SQLite's has since 0019.

PostgreSQL's triggers run once per statement, but an import writes its claims and their
citation links in two statements: the first built the search rows of every claim, the
second deleted and built again those of every claim that cites a source, now with its
citations (0.3 s of a 1 MB import, a third of its search indexing). As on SQLite, an
import now pauses the insert triggers of its own article's claims and citation links by a
row in ``claims_search_paused`` (``claims.search.indexed_at_once``), and deleting that row
builds the article's claims' rows once, with ``claims_search_refresh``, the function every
trigger calls.

A pause row lives only inside the importing transaction (the writer deletes it before
committing; a failed import rolls it back), so no other transaction ever sees one: every
other write is indexed by its statement's trigger as before. While none is paused, the
triggers skip the pause check after one look at an empty table.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.db import migrations

# 0020's builder of a trigger function from the SELECT of the claim ids it rebuilds.
verdicts = import_module("claims.migrations.0020_search_skips_unsearched_changes")

PAUSED = (
    "EXISTS (SELECT 1 FROM claims_search_paused p JOIN claims_claim c"
    " ON c.article_id = p.article_id WHERE c.id = {claim})"
)
# Trigger number (0010's order) and its inserted claims (``n``, the new table), each a
# SELECT of claim ids: every one, or those of articles that are not paused.
INSERTS = {
    9: (
        "SELECT claim_id FROM n",
        "SELECT claim_id FROM n WHERE NOT " + PAUSED.format(claim="n.claim_id"),
    ),
    12: ("SELECT id FROM n", "SELECT id FROM n WHERE NOT " + PAUSED.format(claim="n.id")),
}


def _function(number: int, pause: bool) -> str:
    """Trigger function ``number``, as 0020's ``pg_function`` builds them: with ``pause``,
    its claims are those of articles not paused whenever one is."""
    every, unpaused = INSERTS[number]
    if not pause:
        return verdicts.pg_function(number, every)
    return (
        f"CREATE OR REPLACE FUNCTION claims_search_t{number}() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ DECLARE ids bigint[];"
        " BEGIN IF EXISTS (SELECT 1 FROM claims_search_paused)"
        f" THEN ids := ARRAY({unpaused}); ELSE ids := ARRAY({every}); END IF;"
        " IF cardinality(ids) > 0 THEN PERFORM claims_search_refresh(ids); END IF;"
        " RETURN NULL; END $$"
    )


RESUME = [
    "CREATE TABLE claims_search_paused (article_id bigint PRIMARY KEY)",
    "CREATE FUNCTION claims_search_resume() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN PERFORM claims_search_refresh("
    "ARRAY(SELECT id FROM claims_claim WHERE article_id = OLD.article_id));"
    " RETURN NULL; END $$",
    "CREATE TRIGGER claims_search_resume AFTER DELETE ON claims_search_paused"
    " FOR EACH ROW EXECUTE FUNCTION claims_search_resume()",
]


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite pauses since 0019
    for statement in RESUME:
        schema_editor.execute(statement, params=None)
    for number in INSERTS:
        schema_editor.execute(_function(number, pause=True), params=None)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for number in INSERTS:
        schema_editor.execute(_function(number, pause=False), params=None)
    schema_editor.execute("DROP TABLE claims_search_paused", params=None)  # and its trigger
    schema_editor.execute("DROP FUNCTION claims_search_resume()", params=None)


class Migration(migrations.Migration):
    dependencies = [("claims", "0022_claimterm_claim_unchecked")]

    operations: list = [migrations.RunPython(forward, backward)]
