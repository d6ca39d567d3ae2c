"""The one place where a failure becomes one line on stderr and an exit code.

Bad arguments exit 2 (as click does); everything else the operator can act on exits 1; an
interrupt exits 130. Nothing prints a traceback: an exception nobody expected is still one
line, naming its type, so that it can be reported.
"""

from __future__ import annotations

import sys

import typer

from cli.output import CliError
from services import maintenance
from services.errors import ServiceError

USAGE = 2
FAILED = 1
INTERRUPTED = 130


def report(exc: BaseException) -> int:
    """Print what went wrong as one `revo: ...` line and return the exit code."""
    code, message = _meaning(exc)
    if message:
        print(f"revo: {_one_line(message)}", file=sys.stderr, flush=True)
    return code or FAILED


def _meaning(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, typer.TyperException):  # click's errors (bad arguments: exit code 2)
        message = exc.format_message().strip()
        if not message:  # `revo db` without a sub-command: the help was printed instead
            return exc.exit_code, ""
        ctx = getattr(exc, "ctx", None)
        if exc.exit_code == USAGE:
            message += f" (see '{ctx.command_path if ctx else 'revo'} --help')"
        return exc.exit_code, message
    if isinstance(exc, typer.Abort | KeyboardInterrupt):
        return INTERRUPTED, "interrupted; the current transaction was rolled back"
    if isinstance(exc, CliError):
        return FAILED, str(exc)
    known = maintenance.explain(exc)
    if isinstance(known, ServiceError):
        return FAILED, known.message
    return FAILED, f"unexpected {type(exc).__name__}: {exc} (this is a bug; please report it)"


def _one_line(message: str) -> str:
    return " ".join(message.split()) or "failed"
