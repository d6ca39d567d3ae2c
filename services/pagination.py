"""Page DTOs and opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from services.errors import InvalidInput

T = TypeVar("T")

COUNT_CAP = 10_000


class Page(BaseModel, Generic[T]):
    """One page of a keyset-paginated list.

    ``total`` is exact up to ``COUNT_CAP``; past that ``total_capped`` is true and the screen
    says "10,000+" instead of counting a million rows on every page.
    """

    items: list[T]
    next_cursor: str | None = None
    total: int | None = None
    total_capped: bool = False


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor for the sort key of the last row on a page."""
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, arity: int) -> list[Any]:
    """The sort key a cursor stands for, or InvalidInput for a damaged cursor."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("The page link is damaged; go back to the first page.") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise InvalidInput("The page link is damaged; go back to the first page.")
    return values
