"""Service errors, caught once per page and shown as a message a person understands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from pages.components.literal import plain
from services.errors import ServiceError

__all__ = ["plain", "service_errors"]


@contextmanager
def service_errors() -> Iterator[None]:
    """Show a ServiceError as an error box and stop the page there; anything else propagates."""
    try:
        yield
    except ServiceError as exc:
        st.error(f"**{exc.title}.** {plain(exc.message)}")
        st.stop()
