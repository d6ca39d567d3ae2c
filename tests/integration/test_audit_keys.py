"""The audit chain is keyed and anchored: entries forged or a tail cut by someone who can drop the
triggers (but holds no key, and cannot reach the anchor file) are found by `revo audit verify`."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import insert, select, text
from typer.testing import CliRunner

from cli.app import app as revo
from domain.audit_chain import HASHED_FIELDS, entry_hash, key_id
from domain.enums import Role
from domain.models import AuditCheckpoint, AuditEntry
from services import audit, audit_anchors, audit_guards, audit_integrity, db
from services.config import Settings, get_settings
from services.errors import PermissionDenied
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork

Pair = tuple[TenantWithUsers, TenantWithUsers]
runner = CliRunner()
OLD_KEY = "o" * 16 + "ld-audit-key-0123456789abcdef"
NEW_KEY = "n" * 16 + "ew-audit-key-0123456789abcdef"
SetKey = Callable[[str | None], None]


@pytest.fixture
def set_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[SetKey]:
    """Set (or unset) REVO_AUDIT_KEY for the rest of the test."""

    def _set(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv("REVO_AUDIT_KEY", raising=False)
        else:
            monkeypatch.setenv("REVO_AUDIT_KEY", value)
        get_settings.cache_clear()

    yield _set
    get_settings.cache_clear()


@pytest.fixture
def keyed(set_key: SetKey, db_url: str) -> None:
    """A keyed chain on both engines: PostgreSQL by the setting, SQLite by its own key file."""
    if db_url.startswith("postgresql"):
        set_key(OLD_KEY)


@pytest.fixture
def old_key(set_key: SetKey) -> None:
    """REVO_AUDIT_KEY=OLD_KEY from before the tenants are made (ask for it before them)."""
    set_key(OLD_KEY)


def _write(pair: TenantWithUsers, n: int) -> None:
    with UnitOfWork(pair.actor(Role.ADMIN)) as uow:
        for i in range(n):
            audit.record(uow, action="x.changed", entity_type="x", entity_id=i, after={"n": i})
        uow.commit()


def _chain(tenant_id: int) -> list[AuditEntry]:
    with UnitOfWork(None, readonly=True) as uow:
        rows = list(
            uow.session.scalars(
                select(AuditEntry).where(AuditEntry.tenant_id == tenant_id).order_by(AuditEntry.seq)
            )
        )
        uow.session.expunge_all()
        return rows


def _unguarded(*statements: Any) -> None:
    """Run statements as someone who dropped the guard triggers (and puts them back)."""
    with db.current_engine().begin() as conn:
        audit_guards.remove(conn)
        for statement in statements:
            conn.execute(statement)
        audit_guards.install(conn)


def _plain_entry(*, id: int, tenant_id: int, seq: int, prev_hash: str, **extra: Any) -> dict:
    """An entry hashed as anyone can hash it: the plain SHA-256, no key."""
    fields: dict[str, Any] = {
        "id": id,
        "tenant_id": tenant_id,
        "seq": seq,
        "prev_hash": prev_hash,
        "actor_id": None,
        "actor_label": "Admin",
        "action": "invoice.voided",
        "entity_type": "invoice",
        "entity_id": 7,
        "before": None,
        "after": {"status": "void"},
        "reason": None,
        "created_at": datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
    }
    fields.update(extra)
    return {**fields, "entry_hash": entry_hash(**{k: fields[k] for k in HASHED_FIELDS})}


def _verify(*args: str) -> Any:
    return runner.invoke(revo, ["audit", "verify", *args])


@pytest.mark.usefixtures("keyed")
def test_a_forged_tail_entry_with_a_correct_plain_hash_is_found_by_revo_audit_verify(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    _write(north, 2)
    last = _chain(north.tenant.id)[-1]
    assert last.key_id is not None
    forged = _plain_entry(
        id=last.id + 100, tenant_id=north.tenant.id, seq=last.seq + 1, prev_hash=last.entry_hash
    )
    _unguarded(insert(AuditEntry).values(**forged))

    result = _verify("--tenant", "north")
    assert result.exit_code == 1, result.output
    assert f"north: BROKEN at entry {last.seq + 1} (id {last.id + 100})" in result.output
    assert "forged: unkeyed entry after keyed ones" in result.output
    assert f"verified up to entry {last.seq}" in result.output
    assert _verify("--tenant", "south").exit_code == 0


@pytest.mark.usefixtures("keyed")
def test_a_forged_entry_claiming_the_key_is_found_by_its_hmac(two_tenants: Pair) -> None:
    north = two_tenants[0]
    _write(north, 1)
    last = _chain(north.tenant.id)[-1]
    tail = {"tenant_id": north.tenant.id, "seq": last.seq + 1, "prev_hash": last.entry_hash}
    _unguarded(
        insert(AuditEntry).values(**_plain_entry(id=last.id + 9, **tail), key_id=last.key_id)
    )
    result = _verify("--tenant", "north")
    assert result.exit_code == 1
    assert f"BROKEN at entry {last.seq + 1}" in result.output
    assert "does not match its HMAC" in result.output


@pytest.mark.usefixtures("keyed")
def test_a_cut_tail_is_found_by_the_anchor_even_with_the_checkpoints_gone(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    _write(north, 3)  # entries 1..4 (tenant.created is 1)
    anchored = runner.invoke(revo, ["audit", "anchor", "--tenant", "north"])
    assert anchored.exit_code == 0, anchored.output
    assert "north: anchored at entry 4" in anchored.output
    again = runner.invoke(revo, ["audit", "anchor", "--tenant", "north"])
    assert "north: already anchored at entry 4" in again.output
    assert _verify("--tenant", "north").exit_code == 0

    table = AuditEntry.__table__
    cut = table.delete().where(table.c.tenant_id == north.tenant.id, table.c.seq > 2)
    _unguarded(cut, AuditCheckpoint.__table__.delete())
    result = _verify("--tenant", "north")
    assert result.exit_code == 1, result.output
    assert "the chain was cut: anchor at entry 4, chain ends at 2" in result.output
    assert "BROKEN at entry 3:" in result.output


@pytest.mark.usefixtures("keyed")
def test_a_checkpoint_without_a_valid_signature_is_a_break(two_tenants: Pair) -> None:
    north = two_tenants[0]
    _write(north, 1)
    with UnitOfWork(None, readonly=True) as uow:
        kid = audit_anchors.audit_key.current(uow.session.connection()).signing_id
    bogus = {"tenant_id": north.tenant.id, "seq": 9, "entry_hash": "a" * 64, "key_id": kid}
    _unguarded(insert(AuditCheckpoint).values(**bogus, mac="b" * 64))
    (report,) = audit_integrity.verify(tenant_slug="north")
    assert report.problem == "the checkpoint at entry 9 is not signed by the audit key (forged)"


def test_a_wrong_key_names_the_first_entry_and_a_rotated_list_still_verifies(
    old_key: None, two_tenants: Pair, set_key: SetKey
) -> None:
    north = two_tenants[0]  # both tenants were created under the old key
    _write(north, 1)
    set_key(NEW_KEY)
    (report,) = audit_integrity.verify(tenant_slug="north")
    assert (report.broken_seq, report.verified_seq) == (1, 0)
    assert f"signed with audit key {key_id(OLD_KEY.encode())}" in (report.problem or "")
    result = _verify("--tenant", "north")
    assert result.exit_code == 1 and "BROKEN at entry 1 " in result.output

    set_key(f"{NEW_KEY},{OLD_KEY}")  # rotated: the new key signs, both verify
    _write(north, 2)
    old, new = key_id(OLD_KEY.encode()), key_id(NEW_KEY.encode())
    assert [e.key_id for e in _chain(north.tenant.id)] == [old, old, new, new]
    result = _verify()
    assert result.exit_code == 0, result.output
    assert "north: verified 4 entries" in result.output and "south: verified 1" in result.output


def test_a_key_shorter_than_32_characters_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match="REVO_AUDIT_KEY must be one or more"):
        Settings(audit_key=f"{NEW_KEY},too-short")  # type: ignore[arg-type]


@pytest.mark.usefixtures("two_tenants")
def test_entries_from_before_the_key_keep_verifying(set_key: SetKey) -> None:
    with db.current_engine().begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tenants (id, slug, name, settings, created_at)"
                " VALUES (77, 'old', 'Old', '{}', CURRENT_TIMESTAMP)"
            )
        )
    first = _plain_entry(id=9001, tenant_id=77, seq=1, prev_hash="0" * 64)
    second = _plain_entry(id=9002, tenant_id=77, seq=2, prev_hash=first["entry_hash"])
    _unguarded(insert(AuditEntry).values(**first), insert(AuditEntry).values(**second))
    set_key(OLD_KEY)  # the key arrives after them
    with UnitOfWork(None) as uow:
        audit.record(uow, action="x.done", entity_type="x", entity_id=1, tenant_id=77)
        uow.commit()
    assert [e.key_id for e in _chain(77)] == [None, None, key_id(OLD_KEY.encode())]
    result = _verify("--tenant", "old")
    assert result.exit_code == 0, result.output
    assert "old: verified 3 entries (up to entry 3" in result.output


def test_without_a_key_sqlite_makes_a_private_key_file_and_postgresql_says_not_keyed(
    two_tenants: Pair, db_url: str
) -> None:
    (report,) = audit_integrity.verify(tenant_slug="north")
    (entry,) = _chain(two_tenants[0].tenant.id)
    if db_url.startswith("postgresql"):
        assert report.ok and not report.keyed and entry.key_id is None
        assert report.notice == "chain not keyed: set REVO_AUDIT_KEY"
        assert "north: chain not keyed: set REVO_AUDIT_KEY" in _verify("--tenant", "north").output
        refused = runner.invoke(revo, ["audit", "anchor"])
        assert refused.exit_code == 1 and "set REVO_AUDIT_KEY" in refused.output
        return
    database = Path(db.current_engine().url.database or "")
    path = database.with_name(database.name + ".audit-key")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert entry.key_id == key_id(path.read_text().strip().encode())
    assert report.ok and report.keyed and report.notice is None


@pytest.mark.usefixtures("keyed")
def test_verify_from_the_checkpoint_agrees_with_a_full_walk_and_catches_a_later_edit(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    _write(north, 3)
    audit_anchors.anchor(tenant_slug="north")  # checkpoint at entry 4
    _write(north, 2)  # entries 5, 6
    admin = north.actor(Role.ADMIN)
    quick = audit_integrity.verify_tenant(actor=admin)
    full = audit_integrity.verify_tenant(actor=admin, full=True)
    assert (quick.ok, quick.verified_seq, quick.from_checkpoint) == (True, 6, 4)
    assert (full.ok, full.verified_seq, full.from_checkpoint) == (True, 6, None)
    since = _verify("--tenant", "north", "--since-checkpoint")
    assert since.exit_code == 0 and "from checkpoint 4" in since.output

    table = AuditEntry.__table__
    edit = table.update().where(table.c.tenant_id == north.tenant.id, table.c.seq == 5)
    _unguarded(edit.values(reason="nothing happened"))
    quick = audit_integrity.verify_tenant(actor=admin)
    full = audit_integrity.verify_tenant(actor=admin, full=True)
    assert (quick.broken_seq, quick.verified_seq) == (5, 4)
    assert (full.broken_seq, full.verified_seq) == (5, 4)
    with pytest.raises(PermissionDenied):
        audit_integrity.verify_tenant(actor=north.actor(Role.VIEWER), full=True)


@pytest.mark.usefixtures("keyed")
def test_a_purge_after_anchoring_is_not_taken_for_a_cut(two_tenants: Pair) -> None:
    south = two_tenants[1]
    _write(south, 2)
    audit_anchors.anchor(tenant_slug="south")
    audit_integrity.purge(tenant_slug="south", operator="ops")
    _write(south, 1)
    (report,) = audit_integrity.verify(tenant_slug="south")
    assert report.ok and report.verified_seq == 1, report.problem


@pytest.mark.usefixtures("keyed")
def test_the_worker_tick_anchors_every_chain_head(two_tenants: Pair) -> None:
    _write(two_tenants[0], 1)
    assert audit_anchors.tick() == "anchored the audit chains of 2 workspace(s)"
    with UnitOfWork(None, readonly=True) as uow:
        marks = [(c.tenant_id, c.seq) for c in uow.session.scalars(select(AuditCheckpoint))]
    assert sorted(marks) == [(two_tenants[0].tenant.id, 2), (two_tenants[1].tenant.id, 1)]
    lines = audit_anchors.anchor_path().read_text().splitlines()
    assert len(lines) == 2 and all('"kind":"anchor"' in line for line in lines)
