"""The audit hash chain: each entry's digest covers its content and the previous entry's hash.

A keyed entry (``key_id`` set) carries an HMAC-SHA256 under the audit key, so nobody without the
key can append or rewrite entries that verify; entries written before a key existed carry a
plain SHA-256. Pure functions (no I/O) shared by the writer, `revo audit verify`, the anchors and
the migration that backfilled the chain, so all agree on the canonical form byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
# The columns an entry's hash covers, in the order entry_hash takes them.
HASHED_FIELDS = (
    "id",
    "tenant_id",
    "seq",
    "prev_hash",
    "actor_id",
    "actor_label",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "reason",
    "created_at",
)


def _normal(value: Any) -> Any:
    # JSONB hands an integral float back as an int (1e20 -> 100000000000000000000): hash both alike.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    return value


def canonical(fields: dict[str, Any]) -> bytes:
    """The entry's content as canonical JSON (sorted keys, no spaces, UTC ISO times)."""
    out = {}
    for key, value in fields.items():
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        out[key] = _normal(value)
    text = json.dumps(out, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def key_id(key: bytes) -> str:
    """The short public name of a key: the first 8 hex digits of its SHA-256."""
    return hashlib.sha256(key).hexdigest()[:8]


def mac(key: bytes, fields: dict[str, Any]) -> str:
    """The hex HMAC-SHA256 of the fields' canonical form under ``key``."""
    return hmac.new(key, canonical(fields), hashlib.sha256).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two hex digests (None never matches)."""
    return a is not None and b is not None and hmac.compare_digest(a, b)


def entry_mac(*, key: bytes, fields: dict[str, Any]) -> str:
    """The keyed digest of one entry: HMAC over its HASHED_FIELDS and the key's id."""
    content = {name: fields[name] for name in HASHED_FIELDS}
    content["key_id"] = key_id(key)
    return mac(key, content)


def entry_hash(
    *,
    id: int,
    tenant_id: int,
    seq: int,
    prev_hash: str,
    actor_id: int | None,
    actor_label: str,
    action: str,
    entity_type: str,
    entity_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
    created_at: datetime,
) -> str:
    """The hex SHA-256 of one entry's canonical content, chained to ``prev_hash``."""
    content = canonical(
        {
            "id": id,
            "tenant_id": tenant_id,
            "seq": seq,
            "prev_hash": prev_hash,
            "actor_id": actor_id,
            "actor_label": actor_label,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "before": before,
            "after": after,
            "reason": reason,
            "created_at": created_at,
        }
    )
    return hashlib.sha256(content).hexdigest()
