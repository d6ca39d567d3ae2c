"""What every command shares: where output goes, the CLI's own error, confirmation."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

# Progress and notes go to stderr, so stdout carries only a command's result.
err = Console(stderr=True, highlight=False, soft_wrap=True)


class CliError(Exception):
    """A failure the operator can act on; printed as one line, exit code 1."""


def note(message: str) -> None:
    """A line for the operator on stderr (not part of the command's result)."""
    print(message, file=sys.stderr, flush=True)


def confirm(question: str, *, yes: bool, refusal: str) -> None:
    """Go on if --yes was given or the operator at a terminal says yes; otherwise CliError."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError(f"{refusal}: no terminal to ask; rerun with --yes to confirm")
    if not typer.confirm(question, default=False, err=True):
        raise CliError(f"{refusal}: not confirmed; nothing changed")
