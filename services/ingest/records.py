"""Shared reading of JSON records: a JSON array file or one JSON object per line."""

from __future__ import annotations

import json
from collections.abc import Iterator

from services.ingest.schema import ParseResult, clip, lines


def json_records(
    data: bytes, *, max_line: int, result: ParseResult
) -> Iterator[tuple[str, bytes, object]]:
    """(position, raw bytes, parsed value) per record; unreadable records go to the result."""
    if data.lstrip()[:1] == b"[":
        try:
            items = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            result.records += 1
            result.reject(f"byte {exc.start + 1}", "file is not valid UTF-8 text", "")
            return
        except json.JSONDecodeError as exc:
            result.records += 1
            where = f"line {exc.lineno}, column {exc.colno}"
            result.reject(where, f"not JSON: {exc.msg}", clip(data.decode("utf-8", "replace")))
            return
        for index, item in enumerate(items, 1):
            result.records += 1
            raw = json.dumps(item, sort_keys=True).encode()
            yield f"item {index}", raw, item
        return
    for number, raw, text in lines(data, max_line=max_line, result=result):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            result.reject(f"line {number}, column {exc.colno}", f"not JSON: {exc.msg}", text)
            continue
        yield f"line {number}", raw, value
