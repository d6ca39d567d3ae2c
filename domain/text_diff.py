"""Edit distance and a readable diff between a draft and the reviewer's edited version."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions) between two texts."""
    # Common prefix and suffix cost nothing; trimming them keeps typical edits cheap.
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def payload_text(payload: Mapping[str, Any]) -> str:
    """A payload as stable text: one ``key: value`` block per field, keys sorted."""
    lines = []
    for key in sorted(payload):
        value = payload[key]
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        lines.append(f"{key}: {text}")
    return "\n".join(lines)


def unified_diff(before: str, after: str) -> str:
    """A unified diff of two texts (empty when they are equal)."""
    return "\n".join(
        difflib.unified_diff(
            before.splitlines(),
            after.splitlines(),
            fromfile="draft",
            tofile="edited",
            lineterm="",
        )
    )


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The payload keys whose values differ."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
