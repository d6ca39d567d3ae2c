"""`revo seed`: demo data for a first look, synthetic bulk rows for benchmarks."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from cli import progress
from services import maintenance
from services.seed import bulk, demo

seed_app = typer.Typer(help="Load demo or benchmark data.", no_args_is_help=True)

Count = Annotated[int, typer.Option(min=0, help="How many rows to insert.")]


@seed_app.command("demo")
def seed_demo() -> None:
    """Two demo tenants with realistic data (once: refused if already present)."""
    maintenance.connect(url=maintenance.database_url())
    with progress.working("seeding demo data"):
        report = demo.seed_demo()
    print(f"demo data seeded: {report.model_dump()}")


@seed_app.command("bulk")
def seed_bulk(
    review_items: Count = 0,
    runs: Count = 0,
    llm_calls: Count = 0,
    events: Count = 0,
    tenant: Annotated[
        str,
        typer.Option(help="Tenant slug: created if missing; a tenant with real data is refused."),
    ] = "bench",
) -> None:
    """Many synthetic rows, fast, for benchmarks, into a tenant of their own."""
    maintenance.connect(url=maintenance.database_url())
    started = time.perf_counter()
    with progress.rows() as bars:
        result = bulk.seed_bulk(
            review_items=review_items,
            runs=runs,
            llm_calls=llm_calls,
            events=events,
            tenant_slug=tenant,
            progress=progress.TableBars(bars),
        )
    seconds = time.perf_counter() - started
    print(f"inserted {result.total_rows:,} rows into tenant {tenant!r} in {seconds:.1f} s")
