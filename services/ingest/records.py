"""Reading records off a stream in bounded pieces: lines, JSON lines and JSON arrays.

Nothing here holds more than one record (at most the line limit) and one read chunk, however
large the file: a line longer than the limit is skipped to its end without being kept, and a
JSON array is cut into its items by a small scanner that tracks strings and nesting.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from services.ingest.schema import RAW_KEEP, Sink
from services.ingest.values import JsonProblem, load_json

CHUNK = 1 << 20
_OUTSIDE = re.compile(rb'["\[\]{},]')
_INSIDE = re.compile(rb'["\\]')


def first_byte(stream: IO[bytes]) -> bytes:
    """The first byte that is not white space (b"" for an empty file); the stream is rewound."""
    start = stream.tell()
    try:
        while chunk := stream.read(65_536):
            stripped = chunk.lstrip()
            if stripped:
                return stripped[:1]
        return b""
    finally:
        stream.seek(start)


def lines(stream: IO[bytes], *, max_line: int, out: Sink) -> Iterator[tuple[int, int, bytes, str]]:
    """Numbered non-blank lines as (number, offset, raw bytes, text); bad lines go to the sink."""
    offset = 0
    number = 0
    while True:
        raw = stream.readline(max_line + 2)
        if not raw:
            return
        number += 1
        at = offset
        offset += len(raw)
        if not raw.endswith(b"\n") and len(raw) == max_line + 2:
            # Longer than the limit: keep its start for the quarantine, skip the rest unread.
            size = len(raw)
            while True:
                more = stream.readline(CHUNK)
                offset += len(more)
                size += len(more.rstrip(b"\n"))
                if not more or more.endswith(b"\n"):
                    break
            out.records += 1
            out.reject(
                f"line {number}",
                f"line is {size:,} bytes long; the limit is {max_line:,}",
                raw[:RAW_KEEP].decode("utf-8", "backslashreplace"),
            )
            continue
        raw = raw.rstrip(b"\n").rstrip(b"\r")
        if not raw.strip():
            continue
        out.records += 1
        if len(raw) > max_line:
            out.reject(
                f"line {number}",
                f"line is {len(raw):,} bytes long; the limit is {max_line:,}",
                raw[:RAW_KEEP].decode("utf-8", "backslashreplace"),
            )
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.reject(
                f"line {number}, byte {exc.start + 1}",
                "line is not valid UTF-8 text",
                raw.decode("utf-8", "backslashreplace"),
            )
            continue
        yield number, at, raw, text


def json_records(
    stream: IO[bytes], *, max_line: int, out: Sink
) -> Iterator[tuple[str, str, Any, list[str]]]:
    """(position, text, value, problems) per record of a JSON array or a JSON-lines file."""
    if first_byte(stream) == b"[":
        pieces = array_items(stream, max_item=max_line, out=out)
        numbered = ((f"item {i}", raw) for i, raw in pieces)
    else:
        numbered = (
            (f"line {n}", raw) for n, _at, raw, _text in lines(stream, max_line=max_line, out=out)
        )
    for position, raw in numbered:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.reject(
                f"{position}, byte {exc.start + 1}",
                "record is not valid UTF-8 text",
                raw.decode("utf-8", "backslashreplace"),
            )
            continue
        try:
            value, problems = load_json(text)
        except JsonProblem as exc:
            where = f"{position}, column {exc.column}" if exc.column else position
            out.reject(where, str(exc), text)
            continue
        yield position, text, value, problems


def array_items(stream: IO[bytes], *, max_item: int, out: Sink) -> Iterator[tuple[int, bytes]]:
    """The raw bytes of each item of a JSON array, one at a time (oversized items go to the sink).

    Only where items begin and end is tracked (strings, escapes, nesting depth); whether an item
    is JSON is for its reader to say, so one broken item costs only itself.
    """
    head = stream.read(CHUNK)
    start = head.index(b"[") + 1
    chunk = head[start:]
    item = bytearray()
    size = 0
    index = 0
    depth = 0
    in_string = escaped = False
    while chunk:
        i, n, begin = 0, len(chunk), 0
        while i < n:
            if escaped:
                escaped, i = False, i + 1
                continue
            if in_string:
                m = _INSIDE.search(chunk, i)
                if m is None:
                    break
                i = m.end()
                if chunk[m.start()] == 0x5C:
                    escaped = True
                else:
                    in_string = False
                continue
            m = _OUTSIDE.search(chunk, i)
            if m is None:
                break
            c, i = chunk[m.start()], m.end()
            if c == 0x22:
                in_string = True
            elif c in b"[{":
                depth += 1
            elif c in b"]}" and depth:
                depth -= 1
            elif depth == 0:  # a comma between items, or the array's closing bracket
                size += m.start() - begin
                if len(item) <= max_item:
                    item += chunk[begin : m.start()]
                index += 1
                if c != 0x2C and index == 1 and not item.strip():
                    index = 0  # an empty array
                else:
                    ready = _finished(bytes(item), size, index, max_item, out)
                    if ready is not None:
                        yield index, ready
                item.clear()
                size, begin = 0, i
                if c != 0x2C:
                    _after_array(chunk[i:], stream, out)
                    return
        size += n - begin
        if len(item) <= max_item:
            item += chunk[begin:]
        chunk = stream.read(CHUNK)
    if item.strip():  # the file ends inside the array: the last item is what is left
        index += 1
        ready = _finished(bytes(item), size, index, max_item, out)
        if ready is not None:
            yield index, ready  # its reader will say what is wrong with it
    out.records += 1  # the missing "]" is said once, whatever the last item was
    out.reject("end of file", "the file ends before the JSON array is closed with ]", "")


def _finished(raw: bytes, size: int, index: int, max_item: int, out: Sink) -> bytes | None:
    out.records += 1
    raw = raw.strip()
    if size > max_item:
        out.reject(
            f"item {index}",
            f"item is {size:,} bytes long; the limit is {max_item:,}",
            raw[:RAW_KEEP].decode("utf-8", "backslashreplace"),
        )
        return None
    if not raw:
        out.reject(f"item {index}", "not JSON: empty array item (a stray comma)", "")
        return None
    return raw


def _after_array(rest: bytes, stream: IO[bytes], out: Sink) -> None:
    while not rest.strip():
        rest = stream.read(CHUNK)
        if not rest:
            return
    out.records += 1
    out.reject(
        "after the array",
        "there is more than white space after the closing ]",
        rest.strip()[:RAW_KEEP].decode("utf-8", "backslashreplace"),
    )
