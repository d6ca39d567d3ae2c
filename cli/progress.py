"""Rich progress displays on stderr: bars for known totals, a spinner for unknown ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from cli.output import err


def rows() -> Progress:
    """Bars counting rows per table."""
    return Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
    )


def downloads() -> Progress:
    """Bars counting bytes per layer, with speed."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
    )


@contextmanager
def working(description: str) -> Iterator[None]:
    """A spinner with elapsed time while one call of unknown length runs (gone when done)."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # in a log a spinner only leaves a blank line
    ) as progress:
        progress.add_task(description, total=None)
        yield


class TableBars:
    """The callback `seed_bulk` reports to: one bar per table, created on first report."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, table: str, done: int, total: int) -> None:
        if table not in self.tasks:
            self.tasks[table] = self.progress.add_task(table, total=total)
        self.progress.update(self.tasks[table], completed=done)
