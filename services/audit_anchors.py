"""Anchors against a cut tail: signed notes of each tenant's chain head, kept twice.

`revo audit anchor` (and every worker, each REVO_AUDIT_ANCHOR_INTERVAL_S) writes an
``audit_checkpoints`` row and a line of the append-only REVO_AUDIT_ANCHOR_FILE, both HMAC-signed
with the audit key. Someone who can drop the triggers can cut the chain's tail, and the
checkpoints with it, but not the file on another host: a chain ending before its newest anchor
was cut. A purge writes a signed ``purge`` line, after which the tenant's older anchors no longer
count.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, delete, insert, select

from domain.audit_chain import mac, same
from domain.models import AuditCheckpoint, AuditEntry, Tenant
from services import audit_key, audit_seal
from services.config import get_settings
from services.errors import InvalidSettings, NotFound
from services.uow import UnitOfWork

log = logging.getLogger(__name__)
_BLOCK = 65_536


class AnchorRead(BaseModel):
    """One tenant's anchored chain head."""

    tenant_slug: str
    seq: int
    entry_hash: str
    key_id: str
    written: bool  # False: this head was anchored already


@dataclass(frozen=True)
class Mark:
    """What a checkpoint or anchor line says: entry ``seq`` had ``entry_hash``."""

    source: str  # "checkpoint" or "anchor"
    seq: int
    entry_hash: str
    at: str
    valid: bool  # signed by a configured key (False: a known key's id with a wrong HMAC)


def _content(tenant_id: int, seq: int, entry_hash: str, key_id: str) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "seq": seq, "entry_hash": entry_hash, "key_id": key_id}


def anchor_path() -> Path:
    """The anchor file (REVO_AUDIT_ANCHOR_FILE)."""
    return Path(get_settings().audit_anchor_file).expanduser()


def _append(lines: list[dict[str, Any]]) -> None:
    path = anchor_path()
    text = "".join(json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n" for line in lines)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise InvalidSettings(
            f"Cannot append to the audit anchor file {path} (REVO_AUDIT_ANCHOR_FILE): {exc}."
        ) from exc


def _signed_line(key: bytes, kid: str, body: dict[str, Any], slug: str) -> dict[str, Any]:
    line = {**body, "key_id": kid, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    line["mac"] = mac(key, line)
    line["tenant"] = slug  # for the reader; not signed (a slug can change)
    return line


def anchor(*, tenant_slug: str | None = None) -> list[AnchorRead]:
    """Checkpoint every tenant's (or one tenant's) chain head, in the database and the file."""
    done: list[AnchorRead] = []
    lines: list[dict[str, Any]] = []
    with UnitOfWork(None) as uow:
        conn = uow.session.connection()
        keys = audit_key.current(conn)
        if keys.signing is None or keys.signing_id is None:
            raise InvalidSettings(f"Cannot anchor the audit: {audit_key.NOT_KEYED}.")
        query = select(Tenant.id, Tenant.slug).order_by(Tenant.id)
        if tenant_slug is not None:
            query = query.where(Tenant.slug == tenant_slug)
        tenants = [(int(t.id), str(t.slug)) for t in uow.session.execute(query)]
        if tenant_slug is not None and not tenants:
            raise NotFound(f"No workspace is called {tenant_slug!r}.")
        for tenant_id, slug in tenants:
            audit_seal.lock_chain(uow.session, tenant_id)
            head = conn.execute(
                select(AuditEntry.seq, AuditEntry.entry_hash)
                .where(AuditEntry.tenant_id == tenant_id)
                .order_by(AuditEntry.seq.desc())
                .limit(1)
            ).first()
            if head is None or head.entry_hash is None:
                continue
            content = _content(tenant_id, int(head.seq), head.entry_hash, keys.signing_id)
            latest = conn.scalar(
                select(AuditCheckpoint.seq)
                .where(AuditCheckpoint.tenant_id == tenant_id)
                .order_by(AuditCheckpoint.seq.desc())
                .limit(1)
            )
            written = latest is None or int(latest) < head.seq
            if written:
                signed = mac(keys.signing, content)
                conn.execute(insert(AuditCheckpoint).values(**content, mac=signed))
                body = {"kind": "anchor", **content}
                lines.append(_signed_line(keys.signing, keys.signing_id, body, slug))
            done.append(
                AnchorRead(
                    tenant_slug=slug,
                    seq=int(head.seq),
                    entry_hash=head.entry_hash,
                    key_id=keys.signing_id,
                    written=written,
                )
            )
        if lines:
            _append(lines)  # before the commit: a checkpoint the file lacks would go unnoticed
        uow.commit()
    return done


def record_purge(conn: Connection, tenant_id: int, tenant_slug: str) -> None:
    """Note in the file that the tenant's audit was purged (its older anchors stop counting)."""
    keys = audit_key.current(conn)
    conn.execute(delete(AuditCheckpoint).where(AuditCheckpoint.tenant_id == tenant_id))
    if keys.signing is not None and keys.signing_id is not None:
        body = {"kind": "purge", "tenant_id": tenant_id}
        _append([_signed_line(keys.signing, keys.signing_id, body, tenant_slug)])


def _line_mark(raw: bytes, tenant_id: int, keys: audit_key.AuditKeys) -> Mark | str | None:
    """A line's mark for this tenant, "purge" for its purge line, None for anything else."""
    try:
        line = json.loads(raw)
    except ValueError:
        return None  # a torn last line: nothing to go on
    if not isinstance(line, dict) or line.get("tenant_id") != tenant_id:
        return None
    key = keys.by_id.get(str(line.get("key_id")))
    if key is None:
        return None  # signed by a key that is no longer configured: cannot be checked
    body = {k: v for k, v in line.items() if k not in {"mac", "tenant"}}
    valid = same(str(line.get("mac")), mac(key, body))
    if line.get("kind") == "purge":
        return "purge" if valid else None
    try:
        return Mark("anchor", int(line["seq"]), str(line["entry_hash"]), str(line["at"]), valid)
    except (KeyError, TypeError, ValueError):
        return Mark("anchor", 0, "", str(line.get("at")), False)


def _backwards(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        pos, tail = fh.tell(), b""
        while pos > 0:
            step = min(_BLOCK, pos)
            pos -= step
            fh.seek(pos)
            parts = (fh.read(step) + tail).split(b"\n")
            tail = parts[0]
            yield from (p for p in reversed(parts[1:]) if p.strip())
        if tail.strip():
            yield tail


def file_marks(tenant_id: int, keys: audit_key.AuditKeys, *, newest_only: bool) -> list[Mark]:
    """The tenant's anchor lines since its last purge (``newest_only``: read from the end)."""
    path = anchor_path()
    if not keys.keyed or not path.exists():
        return []
    marks: list[Mark] = []
    try:
        if newest_only:
            for raw in _backwards(path):
                found = _line_mark(raw, tenant_id, keys)
                if found == "purge":
                    break
                if isinstance(found, Mark):
                    marks.append(found)
                    if found.valid:
                        break
            return marks
        with path.open("rb") as fh:
            for raw in fh:
                found = _line_mark(raw, tenant_id, keys)
                if found == "purge":
                    marks = []
                elif isinstance(found, Mark):
                    marks.append(found)
    except OSError as exc:
        raise InvalidSettings(f"Cannot read the audit anchor file {path}: {exc}.") from exc
    return marks


def checkpoint_marks(
    conn: Connection, tenant_id: int, keys: audit_key.AuditKeys, *, limit: int | None
) -> list[Mark]:
    """The tenant's checkpoints, newest first, whose key is configured (``limit``: so many)."""
    query = (
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tenant_id == tenant_id)
        .order_by(AuditCheckpoint.seq.desc(), AuditCheckpoint.id.desc())
        .limit(limit)
    )
    marks = []
    for row in conn.execute(query).mappings():
        key = keys.by_id.get(row["key_id"])
        if key is None:
            continue
        content = _content(tenant_id, int(row["seq"]), row["entry_hash"], row["key_id"])
        valid = same(row["mac"], mac(key, content))
        at = row["created_at"].isoformat(timespec="seconds") if row["created_at"] else "-"
        marks.append(Mark("checkpoint", int(row["seq"]), row["entry_hash"], at, valid))
    return marks


def tick() -> str | None:
    """Anchor every tenant's chain head (the worker's periodic job); a summary when written."""
    written = sum(1 for a in anchor() if a.written)
    return f"anchored the audit chains of {written} workspace(s)" if written else None
