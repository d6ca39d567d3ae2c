"""Database guards that keep the audit append-only: triggers refusing UPDATE and DELETE.

Installed by the migration ``r11audit`` (and re-installed by tests that must empty the tables).
An entry may be updated once, in the transaction that inserts it, to set its hash and link
(the seal: ``prev_hash`` and ``entry_hash`` only, while ``entry_hash`` is still null);
its entries may be deleted only while an open ``audit_purges`` row for that tenant exists,
which `revo audit purge` inserts and closes in one transaction.
"""

from __future__ import annotations

from sqlalchemy import Connection

from domain.audit_chain import HASHED_FIELDS

# The seal may set prev_hash and entry_hash; every other column must stay as inserted.
_SEALED_COLUMNS = [c for c in HASHED_FIELDS if c != "prev_hash"]

_SQLITE_SEAL_BROKEN = " OR ".join(
    ["OLD.entry_hash IS NOT NULL", "NEW.entry_hash IS NULL"]
    + [f'NEW."{c}" IS NOT OLD."{c}"' for c in _SEALED_COLUMNS]
)

_SQLITE = [
    f"""CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
    WHEN {_SQLITE_SEAL_BROKEN}
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
    WHEN NOT EXISTS (SELECT 1 FROM audit_purges p
                     WHERE p.tenant_id = OLD.tenant_id AND p.completed_at IS NULL)
    BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_purges_no_update BEFORE UPDATE ON audit_purges
    WHEN OLD.completed_at IS NOT NULL
    BEGIN SELECT RAISE(ABORT, 'audit purges are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_purges_no_delete BEFORE DELETE ON audit_purges
    BEGIN SELECT RAISE(ABORT, 'audit purges are append-only: DELETE refused'); END""",
]

_POSTGRES = [
    """CREATE OR REPLACE FUNCTION revo_audit_entries_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF OLD.entry_hash IS NULL AND NEW.entry_hash IS NOT NULL
           AND (to_jsonb(NEW) - 'entry_hash' - 'prev_hash')
               = (to_jsonb(OLD) - 'entry_hash' - 'prev_hash') THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit entries are append-only: UPDATE refused'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      IF EXISTS (SELECT 1 FROM audit_purges p
                 WHERE p.tenant_id = OLD.tenant_id AND p.completed_at IS NULL) THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'audit entries are append-only: DELETE refused'
        USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    """CREATE TRIGGER audit_entries_guard BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION revo_audit_entries_guard()""",
    """CREATE OR REPLACE FUNCTION revo_audit_purges_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND OLD.completed_at IS NULL THEN
        RETURN NEW;
      END IF;
      RAISE EXCEPTION 'audit purges are append-only: %% refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    """CREATE TRIGGER audit_purges_guard BEFORE UPDATE OR DELETE ON audit_purges
    FOR EACH ROW EXECUTE FUNCTION revo_audit_purges_guard()""",
]

_DROP_SQLITE = [
    "DROP TRIGGER IF EXISTS audit_entries_no_update",
    "DROP TRIGGER IF EXISTS audit_entries_no_delete",
    "DROP TRIGGER IF EXISTS audit_purges_no_update",
    "DROP TRIGGER IF EXISTS audit_purges_no_delete",
]

_DROP_POSTGRES = [
    "DROP TRIGGER IF EXISTS audit_entries_guard ON audit_entries",
    "DROP TRIGGER IF EXISTS audit_purges_guard ON audit_purges",
    "DROP FUNCTION IF EXISTS revo_audit_entries_guard()",
    "DROP FUNCTION IF EXISTS revo_audit_purges_guard()",
]


def install(conn: Connection) -> None:
    """Create the guard triggers on the connection's database (SQLite or PostgreSQL)."""
    statements = _POSTGRES if conn.dialect.name == "postgresql" else _SQLITE
    for statement in statements:
        conn.exec_driver_sql(statement)


def remove(conn: Connection) -> None:
    """Drop the guard triggers (the migration's downgrade; tests that empty every table)."""
    statements = _DROP_POSTGRES if conn.dialect.name == "postgresql" else _DROP_SQLITE
    for statement in statements:
        conn.exec_driver_sql(statement)
