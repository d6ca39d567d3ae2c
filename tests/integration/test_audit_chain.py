"""The audit is tamper-evident: hashed and chained per tenant, timed by the database, refused
UPDATE and DELETE by triggers and by the session hooks, purged only explicitly, and verified."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from cli.app import app as revo
from domain.audit_chain import GENESIS
from domain.enums import Role
from domain.models import AuditEntry, AuditPurge, Tenant
from services import audit, audit_guards, audit_integrity, db, migrate
from services.scoping import AuditImmutable
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork

Pair = tuple[TenantWithUsers, TenantWithUsers]
runner = CliRunner()


def _write(pair: TenantWithUsers, n: int, action: str = "thing.changed") -> None:
    with UnitOfWork(pair.actor(Role.ADMIN)) as uow:
        for i in range(n):
            audit.record(uow, action=action, entity_type="thing", entity_id=i, after={"n": i})
        uow.commit()


def _chain(tenant_id: int) -> list[AuditEntry]:
    with UnitOfWork(None, readonly=True) as uow:
        rows = list(
            uow.session.scalars(
                select(AuditEntry).where(AuditEntry.tenant_id == tenant_id).order_by(AuditEntry.seq)
            )
        )
        uow.session.expunge_all()  # keep the loaded values past the rollback
        return rows


def _raw(sql: str, **params: object) -> None:
    with db.current_engine().begin() as conn:
        conn.execute(text(sql), params)


def test_entries_are_numbered_and_chained_per_tenant_and_timed_by_the_database(
    two_tenants: Pair,
) -> None:
    north, south = two_tenants
    _write(north, 3)
    _write(south, 1)
    with UnitOfWork(north.actor(Role.ADMIN)) as uow:  # JSONB hands 1e20 back as an int
        audit.record(uow, action="x", entity_type="x", entity_id=1, after={"a": 1e20, "b": 0.1})
        uow.commit()
    chain = _chain(north.tenant.id)
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]  # tenant.created is entry 1
    assert chain[0].prev_hash == GENESIS
    assert [e.prev_hash for e in chain[1:]] == [e.entry_hash for e in chain[:-1]]
    assert len({e.entry_hash for e in chain}) == 5
    assert [e.seq for e in _chain(south.tenant.id)] == [1, 2]
    assert all(e.created_at.tzinfo is not None for e in chain)
    reports = audit_integrity.verify()
    assert [(r.tenant_slug, r.ok, r.verified_seq) for r in reports] == [
        ("north", True, 5),
        ("south", True, 2),
    ]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_entries SET reason = 'nothing to see' WHERE tenant_id = :t",
        "UPDATE audit_entries SET entry_hash = NULL WHERE tenant_id = :t",
        "UPDATE audit_entries SET created_at = created_at WHERE tenant_id = :t",
        "DELETE FROM audit_entries WHERE tenant_id = :t",
    ],
)
def test_raw_update_and_delete_of_audit_rows_are_refused_by_the_database(
    two_tenants: Pair, sql: str
) -> None:
    tenant_id = two_tenants[0].tenant.id
    _write(two_tenants[0], 2)
    before = [(e.id, e.reason, e.entry_hash) for e in _chain(tenant_id)]
    with pytest.raises(DBAPIError, match="append-only"):
        _raw(sql, t=tenant_id)
    assert [(e.id, e.reason, e.entry_hash) for e in _chain(tenant_id)] == before


def test_deleting_a_tenant_does_not_erase_its_audit(two_tenants: Pair) -> None:
    with pytest.raises(DBAPIError):
        _raw("DELETE FROM tenants WHERE id = :t", t=two_tenants[1].tenant.id)
    assert len(_chain(two_tenants[1].tenant.id)) == 1


def test_a_unit_of_work_refuses_to_change_or_delete_audit_rows(two_tenants: Pair) -> None:
    actor = two_tenants[0].actor(Role.ADMIN)
    with pytest.raises(AuditImmutable), UnitOfWork(actor) as uow:
        uow.session.execute(update(AuditEntry).values(reason="rewritten"))
    with pytest.raises(AuditImmutable), UnitOfWork(actor) as uow:
        uow.session.execute(delete(AuditEntry))
    with pytest.raises(AuditImmutable), UnitOfWork(actor) as uow:
        entry = uow.session.scalars(select(AuditEntry)).one()
        entry.reason = "rewritten"
        uow.commit()
    with pytest.raises(AuditImmutable), UnitOfWork(None) as uow:
        uow.session.delete(uow.session.scalars(select(AuditEntry)).first())
        uow.commit()
    assert _chain(two_tenants[0].tenant.id)[0].reason is None


def test_a_forged_row_inserted_with_the_triggers_dropped_is_found_by_verify(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    _write(north, 2)
    last = _chain(north.tenant.id)[-1]
    with db.current_engine().begin() as conn:
        audit_guards.remove(conn)
        conn.execute(
            text(
                "INSERT INTO audit_entries (tenant_id, seq, prev_hash, entry_hash, actor_label,"
                " action, entity_type, created_at) VALUES (:t, :seq, :prev, :h, 'Admin',"
                " 'invoice.voided', 'invoice', CURRENT_TIMESTAMP)"
            ),
            {"t": north.tenant.id, "seq": last.seq + 1, "prev": last.entry_hash, "h": "f" * 64},
        )
        audit_guards.install(conn)

    result = runner.invoke(revo, ["audit", "verify", "--tenant", "north"])
    assert result.exit_code == 1, result.output
    assert f"BROKEN at entry {last.seq + 1}" in result.output
    keyed = db.current_engine().dialect.name == "sqlite"  # SQLite keys itself out of the box
    assert ("unkeyed entry after keyed ones" if keyed else "does not match its hash") in (
        result.output
    )
    assert f"verified up to entry {last.seq}" in result.output
    south = runner.invoke(revo, ["audit", "verify", "--tenant", "south"])
    assert south.exit_code == 0 and "south: verified 1 entries" in south.output


def test_an_edited_or_removed_entry_breaks_the_chain_where_it_happened(two_tenants: Pair) -> None:
    north = two_tenants[0]
    _write(north, 4)
    with db.current_engine().begin() as conn:
        audit_guards.remove(conn)
        conn.execute(
            text("UPDATE audit_entries SET after = NULL WHERE tenant_id = :t AND seq = 3"),
            {"t": north.tenant.id},
        )
        audit_guards.install(conn)
    (report,) = audit_integrity.verify(tenant_slug="north")
    assert (report.broken_seq, report.verified_seq) == (3, 2)

    with db.current_engine().begin() as conn:
        audit_guards.remove(conn)
        conn.execute(
            text("DELETE FROM audit_entries WHERE tenant_id = :t AND seq = 2"),
            {"t": north.tenant.id},
        )
        audit_guards.install(conn)
    (report,) = audit_integrity.verify(tenant_slug="north")
    assert report.broken_seq == 3 and "missing" in (report.problem or "")


def test_purge_needs_yes_records_itself_and_then_the_tenant_can_go(two_tenants: Pair) -> None:
    south = two_tenants[1]
    _write(south, 2)
    refused = runner.invoke(revo, ["audit", "purge", "--tenant", "south"])
    assert refused.exit_code == 1 and "--yes" in refused.output
    assert len(_chain(south.tenant.id)) == 3

    done = runner.invoke(revo, ["audit", "purge", "--tenant", "south", "--yes", "--reason", "gdpr"])
    assert done.exit_code == 0, done.output
    assert "purged 3 audit entries of south" in done.output
    assert _chain(south.tenant.id) == []
    with UnitOfWork(None, readonly=True) as uow:
        (purge,) = uow.session.scalars(select(AuditPurge)).all()
        assert (purge.tenant_slug, purge.entries, purge.last_seq) == ("south", 3, 3)
        assert purge.completed_at is not None and purge.reason == "gdpr"
    # The purge record is itself append-only, and the closed purge opens no door.
    with pytest.raises(DBAPIError, match="append-only"):
        _raw("DELETE FROM audit_purges")
    _write(south, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        _raw("DELETE FROM audit_entries WHERE tenant_id = :t", t=south.tenant.id)
    assert [e.seq for e in _chain(south.tenant.id)] == [1]
    assert len(_chain(two_tenants[0].tenant.id)) == 1  # the other tenant untouched

    missing = runner.invoke(revo, ["audit", "purge", "--tenant", "nobody", "--yes"])
    assert missing.exit_code == 1 and "nobody" in missing.output


def test_concurrent_writers_append_without_forking_the_chain(two_tenants: Pair) -> None:
    north = two_tenants[0]
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(5):
                _write(north, 2)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    chain = _chain(north.tenant.id)
    assert [e.seq for e in chain] == list(range(1, 42))
    (report,) = audit_integrity.verify(tenant_slug="north")
    assert report.ok and report.verified_seq == 41
    with UnitOfWork(None, readonly=True) as uow:
        assert uow.session.get(Tenant, north.tenant.id) is not None


def test_the_migration_chains_the_entries_written_before_it(empty_url: str) -> None:
    migrate.upgrade(empty_url, "r10signin")
    with db.get_engine(empty_url).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, slug, name, settings, created_at)"
                " VALUES (1, 'old', 'Old', '{}', CURRENT_TIMESTAMP)"
            )
        )
        for i, after in enumerate(['{"n": 1.5}', '{"big": 1e20}', "null"], start=1):
            conn.execute(
                text(
                    "INSERT INTO audit_entries (id, tenant_id, actor_label, action, entity_type,"
                    " entity_id, after, created_at) VALUES (:i, 1, 'system', 'x.done', 'x', :i,"
                    f" {'NULL' if after == 'null' else repr(after)}, CURRENT_TIMESTAMP)"
                ),
                {"i": i},
            )
    migrate.upgrade(empty_url)
    db.configure(empty_url)
    (report,) = audit_integrity.verify(tenant_slug="old")
    assert report.ok and report.verified_seq == 3
    _write_raw_entry_refused(empty_url)


def _write_raw_entry_refused(url: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), db.get_engine(url).begin() as conn:
        conn.execute(text("UPDATE audit_entries SET reason = 'x'"))
