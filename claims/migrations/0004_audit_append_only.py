"""The audit event table is append-only in the database itself, not only in the ORM.

AuditEventQuerySet and AuditEvent.save/delete refuse changes in Python; these triggers
refuse them for every other route too (raw SQL, a shell, another client). Both engines
raise an integrity error whose message says "audit events are append-only".

Only claims_auditevent is protected: the chain head (claims_auditchain) moves on every
append. Someone who owns the database can still drop the triggers; the hash chain, and
a manifest held elsewhere, is what makes that evident.
"""

from django.db import migrations

MESSAGE = "audit events are append-only"

SQLITE_FORWARD = [
    f"""
    CREATE TRIGGER claims_auditevent_no_update
    BEFORE UPDATE ON claims_auditevent
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}');
    END;
    """,
    f"""
    CREATE TRIGGER claims_auditevent_no_delete
    BEFORE DELETE ON claims_auditevent
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}');
    END;
    """,
    # INSERT OR REPLACE (and REPLACE INTO) deletes the row it collides with, and SQLite
    # fires delete triggers for that only when recursive_triggers is on: refuse the
    # insert before the conflict resolution can remove an event. A plain insert of a
    # taken seq (a missed chain lock) still fails loudly, with this message instead.
    f"""
    CREATE TRIGGER claims_auditevent_no_replace
    BEFORE INSERT ON claims_auditevent
    WHEN EXISTS (
        SELECT 1 FROM claims_auditevent
        WHERE id = NEW.id OR (chain_id = NEW.chain_id AND seq = NEW.seq)
    )
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}: an event with this id or seq already exists');
    END;
    """,
]

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS claims_auditevent_no_replace;",
    "DROP TRIGGER IF EXISTS claims_auditevent_no_delete;",
    "DROP TRIGGER IF EXISTS claims_auditevent_no_update;",
]

POSTGRESQL_FORWARD = [
    # restrict_violation (23001) is an integrity error, as SQLite's RAISE(ABORT) is, so
    # both engines surface the refusal as django.db.IntegrityError.
    f"""
    CREATE FUNCTION claims_auditevent_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        -- Truncating an empty table destroys nothing; allowing it lets Django's flush
        -- (TransactionTestCase, manage.py flush) run once the events are gone.
        IF TG_OP = 'TRUNCATE' AND NOT EXISTS (SELECT 1 FROM claims_auditevent) THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP
            USING ERRCODE = 'restrict_violation';
    END;
    $$;
    """,
    """
    CREATE TRIGGER claims_auditevent_no_update_or_delete
    BEFORE UPDATE OR DELETE ON claims_auditevent
    FOR EACH ROW EXECUTE FUNCTION claims_auditevent_refuse_change();
    """,
    """
    CREATE TRIGGER claims_auditevent_no_truncate
    BEFORE TRUNCATE ON claims_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION claims_auditevent_refuse_change();
    """,
]

POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS claims_auditevent_no_truncate ON claims_auditevent;",
    "DROP TRIGGER IF EXISTS claims_auditevent_no_update_or_delete ON claims_auditevent;",
    "DROP FUNCTION IF EXISTS claims_auditevent_refuse_change();",
]

STATEMENTS = {
    "sqlite": (SQLITE_FORWARD, SQLITE_REVERSE),
    "postgresql": (POSTGRESQL_FORWARD, POSTGRESQL_REVERSE),
}


def statements_for(schema_editor, direction):
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        # Failing here beats running with an audit log that the database lets anyone edit.
        raise NotImplementedError(f"No append-only triggers for the {vendor} backend.")
    forward, reverse = STATEMENTS[vendor]
    return forward if direction == "forward" else reverse


def add_triggers(apps, schema_editor):
    for sql in statements_for(schema_editor, "forward"):
        schema_editor.execute(sql, params=None)


def drop_triggers(apps, schema_editor):
    for sql in statements_for(schema_editor, "reverse"):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0003_event_other_claim"),
    ]

    operations = [
        migrations.RunPython(add_triggers, drop_triggers, elidable=False),
    ]
