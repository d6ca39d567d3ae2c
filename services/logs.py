"""Structured logs: JSON lines in production, readable lines in development, each record with
the tenant, actor, run and request it happened under (``REVO_LOG_FORMAT``, ``REVO_LOG_LEVEL``).

Context is kept in a context variable: ``bound(...)`` for a block (a unit of work, one agent
run), ``bind(...)`` for the rest of the current context (one Streamlit script run).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from typing import IO, Any

from services.config import get_settings

LOGGER = "services"  # every module here logs under services.*; Streamlit's loggers are its own
_CONTEXT: ContextVar[dict[str, Any]] = ContextVar("revo_log_context", default={})  # noqa: B039
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _merged(values: dict[str, Any]) -> dict[str, Any]:
    return {**_CONTEXT.get(), **{k: v for k, v in values.items() if v is not None}}


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Add these fields to every record logged inside the block."""
    token = _CONTEXT.set(_merged(values))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def start(**values: Any) -> None:
    """Begin a fresh context with only these fields (each Streamlit script run starts one)."""
    _CONTEXT.set({k: v for k, v in values.items() if v is not None})


def bind(**values: Any) -> None:
    """Add these fields to every record logged from now on in this context."""
    _CONTEXT.set(_merged(values))


def context() -> dict[str, Any]:
    """The fields records get right now."""
    return dict(_CONTEXT.get())


class _WithContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.revo = _CONTEXT.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context, exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "revo", {}),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    """A readable line with the context appended as ``[key=value …]``."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ctx: dict[str, Any] = getattr(record, "revo", {})
        if ctx:
            line += " [" + " ".join(f"{k}={v}" for k, v in ctx.items()) + "]"
        return line


@lru_cache(maxsize=1)
def configure_once() -> logging.Logger:
    """``configure()`` the first time a process asks (the console's script reruns ask often)."""
    return configure()


def configure(stream: IO[str] | None = None) -> logging.Logger:
    """Send the services' logs to stderr (or ``stream``) in the configured format; calling it
    again replaces the handler rather than adding a second one."""
    settings = get_settings()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_WithContext())
    json_lines = settings.log_format == "json"
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter(TEXT_FORMAT))
    logger = logging.getLogger(LOGGER)
    logger.handlers = [handler]
    logger.setLevel(settings.log_level)
    logger.propagate = False
    return logger
