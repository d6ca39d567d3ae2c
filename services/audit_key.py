"""The audit chain's HMAC keys (internal): REVO_AUDIT_KEY, or out of the box a file beside SQLite's.

REVO_AUDIT_KEY is a comma-separated list: the first key signs new entries and anchors, every key
verifies (so a key can rotate: put the new one first and keep the old ones behind it). Without
it, a SQLite database gets a random key, made once into ``<db path>.audit-key`` (mode 0600); on
PostgreSQL the chain stays unkeyed (several replicas must share one key, so only the operator
can provide it) and verify says so.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection

from domain.audit_chain import key_id
from services.config import get_settings
from services.errors import InvalidSettings

NOT_KEYED = "chain not keyed: set REVO_AUDIT_KEY"
_MIN_LENGTH = 32


@dataclass(frozen=True)
class AuditKeys:
    """The keys in force: ``signing`` signs, ``by_id`` (key id -> key) verifies."""

    signing: bytes | None
    by_id: Mapping[str, bytes] = field(default_factory=dict)
    source: str = "none"

    @property
    def signing_id(self) -> str | None:
        return key_id(self.signing) if self.signing is not None else None

    @property
    def keyed(self) -> bool:
        return self.signing is not None


def _from_list(keys: list[bytes], source: str) -> AuditKeys:
    return AuditKeys(signing=keys[0], by_id={key_id(k): k for k in keys}, source=source)


def _read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidSettings(f"Cannot read the audit key file {path}: {exc}.") from exc
    if len(text) < _MIN_LENGTH:
        raise InvalidSettings(
            f"The audit key file {path} holds no key of at least {_MIN_LENGTH} characters; "
            "restore it from a backup or set REVO_AUDIT_KEY."
        )
    return text.encode("ascii")


def _file_key(path: Path) -> bytes:
    """Read the key file, making it first (atomically, 0600) if there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".audit-key-")
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
            os.fsync(fd)
            os.close(fd)
            with contextlib.suppress(FileExistsError):  # another process made it: use theirs
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    return _read_key_file(path)


@lru_cache(maxsize=32)
def _keys(dialect: str, database: str | None, setting: str | None) -> AuditKeys:
    if setting:
        keys = [k.strip().encode("utf-8") for k in setting.split(",") if k.strip()]
        return _from_list(keys, "REVO_AUDIT_KEY")
    if dialect != "sqlite":
        return AuditKeys(signing=None)
    if not database or database == ":memory:" or database.startswith("file:"):
        return _from_list([secrets.token_hex(32).encode("ascii")], "in-memory database")
    path = Path(database + ".audit-key")
    return _from_list([_file_key(path)], str(path))


def current(conn: Connection) -> AuditKeys:
    """The keys for the connection's database (cached per database and setting)."""
    setting = get_settings().audit_key
    url = conn.engine.url
    return _keys(
        url.get_backend_name(), url.database, setting.get_secret_value() if setting else None
    )
