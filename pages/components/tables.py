"""Every table on screen goes through here: its download button writes cells as they are, so
text that a spreadsheet would run as a formula is neutralised first."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from services.spreadsheet import neutralise_frame


def safe_dataframe(frame: pd.DataFrame, **kwargs: Any) -> Any:
    """``st.dataframe`` of the frame with formula-like text cells neutralised."""
    return st.dataframe(neutralise_frame(frame), **kwargs)
