"""Service errors, caught once per page and shown as a message a person understands."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from services.errors import ServiceError

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def plain(text: str) -> str:
    """Text escaped so Streamlit's markdown shows it literally (no links, HTML or formatting)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


@contextmanager
def service_errors() -> Iterator[None]:
    """Show a ServiceError as an error box and stop the page there; anything else propagates."""
    try:
        yield
    except ServiceError as exc:
        st.error(f"**{exc.title}.** {plain(exc.message)}")
        st.stop()
