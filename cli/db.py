"""`revo db`: schema migrations. `current` only reads; `downgrade` asks before it drops."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.output import confirm
from services import maintenance

db_app = typer.Typer(help="Schema migrations (Alembic).", no_args_is_help=True)

Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask; confirm the downgrade.")]


@db_app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create the database if needed and migrate it up (default: to the newest revision)."""
    status = maintenance.upgrade_database(url=maintenance.database_url(), revision=revision)
    print(f"database at {status.revision or 'base (empty)'}")


@db_app.command()
def downgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision, -N steps, or base (drops every table).")
    ] = "-1",
    yes: Yes = False,
) -> None:
    """Migrate an existing database down; asks first, since it drops tables and their rows."""
    url = maintenance.database_url()
    plan = maintenance.plan_downgrade(url=url, revision=revision)
    if not plan.undo:
        print(f"database at {plan.current or 'base (empty)'}; nothing to undo")
        return
    held = f", which holds {plan.tenants} tenant(s)," if plan.tenants else ""
    confirm(
        f"Downgrade {plan.location}{held} from {plan.current} to {plan.target or 'base'}? "
        f"Undoing {len(plan.undo)} migration(s) ({', '.join(plan.undo)}) drops their tables "
        "and columns with the data in them.",
        yes=yes,
        refusal="refusing to downgrade without confirmation",
    )
    status = maintenance.downgrade_database(url=url, plan=plan)
    print(f"database at {status.revision or 'base (empty)'}")


@db_app.command()
def current() -> None:
    """Print the revision of an existing database (never creates one)."""
    status = maintenance.database_status(url=maintenance.database_url())
    print(status.revision or "base (empty)")
