"""Parameter types shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# Row ids are 64-bit: a larger number cannot name a row, and the database driver would choke
# on it, so it is refused as invalid input (422) before any query.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
