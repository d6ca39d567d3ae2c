"""Cells a spreadsheet shows as text, never runs as formulas (CSV exports and on-screen tables,
whose download button writes the cells as they are)."""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell value a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell that starts like a formula prefixed with an apostrophe;
    numbers, times and other cells are left as they are."""
    out = frame.copy(deep=False)
    for name in out.columns:
        column = out[name]
        if column.dtype != object and not pd.api.types.is_string_dtype(column):
            continue
        risky = column.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS))
        if risky.any():
            cells = [f"'{v}" if r else v for v, r in zip(column, risky, strict=True)]
            out[name] = pd.Series(cells, index=column.index, dtype=object)
    return out
