"""SQLite's search triggers read a claim's project id through a covering index.

The triggers of 0010 joined ``claims_article`` to learn a claim's project. SQLite stores an
article's text in the same row, before ``project_id``, and to reach a column past a long
text it walks the text's overflow pages: a row-level trigger did so for every claim an
import stored, and once per citation link, so an import cost the square of the article's
length (a 1 MB article: 15,000 claims × 250 pages read, 18 s where the rows alone take
under a second). An index on ``(id, project_id)`` holds the project id beside the key; the
triggers name it (``INDEXED BY``), as the planner prefers the table's own key.

PostgreSQL keeps a long text out of line (TOAST) and reads it only when asked for: nothing
changes there.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.db import migrations

search = import_module("claims.migrations.0010_search")

INDEX = "claims_article_project_cover"
COVERED = f"claims_article a INDEXED BY {INDEX}"


def replace_triggers(schema_editor: Any, triggers: list[str]) -> None:
    """Drop the claims' search triggers (``claims_search_<n>`` and the rest; not those of
    ``claims_searchdoc``, which keep FTS5 in step) and create ``triggers``."""
    cursor = schema_editor.connection.cursor()
    names = cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'claims\\_search\\_%'"
        " ESCAPE '\\' AND tbl_name <> 'claims_search_paused'"
    )
    for (name,) in names.fetchall():
        schema_editor.execute(f"DROP TRIGGER {name}", params=None)
    for statement in triggers:
        schema_editor.execute(statement, params=None)


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(f"CREATE INDEX {INDEX} ON claims_article (id, project_id)", params=None)
    replace_triggers(schema_editor, search._sqlite_triggers(COVERED))


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    replace_triggers(schema_editor, search._sqlite_triggers())
    schema_editor.execute(f"DROP INDEX {INDEX}", params=None)


class Migration(migrations.Migration):
    dependencies = [("claims", "0016_export_jobs")]

    operations: list = [migrations.RunPython(forward, backward)]
