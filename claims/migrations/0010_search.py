"""Full-text search kept by the database itself (claims/search.py reads it).

One table, ``claims_searchdoc``, holds the searchable text of every current claim in up to
three kinds of rows, so that blind review can be applied at query time:

- ``viewer = 0``: everything (claim text, its citations, every verdict's rationale, the
  adjudication's rationale, the evidence in place): for members who see the whole team;
- ``viewer = -1``: the claim text and its citations only;
- ``viewer = <user id>``: the claim text and citations with that person's own rationales
  and evidence: what an analyst of a blind project may find before the team shows.

Triggers on every source table rebuild a claim's rows in the writing transaction, so a
bulk or raw-SQL write is searchable as soon as it commits; no application code keeps the
index. PostgreSQL stores a generated ``tsvector`` with a GIN index (the triggers are
statement-level, with transition tables: an import of 2,000 claims rebuilds them in one
statement); SQLite an external-content FTS5 table over the same rows.

The SQL lives here rather than in the app: a migration must keep meaning what it meant.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

# Source tables with a claim_id column, and what of them is searchable.
PARTS = {
    "verdict": ("analyst_id", "rationale", "{t}.rationale <> ''"),
    "adjudication": ("reviewer_id", "rationale", "{t}.rationale <> ''"),
    "evidence": (
        "added_by_id",
        "{t}.title || {nl} || {t}.quote || {nl} || {t}.note",
        "{t}.removed_at IS NULL",
    ),
}


def _nl(pg: bool) -> str:
    return "chr(10)" if pg else "char(10)"


def _agg(expr: str, pg: bool) -> str:
    return f"string_agg({expr}, {_nl(pg)})" if pg else f"group_concat({expr}, {_nl(pg)})"


def _cited(pg: bool) -> str:
    """Claim ``c``'s citations, one a line, after a line break ('' without any)."""
    listed = _agg("ci.raw || ' ' || ci.outlet", pg)
    return (
        f"coalesce({_nl(pg)} || (SELECT {listed} FROM claims_claim_citations cc"
        " JOIN claims_citation ci ON ci.id = cc.citation_id WHERE cc.claim_id = c.id), '')"
    )


def _own(owner: str, pg: bool) -> str:
    """Every searchable part of claim ``c`` (only ``owner``'s, if given), one a line."""
    pieces = []
    for table, (who, text, kept) in PARTS.items():
        t = f"p_{table}"
        where = f"{t}.claim_id = c.id AND {kept.format(t=t)}"
        if owner:
            where += f" AND {t}.{who} = {owner}"
        listed = _agg(text.format(t=t, nl=_nl(pg)), pg)
        pieces.append(
            f"coalesce({_nl(pg)} || (SELECT {listed} FROM claims_{table} {t} WHERE {where}), '')"
        )
    return " || ".join(pieces)


def _owners(ids: str) -> str:
    """(claim_id, owner) of everyone with a searchable part of the claims ``ids`` picks
    (``ids``: a condition on claim_id)."""
    return " UNION ".join(
        f"SELECT claim_id, {who} AS owner FROM claims_{table} {table}"
        f" WHERE {kept.format(t=table)} AND claim_id {ids}"
        for table, (who, _text, kept) in PARTS.items()
    )


# A claim's words, cut from its block's own text (a paragraph) rather than from the
# article's whole text: both databases count characters from a text's start, and SQLite
# would read the whole article's row for each claim (an import's triggers then cost the
# square of the article's length).
WORDS = 'substr(b.words, c.start - b.start + 1, c."end" - c.start)'


# How SQLite's statements read a claim's article (for its project id); migration 0017
# reads it through a covering index instead (see there).
ARTICLE = "claims_article a"


def _refresh(ids: str, article: str = ARTICLE) -> list[str]:
    """SQLite's statements that rebuild the rows of the claims ``ids`` (a SELECT of claim
    ids) selects. No CTEs: SQLite does not allow them inside triggers."""
    public = f"{WORDS} || {_cited(False)}"
    claims = (
        "FROM claims_claim c JOIN claims_block b ON b.id = c.block_id"
        f" JOIN {article} ON a.id = c.article_id"
    )
    current = f"{claims} WHERE c.id IN ({ids}) AND c.retired_in IS NULL"
    insert = "INSERT INTO claims_searchdoc (claim_id, project_id, viewer, content)"
    return [
        f"DELETE FROM claims_searchdoc WHERE claim_id IN ({ids})",
        f"{insert} SELECT c.id, a.project_id, 0, {public} || {_own('', False)} {current}",
        f"{insert} SELECT c.id, a.project_id, -1, {public} {current}",
        f"{insert} SELECT c.id, a.project_id, o.owner, {public} || {_own('o.owner', False)}"
        f" {claims} JOIN ({_owners(f'IN ({ids})')}) o ON o.claim_id = c.id"
        f" WHERE c.id IN ({ids}) AND c.retired_in IS NULL",
    ]


def _pg_refresh() -> str:
    """PostgreSQL's rebuild, a function of the claim ids: the same rows, each claim's own
    words and citations built once for its three kinds of rows. The ids are read as a set
    (``IN (SELECT unnest(ids))``, hashed): ``= ANY(ids)`` compares each row with every id,
    the square of an import's claims."""
    ids = "IN (SELECT unnest(ids))"
    return (
        "CREATE FUNCTION claims_search_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql"
        " AS $$ BEGIN"
        f" DELETE FROM claims_searchdoc WHERE claim_id {ids};"
        " INSERT INTO claims_searchdoc (claim_id, project_id, viewer, content)"
        # The claims' citations, listed once for them all: as a subquery per claim, a
        # planner without statistics (fresh tables, an import) scans every citation
        # for each claim.
        " WITH cited AS MATERIALIZED (SELECT cc.claim_id,"
        " string_agg(ci.raw || ' ' || ci.outlet, chr(10) ORDER BY ci.id) AS listed"
        " FROM claims_claim_citations cc JOIN claims_citation ci ON ci.id = cc.citation_id"
        f" WHERE cc.claim_id {ids} GROUP BY cc.claim_id),"
        f" cur AS MATERIALIZED (SELECT c.id, a.project_id, {WORDS}"
        " || coalesce(chr(10) || cited.listed, '') AS public"
        " FROM claims_claim c JOIN claims_block b ON b.id = c.block_id"
        " JOIN claims_article a ON a.id = c.article_id"
        " LEFT JOIN cited ON cited.claim_id = c.id"
        f" WHERE c.id {ids} AND c.retired_in IS NULL)"
        f" SELECT c.id, c.project_id, 0, c.public || {_own('', True)} FROM cur c"
        " UNION ALL SELECT c.id, c.project_id, -1, c.public FROM cur c"
        f" UNION ALL SELECT c.id, c.project_id, o.owner, c.public || {_own('o.owner', True)}"
        f" FROM cur c JOIN ({_owners(ids)}) o ON o.claim_id = c.id;"
        " END $$"
    )


# Which claims a change to a row of each table touches: (table, event, ids), ids written
# with NEW / OLD (SQLite, row-level) or the transition tables n / o (PostgreSQL).
def _changes(new: str, old: str, pg: bool) -> list[tuple[str, str, str]]:
    changes = []
    for table in ("verdict", "adjudication", "evidence", "claim_citations"):
        changes += [
            (f"claims_{table}", "INSERT", f"SELECT {new}claim_id{'' if not pg else ' FROM n'}"),
            (
                f"claims_{table}",
                "UPDATE",
                f"SELECT {new}claim_id FROM n UNION SELECT {old}claim_id FROM o"
                if pg
                else "SELECT NEW.claim_id UNION SELECT OLD.claim_id",
            ),
            (f"claims_{table}", "DELETE", f"SELECT {old}claim_id{'' if not pg else ' FROM o'}"),
        ]
    changes += [
        ("claims_claim", "INSERT", f"SELECT {new}id{' FROM n' if pg else ''}"),
        ("claims_claim", "UPDATE", f"SELECT {new}id{' FROM n' if pg else ''}"),
        (
            "claims_block",
            "UPDATE",
            f"SELECT id FROM claims_claim WHERE block_id IN (SELECT {new}id{' FROM n' if pg else ''})",
        ),
        (
            "claims_citation",
            "UPDATE",
            "SELECT claim_id FROM claims_claim_citations"
            f" WHERE citation_id IN (SELECT {new}id{' FROM n' if pg else ''})",
        ),
    ]
    return changes


def _sqlite() -> list[str]:
    return _sqlite_tables() + _sqlite_triggers()


def _sqlite_tables() -> list[str]:
    return [
        "CREATE TABLE claims_searchdoc (id INTEGER PRIMARY KEY, claim_id bigint NOT NULL,"
        " project_id bigint NOT NULL, viewer bigint NOT NULL, content text NOT NULL)",
        "CREATE INDEX claims_searchdoc_claim ON claims_searchdoc (claim_id, viewer)",
        "CREATE INDEX claims_searchdoc_project ON claims_searchdoc (project_id, viewer)",
        # External content: the text is stored once, in claims_searchdoc; snippet() reads it.
        "CREATE VIRTUAL TABLE claims_search USING fts5(content, content='claims_searchdoc',"
        " content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
        "CREATE TRIGGER claims_searchdoc_ai AFTER INSERT ON claims_searchdoc BEGIN"
        " INSERT INTO claims_search (rowid, content) VALUES (NEW.id, NEW.content); END",
        "CREATE TRIGGER claims_searchdoc_ad AFTER DELETE ON claims_searchdoc BEGIN"
        " INSERT INTO claims_search (claims_search, rowid, content)"
        " VALUES ('delete', OLD.id, OLD.content); END",
    ]


# Row triggers that wait while their article's import is paused (migration 0019): the
# import's claims are then indexed in one pass when it resumes. Keyed by the trigger's table.
PAUSED = {
    "claims_claim": "SELECT 1 FROM claims_search_paused p WHERE p.article_id = NEW.article_id",
    "claims_claim_citations": "SELECT 1 FROM claims_search_paused p"
    " JOIN claims_claim pc ON pc.article_id = p.article_id WHERE pc.id = NEW.claim_id",
}


def _sqlite_triggers(article: str = ARTICLE, pausable: bool = False) -> list[str]:
    """The triggers that keep the rows of the claims a write touched; ``article``: how
    they read a claim's article; ``pausable``: whether an import may pause the row
    triggers of its claims' inserts (``PAUSED``)."""
    statements = []
    # Only the columns that change what is indexed: a claim's version or an evidence
    # timestamp moving must not rebuild its rows.
    columns = {
        "claims_claim": 'OF start, "end", retired_in, article_id, block_id',
        "claims_citation": "OF raw, outlet",
        "claims_block": "OF words, start",
    }
    for number, (table, event, ids) in enumerate(_changes("NEW.", "OLD.", pg=False)):
        body = "; ".join(_refresh(ids, article))
        on = f"{event} {columns.get(table, '')}" if event == "UPDATE" else event
        when = ""
        if pausable and event == "INSERT" and table in PAUSED:
            when = f" WHEN NOT EXISTS ({PAUSED[table]})"
        statements.append(
            f"CREATE TRIGGER claims_search_{number} AFTER {on} ON {table}{when} BEGIN {body}; END"
        )
    statements += [
        "CREATE TRIGGER claims_search_claim_gone AFTER DELETE ON claims_claim BEGIN"
        " DELETE FROM claims_searchdoc WHERE claim_id = OLD.id; END",
    ]
    return statements


def _postgresql() -> list[str]:
    statements = [
        "CREATE TABLE claims_searchdoc (id bigserial PRIMARY KEY, claim_id bigint NOT NULL,"
        " project_id bigint NOT NULL, viewer bigint NOT NULL, content text NOT NULL,"
        " document tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content))"
        " STORED)",
        "CREATE INDEX claims_searchdoc_claim ON claims_searchdoc (claim_id, viewer)",
        "CREATE INDEX claims_searchdoc_project ON claims_searchdoc (project_id, viewer)",
        "CREATE INDEX claims_searchdoc_document ON claims_searchdoc USING gin (document)",
        _pg_refresh(),
    ]
    # Statement-level triggers with transition tables (one event each, as PostgreSQL
    # requires): a bulk write rebuilds the claims it touched in one call.
    for number, (table, event, ids) in enumerate(_changes("", "", pg=True)):
        tables = {"INSERT": "NEW TABLE AS n", "DELETE": "OLD TABLE AS o"}.get(
            event, "NEW TABLE AS n OLD TABLE AS o"
        )
        function = f"claims_search_t{number}"
        statements += [
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            f" PERFORM claims_search_refresh(ARRAY({ids})); RETURN NULL; END $$",
            f"CREATE TRIGGER {function} AFTER {event} ON {table} REFERENCING {tables}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
    statements += [
        "CREATE FUNCTION claims_search_claim_gone() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN DELETE FROM claims_searchdoc WHERE claim_id IN (SELECT id FROM o);"
        " RETURN NULL; END $$",
        "CREATE TRIGGER claims_search_claim_gone AFTER DELETE ON claims_claim"
        " REFERENCING OLD TABLE AS o FOR EACH STATEMENT EXECUTE FUNCTION"
        " claims_search_claim_gone()",
        # A flush (TRUNCATE, as Django's test runner does) empties the index too.
        "CREATE FUNCTION claims_search_truncated() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN TRUNCATE claims_searchdoc; RETURN NULL; END $$",
        "CREATE TRIGGER claims_search_truncated AFTER TRUNCATE ON claims_claim"
        " FOR EACH STATEMENT EXECUTE FUNCTION claims_search_truncated()",
    ]
    return statements


def create(apps: Any, schema_editor: Any) -> None:
    pg = schema_editor.connection.vendor == "postgresql"
    for statement in _postgresql() if pg else _sqlite():
        schema_editor.execute(statement, params=None)
    # The backfill: every claim there is, through the same statements the triggers run.
    if pg:
        schema_editor.execute(
            "SELECT claims_search_refresh(ARRAY(SELECT id FROM claims_claim))", params=None
        )
    else:
        for statement in _refresh("SELECT id FROM claims_claim"):
            schema_editor.execute(statement, params=None)


def drop(apps: Any, schema_editor: Any) -> None:
    pg = schema_editor.connection.vendor == "postgresql"
    if pg:
        schema_editor.execute("DROP TABLE claims_searchdoc", params=None)
        schema_editor.execute(
            "DO $$ DECLARE f text; BEGIN FOR f IN SELECT proname FROM pg_proc"
            " WHERE proname LIKE 'claims\\_search\\_%' LOOP"
            " EXECUTE format('DROP FUNCTION %I CASCADE', f); END LOOP; END $$",
            params=None,
        )
        return
    triggers = schema_editor.connection.cursor().execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'claims_search%'"
    )
    for (name,) in triggers.fetchall():
        schema_editor.execute(f"DROP TRIGGER {name}", params=None)
    schema_editor.execute("DROP TABLE claims_search", params=None)
    schema_editor.execute("DROP TABLE claims_searchdoc", params=None)


class Migration(migrations.Migration):
    dependencies = [("claims", "0010_block_text")]

    operations: list = [migrations.RunPython(create, drop)]
