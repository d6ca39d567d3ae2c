"""`revo ingest`: events from a file or a git repository under REVO_INGEST_ROOTS."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from cli import progress
from services import maintenance
from services.ingest import service as ingest_service


class Source(StrEnum):
    """The sources a file or repository can be ingested as (manual events are typed in)."""

    GIT = "git"
    CI = "ci"
    LOGS = "logs"
    METRICS = "metrics"
    TRACES = "traces"


def ingest(
    source: Annotated[Source, typer.Argument(help="What the file or repository holds.")],
    path: Annotated[str, typer.Argument(help="File or repository path under REVO_INGEST_ROOTS.")],
    tenant: Annotated[str, typer.Option(help="Tenant slug the events belong to.")],
    service: Annotated[
        str | None, typer.Option(help="Service the events belong to (git, JUnit).")
    ] = None,
) -> None:
    """Ingest events for a tenant; bad records are quarantined with their reason."""
    maintenance.connect(url=maintenance.database_url())
    with progress.working(f"ingesting {source.value} from {path}"):
        report = ingest_service.ingest_for_tenant(
            tenant_slug=tenant,
            source=ingest_service.EventSource(source.value),
            path=path,
            service=service,
        )
    print(
        f"{report.source.value} {report.origin}: {report.records:,} records read, "
        f"{report.inserted:,} new events, {report.duplicates:,} already stored, "
        f"{report.quarantined:,} quarantined, {report.skipped:,} made no event "
        f"({report.seconds:.2f} s)"
    )
