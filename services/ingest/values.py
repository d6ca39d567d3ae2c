"""Values both engines store alike: JSON read with limits, and text made safe to keep.

PostgreSQL refuses NUL characters in text and JSON, lone surrogates in any text, and NaN or
Infinity in JSON; SQLite takes them all. So a record holding one of them is refused on both
engines, with the path of every such value, and the raw text kept for the quarantine is
escaped so that even it can always be stored.
"""

from __future__ import annotations

import json
import math
import threading
from typing import Any

MAX_DEPTH = 64
MAX_LISTED = 10
_flags = threading.local()


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # a literal too large for a float reads as infinity
        _flags.nonfinite = True
    return value


def _constant(text: str) -> float:
    _flags.nonfinite = True  # NaN, Infinity, -Infinity
    return float(text)


# Strict: raw control characters inside strings are refused, so NUL and lone surrogates can
# only arrive as \u escapes; the hooks flag non-finite numbers. Only then is a record walked.
_DECODER = json.JSONDecoder(parse_float=_float, parse_constant=_constant)


class JsonProblem(ValueError):
    """A text that cannot be read as JSON at all (the message says why)."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.column = column


def load_json(text: str) -> tuple[Any, list[str]]:
    """The parsed value and every reason it cannot be stored (none when it can)."""
    _flags.nonfinite = False
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise JsonProblem(f"not JSON: {exc.msg}", exc.colno) from None
    except RecursionError:
        raise JsonProblem(
            f"not JSON this console keeps: nested more than {MAX_DEPTH} levels deep"
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise JsonProblem(f"not JSON this console keeps: {exc}") from None
    if _flags.nonfinite or "\\u" in text or text.count("[") + text.count("{") > MAX_DEPTH:
        return value, problems(value)
    return value, []


def problems(value: Any) -> list[str]:
    """Why a parsed JSON value cannot be stored on both engines alike, one entry per value."""
    found: list[str] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            _text_problem(item, path, found)
        elif isinstance(item, float):
            if not math.isfinite(item):
                found.append(f"{_where(path)}: {item} is not a finite number")
        elif isinstance(item, dict | list):
            if len(path) >= MAX_DEPTH:
                found.append(f"{_where(path)}: nested more than {MAX_DEPTH} levels deep")
                continue
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            children = []
            for key, child in pairs:
                if isinstance(key, str):
                    _text_problem(key, (*path, key), found, what="key")
                children.append((child, (*path, key)))
            stack.extend(reversed(children))
    if len(found) > MAX_LISTED:
        found = [*found[:MAX_LISTED], f"and {len(found) - MAX_LISTED} more such values"]
    return found


def _text_problem(
    text: str, path: tuple[str | int, ...], found: list[str], what: str = "value"
) -> None:
    if "\x00" in text:
        found.append(f"{_where(path)}: the {what} contains a NUL character (\\u0000)")
    if not text.isascii() and not _encodable(text):
        found.append(f"{_where(path)}: the {what} contains a lone surrogate (e.g. \\ud800)")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _where(path: tuple[str | int, ...]) -> str:
    if not path:
        return "record"
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return safe_text(out[:200])


def safe_text(text: str) -> str:
    """The text with NUL escaped as \\x00 and lone surrogates as \\udxxx (storable anywhere)."""
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00") if "\x00" in text else text
