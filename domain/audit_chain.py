"""The audit hash chain: each entry's SHA-256 covers its content and the previous entry's hash.

Pure functions (no I/O) shared by the writer, `revo audit verify` and the migration that
backfills the chain, so all three agree on the canonical form byte for byte.
"""

from __future__ import annotations

import hashlib
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
